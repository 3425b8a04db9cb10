"""docs/saving.md's checkpoint example, as written there."""

import tempfile
from pathlib import Path

import numpy as np

import typednet as tn

x = np.random.default_rng(0).normal(size=(3, 64))
y = x[:1] * x[1:2]


def train(folder: Path, epochs: int) -> tuple[tn.Network, tn.History]:
    """The same call every time: it starts anew, or carries on from the checkpoint."""
    rng = np.random.default_rng(1)
    net = tn.network(tn.dense(rng, 3, 8, tn.tanh)).then(tn.dense(rng, 8, 1, tn.identity))
    return tn.fit(
        net, x, y, loss=tn.mse, optimizer=tn.adam(0.01), epochs=epochs, batch_size=16,
        rng=rng, progress=False, checkpoint=tn.checkpoint(folder, every=1), resume=folder,
    )  # fmt: skip


with tempfile.TemporaryDirectory() as tmp:
    train(Path(tmp) / "run", epochs=4)  # a run killed after its 4th epoch, say
    net, history = train(Path(tmp) / "run", epochs=10)  # carries on from epoch 4
    whole, never_stopped = train(Path(tmp) / "other", epochs=10)
print(history.epochs, history == never_stopped)  # 10 epochs: the same History
print(all(np.array_equal(p, q) for p, q in zip(net.params, whole.params, strict=True)))
