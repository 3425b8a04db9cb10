"""docs/saving.md's example, as written there."""

import tempfile
from pathlib import Path

import numpy as np

import typednet as tn

rng = np.random.default_rng(0)
net = tn.network(tn.dense(rng, 3, 4, tn.relu)).then(tn.dense(rng, 4, 1, tn.identity))
with tempfile.TemporaryDirectory() as folder:
    tn.save(Path(folder) / "net.npz", net)
    again = tn.load(Path(folder) / "net.npz", like=net)  # a Network[int, int], as net
print(again)
