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
# # 5. Layer normalization
#
# A `LayerNorm` rescales each column (each sample) to mean 0 and variance 1 over its
# features, then applies a learned gain and shift, both `(features, 1)`:
# `post = gain * (x - mean) / sqrt(var + eps) + shift`.

# %%
import numpy as np
from IPython.display import display

import typednet as tn

rng = np.random.default_rng(0)
x = rng.normal(3.0, 5.0, size=(4, 6))  # 4 features, 6 samples (columns)
norm = tn.network(tn.layer_norm(4))
out = tn.forward(norm, x)
by_hand = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)
np.testing.assert_allclose(out, by_hand, rtol=1e-12, atol=1e-12)
np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
variance = x.var(axis=0)
np.testing.assert_allclose(out.var(axis=0), variance / (variance + 1e-5), rtol=1e-10)
print("each column: mean 0, variance 1 (less eps's share)")
display(tn.forward_trace(norm, x))

# %% [markdown]
# ## In a network
#
# Between the course's hidden layers: the trace shows the normalized values.

# %%
net = (
    tn.network(tn.dense(rng, 5, 3, tn.leaky_relu(0.1)))
    .then(tn.layer_norm(3))
    .then(tn.dense(rng, 3, 5, tn.sigmoid))
    .then(tn.dense(rng, 5, 4, tn.sigmoid))
)
display(net)
xs = rng.uniform(0.0, 1.0, size=(5, 8))
ys = rng.uniform(0.0, 1.0, size=(4, 8))
display(tn.forward_trace(net, xs))
trained, history = tn.fit(
    net,
    xs,
    ys,
    loss=tn.mse,
    optimizer=tn.adam(0.01),
    epochs=200,
    batch_size=8,
    rng=rng,
    progress=False,
)
display(history)
assert history.train_loss[-1] < history.train_loss[0] / 2
