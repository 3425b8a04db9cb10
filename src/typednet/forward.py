"""The forward pass: ``forward(net, x) -> y_hat`` and ``forward_trace`` for every layer.

``x`` holds samples as columns, shape (features, batch); one sample is ``(features, 1)``.
The input is checked once at the boundary (2-D, floating, the network's dtype, the
network's number of features); the layers themselves were checked when they were built.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from .network import Network
from .shapes import Inputs, Matrix, Targets, _check_array, checks_enabled

__all__ = ["Trace", "forward", "forward_trace"]


@dataclass(frozen=True, slots=True, eq=False)
class Trace:
    """Every intermediate value of one forward pass.

    Attributes:
        x: the input, shape (features, batch).
        pre: per layer, the value before its activation (the tutorial's
            ``in_hidden_k``); for a LayerNorm the normalized input; for a bare
            activation its input.
        post: per layer, its output (the tutorial's ``out_hidden_k``).
    """

    x: Inputs
    pre: tuple[Matrix, ...]
    post: tuple[Matrix, ...]

    @property
    def y_hat(self) -> Targets:
        """The network's output: the last layer's ``post``, shape (outputs, batch)."""
        return self.post[-1]


def _check_input(net: Network[Any, Any], x: object, where: str) -> None:
    """Raise ShapeError unless x is (net.in_size, batch) in the network's dtype."""
    # The common case first, in a few attribute reads; the full check explains a failure.
    if (
        isinstance(x, np.ndarray)
        and x.ndim == 2
        and x.shape[0] == net.in_size
        and x.dtype == net.dtype
        and x.shape[1] > 0
    ):
        return
    _check_array(
        x,
        f"{where} input x",
        ("features", "batch"),
        (net.in_size, None),
        name="x",
        dtype=net.dtype,
        hint_1d="a sample is a column: pass x.reshape(-1, 1)",
        hint_t="samples are columns: pass x.T",
    )
    raise ValueError(f"{where}: the batch is empty (x has 0 columns)")


def _forward(net: Network[Any, Any], x: Matrix) -> Matrix:
    for layer in net.layers:
        x = layer._apply(x)
    return x


def forward(net: Network[Any, Any], x: Inputs, batch_size: int | None = None) -> Targets:
    """The network's output ``y_hat`` for input columns ``x``.

    Args:
        net: the network.
        x: input columns, shape (features, batch), in the network's dtype.
        batch_size: if given, compute ``batch_size`` columns at a time, so that the memory
            needed is the output plus one block's activations (for a large or
            memory-mapped ``x``). Columns are independent, so the result is the same; it
            is bit for bit the same wherever the BLAS computes a column the same way
            whatever the block's width (with OpenBLAS in float64: a batch_size that is a
            multiple of 64), and otherwise equal up to rounding.

    Returns:
        y_hat, shape (outputs, batch), in the network's dtype.

    Raises:
        ShapeError: x is not a 2-D array of the network's dtype with ``net.in_size`` rows.
        ValueError: x has no columns, or batch_size is not a positive int.

    >>> import numpy as np
    >>> import typednet as tn
    >>> net = tn.network(tn.Dense(w=np.array([[1.0, -1.0]]), b=np.zeros((1, 1)),
    ...                           activation=tn.relu))
    >>> tn.forward(net, np.array([[3.0, 1.0], [1.0, 3.0]]))
    array([[2., 0.]])
    >>> tn.forward(net, np.array([[3.0, 1.0]]))
    Traceback (most recent call last):
    ...
    typednet.shapes.ShapeError: forward input x: expected (features, batch) = (2, batch), got shape (1, 2) float64; samples are columns: pass x.T
    """  # noqa: E501
    if checks_enabled():
        _check_input(net, x, "forward")
    if batch_size is None:
        return _forward(net, x)
    return _forward_blocks(net, x, batch_size)


def _forward_blocks(net: Network[Any, Any], x: Matrix, batch_size: int) -> Matrix:
    """`forward` ``batch_size`` columns at a time, into one preallocated output."""
    ok = isinstance(batch_size, int | np.integer) and not isinstance(batch_size, bool)
    if not ok or batch_size < 1:
        raise ValueError(f"forward: batch_size must be a positive int, got {batch_size!r}")
    n = x.shape[1]
    if batch_size >= n:
        return _forward(net, x)
    out = np.empty((net.out_size, n), dtype=net.dtype)
    for start in range(0, n, batch_size):
        out[:, start : start + batch_size] = _forward(net, x[:, start : start + batch_size])
    return out


def _trace(net: Network[Any, Any], x: Matrix) -> Trace:
    pre: list[Matrix] = []
    post: list[Matrix] = []
    h = x
    for layer in net.layers:
        p, h = layer._trace(h)
        pre.append(p)
        post.append(h)
    return Trace(x=x, pre=tuple(pre), post=tuple(post))


def forward_trace(net: Network[Any, Any], x: Inputs) -> Trace:
    """The forward pass keeping every layer's ``pre`` and ``post`` (see `Trace`).

    Checks ``x`` as `forward` does.
    """
    if checks_enabled():
        _check_input(net, x, "forward_trace")
    return _trace(net, x)
