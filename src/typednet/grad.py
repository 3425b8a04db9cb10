"""Backpropagation: `grad` and `value_and_grad` return a gradient shaped like the network.

The gradient is itself a `Network` with the same layers, each param array replaced by
d loss / d param: a Dense's ``w`` gradient has shape (next, prev) and its ``b``
gradient (next, 1); a LayerNorm's gain and shift gradients are (d, 1). Its arrays are
fresh and read-only, like every network's, so ``grads.params`` lines up with
``net.params`` for an optimizer.

The loss value is the loss as defined (a mean over the batch), so the gradient of a
batch is the mean of its columns' gradients and never grows with the batch size. With
``penalty=`` (see `typednet.regularization`) the value is ``loss + penalty.value(net)``
and the gradient adds ``penalty.gradient(net)``.

With ``sample_weight=`` (one non-negative weight per column, shape (batch,) or
(1, batch)) the loss is the weighted mean ``sum(w_j l_j) / sum(w_j)`` of the columns'
losses, as in scikit-learn, so integer weights give the value and gradient of the batch
with each column repeated that many times; the penalty is still added once, unweighted.

The checked functions validate their arguments on each call (unless inside
``tn.no_checks()``); the training loop validates once and calls the unchecked kernel
(``typednet._kernels``) at each step. Each layer kind computes its own part of the
backward pass (`typednet.layers.Layer.backward`).
"""

import math
from collections.abc import Mapping
from typing import Any, TypeVar, cast, overload

from . import _columns, _kernels, _store
from ._columns import Columns
from ._validate import Rng
from .losses import Loss
from .network import Network
from .optim import _check_finite
from .regularization import Penalty
from .shapes import (
    FloatT,
    InputsOf,
    Matrix,
    NamedT,
    SampleWeightsOf,
    Targets,
    TargetsOf,
    WeightShapeT,
    checks_enabled,
)

__all__ = ["grad", "value_and_grad"]

A = TypeVar("A")
B = TypeVar("B")


@overload
def value_and_grad(
    net: Network[A, B],
    x: InputsOf[FloatT],
    y: TargetsOf[FloatT],
    loss: Loss,
    *,
    penalty: Penalty | None = None,
    rng: Rng | None = None,
    sample_weight: SampleWeightsOf[WeightShapeT] | None = None,
) -> tuple[float, Network[A, B]]: ...
@overload
def value_and_grad(
    net: Network[NamedT, B],
    x: NamedT,
    y: Targets,
    loss: Loss,
    *,
    penalty: Penalty | None = None,
    rng: Rng | None = None,
    sample_weight: SampleWeightsOf[WeightShapeT] | None = None,
) -> tuple[float, Network[NamedT, B]]: ...
def value_and_grad(
    net: Network[Any, B],
    x: InputsOf[FloatT] | Mapping[str, object],
    y: TargetsOf[FloatT],
    loss: Loss,
    *,
    penalty: Penalty | None = None,
    rng: Rng | None = None,
    sample_weight: SampleWeightsOf[WeightShapeT] | None = None,
) -> tuple[float, Network[Any, B]]:
    """The loss on a batch and its gradient with respect to every param.

    Args:
        net: the network.
        x: input columns, shape (features, batch), in the network's dtype; for a
            network over named inputs (`typednet.inputs`), the mapping of them.
        y: target columns, shape (outputs, batch), in the network's dtype.
        loss: e.g. ``tn.mse``. With a sigmoid output Dense and
            ``tn.binary_cross_entropy``, or a softmax output Dense and
            ``tn.cross_entropy``, the error at the last layer is the stable, fused
            ``(y_hat - y) / n`` (n: the loss's divisor), exact even where y_hat rounds
            to 0 or 1 and the loss's own gradient, divided by y_hat, would not be.
        penalty: an optional `Penalty` (``l1(lam)`` or ``l2(lam)``), added once.
        rng: draws the dropout masks; required when the network holds a `Dropout`
            (ignored otherwise). The same seed gives the same result, bit for bit.
        sample_weight: optional weights, one per column of x: shape (batch,) or
            (1, batch), ints or floats, >= 0, finite, not all zero. The value is then
            ``sum(w_j l_j) / sum(w_j)`` over the columns' losses ``l_j`` (plus the
            unweighted penalty); integer weights give the same value and gradient as
            repeating each column that many times. A BatchNorm's batch statistics stay
            unweighted.

    Returns:
        ``(value, grads)``: the loss (plus the penalty) as a float, and a `Network`
        shaped like ``net`` holding d value / d param in place of each param.

    Raises:
        ShapeError: x or y has the wrong rank, size or dtype (y must match x's batch
            and the network's outputs exactly: nothing is broadcast), or
            sample_weight is not (batch,) or (1, batch) ints or floats.
        ValueError: the batch is empty, x or y holds NaN or inf, sample_weight holds
            NaN, inf or a negative weight or is all zero, y holds targets the
            loss does not take or the outputs are not what it takes (the
            cross-entropies), or the loss or a gradient overflowed (naming the first
            such param).
        TypeError: loss is not a `Loss` (or, with sample_weight, one without a
            per-sample form), penalty not a `Penalty`, or rng missing for a network
            with dropout.

    Examples:
        >>> import numpy as np
        >>> import typednet as tn
        >>> from typednet.grad import value_and_grad
        >>> net = tn.network(tn.Dense(w=np.array([[2.0]]), b=np.zeros((1, 1)),
        ...                           activation=tn.identity))
        >>> value, grads = value_and_grad(net, np.array([[1.0, 2.0]]), np.array([[1.0, 1.0]]),
        ...                               tn.mse)
        >>> value, grads.params
        (5.0, (array([[7.]]), array([[4.]])))
    """
    value, flat = _checked(
        net, cast(Matrix, x), y, loss, penalty, rng, sample_weight, "value_and_grad"
    )
    return value, _store.rebuild(net, flat)


def _checked(
    net: Network[Any, Any],
    x: Columns,
    y: Matrix,
    loss: Loss,
    penalty: Penalty | None,
    rng: Rng | None,
    sample_weight: SampleWeightsOf[WeightShapeT] | None,
    name: str,
) -> tuple[float, Matrix]:
    """What `grad` and `value_and_grad` share: check, compute, refuse an overflow."""
    where = name if checks_enabled() else None
    weight = None
    if where is not None:
        _kernels.check_batch(net, x, y, loss, penalty, where)
        _kernels.check_columns(net, _columns.count(x), where)
        if sample_weight is not None:
            weight = _kernels.check_weights(net, loss, sample_weight, _columns.count(x), where)
    elif sample_weight is not None:
        weight = _kernels.weights_row(net, sample_weight)
    _kernels.check_rng(net, rng, name)
    value, flat, _ = _kernels.value_and_flat_grad(
        net, x, y, loss, penalty, rng, where, weight=weight
    )
    _check_result(net, value, flat, name)
    return value, flat


def _check_result(net: Network[A, B], value: float, flat: Matrix, where: str) -> None:
    """ValueError when finite data overflowed: a non-finite loss or gradient."""
    if not math.isfinite(value):
        raise ValueError(
            f"{where}: the loss is {value} (an overflow); check the data's and the params' scale"
        )
    _check_finite(net, flat, where, "gradients")


@overload
def grad(
    net: Network[A, B],
    x: InputsOf[FloatT],
    y: TargetsOf[FloatT],
    loss: Loss,
    *,
    penalty: Penalty | None = None,
    rng: Rng | None = None,
    sample_weight: SampleWeightsOf[WeightShapeT] | None = None,
) -> Network[A, B]: ...
@overload
def grad(
    net: Network[NamedT, B],
    x: NamedT,
    y: Targets,
    loss: Loss,
    *,
    penalty: Penalty | None = None,
    rng: Rng | None = None,
    sample_weight: SampleWeightsOf[WeightShapeT] | None = None,
) -> Network[NamedT, B]: ...
def grad(
    net: Network[Any, B],
    x: InputsOf[FloatT] | Mapping[str, object],
    y: TargetsOf[FloatT],
    loss: Loss,
    *,
    penalty: Penalty | None = None,
    rng: Rng | None = None,
    sample_weight: SampleWeightsOf[WeightShapeT] | None = None,
) -> Network[Any, B]:
    """The gradient of the loss on a batch with respect to every param.

    Same arguments and checks as `value_and_grad`; returns only the gradient, a
    `Network` shaped like ``net`` (``grads.params`` lines up with ``net.params``).

    Examples:
        >>> import numpy as np
        >>> import typednet as tn
        >>> from typednet.grad import grad
        >>> net = tn.network(tn.Dense(w=np.ones((1, 2)), b=np.zeros((1, 1)),
        ...                           activation=tn.identity))
        >>> grad(net, np.ones((2, 4)), np.ones((3, 4)), tn.mse)
        Traceback (most recent call last):
        ...
        typednet.shapes.ShapeError: grad target y: expected (outputs, batch) = (1, 4), got shape (3, 4) float64; y needs the network's outputs as rows and one column per column of x
    """  # noqa: E501
    flat = _checked(net, cast(Matrix, x), y, loss, penalty, rng, sample_weight, "grad")[1]
    return _store.rebuild(net, flat)
