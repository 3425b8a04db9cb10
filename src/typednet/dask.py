"""Past one machine: the same pure kernels on the column chunks of Dask arrays.

Samples are columns, so a data set of n samples is a Dask array ``(features, n)``
chunked along axis 1, and every function here works chunk by chunk:

- `forward` is lazy: a Dask array ``(outputs, n)`` with the input's column chunks, for
  inputs larger than memory (``da.from_zarr``, ``da.from_npy_stack``).
- `value_and_grad` is a map-reduce: each chunk's loss and gradient, weighted by its
  number of columns and summed; it equals `typednet.value_and_grad` on all the columns.
- `fit` trains with the data kept on the workers (in their memory): only params and
  gradients travel. The default *exact* mode draws each mini-batch as `typednet.fit`
  does and takes one optimizer step on the gradient combined from the workers holding
  its columns, so it gives `typednet.fit`'s result (up to rounding). ``sync_every=k`` is
  *local SGD*: each worker takes k steps on its own shard, then params and optimizer
  state are averaged. ``stream=True`` keeps no data: each chunk is computed (read or
  generated) when its turn comes, for training sets larger than the cluster's memory.

A network over named inputs (`typednet.inputs`) takes a mapping from each name to its
Dask array, every array chunked alike along the columns: each column chunk then travels
as a mapping of the inputs' blocks, and the results are those of one array.

Everything runs on a ``dask.distributed`` `Client`: the one passed as ``client=``, a
scheduler address (see `connect`), the current default client, or else a
`local_cluster` started for the call (worker processes on 127.0.0.1, no dashboard) and
closed after it.
A task lost with its worker is re-run elsewhere; every kernel is pure, so the result is
the same. The network is sent once per call, not once per chunk: in `forward` and
`value_and_grad` it is one key of the graph; a `fit` step has one task per worker
holding columns of its batch, so the params reach each such worker once per step.

The data are checked as `typednet.value_and_grad` and `typednet.fit` check them: shapes
and dtypes from the arrays' metadata, then, chunk by chunk where the chunks are, NaN and
inf and the targets the loss takes (an error names the chunk's columns, as
``fit (columns 1024:2048): ...``), and `fit` checks the network's outputs on the first
columns against what the loss needs.

`fit` trains a network with dropout: each task draws its masks from a random stream
keyed by the seed and its place in the run (see `fit`), so a run is reproducible
whatever the scheduling. `value_and_grad` refuses such a network (it takes no ``rng``);
`forward`, at inference, takes it.

Install with ``pip install 'typednet[dask]'``.
"""

# dask and distributed leave most methods unannotated (Client.gather, Array.rechunk,
# from_array's chunks): their members and results are "unknown" to pyright's strict mode
# whatever the call passes (mypy's untyped_calls_exclude says the same). The results are
# annotated where they land.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false
# pyright: reportUnknownArgumentType=false
# X and Y are the Dask arrays, named as in dask-ml and scikit-learn, not constants.
# pyright: reportConstantRedefinition=false

import functools
import math
import os
import typing
from collections.abc import Callable, Generator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Never, TypeVar, cast

import numpy as np
from tqdm.auto import tqdm

try:
    import dask.array as da
    from dask.delayed import Delayed, delayed
    from distributed import Client, Future, KilledWorker, LocalCluster, default_client
    from distributed.client import FutureCancelledError
except ImportError as error:
    raise ImportError(
        f"typednet.dask needs dask and distributed 2026.1.1 or newer ({error}); "
        "pip install 'typednet[dask]'"
    ) from error

from . import _columns as _cols
from . import _kernels, _store, _validate, checkpoints
from .activations import Activation
from .checkpoints import Best, Checkpoint, Progress, Record
from .forward import forward as _forward_checked
from .grad import _check_result
from .layers import _blocks as _block_kernels
from .losses import Loss
from .network import Network
from .optim import Optimizer, OptState
from .regularization import Penalty
from .shapes import (
    Inputs,
    Matrix,
    ShapeError,
    Targets,
    _is_array,
    checks_enabled,
    no_checks,
)
from .train import (
    _PROBE,
    History,
    Metric,
    _bad_loss,
    _check_data,
    _check_outputs,
    _metric_name,
    _step_name,
    train_step,
)
from .train import (
    _evaluate as _evaluate_set,
)

__all__ = [
    "CONNECT_TIMEOUT",
    "DaskInputs",
    "connect",
    "fit",
    "forward",
    "local_cluster",
    "value_and_grad",
]

A = TypeVar("A")
B = TypeVar("B")
T = TypeVar("T")

CONNECT_TIMEOUT = 10.0
"""Seconds `connect` waits for a scheduler before raising ConnectionError."""

# How often a step lost with its worker is tried again before the error is raised.
_ATTEMPTS = 3
# Params up to this size ride inside each task of a step; larger ones are sent once.
_INLINE_BYTES = 1 << 20

DaskInputs = da.Array | Mapping[str, da.Array]
"""A network's input columns as Dask arrays: one array, or for a network over named
inputs (`typednet.inputs`) a mapping from each name to its array, every array chunked
alike along the columns."""

_Chunk = _cols.Columns
"""One column chunk of the input, as a task sees it: an array, or the named inputs'."""


def connect(address: str, *, timeout: float | None = None) -> Client:
    """A `Client` connected to the Dask scheduler at ``address``.

    Args:
        address: e.g. ``"tcp://10.0.0.5:8786"``.
        timeout: seconds to wait; `CONNECT_TIMEOUT` (10 s) by default.

    Raises:
        ConnectionError: no scheduler answered at ``address`` within ``timeout``.
    """
    seconds = CONNECT_TIMEOUT if timeout is None else timeout
    try:
        return Client(address, timeout=seconds, set_as_default=False)
    except (OSError, TimeoutError) as error:
        raise ConnectionError(
            f"typednet.dask: no Dask scheduler answered at {address} within {seconds:g} s; "
            "is it running, and is the address (tcp://host:port) right?"
        ) from error


@contextmanager
def _session(client: Client | str | None) -> Generator[Client]:
    """The client to run on; one this function opened is closed on exit."""
    if isinstance(client, Client):
        yield client
        return
    if isinstance(client, str):
        with connect(client) as opened:
            yield opened
        return
    if client is not None:
        raise TypeError(
            "client must be a distributed.Client, a scheduler address or None, "
            f"got {type(client).__name__}"
        )
    try:
        yield default_client()
        return
    except ValueError:  # no default client: start a cluster on this machine
        pass
    with local_cluster() as cluster, Client(cluster, set_as_default=False) as local:
        yield local


def local_cluster(n_workers: int | None = None, *, threads_per_worker: int = 1) -> LocalCluster:
    """A `LocalCluster` of worker processes on this machine, reachable only on 127.0.0.1.

    No dashboard; the scheduler's small HTTP server (health, metrics) takes a free
    loopback port rather than 8787, so several clusters can run side by side. Close it
    with ``.close()`` or a ``with`` block.

    Args:
        n_workers: worker processes; by default Dask's choice for this machine's cores.
        threads_per_worker: threads per worker (1: NumPy's BLAS already uses the core).
    """
    cluster: LocalCluster = LocalCluster(
        n_workers=n_workers,
        processes=True,
        threads_per_worker=threads_per_worker,
        host="127.0.0.1",
        # distributed types dashboard_address as str though None turns it off.
        dashboard_address=None,  # pyright: ignore[reportArgumentType]
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
    )
    return cluster


def forward(net: Network[Any, Any], X: DaskInputs) -> da.Array:
    """The network's output for every column of a Dask array, lazily.

    Nothing is computed until the result is (``.compute()``, ``.to_zarr(...)``), on the
    current Dask scheduler. The network is one key of the graph, shared by all chunks.

    Args:
        net: the network.
        X: input columns, a Dask array of shape (features, n) in the network's dtype,
            chunked along the columns (row chunks are merged); for a network over
            named inputs, a mapping from each name to its Dask array, all chunked alike
            along the columns.

    Returns:
        y_hat, a Dask array of shape (outputs, n) with ``X``'s column chunks.

    Raises:
        ShapeError: X's shape or dtype does not fit the network (checked from its
            metadata, with the messages of `typednet.forward`), or named inputs are
            chunked differently along the columns.
        ValueError: X has no columns.

    Examples:
        >>> import dask.array as da
        >>> import numpy as np
        >>> import typednet as tn
        >>> import typednet.dask as tnd
        >>> net = tn.network(tn.Dense(w=np.array([[1.0, -1.0]]), b=np.zeros((1, 1)),
        ...                           activation=tn.relu))
        >>> X = da.from_array(np.array([[3.0, 1.0, 5.0], [1.0, 3.0, 2.0]]), chunks=(2, 2))
        >>> y_hat = tnd.forward(net, X)
        >>> y_hat.chunks, y_hat.compute(scheduler="sync")
        (((1,), (2, 1)), array([[2., 0., 3.]]))
    """
    X = _inputs(net, X, "forward")
    names, arrays = (tuple(X), tuple(X.values())) if isinstance(X, Mapping) else ((), (X,))
    y_hat: da.Array = da.map_blocks(
        _forward_block,
        delayed(net, pure=True),
        *arrays,
        names=names,
        chunks=((net.out_size,), _column_chunks(X)),
        dtype=net.dtype,
        meta=np.empty((0, 0), net.dtype),
    )
    return y_hat


def _forward_block(net: Network[Any, Any], *x: Matrix, names: tuple[str, ...]) -> Matrix:
    """The outputs of one column chunk: of the one input, or of the named inputs'."""
    return _forward_checked(net, dict(zip(names, x, strict=True)) if names else x[0])


def value_and_grad(
    net: Network[A, B],
    X: DaskInputs,
    Y: da.Array,
    loss: Loss,
    *,
    penalty: Penalty | None = None,
    client: Client | str | None = None,
) -> tuple[float, Network[A, B]]:
    """The loss over all the columns of Dask arrays and its gradient, as a map-reduce.

    Each chunk's loss and gradient are computed where the chunk is, weighted by its
    number of columns and summed in a tree on the workers; the result equals
    `typednet.value_and_grad` on the whole arrays (up to rounding). The penalty is added
    once, on the client.

    Args:
        net: the network.
        X: input columns, a Dask array of shape (features, n), chunked along the columns
            (or named inputs' arrays, as in `forward`).
        Y: target columns, a Dask array of shape (outputs, n) (rechunked like X).
        loss: e.g. ``tn.mse``.
        penalty: an optional ``tn.l1(lam)`` or ``tn.l2(lam)``.
        client: where to run (see the module's docstring).

    Returns:
        ``(value, grads)`` as `typednet.value_and_grad` returns them.

    Raises:
        ShapeError: X or Y does not fit the network or each other.
        TypeError: loss is not a `Loss`, or penalty not a `Penalty`.
        ValueError: the network holds a dropout layer (use `fit`); X or Y
            holds NaN or inf, Y targets the loss does not take, or the network outputs
            it cannot (as `typednet.value_and_grad`, naming the chunk's columns); or
            the loss or a gradient overflowed.
        ConnectionError: ``client`` is an address where no scheduler answers.
    """
    X, Y = _inputs_and_targets(net, X, Y, loss, penalty, "value_and_grad")
    _refuse_dropout(net, "value_and_grad")
    starts = _starts(X)
    checked = checks_enabled()
    net_key = delayed(net, pure=True)
    parts = [
        delayed(_weighted, pure=True)(
            net_key,
            loss,
            [x],
            [y],
            [None],
            _chunk("value_and_grad", starts, k) if checked else None,
        )
        for k, (x, y) in enumerate(zip(_blocks(X), _blocks(Y), strict=True))
    ]
    while len(parts) > 1:  # a tree of sums, on the workers
        parts = [
            delayed(_add, pure=True)(*parts[i : i + 2]) if i + 1 < len(parts) else parts[i]
            for i in range(0, len(parts), 2)
        ]
    with _session(client) as session:
        total: _Sum = _result(session.compute(parts[0]))
    value, flat = _mean(total, net, penalty)
    _check_sum(net, value, flat, "value_and_grad")
    return value, _with_flat(net, flat)


# One task's share of a batch: (columns, sum of the loss over them, sum of gradients).
_Sum = tuple[int, float, Matrix]


def _weighted(
    net: Network[Any, Any],
    loss: Loss,
    xs: Sequence[_Chunk],
    ys: Sequence[Matrix],
    picks: Sequence["_Index | None"],
    where: str | None = None,
) -> _Sum:
    """The loss and gradient on the picked columns of some chunks, times their number;
    with ``where``, the columns and the outputs are checked first, as
    `typednet.value_and_grad` checks them."""
    x, y = _columns(xs, picks), _columns(ys, picks)
    m = _cols.count(x)
    if where is not None:
        _check_values(x, y, loss, where)
    value, flat = _grad_kernel(net, x, y, loss, where)
    return m, value * m, flat * m


def _weighted_drawn(
    net: Network[Any, Any],
    loss: Loss,
    key: tuple[int, int],
    xs: Sequence[_Chunk],
    ys: Sequence[Matrix],
    picks: Sequence["_Index | None"],
    chunks: Sequence[int],
) -> _Sum:
    """As `_weighted` for a network that draws (dropout), chunk by chunk: the masks for
    the columns of chunk i at step k of an epoch come from ``_stream(entropy, k, i)``
    (``key = (entropy, k)``), so they do not depend on which chunks share a task, on
    which worker, or how many workers there are."""
    total: _Sum | None = None
    for i, x, y, pick in zip(chunks, xs, ys, picks, strict=True):
        x, y = _columns([x], [pick]), _columns([y], [pick])
        m = _cols.count(x)
        value, flat = _grad_kernel(net, x, y, loss, rng=_stream(key[0], key[1], i))
        share = (m, value * m, flat * m)
        total = share if total is None else _add(total, share)
    assert total is not None  # a task has at least one chunk
    return total


def _stream(entropy: int, first: int, second: int) -> np.random.Generator:
    """The random stream keyed by an epoch's ``entropy`` (drawn from fit's ``rng``) and
    two indices (step and chunk, or round and shard): a function of them alone."""
    return np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(first, second)))


def _starts(X: DaskInputs) -> "_Index":
    """Each column chunk's first column, then n."""
    return np.concatenate([[0], np.cumsum(_column_chunks(X))]).astype(np.intp)


def _column_chunks(X: DaskInputs) -> tuple[int, ...]:
    """The sizes of X's column chunks (every named input's: they were checked alike)."""
    first = next(iter(X.values())) if isinstance(X, Mapping) else X
    chunks: tuple[int, ...] = first.chunks[1]
    return chunks


def _chunk(where: str, starts: "_Index", k: int) -> str:
    """``where``, naming chunk k by its columns: ``fit (columns 1024:2048)``."""
    return f"{where} (columns {starts[k]}:{starts[k + 1]})"


def _refuse_dropout(net: Network[Any, Any], where: str) -> None:
    """ValueError naming the first layer that draws random masks in training, or keeps
    statistics of whole batches (BatchNorm)."""
    for i, layer in enumerate(net.layers, 1):
        if not isinstance(layer, Activation) and layer.draws:
            raise ValueError(
                f"typednet.dask.{where}: layer {i} ({layer.label()}) draws random masks in "
                "training, which typednet.dask.value_and_grad does not support; use "
                "typednet.dask.fit or tn.value_and_grad"
            )
    _refuse_stateful(net, where)


def _refuse_stateful(net: Network[Any, Any], where: str) -> None:
    """ValueError naming the first layer that keeps statistics of whole batches
    (BatchNorm)."""
    for i, layer in enumerate(net.layers, 1):
        if not isinstance(layer, Activation) and layer.stateful:
            # BatchNorm: chunks' gradients would not add up to the batch's, nor their
            # statistics to the batch's statistics.
            raise ValueError(
                f"typednet.dask.{where}: layer {i} ({layer.label()}) learns statistics over "
                "the whole batch in training, which typednet.dask does not support; train "
                "this network with tn.fit (typednet.dask.forward runs it)"
            )


@typing.overload
def _columns(chunks: Sequence[Matrix], picks: Sequence["_Index | None"]) -> Matrix: ...
@typing.overload
def _columns(chunks: Sequence[_Chunk], picks: Sequence["_Index | None"]) -> _Chunk: ...
def _columns(chunks: Sequence[_Chunk], picks: Sequence["_Index | None"]) -> _Chunk:
    """The picked columns (all of a chunk for None) of each chunk, side by side; of each
    named input's, for chunks of named inputs."""
    if isinstance(chunks[0], Mapping):
        named = cast("Sequence[_cols.Named]", chunks)
        return {name: _columns([c[name] for c in named], picks) for name in named[0]}
    arrays = cast("Sequence[Matrix]", chunks)
    parts = [c if p is None else c[:, p] for c, p in zip(arrays, picks, strict=True)]
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


def _add(a: _Sum, b: _Sum) -> _Sum:
    return a[0] + b[0], a[1] + b[1], a[2] + b[2]


def _mean(total: _Sum, net: Network[Any, Any], penalty: Penalty | None) -> tuple[float, Matrix]:
    """The loss and gradient of the whole batch from its summed shares, plus the penalty."""
    m, value, flat = total
    value, flat = value / m, flat / m
    if penalty is not None:
        extra, slope = _penalty(net, penalty)
        value += extra
        flat += slope
    return value, flat


# Per shard: (chunk index, the chunk's columns to take, or None for all of them).
_Picks = list[tuple[int, Any]]
_Index = np.ndarray[tuple[int], np.dtype[np.intp]]


@dataclass(frozen=True, slots=True, eq=False)
class _Placed:
    """The column chunks of X and Y held in the workers' memory, grouped in shards.

    A shard is a run of consecutive chunks put on one worker; its tasks ask for that
    worker but may run elsewhere (after a fault, its chunks are recomputed there).
    """

    x: tuple[Future[_Chunk], ...]
    y: tuple[Future[Matrix], ...]
    starts: _Index  # each chunk's first column, then n
    shards: tuple[tuple[int, ...], ...]  # the chunks of each shard, in order
    workers: tuple[str, ...]  # the worker each shard was put on

    @property
    def n(self) -> int:
        return int(self.starts[-1])

    def columns(self, shard: int) -> _Index:
        """The global indices of the columns in one shard."""
        chunks = self.shards[shard]
        return np.arange(self.starts[chunks[0]], self.starts[chunks[-1] + 1])

    def picks(self, cols: _Index) -> list[_Picks]:
        """Per shard, the chunks holding some of ``cols`` and the columns taken from each."""
        chunk = np.searchsorted(self.starts, cols, side="right") - 1
        by_chunk = np.argsort(chunk, kind="stable")
        ids, first = np.unique(chunk[by_chunk], return_index=True)
        local = np.split(cols[by_chunk] - self.starts[chunk[by_chunk]], first[1:])
        taken = dict(zip(ids.tolist(), local, strict=True))
        return [[(i, taken[i]) for i in shard if i in taken] for shard in self.shards]

    def everything(self) -> list[_Picks]:
        """Every column: each shard's chunks whole."""
        return [[(i, None) for i in shard] for shard in self.shards]

    def submit(
        self,
        client: Client,
        fn: Callable[..., T],
        picks: list[_Picks],
        *args: object,
        ids: bool = False,
    ) -> list[Future[T]]:
        """One task ``fn(*args, xs, ys, picks)`` per shard with picks, asking for its worker;
        with ``ids``, ``fn(*args, xs, ys, picks, chunks)``, ``chunks`` the chunks' indices."""
        return [
            client.submit(
                fn,
                *args,
                [self.x[i] for i, _ in shard],
                [self.y[i] for i, _ in shard],
                [p for _, p in shard],
                *([[i for i, _ in shard]] if ids else []),
                workers=[worker],
                allow_other_workers=True,
                pure=False,
            )
            for shard, worker in zip(picks, self.workers, strict=True)
            if shard
        ]


@dataclass(frozen=True, slots=True, eq=False)
class _Streamed:
    """The column chunks of X and Y as graphs, not held anywhere: a chunk is computed
    on a worker (read, or generated) when a step or an evaluation needs it, and dropped
    after, so the data need not fit in the cluster's memory."""

    x: tuple[Delayed, ...]
    y: tuple[Delayed, ...]
    starts: _Index  # each chunk's first column, then n
    probe: da.Array | Delayed  # X's first columns, whose outputs `typednet.fit` checks

    @property
    def n(self) -> int:
        return int(self.starts[-1])

    def size(self, chunk: int) -> int:
        return int(self.starts[chunk + 1] - self.starts[chunk])

    def load(self, client: Client, chunk: int) -> tuple[Future[_Chunk], Future[Matrix]]:
        """Chunk ``chunk`` of X and of Y, computed together on one worker."""
        # distributed's compute returns a list of futures for a list, unannotated.
        x, y = cast("list[Future[Any]]", client.compute([self.x[chunk], self.y[chunk]]))
        return x, y


def _streamed(X: DaskInputs, Y: da.Array) -> _Streamed:
    probe: da.Array | Delayed
    if isinstance(X, Mapping):
        firsts = [a[:, : min(_PROBE, a.shape[1])] for a in X.values()]
        probe = delayed(_named, pure=True)(tuple(X), *firsts)
    else:
        # dask infers the slice's type loosely: it is a Dask array.
        probe = X[:, : min(_PROBE, X.shape[1])]
    return _Streamed(x=tuple(_blocks(X)), y=tuple(_blocks(Y)), starts=_starts(X), probe=probe)


_Data = _Placed | _Streamed


def _place(client: Client, X: DaskInputs, Y: da.Array) -> _Placed:
    """Compute X's and Y's chunks into the workers' memory, a run of chunks per worker."""
    sizes = _column_chunks(X)
    client.wait_for_workers(1)
    workers = sorted(client.scheduler_info(n_workers=-1)["workers"])
    split = np.array_split(np.arange(len(sizes)), min(len(workers), len(sizes)))
    shards = tuple(tuple(int(i) for i in s) for s in split)
    xb, yb = _blocks(X), _blocks(Y)
    x: list[Future[_Chunk]] = []
    y: list[Future[Matrix]] = []
    for shard, worker in zip(shards, workers, strict=False):
        blocks = [xb[i] for i in shard] + [yb[i] for i in shard]
        futures: list[Future[Any]] = client.compute(  # pyright: ignore[reportAssignmentType]
            blocks, workers=[worker], allow_other_workers=True
        )  # distributed's compute returns a list of futures for a list, unannotated
        x += futures[: len(shard)]
        y += futures[len(shard) :]
    return _Placed(
        x=tuple(x),
        y=tuple(y),
        starts=_starts(X),
        shards=shards,
        workers=tuple(workers[: len(shards)]),
    )


def _send(client: Client, value: T, nbytes: int) -> T | Future[T]:
    """``value`` for the tasks of one step: inside each task, or sent once for all.

    A step has one task per worker holding its columns, so either way the value reaches
    each such worker once. A small value rides inside the tasks (no extra round trip);
    a large one (over `_INLINE_BYTES`) goes once, as a task returning it, that the
    step's tasks depend on (not scattered: the scheduler keeps that task, so if the
    worker holding the value dies, the value is made again elsewhere).
    """
    if nbytes <= _INLINE_BYTES:
        return value
    future: Future[T] = client.submit(_same, value, pure=False)
    return future


def _same(value: T) -> T:
    return value


def _run(client: Client, tasks: Callable[[], list[Future[T]]]) -> list[T]:
    """Submit the tasks and gather their results; if a worker is lost, submit them again.

    Safe because every task is pure: a re-run gives the same result.
    """
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            # distributed's gather returns a list for a list, its union unannotated.
            results: list[T] = client.gather(tasks())  # pyright: ignore[reportAssignmentType]
            return results
        except (OSError, KilledWorker, FutureCancelledError):
            if attempt == _ATTEMPTS:
                raise
            client.wait_for_workers(1)
    raise AssertionError("unreachable")


def fit(
    net: Network[A, B],
    X: DaskInputs,
    Y: da.Array,
    *,
    loss: Loss,
    optimizer: Optimizer,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    client: Client | str | None = None,
    sync_every: int | None = None,
    penalty: Penalty | None = None,
    validation: tuple[Inputs | Mapping[str, object], Targets]
    | tuple[DaskInputs, da.Array]
    | None = None,
    metric: Metric | None = None,
    patience: int | None = None,
    progress: bool = True,
    stream: bool = False,
    checkpoint: Checkpoint | str | os.PathLike[str] | None = None,
    resume: str | os.PathLike[str] | None = None,
) -> tuple[Network[A, B], History]:
    """Train ``net`` on the columns of Dask arrays, data-parallel; like `typednet.fit`.

    The chunks of X and Y are computed once into the workers' memory (so the training
    data must fit in the cluster's memory, summed over the workers) and stay there: the
    client holds the params and the optimizer state, and only they and the gradients
    travel.

    - Exact mode (``sync_every=None``, the default): each epoch shuffles the columns
      with ``rng`` exactly as `typednet.fit` does; each mini-batch is split among the
      workers holding its columns, their gradients are combined and the optimizer steps
      once. The result equals `typednet.fit`'s on the same data and seed, up to rounding.
    - Local SGD (``sync_every=k``): each epoch, each worker's shard (a run of chunks)
      is shuffled with ``rng``; each worker takes k steps of ``batch_size`` of its own
      columns, then the params and the optimizer's state are averaged, weighted by the
      columns each worker used (the step count is the largest). Fewer round trips, a
      different, noisier trajectory.
    - Streamed (``stream=True``, exact mode only): for data larger than the cluster's
      memory. No chunk is kept: each epoch shuffles the order of the chunks with
      ``rng``, then, chunk by chunk, computes the chunk on a worker (from its graph:
      read from disk, or generated), shuffles its columns with ``rng`` and steps
      through them ``batch_size`` at a time (a chunk's last batch may be smaller; a
      batch never spans chunks), while the next chunk is computed; evaluation and
      checks stream the chunks the same way. A worker holds a few chunks at a time
      (the one in use, the next, and a chunk's temporaries while it is computed:
      about 8 chunks' worth in ``benchmarks/dask_out_of_core.py``), so make chunks
      several times ``batch_size`` and a small fraction of a worker's memory. Each
      chunk is computed once per epoch, plus once per evaluation (metric, Dask
      validation data) and once for the checks.

    Dropout: with a network that draws masks in training, each epoch first draws one
    integer ``e`` from ``rng`` (then shuffles as above), and every mask comes from a
    stream of its own, ``np.random.default_rng(np.random.SeedSequence(e, spawn_key=(k,
    i)))``: in exact mode for the columns of chunk i at step k (0-based, in the epoch),
    so the masks depend neither on the workers nor on which of them runs what; in local
    SGD for shard s's round starting at step k (i = s). The same seed and chunks give
    the same result, bit for bit. The masks differ from `typednet.fit`'s, which draws
    them from ``rng`` itself.

    Args:
        net: the starting params.
        X: input columns, a Dask array of shape (features, n), chunked along the columns
            (or named inputs' arrays, as in `forward`).
        Y: target columns, a Dask array of shape (outputs, n) (rechunked like X).
        loss: the loss to minimize.
        optimizer: e.g. ``tn.adam(1e-3)``; its state starts fresh.
        epochs: how many passes over the data (at most, with early stopping).
        batch_size: columns per step (per worker, in local SGD).
        rng: shuffles the columns and seeds the dropout masks; the same seed gives the
            same result.
        client: where to run (see the module's docstring).
        sync_every: None for exact mode, or k >= 1 local steps between averages.
        penalty: an optional ``tn.l1(lam)`` or ``tn.l2(lam)``.
        validation: optional ``(x_val, y_val)``: NumPy arrays (evaluated on the client,
            as `typednet.fit` does) or Dask arrays (evaluated by chunks on the workers);
            ``x_val`` a mapping of them for a network over named inputs.
        metric: optional ``metric(y_true, y_pred) -> float``. On the training data (and
            Dask validation data) it is evaluated per chunk and averaged weighted by the
            chunks' columns: equal to its value on all columns for a mean over columns
            (accuracy, mad, a loss), not for other metrics.
        patience: with validation data, stop after this many epochs without a lower
            validation loss and return the params of the best epoch.
        progress: show a tqdm progress bar (default True).
        stream: compute the chunks when needed instead of keeping them in the
            workers' memory (see above).
        checkpoint: a folder, or ``tn.checkpoint(folder, every=k)``: write a checkpoint
            there after every k-th epoch and after the last, as `typednet.fit` does.
        resume: a checkpoint folder to carry on from, as in `typednet.fit`: a client
            killed mid-fit and run again with ``resume`` ends with the params and
            History of a run never stopped, bit for bit (in exact mode and in local
            SGD). The checkpoint must be of this mode (and ``sync_every``).

    Returns:
        ``(trained_net, history)``, a `typednet.History` as `typednet.fit` returns.

    Raises:
        ShapeError: X or Y does not fit the network or each other.
        ValueError: a bad setting; a network holding a `BatchNorm` (chunks cannot
            share a batch's statistics); data `typednet.fit` refuses (NaN or inf,
            targets the loss does not take, naming the chunk's columns; outputs it
            cannot take, on the first columns); or a non-finite loss during training
            (naming the epoch and step).
        ConnectionError: ``client`` is an address where no scheduler answers.
        OSError: the checkpoint cannot be written or read (see `typednet.fit`).
    """
    X, Y = _inputs_and_targets(net, X, Y, loss, penalty, "fit")
    _refuse_stateful(net, "fit")
    _check_settings(epochs, batch_size, patience, validation, rng)
    if sync_every is not None:
        _check_settings(1, sync_every, None, None, rng, name="sync_every")
    if not isinstance(stream, bool):
        raise TypeError(f"fit: stream must be True or False, got {type(stream).__name__}")
    if stream and sync_every is not None:
        raise ValueError("fit: stream=True takes exact steps only; leave sync_every=None")
    saving, folder = checkpoints.check(checkpoint, resume, None, "fit")
    in_memory: tuple[_Chunk, Matrix] | None = None
    chunked: tuple[DaskInputs, da.Array] | None = None
    if validation is not None:
        x_val, y_val = validation
        if _in_memory(x_val) and _is_array(y_val):
            _check_validation(net, x_val, y_val, loss, penalty)
            in_memory = (cast(_Chunk, x_val), y_val)  # an array or a mapping of them
        else:
            chunked = _inputs_and_targets(net, x_val, y_val, loss, penalty, "fit validation")
    with _session(client) as session:
        data = _streamed(X, Y) if stream else _place(session, X, Y)
        run = _Fit(session, data, loss, optimizer, penalty, batch_size, metric)
        return run(
            net, epochs, rng, sync_every, in_memory, chunked, patience, progress, saving, folder
        )


@dataclass(frozen=True, slots=True, eq=False)
class _Fit:
    """One `fit` call: the cluster, where the data is, and what every step needs."""

    client: Client
    data: _Data
    loss: Loss
    optimizer: Optimizer
    penalty: Penalty | None
    batch_size: int
    metric: Metric | None

    def __call__(
        self,
        net: Network[A, B],
        epochs: int,
        rng: np.random.Generator,
        sync_every: int | None,
        in_memory: tuple[_Chunk, Matrix] | None,
        chunked: tuple[DaskInputs, da.Array] | None,
        patience: int | None,
        progress: bool,
        saving: Checkpoint | None,
        resume: str | None,
    ) -> tuple[Network[A, B], History]:
        self._check(net, self.data, "fit")
        val_data: _Data | None = None
        if chunked is not None:
            val_data = (
                _streamed(*chunked)
                if isinstance(self.data, _Streamed)
                else _place(self.client, *chunked)
            )
            self._check(net, val_data, "fit validation")
        validated = in_memory is not None or val_data is not None
        metric_name = None if self.metric is None else _metric_name(self.metric)
        mode = (
            ("dask streamed" if isinstance(self.data, _Streamed) else "dask")
            if sync_every is None
            else f"dask local SGD, sync_every={sync_every}"
        )
        settings = checkpoints.settings(
            self.data.n, self.batch_size, self.loss.name, self.optimizer, self.penalty,
            metric_name, validated, patience, mode,
        )  # fmt: skip
        done: Progress[A, B] = Progress()
        if resume is not None and checkpoints.exists(resume):
            (net, state), done = checkpoints.read(resume, net, self.optimizer, settings, rng)
        else:
            state = self.optimizer.init(net)
        steps = self._steps(sync_every)
        bar = tqdm(
            total=epochs * steps, initial=min(done.epoch, epochs) * steps,
            disable=not progress, unit="step",
        )  # fmt: skip
        draws = _draws(net)
        with bar:
            for epoch in range(done.epoch + 1, epochs + 1):
                if done.stopped:
                    break
                # With dropout, the epoch's masks come from streams keyed by one number
                # drawn from rng first (see fit); without, rng draws as typednet.fit's.
                entropy = int(rng.integers(2**63)) if draws else None
                if isinstance(self.data, _Streamed):
                    net, state, total = self._streamed_epoch(
                        net, state, self.data, rng, epoch, bar, entropy
                    )
                elif sync_every is None:
                    net, state, total = self._exact_epoch(net, state, rng, epoch, bar, entropy)
                else:
                    net, state, total = self._local_epoch(
                        net, state, rng, epoch, sync_every, bar, entropy
                    )
                train_loss = total / self.data.n
                postfix = {"epoch": epoch, "loss": f"{train_loss:.4g}"}
                train_metric = val_metric = value = None
                if self.metric is not None:
                    train_metric = self._evaluate(net, self.data)[1]
                best, stop = done.best, False
                if validated:
                    if in_memory is not None:  # on the client, as typednet.fit does
                        value, val_metric = _evaluate_here(net, *in_memory, self.loss, self.metric)
                    elif val_data is not None:
                        value, score = self._evaluate(net, val_data)
                        if self.metric is not None:
                            val_metric = score
                    assert value is not None  # set by one of the two branches above
                    postfix["val_loss"] = f"{value:.4g}"
                    if patience is not None:
                        if best is None or value < best.val_loss:
                            best = Best(value, epoch, net, state)
                        elif epoch - best.epoch >= patience:
                            stop = True
                line = Record(train_loss, value, train_metric, val_metric)
                done = Progress(records=(*done.records, line), best=best, stopped=stop)
                if saving is not None and (epoch % saving.every == 0 or epoch >= epochs or stop):
                    checkpoints.write(saving.path, settings, (net, state), done, rng)
                bar.set_postfix(postfix)
            if done.stopped:
                bar.total = bar.n  # stopped early: the bar ends full
        records = done.records
        history = History(
            train_loss=tuple(r.train_loss for r in records),
            val_loss=tuple(r.val_loss for r in records if r.val_loss is not None),
            metric_name=metric_name,
            train_metric=tuple(r.train_metric for r in records if r.train_metric is not None),
            val_metric=tuple(r.val_metric for r in records if r.val_metric is not None),
            best_epoch=None if done.best is None else done.best.epoch,
        )
        return (net if done.best is None else done.best.net), history

    def _steps(self, sync_every: int | None) -> int:
        """Progress-bar steps per epoch: optimizer steps, or local-SGD rounds."""
        data = self.data
        if isinstance(data, _Streamed):
            return sum(math.ceil(data.size(i) / self.batch_size) for i in range(len(data.x)))
        if sync_every is None:
            return math.ceil(data.n / self.batch_size)
        longest = max(data.columns(s).size for s in range(len(data.shards)))
        return math.ceil(math.ceil(longest / self.batch_size) / sync_every)

    def _check(self, net: Network[Any, Any], data: _Data, where: str) -> None:
        """The checks of `typednet.fit` on the data: each chunk's values where it is
        (named by its columns), then the outputs on the first columns, here."""
        wheres = [_chunk(where, data.starts, k) for k in range(len(data.x))]
        if isinstance(data, _Streamed):
            checks = [
                delayed(_check_chunks, pure=True)(self.loss, [w], [x], [y])
                for w, x, y in zip(wheres, data.x, data.y, strict=True)
            ]
            # distributed's compute returns a list of futures for a list, unannotated.
            _run(self.client, lambda: cast("list[Future[None]]", self.client.compute(checks)))
            first = cast("Future[_Chunk]", self.client.compute(data.probe)).result()
            _check_first_outputs(net, [first], self.loss, where)
            return

        def tasks() -> list[Future[None]]:
            return [
                self.client.submit(
                    _check_chunks,
                    self.loss,
                    [wheres[i] for i in shard],
                    [data.x[i] for i in shard],
                    [data.y[i] for i in shard],
                    workers=[worker],
                    allow_other_workers=True,
                    pure=False,
                )
                for shard, worker in zip(data.shards, data.workers, strict=True)
            ]

        _run(self.client, tasks)
        # distributed's gather returns a list for a list, its union unannotated.
        firsts: list[_Chunk] = self.client.gather(list(data.x[: _probed(data.starts)]))  # pyright: ignore[reportAssignmentType]
        _check_first_outputs(net, firsts, self.loss, where)

    def _exact_epoch(
        self,
        net: Network[A, B],
        state: OptState[A, B],
        rng: np.random.Generator,
        epoch: int,
        bar: "tqdm[Never]",
        entropy: int | None,
    ) -> tuple[Network[A, B], OptState[A, B], float]:
        """One epoch of exact steps, the batches drawn as `typednet.fit` draws them; with
        ``entropy``, the masks of step k's columns in chunk i from ``_stream(entropy, k, i)``."""
        n, size = self.data.n, self.batch_size
        data = self.data
        assert isinstance(data, _Placed)  # a streamed fit has epochs of its own
        steps = math.ceil(n / size)
        order = rng.permutation(n)
        total = 0.0
        for k in range(steps):
            picks = data.picks(order[k * size : (k + 1) * size])

            def tasks(
                net: Network[A, B] = net, picks: list[_Picks] = picks, k: int = k
            ) -> list[Future[_Sum]]:
                shared = _send(self.client, net, net.param_count * net.dtype.itemsize)
                if entropy is None:
                    return data.submit(self.client, _weighted, picks, shared, self.loss)
                return data.submit(
                    self.client, _weighted_drawn, picks, shared, self.loss, (entropy, k), ids=True
                )

            summed = functools.reduce(_add, _run(self.client, tasks))
            value, flat = _mean(summed, net, self.penalty)
            # In typednet.fit's order: the step refuses non-finite params, then the loss.
            where = _step_name(epoch, k + 1, steps)
            net, state = _opt_step(self.optimizer, flat, state, net, where)
            _check_loss(value, epoch, k + 1, steps)
            total += value * summed[0]
            bar.update()
        return net, state, total

    def _streamed_epoch(
        self,
        net: Network[A, B],
        state: OptState[A, B],
        data: _Streamed,
        rng: np.random.Generator,
        epoch: int,
        bar: "tqdm[Never]",
        entropy: int | None,
    ) -> tuple[Network[A, B], OptState[A, B], float]:
        """One epoch of exact steps over streamed chunks: the chunks in an order drawn
        from ``rng``, each chunk's columns shuffled with ``rng`` when its turn comes, the
        next chunk computed while the steps run on this one."""
        size = self.batch_size
        chunks = rng.permutation(len(data.x)).tolist()
        steps = self._steps(None)
        total, k = 0.0, 0
        following = data.load(self.client, chunks[0])
        for j, i in enumerate(chunks):
            x, y = following
            if j + 1 < len(chunks):
                following = data.load(self.client, chunks[j + 1])
            order = rng.permutation(data.size(i))
            for first in range(0, order.size, size):
                cols = order[first : first + size]

                def tasks(
                    net: Network[A, B] = net,
                    cols: _Index = cols,
                    k: int = k,
                    i: int = i,
                    x: Future[_Chunk] = x,
                    y: Future[Matrix] = y,
                ) -> list[Future[_Sum]]:
                    shared = _send(self.client, net, net.param_count * net.dtype.itemsize)
                    if entropy is None:
                        future = self.client.submit(
                            _weighted, shared, self.loss, [x], [y], [cols], pure=False
                        )
                    else:
                        future = self.client.submit(
                            _weighted_drawn, shared, self.loss, (entropy, k), [x], [y],
                            [cols], [i], pure=False,
                        )  # fmt: skip
                    return [future]

                (summed,) = _run(self.client, tasks)
                value, flat = _mean(summed, net, self.penalty)
                where = _step_name(epoch, k + 1, steps)
                net, state = _opt_step(self.optimizer, flat, state, net, where)
                _check_loss(value, epoch, k + 1, steps)
                total += value * summed[0]
                k += 1
                bar.update()
            x.release()  # the chunk leaves its worker's memory
            y.release()
        return net, state, total

    def _local_epoch(
        self,
        net: Network[A, B],
        state: OptState[A, B],
        rng: np.random.Generator,
        epoch: int,
        sync_every: int,
        bar: "tqdm[Never]",
        entropy: int | None,
    ) -> tuple[Network[A, B], OptState[A, B], float]:
        """One epoch of local SGD: rounds of ``sync_every`` steps per shard, then an
        average; with ``entropy``, shard s draws the masks of the round starting at step j
        from ``_stream(entropy, j, s)``."""
        size, data = self.batch_size, self.data
        assert isinstance(data, _Placed)  # stream=True takes exact steps only
        orders = [rng.permutation(data.columns(s)) for s in range(len(data.shards))]
        steps = math.ceil(max(o.size for o in orders) / size)
        total = 0.0
        for first in range(0, steps, sync_every):
            # Per shard, each step's (position of the chunk in the shard, columns) pairs.
            plans = [
                [
                    [(i - shard[0], p) for i, p in data.picks(order[j * size : (j + 1) * size])[s]]
                    for j in range(first, min(first + sync_every, steps))
                    if j * size < order.size
                ]
                for s, (shard, order) in enumerate(zip(data.shards, orders, strict=True))
            ]

            def tasks(
                net: Network[A, B] = net,
                state: OptState[A, B] = state,
                plans: Any = plans,
                first: int = first,
            ) -> list[Future[_Local[A, B]]]:
                shared = _send(
                    self.client,
                    (net, state),
                    (1 + len(self.optimizer.slot_names)) * net.param_count * net.dtype.itemsize,
                )
                return [
                    self.client.submit(
                        _local_steps,
                        shared,
                        [data.x[i] for i in shard],
                        [data.y[i] for i in shard],
                        plan,
                        self.loss,
                        self.optimizer,
                        self.penalty,
                        None if entropy is None else (entropy, first, s),
                        workers=[worker],
                        allow_other_workers=True,
                        pure=False,
                    )
                    for s, (shard, worker, plan) in enumerate(
                        zip(data.shards, data.workers, plans, strict=True)
                    )
                    if plan
                ]

            results = _run(self.client, tasks)
            for _, _, values, _ in results:
                for j, value in enumerate(values):
                    _check_loss(value, epoch, first + j + 1, steps)
            total += sum(v * m for r in results for v, m in zip(r[2], r[3], strict=True))
            weights = np.array([sum(r[3]) for r in results], dtype=float)
            net, state = _average([(r[0], r[1]) for r in results], weights / weights.sum())
            bar.update()
        return net, state, total

    def _evaluate(self, net: Network[Any, Any], data: _Data) -> tuple[float, float]:
        """The loss and the metric (0.0 without one) over the data, by chunks."""

        def tasks() -> list[Future[tuple[int, float, float]]]:
            if isinstance(data, _Streamed):
                key = delayed(net, pure=True)
                parts = [
                    delayed(_evaluate, pure=True)(key, self.loss, self.metric, [x], [y], [None])
                    for x, y in zip(data.x, data.y, strict=True)
                ]
                # distributed's compute returns a list of futures for a list, unannotated.
                return cast("list[Future[tuple[int, float, float]]]", self.client.compute(parts))
            shared = _send(self.client, net, net.param_count * net.dtype.itemsize)
            return data.submit(
                self.client, _evaluate, data.everything(), shared, self.loss, self.metric
            )

        shares = _run(self.client, tasks)
        m = sum(s[0] for s in shares)
        return sum(s[1] for s in shares) / m, sum(s[2] for s in shares) / m


def _check_loss(value: float, epoch: int, step: int, steps: int) -> None:
    if not math.isfinite(value):
        raise _bad_loss(value, epoch, step, steps)


# What a worker's local-SGD round returns: its params and state, and per step the loss
# and the number of columns.
_Local = tuple[Network[A, B], OptState[A, B], list[float], list[int]]


def _local_steps(
    shared: tuple[Network[A, B], OptState[A, B]],
    xs: list[_Chunk],
    ys: list[Matrix],
    plan: list[list[tuple[int, Any]]],
    loss: Loss,
    optimizer: Optimizer,
    penalty: Penalty | None,
    key: tuple[int, int, int] | None = None,
) -> _Local[A, B]:
    """Run on a worker: one shard's steps of a local-SGD round; with ``key``, any dropout
    masks drawn from ``_stream(*key)``."""
    net, state = shared
    values: list[float] = []
    sizes: list[int] = []
    rng = None if key is None else _stream(*key)
    with no_checks():
        for step in plan:
            x = _columns([xs[i] for i, _ in step], [p for _, p in step])
            y = _columns([ys[i] for i, _ in step], [p for _, p in step])
            # train_step's overloads type named inputs by the network's TypedDict, which
            # a Network[A, B] does not name here; it takes either at run time.
            net, state, value = train_step(
                net, state, cast(Matrix, x), y, loss=loss, optimizer=optimizer,
                penalty=penalty, rng=rng,
            )  # fmt: skip
            values.append(value)
            sizes.append(_cols.count(x))
    return net, state, values, sizes


def _check_chunks(loss: Loss, wheres: list[str], xs: list[_Chunk], ys: list[Matrix]) -> None:
    """Run on a worker: the values of each chunk, checked as `typednet.fit` checks them."""
    for where, x, y in zip(wheres, xs, ys, strict=True):
        _check_values(x, y, loss, where)


def _evaluate(
    net: Network[Any, Any],
    loss: Loss,
    metric: Metric | None,
    xs: list[_Chunk],
    ys: list[Matrix],
    picks: list[Any],
) -> tuple[int, float, float]:
    """Run on a worker: columns, loss times columns and metric times columns, summed."""
    m, value, score = 0, 0.0, 0.0
    with no_checks():
        for x, y in zip(xs, ys, strict=True):
            y_hat = _forward_checked(net, x)
            c = _cols.count(x)
            m += c
            value += loss(y, y_hat) * c
            if metric is not None:
                score += float(metric(y, y_hat)) * c
    return m, value, score


def _inputs(net: Network[Any, Any], X: object, where: str) -> DaskInputs:
    """X checked from its metadata as `typednet.forward` checks x, one chunk of rows."""
    x = _dask_inputs(X, where)
    _check_x(net, _stand_ins(x), where)
    return _merged(x, where)


def _inputs_and_targets(
    net: Network[Any, Any], X: object, Y: object, loss: object, penalty: object, where: str
) -> tuple[DaskInputs, da.Array]:
    """X and Y checked from their metadata as `typednet.value_and_grad` checks them;
    X in one chunk of rows, Y chunked like X."""
    x, y = _dask_inputs(X, where), _dask_array(Y, "Y", where)
    _check_xy(net, _stand_ins(x), _stand_in(y), loss, penalty, where)
    x = _merged(x, where)
    # dask infers rechunk's chunks as str from its default: a dict or tuple is fine.
    y = y.rechunk(((y.shape[0],), _column_chunks(x)))  # pyright: ignore[reportArgumentType]
    return x, y


def _dask_inputs(X: object, where: str) -> DaskInputs:
    """X as one Dask array, or a mapping of them (named inputs; the names are checked
    against the network's with the stand-ins)."""
    if not isinstance(X, Mapping):
        return _dask_array(X, "X", where)
    named = cast("Mapping[str, object]", X)
    return {name: _dask_array(a, f"X[{name!r}]", where) for name, a in named.items()}


def _stand_ins(X: DaskInputs) -> _Chunk:
    if isinstance(X, Mapping):
        return {name: _stand_in(a) for name, a in X.items()}
    return _stand_in(X)


def _merged(X: DaskInputs, where: str) -> DaskInputs:
    """X in one chunk of rows (each named input); named inputs must be chunked alike
    along the columns, so that the chunks of each hold the same samples."""
    # dask infers rechunk's chunks as str from its default: a dict or tuple is fine.
    if not isinstance(X, Mapping):
        merged: da.Array = X.rechunk({0: -1})  # pyright: ignore[reportArgumentType]
        return merged
    (first, columns), *others = ((name, a.chunks[1]) for name, a in X.items())
    for name, chunks in others:
        if chunks != columns:
            raise ShapeError(
                f"typednet.dask.{where} input X[{name!r}]: column chunks "
                f"{_chunk_sizes(chunks)} differ from X[{first!r}]'s "
                f"{_chunk_sizes(columns)}; every input must be chunked alike along the "
                f"columns: pass X[{name!r}].rechunk({{1: X[{first!r}].chunks[1]}})"
            )
    return {
        name: a.rechunk({0: -1})  # pyright: ignore[reportArgumentType]
        for name, a in X.items()
    }


def _chunk_sizes(chunks: tuple[int, ...]) -> str:
    """``(50, 50, 20)``, or for many chunks ``(50, 50, 50, ... 20; 12 chunks)``."""
    if len(chunks) <= 6:
        return str(tuple(chunks))
    head = ", ".join(str(c) for c in chunks[:3])
    return f"({head}, ... {chunks[-1]}; {len(chunks)} chunks)"


def _in_memory(x: object) -> bool:
    """Whether validation inputs are in memory: a NumPy array, or a mapping of them."""
    if isinstance(x, Mapping):
        values = list(cast("Mapping[object, object]", x).values())
        return bool(values) and all(_is_array(v) for v in values)
    return _is_array(x)


def _dask_array(a: object, name: str, where: str) -> da.Array:
    if not isinstance(a, da.Array):
        raise TypeError(
            f"typednet.dask.{where}: {name} must be a Dask array, got {type(a).__name__}; "
            f"wrap a NumPy array with da.from_array({name.lower()}, chunks=(-1, columns))"
        )
    if any(math.isnan(s) for s in a.shape):
        raise ValueError(
            f"typednet.dask.{where}: {name} has unknown chunk sizes {a.shape}; "
            f"call {name}.compute_chunk_sizes() first"
        )
    return a


def _stand_in(a: da.Array) -> Matrix:
    """A read-only NumPy array with ``a``'s shape and dtype, taking no memory."""
    zero = np.zeros(1, dtype=a.dtype)
    shape = tuple(int(n) for n in a.shape)  # known sizes: the arrays were checked
    view = np.lib.stride_tricks.as_strided(zero, shape, (0,) * a.ndim, writeable=False)
    return view


# -------------------------------------------------------------------------------------------
# Every use of typednet's private internals (imported at the top) is in this block, so
# that a refactor of the core repoints them here and nowhere else.


def _evaluate_here(
    net: Network[Any, Any], x: _Chunk, y: Matrix, loss: Loss, metric: Metric | None
) -> tuple[float | None, float | None]:
    """The loss and metric on in-memory data, as `typednet.fit` evaluates them (in
    blocks of columns)."""
    return _evaluate_set(net, x, y, loss, metric, None)


def _check_x(net: Network[Any, Any], x: _Chunk, where: str) -> None:
    _kernels.check_input(net, x, where)


def _check_xy(
    net: Network[Any, Any], x: _Chunk, y: Matrix, loss: object, penalty: object, where: str
) -> None:
    _kernels.check_batch(net, x, y, loss, penalty, where)


def _check_validation(
    net: Network[Any, Any], x: object, y: object, loss: object, penalty: object
) -> None:
    _check_data(net, x, y, loss, penalty, "fit validation")


def _check_settings(
    epochs: object,
    batch_size: object,
    patience: object,
    validation: object,
    rng: object,
    name: str = "batch_size",
) -> None:
    _validate.positive_int("fit", "epochs", epochs)
    _validate.positive_int("fit", name, batch_size)
    if patience is not None:
        _validate.positive_int("fit", "patience", patience)
        if validation is None:
            raise ValueError("fit: patience (early stopping) needs validation=(x_val, y_val)")
    _validate.rng("fit", rng)


def _check_values(x: _Chunk, y: Matrix, loss: Loss, where: str) -> None:
    _kernels.check_values(x, y, loss, where)


def _probed(starts: _Index) -> int:
    """How many chunks hold the columns whose outputs `typednet.fit` checks."""
    return int(np.searchsorted(starts, _PROBE, side="left"))


def _check_first_outputs(
    net: Network[Any, Any], chunks: Sequence[_Chunk], loss: Loss, where: str
) -> None:
    """The outputs on the first columns of these first chunks, as `typednet.fit` checks."""
    _check_outputs(net, _columns(chunks, [None] * len(chunks)), loss, where)


def _check_sum(net: Network[Any, Any], value: float, flat: Matrix, where: str) -> None:
    """As `typednet.value_and_grad`: a ValueError for an overflowed loss or gradient."""
    _check_result(net, value, flat, where)


def _grad_kernel(
    net: Network[Any, Any],
    x: _Chunk,
    y: Matrix,
    loss: Loss,
    where: str | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[float, Matrix]:
    """The loss and its gradient as a flat column, any dropout masks drawn from ``rng``;
    with ``where``, the outputs are checked as the loss requires."""
    return _kernels.value_and_flat_grad(net, x, y, loss, None, rng, where)[:2]


def _draws(net: Network[Any, Any]) -> bool:
    """Whether a layer of ``net`` draws random masks in training (dropout)."""
    return _block_kernels.draws(net)


def _penalty(net: Network[Any, Any], penalty: Penalty) -> tuple[float, Matrix]:
    return penalty.value(net), _store.column(penalty.gradient(net))


def _with_flat(net: Network[A, B], flat: Matrix) -> Network[A, B]:
    return _store.rebuild(net, flat)


def _opt_step(
    optimizer: Optimizer, flat: Matrix, state: OptState[A, B], net: Network[A, B], where: str
) -> tuple[Network[A, B], OptState[A, B]]:
    """One optimizer step on a flat gradient column, as `typednet.fit` takes it."""
    return optimizer._step(flat, state, net, where)


def _average(
    pairs: list[tuple[Network[A, B], OptState[A, B]]], weights: np.ndarray[Any, Any]
) -> tuple[Network[A, B], OptState[A, B]]:
    """The weighted mean of params and of optimizer states (the step count: the largest)."""
    net0, state0 = pairs[0]
    flat = _weighted_sum(weights, [_store.column(net) for net, _ in pairs])
    columns = tuple(
        _weighted_sum(weights, [s.columns[c] for _, s in pairs]) for c in range(len(state0.columns))
    )
    for column in columns:
        column.setflags(write=False)
    net = _with_flat(net0, flat)
    count = max(s.count for _, s in pairs)
    return net, OptState(count=count, columns=columns, template=net)


def _weighted_sum(weights: np.ndarray[Any, Any], columns: list[Matrix]) -> Matrix:
    """``sum(w * c)`` over the pairs, as one new array."""
    total: Matrix = weights[0] * columns[0]
    for w, column in zip(weights[1:], columns[1:], strict=True):
        total += w * column
    return total


def _blocks(a: DaskInputs) -> list[Delayed]:
    """The array's blocks as delayed values, in order (one column chunk each); for named
    inputs, each chunk a mapping of the inputs' blocks."""
    if isinstance(a, Mapping):
        per_input = [_blocks(b) for b in a.values()]
        return [
            delayed(_named, pure=True)(tuple(a), *blocks) for blocks in zip(*per_input, strict=True)
        ]
    # dask's annotations miss Array.to_delayed: pyright sees no such attribute.
    delayed_blocks = a.to_delayed()  # pyright: ignore[reportAttributeAccessIssue]
    blocks: list[Delayed] = list(delayed_blocks.ravel())
    return blocks


def _named(names: tuple[str, ...], *blocks: Matrix) -> _cols.Named:
    """One column chunk of named inputs: each name's block."""
    return dict(zip(names, blocks, strict=True))


def _result(future: object) -> "_Sum":
    """A compute future's result (distributed leaves compute's return unannotated)."""
    return cast("Future[_Sum]", future).result()
