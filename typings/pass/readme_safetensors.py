"""docs/saving.md's safetensors example, as written there."""

import tempfile
from pathlib import Path

import numpy as np

import typednet as tn

rng = np.random.default_rng(0)
net = tn.network(tn.dense(rng, 3, 4, tn.relu)).then(tn.dense(rng, 4, 1, tn.identity))
with tempfile.TemporaryDirectory() as folder:
    tn.save(Path(folder) / "net.safetensors", net, format="safetensors")
    again = tn.load(Path(folder) / "net.safetensors", like=net)  # the format told by its bytes
print(again, all(np.array_equal(p, q) for p, q in zip(again.params, net.params, strict=True)))
