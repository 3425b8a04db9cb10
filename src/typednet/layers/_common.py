"""What several layer kinds share: finite-value checks, eps, normalization, Dim sizes
and labels."""

import functools
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from .. import _validate
from .._validate import check_finite as check_finite
from ..shapes import Dim, Matrix

__all__ = [
    "check_eps",
    "check_finite",
    "dim_label",
    "dim_size",
    "limit",
    "normalize",
]


def dim_size(dim: object, where: str) -> int:
    """The size of a `Dim` subclass; TypeError for anything else."""
    if isinstance(dim, type) and issubclass(dim, Dim):
        return int(dim.size)
    raise TypeError(f"{where}: dims must be Dim subclasses, got {dim!r}")


def check_eps(where: str, eps: object, dtype: np.dtype[np.floating[Any]]) -> float:
    """A normalization's eps: a number > 0 that stays finite and > 0 in ``dtype`` (1e-50
    is 0 in float32: a constant feature would give 0 / 0)."""
    value = _validate.positive(where, "eps", eps)
    with np.errstate(over="ignore"):
        rounded = dtype.type(value)
    if not 0.0 < rounded < np.inf:
        raise ValueError(
            f"{where}: eps must stay a finite number > 0 in {dtype}, got {eps!r}, which "
            f"rounds to {rounded} there"
        )
    return value


def normalize(x: Matrix, eps: float, axis: Literal[0, 1]) -> tuple[Matrix, Matrix]:
    """``(xhat, 1 / sqrt(var + eps))`` along ``axis`` (0: over each column's features, as
    LayerNorm; 1: over the batch, per feature, as BatchNorm), with the population
    variance, without overflow for any finite x."""
    # Squares overflow only past limit, far beyond any real input: two reductions tell,
    # and only such an x pays for the scaled form below.
    bound = limit(x.dtype, x.shape[axis])
    if np.minimum.reduce(x, axis=None) >= -bound and np.maximum.reduce(x, axis=None) <= bound:
        return _normalized(x, eps, axis)
    # Each slice larger than 1 divided by its largest magnitude s: normalizing x / s
    # with eps / s**2 is the same function (that eps kept above 0, so that a constant
    # slice still gives 0, not 0 / 0).
    s = np.maximum(np.maximum.reduce(np.abs(x), axis=axis, keepdims=True), 1.0)
    xhat, inv_std = _normalized(x / s, np.maximum(eps / s / s, np.finfo(x.dtype).tiny), axis)
    inv_std /= s
    return xhat, inv_std


def normalized_backward(
    upstream: Matrix,
    xhat: Matrix,
    scale: Matrix,
    inv_std: Callable[[], Matrix],
    grads: tuple[Matrix, ...],
    *,
    axis: Literal[0, 1],
    need_input: bool,
) -> Matrix | None:
    """The backward pass of ``post = scale * xhat + shift``, ``xhat`` normalized along
    ``axis`` (0: each column, LayerNorm; 1: each feature over the batch, BatchNorm).

    Writes d loss / d scale and d shift into ``grads``; returns d loss / d x when
    ``need_input``, for which ``inv_std()`` gives 1 / std along ``axis``.
    """
    ones = np.ones((xhat.shape[1], 1), xhat.dtype)  # a @ ones sums over the batch, faster
    np.matmul(upstream * xhat, ones, out=grads[0])
    np.matmul(upstream, ones, out=grads[1])
    if not need_input:
        return None
    # Every xhat along the axis depends on the whole axis's mean and variance.
    dxhat = upstream * scale
    out: Matrix = inv_std() * (
        dxhat
        - dxhat.mean(axis=axis, keepdims=True)
        - xhat * (dxhat * xhat).mean(axis=axis, keepdims=True)
    )
    return out


def _normalized(x: Matrix, eps: float | Matrix, axis: int) -> tuple[Matrix, Matrix]:
    """``(xhat, 1 / sqrt(var + eps))`` along ``axis``, as written."""
    centred = x - x.mean(axis=axis, keepdims=True)
    inv_std: Matrix = 1.0 / np.sqrt((centred * centred).mean(axis=axis, keepdims=True) + eps)
    return centred * inv_std, inv_std


@functools.cache
def limit(dtype: np.dtype[np.floating[Any]], n: int) -> float:
    """Values within ±limit square without overflow: n squares of (2 limit) sum to at
    most the dtype's largest float."""
    return float(np.sqrt(np.finfo(dtype).max / (4.0 * n)))


def dim_names(dims: tuple[type[Any], type[Any]] | None) -> tuple[str | None, str | None]:
    """The names of a layer's (prev, next) dim classes; (None, None) for plain sizes."""
    return (None, None) if dims is None else (dims[0].__name__, dims[1].__name__)


def dim_label(dims: tuple[str | None, str | None], sizes: tuple[int, int]) -> str:
    """``Features 5 → Hidden1 3``, or ``5 → 3`` without names."""
    prev, nxt = (f"{n} {s}" if n else str(s) for n, s in zip(dims, sizes, strict=True))
    return f"{prev} → {nxt}"
