"""docs/training.md's compiled-loop example, as written there."""

import numpy as np

import typednet as tn

rng = np.random.default_rng(0)
x = rng.normal(size=(16, 3000))
y = np.tanh(x[:4] + x[4:8] * x[8:12])  # four targets
net: tn.Network[int, int] = (
    tn.network(tn.dense(rng, 16, 64, tn.relu))
    .then(tn.dense(rng, 64, 64, tn.relu))
    .then(tn.dense(rng, 64, 4, tn.identity))
)

results = [
    tn.fit(
        net, x, y, loss=tn.mse, optimizer=tn.adam(1e-3), epochs=5, batch_size=32,
        rng=np.random.default_rng(1), progress=False, compiled=compiled,
    )  # fmt: skip
    for compiled in (False, True)
]
(numpy_net, numpy_history), (fast_net, fast_history) = results
print(f"losses: {numpy_history.train_loss[-1]:.10f} and {fast_history.train_loss[-1]:.10f}")
gap = max(
    float(np.max(np.abs(p - q))) / float(np.max(np.abs(q)))
    for p, q in zip(fast_net.params, numpy_net.params, strict=True)
)
print(f"params within 1e-12 of the NumPy path's: {gap < 1e-12}")

with_dropout = tn.network(tn.dense(rng, 16, 64, tn.relu)).then(tn.dropout(0.2))
try:
    tn.fit(
        with_dropout.then(tn.dense(rng, 64, 4, tn.identity)), x, y, loss=tn.mse,
        optimizer=tn.adam(), epochs=1, batch_size=32, rng=rng, compiled=True,
    )  # fmt: skip
except ValueError as error:
    print(error)
