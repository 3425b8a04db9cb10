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
# # 6. Mini-batches
#
# Samples are columns, so a batch is several columns side by side, `(features, batch)`.
# `tn.fit` shuffles the columns each epoch and takes a step per `batch_size` of them.
#
# On the course's one sample, a batch of 1 is the course's own loop: 10 000 epochs of
# `fit` end at the same loss as the step-by-step run of notebook 2.

# %%
import numpy as np
from IPython.display import display

import typednet as tn
from typednet.apps import tutorial

net, x, y = tutorial.build()
trained, history = tn.fit(
    net,
    x,
    y,
    loss=tn.mse,
    optimizer=tn.sgd(0.01),
    epochs=10_000,
    batch_size=1,
    rng=np.random.default_rng(0),
    progress=False,
)
course_net, course_losses = tutorial.train()  # the course's loop: 10 000 train_steps
assert history.train_loss[0] == 0.1059625955371147  # the course's first loss
for got, want in zip(trained.params, course_net.params, strict=True):
    np.testing.assert_array_equal(got, want)
print(f"fit, batch 1: loss {tn.mse(y, tn.forward(trained, x)):.10f}")
print(f"the course:   loss {course_losses[-1][1]:.10f}")
display(history)

# %% [markdown]
# ## Batch size on more data
#
# 256 noisy samples of a smooth function of 5 inputs. A full batch takes one step per
# epoch; a batch of 16 takes 16 steps per epoch, each on a noisier gradient. A step's
# gradient is the mean over its batch's columns, so the full batch's epoch equals one
# `train_step` on all the data.

# %%
rng = np.random.default_rng(1)
xs = rng.uniform(-1.0, 1.0, size=(5, 256))
ys = 1 / (1 + np.exp(-xs.sum(axis=0, keepdims=True) * np.ones((4, 1)))) + rng.normal(
    0, 0.01, (4, 256)
)
opt = tn.sgd(0.5)
full = tn.fit(
    net, xs, ys, loss=tn.mse, optimizer=opt, epochs=1, batch_size=256, rng=rng, progress=False
)[0]
stepped = tn.train_step(net, opt.init(net), xs, ys, loss=tn.mse, optimizer=opt)[0]
for got, want in zip(full.params, stepped.params, strict=True):
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)

finals = {}
for batch_size in (256, 64, 16):
    history = tn.fit(
        net,
        xs,
        ys,
        loss=tn.mse,
        optimizer=opt,
        epochs=40,
        batch_size=batch_size,
        rng=np.random.default_rng(2),
        progress=False,
    )[1]
    finals[batch_size] = history.train_loss[-1]
    print(
        f"batch {batch_size:>3}: {history.state.count if history.state else 0} steps, "
        f"loss {history.train_loss[-1]:.5f}"
    )
    display(history)
assert finals[16] < finals[64] < finals[256]  # more steps in the same epochs
