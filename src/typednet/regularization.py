"""Weight penalties: L1 and L2 terms added to the loss, with their gradients.

A `Penalty` is a small frozen record (``name``, ``lam``, ``include_bias``) that `grad`
and `value_and_grad` accept as ``penalty=``: the value becomes ``loss + penalty.value(net)``
and the gradient gains ``penalty.gradient(net)``.

Conventions, in the course's plain form (no 1/2 factor, no division by the batch size):

==========  ============================  ==========================================
penalty     value                         gradient with respect to each covered w
==========  ============================  ==========================================
``l1(lam)`` ``lam * sum(|w|)``            ``lam * sign(w)`` (0 where w == 0)
``l2(lam)`` ``lam * sum(w ** 2)``         ``2 * lam * w``
==========  ============================  ==========================================

The sums run over every covered array. Each layer kind says which of its params a
penalty covers (`typednet.layers.Layer.penalized`): by default only the `Dense` weights
``w``; biases, and a `LayerNorm`'s gain and shift, are not penalized. Pass
``include_bias=True`` to cover the Dense biases ``b`` too (LayerNorm params never are).
The penalty does not depend on the batch: it is added once per step, however many
columns the batch has.

Examples:
    >>> import numpy as np
    >>> import typednet as tn
    >>> from typednet.regularization import l1, l2
    >>> net = tn.network(tn.Dense(w=np.array([[1.0, -2.0]]), b=np.array([[3.0]]),
    ...                           activation=tn.identity))
    >>> l2(0.5).value(net), l2(0.5, include_bias=True).value(net), l1(0.5).value(net)
    (2.5, 7.0, 1.5)
    >>> l2(0.5).gradient(net).params
    (array([[ 1., -2.]]), array([[0.]]))
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from . import _store, _validate
from .layers import Layer
from .network import Network
from .shapes import Matrix

__all__ = ["Penalty", "l1", "l2"]

A = TypeVar("A")
B = TypeVar("B")

# name -> (sum of the per-element terms, per-element slope), both without lam.
_KINDS: dict[str, tuple[Callable[[Matrix], float], Callable[[Matrix], Matrix]]] = {
    "l1": (lambda w: float(np.abs(w).sum()), np.sign),
    "l2": (lambda w: float((w * w).sum()), lambda w: 2 * w),
}


@dataclass(frozen=True, slots=True)
class Penalty:
    """An L1 or L2 weight penalty; build one with `l1` or `l2`.

    Attributes:
        name: ``"l1"`` or ``"l2"``, stable, for saving.
        lam: the strength, finite and >= 0.
        include_bias: also penalize the Dense biases ``b`` (default: weights ``w`` only).
    """

    name: str
    lam: float
    include_bias: bool = False

    def __post_init__(self) -> None:
        if self.name not in _KINDS:
            raise ValueError(f"unknown penalty {self.name!r}; known: {sorted(_KINDS)}")
        object.__setattr__(self, "lam", _validate.non_negative(self.name, "lam", self.lam))

    def value(self, net: Network[Any, Any]) -> float:
        """The penalty's value for ``net``'s params, a float (see the module's table)."""
        total, _ = _KINDS[self.name]
        params = net.params
        return self.lam * sum(total(params[k]) for k in self._covered(net))

    def gradient(self, net: Network[A, B]) -> Network[A, B]:
        """d penalty / d params, shaped like ``net``: zeros for the params not covered.

        The arrays are read-only, like every network's.
        """
        flat = np.zeros_like(_store.column(net))
        self.add_gradient(net, _store.layout(net).views(flat))
        return _store.rebuild(net, flat)

    def _covered(self, net: Network[Any, Any]) -> list[int]:
        """Indices, in ``net.params`` order, of the arrays this penalty covers."""
        flags = (
            flag
            for layer in net.layers
            if isinstance(layer, Layer)
            for flag in layer.penalized(self.include_bias)
        )
        return [k for k, flag in enumerate(flags) if flag]

    def add_gradient(self, net: Network[Any, Any], grads: tuple[Matrix, ...]) -> None:
        """Add the penalty's gradient, in place, to ``grads``: arrays shaped like
        ``net.params``, in that order (the backward pass's own, not a network's)."""
        _, slope = _KINDS[self.name]
        params = net.params
        for k in self._covered(net):
            g = grads[k]
            g += self.lam * slope(params[k])


def l1(lam: float, *, include_bias: bool = False) -> Penalty:
    """L1 penalty ``lam * sum(|w|)`` over the Dense weights; gradient ``lam * sign(w)``.

    Args:
        lam: strength, finite and >= 0.
        include_bias: also penalize the Dense biases.

    Raises:
        ValueError: lam is negative, NaN or infinite.
    """
    return Penalty("l1", lam, include_bias)


def l2(lam: float, *, include_bias: bool = False) -> Penalty:
    """L2 penalty ``lam * sum(w ** 2)`` over the Dense weights; gradient ``2 * lam * w``.

    Args:
        lam: strength, finite and >= 0.
        include_bias: also penalize the Dense biases.

    Raises:
        ValueError: lam is negative, NaN or infinite.

    Examples:
        >>> from typednet.regularization import l2
        >>> l2(-1.0)
        Traceback (most recent call last):
        ...
        ValueError: l2: lam must be a finite number >= 0, got -1.0
    """
    return Penalty("l2", lam, include_bias)
