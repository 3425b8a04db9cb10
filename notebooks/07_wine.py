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
# # 7. The wine data
#
# The UCI white wines (Cortez et al. 2009), shipped with typednet: 11 physicochemical
# features per wine and the experts' quality score. Wines are columns: `x` is `(11, n)`.
# A 64-32 ReLU network learns the quality's deviation from the training mean, with early
# stopping on 10% of the training wines. (The full recipe is `examples/wine_quality.py`
# and `typednet train-wine`; 30 epochs here keep the notebook quick.)

# %%
import numpy as np
from IPython.display import display

import typednet as tn
from typednet.metrics import mad, within

rng = np.random.default_rng(42)
x, y = tn.deduplicate(*tn.load_wine_quality())
print(f"x {x.shape}, y {y.shape}: quality {y.min():.0f} to {y.max():.0f}")
x_train, y_train, x_test, y_test = tn.train_test_split(x, y, test_fraction=0.2, rng=rng)
scaler = tn.standardize(x_train)  # statistics of the training wines only
mean = float(y_train.mean())
x_fit, y_fit, x_val, y_val = tn.train_test_split(
    scaler.apply(x_train), y_train - mean, test_fraction=0.1, rng=rng
)

# %%
glorot = tn.init.glorot_uniform()
net = (
    tn.network(tn.dense(rng, 11, 64, tn.relu, init=glorot))
    .then(tn.dense(rng, 64, 32, tn.relu, init=glorot))
    .then(tn.dense(rng, 32, 1, tn.identity, init=glorot))
)
display(net)
net, history = tn.fit(
    net,
    x_fit,
    y_fit,
    loss=tn.mse,
    optimizer=tn.adam(1e-3),
    epochs=30,
    batch_size=32,
    rng=rng,
    validation=(x_val, y_val),
    patience=10,
    callbacks=[tn.live_plot()],
)
display(history)

# %% [markdown]
# Scored as in the paper: mean absolute deviation and the share of wines within 0.5 and
# 1.0 of the experts' score. Predicting the training mean for every wine is the baseline
# to beat.

# %%
quality = tn.forward(net, scaler.apply(x_test)) + mean
mse = tn.mse(y_test, quality)
baseline = tn.mse(y_test, np.full_like(y_test, mean))
print(f"test wines: {x_test.shape[1]}")
print(f"MSE {mse:.4f} (the training mean alone: {baseline:.4f})")
print(f"mean absolute deviation {mad(y_test, quality):.4f}")
print(f"within 0.5 of the experts' score: {within(y_test, quality, 0.5):.1%}")
print(f"within 1.0 of the experts' score: {within(y_test, quality, 1.0):.1%}")
assert mse < 0.85 * baseline
