"""Every use the benchmarks make of typednet's private modules, in one place.

The phases of a training step are timed apart through these; when the internals move,
only this file follows them.
"""

from typing import Any

import typednet as tn
from typednet import _kernels, _store
from typednet.optim import Optimizer, OptState


def forward(net: tn.Network[Any, Any], x: tn.Matrix) -> tn.Matrix:
    """The unchecked forward kernel."""
    return _kernels.forward(net, x)


def trace(net: tn.Network[Any, Any], x: tn.Matrix) -> object:
    """The unchecked forward pass keeping every (pre, post), as a step runs it."""
    return _kernels.trace(net, x, None)


def check_batch(net: tn.Network[Any, Any], x: tn.Matrix, y: tn.Matrix, loss: tn.Loss) -> None:
    """The input checks `train_step` runs before its kernel."""
    _kernels.check_batch(net, x, y, loss, None, "train_step")


def value_and_flat_grad(
    net: tn.Network[Any, Any], x: tn.Matrix, y: tn.Matrix, loss: tn.Loss
) -> tuple[float, tn.Matrix]:
    """The unchecked gradient kernel: the loss and one flat gradient column."""
    return _kernels.value_and_flat_grad(net, x, y, loss, None, None)[:2]


def column(net: tn.Network[Any, Any]) -> tn.Matrix:
    """The network's flat param column."""
    return _store.column(net)


def rebuild(net: tn.Network[Any, Any], flat: tn.Matrix) -> tn.Network[Any, Any]:
    """``net``'s architecture on another flat column (one `Network` built)."""
    return _store.rebuild(net, flat)


def update_and_apply(
    opt: Optimizer, flat_grads: tn.Matrix, state: OptState[Any, Any], net: tn.Network[Any, Any]
) -> tuple[tn.Network[Any, Any], OptState[Any, Any]]:
    """What `train_step` and `fit` run after the gradient: the rule and the add, fused."""
    return opt._step(flat_grads, state, net)
