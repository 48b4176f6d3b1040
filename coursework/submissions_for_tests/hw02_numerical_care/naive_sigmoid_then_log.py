# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% deletable=false editable=false
# Initialize Otter
import otter
grader = otter.Notebook("hw02_numerical_care.ipynb")

# %% [markdown]
# # Coursework 2: Numerical care
#
# A formula that is right on paper can still go wrong in floating point. In this assignment you
# write the binary cross-entropy so that it never returns `nan`, never overflows, stays accurate
# for logits $z$ as large as $\pm 700$, and refuses bad input with a message that says what is
# wrong (the book's chapter on common mistakes and numerical care covers all of it).
#
# Notation: a label `y` is 0 or 1, `y_hat` $=\hat y$ is a predicted probability, `z` is the
# logit with $\hat y = \sigma(z) = 1/(1 + e^{-z})$, and `log` is the natural logarithm. Replace
# every `...` with your code and run the `grader.check(...)` cell under it. Hidden tests check
# more than the checks you see.
#
# **Points:** 12 in total (q1: 4, q2: 4, q3: 2, q4: 2).

# %%
import numpy as np


# %% [markdown] deletable=false editable=false
# ## Question 1: refuse bad input (4 points)
#
# Write `validate(y, y_hat)`. It returns `None` when `y` holds only 0s and 1s, `y_hat` holds only
# probabilities in $[0, 1]$, and both have the same shape. Otherwise it raises a `ValueError`
# whose message names the problem, using these words (the tests look for them):
#
# | problem | the message must contain |
# |---|---|
# | `y` and `y_hat` have different shapes | `shape` |
# | a NaN anywhere in `y` or `y_hat` | `NaN` |
# | a label that is not 0 or 1 | `label` |
# | a probability below 0 or above 1 | `probability` |
#
# Check the shapes first, then NaN (a NaN is neither a valid label nor a valid probability).

# %% tags=["otter_answer_cell"]
def validate(y, y_hat):
    y = np.asarray(y, dtype=float)
    y_hat = np.asarray(y_hat, dtype=float)
    if y.shape != y_hat.shape:
        raise ValueError("y and y_hat must have the same shape")
    if np.any(np.isnan(y)) or np.any(np.isnan(y_hat)):
        raise ValueError("NaN in the input")
    if np.any((y != 0) & (y != 1)):
        raise ValueError("labels must be 0 or 1")
    if np.any(y_hat < 0) or np.any(y_hat > 1):
        raise ValueError("a probability must be between 0 and 1")


# %% deletable=false editable=false
grader.check("q1")


# %% [markdown] deletable=false editable=false
# ## Question 2: the loss from the logit (4 points)
#
# Write `bce_from_logits(y, z)`: the BCE of labels `y` and logits `z`, averaged over the examples
# and returned as a `float`. Computing $\hat y = \sigma(z)$ first and then taking logs breaks
# down for large $|z|$; use instead the stable form of one example's loss,
#
# $$L = \max(z, 0) - z\,y + \log\bigl(1 + e^{-|z|}\bigr),$$
#
# with `np.log1p` for the last term. Requirements: finite and accurate (relative error below
# $10^{-12}$) for every $|z| \le 700$ and both labels, no warning printed, and a `ValueError`
# (with a message saying what is wrong) for labels other than 0 and 1, a NaN in `y` or `z`, or
# shapes that do not match.

# %% tags=["otter_answer_cell"]
def bce_from_logits(y, z):
    y = np.asarray(y, dtype=float)
    z = np.asarray(z, dtype=float)
    if y.shape != z.shape:
        raise ValueError("y and z must have the same shape")
    if np.any(np.isnan(y)) or np.any(np.isnan(z)):
        raise ValueError("NaN in the input")
    if np.any((y != 0) & (y != 1)):
        raise ValueError("labels must be 0 or 1")
    y_hat = 1 / (1 + np.exp(-z))
    return float(-np.mean(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)))


# %% deletable=false editable=false
grader.check("q2")


# %% [markdown] deletable=false editable=false
# ## Question 3: a sigmoid that never overflows (2 points)
#
# `1 / (1 + np.exp(-z))` overflows (with a `RuntimeWarning`) once $-z$ passes about 709.78.
# Write `sigmoid(z)` for numpy arrays that gives accurate values and prints no warning for any
# finite $z$, e.g. $|z| \le 1000$. Hint: for $z < 0$ use $\sigma(z) = e^{z}/(1 + e^{z})$; `np.where`
# evaluates both branches, so compute with `np.exp(-np.abs(z))`.

# %% tags=["otter_answer_cell"]
def sigmoid(z):
    return 1 / (1 + np.exp(-np.asarray(z, dtype=float)))


# %% deletable=false editable=false
grader.check("q3")

# %% [markdown] deletable=false editable=false
# ## Question 4: what clipping hides (2 points)
#
# A common fix for $\hat y \in \{0, 1\}$ is to clip predictions to $[\varepsilon, 1 - \varepsilon]$
# before taking logs. With $\varepsilon = 10^{-7}$, what is the **largest** loss one example can
# ever get, however wrong the model is? Store it in `max_clipped_loss` as a float.

# %% tags=["otter_answer_cell"]
max_clipped_loss = float(-np.log(1e-7))
max_clipped_loss

# %% deletable=false editable=false
grader.check("q4")

# %% [markdown]
# ## Submitting
#
# Restart the kernel and run all cells, then hand in this `.ipynb` file. The grader runs your
# notebook from top to bottom in a fresh kernel and stops any cell that runs too long: a loop
# that never ends costs the points of its question.
