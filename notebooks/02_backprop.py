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
# # 2. Backpropagation
#
# The course trains its network on its one sample by plain gradient descent: the mean
# squared error, learning rate 0.01, 10 000 epochs, every gradient computed before any
# weight changes. `tn.value_and_grad` is the backward pass; below it is checked against
# the course's chain rule written out by hand.

# %%
import numpy as np
from IPython.display import display

import typednet as tn
from typednet.apps.tutorial import build

net, x, y = build()  # the course's network and sample (seed 42), as in notebook 1
print(net)

# %% [markdown]
# ## The chain rule by hand
#
# With `delta_k = d loss / d in_hidden_k`: at the output
# `delta_3 = 2 (y_hat - y) / n * y_hat (1 - y_hat)` (sigmoid's derivative), then
# `delta_2 = (w3.T @ delta_3) * out_2 (1 - out_2)` and
# `delta_1 = (w2.T @ delta_2) * leaky_relu'(in_1)`; each weight's gradient is
# `delta_k @ out_(k-1).T` and each bias's is `delta_k`.

# %%
w1, b1, w2, b2, w3, b3 = net.params
in1 = w1 @ x + b1
out1 = np.where(in1 > 0, in1, 0.1 * in1)
out2 = 1 / (1 + np.exp(-(w2 @ out1 + b2)))
y_hat = 1 / (1 + np.exp(-(w3 @ out2 + b3)))
d3 = 2 * (y_hat - y) / y.size * y_hat * (1 - y_hat)
d2 = (w3.T @ d3) * out2 * (1 - out2)
d1 = (w2.T @ d2) * np.where(in1 > 0, 1.0, 0.1)
by_hand = (d1 @ x.T, d1, d2 @ out1.T, d2, d3 @ out2.T, d3)

loss, grads = tn.value_and_grad(net, x, y, tn.mse)
for name, got, want in zip(
    ["w1", "b1", "w2", "b2", "w3", "b3"], grads.params, by_hand, strict=True
):
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
    print(f"d loss / d {name} {got.shape}: matches the hand-written chain rule")
assert loss == 0.1059625955371147  # the course's loss before the first step

# %% [markdown]
# ## 10 000 epochs
#
# Each epoch: every gradient first, then every weight at once
# (`optimizer.update`, `tn.apply_updates`). The loss is printed every 1 000 epochs, as
# the course prints it.

# %%
optimizer = tn.sgd(0.01)  # update = -0.01 * gradient
state = optimizer.init(net)
losses: list[float] = []
for epoch in range(10_000):
    loss, grads = tn.value_and_grad(net, x, y, tn.mse)
    updates, state = optimizer.update(grads, state, net)
    net = tn.apply_updates(net, updates)
    losses.append(loss)
    if epoch % 1_000 == 0:
        print(f"epoch {epoch:>6}: loss {loss:.10f}")
final = tn.mse(y, tn.forward(net, x))
print(f"epoch {10_000:>6}: loss {final:.10f}")

# %% [markdown]
# The same run in plain NumPy, the course's own loop, ends at the same loss to 1e-12:

# %%
p: list[tn.Matrix] = list(build()[0].params)
for _ in range(10_000):
    in1 = p[0] @ x + p[1]
    out1 = np.where(in1 > 0, in1, 0.1 * in1)
    out2 = 1 / (1 + np.exp(-(p[2] @ out1 + p[3])))
    y_hat = 1 / (1 + np.exp(-(p[4] @ out2 + p[5])))
    d3 = 2 * (y_hat - y) / y.size * y_hat * (1 - y_hat)
    d2 = (p[4].T @ d3) * out2 * (1 - out2)
    d1 = (p[2].T @ d2) * np.where(in1 > 0, 1.0, 0.1)
    step: list[tn.Matrix] = [d1 @ x.T, d1, d2 @ out1.T, d2, d3 @ out2.T, d3]
    p = [q - 0.01 * dq for q, dq in zip(p, step, strict=True)]
for trained, by_numpy in zip(net.params, p, strict=True):
    np.testing.assert_allclose(trained, by_numpy, rtol=0, atol=1e-12)
assert final < 1e-5
print("y_hat       y")
for predicted, target in zip(tn.forward(net, x)[:, 0], y[:, 0], strict=True):
    print(f"{predicted:.6f}  {target:.6f}")

# %% [markdown]
# A `History` shows its loss curve (a log scale: the loss falls by more than a factor of
# 100):

# %%
display(tn.History(train_loss=(*losses, final)))
