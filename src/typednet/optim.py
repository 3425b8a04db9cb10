"""Optimizers, optax style: ``init(params) -> state``, ``update(grads, state, params)``.

An `Optimizer` turns a gradient into *updates*, a `Network` shaped like the params that
`apply_updates` adds to them. Nothing is changed in place: every step returns new
updates, a new `OptState` and, from `apply_updates`, new params. The factories below
close over their hyper-parameters and follow PyTorch's documented formulas and defaults
(``torch.optim``), with ``g`` the gradient, ``t`` the 1-based step number and every
operation elementwise:

==============  =================================================  ====================
factory         update                                             slots (state)
==============  =================================================  ====================
``sgd``         ``-lr g``                                          none
``momentum``    ``v = beta v + g``; ``-lr v``                      ``velocity`` (v)
``nesterov``    ``v = beta v + g``; ``-lr (g + beta v)``           ``velocity`` (v)
``adagrad``     ``s = s + g²``; ``-lr g / (sqrt(s) + eps)``        ``sum`` (s)
``rmsprop``     ``v = decay v + (1 - decay) g²``;                  ``square_avg`` (v)
                ``-lr g / (sqrt(v) + eps)``
``adadelta``    see `adadelta`                                     ``square_avg``,
                                                                   ``acc_delta``
``adam``        see `adam`                                         ``m``, ``v``
``amsgrad``     see `amsgrad`                                      ``m``, ``v``,
                                                                   ``v_max``
``adamax``      see `adamax`                                       ``m``, ``u``
``adamw``       see `adamw` (Adam, decoupled weight decay)         ``m``, ``v``
==============  =================================================  ====================

A few are computed in an algebraically equal form that needs fewer array operations
(noted in the code); the results agree with the formulas up to rounding.

Every slot starts at zero. The updates and the state keep the params' dtype: float32
params train in float32 (hyper-parameters are Python floats, which NumPy never lets
promote an array). Their arrays are fresh and read-only.

When `typednet.checks_enabled` (the default), `Optimizer.update` and `apply_updates`
check that the grads, the state and the updates have the params' layers, shapes and
dtypes: a comparison of short lists, a few microseconds a step. Inside
``with tn.no_checks():`` that is skipped, and a mismatch surfaces as NumPy's own error,
a silent broadcast or promotion, or not at all.

Examples:
    >>> import numpy as np
    >>> import typednet as tn
    >>> from typednet.optim import adam, apply_updates
    >>> net = tn.network(tn.Dense(w=np.array([[1.0, 2.0]]), b=np.zeros((1, 1)),
    ...                           activation=tn.identity))
    >>> grads = tn.network(tn.Dense(w=np.array([[0.5, -3.0]]), b=np.ones((1, 1)),
    ...                             activation=tn.identity))  # d loss / d params, say
    >>> opt = adam(learning_rate=0.1)
    >>> state = opt.init(net)
    >>> updates, state = opt.update(grads, state, net)
    >>> apply_updates(net, updates).params  # Adam's first step is -lr sign(g)
    (array([[0.9, 2.1]]), array([[-0.1]]))
    >>> state.count, [slot.params[0] for slot in state.slots]  # m and v
    (1, [array([[ 0.05, -0.3 ]]), array([[0.00025, 0.009  ]])])
"""

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Generic, cast

import numpy as np
from typing_extensions import TypeIs, TypeVar

from . import _store
from ._pickle import Reduced, reduce
from ._validate import Where, where_text
from ._validate import fraction as _fraction
from ._validate import number as _number
from ._validate import positive as _positive
from .layers import Layer
from .network import Network, _is_network
from .schedules import Schedule
from .shapes import Matrix, ShapeError, checks_enabled

__all__ = [
    "OptState",
    "Optimizer",
    "adadelta",
    "adagrad",
    "adam",
    "adamax",
    "adamw",
    "amsgrad",
    "apply_updates",
    "momentum",
    "nesterov",
    "rmsprop",
    "sgd",
]

A = TypeVar("A", default=int)
B = TypeVar("B", default=int)

# One step, elementwise: (g, slots, t) -> (update, new slots), slots in the optimizer's
# `slot_names` order. It runs once on all params at once (a network's flat column), and
# returns fresh arrays. Unchecked: the arrays come from matching networks.
_Rule = Callable[[Matrix, tuple[Matrix, ...], int], tuple[Matrix, tuple[Matrix, ...]]]

# Each param's layer kind, shape and dtype, in `Network.params` order.
_Structure = list[tuple[type, tuple[int, ...], np.dtype[Any]]]


@dataclass(frozen=True, slots=True, eq=False)
class OptState(Generic[A, B]):
    """An optimizer's state: the same record for every optimizer.

    Attributes:
        count: how many updates have been made; the next one is step ``count + 1``.
        slots: one params-shaped `Network` per running estimate, in the order of the
            optimizer's `Optimizer.slot_names` (``()`` for `sgd`). Their arrays are
            read-only.
        columns: the same estimates as the optimizers keep them: one read-only column
            each, laid out like ``template``'s params (see `slots` for networks).
        template: the network whose layout the columns follow.
    """

    count: int
    # Each slot is kept as one column laid out like `template`'s params; the networks are
    # built only when `slots` is read, not on every training step.
    columns: tuple[Matrix, ...] = field(repr=False)
    template: Network[A, B] = field(repr=False)

    @property
    def slots(self) -> tuple[Network[A, B], ...]:
        return tuple(_store.rebuild(self.template, column) for column in self.columns)

    def __reduce__(self) -> Reduced:
        """Pickle and copy field by field; the unpickled slots are read-only again."""
        return reduce(self)


def _is_state(x: object) -> TypeIs["OptState[Any, Any]"]:
    """``_is_state(x)``, narrowing to a known ``OptState[Any, Any]`` for pyright."""
    return isinstance(x, OptState)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Optimizer:
    """A gradient transformation: a pair of pure functions, `init` and `update`.

    Build one with a factory such as `adam`; it closes over the hyper-parameters.

    Attributes:
        name: the factory's name, stable for saving (``"adam"``).
        slot_names: what the state keeps per param, e.g. ``("m", "v")`` for adam.
        hyperparameters: ``(name, value)`` pairs: the factory's arguments (a
            ``learning_rate`` may be a schedule).
        rule: one step, elementwise, on the flat gradient column: ``(g, slots, t) ->
            (update, new slots)``.
        decay: decoupled weight decay (adamw): step t -> c in ``update -= c * params``.

    Examples:
        >>> from typednet.optim import adam
        >>> opt = adam()
        >>> opt
        adam(learning_rate=0.001, b1=0.9, b2=0.999, eps=1e-08)
        >>> opt.name, opt.slot_names
        ('adam', ('m', 'v'))
    """

    name: str
    slot_names: tuple[str, ...]
    hyperparameters: tuple[tuple[str, float | Schedule], ...]
    rule: _Rule = field(repr=False)
    # Decoupled weight decay (adamw): step t -> the coefficient c of ``update -= c params``.
    decay: Callable[[int], float] | None = field(default=None, repr=False)

    def init(self, params: Network[A, B]) -> OptState[A, B]:
        """The state before the first step: count 0 and every slot zero.

        Args:
            params: the network to be trained; each slot copies its structure and dtype.
        """
        if not _is_network(params):
            raise TypeError(f"{self.name} init: expected a Network, got {type(params).__name__}")
        zeros = tuple(np.zeros_like(_store.column(params)) for _ in self.slot_names)
        return OptState(count=0, columns=zeros, template=params)

    def update(
        self, grads: Network[A, B], state: OptState[A, B], params: Network[A, B]
    ) -> tuple[Network[A, B], OptState[A, B]]:
        """One step: the updates to add to ``params`` (see `apply_updates`), and the new state.

        Args:
            grads: d loss / d params, a network shaped like ``params`` (same layers, and
                arrays of the same shapes and dtype).
            state: this optimizer's state for ``params``, from `init` or the last update.
            params: the current params: the template the updates are built on.

        Returns:
            ``(updates, new_state)``, both shaped like ``params``, in its dtype; no input
            is changed.

        Raises:
            ShapeError: (only when `typednet.checks_enabled`) ``grads`` or a slot of
                ``state`` does not match ``params``, naming the first param that differs.
            ValueError: the updates would hold NaN or inf (an overflow), naming the step
                and the first such param.
        """
        if checks_enabled():
            self._check(grads, state, params)
        update, new_state = self._run(_store.column(grads), state, params)
        _check_finite(params, update, lambda: f"{self.name} update (step {new_state.count})")
        return _store.rebuild(params, update), new_state

    def _run(
        self, grads: Matrix, state: OptState[A, B], params: Network[A, B]
    ) -> tuple[Matrix, OptState[A, B]]:
        """The unchecked step on flat columns (``grads`` laid out like ``_store.column(params)``):
        the update column and the new state."""
        t = state.count + 1
        update, columns = self.rule(grads, state.columns, t)
        if self.decay is not None:
            update -= self.decay(t) * _store.column(params)
        for column in columns:
            column.setflags(write=False)
        return update, OptState(count=t, columns=columns, template=params)

    def _step(
        self, grads: Matrix, state: OptState[A, B], params: Network[A, B], where: Where = "step"
    ) -> tuple[Network[A, B], OptState[A, B]]:
        """`update` and `apply_updates` in one, on a flat gradient column; the arguments
        are unchecked, the new params are (a ValueError naming ``where`` and the param)."""
        update, state = self._run(grads, state, params)
        update += _store.column(params)  # the rule's fresh array becomes the new params
        _check_finite(params, update, where)
        return _store.rebuild(params, update), state

    def _check(self, grads: object, state: object, params: object) -> None:
        where = f"{self.name} update"
        if not _is_network(params):
            raise TypeError(f"{where}: params must be a Network, got {type(params).__name__}")
        _check_like(grads, params, f"{where}: grads")
        self._check_state(state, params, where)

    def _check_state(self, state: object, params: Network[A, B], where: str) -> None:
        """Raise unless ``state`` is this optimizer's state for networks like ``params``."""
        if not _is_state(state):
            raise TypeError(
                f"{where}: state must be an OptState, got {type(state).__name__}; "
                f"make it with {self.name}(...).init(params)"
            )
        if (  # the common case: the state of an earlier step of the same network
            len(state.columns) == len(self.slot_names)
            and _store.layout(state.template) is _store.layout(params)
            and all(column.dtype == params.dtype for column in state.columns)
        ):
            return
        if len(state.columns) != len(self.slot_names):
            raise ShapeError(
                f"{where}: state has {len(state.columns)} slots, {self.name} keeps "
                f"{len(self.slot_names)} ({', '.join(self.slot_names) or 'none'}); "
                "is it another optimizer's state? make it with this optimizer's init(params)"
            )
        # The slots are kept as columns laid out like state.template: compare that network
        # once, then only each column's dtype (its shape follows from the layout).
        if state.columns:
            _check_like(state.template, params, f"{where}: state {self.slot_names[0]}")
        for column, slot_name in zip(state.columns, self.slot_names, strict=True):
            if column.dtype != params.dtype:
                slot = _store.rebuild(state.template, column)
                _check_like(slot, params, f"{where}: state {slot_name}")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters)
        return f"{self.name}({args})"

    def __reduce__(self) -> Reduced:
        """Pickle by factory name and hyper-parameters (the rule is a closure)."""
        return (_by_name, (self.name, self.hyperparameters))


def apply_updates(params: Network[A, B], updates: Network[A, B]) -> Network[A, B]:
    """The params moved by the updates: ``params + updates``, array by array.

    Args:
        params: the network being trained.
        updates: from `Optimizer.update`: shaped like ``params``, in its dtype.

    Returns:
        A new network of the same architecture; its arrays are fresh and read-only.

    Raises:
        ShapeError: (only when `typednet.checks_enabled`) ``updates`` does not match
            ``params``, naming the first param that differs.
        ValueError: the sum would hold NaN or inf (an overflow), naming the first such
            param; ``params`` is unchanged.

    Examples:
        >>> import numpy as np
        >>> import typednet as tn
        >>> net = tn.network(tn.Dense(w=np.ones((1, 2)), b=np.zeros((1, 1)),
        ...                           activation=tn.identity))
        >>> apply_updates(net, net).params
        (array([[2., 2.]]), array([[0.]]))
    """
    if checks_enabled():
        if not _is_network(params):
            raise TypeError(f"apply_updates: params must be a Network, got {type(params).__name__}")
        _check_like(updates, params, "apply_updates: updates")
    new = _store.column(params) + _store.column(updates)
    _check_finite(params, new, "apply_updates")
    return _store.rebuild(params, new)


# --- the optimizers ----------------------------------------------------------------------


def sgd(learning_rate: float | Schedule) -> Optimizer:
    """Plain gradient descent: ``update = -lr g``. No slots.

    Args:
        learning_rate: lr, a finite number > 0, or a schedule (see `typednet.schedules`).
    """
    lr, rate = _learning_rate("sgd", learning_rate)

    def rule(g: Matrix, slots: tuple[Matrix, ...], t: int) -> tuple[Matrix, tuple[Matrix, ...]]:
        return _scaled(g, -rate(t)), ()

    return _optimizer("sgd", (), rule, learning_rate=lr)


def momentum(learning_rate: float | Schedule, beta: float = 0.9) -> Optimizer:
    """Gradient descent with momentum, as PyTorch's ``SGD(momentum=beta)``.

    ``v = beta v + g``; ``update = -lr v``. Slot: ``velocity`` (v). (PyTorch's first
    step sets ``v = g``, which is the same from v = 0; dampening is 0.)

    Args:
        learning_rate: lr, a finite number > 0, or a schedule (see `typednet.schedules`).
        beta: the momentum, in [0, 1).
    """
    lr, rate = _learning_rate("momentum", learning_rate)
    b = _fraction("momentum", "beta", beta)

    def rule(g: Matrix, slots: tuple[Matrix, ...], t: int) -> tuple[Matrix, tuple[Matrix, ...]]:
        v = _scaled_plus(slots[0], b, g)
        return _scaled(v, -rate(t)), (v,)

    return _optimizer("momentum", ("velocity",), rule, learning_rate=lr, beta=b)


def nesterov(learning_rate: float | Schedule, beta: float = 0.9) -> Optimizer:
    """Nesterov momentum, as PyTorch's ``SGD(momentum=beta, nesterov=True)``.

    ``v = beta v + g``; ``update = -lr (g + beta v)`` with the new v. Slot: ``velocity``.

    Args:
        learning_rate: lr, a finite number > 0, or a schedule (see `typednet.schedules`).
        beta: the momentum, in [0, 1).
    """
    lr, rate = _learning_rate("nesterov", learning_rate)
    b = _fraction("nesterov", "beta", beta)

    def rule(g: Matrix, slots: tuple[Matrix, ...], t: int) -> tuple[Matrix, tuple[Matrix, ...]]:
        v = _scaled_plus(slots[0], b, g)
        return _scaled(_scaled_plus(v, b, g), -rate(t)), (v,)

    return _optimizer("nesterov", ("velocity",), rule, learning_rate=lr, beta=b)


def adagrad(learning_rate: float | Schedule = 0.01, eps: float = 1e-10) -> Optimizer:
    """Adagrad, as PyTorch's ``Adagrad`` (no lr decay, accumulator starting at 0).

    ``s = s + g²``; ``update = -lr g / (sqrt(s) + eps)``: eps is added after the square
    root. Slot: ``sum`` (s).

    Args:
        learning_rate: lr, a finite number > 0, or a schedule (see `typednet.schedules`).
        eps: a finite number > 0, added to the denominator.
    """
    lr, rate = _learning_rate("adagrad", learning_rate)
    e = _positive("adagrad", "eps", eps)

    def rule(g: Matrix, slots: tuple[Matrix, ...], t: int) -> tuple[Matrix, tuple[Matrix, ...]]:
        s: Matrix = g * g
        s += slots[0]
        return _normalized(g, s, rate(t), e), (s,)

    return _optimizer("adagrad", ("sum",), rule, learning_rate=lr, eps=e)


def rmsprop(
    learning_rate: float | Schedule = 0.01, decay: float = 0.99, eps: float = 1e-8
) -> Optimizer:
    """RMSprop, as PyTorch's ``RMSprop`` (its ``alpha`` is ``decay``; not centered).

    ``v = decay v + (1 - decay) g²``; ``update = -lr g / (sqrt(v) + eps)``: eps is added
    after the square root. Slot: ``square_avg`` (v).

    Args:
        learning_rate: lr, a finite number > 0, or a schedule (see `typednet.schedules`).
        decay: the averaging factor of the squares, in [0, 1).
        eps: a finite number > 0, added to the denominator.
    """
    lr, rate = _learning_rate("rmsprop", learning_rate)
    d = _fraction("rmsprop", "decay", decay)
    e = _positive("rmsprop", "eps", eps)

    def rule(g: Matrix, slots: tuple[Matrix, ...], t: int) -> tuple[Matrix, tuple[Matrix, ...]]:
        v = _average(slots[0], g * g, d)
        return _normalized(g, v, rate(t), e), (v,)

    return _optimizer("rmsprop", ("square_avg",), rule, learning_rate=lr, decay=d, eps=e)


def adadelta(
    learning_rate: float | Schedule = 1.0, rho: float = 0.9, eps: float = 1e-6
) -> Optimizer:
    """Adadelta, as PyTorch's ``Adadelta``.

    ``v = rho v + (1 - rho) g²``; ``delta = sqrt(u + eps) / sqrt(v + eps) * g``;
    ``u = rho u + (1 - rho) delta²``; ``update = -lr delta``. eps is added inside both
    square roots. Slots: ``square_avg`` (v), ``acc_delta`` (u).

    Args:
        learning_rate: lr, a finite number > 0 (scales delta; 1.0 is the paper's), or a
            schedule.
        rho: the averaging factor, in [0, 1).
        eps: a finite number > 0, added under both square roots.
    """
    lr, rate = _learning_rate("adadelta", learning_rate)
    r = _fraction("adadelta", "rho", rho)
    e = _positive("adadelta", "eps", eps)

    def rule(g: Matrix, slots: tuple[Matrix, ...], t: int) -> tuple[Matrix, tuple[Matrix, ...]]:
        v, u = slots
        v = _average(v, g * g, r)
        delta: Matrix = u + e  # sqrt(u + eps) / sqrt(v + eps) * g, as one square root:
        delta /= v + e
        np.sqrt(delta, out=delta)
        delta *= g
        u = _average(u, delta * delta, r)
        return _scaled(delta, -rate(t)), (v, u)

    return _optimizer("adadelta", ("square_avg", "acc_delta"), rule, learning_rate=lr, rho=r, eps=e)


def adam(
    learning_rate: float | Schedule = 1e-3, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> Optimizer:
    """Adam, as PyTorch's ``Adam``: bias-corrected, eps added to ``sqrt(v_hat)``.

    ``m = b1 m + (1 - b1) g``; ``v = b2 v + (1 - b2) g²``; with
    ``m_hat = m / (1 - b1^t)`` and ``v_hat = v / (1 - b2^t)``:
    ``update = -lr m_hat / (sqrt(v_hat) + eps)``. Slots: ``m``, ``v``.

    Args:
        learning_rate: lr, a finite number > 0, or a schedule (see `typednet.schedules`).
        b1: the averaging factor of the gradients, in [0, 1).
        b2: the averaging factor of their squares, in [0, 1).
        eps: a finite number > 0, added to ``sqrt(v_hat)``.

    Examples:
        >>> adam(learning_rate=0.0)
        Traceback (most recent call last):
        ...
        ValueError: adam: learning_rate must be a finite number > 0, got 0.0
    """
    lr, rate = _learning_rate("adam", learning_rate)
    hyper = _adam_hyper("adam", b1, b2, eps)
    b1, b2, e = hyper["b1"], hyper["b2"], hyper["eps"]

    def rule(g: Matrix, slots: tuple[Matrix, ...], t: int) -> tuple[Matrix, tuple[Matrix, ...]]:
        m, v = _moments(g, slots[0], slots[1], b1, b2)
        return _adam_step(m, v, t, rate(t), b1, b2, e), (m, v)

    return _optimizer("adam", ("m", "v"), rule, learning_rate=lr, **hyper)


def amsgrad(
    learning_rate: float | Schedule = 1e-3, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> Optimizer:
    """AMSGrad, as PyTorch's ``Adam(amsgrad=True)``: Adam with the largest v seen so far.

    m and v as in `adam`; ``v_max = max(v_max, v)`` of the raw (uncorrected) v;
    ``update = -lr m_hat / (sqrt(v_max) / sqrt(1 - b2^t) + eps)``, so eps is added to the
    bias-corrected ``sqrt(v_max_hat)``. Slots: ``m``, ``v``, ``v_max``.

    Args:
        learning_rate: lr, a finite number > 0, or a schedule (see `typednet.schedules`).
        b1: the averaging factor of the gradients, in [0, 1).
        b2: the averaging factor of their squares, in [0, 1).
        eps: a finite number > 0, added to ``sqrt(v_max_hat)``.
    """
    lr, rate = _learning_rate("amsgrad", learning_rate)
    hyper = _adam_hyper("amsgrad", b1, b2, eps)
    b1, b2, e = hyper["b1"], hyper["b2"], hyper["eps"]

    def rule(g: Matrix, slots: tuple[Matrix, ...], t: int) -> tuple[Matrix, tuple[Matrix, ...]]:
        m, v = _moments(g, slots[0], slots[1], b1, b2)
        v_max: Matrix = np.maximum(slots[2], v)
        return _adam_step(m, v_max, t, rate(t), b1, b2, e), (m, v, v_max)

    return _optimizer("amsgrad", ("m", "v", "v_max"), rule, learning_rate=lr, **hyper)


def adamax(
    learning_rate: float | Schedule = 2e-3, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> Optimizer:
    """Adamax, as PyTorch's ``Adamax``: Adam with an infinity norm.

    ``m = b1 m + (1 - b1) g``; ``u = max(b2 u, |g| + eps)`` (eps added to ``|g|`` inside
    the max); ``update = -lr / (1 - b1^t) * m / u``. Slots: ``m``, ``u``.

    Args:
        learning_rate: lr, a finite number > 0, or a schedule (see `typednet.schedules`).
        b1: the averaging factor of the gradients, in [0, 1).
        b2: the decay of the infinity norm, in [0, 1).
        eps: a finite number > 0, added to ``|g|``.
    """
    lr, rate = _learning_rate("adamax", learning_rate)
    hyper = _adam_hyper("adamax", b1, b2, eps)
    decay_m, decay_u, e = hyper.values()

    def rule(g: Matrix, slots: tuple[Matrix, ...], t: int) -> tuple[Matrix, tuple[Matrix, ...]]:
        m = _average(slots[0], g, decay_m)
        u: Matrix = np.abs(g)
        u += e
        np.maximum(u, _scaled(slots[1], decay_u), out=u)
        out = _scaled(m, -rate(t) / (1.0 - decay_m**t))
        out /= u
        return out, (m, u)

    return _optimizer("adamax", ("m", "u"), rule, learning_rate=lr, **hyper)


def adamw(
    learning_rate: float | Schedule = 1e-3,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 1e-2,
) -> Optimizer:
    """AdamW, as PyTorch's ``AdamW``: Adam with decoupled weight decay.

    The params shrink by ``lr * weight_decay`` each step, apart from the gradient:
    ``update = -lr weight_decay p - lr m_hat / (sqrt(v_hat) + eps)``, with m, v and the
    bias corrections as in `adam` (which, unlike an `l2` penalty, leaves m and v free of
    the decay). Every param decays, biases included, as in PyTorch with one param group.
    With a schedule, the decay follows the scheduled lr. Slots: ``m``, ``v``.

    Args:
        learning_rate: lr, a finite number > 0, or a schedule (see `typednet.schedules`).
        b1: the averaging factor of the gradients, in [0, 1).
        b2: the averaging factor of their squares, in [0, 1).
        eps: a finite number > 0, added to ``sqrt(v_hat)``.
        weight_decay: the decoupled decay, a finite number >= 0 (0 is `adam`).

    Examples:
        >>> import numpy as np
        >>> import typednet as tn
        >>> net = tn.network(tn.Dense(w=np.array([[2.0]]), b=np.ones((1, 1)),
        ...                           activation=tn.identity))
        >>> opt = adamw(learning_rate=0.1, weight_decay=0.5)
        >>> updates, _ = opt.update(net, opt.init(net), net)  # the grads: any network
        >>> updates.params  # -lr wd p - lr sign(g): Adam's first step is -lr sign(g)
        (array([[-0.2]]), array([[-0.15]]))

    """
    lr, rate = _learning_rate("adamw", learning_rate)
    hyper = _adam_hyper("adamw", b1, b2, eps)
    b1, b2, e = hyper["b1"], hyper["b2"], hyper["eps"]
    wd = _number("adamw", "weight_decay", weight_decay, lambda x: x >= 0.0, "a finite number >= 0")

    def rule(g: Matrix, slots: tuple[Matrix, ...], t: int) -> tuple[Matrix, tuple[Matrix, ...]]:
        m, v = _moments(g, slots[0], slots[1], b1, b2)
        return _adam_step(m, v, t, rate(t), b1, b2, e), (m, v)

    def decoupled(t: int) -> float:
        return rate(t) * wd

    opt = _optimizer("adamw", ("m", "v"), rule, learning_rate=lr, **hyper, weight_decay=wd)
    return replace(opt, decay=decoupled)


# --- shared maths ------------------------------------------------------------------------
# Hyper-parameters are Python floats: a NumPy float64 scalar would promote float32 arrays.


def _scaled(a: Matrix, c: float) -> Matrix:
    out: Matrix = a * c
    return out


def _scaled_plus(a: Matrix, c: float, b: Matrix) -> Matrix:
    """``c a + b``."""
    out = _scaled(a, c)
    out += b
    return out


def _average(old: Matrix, new: Matrix, decay: float, *, scratch: bool = False) -> Matrix:
    """The running average ``decay old + (1 - decay) new``, as ``old + (1 - decay)(new - old)``.

    With ``scratch=True``, ``new`` is a fresh array of the caller's and is written over.
    """
    out: Matrix = np.subtract(new, old, out=new) if scratch else new - old
    out *= 1.0 - decay
    out += old
    return out


def _normalized(a: Matrix, sq: Matrix, lr: float, eps: float) -> Matrix:
    """``-lr a / (sqrt(sq) + eps)``."""
    denom: Matrix = np.sqrt(sq)
    denom += eps
    out = _scaled(a, -lr)
    out /= denom
    return out


def _adam_hyper(name: str, b1: float, b2: float, eps: float) -> dict[str, float]:
    return {
        "b1": _fraction(name, "b1", b1),
        "b2": _fraction(name, "b2", b2),
        "eps": _positive(name, "eps", eps),
    }


# Adam's two functions below run at every training step of the Adam family: their bodies
# are `_average` and `_normalized` written out (the same operations in the same order,
# so the same bits), without the five nested calls and the dict look-ups.


def _moments(g: Matrix, m: Matrix, v: Matrix, b1: float, b2: float) -> tuple[Matrix, Matrix]:
    """Adam's running averages of the gradient (m) and of its square (v), each as
    ``old + (1 - decay)(new - old)`` (`_average`), in place on its one new array."""
    m_new: Matrix = g - m
    m_new *= 1.0 - b1
    m_new += m
    v_new: Matrix = g * g
    np.subtract(v_new, v, out=v_new)
    v_new *= 1.0 - b2
    v_new += v
    return m_new, v_new


def _adam_step(m: Matrix, v: Matrix, t: int, lr: float, b1: float, b2: float, eps: float) -> Matrix:
    """``-lr m_hat / (sqrt(v_hat) + eps)``, bias corrections as Python floats.

    Multiplied through by ``root = sqrt(1 - b2^t)`` so the correction of v costs no
    array operation: ``-(lr root / (1 - b1^t)) m / (sqrt(v) + eps root)`` (`_normalized`).
    """
    root = math.sqrt(1.0 - b2**t)
    denom: Matrix = np.sqrt(v)
    denom += eps * root
    out: Matrix = m * -(lr * root / (1.0 - b1**t))
    out /= denom
    return out


# --- helpers -----------------------------------------------------------------------------


def _optimizer(
    name: str, slot_names: tuple[str, ...], rule: _Rule, **hyper: float | Schedule
) -> Optimizer:
    return Optimizer(
        name=name, slot_names=slot_names, hyperparameters=tuple(hyper.items()), rule=rule
    )


def _learning_rate(opt: str, value: object) -> tuple[float | Schedule, Callable[[int], float]]:
    """The learning rate as given (checked if a number) and ``rate(t)`` for update t >= 1.

    A schedule sees the 0-based step ``t - 1``; each rate it returns is checked, so a
    NaN, an infinity or a negative rate stops training, naming the step, as does an
    OverflowError or a ValueError the schedule raises.
    """
    if isinstance(value, numbers.Real) or not callable(value):
        lr = _positive(opt, "learning_rate", value)
        return lr, lambda t: lr
    schedule = cast(Schedule, value)  # a callable: each rate it returns is checked below

    def rate(t: int) -> float:
        try:
            lr = schedule(t - 1)
        except (OverflowError, ValueError) as error:  # named by the step, whoever raised it
            raise ValueError(
                f"{opt}: the learning-rate schedule failed at step {t - 1} (counted from 0): "
                f"{error}"
            ) from error
        if not (isinstance(lr, numbers.Real) and math.isfinite(lr) and lr >= 0.0):
            raise ValueError(
                f"{opt}: the learning-rate schedule gave {lr!r} at step {t - 1} (counted "
                "from 0); a learning rate must be a finite number >= 0"
            )
        return float(lr)

    return schedule, rate


def _structure(net: Network[A, B]) -> _Structure:
    """Each param's layer kind, shape and dtype: what an update must match, cheap to compare."""
    return [(type(layer), p.shape, p.dtype) for _, layer in _with_params(net) for p in layer.params]


def _with_params(net: Network[Any, Any]) -> list[tuple[int, Layer[Any, Any]]]:
    """``(i, layer)`` for each layer holding params; i counts every layer from 1."""
    return [
        (i, layer)
        for i, layer in enumerate(net.layers, 1)
        if isinstance(layer, Layer) and layer.param_names
    ]


def _check_like(other: object, params: Network[A, B], where: str) -> None:
    """Raise ShapeError unless ``other`` has the layers, shapes and dtypes of ``params``.

    Networks rebuilt from one another (gradients, updates, every step's params) share
    one layout: then a match costs an identity and a dtype test. Otherwise it costs one
    comparison of lists, and only a mismatch is explained, naming the first layer or
    param that differs.
    """
    if not _is_network(other):
        raise ShapeError(
            f"{where}: expected a Network shaped like params, got {type(other).__name__}"
        )
    if _store.layout(other) is _store.layout(params) and other.dtype == params.dtype:
        return
    if _structure(other) == _structure(params):
        return
    theirs = [layer for _, layer in _with_params(other)]
    ours = [layer for _, layer in _with_params(params)]
    if len(theirs) != len(ours):
        raise ShapeError(
            f"{where}: expected {len(ours)} layers with params like params, got {len(theirs)}; "
            "is it for another network?"
        )
    for k, (their, our) in enumerate(zip(theirs, ours, strict=True)):
        if type(their) is not type(our):
            raise ShapeError(
                f"{where}: {_layer_label(params, k)}: expected a {type(our).__name__} like "
                f"params, got a {type(their).__name__}"
            )
    for i, (q, p) in enumerate(zip(other.params, params.params, strict=True)):
        if q.shape != p.shape:
            raise ShapeError(
                f"{where} param {i + 1} ({_param_label(params, i)}): "
                f"expected shape {p.shape} like params, got {q.shape}"
            )
        if q.dtype != p.dtype:
            raise ShapeError(
                f"{where} param {i + 1} ({_param_label(params, i)}): "
                f"expected dtype {p.dtype} like params, got {q.dtype}"
            )


def _layer_label(net: Network[A, B], k: int) -> str:
    """``layer i`` for the k-th (0-based) layer with params; i counts every layer from 1."""
    return f"layer {_with_params(net)[k][0]}"


def _param_label(net: Network[A, B], i: int) -> str:
    """``layer 2 w`` for the i-th (0-based) array of ``net.params``."""
    labels = [f"layer {k} {name}" for k, layer in _with_params(net) for name in layer.param_names]
    return labels[i]


def _by_name(name: str, hyperparameters: tuple[tuple[str, float | Schedule], ...]) -> Optimizer:
    """Rebuild an optimizer from its factory's name and arguments (for unpickling)."""
    factories: dict[str, Callable[..., Optimizer]] = {
        make.__name__: make
        for make in (
            sgd,
            momentum,
            nesterov,
            adagrad,
            rmsprop,
            adadelta,
            adam,
            amsgrad,
            adamax,
            adamw,
        )
    }
    if name not in factories:
        raise ValueError(f"unknown optimizer {name!r}; known: {sorted(factories)}")
    return factories[name](**dict(hyperparameters))


def _check_finite(params: Network[A, B], flat: Matrix, where: Where, what: str = "params") -> None:
    """ValueError naming the first param (layer and field) of ``flat`` that is not finite.

    ``flat`` is laid out like ``params``'s column; ``what`` it holds (params, or a
    gradient) is named in the message. When every value is finite the whole cost is one
    ``np.isfinite(flat).all()``: about 10 µs for 17 000 params. (A sum of squares by
    ``np.dot`` reads ``flat`` once, but warns of an overflow for finite values above
    1e154, which the tests rightly turn into errors; a max and a min together cost as
    much as this on the digits network's 17 226 params.)
    """
    if np.isfinite(flat).all():
        return
    row = int(np.flatnonzero(~np.isfinite(flat[:, 0]))[0])
    i = next(k for k, (a, b, _) in enumerate(_store.layout(params).slices) if a <= row < b)
    advice = (
        "nothing is returned and the network passed in is unchanged: try a smaller "
        "learning rate or check the data's scale"
        if what == "params"
        else "an overflow: check the data's and the params' scale"
    )
    raise ValueError(
        f"{where_text(where)} would give non-finite {what} (NaN or inf), first in "
        f"{_param_label(params, i)}; {advice}"
    )
