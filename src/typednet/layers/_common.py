"""What several layer kinds share: finite-value checks, Dim sizes and labels."""

import numpy as np

from ..shapes import Dim, Matrix

__all__ = ["check_finite", "dim_label", "dim_size"]


def check_finite(a: Matrix, where: str) -> None:
    """ValueError when ``a`` holds NaN or inf (named by ``where``, never by value)."""
    if not np.isfinite(a).all():
        raise ValueError(f"{where}: contains NaN or inf")


def dim_size(dim: object, where: str) -> int:
    """The size of a `Dim` subclass; TypeError for anything else."""
    if isinstance(dim, type) and issubclass(dim, Dim):
        return int(dim.size)
    raise TypeError(f"{where}: dims must be Dim subclasses, got {dim!r}")


def dim_label(dims: tuple[str | None, str | None], sizes: tuple[int, int]) -> str:
    """``Features 5 → Hidden1 3``, or ``5 → 3`` without names."""
    prev, nxt = (f"{n} {s}" if n else str(s) for n, s in zip(dims, sizes, strict=True))
    return f"{prev} → {nxt}"
