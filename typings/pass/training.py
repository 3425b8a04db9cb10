"""Training keeps the network's dims: grads, optimizer state and fit all stay typed."""

import tempfile
from pathlib import Path

import numpy as np

import typednet as tn


class Features(tn.Dim, size=3): ...


class Hidden(tn.Dim, size=8): ...


class Classes(tn.Dim, size=2): ...


rng = np.random.default_rng(0)
net: tn.Network[Features, Classes] = (
    tn.network(tn.dense(rng, Features, Hidden, tn.identity))
    .then(tn.layer_norm(Hidden))
    .then(tn.relu)
    .then(tn.dense(rng, Hidden, Classes, tn.softmax))
)
x = rng.normal(size=(3, 64))
y = np.eye(2)[(x[0] > 0).astype(int)].T.copy()

value, grads = tn.value_and_grad(net, x, y, tn.cross_entropy, penalty=tn.l2(1e-4))
only_grads: tn.Network[Features, Classes] = tn.grad(net, x, y, tn.cross_entropy)
optimizer = tn.adam(1e-2)
state: tn.OptState[Features, Classes] = optimizer.init(net)
updates, state = optimizer.update(grads, state, net)
stepped: tn.Network[Features, Classes] = tn.apply_updates(net, updates)
stepped, state, loss = tn.train_step(
    stepped, state, x, y, loss=tn.cross_entropy, optimizer=optimizer
)

trained, history = tn.fit(
    net, x, y, loss=tn.cross_entropy, optimizer=tn.adam(1e-2), epochs=5, batch_size=16,
    rng=rng, validation=(x, y), metric=tn.mae, patience=2, progress=False,
)
kept: tn.Network[Features, Classes] = trained
epochs: int = history.epochs

with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "net.npz"
    tn.save(path, trained)
    again: tn.Network[Features, Classes] = tn.load(path, like=trained)
    untyped: tn.Network[int, int] = tn.load(path)


def checkpoint(epoch: tn.Epoch[Features, Classes]) -> bool:
    kept_net: tn.Network[Features, Classes] = epoch.net
    return kept_net.param_count > 10**9


on_epoch: tn.Callback[Features, Classes] = checkpoint
resumed, more = tn.fit(
    trained, x, y, loss=tn.cross_entropy, optimizer=tn.adam(1e-2), epochs=2, batch_size=16,
    rng=rng, progress=False, state=history.state, callbacks=[checkpoint],
)
typed_history: tn.History[Features, Classes] = more
typed_state: tn.OptState[Features, Classes] | None = more.state
scheduled = tn.adamw(tn.schedules.warmup(4, then=tn.schedules.cosine_decay(1e-2, steps=20)))
again_trained: tn.Network[Features, Classes] = tn.fit(
    resumed, x, y, loss=tn.cross_entropy, optimizer=scheduled, epochs=1, batch_size=16,
    rng=rng, progress=False,
)[0]
