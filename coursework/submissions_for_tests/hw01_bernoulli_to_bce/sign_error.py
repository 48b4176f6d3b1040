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
grader = otter.Notebook("hw01_bernoulli_to_bce.ipynb")

# %% [markdown]
# # Coursework 1: From Bernoulli to BCE
#
# In this assignment you rebuild the binary cross-entropy (BCE) from the Bernoulli trial, one
# step at a time, exactly as the book does in Parts I and II:
#
# 1. the probability of one label under a Bernoulli model, $\hat{y}^{y}(1-\hat{y})^{1-y}$;
# 2. the log-likelihood of a data set, $\sum_i \bigl[y_i\log\hat y_i + (1-y_i)\log(1-\hat y_i)\bigr]$;
# 3. the BCE, the negative log-likelihood divided by $n$;
# 4. two short numeric questions.
#
# Notation: a label `y` is 0 or 1, `y_hat` is the predicted probability that the label is 1,
# and `log` is the **natural** logarithm (`np.log`). Replace every `...` with your code, then run
# the `grader.check(...)` cell under it. The checks you see are only part of the grading: hidden
# tests check more cases, so test your functions on examples of your own.
#
# **Points:** 13 in total (q1: 2, q2: 3, q3: 4, q4: 2, q5: 2).

# %%
import numpy as np


# %% [markdown] deletable=false editable=false
# ## Question 1: the Bernoulli probability (2 points)
#
# Write `bernoulli_likelihood(y, y_hat)`: the probability $\hat{y}^{y}(1-\hat{y})^{1-y}$ that a
# Bernoulli trial with $P(y=1)=\hat y$ gives the label `y`. It must work for single numbers and,
# element by element, for numpy arrays of the same shape.

# %% tags=["otter_answer_cell"]
def bernoulli_likelihood(y, y_hat):
    y = np.asarray(y, dtype=float)
    y_hat = np.asarray(y_hat, dtype=float)
    return y_hat**y * (1 - y_hat) ** (1 - y)


# %% deletable=false editable=false
grader.check("q1")


# %% [markdown] deletable=false editable=false
# ## Question 2: the log-likelihood of a data set (3 points)
#
# For independent examples the likelihood is a product, and its logarithm is a **sum**. Write
# `log_likelihood(y, y_hat)` that returns the number
# $\sum_{i=1}^{n}\bigl[y_i\log\hat y_i + (1-y_i)\log(1-\hat y_i)\bigr]$ for arrays `y` and `y_hat`
# with values of `y_hat` strictly between 0 and 1. Use the natural log.

# %% tags=["otter_answer_cell"]
def log_likelihood(y, y_hat):
    y = np.asarray(y, dtype=float)
    y_hat = np.asarray(y_hat, dtype=float)
    return float(np.sum(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)))


# %% deletable=false editable=false
grader.check("q2")


# %% [markdown] deletable=false editable=false
# ## Question 3: the binary cross-entropy (4 points)
#
# Write `bce(y, y_hat)`, the negative log-likelihood divided by the number of examples $n$:
#
# $$\mathrm{BCE}(y, \hat y) = -\frac{1}{n}\sum_{i=1}^{n}\bigl[y_i\log\hat y_i + (1-y_i)\log(1-\hat y_i)\bigr].$$
#
# Requirements:
#
# - it returns a Python `float`, the **average** over the examples;
# - predictions exactly 0 or 1 are allowed: a perfect prediction ($\hat y = y$) contributes 0
#   (not `nan`), and a certain but wrong prediction contributes `inf`; no warning is printed
#   (hint: take the log of the probability given to the *observed* label, `np.where(y == 1, y_hat, 1 - y_hat)`,
#   inside `with np.errstate(divide="ignore"):`);
# - it raises a `ValueError` whose message says what is wrong when a label is not 0 or 1, when a
#   prediction is outside $[0, 1]$ or NaN, or when `y` and `y_hat` have different shapes.

# %% tags=["otter_answer_cell"]
def bce(y, y_hat):
    y = np.asarray(y, dtype=float)
    y_hat = np.asarray(y_hat, dtype=float)
    if y.shape != y_hat.shape:
        raise ValueError("y and y_hat must have the same shape")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("labels must be 0 or 1")
    if np.any(np.isnan(y_hat)) or np.any((y_hat < 0) | (y_hat > 1)):
        raise ValueError("predictions must be probabilities in [0, 1]")
    p = np.where(y == 1, y_hat, 1 - y_hat)
    with np.errstate(divide="ignore"):
        return float(np.mean(np.log(p)))


# %% deletable=false editable=false
grader.check("q3")

# %% [markdown] deletable=false editable=false
# ## Question 4: the practice problem (2 points)
#
# A diagnostic model predicts $\hat y = 0.85$ for a patient who has the condition ($y = 1$).
# Store the loss of this one prediction in `practice_loss`, as a float (natural log).

# %% tags=["otter_answer_cell"]
practice_loss = float(np.log(0.85))
practice_loss

# %% deletable=false editable=false
grader.check("q4")

# %% [markdown] deletable=false editable=false
# ## Question 5: a ballpark value (2 points)
#
# A lazy model predicts $\hat y = 0.5$ for every example, whatever the label. Store its BCE on
# any data set in `coin_flip_loss`, as a float. Any model worth training must get below it.

# %% tags=["otter_answer_cell"]
coin_flip_loss = float(np.log(0.5))
coin_flip_loss

# %% deletable=false editable=false
grader.check("q5")

# %% [markdown]
# ## Submitting
#
# Save the notebook and hand in this `.ipynb` file as your instructor asks. Before you do,
# restart the kernel and run all cells: the grader runs your notebook from top to bottom in a
# fresh kernel, so a cell that depends on one you deleted, or a loop that never ends, costs the
# points of its question.
