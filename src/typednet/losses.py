"""Losses: ``loss(y_true, y_pred) -> float`` and their gradient with respect to ``y_pred``.

Both arguments have shape (outputs, batch) and must have exactly the same shape: a loss
never broadcasts, so ``(4,)`` against ``(4, 1)`` or ``(4, 1)`` against ``(4, 32)`` is a
`ShapeError`, not a silently wrong number.

The losses of probabilities check them (when `typednet.checks_enabled`):
`binary_cross_entropy` wants every ``y_pred`` in [0, 1] and `cross_entropy` also wants
each column to sum to 1 within `SUM_TOLERANCE`; anything else, such as the raw outputs
of an identity layer, is a `ValueError` suggesting a sigmoid or softmax output layer or
the logits forms, `softmax_cross_entropy` and `sigmoid_binary_cross_entropy`, which
take those raw outputs (logits) and are fused and stable.

Every loss takes an optional ``sample_weight``, one non-negative weight per column:
the value is then the weighted mean ``sum(w_j l_j) / sum(w_j)`` of the per-sample
losses ``l_j`` (scikit-learn's definition; with all weights 1, the plain value), and
the gradient is that mean's. A sample's loss ``l_j`` is its column's share of the
unweighted loss times the batch size: the mean over its rows for `mse`, `mae` and the
binary cross-entropies, the sum over its rows for the categorical ones.

The cross-entropies check their targets too, since no other target has a meaning (and
a loss that can fall below zero trains towards nonsense): both binary ones want every
``y_true`` in [0, 1] (labels, or soft labels), both categorical ones a distribution per
column (one-hot, or soft labels: values >= 0 summing to 1 within `SUM_TOLERANCE`).

Examples:
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, SupportsIndex, cast

import numpy as np

from . import _weights
from .activations import sigmoid
from .shapes import (
    FLOAT_DTYPES,
    BatchOf,
    FloatT,
    Matrix,
    SampleWeightsOf,
    WeightShapeT,
    _check_array,
    _is_array,
    checks_enabled,
)

__all__ = [
    "SUM_TOLERANCE",
    "Loss",
    "binary_cross_entropy",
    "cross_entropy",
    "mae",
    "mse",
    "sigmoid_binary_cross_entropy",
    "softmax_cross_entropy",
]

_Value = Callable[[Matrix, Matrix], float]
_Grad = Callable[[Matrix, Matrix], Matrix]
# (y, p) -> each column's loss, shape (1, batch), whose mean is the loss's value.
_Samples = Callable[[Matrix, Matrix], Matrix]
# (loss name, array) -> None or ValueError: what a loss needs of its predictions, or of
# its targets.
_Check = Callable[[str, Matrix], None]

SUM_TOLERANCE: Mapping[str, float] = MappingProxyType({"float64": 1e-6, "float32": 1e-3})
"""How far from 1 a column of `cross_entropy`'s ``y_pred`` may sum, by dtype (any other
float dtype uses the float32 tolerance); read-only."""


@dataclass(frozen=True, slots=True)
class Loss:
    """A loss function with its gradient; ``name`` is stable, for saving.

    Call it as ``loss(y_true, y_pred)``; ``loss.gradient(y_true, y_pred)`` is
    d loss / d y_pred, with the shape of ``y_pred``. ``check_fn(name, y_pred)`` and
    ``check_target_fn(name, y_true)``, when given, raise a ValueError for values the
    loss cannot take (called with the checks on, never inside the training loop).
    ``sample_fn(y_true, y_pred)``, when given, is each column's loss, shape (1, batch),
    whose mean is the value: a loss needs it to take ``sample_weight`` (every typednet
    loss has one).
    """

    name: str
    value_fn: _Value = field(repr=False, compare=False)
    grad_fn: _Grad = field(repr=False, compare=False)
    check_fn: _Check | None = field(default=None, repr=False, compare=False)
    check_target_fn: _Check | None = field(default=None, repr=False, compare=False)
    sample_fn: _Samples | None = field(default=None, repr=False, compare=False)

    def __call__(
        self,
        y_true: BatchOf[FloatT],
        y_pred: BatchOf[FloatT],
        sample_weight: SampleWeightsOf[WeightShapeT] | None = None,
    ) -> float:
        """The loss value: a float, averaged as the loss's docstring says; with
        ``sample_weight`` (shape (batch,) or (1, batch)), the weighted mean
        ``sum(w_j l_j) / sum(w_j)`` of the columns' losses."""
        if checks_enabled():
            self._check(y_true, y_pred)
        if sample_weight is None:
            return self.value_fn(y_true, y_pred)
        w = self._weight_row(sample_weight, y_pred, "")
        return _weights.mean(self._samples(y_true, y_pred), _weights.shares(w))

    def gradient(
        self,
        y_true: BatchOf[FloatT],
        y_pred: BatchOf[FloatT],
        sample_weight: SampleWeightsOf[WeightShapeT] | None = None,
    ) -> BatchOf[FloatT]:
        """d loss / d y_pred, shape (outputs, batch) like ``y_pred``; with
        ``sample_weight``, of the weighted mean."""
        if checks_enabled():
            self._check(y_true, y_pred)
        out = self.grad_fn(y_true, y_pred)
        if sample_weight is not None:
            w = self._weight_row(sample_weight, y_pred, ".gradient")
            out = out * _weights.scale(_weights.shares(w), y_pred.dtype)
        return cast("BatchOf[FloatT]", out)  # in y_pred's dtype

    def _samples(self, y_true: Matrix, y_pred: Matrix) -> Matrix:
        """Each column's loss, shape (1, batch)."""
        assert self.sample_fn is not None  # `_weights` refused a loss without one
        return self.sample_fn(y_true, y_pred)

    def _weight_row(self, sample_weight: object, y_pred: Matrix, method: str) -> Matrix:
        """The checked weights as a (1, batch) row in ``y_pred``'s dtype."""
        where = f"{self.name}{method}"
        check_sample_fn(self, where)
        if not checks_enabled():
            return _weights.row(sample_weight, y_pred.dtype)
        return _weights.check(sample_weight, y_pred.shape[1], y_pred.dtype, where, of="y_pred")

    def _check(self, y_true: object, y_pred: object) -> None:
        _check_pair(self.name, y_true, y_pred)
        assert _is_array(y_pred) and _is_array(y_true)  # checked just above
        if self.check_fn is not None:
            self.check_fn(self.name, y_pred)
        if self.check_target_fn is not None:
            self.check_target_fn(self.name, y_true)

    def __reduce_ex__(self, protocol: SupportsIndex) -> str | tuple[Any, ...]:
        """Pickle typednet's own losses by name (their functions are lambdas); any other
        loss field by field."""
        try:
            _by_name(self.name)
        except ValueError:
            return object.__reduce_ex__(self, protocol)
        return (_by_name, (self.name,))


def check_sample_fn(loss: Loss, where: str) -> None:
    """TypeError for a loss that cannot weigh its samples (no ``sample_fn``)."""
    if loss.sample_fn is None:
        raise TypeError(
            f"{where}: loss {loss.name!r} has no per-sample form, so it cannot take "
            "sample_weight; give it one: Loss(name, value_fn, grad_fn, sample_fn=...)"
        )


def _check_pair(name: str, y_true: object, y_pred: object) -> None:
    """Both 2-D floating arrays of one shape: never broadcast."""
    # The common case first, in a few attribute reads (as `forward`'s input check); the
    # full check below runs only to explain a failure.
    if (
        # Not isinstance: np.matrix and masked arrays change NumPy's arithmetic, and the
        # full check below refuses them (other subclasses that keep it pass there).
        (type(y_pred) is np.ndarray or type(y_pred) is np.memmap)
        and (type(y_true) is np.ndarray or type(y_true) is np.memmap)
        and y_pred.ndim == 2
        and y_true.shape == y_pred.shape
        and y_pred.size > 0
        and y_true.dtype == y_pred.dtype
        and y_pred.dtype in FLOAT_DTYPES
    ):
        return
    axes = ("outputs", "batch")
    hint = "pass a column: .reshape(-1, 1)"
    _check_array(y_pred, f"{name}: y_pred", axes, (None, None), name="y_pred", hint_1d=hint)
    assert _is_array(y_pred)
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


def _mse_samples(y: Matrix, p: Matrix) -> Matrix:
    d = p - y
    d *= d
    out: Matrix = d.mean(axis=0, keepdims=True)
    return out


mse = Loss("mse", _mse_value, lambda y, p: (2.0 / p.size) * (p - y), sample_fn=_mse_samples)
"""Mean squared error, averaged over every element (as the tutorial)."""

mae = Loss(
    "mae",
    lambda y, p: float(np.mean(np.abs(p - y))),
    lambda y, p: np.sign(p - y) / p.size,
    sample_fn=lambda y, p: np.abs(p - y).mean(axis=0, keepdims=True),
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


def _bce_samples(y: Matrix, p: Matrix) -> Matrix:
    q = _clip(p)
    out: Matrix = -(y * np.log(q) + (1.0 - y) * np.log(1.0 - q)).mean(axis=0, keepdims=True)
    return out


def _bce_grad(y: Matrix, p: Matrix) -> Matrix:
    q = _clip(p)
    return (q - y) / (q * (1.0 - q)) / p.size


def _in_unit_interval(name: str, a: Matrix, arg: str, what: str, fix: str) -> None:
    """Every element of ``a`` in [0, 1] (NaN fails): two reductions, no temporary array."""
    if not (a.min() >= 0.0 and a.max() <= 1.0):
        row, col = np.argwhere(~((a >= 0.0) & (a <= 1.0)))[0]
        raise ValueError(
            f"{name}: {arg} must be {what} in [0, 1], but {arg}[{row}, {col}] is outside{fix}"
        )


def _distributions(name: str, a: Matrix, arg: str, what: str, fix: str) -> None:
    """Every element of ``a`` >= 0 and each column summing to 1 within `SUM_TOLERANCE`
    (so no element exceeds 1 by more than that): two passes over ``a`` (a reduction and
    a product) and two reductions of the sums. Only a failure is explained, the range
    first."""
    tol = SUM_TOLERANCE.get(a.dtype.name, SUM_TOLERANCE["float32"])
    sums = np.ones(a.shape[0], a.dtype) @ a  # a product: 8x a reduction over axis 0
    if a.min() >= 0.0 and sums.min() >= 1.0 - tol and sums.max() <= 1.0 + tol:
        return
    _in_unit_interval(name, a, arg, what, fix)
    col = int(np.argmax(np.abs(sums - 1.0)))
    raise ValueError(
        f"{name}: each column of {arg} must sum to 1 (within {tol:g} in {a.dtype}), but "
        f"column {col} sums to {float(sums[col]):.7g}{fix}"
    )


_LOGITS = "on the raw outputs of an identity output layer (logits)"


def _check_probabilities(name: str, p: Matrix) -> None:
    _in_unit_interval(
        name, p, "y_pred", "probabilities",
        f"; use a sigmoid output layer, or tn.sigmoid_binary_cross_entropy {_LOGITS}",
    )  # fmt: skip


def _check_distributions(name: str, p: Matrix) -> None:
    _distributions(
        name, p, "y_pred", "probabilities",
        f"; use a softmax output layer, or tn.softmax_cross_entropy {_LOGITS}",
    )  # fmt: skip


def _check_labels(name: str, y: Matrix) -> None:
    """The targets of a binary cross-entropy: labels 0 and 1, or soft labels between."""
    _in_unit_interval(name, y, "y_true", "labels or probabilities", "")


def _check_label_distributions(name: str, y: Matrix) -> None:
    """The targets of a categorical cross-entropy: one-hot columns, or soft labels."""
    _distributions(
        name, y, "y_true", "probabilities",
        "; targets are one-hot columns or soft labels (a distribution per column)",
    )  # fmt: skip


binary_cross_entropy = Loss(
    "binary_cross_entropy",
    _bce_value,
    _bce_grad,
    _check_probabilities,
    _check_labels,
    _bce_samples,
)
"""-mean(y log p + (1 - y) log(1 - p)) over every element; p is clipped to [eps, 1 - eps].

``y_pred`` (p) must be probabilities: every value in [0, 1], as from a sigmoid output
layer. With one, `typednet.grad` uses the fused, stable gradient (p - y) / size. For the
raw outputs of an identity layer (logits), use `sigmoid_binary_cross_entropy`. ``y_true``
must be in [0, 1] too: labels 0 and 1, or soft labels between.
"""

cross_entropy = Loss(
    "cross_entropy",
    lambda y, p: float(-np.add.reduce(_y_log(y, p), axis=None) / p.shape[1]),
    lambda y, p: -y / _clip(p) / p.shape[1],
    _check_distributions,
    _check_label_distributions,
    lambda y, p: -_y_log(y, p).sum(axis=0, keepdims=True),
)
"""-sum(y log p) / batch: softmax outputs p, one-hot targets y, one column per sample.

``y_pred`` (p) must hold a probability distribution per column: values in [0, 1]
summing to 1 within `SUM_TOLERANCE`; so must ``y_true``: one-hot columns, or soft
labels (label smoothing). With a softmax output layer, `typednet.grad` uses the fused,
stable gradient (p - y) / batch, right because each column of y sums to 1. For the raw
outputs of an identity layer (logits), use `softmax_cross_entropy`.
"""


def _log_softmax(z: Matrix) -> Matrix:
    """Per column, ``z - log(sum(exp(z)))``, shifted by the column's max: never overflows."""
    out: Matrix = z - z.max(axis=0, keepdims=True)
    out -= np.log(np.exp(out).sum(axis=0, keepdims=True))
    return out


def _softmax_ce_grad(y: Matrix, z: Matrix) -> Matrix:
    """(softmax(z) sum(y) - y) / batch: (softmax(z) - y) / batch for one-hot targets."""
    p = np.exp(_log_softmax(z))
    p *= y.sum(axis=0, keepdims=True)
    p -= y
    p /= z.shape[1]
    return p


softmax_cross_entropy = Loss(
    "softmax_cross_entropy",
    lambda y, z: float(-np.sum(y * _log_softmax(z)) / z.shape[1]),
    _softmax_ce_grad,
    check_target_fn=_check_label_distributions,
    sample_fn=lambda y, z: -(y * _log_softmax(z)).sum(axis=0, keepdims=True),
)
"""`cross_entropy` of ``softmax(y_pred)``, fused: for an identity output layer (logits).

``-sum(y log_softmax(z)) / batch`` with ``z = y_pred`` the raw outputs, shape
(classes, batch), and targets ``y`` as `cross_entropy` takes them: one-hot columns or
soft labels, each column a distribution (values in [0, 1] summing to 1). Computed
through a log-softmax shifted by each column's max, so it is finite and exact for any
finite logits (±1e4 included), where softmax then `cross_entropy` would clip. Its
gradient is ``(softmax(z) - y) / batch``. At prediction time, apply ``tn.softmax`` to
the network's output to get probabilities.

Examples:
    >>> import numpy as np
    >>> import typednet as tn
    >>> y = np.array([[1.0], [0.0]])
    >>> z = np.array([[1e4], [-1e4]])
    >>> tn.softmax_cross_entropy(y, z), tn.softmax_cross_entropy(y[::-1], z)
    (0.0, 20000.0)
"""


def _sigmoid_bce_elements(y: Matrix, z: Matrix) -> Matrix:
    # -(y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))) = max(z, 0) - y z + log(1 + e^-|z|)
    out: Matrix = np.maximum(z, 0.0)
    out -= y * z
    out += np.log1p(np.exp(-np.abs(z)))
    return out


def _sigmoid_bce_value(y: Matrix, z: Matrix) -> float:
    return float(np.mean(_sigmoid_bce_elements(y, z)))


def _sigmoid_bce_grad(y: Matrix, z: Matrix) -> Matrix:
    out = sigmoid(z)
    out -= y
    out /= z.size
    return out


sigmoid_binary_cross_entropy = Loss(
    "sigmoid_binary_cross_entropy",
    _sigmoid_bce_value,
    _sigmoid_bce_grad,
    check_target_fn=_check_labels,
    sample_fn=lambda y, z: _sigmoid_bce_elements(y, z).mean(axis=0, keepdims=True),
)
"""`binary_cross_entropy` of ``sigmoid(y_pred)``, fused: for an identity output layer.

``mean(max(z, 0) - y z + log(1 + exp(-|z|)))`` over every element, with ``z = y_pred``
the raw outputs (logits), shape (outputs, batch): finite and exact for any finite z
(±1e4 included); targets ``y`` in [0, 1], as for `binary_cross_entropy`. Its gradient
is ``(sigmoid(z) - y) / size``. At prediction time, apply
``tn.sigmoid`` to the network's output to get probabilities.

Examples:
    >>> import numpy as np
    >>> import typednet as tn
    >>> tn.sigmoid_binary_cross_entropy(np.array([[1.0, 0.0]]), np.array([[1e4, 1e4]]))
    5000.0
"""


def _by_name(name: str) -> Loss:
    known = {
        loss.name: loss
        for loss in (
            mse,
            mae,
            binary_cross_entropy,
            cross_entropy,
            softmax_cross_entropy,
            sigmoid_binary_cross_entropy,
        )
    }
    if name not in known:
        raise ValueError(f"unknown loss {name!r}; known: {sorted(known)}")
    return known[name]
