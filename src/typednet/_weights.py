"""Sample weights: checked once, then turned into the factors the kernels multiply by.

The weighted mean of per-sample losses ``l_j`` is ``sum(w_j l_j) / sum(w_j)``, as in
scikit-learn; with every weight 1 it is the plain mean. A batch is normalised by its own
weights: `scale` gives the per-column factors ``u_j = w_j n / sum(w)`` (n the batch's
columns) that turn an unweighted mean over the batch into the weighted one, for the loss
and, column by column, for its gradient. A batch whose weights are all zero (possible
inside `fit`, never in a checked call) has factors 0: its loss and gradient are 0.
`shares` is computed once per batch; `mean` and `scale` take it.
"""

from typing import Any

import numpy as np

from .shapes import Matrix, ShapeError, _check_kind, _got, _is_array

__all__ = ["check", "mean", "row", "scale", "shares"]


def check(
    w: object,
    n: int,
    dtype: np.dtype[np.floating[Any]],
    where: str,
    *,
    name: str = "sample_weight",
    of: str = "x",
) -> Matrix:
    """``w`` as a fresh (1, n) row of ``dtype``: one weight per column of ``of``.

    ShapeError unless ``w`` is an integer or floating array of shape (n,) or (1, n);
    ValueError for NaN or inf, a negative weight, or all zeros (never showing a value).
    """
    shown = f"(batch,) = ({n},) or (1, batch) = (1, {n})"
    want = f"{where} {name}: expected {shown}, one weight per column of {of}"
    if not _is_array(w):
        got = _got(w)
        hint = "; convert it with np.asarray(...)" if isinstance(w, list | tuple) else ""
        raise ShapeError(f"{want}, got {got}{hint}")
    _check_kind(w, f"{where} {name}", name)
    if w.dtype.kind not in "iuf":
        raise ShapeError(
            f"{where} {name}: expected integer or floating weights, got dtype {w.dtype}; "
            f"pass {name}.astype(np.float64)"
        )
    if w.shape not in ((n,), (1, n)):
        if w.ndim == 2 and w.shape[1] == 1 and w.shape[0] == n:
            hint = f"; samples are columns: pass {name}.reshape(1, -1)"
        elif w.ndim in (1, 2) and w.size != n:
            hint = f"; {of} has {n} columns (samples)"
        else:
            hint = ""
        raise ShapeError(f"{want}, got {_got(w)}{hint}")
    values = w.reshape(1, n)
    if w.dtype.kind == "f" and not np.isfinite(values).all():
        raise ValueError(f"{where}: {name} contains NaN or inf; weights must be finite")
    if values.min() < 0:
        col = int(np.argmax(values < 0))
        raise ValueError(
            f"{where}: {name} must be >= 0, but the weight of column {col} is negative"
        )
    if not values.any():
        raise ValueError(f"{where}: {name} is all zero; at least one sample needs a weight > 0")
    with np.errstate(over="ignore"):  # a weight beyond float32's range: refused below
        out: Matrix = values.astype(dtype)  # a copy: the caller's array is never written to
    if not np.isfinite(out).all():
        raise ValueError(f"{where}: {name} holds a weight too large for {dtype}")
    return out


def row(w: object, dtype: np.dtype[np.floating[Any]]) -> Matrix:
    """Unchecked (inside ``tn.no_checks()``): ``w`` as a (1, n) row of ``dtype``."""
    out: Matrix = np.asarray(w, dtype=dtype).reshape(1, -1)
    return out


def shares(w: Matrix) -> Matrix:
    """``w / sum(w)``, shape (1, n), in float64: each share is <= 1, so nothing
    overflows whatever the weights' scale (subnormal or huge); zeros when every weight
    is 0."""
    wide: Matrix = w.astype(np.float64)
    total = float(np.add.reduce(wide, axis=None))
    if total == 0.0:
        return wide
    wide /= total
    return wide


def mean(per_sample: Matrix, share: Matrix) -> float:
    """``sum(w_j l_j) / sum(w_j)`` for per-sample values ``l``, shape (1, n), given the
    weights' `shares`; 0.0 when every weight is 0."""
    return float(np.dot(per_sample.ravel(), share.ravel()))


def scale(share: Matrix, dtype: np.dtype[np.floating[Any]]) -> Matrix:
    """The factors ``w_j n / sum(w)``, shape (1, n), in ``dtype``, from the weights'
    `shares`: an unweighted mean over the n columns times them is the weighted mean."""
    out: Matrix = (share * share.shape[1]).astype(dtype)
    return out
