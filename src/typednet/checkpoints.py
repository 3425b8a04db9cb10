"""Checkpoints of a training run: what `typednet.fit` needs to carry on after a crash.

``fit(..., checkpoint=tn.checkpoint("run", every=1), resume="run")`` writes, at the end
of every ``every``-th epoch (and of the last one), into the folder ``run``:

- one file per network, each written by `typednet.save` (the pickle-free .npz format):
  the params, each slot of the optimizer's state (Adam's ``m`` and ``v``), and with
  early stopping the best epoch's params and slots;
- ``checkpoint.json``, written last, which names those files and holds the rest: the
  epoch, the optimizer's step count (so a learning-rate schedule's position), the
  random generator's state (`numpy.random.Generator.bit_generator.state`, as JSON), the
  History so far, the best epoch's validation loss, and the settings a resumed run
  must share (the number of columns, the batch size, the loss, the optimizer...).

Every file is written atomically (`typednet._files.write_atomically`), and a new
checkpoint's files get new names: until ``checkpoint.json`` is replaced, in one rename,
the previous checkpoint is whole; the files it no longer names are removed after.
A process killed at any moment (kill -9 included) leaves the last checkpoint loadable.

Reading checks everything before any of it is used: ``checkpoint.json`` must be a
regular file of at most 64 MiB of JSON whose every value is checked, the files it
names must be plain names in the folder, and each network is read by `typednet.load`
with ``like=`` the network being trained (no pickle, bounded sizes, shapes and dtype
checked). A checkpoint of another architecture, dtype, optimizer or run is an error
that says which.
"""

import contextlib
import json
import math
import os
import re
import secrets
import stat
from dataclasses import dataclass
from typing import Any, Generic, Literal, cast

import numpy as np
from typing_extensions import TypeVar

from . import _files, _json, _store
from ._validate import Rng
from ._validate import positive_int as _positive_int
from .io import load, save
from .network import Network
from .optim import Optimizer, OptState
from .shapes import ShapeError

__all__ = ["Checkpoint", "checkpoint"]

A = TypeVar("A", default=int)
B = TypeVar("B", default=int)

MANIFEST = "checkpoint.json"
"""The file that makes a folder a checkpoint: written last, it names the others."""
_FORMAT = "typednet-checkpoint"
_VERSION = 1
_MAX_MANIFEST_BYTES = 64 * 2**20
"""The most JSON a checkpoint.json may hold (about a million epochs of History)."""
_MAX_RNG_WORDS = 1024
"""The longest array in a saved generator state (MT19937 has 624 words)."""
_FILE = re.compile(r"[0-9]{6,9}-[0-9a-f]{8}-(params|slot[0-9]|best-params|best-slot[0-9])\.npz")
"""The names of a checkpoint's network files: ``{epoch}-{random}-{what}.npz``."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Where and how often `typednet.fit` writes its checkpoints; see `checkpoint`.

    Attributes:
        path: the folder (created if missing).
        every: write after every ``every``-th epoch, and after the last one.
    """

    path: str
    every: int = 1


def checkpoint(path: str | os.PathLike[str], *, every: int = 1) -> Checkpoint:
    """Ask `typednet.fit` to write a checkpoint into the folder ``path``.

    Args:
        path: the folder; created if missing. A folder that already holds a checkpoint
            is continued only with ``fit(..., resume=path)``; without it fit refuses to
            write over it.
        every: write one after every ``every``-th epoch, and after the last epoch (also
            when training stops early).

    Returns:
        A `Checkpoint` to pass as ``fit(..., checkpoint=...)``.

    Raises:
        ValueError: ``every`` is not a positive int.
        TypeError: ``path`` is not a str or a path.

    Examples:
        >>> import typednet as tn
        >>> tn.checkpoint("runs/wine", every=5)
        Checkpoint(path='runs/wine', every=5)
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"checkpoint: path must be a folder's path, got {type(path).__name__}")
    return Checkpoint(os.fspath(path), _positive_int("checkpoint", "every", every))


# --- what a run has done --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Record:
    """One epoch's line of the History (None where fit records nothing)."""

    train_loss: float
    val_loss: float | None
    train_metric: float | None
    val_metric: float | None


@dataclass(frozen=True, slots=True)
class Best(Generic[A, B]):
    """With early stopping: the epoch with the lowest validation loss, and its params."""

    val_loss: float
    epoch: int
    net: Network[A, B]
    state: OptState[A, B]


@dataclass(frozen=True, slots=True)
class Progress(Generic[A, B]):
    """What a run has done, replaced whole at the end of each epoch: its records, its
    best epoch and whether it has stopped (early stopping or a callback)."""

    records: tuple[Record, ...] = ()
    best: Best[A, B] | None = None
    stopped: bool = False

    @property
    def epoch(self) -> int:
        """How many epochs are done."""
        return len(self.records)


Setting = int | str | bool | None
"""A value of `Settings`: what a resumed run must share with the checkpoint."""


def settings(
    columns: int,
    batch_size: int,
    loss: str,
    optimizer: Optimizer,
    penalty: object,
    metric: str | None,
    validation: bool,
    patience: int | None,
    mode: str,
) -> dict[str, Setting]:
    """The settings a run is resumed with only if they are the same: the rest (epochs,
    progress, callbacks) may change between the runs."""
    return {
        "mode": mode,
        "columns": columns,
        "batch_size": batch_size,
        "loss": loss,
        "optimizer": _shown(optimizer),
        "penalty": None if penalty is None else _shown(penalty),
        "metric": metric,
        "validation": validation,
        "patience": patience,
    }


def _setting(value: object) -> str:
    """A saved setting for a message: a string as it is (clipped), anything else as JSON."""
    if isinstance(value, str):
        return value if len(value) <= 200 else f"{value[:200]}..."
    return _json.brief(value)


def _shown(value: object) -> str:
    """A repr without memory addresses (a schedule that is a function), to compare."""
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


def check(
    saving: object, resume: object, state: object, where: str
) -> tuple[Checkpoint | None, str | None]:
    """`fit`'s ``checkpoint`` (``saving``) and ``resume``, checked before training: the
    checkpoint to write and the folder to resume from. A folder that holds a checkpoint
    is written only when resuming from it."""
    if isinstance(saving, str | os.PathLike):
        saving = checkpoint(cast("str | os.PathLike[str]", saving))
    if saving is not None and not isinstance(saving, Checkpoint):
        raise TypeError(
            f"{where}: checkpoint must be a folder's path or tn.checkpoint(path, every=...), "
            f"got {type(saving).__name__}"
        )
    if resume is not None and not isinstance(resume, str | os.PathLike):
        raise TypeError(
            f"{where}: resume must be a checkpoint folder's path, got {type(resume).__name__}"
        )
    folder = None if resume is None else os.fspath(cast("str | os.PathLike[str]", resume))
    if folder is not None and state is not None:
        raise ValueError(
            f"{where}: pass state= or resume=, not both (a checkpoint holds the state)"
        )
    if saving is not None:
        path = saving.path
        if os.path.lexists(path) and not os.path.isdir(path):
            raise OSError(f"{where}: checkpoint {path}: not a folder; nothing was written")
        if exists(path) and not (folder is not None and _same(path, folder)):
            raise ValueError(
                f"{where}: checkpoint {path} already holds a checkpoint; pass resume={path!r} to "
                "carry on from it, or choose another folder"
            )
    return saving, folder


def _same(a: str, b: str) -> bool:
    """Whether two paths name the same folder."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


# --- writing ----------------------------------------------------------------------------


def write(
    folder: str,
    run_settings: dict[str, Setting],
    trained: tuple[Network[A, B], OptState[A, B]],
    progress: Progress[A, B],
    rng: Rng,
) -> None:
    """Write a checkpoint of ``progress`` into ``folder``: the networks first, then
    `MANIFEST`, atomically; then remove the files of the checkpoint it replaced."""
    _make_folder(folder)
    tag = f"{progress.epoch:06d}-{secrets.token_hex(4)}"
    net, state = trained
    files: dict[str, object] = {
        "params": _save_net(folder, f"{tag}-params.npz", net),
        "slots": _save_slots(folder, f"{tag}-slot", state),
    }
    best: dict[str, object] | None = None
    if progress.best is not None:
        best = {
            "val_loss": float(progress.best.val_loss),
            "epoch": progress.best.epoch,
            "count": progress.best.state.count,
            "params": _save_net(folder, f"{tag}-best-params.npz", progress.best.net),
            "slots": _save_slots(folder, f"{tag}-best-slot", progress.best.state),
        }
    records = progress.records
    manifest = {
        "format": _FORMAT,
        "version": _VERSION,
        "dtype": net.dtype.name,
        "settings": run_settings,
        "epoch": progress.epoch,
        "stopped": progress.stopped,
        "count": state.count,
        "slot_names": list(_slot_names(state)),
        "rng": _rng_state(rng),
        "history": {
            "train_loss": [float(r.train_loss) for r in records],
            "val_loss": [float(r.val_loss) for r in records if r.val_loss is not None],
            "train_metric": [float(r.train_metric) for r in records if r.train_metric is not None],
            "val_metric": [float(r.val_metric) for r in records if r.val_metric is not None],
        },
        "best": best,
        "files": files,
    }
    text = json.dumps(manifest).encode()
    _files.write_atomically(os.path.join(folder, MANIFEST), lambda f: f.write(text))
    _remove_unnamed(folder, _named(files, best))


def _make_folder(folder: str) -> None:
    try:
        os.makedirs(folder, exist_ok=True)
    except FileExistsError:
        raise OSError(f"checkpoint {folder}: not a folder; nothing was written") from None
    if not os.path.isdir(folder):
        raise OSError(f"checkpoint {folder}: not a folder; nothing was written")


def _save_net(folder: str, name: str, net: Network[Any, Any]) -> str:
    save(os.path.join(folder, name), net)
    return name


def _save_slots(folder: str, prefix: str, state: OptState[Any, Any]) -> list[str]:
    return [_save_net(folder, f"{prefix}{i}.npz", s) for i, s in enumerate(state.slots)]


def _slot_names(state: OptState[Any, Any]) -> tuple[str, ...]:
    return tuple(f"slot{i}" for i in range(len(state.columns)))


def _named(files: dict[str, object], best: dict[str, object] | None) -> set[str]:
    """The file names a manifest's ``files`` and ``best`` hold."""
    names: set[str] = set()
    for entry in (files, best):
        if entry is not None:
            names |= {cast(str, entry["params"]), *cast("list[str]", entry["slots"])}
    return names


def _remove_unnamed(folder: str, keep: set[str]) -> None:
    """Remove the network files (and killed writers' temporary files) of checkpoints
    that `MANIFEST` no longer names. Best effort: a file in use stays."""
    names: list[str] = []
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        names = [entry.name for entry in entries]
    for name in names:
        if _FILE.fullmatch(name) and name not in keep:
            path = os.path.join(folder, name)
            with contextlib.suppress(OSError):
                if stat.S_ISREG(os.lstat(path).st_mode):
                    os.unlink(path)
        elif name.startswith(".") and name.endswith(".tmp"):
            base = name[1:].rsplit(".", 2)[0]
            if _FILE.fullmatch(base) and base not in keep:
                _files.remove_stale(folder, base)


def _rng_state(rng: Rng) -> dict[str, object]:
    """The generator's state as JSON: its arrays (MT19937's key) as lists of ints."""
    if isinstance(rng, np.random.Generator):
        kind, state = "Generator", rng.bit_generator.state
    else:
        kind, state = "RandomState", rng.get_state(legacy=False)
    return {"kind": kind, "state": _plain(state)}


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in cast("dict[object, object]", value).items()}
    if isinstance(value, np.ndarray):
        array = cast("np.ndarray[Any, np.dtype[Any]]", value)
        return {"array": array.dtype.name, "values": [int(v) for v in array.ravel()]}
    if isinstance(value, np.integer | np.floating):
        return value.item()
    return value


# --- reading ----------------------------------------------------------------------------


def exists(folder: str) -> bool:
    """Whether ``folder`` holds a checkpoint (any entry named `MANIFEST`)."""
    return os.path.lexists(os.path.join(folder, MANIFEST))


def saved_epoch(folder: str) -> int:
    """The epoch of the checkpoint in ``folder``, read and checked (for messages)."""
    return _epoch(_manifest(folder), folder)


def read(
    folder: str,
    like: Network[A, B],
    optimizer: Optimizer,
    run_settings: dict[str, Setting],
    rng: Rng,
) -> tuple[tuple[Network[A, B], OptState[A, B]], Progress[A, B]]:
    """The params, the optimizer state and the progress saved in ``folder``, checked
    against the run being resumed; ``rng`` is set to the saved state."""
    top = _manifest(folder)
    where = f"resume: checkpoint {folder}"
    epoch = _epoch(top, folder)
    dtype = top["dtype"]
    if dtype != like.dtype.name:
        raise ShapeError(
            f"{where} is of a {_json.brief(dtype)} network, but the network to train is "
            f"{like.dtype.name}; resume with the network (and data) of the run that wrote it"
        )
    saved = _json.object_(top["settings"], tuple(run_settings), f"{where} settings")
    for key, want in run_settings.items():
        if saved[key] != want:
            raise ValueError(
                f"{where} was written with another {key}: {_setting(saved[key])}; this run "
                f"has {_setting(want)}; resume with the settings of the run that wrote it"
            )
    slot_names = [f"slot{i}" for i in range(len(optimizer.slot_names))]
    if top["slot_names"] != slot_names:
        raise ValueError(f"{where}: slot_names: expected {slot_names}, got a different list")
    count = _count(top["count"], f"{where} count")
    files = _json.object_(top["files"], ("params", "slots"), f"{where} files")
    net = _load_net(folder, files["params"], like)
    state = OptState(count=count, columns=_load_slots(folder, files["slots"], net), template=net)
    best = _best(folder, top["best"], like, epoch)
    stopped = top["stopped"]
    if not isinstance(stopped, bool):
        raise ValueError(f"{where} stopped: expected true or false, got {_json.brief(stopped)}")
    records = _records(top["history"], epoch, run_settings, where)
    _set_rng(rng, top["rng"], where)
    return (net, state), Progress(records=records, best=best, stopped=stopped)


_KEYS = (
    "format",
    "version",
    "dtype",
    "settings",
    "epoch",
    "stopped",
    "count",
    "slot_names",
    "rng",
    "history",
    "best",
    "files",
)


def _manifest(folder: str) -> dict[str, object]:
    """`MANIFEST`'s JSON, read from a regular file (a FIFO or a device is refused
    unopened for reading) of at most `_MAX_MANIFEST_BYTES`, with its keys checked."""
    path = os.path.join(folder, MANIFEST)
    where = f"resume: checkpoint {folder}"
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a device is refused unopened
            raise ValueError(f"{where}: {MANIFEST} is not a regular file; refused")
        # O_NONBLOCK: a FIFO put there meanwhile is refused below, without a wait.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise FileNotFoundError(f"{where}: no {MANIFEST} in it") from None
    with os.fdopen(fd, "rb") as f:
        found = os.fstat(f.fileno())
        if not stat.S_ISREG(found.st_mode):
            raise ValueError(f"{where}: {MANIFEST} is not a regular file; refused")
        if found.st_size > _MAX_MANIFEST_BYTES:
            raise ValueError(
                f"{where}: {MANIFEST} holds {found.st_size} bytes, more than {_MAX_MANIFEST_BYTES}"
            )
        raw = f.read(_MAX_MANIFEST_BYTES + 1)
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ValueError(f"{where}: {MANIFEST} is not valid JSON") from None
    top = cast("dict[str, object]", value) if isinstance(value, dict) else {}
    if top.get("format") != _FORMAT:
        raise ValueError(f"{where}: {MANIFEST} is not a typednet checkpoint")
    if type(top.get("version")) is not int or top.get("version") != _VERSION:
        raise ValueError(
            f"{where}: unsupported checkpoint version {_json.brief(top.get('version'))} "
            f"(this typednet reads version {_VERSION})"
        )
    return _json.object_(top, _KEYS, f"{where} {MANIFEST}")


def _count(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{where}: expected a count >= 0, got {_json.brief(value)}")
    return value


def _epoch(top: dict[str, object], folder: str) -> int:
    return _count(top["epoch"], f"resume: checkpoint {folder} epoch")


def _load_net(folder: str, name: object, like: Network[A, B]) -> Network[A, B]:
    """A network file the manifest names: a plain name in ``folder``, read by `load`."""
    where = f"resume: checkpoint {folder}"
    if not (isinstance(name, str) and _FILE.fullmatch(name)):
        raise ValueError(f"{where}: a file name must be a checkpoint's, got {_json.brief(name)}")
    try:
        return load(os.path.join(folder, name), like=like)
    except ShapeError as exc:
        raise ShapeError(f"{where} is of another architecture: {exc}") from None
    except ValueError as exc:
        if "like=" in str(exc):
            raise ValueError(f"{where} is of another architecture: {exc}") from None
        raise ValueError(f"{where}: {exc}") from None


def _load_slots(folder: str, names: object, net: Network[A, B]) -> tuple[Any, ...]:
    if not isinstance(names, list):
        raise ValueError(f"resume: checkpoint {folder} slots: expected a list of file names")
    return tuple(_store.column(_load_net(folder, n, net)) for n in cast("list[object]", names))


def _best(folder: str, value: object, like: Network[A, B], epoch: int) -> Best[A, B] | None:
    if value is None:
        return None
    where = f"resume: checkpoint {folder} best"
    saved = _json.object_(value, ("val_loss", "epoch", "count", "params", "slots"), where)
    best_epoch = _count(saved["epoch"], f"{where} epoch")
    if not 1 <= best_epoch <= epoch:
        raise ValueError(f"{where} epoch: expected 1 to {epoch}, got {best_epoch}")
    net = _load_net(folder, saved["params"], like)
    state = OptState(
        count=_count(saved["count"], f"{where} count"),
        columns=_load_slots(folder, saved["slots"], net),
        template=net,
    )
    return Best(_json.number(saved["val_loss"], f"{where} val_loss"), best_epoch, net, state)


def _records(
    value: object, epoch: int, run_settings: dict[str, Setting], where: str
) -> tuple[Record, ...]:
    keys = ("train_loss", "val_loss", "train_metric", "val_metric")
    saved = _json.object_(value, keys, f"{where} history")
    metric, validation = run_settings["metric"] is not None, bool(run_settings["validation"])
    kept = {
        "train_loss": True,
        "val_loss": validation,
        "train_metric": metric,
        "val_metric": metric and validation,
    }
    columns: dict[str, list[float | None]] = {}
    for key in keys:
        want = epoch if kept[key] else 0
        finite: Literal[True, False] = key.endswith("loss")
        got = _floats(saved[key], want, finite, f"{where} history {key}")
        columns[key] = list(got) if kept[key] else [None] * epoch
    return tuple(
        Record(cast(float, a), b, c, d)
        for a, b, c, d in zip(*(columns[key] for key in keys), strict=True)
    )


def _floats(value: object, count: int, finite: bool, where: str) -> list[float]:
    """A list of ``count`` numbers (finite ones when ``finite``; a metric may be NaN)."""
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a list of {count} numbers, got {_json.brief(value)}")
    items = cast("list[object]", value)
    if len(items) != count:
        raise ValueError(f"{where}: expected {count} numbers, got {len(items)}")
    if finite:
        return _json.numbers(items, count, where)
    for i, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, int | float):
            raise ValueError(f"{where}[{i}]: expected a number, got {_json.brief(item)}")
    return [float(cast(float, item)) for item in items]


def _set_rng(rng: Rng, value: object, where: str) -> None:
    """Set ``rng`` to the saved state, which must be of the same kind and bit generator."""
    saved = _json.object_(value, ("kind", "state"), f"{where} rng")
    state: object = _unplain(saved["state"], f"{where} rng state")
    found = (
        cast("dict[str, object]", state).get("bit_generator") if isinstance(state, dict) else None
    )
    if isinstance(rng, np.random.Generator):
        kind, theirs = "Generator", str(rng.bit_generator.state["bit_generator"])
    else:
        kind, theirs = "RandomState", "MT19937"
    if saved["kind"] != kind or found != theirs:
        raise ValueError(
            f"{where} was written with a {_json.brief(saved['kind'])} of {_json.brief(found)}; "
            f"rng is a {kind} of {theirs!r}: resume with the kind of generator of the run "
            "that wrote it"
        )
    try:
        if isinstance(rng, np.random.Generator):
            rng.bit_generator.state = cast("dict[str, Any]", state)
        else:
            rng.set_state(cast("dict[str, Any]", state))
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise ValueError(f"{where} rng: the saved state is not one of {theirs} ({exc})") from None


def _unplain(value: object, where: str) -> Any:
    """`_plain` undone: JSON numbers, strings and objects, arrays of unsigned words."""
    if isinstance(value, dict):
        saved = cast("dict[str, object]", value)
        if set(saved) == {"array", "values"}:
            dtype, values = saved["array"], saved["values"]
            if dtype not in ("uint32", "uint64") or not isinstance(values, list):
                raise ValueError(f"{where}: an array of uint32 or uint64 words expected")
            words = cast("list[object]", values)
            limit = np.iinfo(np.dtype(dtype)).max
            if len(words) > _MAX_RNG_WORDS or not all(
                type(w) is int and 0 <= w <= limit for w in words
            ):
                raise ValueError(f"{where}: an array of at most {_MAX_RNG_WORDS} words expected")
            return np.array(words, dtype=dtype)
        return {k: _unplain(v, where) for k, v in saved.items()}
    if isinstance(value, bool | int | str) or (isinstance(value, float) and math.isfinite(value)):
        return value
    raise ValueError(f"{where}: unexpected {_json.brief(value)}")
