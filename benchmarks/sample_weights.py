"""What sample weights cost in `fit`: an epoch with and without them, interleaved.

Run: OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/sample_weights.py

The digits-shaped 64-128-64-10 network (relu, softmax, cross-entropy), 1437 columns,
batch 32, Adam: `fit` for 3 epochs with ``sample_weight=None`` and with integer weights,
alternately, 7 times each, in process CPU time; printed: the medians per epoch and
their ratio. The weighted step adds each loss's per-sample values, the per-batch
factors ``w n / sum(w)`` and a (1, batch) slice of the weights.
"""

import statistics
import time

import numpy as np
import numpy.typing as npt

import typednet as tn

rng = np.random.default_rng(0)
x = rng.normal(size=(64, 1437))
y = np.eye(10)[:, rng.integers(0, 10, 1437)]
net = (
    tn.network(tn.dense(rng, 64, 128, tn.relu))
    .then(tn.dense(rng, 128, 64, tn.relu))
    .then(tn.dense(rng, 64, 10, tn.softmax))
)
counts = rng.integers(1, 4, 1437)


def epoch_ms(weights: npt.NDArray[np.int64] | None) -> float:
    start = time.process_time()
    tn.fit(
        net, x, y, loss=tn.cross_entropy, optimizer=tn.adam(1e-3), epochs=3, batch_size=32,
        rng=np.random.default_rng(1), progress=False, sample_weight=weights,
    )  # fmt: skip
    return (time.process_time() - start) / 3 * 1e3


epoch_ms(None), epoch_ms(counts)  # warm up
plain, weighted = [], []
for _ in range(7):
    plain.append(epoch_ms(None))
    weighted.append(epoch_ms(counts))
p, w = statistics.median(plain), statistics.median(weighted)
print(f"epoch (ms): without weights {p:.2f}, with {w:.2f}; ratio {w / p:.3f}")
