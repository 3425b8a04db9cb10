"""Readers for saved JSON metadata: each checks one value and names where it failed.

Used by `typednet.io` for the file's header and by each layer kind's ``check_spec``
for its own part, so every message reads alike: ``{where}: expected ..., got ...``,
with values shown briefly (a long string by its length, a list or object by its type).
"""

import json
import math
from typing import cast

from .activations import Activation, _by_name

__all__ = [
    "activation",
    "brief",
    "clip",
    "dim",
    "number",
    "numbers",
    "object_",
    "pair",
    "size",
]


def brief(value: object) -> str:
    """A JSON value for a message: numbers and short strings as such, else their type."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else f"a string of {len(value)} characters"
    if isinstance(value, bool | int | float) or value is None:
        return json.dumps(value)[:40]
    return "a list" if isinstance(value, list) else "an object"


def clip(text: str) -> str:
    """Text from a file (a Dim name) for a message: its start and its length when long."""
    return text if len(text) <= 40 else f"{text[:30]}... ({len(text)} characters)"


def object_(value: object, keys: tuple[str, ...], where: str) -> dict[str, object]:
    """A JSON object with exactly ``keys``."""
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object, got {brief(value)}")
    value = cast("dict[str, object]", value)  # parsed JSON: its keys are strings
    missing = [k for k in keys if k not in value]
    if missing:
        raise ValueError(f"{where}: missing {missing[0]!r}")
    extra = sorted(k for k in value if k not in keys)
    if extra:
        raise ValueError(f"{where}: unexpected key {brief(extra[0])}")
    return value


def pair(value: object, where: str) -> tuple[object, object]:
    """A JSON list of exactly two values."""
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a list of 2, got {brief(value)}")
    items = cast("list[object]", value)
    if len(items) != 2:
        raise ValueError(f"{where}: expected a list of 2, got a list of {len(items)}")
    return items[0], items[1]


def size(value: object, where: str) -> int:
    """A positive integer."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{where}: expected a positive integer, got {brief(value)}")
    return value


def number(value: object, where: str) -> float:
    """A finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{where}: expected a finite number, got {brief(value)}")
    return float(value)


def numbers(value: object, count: int, where: str) -> list[float]:
    """A list of ``count`` finite numbers."""
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a list of {count} numbers, got {brief(value)}")
    items = cast("list[object]", value)
    if len(items) != count:
        raise ValueError(f"{where}: expected {count} numbers, got {len(items)}")
    return [number(item, f"{where}[{i}]") for i, item in enumerate(items)]


def dim(value: object, expected_size: int, where: str) -> str | None:
    """A saved ``[name, size]`` pair: the name, after checking the size; null is None."""
    if value is None:
        return None
    name, saved_size = pair(value, where)
    if not (isinstance(name, str) and name.isidentifier()):
        raise ValueError(f"{where}: a Dim name must be an identifier, got {brief(name)}")
    if size(saved_size, where) != expected_size:
        raise ValueError(
            f"{where}: {clip(name)} has size {saved_size} but its arrays have {expected_size}"
        )
    return name


def activation(value: object, where: str) -> Activation:
    """A saved ``{"name": ..., "param": ...}``, rebuilt from typednet's own activations."""
    saved = object_(value, ("name", "param"), where)
    name, param = saved["name"], saved["param"]
    if not isinstance(name, str):
        raise ValueError(f"{where} name: expected a string, got {brief(name)}")
    value_ = None if param is None else number(param, f"{where} param")
    try:
        found = _by_name(name, value_)
    except ValueError as exc:  # its message quotes the name whole, which may be megabytes
        raise ValueError(f"{where}: {str(exc).replace(repr(name), brief(name))}") from None
    if found.param != value_:
        raise ValueError(f"{where}: {name} takes no parameter, got {brief(param)}")
    return found


def activation_spec(a: Activation) -> dict[str, str | float | None]:
    """What `activation` reads back."""
    return {"name": a.name, "param": a.param}
