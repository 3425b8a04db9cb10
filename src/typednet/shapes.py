"""Shapes as types: layer sizes (`Dim`), array aliases, `ShapeError` and the checks.

Every array in typednet is a matrix. A layer's values are a column, shape ``(n, 1)``;
a batch is several columns side by side, shape ``(n, batch)``; a weight matrix is
``(next, prev)``; a bias is ``(next, 1)``.

The aliases carry the rank and the dtype for mypy (``Matrix`` is a 2-D floating array,
so a 1-D or an integer array is a type error) and the axis names for jaxtyping.
"""

from collections.abc import Generator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

import numpy as np
import numpy.typing as npt
from jaxtyping import Float, Int, Real
from typing_extensions import TypeIs, TypeVar

__all__ = [
    "Batch",
    "Bias",
    "Column",
    "Dim",
    "Ids",
    "Inputs",
    "Matrix",
    "SampleWeights",
    "ShapeError",
    "Targets",
    "Weight",
    "checks_enabled",
    "no_checks",
]

Matrix = np.ndarray[tuple[int, int], np.dtype[np.floating[Any]]]
"""A 2-D floating array: what every typednet array is, for mypy."""

Column = Float[Matrix, "n 1"]
"""One sample: a column of ``n`` values, shape ``(n, 1)``."""

Batch = Float[Matrix, "n batch"]
"""Samples side by side as columns, shape ``(n, batch)``; every Batch in one signature
has the same shape (an activation's pre and post, a loss's y_true and y_pred)."""

Inputs = Float[Matrix, "features batch"]
"""A network's input columns, shape ``(features, batch)``."""

Ids = Int[np.ndarray[tuple[int, int], np.dtype[np.integer[Any]]], "1 batch"]
"""Integer category ids, one per column, shape ``(1, batch)``: what an input that starts
with an `Embedding` takes (in a `NamedInputs` mapping, typed by a TypedDict)."""

Targets = Float[Matrix, "outputs batch"]
"""A network's output or target columns, shape ``(outputs, batch)``."""

Weight = Float[Matrix, "next prev"]
"""A weight matrix, shape ``(next, prev)``: row i holds the weights into node i."""

Bias = Float[Matrix, "next 1"]
"""A bias column, shape ``(next, 1)``."""

SampleWeights = np.ndarray[
    tuple[int] | tuple[int, int], np.dtype[np.integer[Any] | np.floating[Any]]
]
"""One weight per sample (per column of x): shape ``(batch,)`` or ``(1, batch)``, ints
or floats; non-negative, finite and not all zero (checked at run time). A 3-D, bool,
complex or list argument is a type error; a column ``(batch, 1)`` is 2-D like a row, so
only the run-time check refuses it."""

WeightShapeT = TypeVar(
    "WeightShapeT", bound=tuple[int] | tuple[int, int], default=tuple[int] | tuple[int, int]
)
"""The rank of a call's sample weights, for the checkers: solved from the argument, so
that an inline ``np.ones((1, n))`` is seen as 2-D (against the union in `SampleWeights`
itself, mypy infers NumPy's shape as ``tuple[int, ...]`` and refuses it)."""

NamedT = TypeVar("NamedT", bound=Mapping[str, object])
"""The TypedDict of a network's named inputs (`typednet.inputs`): a network over them is
a ``Network[Spec, ...]``, and the public entry points take a ``Spec`` for its input."""

FloatT = TypeVar("FloatT", bound=np.floating[Any], default=np.floating[Any])
"""The one floating dtype of a call's arrays, for the checkers (a default, so that it
may follow the dims' type variables, which have one)."""


class _Named:
    """At run time ``InputsOf[FloatT]`` is the jaxtyping alias with the axis names."""

    __slots__ = ("alias",)

    def __init__(self, alias: object) -> None:
        self.alias = alias

    def __getitem__(self, _: object) -> object:
        return self.alias


if TYPE_CHECKING:
    # For the checkers, the public entry points take these instead of `Matrix`: against
    # a type variable bound to floating, mypy solves NumPy's overloads to the real dtype,
    # so an inline integer array (``tn.forward(net, np.zeros((5, 1), dtype=np.int64))``)
    # is rejected; against `Matrix`, mypy resolves it to dtype[Any] and accepts it. Each
    # call's arrays share one dtype, as the run-time checks demand.
    InputsOf: TypeAlias = np.ndarray[tuple[int, int], np.dtype[FloatT]]
    TargetsOf: TypeAlias = np.ndarray[tuple[int, int], np.dtype[FloatT]]
    BatchOf: TypeAlias = np.ndarray[tuple[int, int], np.dtype[FloatT]]
    MatrixOf: TypeAlias = np.ndarray[tuple[int, int], np.dtype[FloatT]]
    SampleWeightsOf: TypeAlias = np.ndarray[
        WeightShapeT, np.dtype[np.integer[Any] | np.floating[Any]]
    ]
else:
    # A network that starts with an Embedding takes integer ids (1, n) where others take
    # floating columns: the run-time checks tell which a network needs.
    InputsOf = _Named(Inputs | Ids)
    TargetsOf = _Named(Targets)
    BatchOf = _Named(Batch)
    MatrixOf = _Named(Matrix)
    # jaxtyping's axis names, which also tie the weights to x's batch (beartype cannot
    # check `SampleWeights`' union of dtypes).
    SampleWeightsOf = _Named(Real[np.ndarray, "batch"] | Real[np.ndarray, "1 batch"])


class ShapeError(TypeError):
    """A wrong shape, rank or dtype.

    The message says where (layer and field), what was expected in (next, prev) terms,
    what was passed (shapes and dtypes, never values) and, when one is likely, a hint.
    """

    def _repr_html_(self) -> str:
        """In a notebook: the message as where / expected / got / hint."""
        from ._html import shape_error  # _html needs the layers, which need this module

        return shape_error(self)


class Dim:
    """A layer size as a type, so mypy can check how layers are wired.

    Subclass it with the size as a class keyword; the class is never instantiated:

    Examples:
        >>> class Hidden1(Dim, size=3): ...
        >>> Hidden1.size
        3
    """

    size: ClassVar[int]

    def __init_subclass__(cls, *, size: int, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"Dim {cls.__name__}: size must be a positive int, got {size!r}")
        cls.size = size

    def __new__(cls) -> "Dim":
        raise TypeError(f"{cls.__name__} is a size, not a value: use {cls.__name__}.size")


# --- the per-call checks switch ---------------------------------------------------------

_CHECKS: ContextVar[bool] = ContextVar("typednet_checks", default=True)


def checks_enabled() -> bool:
    """Whether the public functions check their array arguments (the default)."""
    return _CHECKS.get()


@contextmanager
def no_checks() -> Generator[None]:
    """Turn off the per-call input checks inside a ``with`` block.

    Parameters are always validated when they are built; this switch only skips the
    checks of each call's inputs (``x``, ``y``), a few microseconds a call. A wrong
    shape inside the block then surfaces as NumPy's own error, or not at all.

    Examples:
        >>> import typednet as tn
        >>> with tn.no_checks():
        ...     tn.checks_enabled()
        False
    """
    token = _CHECKS.set(False)
    try:
        yield
    finally:
        _CHECKS.reset(token)


# --- message helpers ---------------------------------------------------------------------


def _is_array(a: object) -> TypeIs[np.ndarray[tuple[Any, ...], np.dtype[Any]]]:
    """``isinstance(a, np.ndarray)``, narrowing to a known (any-shape, any-dtype) array.

    (A bare isinstance leaves pyright an ``ndarray[Unknown, Unknown]``.)
    """
    return isinstance(a, np.ndarray)


def _got(a: object) -> str:
    """Describe what was passed by its type, shape and dtype; never by its values."""
    if _is_array(a):
        return f"shape {tuple(a.shape)} {a.dtype}"
    return f"a {type(a).__name__}, not a NumPy array"


def _frozen(a: Matrix) -> Matrix:
    """``a`` itself, made read-only."""
    a.setflags(write=False)
    return a


def _frozen_copy(a: Matrix) -> Matrix:
    """A read-only copy of ``a``: the caller's array stays writable and unlinked (``a``
    itself inside `_adopting` when it is one of the views handed over)."""
    if not a.flags.writeable and id(a) in _ADOPTED.get()[2]:  # alive: _ADOPTED holds them
        return a
    return _frozen(np.array(a, copy=True))


_ADOPTED: ContextVar[tuple[Matrix | None, tuple[Matrix, ...], frozenset[int]]] = ContextVar(
    "typednet_adopted", default=(None, (), frozenset())
)


@contextmanager
def _adopting(column: Matrix, views: tuple[Matrix, ...]) -> Generator[None]:
    """Inside the block, build layers and a network on ``column`` without copying it.

    ``views`` are read-only views of ``column`` (read-only too), each param's in
    `Network.params` order. Layer constructors keep these very arrays instead of a copy,
    and a network whose params are exactly them takes ``column`` as its own (see
    `_adopted_column`). For `typednet.io.load`, which reads a file straight into a
    column it made and keeps no writable alias of: its memory is then the params' bytes,
    not three times them. Any other array is copied as usual.
    """
    token = _ADOPTED.set((column, views, frozenset(map(id, views))))
    try:
        yield
    finally:
        _ADOPTED.reset(token)


def _adopted_column(params: list[Matrix]) -> Matrix | None:
    """The column handed over by `_adopting` when ``params`` are its views, in order."""
    column, views, _ = _ADOPTED.get()
    if len(params) != len(views) or any(p is not v for p, v in zip(params, views, strict=True)):
        return None
    return column


def _fmt(expected: tuple[int | str, ...]) -> str:
    return "(" + ", ".join(str(e) for e in expected) + ")"


def _check_array(
    a: object,
    where: str,
    axes: tuple[str, str],
    expected: tuple[int | None, int | None],
    *,
    name: str,
    dtype: np.dtype[Any] | None = None,
    hint_1d: str = "",
    hint_t: str = "",
    hint_size: str = "",
    dtype_of: str = "the network's",
) -> None:
    """Raise ShapeError unless ``a`` is a 2-D floating array of the expected shape.

    ``expected`` holds a size per axis, or None for any size; ``dtype``, when given, is
    the exact dtype required, and ``dtype_of`` says whose (default: the network's).
    ``hint_1d`` is added for a 1-D array, ``hint_t`` (default: ``did you pass
    {name}.T?``) when the transpose would fit, and ``hint_size`` for any other wrong size.
    """
    shown = _fmt(tuple(e if e is not None else n for e, n in zip(expected, axes, strict=True)))
    want = f"expected ({', '.join(axes)}) = {shown}"
    if not _is_array(a):
        got, dask = _got(a), hasattr(a, "__dask_graph__")
        hint = "; convert it with np.asarray(...)" if isinstance(a, list | tuple) else ""
        if dask:  # a Dask collection: chunks, not one array
            hint = "; for a Dask array use typednet.dask (forward, value_and_grad, fit)"
        raise ShapeError(f"{where}: {want}, got {got}{hint}")
    _check_kind(a, where, name)
    if a.ndim != 2:
        hint = f"; {hint_1d}" if a.ndim == 1 and hint_1d else ""
        raise ShapeError(f"{where}: {want}, got a {a.ndim}-D array of {_got(a)}{hint}")
    if a.dtype.kind != "f":
        target = (dtype if dtype is not None else np.dtype(np.float64)).name
        raise ShapeError(
            f"{where}: expected a floating dtype, got {a.dtype}; pass {name}.astype(np.{target})"
        )
    rows, cols = a.shape
    want_rows, want_cols = expected
    if (want_rows is not None and rows != want_rows) or (
        want_cols is not None and cols != want_cols
    ):
        fits_t = (want_rows is None or cols == want_rows) and (
            want_cols is None or rows == want_cols
        )
        if fits_t:
            hint = f"; {hint_t or f'did you pass {name}.T?'}"
        else:
            hint = f"; {hint_size}" if hint_size else ""
        raise ShapeError(f"{where}: {want}, got {_got(a)}{hint}")
    if a.dtype not in FLOAT_DTYPES:
        raise ShapeError(
            f"{where}: {float_dtype_message(a.dtype, f'pass {name}.astype(np.float32)')}"
        )
    if any(n == 0 and axis != "batch" for axis, n in zip(axes, a.shape, strict=True)):
        raise ShapeError(
            f"{where}: {want}, got {_got(a)}; every size must be at least 1 (no zero-size layers)"
        )
    if dtype is not None and a.dtype != dtype:
        fix = f"pass {name}.astype(np.{dtype.name})"
        if dtype_of == "the network's":
            fix += f" or build the network in {a.dtype}"
        raise ShapeError(f"{where}: expected dtype {dtype} ({dtype_of}), got {a.dtype}; {fix}")


FLOAT_DTYPES = frozenset({np.dtype(np.float32), np.dtype(np.float64)})
"""The dtypes typednet computes in. float16 is refused: its epsilon (about 1e-3) and
its range (65504) break the optimizers' eps terms and the losses' clipping, and NumPy
computes it through float32 anyway. longdouble is refused: it is not portable."""

PLAIN_ARRAY_TYPES = frozenset({np.ndarray, np.memmap})
"""Array types accepted in a few attribute reads on the fast paths; any other
ndarray subclass goes through `_check_kind`."""


def float_dtype_message(dtype: np.dtype[Any], fix: str) -> str:
    """The one message for a floating dtype typednet does not compute in (float16, ...)."""
    return (
        f"expected float32 or float64, got {dtype}; typednet computes in float32 or "
        f"float64 only (float16 is not supported); {fix}"
    )


def _check_kind(a: "npt.NDArray[Any]", where: str, name: str) -> None:
    """ShapeError for an ndarray subclass that changes NumPy's arithmetic.

    Plain arrays and subclasses that keep it (``np.memmap``, views) pass. ``np.matrix``
    makes ``*`` a matrix product and masked arrays hide values from every check, so both
    would give silently wrong numbers.
    """
    kind = type(a)
    if kind in PLAIN_ARRAY_TYPES:
        return
    if isinstance(a, np.ma.MaskedArray):
        raise ShapeError(
            f"{where}: got a masked array ({kind.__name__}), which would hide its masked "
            f"values from typednet's checks; pass {name}.filled(value) with the value the "
            "masked entries stand for"
        )
    if not _keeps_arithmetic(kind):
        raise ShapeError(
            f"{where}: got a {kind.__module__}.{kind.__name__}, an ndarray subclass that "
            f"changes NumPy's arithmetic (np.matrix makes * a matrix product); pass "
            f"np.asarray({name})"
        )


_ARITHMETIC = (
    "__add__", "__sub__", "__mul__", "__matmul__", "__truediv__", "__pow__", "__neg__",
    "__array_ufunc__", "__array_function__",
)  # fmt: skip


def _keeps_arithmetic(kind: type) -> bool:
    """Whether an ndarray subclass leaves NumPy's operators and ufuncs as they are."""
    return all(getattr(kind, op) is getattr(np.ndarray, op) for op in _ARITHMETIC) and not (
        issubclass(kind, np.matrix)
    )
