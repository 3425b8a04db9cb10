"""The small validators, written once: numbers, counts and random generators.

They agree everywhere: a NumPy scalar (``np.float32(0.1)``, ``np.int64(3)``) is accepted
wherever a Python number is, a bool never is, and a legacy ``np.random.RandomState`` is
accepted wherever a ``np.random.Generator`` is (the course seeds NumPy's legacy stream).
Messages read ``{where}: {name} must be {what}, got {value!r}``.
"""

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "Rng",
    "Where",
    "check_finite",
    "finite",
    "fraction",
    "positive",
    "positive_int",
    "rng",
    "where_text",
]

Rng = np.random.Generator | np.random.RandomState
"""A source of random draws: a Generator, or a legacy RandomState."""

Where = str | Callable[[], str]
"""Where an error message says it happened: the text, or a function that makes it, so
that a training step, which names itself at every step, formats it only for an error."""


def where_text(where: Where) -> str:
    """The text of a `Where`."""
    return where if isinstance(where, str) else where()


def number(where: str, name: str, value: object, ok: Callable[[float], bool], want: str) -> float:
    """``value`` as a float when it is a real number (not a bool) that passes ``ok``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or not ok(float(value))
    ):
        raise ValueError(f"{where}: {name} must be {want}, got {value!r}")
    return float(value)


def finite(where: str, name: str, value: object) -> float:
    """A finite number."""
    return number(where, name, value, lambda x: True, "a finite number")


def positive(where: str, name: str, value: object) -> float:
    """A finite number > 0."""
    return number(where, name, value, lambda x: x > 0.0, "a finite number > 0")


def non_negative(where: str, name: str, value: object) -> float:
    """A finite number >= 0."""
    return number(where, name, value, lambda x: x >= 0.0, "a finite number >= 0")


def fraction(where: str, name: str, value: object) -> float:
    """A number in [0, 1)."""
    return number(where, name, value, lambda x: 0.0 <= x < 1.0, "a number in [0, 1)")


def positive_int(where: str, name: str, value: object) -> int:
    """An int >= 1 (a NumPy integer too)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 1:
        raise ValueError(f"{where}: {name} must be a positive int, got {value!r}")
    return int(value)


_FINITE_BLOCK = 2**18
"""Elements `check_finite` scans at a time: its scratch memory stays 256 kB."""


def check_finite(a: npt.NDArray[np.floating[Any]], where: str) -> None:
    """ValueError when array ``a`` holds NaN or inf (named by ``where``, never by value).

    A large array is scanned a block of rows at a time, so the check's own memory stays
    small whatever ``a``'s size (`load` builds layers of gigabytes with it).
    """
    if a.ndim == 0 or a.size <= _FINITE_BLOCK:
        finite = bool(np.isfinite(a).all())
    else:
        rows = max(1, _FINITE_BLOCK * a.shape[0] // a.size)
        finite = all(np.isfinite(a[i : i + rows]).all() for i in range(0, a.shape[0], rows))
    if not finite:
        raise ValueError(f"{where}: contains NaN or inf")


def rng(where: str, value: object, name: str = "rng") -> Rng:
    """A Generator or a RandomState, else a TypeError saying how to make one."""
    if not isinstance(value, np.random.Generator | np.random.RandomState):
        raise TypeError(
            f"{where}: {name} must be np.random.default_rng(seed) or "
            f"np.random.RandomState(seed), got {type(value).__name__}"
        )
    return value
