"""The forward pass: ``forward(net, x) -> y_hat`` and ``forward_trace`` for every layer.

``x`` holds samples as columns, shape (features, batch); one sample is ``(features, 1)``.
The input is checked once at the boundary (2-D, floating, the network's dtype, the
network's number of features); the layers themselves were checked when they were built.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast, overload

import numpy as np

from . import _columns, _html, _kernels, _validate
from ._columns import Columns
from ._validate import Rng
from .network import Network
from .shapes import (
    _CHECKS,
    FloatT,
    Ids,
    Inputs,
    InputsOf,
    Matrix,
    NamedT,
    Targets,
    TargetsOf,
    checks_enabled,
)

__all__ = ["Trace", "forward", "forward_trace"]


@dataclass(frozen=True, slots=True, eq=False)
class Trace:
    """Every intermediate value of one forward pass.

    Attributes:
        x: the input, shape (features, batch) (or ids, (1, batch)).
        pre: per layer, what its backward pass keeps: for a Dense layer the value
            before its activation (the tutorial's ``in_hidden_k``); for a LayerNorm or a
            BatchNorm the normalized input; for a dropout layer its scaled mask; for a bare
            activation its input; for an Embedding its looked-up vectors (its post).
        post: per layer, its output (the tutorial's ``out_hidden_k``).
    """

    x: Inputs | Ids
    pre: tuple[Matrix, ...]
    post: tuple[Matrix, ...]

    @property
    def y_hat(self) -> Targets:
        """The network's output: the last layer's ``post``, shape (outputs, batch)."""
        return self.post[-1]

    def _repr_html_(self) -> str:
        """In a notebook: each value's shape, min / max / mean and a small heat map."""
        return _html.trace(self)


@overload
def forward(
    net: Network[Any, Any], x: InputsOf[FloatT], *, batch_size: int | None = None
) -> TargetsOf[FloatT]: ...
@overload
def forward(net: Network[NamedT, Any], x: NamedT, *, batch_size: int | None = None) -> Targets: ...
def forward(
    net: Network[Any, Any],
    x: InputsOf[FloatT] | Mapping[str, object],
    *,
    batch_size: int | None = None,
) -> TargetsOf[FloatT]:
    """The network's output ``y_hat`` for input columns ``x``.

    Args:
        net: the network.
        x: input columns, shape (features, batch), in the network's dtype; for a
            network over named inputs (`typednet.inputs`), the mapping of them (its
            TypedDict), each input with one column per sample.
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

    Examples:
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
    # A one-column forward's cost is mostly this function's own, so the common case of
    # the input check is written out here: an ndarray of the network's rows and very
    # dtype with a column or more, for a network over plain columns (`_takes_columns`,
    # narrower: a memmap or an equal dtype object takes the full check).
    # `_kernels.check_input` decides everything else, with the same messages.
    if _CHECKS.get() and not (
        type(x) is np.ndarray
        and x.dtype is net._dtype
        and len(shape := x.shape) == 2  # x.shape read once: each read makes a tuple
        and shape[0] == net._in_size
        and shape[1]
        and net._layout.columns
    ):
        _kernels.check_input(net, x, "forward")
    if batch_size is not None:
        size = _validate.positive_int("forward", "batch_size", batch_size)
        return cast("TargetsOf[FloatT]", _forward_blocks(net, cast(Columns, x), size))
    if TYPE_CHECKING:  # x or a mapping of named inputs, passed on to the first layer
        return cast("TargetsOf[FloatT]", _kernels.apply_layers(net.layers, cast(Matrix, x)))
    # No cast at run time (a call): in x's dtype, the network's, as checked.
    return _kernels.apply_layers(net.layers, x)  # `_kernels.forward`, one call fewer


def _forward_blocks(net: Network[Any, Any], x: Columns, batch_size: int) -> Matrix:
    """`forward` ``batch_size`` columns at a time, into one preallocated output."""
    n = _columns.count(x)
    if batch_size >= n:
        return _kernels.forward(net, x)
    out = np.empty((net.out_size, n), dtype=net.dtype)
    for start in range(0, n, batch_size):
        block = _columns.take(x, slice(start, start + batch_size))
        out[:, start : start + batch_size] = _kernels.forward(net, block)
    return out


def forward_trace(net: Network[Any, Any], x: Inputs | Ids, *, rng: Rng | None = None) -> Trace:
    """The forward pass keeping every layer's ``pre`` and ``post`` (see `Trace`).

    Checks ``x`` as `forward` does. Without ``rng`` a dropout layer passes its input
    through; with ``rng`` its masks are drawn from it, as `grad` sees them. A
    `BatchNorm` is traced as `grad` sees it, in training mode: normalized with the
    batch's own statistics (so ``x`` needs at least 2 columns), where `forward` uses the
    running ones.
    """
    if checks_enabled():
        _kernels.check_input(net, x, "forward_trace")
        _kernels.check_columns(net, _columns.count(x), "forward_trace")
    pre, post = _kernels.trace(net, x, rng)
    return Trace(x=x, pre=pre, post=post)
