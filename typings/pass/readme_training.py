"""The README's training example, as written there."""

import numpy as np

import typednet as tn

rng = np.random.default_rng(0)
x = rng.normal(size=(2, 256))  # 256 samples, one per column
y = (x[0:1] * x[1:2] > 0).astype(np.float64)  # label: do the two features agree in sign?

net: tn.Network[int, int] = tn.network(tn.dense(rng, 2, 16, tn.tanh)).then(
    tn.dense(rng, 16, 1, tn.sigmoid)
)
net, history = tn.fit(
    net, x, y, loss=tn.binary_cross_entropy, optimizer=tn.adam(0.05),
    epochs=60, batch_size=32, rng=rng, progress=False,
)
print(f"loss {history.train_loss[0]:.3f} -> {history.train_loss[-1]:.3f}")
accuracy = np.mean(np.equal(tn.forward(net, x) > 0.5, y > 0.5))
print(f"accuracy {accuracy:.2f}")
