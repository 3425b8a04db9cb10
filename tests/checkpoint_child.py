"""A training run for the checkpoint tests, the same in the test process and in a child.

``python -m tests.checkpoint_child OUT FOLDER DTYPE [--stall WHAT EPOCH] [--dask ADDRESS]``
trains `run`'s network with a checkpoint in FOLDER, resuming from it, and writes the
result to OUT (``OUT.npz``: the params; ``OUT.json``: the History). After each epoch
it prints ``epoch k`` (flushed), so the test can kill it at a known point.
``--stall params|manifest EPOCH`` makes the writer of that epoch's params file or
checkpoint.json stop inside its write (the temporary file half written) and print
``stalled``: the test kills it there. ``--dask`` trains with `typednet.dask.fit` as a
client of the scheduler at ADDRESS instead. ``--interrupt`` runs without a checkpoint
and prints ``ready`` before fit starts: the test sends SIGINT.
"""

import json
import sys
import time
from collections.abc import Callable
from typing import Any, BinaryIO

import numpy as np

import typednet as tn
from typednet import _files, checkpoints, io

EPOCHS = 20  # early stopping ends the run at epoch 17 (best: 13)
BATCH = 16
OPTIMIZER = tn.adam(tn.schedules.exponential_decay(0.05, 0.999))


def data(dtype: type) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Training and validation columns: a noisy regression where validation stalls."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 200))
    y = np.sin(x[:1]) + 0.5 * x[1:2] * x[2:3] + 0.3 * rng.normal(size=(1, 200))
    return x[:, :160].astype(dtype), y[:, :160].astype(dtype), x[:, 160:].astype(dtype), y[:, 160:].astype(dtype)  # fmt: skip


def network(dtype: type, *, dropout: bool = True) -> tn.Network:
    rng = np.random.default_rng(0)
    net = tn.network(tn.dense(rng, 3, 32, tn.tanh, dtype=dtype))
    if dropout:
        net = net.then(tn.Dropout(0.2))
    return net.then(tn.dense(rng, 32, 1, tn.identity, dtype=dtype))


def run(
    dtype: type,
    *,
    checkpoint: str | None = None,
    callbacks: tuple[tn.Callback, ...] = (),
    early_stopping: bool = True,
    epochs: int = EPOCHS,
) -> tuple[tn.Network, tn.History]:
    """The run under test: dropout, Adam with a schedule, a metric, and early stopping
    on the validation columns (or neither of these two)."""
    x, y, xv, yv = data(dtype)
    return tn.fit(
        network(dtype),
        x,
        y,
        loss=tn.mse,
        optimizer=OPTIMIZER,
        epochs=epochs,
        batch_size=BATCH,
        rng=np.random.default_rng(7),
        validation=(xv, yv) if early_stopping else None,
        metric=tn.mae,
        patience=4 if early_stopping else None,
        progress=False,
        checkpoint=checkpoint,
        resume=checkpoint,
        callbacks=callbacks,
    )


def run_dask(
    dtype: type, address: str, *, checkpoint: str | None = None
) -> tuple[tn.Network, tn.History]:
    """The same data on a cluster (no dropout: typednet.dask refuses it); early stopping
    ends it at epoch 9 (best: 7)."""
    import dask.array as da

    import typednet.dask as tnd

    x, y, xv, yv = data(dtype)
    # dask infers from_array's chunks as str from its default: pyright's reading is wrong.
    X = da.from_array(x, chunks=(3, 40))  # pyright: ignore[reportArgumentType]
    Y = da.from_array(y, chunks=(1, 40))  # pyright: ignore[reportArgumentType]
    return tnd.fit(
        network(dtype, dropout=False),
        X,
        Y,
        loss=tn.mse,
        optimizer=tn.adam(0.1),
        epochs=12,
        batch_size=32,
        rng=np.random.default_rng(7),
        client=address,
        validation=(xv, yv),
        metric=tn.mae,
        patience=2,
        progress=False,
        checkpoint=checkpoint,
        resume=checkpoint,
    )


def history_json(history: tn.History) -> dict[str, Any]:
    """The History's fields, floats as JSON writes them (repr: exact)."""
    return {
        "train_loss": list(history.train_loss),
        "val_loss": list(history.val_loss),
        "train_metric": list(history.train_metric),
        "val_metric": list(history.val_metric),
        "best_epoch": history.best_epoch,
        "interrupted": history.interrupted,
        "count": None if history.state is None else history.state.count,
    }


def _stall(what: str, epoch: int) -> None:
    """Make the write of ``what`` at ``epoch`` stop halfway and wait to be killed."""
    real = _files.write_atomically
    manifests = [0]

    def stalling(path: Any, write: Callable[[BinaryIO], object]) -> None:
        name = str(path).rsplit("/", 1)[-1]
        if name == checkpoints.MANIFEST:
            manifests[0] += 1
        hit = (
            what == "params" and name.startswith(f"{epoch:06d}-") and name.endswith("-params.npz")
        ) or (what == "manifest" and name == checkpoints.MANIFEST and manifests[0] == epoch)

        def half(f: BinaryIO) -> None:
            f.write(b"PK\x03\x04 half a file")
            f.flush()
            print("stalled", flush=True)
            time.sleep(60)

        real(path, half if hit else write)

    _files.write_atomically = stalling
    io.write_atomically = stalling  # type: ignore[attr-defined]  # io imported the name


def _say(e: tn.Epoch) -> None:
    print(f"epoch {e.epoch}", flush=True)
    # Each epoch lasts at least this long, however fast the machine: a kill the test
    # sends a random moment after "epoch N" lands mid-run, never after the last epoch.
    time.sleep(0.03)


def main() -> None:
    out, folder, dtype_name, *rest = sys.argv[1:]
    dtype = {"float64": np.float64, "float32": np.float32}[dtype_name]
    if "--stall" in rest:
        i = rest.index("--stall")
        _stall(rest[i + 1], int(rest[i + 2]))
    if "--dask" in rest:
        net, history = run_dask(dtype, rest[rest.index("--dask") + 1], checkpoint=folder)
    elif "--interrupt" in rest:
        print("ready", flush=True)
        net, history = run(dtype, callbacks=(_say,), early_stopping=False, epochs=5000)
    else:
        net, history = run(dtype, checkpoint=folder, callbacks=(_say,))
    tn.save(out + ".npz", net)
    with open(out + ".json", "w", encoding="utf-8") as f:
        json.dump(history_json(history), f)


if __name__ == "__main__":
    main()
