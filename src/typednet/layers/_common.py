"""What several layer kinds share: finite-value checks, Dim sizes and labels."""

from .._validate import check_finite as check_finite
from ..shapes import Dim

__all__ = ["check_finite", "dim_label", "dim_size"]


def dim_size(dim: object, where: str) -> int:
    """The size of a `Dim` subclass; TypeError for anything else."""
    if isinstance(dim, type) and issubclass(dim, Dim):
        return int(dim.size)
    raise TypeError(f"{where}: dims must be Dim subclasses, got {dim!r}")


def dim_label(dims: tuple[str | None, str | None], sizes: tuple[int, int]) -> str:
    """``Features 5 → Hidden1 3``, or ``5 → 3`` without names."""
    prev, nxt = (f"{n} {s}" if n else str(s) for n, s in zip(dims, sizes, strict=True))
    return f"{prev} → {nxt}"
