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
# # 3. Optimizers
#
# An optimizer is a pair of pure functions: `init(params) -> state` and
# `update(grads, state, params) -> (updates, state)`. Plain gradient descent's update is
# `-lr * g`; momentum keeps a velocity `v = beta v + g` and steps `-lr * v`; Adam scales
# each step by running estimates of the gradient's first and second moments.

# %%
import numpy as np
from IPython.display import display

import typednet as tn
from typednet.apps.tutorial import build

net, x, y = build()  # the course's network and sample
_, grads = tn.value_and_grad(net, x, y, tn.mse)
g = grads.params[0]  # d loss / d w1, shape (next, prev) = (3, 5)

# %% [markdown]
# One step of each, checked against its rule written out by hand:

# %%
lr = 0.01
for name, optimizer, step in [
    ("sgd", tn.sgd(lr), -lr * g),
    ("momentum", tn.momentum(lr, beta=0.9), -lr * g),  # v = 0.9 * 0 + g
    # Adam's first step: m_hat = g, v_hat = g**2, so the step is -lr * g / (|g| + eps).
    ("adam", tn.adam(lr), -lr * g / (np.sqrt(g**2) + 1e-8)),
]:
    updates = optimizer.update(grads, optimizer.init(net), net)[0]
    np.testing.assert_allclose(updates.params[0], step, rtol=1e-12, atol=1e-18)
    print(f"{name}: first update of w1 matches its rule")

# %% [markdown]
# ## Side by side on the course's sample
#
# 300 epochs each; `tn.live_plot()` redraws the loss curve in the cell as training goes.

# %%
finals = {}
for name, optimizer in [
    ("sgd", tn.sgd(0.5)),
    ("momentum", tn.momentum(0.5, beta=0.9)),
    ("adam", tn.adam(0.05)),
]:
    history = tn.fit(
        net,
        x,
        y,
        loss=tn.mse,
        optimizer=optimizer,
        epochs=300,
        batch_size=1,
        rng=np.random.default_rng(0),
        callbacks=[tn.live_plot(every=50)],
    )[1]
    finals[name] = history.train_loss[-1]
    print(f"{name:>8}: loss {history.train_loss[0]:.6f} -> {history.train_loss[-1]:.2e}")
    display(history)
assert all(loss < 0.1059625955371147 for loss in finals.values())
assert finals["momentum"] < finals["sgd"]  # the velocity carries it further
