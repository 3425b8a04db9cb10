"""A network's input as columns: one array, or a mapping of named arrays (`NamedInputs`).

Samples are columns in every input, so what the training loop and the chunked passes do
to ``x`` (count its columns, keep some of them, look at every array) is the same for a
mapping, done to each of its arrays. A plain array takes the first branch of each
helper; the kernels never look inside ``x`` themselves.
"""

from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt

from .shapes import Matrix

__all__ = ["Columns", "Named", "arrays", "batches", "count", "take"]

X = TypeVar("X")

Named = Mapping[str, "npt.NDArray[Any]"]
"""Named inputs, each one's columns (or ids) by name (`typednet.inputs`)."""

IdsMatrix = np.ndarray[tuple[int, int], np.dtype[np.integer[Any]]]
"""Integer ids, shape (1, n): the input of a network that starts with an Embedding."""

Columns = Matrix | IdsMatrix | Named
"""A network's input as the kernels pass it on to its first layer: one array of columns
(or ids), or a mapping of named inputs."""


def count(x: object) -> int:
    """How many columns (samples) ``x`` holds: every input of a mapping has as many
    (checked at the boundary, `typednet.layers.inputs.NamedInputs.check_inputs`)."""
    if isinstance(x, np.ndarray):
        return int(cast("npt.NDArray[Any]", x).shape[1])
    first = next(iter(cast("Mapping[str, npt.NDArray[Any]]", x).values()))
    return int(first.shape[1])


def take(x: X, cols: slice) -> X:
    """The columns ``cols`` of ``x``: of every array, for a mapping (a new dict)."""
    if isinstance(x, np.ndarray):
        return cast(X, cast("npt.NDArray[Any]", x)[:, cols])
    named = cast("Mapping[str, npt.NDArray[Any]]", x)
    return cast(X, {name: a[:, cols] for name, a in named.items()})


_TAKE_BYTES = 1 << 21  # 2 MiB: about where a set stops fitting in a core's caches
_GATHER = 8  # batches gathered at once from such a set (`batches`)
_GATHER_BYTES = 1 << 25  # 32 MiB: no more in one chunk, unless one batch is larger


def batches(x: X, order: "npt.NDArray[np.intp]", size: int) -> Callable[[int], X]:
    """``batch(k)``: the columns ``order[k * size : (k + 1) * size]`` of ``x`` (of every
    array, for a mapping), for one epoch's steps k = 0, 1, ... in turn.

    ``a[:, cols]`` walks column by column, down every row: on a C-ordered set larger than
    the caches each element is a cache (and TLB) miss. ``np.take`` walks row by row,
    picking the columns out of each: 2.8x faster for a batch of 1024 of 8192 float32
    columns of 784 values (1.26 against 3.5 ms, pinned), but slower on a set that fits in
    the caches and on a Fortran-ordered one. So from a C-ordered array above
    ``_TAKE_BYTES`` the columns of ``_GATHER`` batches are taken in one ``np.take`` (it
    reads every row of the set for each call, however few columns it picks, so this
    reads each row once for eight steps); otherwise each batch is ``a[:, cols]``. The
    ``np.take`` batch is C-ordered where ``a[:, cols]``'s is F-ordered, so a step's
    products round differently (float64 runs agree to 1e-12;
    tests/test_reference_training.py). Each batch is then a view of that chunk: the
    same columns in the same order, with C-ordered rows, so a step's bits are those of
    one `take` per batch. The workspace is that one chunk (at most ``_GATHER_BYTES``,
    at least one batch): O(batch), never a copy of the set.
    """
    if isinstance(x, np.ndarray):
        return cast("Callable[[int], X]", _Batches(cast("npt.NDArray[Any]", x), order, size))
    named = {
        name: _Batches(a, order, size)
        for name, a in cast("Mapping[str, npt.NDArray[Any]]", x).items()
    }
    return lambda k: cast(X, {name: batch(k) for name, batch in named.items()})


def gathered(a: "npt.NDArray[Any]", size: int) -> int:
    """How many batches of ``size`` columns `batches` takes from ``a`` in one ``np.take``
    (a C-ordered array above ``_TAKE_BYTES``), or 0: each batch is taken alone."""
    if not (a.nbytes > _TAKE_BYTES and a.flags.c_contiguous):
        return 0
    batch = a.nbytes // max(a.shape[1], 1) * size
    return int(max(1, min(_GATHER, _GATHER_BYTES // max(batch, 1))))


class _Batches:
    """`batches` for one array."""

    __slots__ = ("_a", "_chunk", "_gather", "_order", "_size")

    def __init__(self, a: "npt.NDArray[Any]", order: "npt.NDArray[np.intp]", size: int) -> None:
        self._a, self._order, self._size = a, order, size
        self._gather = gathered(a, size)
        self._chunk: npt.NDArray[Any] | None = None

    def __call__(self, k: int) -> "npt.NDArray[Any]":
        size = self._size
        if not self._gather:
            return self._a[:, self._order[k * size : (k + 1) * size]]
        j = k % self._gather
        if j == 0 or self._chunk is None:
            self._chunk = None  # the last chunk goes before the next is made
            start = k * size
            self._chunk = np.take(self._a, self._order[start : start + self._gather * size], 1)
        return self._chunk[:, j * size : (j + 1) * size]


def arrays(x: object, name: str = "x") -> list[tuple[str, "npt.NDArray[Any]"]]:
    """Every array of ``x`` with the name a message gives it (``x``, ``x['colour']``)."""
    if isinstance(x, np.ndarray):
        return [(name, cast("npt.NDArray[Any]", x))]
    named = cast("Mapping[str, npt.NDArray[Any]]", x)
    return [(f"{name}[{key!r}]", a) for key, a in named.items()]
