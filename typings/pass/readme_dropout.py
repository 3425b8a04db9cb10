"""docs/layers.md's dropout example, as written there."""

import numpy as np

import typednet as tn


class Features(tn.Dim, size=4): ...
class Hidden(tn.Dim, size=16): ...
class Output(tn.Dim, size=1): ...


rng = np.random.default_rng(0)
net: tn.Network[Features, Output] = (
    tn.network(tn.dense(rng, Features, Hidden, tn.relu))
    .then(tn.dropout(0.2))  # still a Network[Features, Hidden] for mypy
    .then(tn.dense(rng, Hidden, Output, tn.identity))
)
x = rng.normal(size=(4, 256))
y = x.sum(axis=0, keepdims=True)
trained, history = tn.fit(net, x, y, loss=tn.mse, optimizer=tn.adam(0.01), epochs=40,
                          batch_size=32, rng=np.random.default_rng(1), progress=False)
print(trained)
print(f"loss {history.train_loss[0]:.3f} -> {history.train_loss[-1]:.3f}")
print(np.array_equal(tn.forward(trained, x), tn.forward(trained, x)))  # inference: no masks
