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
# # 4. L1 and L2 penalties
#
# A penalty adds to the loss a price on the weights: L2 `lam * sum(w ** 2)` (gradient
# `2 lam w`: weights shrink in proportion) and L1 `lam * sum(|w|)` (gradient
# `lam * sign(w)`: small weights are pushed to zero). By default biases are not penalized.

# %%
import numpy as np
from IPython.display import display

import typednet as tn
from typednet.apps.tutorial import build

net, x, y = build()
lam = 0.01
weights = [net.params[k] for k in (0, 2, 4)]  # w1, w2, w3; the biases are left alone


def l2_slope(w: tn.Matrix) -> tn.Matrix:
    return 2 * lam * w


def l1_slope(w: tn.Matrix) -> tn.Matrix:
    return lam * np.sign(w)


for penalty, price, slope in [
    (tn.l2(lam), lam * sum(float((w**2).sum()) for w in weights), l2_slope),
    (tn.l1(lam), lam * sum(float(np.abs(w).sum()) for w in weights), l1_slope),
]:
    plain, g0 = tn.value_and_grad(net, x, y, tn.mse)
    value, g = tn.value_and_grad(net, x, y, tn.mse, penalty=penalty)
    np.testing.assert_allclose(value, plain + price, rtol=1e-14)
    for k, w in zip((0, 2, 4), weights, strict=True):
        np.testing.assert_allclose(g.params[k], g0.params[k] + slope(w), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(g.params[1], g0.params[1])  # biases: no penalty
    print(f"{penalty.name}: loss {plain:.6f} + penalty {price:.6f}; gradients match")

# %% [markdown]
# ## What they do to the weights
#
# The course's run (learning rate 0.01 is slow: 0.5 here), 2 000 epochs with each penalty:

# %%
sizes = {}
for name, chosen in [("none", None), ("l2", tn.l2(0.01)), ("l1", tn.l1(0.01))]:
    trained, history = tn.fit(
        net,
        x,
        y,
        loss=tn.mse,
        optimizer=tn.sgd(0.5),
        epochs=2_000,
        batch_size=1,
        rng=np.random.default_rng(0),
        penalty=chosen,
        progress=False,
    )
    w = np.concatenate([trained.params[k].ravel() for k in (0, 2, 4)])
    sizes[name] = (float(np.abs(w).sum()), int((np.abs(w) < 1e-3).sum()))
    print(f"{name:>4}: sum |w| = {sizes[name][0]:.3f}, weights under 1e-3: {sizes[name][1]}")
    display(trained)
assert sizes["l2"][0] < sizes["none"][0] and sizes["l1"][0] < sizes["none"][0]
assert sizes["l1"][1] > sizes["none"][1]  # L1 zeroes weights; plain descent does not
