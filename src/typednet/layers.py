"""Layers: immutable, validated params and their forward maths.

A `Dense[P, N]` maps P values to N values: ``pre = w @ x + b`` (the tutorial's
``in_hidden_k``), ``post = activation(pre)`` (its ``out_hidden_k``). ``w`` has shape
(next, prev) = (N, P) and ``b`` (next, 1). A `LayerNorm[D]` normalizes each column over
its D features. An `Activation` can also stand as a layer of its own.

Construction validates every size and the (next, prev) orientation, copies the arrays
and makes them read-only; after that a layer never changes and is never re-checked.
"""

import math
from dataclasses import dataclass
from typing import Any, Generic

import numpy as np
from typing_extensions import TypeVar

from ._pickle import Reduced, reduce
from .activations import Activation
from .shapes import Bias, Dim, Matrix, ShapeError, Weight, _check_array, _frozen_copy

__all__ = ["Dense", "Layer", "LayerNorm"]

P = TypeVar("P", default=int)
N = TypeVar("N", default=int)
D = TypeVar("D", default=int)


class Layer(Generic[P, N]):
    """Base of the sized layers: maps P values per column to N values per column."""

    __slots__ = ()

    @property
    def in_size(self) -> int:
        """How many values per column the layer takes (its prev)."""
        raise NotImplementedError

    @property
    def out_size(self) -> int:
        """How many values per column the layer gives (its next)."""
        raise NotImplementedError

    @property
    def dtype(self) -> np.dtype[np.floating[Any]]:
        """The params' floating dtype; inputs must have the same."""
        raise NotImplementedError

    @property
    def params(self) -> tuple[Matrix, ...]:
        """The layer's arrays in a fixed order (used by optimizers and saving)."""
        raise NotImplementedError

    def _dim_names(self) -> tuple[str | None, str | None]:
        raise NotImplementedError

    def _with_params(self, params: tuple[Matrix, ...]) -> "Layer[P, N]":
        """A copy holding ``params`` instead, without re-validating (trusted callers)."""
        raise NotImplementedError

    def _apply(self, x: Matrix) -> Matrix:
        """The forward pass, unchecked: ``post`` for input columns ``x``."""
        raise NotImplementedError

    def _trace(self, x: Matrix) -> tuple[Matrix, Matrix]:
        """The forward pass, unchecked, keeping ``(pre, post)``."""
        raise NotImplementedError

    def __reduce__(self) -> Reduced:
        """Pickle and copy through the constructor, which validates and freezes again."""
        return reduce(self)


def _check_finite(a: Matrix, where: str) -> None:
    if not np.isfinite(a).all():
        raise ValueError(f"{where}: contains NaN or inf")


def _dim_size(dim: object, where: str) -> int:
    if isinstance(dim, type) and issubclass(dim, Dim):
        return int(dim.size)
    raise TypeError(f"{where}: dims must be Dim subclasses, got {dim!r}")


def _label(dims: tuple[str | None, str | None], sizes: tuple[int, int]) -> str:
    prev, nxt = (f"{n} {s}" if n else str(s) for n, s in zip(dims, sizes, strict=True))
    return f"{prev} → {nxt}"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Dense(Layer[P, N]):
    """A dense layer: ``post = activation(w @ x + b)``.

    Attributes:
        w: weights, shape (next, prev): row i holds the weights into node i.
        b: bias, shape (next, 1).
        activation: applied to ``pre = w @ x + b``.
        dims: optional ``(Prev, Next)`` Dim classes: sizes as types, checked here and
            by mypy when layers are chained.

    >>> import numpy as np
    >>> import typednet as tn
    >>> class Features(tn.Dim, size=2): ...
    >>> class Hidden(tn.Dim, size=3): ...
    >>> layer = tn.Dense(w=np.ones((3, 2)), b=np.zeros((3, 1)), activation=tn.relu,
    ...                  dims=(Features, Hidden))
    >>> layer
    Dense(Features 2 → Hidden 3, relu, float64)
    >>> tn.Dense(w=np.ones((2, 3)), b=np.zeros((3, 1)), activation=tn.relu)
    Traceback (most recent call last):
    ...
    typednet.shapes.ShapeError: Dense weights w: expected (next, prev) = (3, prev) to match b of shape (3, 1), got shape (2, 3) float64; did you pass w.T?
    """  # noqa: E501

    w: Weight
    b: Bias
    activation: Activation
    dims: tuple[type[P], type[N]] | None = None

    def __post_init__(self) -> None:
        where = "Dense"
        if self.dims is not None:
            prev_size = _dim_size(self.dims[0], f"{where} dims")
            next_size = _dim_size(self.dims[1], f"{where} dims")
            where = f"Dense({_label(self._dim_names(), (prev_size, next_size))})"
            _check_array(self.b, f"{where} bias b", ("next", "1"), (next_size, 1), name="b")
            _check_array(
                self.w, f"{where} weights w", ("next", "prev"), (next_size, prev_size), name="w"
            )
        else:
            _check_array(
                self.b,
                f"{where} bias b",
                ("next", "1"),
                (None, 1),
                name="b",
                hint_1d="pass b.reshape(-1, 1)",
            )
            _check_array(self.w, f"{where} weights w", ("next", "prev"), (None, None), name="w")
            next_size = self.b.shape[0]
            if self.w.shape[0] != next_size:
                hint = "; did you pass w.T?" if self.w.shape[1] == next_size else ""
                raise ShapeError(
                    f"{where} weights w: expected (next, prev) = ({next_size}, prev) to match b "
                    f"of shape {self.b.shape}, got shape {self.w.shape} {self.w.dtype}{hint}"
                )
        if self.w.dtype != self.b.dtype:
            raise ShapeError(
                f"{where}: w is {self.w.dtype} but b is {self.b.dtype}; "
                f"pass b.astype(np.{self.w.dtype.name})"
            )
        if not isinstance(self.activation, Activation):
            raise TypeError(
                f"{where}: activation must be a typednet Activation such as tn.sigmoid, "
                f"got {type(self.activation).__name__}"
            )
        _check_finite(self.w, f"{where} weights w")
        _check_finite(self.b, f"{where} bias b")
        object.__setattr__(self, "w", _frozen_copy(self.w))
        object.__setattr__(self, "b", _frozen_copy(self.b))

    @property
    def in_size(self) -> int:
        return self.w.shape[1]

    @property
    def out_size(self) -> int:
        return self.w.shape[0]

    @property
    def dtype(self) -> np.dtype[np.floating[Any]]:
        return self.w.dtype

    @property
    def params(self) -> tuple[Matrix, ...]:
        return (self.w, self.b)

    def _dim_names(self) -> tuple[str | None, str | None]:
        if self.dims is None:
            return (None, None)
        return (self.dims[0].__name__, self.dims[1].__name__)

    def _with_params(self, params: tuple[Matrix, ...]) -> "Dense[P, N]":
        new = object.__new__(type(self))
        w, b = params
        object.__setattr__(new, "w", w)
        object.__setattr__(new, "b", b)
        object.__setattr__(new, "activation", self.activation)
        object.__setattr__(new, "dims", self.dims)
        return new

    def _apply(self, x: Matrix) -> Matrix:
        pre = self.w @ x
        pre += self.b
        return self.activation._fn(pre)

    def _trace(self, x: Matrix) -> tuple[Matrix, Matrix]:
        pre = self.w @ x
        pre += self.b
        return pre, self.activation._fn(pre)

    def __repr__(self) -> str:
        sizes = (self.in_size, self.out_size)
        return f"Dense({_label(self._dim_names(), sizes)}, {self.activation}, {self.dtype})"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class LayerNorm(Layer[D, D]):
    """Layer normalization: each column is normalized over its D features.

    ``post = gain * (x - mean) / sqrt(var + eps) + shift``, with the mean and the
    (population) variance taken over each column. ``gain`` starts at 1 and ``shift`` at
    0, both shape (d, 1). Build one with `layer_norm`.
    """

    gain: Bias
    shift: Bias
    eps: float = 1e-5
    dim: type[D] | None = None

    def __post_init__(self) -> None:
        where = "LayerNorm"
        size: int | None = None
        if self.dim is not None:
            size = _dim_size(self.dim, f"{where} dim")
            where = f"LayerNorm({self.dim.__name__} {size})"
        _check_array(self.gain, f"{where} gain", ("d", "1"), (size, 1), name="gain")
        size = self.gain.shape[0]
        _check_array(
            self.shift, f"{where} shift", ("d", "1"), (size, 1), name="shift", dtype=self.gain.dtype
        )
        eps = self.eps
        if isinstance(eps, bool) or not isinstance(eps, float | int) or not 0 < eps < math.inf:
            raise ValueError(f"{where}: eps must be a positive number, got {self.eps!r}")
        _check_finite(self.gain, f"{where} gain")
        _check_finite(self.shift, f"{where} shift")
        object.__setattr__(self, "eps", float(self.eps))
        object.__setattr__(self, "gain", _frozen_copy(self.gain))
        object.__setattr__(self, "shift", _frozen_copy(self.shift))

    @property
    def in_size(self) -> int:
        return self.gain.shape[0]

    @property
    def out_size(self) -> int:
        return self.gain.shape[0]

    @property
    def dtype(self) -> np.dtype[np.floating[Any]]:
        return self.gain.dtype

    @property
    def params(self) -> tuple[Matrix, ...]:
        return (self.gain, self.shift)

    def _dim_names(self) -> tuple[str | None, str | None]:
        name = None if self.dim is None else self.dim.__name__
        return (name, name)

    def _with_params(self, params: tuple[Matrix, ...]) -> "LayerNorm[D]":
        new = object.__new__(type(self))
        gain, shift = params
        object.__setattr__(new, "gain", gain)
        object.__setattr__(new, "shift", shift)
        object.__setattr__(new, "eps", self.eps)
        object.__setattr__(new, "dim", self.dim)
        return new

    def _normalize(self, x: Matrix) -> tuple[Matrix, Matrix]:
        """``(xhat, 1 / sqrt(var + eps))`` per column."""
        centred = x - x.mean(axis=0, keepdims=True)
        inv_std = 1.0 / np.sqrt((centred * centred).mean(axis=0, keepdims=True) + self.eps)
        return centred * inv_std, inv_std

    def _apply(self, x: Matrix) -> Matrix:
        return self.gain * self._normalize(x)[0] + self.shift

    def _trace(self, x: Matrix) -> tuple[Matrix, Matrix]:
        xhat = self._normalize(x)[0]
        return xhat, self.gain * xhat + self.shift

    def __repr__(self) -> str:
        name = f"{self.dim.__name__} " if self.dim is not None else ""
        return f"LayerNorm({name}{self.in_size}, eps={self.eps:g}, {self.dtype})"


AnyLayer = Layer[Any, Any] | Activation
"""Anything that can stand in a network's chain."""
