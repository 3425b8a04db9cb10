"""Learning-rate schedules: the rate as a function of the step.

A schedule is any callable ``schedule(step) -> rate``, where ``step`` counts the updates
made before this one (0 for the first update, as in optax). Every optimizer accepts one
in place of its float ``learning_rate``; the step comes from the optimizer's state, so a
resumed `typednet.fit` carries on where it stopped.

The schedules below are small frozen records (so they compare, print and pickle) and
compose: `warmup` ramps up to another schedule, and `join` runs several one after the
other, each starting again from step 0 at its boundary.

The optimizer checks each rate it is given: a schedule that returns NaN, an infinity or
a negative number, or overflows, stops training with a `ValueError` naming the step.
The growing schedules here (a ``rate`` or ``factor`` above 1) raise a ValueError
naming the step themselves where the rate is beyond the largest float, never an
OverflowError.

Examples:
    >>> from typednet import schedules
    >>> s = schedules.warmup(2, schedules.step_decay(0.1, factor=0.5, every=3))
    >>> [round(s(t), 4) for t in range(8)]
    [0.0, 0.05, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05]
"""

import itertools
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = [
    "Schedule",
    "constant",
    "cosine_decay",
    "exponential_decay",
    "join",
    "step_decay",
    "warmup",
]


@runtime_checkable
class Schedule(Protocol):
    """Anything callable as ``schedule(step) -> rate``; ``step`` is 0 for the first update."""

    def __call__(self, step: int, /) -> float: ...


def _rate(where: str, name: str, value: object, *, positive: bool = False) -> float:
    """A finite float ``>= 0`` (``> 0`` when ``positive``), or a ValueError."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value < 0.0
        or (positive and value == 0.0)
    ):
        want = "> 0" if positive else ">= 0"
        raise ValueError(f"{where}: {name} must be a finite number {want}, got {value!r}")
    return float(value)


def _powered(initial: float, base: float, power: float) -> float:
    """``initial * base ** power``: inf beyond the largest float, 0.0 below the smallest."""
    try:
        return initial * math.pow(base, power)
    except OverflowError:  # math.pow (as float **) raises where NumPy would give inf
        return initial if base == 1.0 else 0.0 if base < 1.0 else math.inf


def _overflow(where: str, formula: str, step: int) -> ValueError:
    return ValueError(f"{where}: the rate {formula} overflows at step {step}")


def _per(step: int, every: int) -> float:
    """``step / every``; infinite for a step too large for a float."""
    try:
        return step / every
    except OverflowError:
        return math.inf


def _count(where: str, name: str, value: object) -> int:
    """A positive int (steps), or a ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{where}: {name} must be a positive int, got {value!r}")
    return int(value)


@dataclass(frozen=True, slots=True)
class constant:  # lower case: a schedule reads as a function, schedules.constant(0.1)
    """The same rate at every step.

    Args:
        value: the rate, a finite number >= 0.

    Examples:
        >>> constant(0.1)(0), constant(0.1)(1000)
        (0.1, 0.1)
    """

    value: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", _rate("constant", "value", self.value))

    def __call__(self, step: int, /) -> float:
        return self.value


@dataclass(frozen=True, slots=True)
class exponential_decay:
    """``initial * rate ** (step / every)``: multiplied by ``rate`` every ``every`` steps.

    With ``staircase=True`` the exponent is rounded down (``step // every``), so the rate
    drops in steps instead of smoothly.

    Args:
        initial: the rate at step 0, a finite number > 0.
        rate: the decay factor per ``every`` steps, a finite number > 0 (below 1 decays).
        every: the steps over which the rate is multiplied by ``rate`` once.
        staircase: round the exponent down.

    Examples:
        >>> exponential_decay(1.0, rate=0.5, every=2)(3)  # 0.5 ** 1.5
        0.3535533905932738
    """

    initial: float
    rate: float
    every: int = 1
    staircase: bool = False

    def __post_init__(self) -> None:
        where = "exponential_decay"
        object.__setattr__(self, "initial", _rate(where, "initial", self.initial, positive=True))
        object.__setattr__(self, "rate", _rate(where, "rate", self.rate, positive=True))
        object.__setattr__(self, "every", _count(where, "every", self.every))

    def __call__(self, step: int, /) -> float:
        power = step // self.every if self.staircase else _per(step, self.every)
        value = _powered(self.initial, self.rate, power)
        if value == math.inf:
            op = "//" if self.staircase else "/"
            formula = f"{self.initial:g} * {self.rate:g} ** (step {op} {self.every})"
            raise _overflow("exponential_decay", formula, step)
        return value


@dataclass(frozen=True, slots=True)
class step_decay:
    """``initial * factor ** (step // every)``, as PyTorch's ``StepLR(step_size, gamma)``.

    Args:
        initial: the rate for the first ``every`` steps, a finite number > 0.
        factor: what the rate is multiplied by every ``every`` steps, a finite number > 0.
        every: how many steps each rate lasts.

    Examples:
        >>> [step_decay(0.1, factor=0.1, every=2)(t) for t in range(5)]
        [0.1, 0.1, 0.010000000000000002, 0.010000000000000002, 0.0010000000000000002]
    """

    initial: float
    factor: float
    every: int

    def __post_init__(self) -> None:
        where = "step_decay"
        object.__setattr__(self, "initial", _rate(where, "initial", self.initial, positive=True))
        object.__setattr__(self, "factor", _rate(where, "factor", self.factor, positive=True))
        object.__setattr__(self, "every", _count(where, "every", self.every))

    def __call__(self, step: int, /) -> float:
        value = _powered(self.initial, self.factor, step // self.every)
        if value == math.inf:
            formula = f"{self.initial:g} * {self.factor:g} ** (step // {self.every})"
            raise _overflow("step_decay", formula, step)
        return value


@dataclass(frozen=True, slots=True)
class cosine_decay:
    """From ``initial`` down to ``final`` along half a cosine over ``steps``, then ``final``.

    ``final + (initial - final) * (1 + cos(pi * step / steps)) / 2`` for
    ``step <= steps``, as PyTorch's ``CosineAnnealingLR(T_max=steps, eta_min=final)``
    (without restarts) and optax's ``cosine_decay_schedule``.

    Args:
        initial: the rate at step 0, a finite number > 0.
        steps: the length of the decay.
        final: the rate from ``steps`` on, a finite number >= 0.

    Examples:
        >>> [cosine_decay(1.0, steps=4)(t) for t in (0, 2, 4, 9)]
        [1.0, 0.5, 0.0, 0.0]
    """

    initial: float
    steps: int
    final: float = 0.0

    def __post_init__(self) -> None:
        where = "cosine_decay"
        object.__setattr__(self, "initial", _rate(where, "initial", self.initial, positive=True))
        object.__setattr__(self, "steps", _count(where, "steps", self.steps))
        object.__setattr__(self, "final", _rate(where, "final", self.final))

    def __call__(self, step: int, /) -> float:
        if step >= self.steps:
            return self.final
        half = 0.5 * (1.0 + math.cos(math.pi * step / self.steps))
        return self.final + (self.initial - self.final) * half


@dataclass(frozen=True, slots=True)
class warmup:
    """A linear warm-up over ``steps``, then ``then`` (which starts again from its step 0).

    For ``step < steps`` the rate is ``start + (then(0) - start) * step / steps``; from
    ``steps`` on it is ``then(step - steps)``.

    Args:
        steps: the length of the warm-up.
        then: the schedule after it (a float is a `constant`).
        start: the rate at step 0, a finite number >= 0.

    Examples:
        >>> [warmup(4, then=1.0)(t) for t in range(6)]
        [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    """

    steps: int
    then: Schedule | float
    start: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", _count("warmup", "steps", self.steps))
        object.__setattr__(self, "then", _schedule("warmup", "then", self.then))
        object.__setattr__(self, "start", _rate("warmup", "start", self.start))

    def __call__(self, step: int, /) -> float:
        then = self.then
        assert callable(then)  # made a schedule in __post_init__
        if step >= self.steps:
            return then(step - self.steps)
        return self.start + (then(0) - self.start) * (step / self.steps)


@dataclass(frozen=True, slots=True)
class join:
    """Several schedules one after the other, as optax's ``join_schedules``.

    ``schedules[i]`` runs from ``boundaries[i - 1]`` (0 for the first) up to
    ``boundaries[i]``, and sees the steps counted from its own start.

    Args:
        schedules: two or more schedules (a float is a `constant`).
        boundaries: the steps where the next schedule takes over, increasing; one fewer
            than the schedules.

    Examples:
        >>> s = join((constant(1.0), step_decay(0.5, factor=0.5, every=1)), boundaries=(2,))
        >>> [s(t) for t in range(5)]
        [1.0, 1.0, 0.5, 0.25, 0.125]
    """

    schedules: Sequence[Schedule | float]
    boundaries: Sequence[int]

    def __post_init__(self) -> None:
        parts = tuple(_schedule("join", "schedules", s) for s in self.schedules)
        bounds = tuple(_count("join", "boundaries", b) for b in self.boundaries)
        if len(parts) < 2 or len(bounds) != len(parts) - 1:
            raise ValueError(
                f"join: needs two or more schedules and one boundary fewer, got "
                f"{len(parts)} schedules and {len(bounds)} boundaries"
            )
        if any(a >= b for a, b in itertools.pairwise(bounds)):
            raise ValueError(f"join: boundaries must increase, got {bounds}")
        object.__setattr__(self, "schedules", parts)
        object.__setattr__(self, "boundaries", bounds)

    def __call__(self, step: int, /) -> float:
        start = 0
        for schedule, boundary in zip(self.schedules, (*self.boundaries, None), strict=True):
            if boundary is None or step < boundary:
                assert callable(schedule)  # made a schedule in __post_init__
                return schedule(step - start)
            start = boundary
        raise AssertionError("unreachable: the last schedule has no boundary")


def _schedule(where: str, name: str, value: object) -> Schedule:
    """A schedule as given, or a `constant` for a number."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return constant(float(value))
    if isinstance(value, Schedule):
        return value
    raise TypeError(
        f"{where}: {name} must be a number or a schedule (a function of the step), "
        f"got {type(value).__name__}"
    )
