"""What several layer kinds share: finite-value checks, eps, Dim sizes and labels."""

from typing import Any

import numpy as np

from .. import _validate
from .._validate import check_finite as check_finite
from ..shapes import Dim

__all__ = ["check_eps", "check_finite", "dim_label", "dim_size"]


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


def dim_label(dims: tuple[str | None, str | None], sizes: tuple[int, int]) -> str:
    """``Features 5 → Hidden1 3``, or ``5 → 3`` without names."""
    prev, nxt = (f"{n} {s}" if n else str(s) for n, s in zip(dims, sizes, strict=True))
    return f"{prev} → {nxt}"
