"""Per-call time of tn.mse and tn.cross_entropy, checks on, for whichever typednet is on
the path: run it alternately against an older checkout to compare (see RESULTS.md).

    PYTHONPATH=<checkout>/src python benchmarks/loss_call.py
"""

import timeit

import numpy as np

import typednet as tn

rng = np.random.default_rng(0)
row = [tn.__file__.rsplit("/src/", 1)[0]]
for batch in (32, 1024):
    y = np.eye(10)[rng.integers(0, 10, batch)].T.copy()
    z = rng.normal(size=(10, batch))
    p = np.exp(z) / np.exp(z).sum(axis=0)
    number = 20_000 if batch == 32 else 5_000
    for loss in (tn.mse, tn.cross_entropy):
        best = min(timeit.repeat(lambda loss=loss, y=y, p=p: loss(y, p), number=number, repeat=5))
        row.append(f"{loss.name}_{batch} {best / number * 1e6:.1f} µs")
print(" | ".join(row))
