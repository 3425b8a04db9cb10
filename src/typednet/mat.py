"""Typed maths: `Mat[R, C]`, a matrix whose dims are types, for hand-written maths.

A `Mat[R, C]` has R rows and C columns, each a `Dim` class (a layer size) or a
`BatchDim` class (the unsized batch axis). The checkers then see the course's
conventions: ``m.T`` is a ``Mat[C, R]``; ``Mat[R, K] @ Mat[K, C]`` is a ``Mat[R, C]``
and any other inner dim is an error; ``+`` and ``-`` take the same dims or a column
bias ``Mat[R, One]``; an activation keeps the dims. So ``x @ w1``, ``w1.T @ x`` or a
bias of another layer are type errors in mypy and pyright, not only at run time.

At run time a `Mat` is a thin, immutable wrapper over a read-only 2-D floating array;
every size is checked, the batch size by comparing the two operands, and nothing
broadcasts except a column bias over the columns.

Examples:
    >>> import numpy as np
    >>> import typednet as tn
    >>> class Features(tn.Dim, size=2): ...
    >>> class Hidden(tn.Dim, size=3): ...
    >>> w = tn.mat(np.ones((3, 2)), Hidden, Features)
    >>> x = tn.mat(np.ones((2, 4)), Features, tn.Samples)
    >>> w @ x + tn.mat(np.zeros((3, 1)), Hidden, tn.One)
    Mat[Hidden, Samples](shape (3, 4) float64)
    >>> tn.mat(np.ones((2, 3)), Hidden, Features)
    Traceback (most recent call last):
    ...
    typednet.shapes.ShapeError: tn.mat(array, Hidden, Features): expected (Hidden, Features) = (3, 2), got shape (2, 3) float64; did you pass array.T?
"""  # noqa: E501

from typing import Any, Generic, NoReturn, TypeVar, cast

import numpy as np

from ._validate import check_finite
from .shapes import Dim, Matrix, MatrixOf, ShapeError, _check_array, _frozen, _frozen_copy

__all__ = ["BatchDim", "Mat", "One", "Samples", "mat"]

R = TypeVar("R")
C = TypeVar("C")
K = TypeVar("K")
_F = TypeVar("_F", bound=np.floating[Any])  # no default: it precedes R and C in mat


class One(Dim, size=1):
    """The size-1 dim of a column: a bias is a ``Mat[Next, One]``, one sample ``Mat[F, One]``."""


class BatchDim:
    """The batch axis as a type: any size, checked for agreement within an expression.

    Subclass it (``class Batch(tn.BatchDim): ...``) or use the provided `Samples`. Like
    a `Dim`, the class is never instantiated.
    """

    def __new__(cls) -> "BatchDim":
        raise TypeError(f"{cls.__name__} is a batch axis, not a value")


class Samples(BatchDim):
    """The provided batch dim: samples side by side as columns, any number of them.

    (``tn.Batch`` is the array alias for a ``(n, batch)`` array, hence this name.)
    """


def _size(dim: object, where: str) -> int | None:
    """A dim's size, or None for a batch dim; TypeError for anything else."""
    if isinstance(dim, type):
        if issubclass(dim, Dim):
            return int(dim.size)
        if issubclass(dim, BatchDim):
            return None
    raise TypeError(f"{where}: dims must be tn.Dim or tn.BatchDim subclasses, got {dim!r}")


class Mat(Generic[R, C]):
    """A read-only matrix with R rows and C columns, R and C given as dim classes.

    Build one with `mat`; read the array with ``m.array`` or ``np.asarray(m)``. It has
    no setters and its array is read-only: maths makes new matrices.
    """

    __slots__ = ("_array", "_dims")
    _array: Matrix
    _dims: tuple[type[R], type[C]]

    def __init__(self) -> None:
        raise TypeError("build a Mat with tn.mat(array, Rows, Cols)")

    @property
    def array(self) -> Matrix:
        """The values, read-only, shape (R, C)."""
        return self._array

    @property
    def dims(self) -> tuple[type[R], type[C]]:
        """The ``(R, C)`` dim classes."""
        return self._dims

    @property
    def shape(self) -> tuple[int, int]:
        """The run-time shape ``(rows, cols)``."""
        return self.array.shape

    @property
    def T(self) -> "Mat[C, R]":
        """The transpose: a ``Mat[C, R]``."""
        return _wrap(self._array.T, (self._dims[1], self._dims[0]))

    def __matmul__(self, other: "Mat[C, K]") -> "Mat[R, K]":
        """``self @ other``: the inner dims must agree, statically and at run time."""
        a, b = self._array, other._array
        if a.shape[1] != b.shape[0] or a.dtype != b.dtype:
            _mismatch("@", self, other, "the inner dims to agree")
        return _wrap(a @ b, (self._dims[0], other._dims[1]))

    def __add__(self, other: "Mat[R, C] | Mat[R, One]") -> "Mat[R, C]":
        """``self + other``, the same dims, or a column bias ``Mat[R, One]`` over each column."""
        return _wrap(np.add(self._array, _operand("+", self, other)), self._dims)

    def __sub__(self, other: "Mat[R, C] | Mat[R, One]") -> "Mat[R, C]":
        """``self - other``, the same dims, or a column ``Mat[R, One]`` from each column."""
        return _wrap(np.subtract(self._array, _operand("-", self, other)), self._dims)

    def __array__(self, dtype: np.dtype[Any] | None = None, copy: bool | None = None) -> Matrix:
        """The values for NumPy (``np.asarray(m)``): read-only, copied only when asked."""
        if dtype is not None and dtype != self._array.dtype:
            return self._array.astype(dtype)
        return self._array.copy() if copy else self._array

    def __repr__(self) -> str:
        rows, cols = (d.__name__ for d in self.dims)
        return f"Mat[{rows}, {cols}](shape {self.array.shape} {self.array.dtype})"


# _F appears once: it is there so that mypy rejects an inline integer array (shapes.py).
def mat(array: MatrixOf[_F], rows: type[R], cols: type[C]) -> Mat[R, C]:  # pyright: ignore[reportInvalidTypeVarUse]
    """A typed matrix: ``array`` checked against the dims, copied and made read-only.

    Args:
        array: the values, shape (rows, cols): a `Dim` fixes its axis's size, a
            `BatchDim` takes any size.
        rows: the dim class of the rows, e.g. ``Hidden1``.
        cols: the dim class of the columns, e.g. ``Features``, `One` or `Samples`.

    Raises:
        ShapeError: a wrong shape, rank or dtype (not a 2-D floating array).
        ValueError: NaN or inf in ``array``.

    Examples:
        >>> import numpy as np
        >>> import typednet as tn
        >>> class Hidden(tn.Dim, size=3): ...
        >>> tn.mat(np.zeros((3, 1)), Hidden, tn.One).T
        Mat[One, Hidden](shape (1, 3) float64)
    """
    where = f"tn.mat(array, {getattr(rows, '__name__', rows)}, {getattr(cols, '__name__', cols)})"
    sizes = (_size(rows, where), _size(cols, where))
    _check_array(array, where, (rows.__name__, cols.__name__), sizes, name="array")
    check_finite(array, where)
    return _wrap(_frozen_copy(array), (rows, cols))


def _wrap(array: Matrix, dims: tuple[type[R], type[C]]) -> Mat[R, C]:
    """A `Mat` around ``array`` (made read-only), unchecked: for results of checked maths."""
    m = cast("Mat[R, C]", object.__new__(Mat))
    m._array = _frozen(array)
    m._dims = dims
    return m


def _operand(op: str, left: Mat[Any, Any], right: Mat[Any, Any]) -> Matrix:
    """``right``'s array if it has ``left``'s shape, or is a column bias; else ShapeError."""
    a, b = left._array, right._array
    fits = a.shape == b.shape or (a.shape[0] == b.shape[0] and right._dims[1] is One)
    if fits and a.dtype == b.dtype:
        return b
    _mismatch(op, left, right, "the same shape, or a column bias (next, 1)")


def _mismatch(op: str, left: Mat[Any, Any], right: Mat[Any, Any], want: str) -> NoReturn:
    """Raise the ShapeError for ``left op right``, naming both dims and shapes."""

    def show(m: Mat[Any, Any]) -> str:
        rows, cols = (d.__name__ for d in m.dims)
        return f"Mat[{rows}, {cols}] of shape {m.array.shape} {m.array.dtype}"

    message = f"{show(left)} {op} {show(right)}: expected {want}"
    if left.array.dtype != right.array.dtype:
        message += f"; pass both in one dtype (np.{left.array.dtype.name})"
    elif op == "@" and left.array.shape[1] == right.array.shape[1]:
        message += "; did you mean right.T?"
    elif any(issubclass(d, BatchDim) for d in (*left.dims, *right.dims)):
        message += f"; the batch sizes differ: {left.array.shape} and {right.array.shape}"
    raise ShapeError(message)
