"""docs/embedding.md's example: categories as integer ids, embedded, then a dense layer;
fit learns one target per category."""

import numpy as np

import typednet as tn


class Colour(tn.Dim, size=3): ...  # the vocabulary: 3 categories, ids 0, 1, 2
class Width(tn.Dim, size=4): ...
class Output(tn.Dim, size=1): ...


rng = np.random.default_rng(0)
net: tn.Network[Colour, Output] = (
    tn.network(tn.embedding(rng, Colour, Width))  # an Embedding[Colour, Width], first
    .then(tn.dense(rng, Width, Output, tn.identity))
)
colours = ["red", "green", "blue", "green", "red", "blue"] * 20
index = {name: i for i, name in enumerate(["red", "green", "blue"])}
ids = np.array([[index[name] for name in colours]])  # shape (1, n), int64
y = np.array([[{"red": 1.0, "green": -1.0, "blue": 0.5}[name] for name in colours]])
trained, history = tn.fit(net, ids, y, loss=tn.mse, optimizer=tn.adam(0.05), epochs=40,
                          batch_size=12, rng=rng, progress=False)
print(trained)
print(f"loss {history.train_loss[0]:.3f} -> {history.train_loss[-1]:.5f}")
print(tn.forward(trained, np.array([[0, 1, 2]])).round(2))  # red, green, blue
try:
    tn.forward(trained, np.array([[0, 3]]))
except ValueError as e:
    print(e)
