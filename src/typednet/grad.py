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

The checked functions validate their arguments on each call (unless inside
``tn.no_checks()``); the training loop validates once and calls the unchecked kernel
`_value_and_grad` at each step.
"""

from typing import Any, TypeVar

import numpy as np

from .activations import Activation
from .forward import _check_input, _trace
from .layers import Dense, LayerNorm
from .losses import Loss
from .network import Network
from .regularization import Penalty
from .shapes import Inputs, Matrix, Targets, _check_array, checks_enabled

__all__ = ["grad", "value_and_grad"]

A = TypeVar("A")
B = TypeVar("B")

# (output activation, loss) pairs whose delta at the last pre is (y_hat - y) / n, where
# n is the loss's divisor: True for every element (binary cross-entropy averages over
# all of them), False for the batch (cross-entropy sums each column, then averages).
_FUSED = {("sigmoid", "binary_cross_entropy"): True, ("softmax", "cross_entropy"): False}


def _value_and_grad(
    net: Network[A, B], x: Matrix, y: Matrix, loss: Loss, penalty: Penalty | None
) -> tuple[float, Network[A, B]]:
    """The kernel of `value_and_grad`: no checks, for callers that validated once."""
    value, flat = _value_and_flat_grad(net, x, y, loss, penalty)
    return value, net._with_flat(flat)


def _value_and_flat_grad(
    net: Network[Any, Any], x: Matrix, y: Matrix, loss: Loss, penalty: Penalty | None
) -> tuple[float, Matrix]:
    """The loss and its gradient as one column laid out like ``net._flat``; no checks."""
    layers = net.layers
    trace = _trace(net, x)
    pres, posts = trace.pre, trace.post
    y_hat = posts[-1]
    value = loss._value(y, y_hat)
    last = layers[-1]
    per_element = _FUSED.get((last.activation.name, loss.name)) if isinstance(last, Dense) else None
    if per_element is None:
        upstream = loss._grad(y, y_hat)
    else:  # fused: upstream is already the delta at the last pre, with no division by p
        upstream = (y_hat - y) / (y.size if per_element else y.shape[1])
    # Names as in the tutorial: pre is in_hidden_k, post is out_hidden_k, and delta is
    # the error d loss / d pre at layer k; upstream is d loss / d post, passed back.
    first = next(i for i, layer in enumerate(layers) if not isinstance(layer, Activation))
    ones = np.ones((x.shape[1], 1), x.dtype)  # a @ ones sums over the batch, faster than a.sum
    # The gradient is written straight into one column laid out like net's params.
    flat = np.empty_like(net._flat)
    grads = net._layout.views(flat)
    spans = net._layout.spans
    for i in range(len(layers) - 1, first - 1, -1):
        layer = layers[i]
        h = posts[i - 1] if i else x  # the layer's input
        k = spans[i][0]  # where this layer's params start in grads
        if isinstance(layer, Dense):
            fused = per_element is not None and i == len(layers) - 1
            delta = upstream if fused else layer.activation._vjp(pres[i], posts[i], upstream)
            np.matmul(delta, h.T, out=grads[k])
            np.matmul(delta, ones, out=grads[k + 1])
            if i > first:
                upstream = layer.w.T @ delta
        elif isinstance(layer, LayerNorm):
            xhat = pres[i]
            np.matmul(upstream * xhat, ones, out=grads[k])
            np.matmul(upstream, ones, out=grads[k + 1])
            if i > first:
                # Per column, xhat = (h - mean) * inv_std and post = gain * xhat + shift.
                inv_std = layer._normalize(h)[1]
                dxhat = upstream * layer.gain
                upstream = inv_std * (
                    dxhat
                    - dxhat.mean(axis=0, keepdims=True)
                    - xhat * (dxhat * xhat).mean(axis=0, keepdims=True)
                )
        else:
            assert isinstance(layer, Activation)  # a network holds only these three kinds
            upstream = layer._vjp(h, posts[i], upstream)
    if penalty is not None:
        value += penalty.value(net)
        penalty._add_gradient(net, grads)
    return value, flat


def _check(
    net: Network[Any, Any], x: object, y: object, loss: object, penalty: object, where: str
) -> None:
    """Raise ShapeError or TypeError for arguments `value_and_grad` cannot use."""
    _check_input(net, x, where)
    assert isinstance(x, np.ndarray)
    out = net.out_size
    _check_array(
        y,
        f"{where} target y",
        ("outputs", "batch"),
        (out, x.shape[1]),
        name="y",
        dtype=net.dtype,
        hint_1d=f"a target is a column of {out} outputs: pass y.reshape({out}, -1)",
        hint_size="y needs the network's outputs as rows and one column per column of x",
    )
    if not isinstance(loss, Loss):
        raise TypeError(
            f"{where}: loss must be a typednet Loss such as tn.mse, got {type(loss).__name__}"
        )
    if penalty is not None and not isinstance(penalty, Penalty):
        raise TypeError(
            f"{where}: penalty must be None or a Penalty from l1(lam) or l2(lam), "
            f"got {type(penalty).__name__}"
        )


def value_and_grad(
    net: Network[A, B], x: Inputs, y: Targets, loss: Loss, *, penalty: Penalty | None = None
) -> tuple[float, Network[A, B]]:
    """The loss on a batch and its gradient with respect to every param.

    Args:
        net: the network.
        x: input columns, shape (features, batch), in the network's dtype.
        y: target columns, shape (outputs, batch), in the network's dtype.
        loss: e.g. ``tn.mse``. With a sigmoid output Dense and
            ``tn.binary_cross_entropy``, or a softmax output Dense and
            ``tn.cross_entropy``, the error at the last layer is the stable, fused
            ``(y_hat - y) / n`` (n: the loss's divisor), exact even where y_hat rounds
            to 0 or 1 and the loss's own gradient, divided by y_hat, would not be.
        penalty: an optional `Penalty` (``l1(lam)`` or ``l2(lam)``), added once.

    Returns:
        ``(value, grads)``: the loss (plus the penalty) as a float, and a `Network`
        shaped like ``net`` holding d value / d param in place of each param.

    Raises:
        ShapeError: x or y has the wrong rank, size or dtype (y must match x's batch
            and the network's outputs exactly: nothing is broadcast).
        ValueError: the batch is empty.
        TypeError: loss is not a `Loss`, or penalty not a `Penalty`.

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
    if checks_enabled():
        _check(net, x, y, loss, penalty, "value_and_grad")
    return _value_and_grad(net, x, y, loss, penalty)


def grad(
    net: Network[A, B], x: Inputs, y: Targets, loss: Loss, *, penalty: Penalty | None = None
) -> Network[A, B]:
    """The gradient of the loss on a batch with respect to every param.

    Same arguments and checks as `value_and_grad`; returns only the gradient, a
    `Network` shaped like ``net`` (``grads.params`` lines up with ``net.params``).

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
    if checks_enabled():
        _check(net, x, y, loss, penalty, "grad")
    return _value_and_grad(net, x, y, loss, penalty)[1]
