"""Pickle and copy support: every typednet object is rebuilt through its constructor.

A pickled network holds its layers' constructor arguments, a format number and the
typednet version that wrote it. Unpickling calls the constructor again, so the result
is validated, typed and read-only exactly like a network built by hand, and views into
one flat column are rebuilt rather than restored as separate arrays.

`FORMAT` changes when a pickled class changes its constructor arguments; a pickle of
another format is refused with a message that says which versions wrote and read it.
Activations, losses and optimizers are pickled by name and arguments (their functions
are closures, which pickle cannot store) and rebuilt by their factories.

For files from an untrusted source use `typednet.save` / `typednet.load` instead:
loading a pickle can run any code.
"""

from collections.abc import Callable
from dataclasses import fields, is_dataclass
from typing import TypeVar, cast

import numpy as np

__all__ = ["FORMAT", "reduce"]

FORMAT = 1
"""The pickle format of typednet's objects: bump it when a constructor's arguments change."""

T = TypeVar("T")

# What __reduce__ returns: a callable that rebuilds the object, and its arguments.
Reduced = tuple[Callable[..., object], tuple[object, ...]]


def reduce(obj: object) -> Reduced:
    """``__reduce__`` for a dataclass: rebuild it by calling its class with its init fields.

    Raises:
        TypeError: ``obj`` is not a dataclass instance (a user's layer must then define
            its own ``__reduce__``).
    """
    if not is_dataclass(obj) or isinstance(obj, type):
        raise TypeError(
            f"cannot pickle {type(obj).__name__}: typednet pickles a dataclass's init fields; "
            "define __reduce__ on it"
        )
    kwargs = {f.name: getattr(obj, f.name) for f in fields(obj) if f.init}
    return (_rebuild, (type(obj), FORMAT, _typednet_version(), kwargs))


def _rebuild(cls: type[T], fmt: int, version: str, kwargs: dict[str, object]) -> T:
    """Call ``cls(**kwargs)`` after checking the format; unpickled arrays become read-only."""
    where = f"unpickling a typednet {cls.__name__} written by typednet {version}"
    if fmt != FORMAT:
        raise ValueError(
            f"{where} (pickle format {fmt}): this is typednet {_typednet_version()}, "
            f"which reads pickle format {FORMAT} only; load it with typednet {version} "
            "and save it with tn.save, which later versions can load"
        )
    try:
        return cls(**{name: _read_only(value) for name, value in kwargs.items()})
    except TypeError as error:
        raise ValueError(
            f"{where}: its fields ({', '.join(kwargs)}) do not fit this typednet's "
            f"{cls.__name__} ({error}); load it with typednet {version} and save it with tn.save"
        ) from error


def _read_only(value: object) -> object:
    """Arrays (alone or in a tuple) made read-only: they are fresh from the pickle."""
    result = value
    if isinstance(value, np.ndarray):
        value.setflags(write=False)
    elif isinstance(value, tuple):
        for item in cast("tuple[object, ...]", value):
            _read_only(item)
    return result


def _typednet_version() -> str:
    from . import __version__  # at call time: this module is imported by typednet's own

    return __version__
