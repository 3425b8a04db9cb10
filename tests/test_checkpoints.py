"""Checkpoints and resume (issue 18, items 1, 2, 3 and 7), with real processes and signals.

The oracle is always a run that was never stopped, with the same seed: a run killed
with SIGKILL (at a random epoch and moment, or inside a checkpoint write) and resumed
must end with the same params and History, bit for bit. For Ctrl-C the oracle is the
step-by-step run of `tn.train_step` with fit's batch order.
"""

import json
import os
import random
import re
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import typednet as tn
from typednet import checkpoints

from . import checkpoint_child as child
from .helpers import interrupted_cleanly

ROOT = Path(__file__).resolve().parent.parent
SRC = Path(tn.__file__).resolve().parent.parent
DTYPES = [np.float64, np.float32]


def _env() -> dict[str, str]:
    """The child imports this typednet (a worktree's src first) and this tests package."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(ROOT)])}


def _start(out: Path, folder: Path, dtype: type, *extra: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "tests.checkpoint_child", str(out), str(folder)]
    return subprocess.Popen(
        [*argv, np.dtype(dtype).name, *extra],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(process: subprocess.Popen[str], line: str) -> None:
    """Read the child's output until ``line``."""
    assert process.stdout is not None
    for got in process.stdout:
        if got.strip() == line:
            return
    raise AssertionError(f"the child ended before {line!r}: {process.communicate()[1]}")


def _kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL  # killed, not finished


def _finish(out: Path, folder: Path, dtype: type, *extra: str) -> tuple[tn.Network, dict[str, Any]]:
    """Run the child to its end; its params and History."""
    process = _start(out, folder, dtype, *extra)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return tn.load(f"{out}.npz"), json.loads(Path(f"{out}.json").read_text())


def _same(net: tn.Network, history: dict[str, Any], ref: tuple[tn.Network, tn.History]) -> None:
    """Bit for bit: every param, and every number of the History."""
    assert net.dtype == ref[0].dtype
    for p, q in zip(net.params, ref[0].params, strict=True):
        assert p.tobytes() == q.tobytes()
    assert history == child.history_json(ref[1])


@pytest.fixture(scope="module")
def reference() -> dict[type, tuple[tn.Network, tn.History]]:
    """The uninterrupted runs, in this process: early stopping ends them at epoch 17."""
    runs: dict[type, tuple[tn.Network, tn.History]] = {d: child.run(d) for d in DTYPES}
    for _, history in runs.values():
        assert (history.epochs, history.best_epoch, history.interrupted) == (17, 13, False)
    return runs


# --- 2. SIGKILL at a random point, then resume ---------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("dtype", DTYPES)
def test_a_run_killed_at_a_random_point_resumes_bit_for_bit(
    tmp_path: Path, dtype: type, seed: int, reference: dict[type, tuple[tn.Network, tn.History]]
) -> None:
    draw = random.Random(seed)
    # An epoch takes at least 30 ms (the child's callback waits): killed by epoch 15 of 17.
    epoch, pause = draw.randint(1, 12), draw.uniform(0.0, 0.06)
    folder, out = tmp_path / "run", tmp_path / "out"
    process = _start(out, folder, dtype)
    _wait_for(process, f"epoch {epoch}")
    time.sleep(pause)  # within the next epoch, or within its checkpoint write
    _kill(process)
    # At least the checkpoint before the epoch seen; later ones when the machine is slow to
    # deliver the kill; never the last (the child was killed, not finished).
    assert epoch - 1 <= checkpoints.saved_epoch(str(folder)) < 17
    net, history = _finish(out, folder, dtype)
    _same(net, history, reference[dtype])


@pytest.mark.parametrize("what", ["params", "manifest"])
def test_a_kill_inside_the_checkpoint_write_leaves_the_previous_checkpoint(
    tmp_path: Path, what: str, reference: dict[type, tuple[tn.Network, tn.History]]
) -> None:
    folder, out = tmp_path / "run", tmp_path / "out"
    process = _start(out, folder, np.float64, "--stall", what, "4")
    _wait_for(process, "stalled")  # epoch 4's params file, or checkpoint.json, half written
    _kill(process)
    half = [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
    assert len(half) == 1  # the killed writer's temporary file
    assert checkpoints.saved_epoch(str(folder)) == 3  # the previous checkpoint, whole
    net, history = child.run(np.float64, checkpoint=str(folder))
    _same(net, child.history_json(history), reference[np.float64])
    left = sorted(p.name for p in folder.iterdir())
    assert len(left) == 7 and left[-1] == "checkpoint.json"  # params, 2 slots, best x 3
    assert all(name.startswith("000017-") for name in left[:-1])  # the half file is gone


def test_a_finished_run_resumes_to_the_same_result_without_training(
    tmp_path: Path, reference: dict[type, tuple[tn.Network, tn.History]]
) -> None:
    folder = str(tmp_path / "run")
    child.run(np.float64, checkpoint=folder)
    before = sorted(os.listdir(folder))
    calls: list[int] = []
    net, history = child.run(np.float64, checkpoint=folder, callbacks=(lambda e: calls.append(1),))
    assert calls == []  # early stopping had ended it: no epoch runs
    assert sorted(os.listdir(folder)) == before
    _same(net, child.history_json(history), reference[np.float64])


@pytest.mark.parametrize("every", [1, 3])
@pytest.mark.parametrize("dtype", DTYPES)
def test_a_crash_in_a_callback_then_resume_in_process(
    tmp_path: Path, dtype: type, every: int, reference: dict[type, tuple[tn.Network, tn.History]]
) -> None:
    """Every k epochs: a crash loses the epochs since the last checkpoint, not the result."""
    folder = str(tmp_path / "run")

    def crash(e: tn.Epoch) -> None:
        if e.epoch == 8:
            raise RuntimeError("crashed")

    x, y, xv, yv = child.data(dtype)
    settings: dict[str, Any] = {
        "loss": tn.mse, "optimizer": child.OPTIMIZER, "epochs": child.EPOCHS,
        "batch_size": child.BATCH, "validation": (xv, yv), "metric": tn.mae, "patience": 4,
        "progress": False,
    }  # fmt: skip
    with pytest.raises(RuntimeError, match="crashed"):
        tn.fit(child.network(dtype), x, y, rng=np.random.default_rng(7), callbacks=[crash],
               checkpoint=tn.checkpoint(folder, every=every), **settings)  # fmt: skip
    assert checkpoints.saved_epoch(folder) == (7 if every == 1 else 6)
    net, history = tn.fit(
        child.network(dtype), x, y, rng=np.random.default_rng(12345),  # set from the file
        checkpoint=tn.checkpoint(folder, every=every), resume=folder, **settings,
    )  # fmt: skip
    _same(net, child.history_json(history), reference[dtype])


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A LocalCluster of 2 worker processes on 127.0.0.1: its scheduler's address."""
    import typednet.dask as tnd

    cluster = tnd.local_cluster(n_workers=2)
    with cluster:  # (entered as a value: pyright reads __enter__ as async-or-sync)
        yield cluster.scheduler_address


def _saved_epoch(folder: Path) -> int:
    try:
        return checkpoints.saved_epoch(str(folder))
    except FileNotFoundError:
        return 0


@pytest.mark.parametrize("seed", [0])
def test_a_dask_client_killed_mid_fit_resumes_bit_for_bit(
    tmp_path: Path, scheduler: str, seed: int
) -> None:
    """The client process dies; the cluster stays; a new client resumes."""
    want = child.run_dask(np.float64, scheduler)  # in this process, never stopped
    assert (want[1].epochs, want[1].best_epoch) == (9, 7)
    draw = random.Random(seed)
    epoch, pause = draw.randint(2, 6), draw.uniform(0.0, 0.1)  # an epoch takes ~0.1 s
    folder, out = tmp_path / "run", tmp_path / "out"
    process = _start(out, folder, np.float64, "--dask", scheduler)
    while _saved_epoch(folder) < epoch:
        assert process.poll() is None, process.communicate()[1]
        time.sleep(0.005)
    time.sleep(pause)
    _kill(process)
    net, history = _finish(out, folder, np.float64, "--dask", scheduler)
    _same(net, history, want)


OPTIMIZERS = [
    tn.sgd(0.05), tn.momentum(0.02), tn.nesterov(0.02), tn.adagrad(0.05), tn.rmsprop(0.005),
    tn.adadelta(1.0), tn.adam(0.01), tn.amsgrad(0.01), tn.adamax(0.01), tn.adamw(0.01),
]  # fmt: skip


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=lambda o: o.name)
def test_every_optimizer_and_layer_kind_resumes_bit_for_bit(
    tmp_path: Path, optimizer: tn.Optimizer
) -> None:
    """Batch norm's running statistics, a residual block, branches and dropout, and each
    optimizer's slots: a crash after epoch 4, resumed, is the run never stopped."""
    r = np.random.default_rng(0)
    block = tn.network(tn.dense(r, 8, 8, tn.relu)).then(tn.layer_norm(8))
    branches = tn.parallel(
        tn.network(tn.dense(r, 8, 2, tn.tanh)), tn.network(tn.dense(r, 8, 3, tn.relu))
    )
    net = (
        tn.network(tn.dense(r, 3, 8, tn.relu)).then(tn.batch_norm(8)).then(tn.residual(block))
        .then(tn.dropout(0.1)).then(branches).then(tn.dense(r, 5, 1, tn.identity))
    )  # fmt: skip
    x = r.normal(size=(3, 96))
    y = x[:1] * x[1:2]
    settings: dict[str, Any] = {
        "loss": tn.mse, "optimizer": optimizer, "batch_size": 16, "progress": False,
        "validation": (x[:, :20], y[:, :20]), "patience": 2, "epochs": 8,
    }  # fmt: skip
    want = tn.fit(net, x, y, rng=np.random.default_rng(3), **settings)

    def crash(e: tn.Epoch) -> None:
        if e.epoch == 5:
            raise RuntimeError("crashed")

    folder = str(tmp_path / "run")
    with pytest.raises(RuntimeError, match="crashed"):
        tn.fit(net, x, y, rng=np.random.default_rng(3), checkpoint=folder, callbacks=[crash],
               **settings)  # fmt: skip
    got = tn.fit(net, x, y, rng=np.random.default_rng(3), checkpoint=folder, resume=folder,
                 **settings)  # fmt: skip
    assert got[1] == want[1]
    assert got[1].state is not None and want[1].state is not None
    assert got[1].state.count == want[1].state.count
    for a, b in zip(got[1].state.columns, want[1].state.columns, strict=True):
        assert a.tobytes() == b.tobytes()
    for p, q in zip(got[0].params, want[0].params, strict=True):
        assert p.tobytes() == q.tobytes()
    norms = [
        (g.running_mean, w.running_mean)
        for g, w in zip(got[0].layers, want[0].layers, strict=True)
        if isinstance(g, tn.BatchNorm) and isinstance(w, tn.BatchNorm)
    ]
    assert len(norms) == 1 and norms[0][0].tobytes() == norms[0][1].tobytes()


# --- 7. Ctrl-C ----------------------------------------------------------------------------


def _steps(dtype: type, count: int) -> tn.Network:
    """The params after ``count`` steps, by tn.train_step in fit's order: each epoch a
    permutation of the columns drawn with the rng, then a step per batch of 16."""
    x, y, _, _ = child.data(dtype)
    rng = np.random.default_rng(7)
    net = child.network(dtype)
    state = child.OPTIMIZER.init(net)
    while state.count < count:
        order = rng.permutation(x.shape[1])
        for start in range(0, x.shape[1], child.BATCH):
            if state.count == count:
                break
            cols = order[start : start + child.BATCH]
            net, state, _ = tn.train_step(
                net, state, x[:, cols], y[:, cols], loss=tn.mse, optimizer=child.OPTIMIZER, rng=rng
            )
    return net


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ctrl_c_at_a_random_moment_returns_the_last_params_and_the_epochs_so_far(
    tmp_path: Path, seed: int
) -> None:
    out = tmp_path / "out"
    process = _start(out, tmp_path / "unused", np.float64, "--interrupt")
    _wait_for(process, "ready")
    time.sleep(random.Random(seed).uniform(0.0, 0.5))  # the run would take seconds
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert (process.returncode, err) == (0, "")  # fit returned: no traceback
    history = json.loads(Path(f"{out}.json").read_text())
    assert history["interrupted"] is True
    steps = history["count"]
    assert 0 <= steps < 5000 * 10
    assert steps // 10 - 1 <= len(history["train_loss"]) <= steps // 10  # whole epochs
    net = tn.load(f"{out}.npz")
    for p, q in zip(net.params, _steps(np.float64, steps).params, strict=True):
        assert p.tobytes() == q.tobytes()
    full = child.run(np.float64, early_stopping=False, epochs=len(history["train_loss"]))[1]
    assert history["train_loss"] == list(full.train_loss)


def test_ctrl_c_in_a_callback_returns_the_best_params_with_early_stopping(
    reference: dict[type, tuple[tn.Network, tn.History]],
) -> None:
    def interrupt(e: tn.Epoch) -> None:
        if e.epoch == 16:
            raise KeyboardInterrupt

    net, history = child.run(np.float64, callbacks=(interrupt,))
    assert history.interrupted and history.epochs == 15 and history.best_epoch == 13
    want = reference[np.float64]
    assert history.train_loss == want[1].train_loss[:15]
    for p, q in zip(net.params, want[0].params, strict=True):
        assert p.tobytes() == q.tobytes()  # epoch 13's, as the whole run keeps


# --- 3. refused checkpoints ---------------------------------------------------------------


@pytest.fixture
def saved(tmp_path: Path) -> Iterator[str]:
    """A folder with the checkpoint of 3 epochs of the float64 run."""
    folder = str(tmp_path / "run")

    def stop(e: tn.Epoch) -> bool:
        return e.epoch == 3

    child.run(np.float64, checkpoint=folder, callbacks=(stop,))
    yield folder


def _resume(folder: str, **change: Any) -> None:
    x, y, xv, yv = child.data(change.pop("dtype", np.float64))
    settings: dict[str, Any] = {
        "loss": tn.mse, "optimizer": child.OPTIMIZER, "epochs": 5, "batch_size": child.BATCH,
        "rng": np.random.default_rng(7), "validation": (xv, yv), "metric": tn.mae,
        "patience": 4, "progress": False, "resume": folder,
    }  # fmt: skip
    net = change.pop("net", None) or child.network(x.dtype.type)
    tn.fit(net, x, y, **{**settings, **change})


def test_another_architecture_is_a_shape_error_naming_the_layer(saved: str) -> None:
    rng = np.random.default_rng(0)
    other = tn.network(tn.dense(rng, 3, 16, tn.tanh)).then(tn.Dropout(0.2))
    other = other.then(tn.dense(rng, 16, 1, tn.identity))
    with pytest.raises(
        tn.ShapeError,
        match=r"^resume: checkpoint .*run is of another architecture: .*params\.npz: layer 1 "
        r"shape: the file has \(32, 3\), like= has \(16, 3\)$",
    ):
        _resume(saved, net=other)


def test_another_dtype_is_a_shape_error(saved: str) -> None:
    with pytest.raises(
        tn.ShapeError,
        match=r"^resume: checkpoint .*run is of a 'float64' network, but the network to train "
        r"is float32; resume with the network \(and data\) of the run that wrote it$",
    ):
        _resume(saved, dtype=np.float32)


def test_another_optimizer_is_named(saved: str) -> None:
    with pytest.raises(
        ValueError,
        match=r"^resume: checkpoint .*run was written with another optimizer: adam\(learning_rate="
        r"exponential_decay\(initial=0\.05, rate=0\.999, every=1, staircase=False\), b1=0\.9, "
        r"b2=0\.999, eps=1e-08\); this run has sgd\(learning_rate=0\.1\); resume with the "
        r"settings of the run that wrote it$",
    ):
        _resume(saved, optimizer=tn.sgd(0.1))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"batch_size": 8}, "another batch_size: 16; this run has 8"),
        ({"patience": None}, "another patience: 4; this run has null"),
        ({"metric": None}, "another metric: mae; this run has null"),
        ({"loss": tn.mae}, "another loss: mse; this run has mae"),
    ],
)
def test_another_run_is_named(saved: str, change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=rf"^resume: checkpoint .*run was written with {message};"):
        _resume(saved, **change)


def test_a_folder_with_a_checkpoint_is_not_written_over_without_resume(saved: str) -> None:
    with pytest.raises(
        ValueError,
        match=r"^fit: checkpoint .*run already holds a checkpoint; pass resume='.*run' to carry "
        r"on from it, or choose another folder$",
    ):
        _resume(saved, resume=None, checkpoint=saved)


def test_state_and_resume_together_are_refused(saved: str) -> None:
    net = child.network(np.float64)
    with pytest.raises(ValueError, match=r"^fit: pass state= or resume=, not both"):
        _resume(saved, net=net, state=child.OPTIMIZER.init(net))


def test_another_kind_of_generator_is_refused(saved: str) -> None:
    with pytest.raises(
        ValueError,
        match=r"^resume: checkpoint .*run was written with a 'Generator' of 'PCG64'; rng is a "
        r"RandomState of 'MT19937'",
    ):
        _resume(saved, rng=np.random.RandomState(0))


def test_a_folder_without_a_checkpoint_starts_from_the_network(tmp_path: Path) -> None:
    _, history = child.run(np.float64, checkpoint=str(tmp_path / "new"))
    assert history.epochs == 17 and checkpoints.saved_epoch(str(tmp_path / "new")) == 17


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _device(path: Path) -> None:
    path.unlink()
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 5))  # /dev/zero's numbers


@pytest.mark.parametrize("make", [_fifo, _device])
def test_a_fifo_or_device_for_the_manifest_is_refused_unread(saved: str, make: Any) -> None:
    make(Path(saved, "checkpoint.json"))
    with pytest.raises(
        ValueError,
        match=r"^resume: checkpoint .*run: checkpoint\.json is not a regular file; refused$",
    ):
        _resume(saved)


@pytest.mark.parametrize("make", [_fifo, _device])
def test_a_fifo_or_device_for_a_network_file_is_refused_unread(saved: str, make: Any) -> None:
    params = next(p for p in Path(saved).iterdir() if p.name.endswith("-slot1.npz"))
    make(params)
    with pytest.raises(
        ValueError,
        match=r"^resume: checkpoint .*run: .*-slot1\.npz: not a regular file \(a FIFO, socket or "
        r"device\); expected an \.npz archive$",
    ):
        _resume(saved)


def test_a_fifo_for_the_folder_is_refused_before_training(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "run")
    with pytest.raises(
        OSError, match=r"^fit: checkpoint .*run: not a folder; nothing was written$"
    ):
        _resume(str(tmp_path / "elsewhere"), checkpoint=str(tmp_path / "run"))


def _edit(folder: str, change: Any) -> None:
    path = Path(folder, "checkpoint.json")
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m["files"].update(params="../../escape.npz"),
         r"run: a file name must be a checkpoint's, got '\.\./\.\./escape\.npz'$"),
        (lambda m: m.update(version=2),
         r"run: unsupported checkpoint version 2 \(this typednet reads version 1\)$"),
        (lambda m: m["history"]["train_loss"].pop(),
         r"run history train_loss: expected 3 numbers, got 2$"),
        (lambda m: m["history"]["val_loss"].__setitem__(0, "NaN"),
         r"run history val_loss\[0\]: expected a finite number, got 'NaN'$"),
        (lambda m: m["rng"]["state"].update(state={"array": "uint64", "values": [1] * 5000}),
         r"run rng state: an array of at most 1024 words expected$"),
        (lambda m: m["rng"]["state"]["state"].update(state=-1),
         r"run rng: the saved state is not one of PCG64 \("),
        (lambda m: m["best"].update(epoch=9),
         r"run best epoch: expected 1 to 3, got 9$"),
        (lambda m: m.update(epoch=True), r"run epoch: expected a count >= 0, got true$"),
        (lambda m: m.update(extra=1), r"run checkpoint\.json: unexpected key 'extra'$"),
    ],
)  # fmt: skip
def test_a_tampered_manifest_is_refused_naming_what(saved: str, change: Any, message: str) -> None:
    _edit(saved, change)
    with pytest.raises(ValueError, match=r"^resume: checkpoint .*" + message):
        _resume(saved)


def test_a_manifest_beyond_the_size_limit_is_refused_unread(saved: str) -> None:
    with open(Path(saved, "checkpoint.json"), "r+b") as f:
        f.truncate(64 * 2**20 + 1)  # sparse: nothing is written
    with pytest.raises(
        ValueError, match=r"checkpoint\.json holds 67108865 bytes, more than 67108864$"
    ):
        _resume(saved)


def test_a_manifest_that_is_not_json_is_refused(saved: str) -> None:
    Path(saved, "checkpoint.json").write_bytes(b"\xff\x00 not json")
    with pytest.raises(ValueError, match=r"run: checkpoint\.json is not valid JSON$"):
        _resume(saved)


def test_the_checkpoint_argument_is_checked() -> None:
    with pytest.raises(ValueError, match=r"^checkpoint: every must be a positive int, got 0$"):
        tn.checkpoint("run", every=0)
    with pytest.raises(
        TypeError, match=r"^fit: checkpoint must be a folder's path or tn\.checkpoint"
    ):
        _resume("unused", resume=None, checkpoint=3)


def test_the_manifest_holds_json_safe_rng_state_and_no_pickle(saved: str) -> None:
    manifest = json.loads(Path(saved, "checkpoint.json").read_text())
    state = np.random.default_rng(7).bit_generator.state
    assert manifest["rng"]["kind"] == "Generator"
    assert manifest["rng"]["state"]["bit_generator"] == state["bit_generator"] == "PCG64"
    assert manifest["epoch"] == 3 and manifest["count"] == 30 and manifest["stopped"] is True
    for name in os.listdir(saved):
        if name.endswith(".npz"):
            with np.load(Path(saved, name), allow_pickle=False) as archive:
                assert all(archive[k].dtype != object for k in archive.files)
    assert re.fullmatch(r"000003-[0-9a-f]{8}-params\.npz", manifest["files"]["params"])


# --- the command line: --checkpoint DIR, --resume, Ctrl-C ------------------------------------

TYPEDNET = Path(sys.executable).with_name("typednet")


@pytest.fixture(scope="module")
def wines(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 400 white wines: quick runs."""
    from .test_wine_data import WHITE

    path = tmp_path_factory.mktemp("data") / "small.csv"
    path.write_text("\n".join(WHITE.read_text(encoding="ascii").splitlines()[:401]) + "\n")
    return path


def _wine_argv(wines: Path, out: Path, *extra: str) -> list[str]:
    return ["train-wine", "--data", str(wines), "--out", str(out), "--quiet", *extra]


def _wine_result(out: Path) -> tuple[list[bytes], str]:
    """The saved network's params, and metrics.json."""
    net = tn.load(out / "network.npz")
    return [p.tobytes() for p in net.params], (out / "metrics.json").read_text()


def test_cli_a_killed_train_wine_resumes_to_the_same_run(wines: Path, tmp_path: Path) -> None:
    from typednet.apps.cli import main

    assert main(_wine_argv(wines, tmp_path / "want", "--epochs", "12")) == 0
    folder = tmp_path / "checkpoint"
    argv = _wine_argv(wines, tmp_path / "got", "--epochs", "12", "--checkpoint", str(folder))
    process = subprocess.Popen(
        [str(TYPEDNET), *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    epoch = random.Random(0).randint(2, 8)
    while _saved_epoch(folder) < epoch:
        assert process.poll() is None, process.communicate()[1]
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL and not (tmp_path / "got").exists()
    assert main([*argv, "--resume"]) == 0
    assert _wine_result(tmp_path / "got") == _wine_result(tmp_path / "want")


# From 0.1 s on: before that, Python itself is starting (typednet_cli's docstring); then
# typednet is imported (to about 0.5 s), the data read, and from about 1 s it trains.
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_cli_ctrl_c_at_a_random_moment_is_one_line_and_130_then_resume_finishes(
    tmp_path: Path, seed: int
) -> None:
    delay = random.Random(seed).uniform(0.1, 2.0)
    folder, out = tmp_path / "checkpoint", tmp_path / "out"
    # All 4898 white wines one at a time: an epoch takes a good part of a second and early
    # stopping waits several, so it is still training at 2 s; then a short run to finish.
    argv = ["train-wine", "--out", str(out), "--quiet", "--batch-size", "1", "--epochs", "100000",
            "--checkpoint", str(folder), "--resume"]  # fmt: skip
    process = subprocess.Popen(
        [str(TYPEDNET), *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    with pytest.raises(subprocess.TimeoutExpired):  # still running
        process.wait(timeout=delay)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert interrupted_cleanly(process.returncode, err), (delay, process.returncode, err)
    assert not out.exists()  # nothing written but the checkpoint
    assert sorted(p.name for p in tmp_path.iterdir()) in ([], ["checkpoint"])
    if seed == 0:  # and the same command, with an end in sight, finishes the run
        from typednet.apps.cli import main

        done = (
            checkpoints.saved_epoch(str(folder)) if (folder / checkpoints.MANIFEST).exists() else 0
        )
        argv[argv.index("100000")] = str(done + 2)
        assert main(argv) == 0
        assert (out / "network.npz").is_file()


def test_cli_resume_needs_a_checkpoint_folder(
    wines: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from typednet.apps.cli import main

    assert main(_wine_argv(wines, tmp_path / "out", "--resume")) == 2
    assert capsys.readouterr().err == (
        "typednet: error: argument --resume: needs --checkpoint DIR, the folder to resume from\n"
    )


def test_cli_a_checkpoint_is_not_written_over_without_resume(
    wines: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from typednet.apps.cli import main

    folder = tmp_path / "checkpoint"
    argv = _wine_argv(wines, tmp_path / "out", "--epochs", "2", "--checkpoint", str(folder))
    assert main(argv) == 0
    before = sorted(os.listdir(folder))
    capsys.readouterr()
    assert main(argv) == 1
    assert capsys.readouterr().err == (
        f"typednet: error: --checkpoint {folder} holds a checkpoint already; add --resume to "
        "carry on from it, or choose another folder\n"
    )
    assert sorted(os.listdir(folder)) == before


# From 0.1 s on, as above; `python -m typednet` imports the package before its __main__.
@pytest.mark.parametrize("seed", [0, 1])
def test_cli_python_m_typednet_ctrl_c_from_start_up_on_is_one_line(
    wines: Path, tmp_path: Path, seed: int
) -> None:
    delay = random.Random(seed).uniform(0.1, 0.6)  # while typednet is imported
    argv = _wine_argv(wines, tmp_path / "out", "--epochs", "40")
    process = subprocess.Popen(
        [sys.executable, "-m", "typednet", *argv],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    with pytest.raises(subprocess.TimeoutExpired):
        process.wait(timeout=delay)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert interrupted_cleanly(process.returncode, err), (delay, process.returncode, err)
    assert list(tmp_path.iterdir()) == []
