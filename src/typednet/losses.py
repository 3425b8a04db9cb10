"""Losses: ``loss(y_true, y_pred) -> float`` and their gradient with respect to ``y_pred``.

Both arguments have shape (outputs, batch) and must have exactly the same shape: a loss
never broadcasts, so ``(4,)`` against ``(4, 1)`` or ``(4, 1)`` against ``(4, 32)`` is a
`ShapeError`, not a silently wrong number.

>>> import numpy as np
>>> import typednet as tn
>>> y = np.array([[1.0], [0.0]])
>>> y_hat = np.array([[0.5], [0.5]])
>>> tn.mse(y, y_hat)
0.25
>>> tn.mse.gradient(y, y_hat)
array([[-0.5],
       [ 0.5]])
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .shapes import Batch, Matrix, _check_array, checks_enabled

__all__ = ["Loss", "binary_cross_entropy", "cross_entropy", "mae", "mse"]

_Value = Callable[[Matrix, Matrix], float]
_Grad = Callable[[Matrix, Matrix], Matrix]


@dataclass(frozen=True, slots=True)
class Loss:
    """A loss function with its gradient; ``name`` is stable, for saving.

    Call it as ``loss(y_true, y_pred)``; ``loss.gradient(y_true, y_pred)`` is
    d loss / d y_pred, with the shape of ``y_pred``.
    """

    name: str
    value_fn: _Value = field(repr=False, compare=False)
    grad_fn: _Grad = field(repr=False, compare=False)

    def __call__(self, y_true: Batch, y_pred: Batch) -> float:
        """The loss value: a float, averaged as the loss's docstring says."""
        if checks_enabled():
            _check_pair(self.name, y_true, y_pred)
        return self.value_fn(y_true, y_pred)

    def gradient(self, y_true: Batch, y_pred: Batch) -> Batch:
        """d loss / d y_pred, shape (outputs, batch) like ``y_pred``."""
        if checks_enabled():
            _check_pair(self.name, y_true, y_pred)
        return self.grad_fn(y_true, y_pred)


def _check_pair(name: str, y_true: object, y_pred: object) -> None:
    """Both 2-D floating arrays of one shape: never broadcast."""
    # The common case first, in a few attribute reads (as `forward`'s input check); the
    # full check below runs only to explain a failure.
    if (
        isinstance(y_pred, np.ndarray)
        and isinstance(y_true, np.ndarray)
        and y_pred.ndim == 2
        and y_true.shape == y_pred.shape
        and y_pred.shape[1] > 0
        and y_true.dtype == y_pred.dtype
        and y_pred.dtype.kind == "f"
    ):
        return
    axes = ("outputs", "batch")
    hint = "pass a column: .reshape(-1, 1)"
    _check_array(y_pred, f"{name}: y_pred", axes, (None, None), name="y_pred", hint_1d=hint)
    assert isinstance(y_pred, np.ndarray)
    rows, cols = y_pred.shape
    _check_array(
        y_true,
        f"{name}: y_true",
        axes,
        (rows, cols),
        name="y_true",
        dtype=y_pred.dtype,
        dtype_of="y_pred's",
        hint_1d=hint,
        hint_size="a loss never broadcasts: y_true and y_pred need one shape",
    )
    if cols == 0:
        raise ValueError(f"{name}: the batch is empty (y_pred has shape {(rows, cols)})")


# np.add.reduce(a, axis=None) is what np.sum(a) and np.mean(a) reduce with (the same
# bits), without their Python wrappers: a few microseconds on the course's tiny arrays.
def _mse_value(y: Matrix, p: Matrix) -> float:
    d = p - y
    d *= d
    return float(np.add.reduce(d, axis=None) / d.size)


mse = Loss("mse", _mse_value, lambda y, p: (2.0 / p.size) * (p - y))
"""Mean squared error, averaged over every element (as the tutorial)."""

mae = Loss(
    "mae",
    lambda y, p: float(np.mean(np.abs(p - y))),
    lambda y, p: np.sign(p - y) / p.size,
)
"""Mean absolute error, averaged over every element; its gradient is 0 where p == y."""


@functools.cache
def _eps(dtype: np.dtype[np.floating]) -> float:
    return float(np.finfo(dtype).eps)


def _clip(p: Matrix) -> Matrix:
    """p limited to [eps, 1 - eps] (two ufuncs: cheaper than np.clip on small arrays)."""
    eps = _eps(p.dtype)
    out: Matrix = np.maximum(p, eps)
    return np.minimum(out, 1.0 - eps, out=out)


def _y_log(y: Matrix, p: Matrix) -> Matrix:
    """``y * log(clipped p)``, in place on the one new array."""
    q = _clip(p)
    np.log(q, out=q)
    q *= y
    return q


def _bce_value(y: Matrix, p: Matrix) -> float:
    q = _clip(p)
    return float(-np.mean(y * np.log(q) + (1.0 - y) * np.log(1.0 - q)))


def _bce_grad(y: Matrix, p: Matrix) -> Matrix:
    q = _clip(p)
    return (q - y) / (q * (1.0 - q)) / p.size


binary_cross_entropy = Loss("binary_cross_entropy", _bce_value, _bce_grad)
"""-mean(y log p + (1 - y) log(1 - p)) over every element; p is clipped to [eps, 1 - eps]."""

cross_entropy = Loss(
    "cross_entropy",
    lambda y, p: float(-np.add.reduce(_y_log(y, p), axis=None) / p.shape[1]),
    lambda y, p: -y / _clip(p) / p.shape[1],
)
"""-sum(y log p) / batch: softmax outputs p, one-hot targets y, one column per sample.

With a softmax output layer, `grad` uses the fused, stable gradient (p - y) / batch.
"""


def _by_name(name: str) -> Loss:
    known = {loss.name: loss for loss in (mse, mae, binary_cross_entropy, cross_entropy)}
    if name not in known:
        raise ValueError(f"unknown loss {name!r}; known: {sorted(known)}")
    return known[name]
