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
grader = otter.Notebook("hw03_training.ipynb")

# %% [markdown]
# # Coursework 3: Training with the BCE
#
# In this assignment you train a logistic regression model by gradient descent on a real data
# set, the Wisconsin breast cancer data that ships with scikit-learn (no download): 569 tumours,
# 30 measurements each, label 1 for benign and 0 for malignant. You derive the gradient of the
# loss with respect to the logit, turn it into gradients for the weights, write the training
# loop, and check that the trained model beats the simplest baseline.
#
# The model: $z = Xw + b$, $\hat y = \sigma(z)$, loss $=$ mean BCE. Replace every `...` with your
# code and run the `grader.check(...)` cell under it. Hidden tests check more than the checks
# you see.
#
# **Points:** 13 in total (q1: 3, q2: 3, q3: 4, q4: 3).

# %%
import numpy as np
from sklearn.datasets import load_breast_cancer

# %% [markdown]
# ## The data and two helpers (given)
#
# The next cell splits the data into 400 training and 169 test examples with a seeded random
# permutation and standardises every measurement with the training mean and standard
# deviation. The helpers `sigmoid` and `bce_from_logits` are the stable versions from
# Coursework 2; `bce_from_logits` refuses bad input.

# %%
data = load_breast_cancer()
rng = np.random.default_rng(2026)
order = rng.permutation(len(data.target))
train_rows, test_rows = order[:400], order[400:]
mean = data.data[train_rows].mean(axis=0)
std = data.data[train_rows].std(axis=0)
X_train = (data.data[train_rows] - mean) / std
X_test = (data.data[test_rows] - mean) / std
y_train = data.target[train_rows].astype(float)
y_test = data.target[test_rows].astype(float)
print(X_train.shape, X_test.shape, f"share of label 1 in training: {y_train.mean():.3f}")


# %%
def sigmoid(z):
    """Logistic function 1 / (1 + exp(-z)), without overflow."""
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def bce_from_logits(y, z):
    """Mean binary cross-entropy of labels y (0 or 1) and logits z, computed stably."""
    y = np.asarray(y, dtype=float)
    z = np.asarray(z, dtype=float)
    if y.shape != z.shape:
        raise ValueError(f"y has shape {y.shape} but z has shape {z.shape}")
    if np.isnan(y).any() or np.isnan(z).any():
        raise ValueError("the input contains NaN")
    if not np.isin(y, [0, 1]).all():
        raise ValueError("every label y must be 0 or 1")
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))


# %% [markdown] deletable=false editable=false
# ## Question 1: the gradient with respect to the logit (3 points)
#
# For one example, $L(z) = -\bigl[y\log\sigma(z) + (1-y)\log(1-\sigma(z))\bigr]$. Differentiate
# it with respect to $z$ (on paper, or with sympy) and write `grad_logit(y, y_hat)` that returns
# $\partial L/\partial z$ in terms of the label and the prediction $\hat y = \sigma(z)$, element by
# element for arrays.

# %% tags=["otter_answer_cell"]
def grad_logit(y, y_hat):
    return np.asarray(y_hat, dtype=float) - np.asarray(y, dtype=float)


# %% deletable=false editable=false
grader.check("q1")


# %% [markdown] deletable=false editable=false
# ## Question 2: gradients for the weights (3 points)
#
# With $z_i = x_i \cdot w + b$ and the loss averaged over the $n$ examples, the chain rule gives
#
# $$\frac{\partial\,\mathrm{BCE}}{\partial w} = \frac{1}{n}X^\top(\hat y - y), \qquad
# \frac{\partial\,\mathrm{BCE}}{\partial b} = \frac{1}{n}\sum_i(\hat y_i - y_i).$$
#
# Write `gradients(X, y, w, b)` returning the pair `(grad_w, grad_b)`: an array with the shape of
# `w` and a float. Use `sigmoid` and your `grad_logit`.

# %% tags=["otter_answer_cell"]
def gradients(X, y, w, b):
    raise RuntimeError("not finished")


# %% deletable=false editable=false
grader.check("q2")


# %% [markdown] deletable=false editable=false
# ## Question 3: gradient descent (4 points)
#
# Write `train(X, y, learning_rate, n_steps)`: start from `w = 0` and `b = 0`, and repeat
# `n_steps` times: record the training loss `bce_from_logits(y, X @ w + b)` in a list, then take
# one step *against* the gradient. Return `w, b, losses`. Then train on the training set with a
# learning rate of 0.5 for 300 steps, storing the results in `w`, `b` and `losses`.

# %% tags=["otter_answer_cell"]
def train(X, y, learning_rate, n_steps):
    w = np.zeros(X.shape[1])
    b = 0.0
    losses = []
    for step in range(n_steps):
        losses.append(bce_from_logits(y, X @ w + b))
        grad_w, grad_b = gradients(X, y, w, b)
        w = w - learning_rate * grad_w
        b = b - learning_rate * grad_b
    return w, b, losses


w, b, losses = train(X_train, y_train, learning_rate=0.5, n_steps=300)
print(f"training loss: {losses[0]:.4f} at the start, {losses[-1]:.4f} after 300 steps")

# %% deletable=false editable=false
grader.check("q3")

# %% [markdown] deletable=false editable=false
# ## Question 4: does the model beat the baseline? (3 points)
#
# The simplest "model" ignores the measurements and predicts the share of label 1 in the
# *training* set, $\bar y$, for every example. Store its BCE on the **test** set in
# `baseline_loss`, and the BCE of your trained model on the test set in `test_loss` (both
# floats).

# %% tags=["otter_answer_cell"]
p = y_train.mean()
baseline_loss = float(-np.mean(y_test * np.log(p) + (1 - y_test) * np.log(1 - p)))
test_loss = bce_from_logits(y_test, X_test @ w + b)
print(f"test loss: baseline {baseline_loss:.4f}, trained model {test_loss:.4f}")

# %% deletable=false editable=false
grader.check("q4")

# %% [markdown]
# ## Submitting
#
# Restart the kernel and run all cells, then hand in this `.ipynb` file. The grader runs your
# notebook from top to bottom in a fresh kernel and stops any cell that runs too long: a
# training loop that never ends costs the points of its question.
