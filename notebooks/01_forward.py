# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 1. The forward pass
#
# The course's network: 5 inputs, a hidden layer of 3 (leaky ReLU, leak 0.1), a hidden
# layer of 5 (sigmoid) and 4 outputs (sigmoid). A layer's values are a **column**, shape
# `(nodes, 1)`, and a weight matrix is **`(next, prev)`**: row *i* holds the weights into
# node *i*. The course seeds NumPy's legacy generator with 42 and draws `x`, then `y`,
# then the weights uniformly in [0, 1); the biases start at zero.

# %%
import numpy as np
from IPython.display import display

import typednet as tn


class Features(tn.Dim, size=5): ...


class Hidden1(tn.Dim, size=3): ...


class Hidden2(tn.Dim, size=5): ...


class Output(tn.Dim, size=4): ...


rng = np.random.RandomState(42)
x: tn.Matrix = rng.randint(1, 100, size=(5, 1)) / 100
y: tn.Matrix = rng.randint(1, 100, size=(4, 1)) / 100
uniform = tn.init.uniform(0.0, 1.0)  # the course's np.random.random
net: tn.Network[Features, Output] = (
    tn.network(tn.dense(rng, Features, Hidden1, tn.leaky_relu(0.1), init=uniform))
    .then(tn.dense(rng, Hidden1, Hidden2, tn.sigmoid, init=uniform))
    .then(tn.dense(rng, Hidden2, Output, tn.sigmoid, init=uniform))
)
print(net)

# %% [markdown]
# In a notebook a network shows itself as a diagram (blue edges for positive weights, red
# for negative, as thick as |w|) and a table of its shapes in (next, prev) terms:

# %%
display(net)

# %% [markdown]
# `forward_trace` keeps every layer's value before its activation (`in_hidden_k`) and
# after it (`out_hidden_k`); the last `post` is `y_hat`. Its display shows each value's
# shape, range and a small heat map.

# %%
trace = tn.forward_trace(net, x)
display(trace)
with np.printoptions(precision=8, suppress=True):
    print(f"y_hat {trace.y_hat.shape}:\n{trace.y_hat}")

# %% [markdown]
# The mean squared error between `y` and `y_hat` is the number the course prints:

# %%
loss = tn.mse(y, trace.y_hat)
print(f"loss (mse) = {loss!r}")
assert loss == 0.1059625955371147  # the course's printed loss

# %% [markdown]
# ## The same steps by hand
#
# `pre = w @ x + b`, `post = activation(pre)`, layer by layer, in plain NumPy:

# %%
w1, b1, w2, b2, w3, b3 = net.params
in_hidden_1 = w1 @ x + b1
out_hidden_1 = np.where(in_hidden_1 > 0, in_hidden_1, 0.1 * in_hidden_1)
in_hidden_2 = w2 @ out_hidden_1 + b2
out_hidden_2 = 1 / (1 + np.exp(-in_hidden_2))
in_output = w3 @ out_hidden_2 + b3
y_hat = 1 / (1 + np.exp(-in_output))
np.testing.assert_allclose(y_hat, trace.y_hat, rtol=0, atol=1e-15)
print(f"by hand: {float(np.mean((y - y_hat) ** 2))!r}")

# %% [markdown]
# ## A wrong shape
#
# Samples are columns. Passing the sample as a row is refused with a `ShapeError` that
# says where, what was expected, what it got and a hint (shapes, never values):

# %%
try:
    tn.forward(net, x.T)
except tn.ShapeError as error:
    display(error)
