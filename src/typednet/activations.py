"""Activation functions: small frozen records with a value and a derivative.

An activation maps a layer's ``pre`` values (the tutorial's ``in_hidden_k``) to its
``post`` values (``out_hidden_k``), column by column. Each record has a stable ``name``
and an optional ``param`` so a network can be saved and rebuilt.

Examples:
    >>> import numpy as np
    >>> import typednet as tn
    >>> pre = np.array([[-2.0], [0.5]])
    >>> tn.leaky_relu(0.1)(pre)
    array([[-0.2],
           [ 0.5]])
    >>> tn.leaky_relu(0.1).derivative(pre)
    array([[0.1],
           [1. ]])
"""

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, SupportsIndex, TypeVar, overload

import numpy as np

from . import _validate
from .mat import Mat, _wrap
from .shapes import Batch, Matrix

__all__ = [
    "Activation",
    "elu",
    "identity",
    "leaky_relu",
    "relu",
    "selu",
    "sigmoid",
    "softmax",
    "softplus",
    "softsign",
    "tanh",
]

_Fn = Callable[[Matrix], Matrix]
# Below this many values a new array is cheaper than the in-place call's extra arguments.
_INPLACE_FROM = 2048
# (pre, post, upstream) -> downstream: the vector-Jacobian product.
_Vjp = Callable[[Matrix, Matrix, Matrix], Matrix]
# A constant operand (`_constant`): a 0-d array.
_Scalar = np.ndarray[tuple[()], np.dtype[np.floating[Any]]]
_R = TypeVar("_R")
_C = TypeVar("_C")

# True only while this module builds one of its own activations, whose names (in
# _OWN_NAMES, below) are theirs alone: a saved network, a pickle and the fused gradients
# of the cross-entropies know an activation by its name.
_BUILDING_OWN: ContextVar[bool] = ContextVar("_BUILDING_OWN", default=False)


@dataclass(frozen=True, slots=True)
class Activation:
    """An activation: ``post = activation(pre)``, applied to each column.

    Attributes:
        name: stable name, used when saving (``"sigmoid"``, ``"leaky_relu"``, ...).
        param: the one hyper-parameter, if any (the leak of leaky ReLU, elu's alpha).
        fn: ``pre -> post``, unchecked (same shape and dtype).
        vjp_fn: ``(pre, post, upstream) -> d loss / d pre``, unchecked.
        elementwise: False only for softmax, whose derivative couples a column's values.
        fn_inplace: ``pre -> post`` like ``fn``, bit for bit, but free to overwrite
            ``pre`` (a scratch array its caller owns) and return it: no new array. None
            where ``fn`` is used instead (`overwrite`).

    An activation can also stand as a layer of its own in a network
    (``net.then(tn.relu)``), for example after a `LayerNorm`.

    Write your own with a name of its own: the names of typednet's activations
    (``"relu"``, ``"sigmoid"``, ...) are refused, since saving, pickling and the fused
    gradients know an activation by its name and would take yours for the built-in.
    """

    name: str
    param: float | None
    fn: _Fn = field(repr=False, compare=False)
    vjp_fn: _Vjp = field(repr=False, compare=False)
    elementwise: bool = True
    fn_inplace: _Fn | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not _BUILDING_OWN.get() and self.name in _OWN_NAMES:
            raise ValueError(
                f"Activation: {self.name!r} names typednet's own tn.{self.name}; give yours "
                "a name of its own (saving, pickling, copying and the fused gradients know "
                "an activation by its name, and would take yours for typednet's)"
            )

    @overload
    def __call__(self, pre: Batch) -> Batch: ...
    @overload
    def __call__(self, pre: Mat[_R, _C]) -> Mat[_R, _C]: ...
    def __call__(self, pre: Batch | Mat[_R, _C]) -> Batch | Mat[_R, _C]:
        """The activation's value, same shape and dtype as ``pre``; a `Mat` keeps its dims."""
        if isinstance(pre, Mat):
            return _wrap(self.fn(pre.array), pre.dims)
        return self.fn(pre)

    def overwrite(self, pre: Matrix) -> Matrix:
        """The activation's value, possibly written over ``pre`` (which must be scratch).

        For kernels that own ``pre`` and need only ``post`` (a layer's forward pass at
        inference): the same values as ``self(pre)``, without a new array where the
        activation has an in-place form.
        """
        if self.fn_inplace is None or pre.size < _INPLACE_FROM:
            return self.fn(pre)
        return self.fn_inplace(pre)

    def derivative(self, pre: Batch) -> Batch:
        """d post / d pre, element by element (the tutorial's ``d_sigmoid`` etc.).

        Raises:
            ValueError: for softmax, whose derivative is a Jacobian per column; use
                `vjp` instead.
        """
        if not self.elementwise:
            raise ValueError(
                f"{self.name}: the derivative is a Jacobian per column, not elementwise; "
                "use .vjp(pre, post, upstream)"
            )
        return self.vjp_fn(pre, self.fn(pre), np.ones_like(pre))

    def vjp(self, pre: Batch, post: Batch, upstream: Batch) -> Batch:
        """Pass an error back through the activation: d loss / d pre.

        Args:
            pre: the layer's pre-activation values, shape (n, batch).
            post: ``self(pre)``, shape (n, batch).
            upstream: d loss / d post, shape (n, batch).
        """
        return self.vjp_fn(pre, post, upstream)

    def __str__(self) -> str:
        return self.name if self.param is None else f"{self.name} {self.param:g}"

    def __reduce_ex__(self, protocol: SupportsIndex) -> str | tuple[Any, ...]:
        """Pickle typednet's own activations by name and param (their functions are
        closures); any other activation field by field."""
        try:
            _by_name(self.name, self.param)
        except ValueError:
            return object.__reduce_ex__(self, protocol)
        return (_by_name, (self.name, self.param))


def _own(
    name: str,
    param: float | None,
    fn: _Fn,
    vjp_fn: _Vjp,
    *,
    elementwise: bool = True,
    fn_inplace: _Fn | None = None,
) -> Activation:
    """One of typednet's own activations (the one place their names are allowed)."""
    token = _BUILDING_OWN.set(True)
    try:
        return Activation(name, param, fn, vjp_fn, elementwise, fn_inplace)
    finally:
        _BUILDING_OWN.reset(token)


def _exp_limit(dtype: np.dtype[np.floating]) -> float:
    """A whole number z, as large as possible, for which exp(z) is finite in ``dtype``."""
    return float(np.floor(np.log(np.finfo(dtype).max)))


def _constant(value: float, dtype: np.dtype[Any]) -> _Scalar | float:
    """``value`` as an operand for arrays of ``dtype``: for a floating dtype a read-only
    0-d array of it, which gives the bits of the Python float (NumPy rounds that to
    ``dtype`` the same way) at about half its cost per call on a small array (NumPy
    converts a Python scalar anew at every call); else the Python float itself, whose
    arithmetic (an integer array's promotion to float64) a 0-d integer array would not keep."""
    if dtype.kind != "f":
        return value
    c: _Scalar = np.array(value, dtype)
    c.flags.writeable = False
    return c


def _sigmoid_constants(dtype: np.dtype[np.floating]) -> tuple[_Scalar | float, _Scalar | float]:
    """The sigmoid's (-`_exp_limit`, 1) in ``dtype`` (`_constant`), kept for the next call."""
    limit = _exp_limit(dtype)  # a floating dtype: np.finfo refuses any other
    pair = _SIGMOID_CONSTANTS[dtype] = (_constant(-limit, dtype), _constant(1.0, dtype))
    return pair


# `_sigmoid_constants` by dtype, filled as they come: a sigmoid reads them at every call,
# and a dict look-up is half the cost of a functools.cache call.
_SIGMOID_CONSTANTS: dict[np.dtype[np.floating], tuple[_Scalar | float, _Scalar | float]] = {}


def _sigmoid(z: Matrix) -> Matrix:
    # The tutorial's 1 / (1 + exp(-z)), with z clipped where exp(-z) would overflow:
    # the same bits wherever the tutorial's formula is finite, and no warning elsewhere.
    # In place on one new array: fewer allocations than the formula as written. Written
    # out here and in `_sigmoid_inplace` (a call fewer on a small forward), with the
    # constants as 0-d arrays in z's dtype (`_constant`) and each out positional (the
    # out= keyword costs more on a small array).
    low, one = _SIGMOID_CONSTANTS.get(z.dtype) or _sigmoid_constants(z.dtype)
    t = np.maximum(z, low)
    np.negative(t, t)
    np.exp(t, t)
    np.add(t, one, t)
    return np.divide(one, t, t)


def _sigmoid_inplace(z: Matrix) -> Matrix:
    low, one = _SIGMOID_CONSTANTS.get(z.dtype) or _sigmoid_constants(z.dtype)
    t = np.maximum(z, low, out=z)  # np.maximum's positional out is deprecated
    np.negative(t, t)
    np.exp(t, t)
    np.add(t, one, t)
    return np.divide(one, t, t)


# The reductions are called as ufunc methods: the bits of z.max(axis=0) and
# e.sum(axis=0) without their Python wrappers, which cost as much on a training batch.
def _softmax(z: Matrix) -> Matrix:
    return _softmax_shifted(z - np.maximum.reduce(z, axis=0, keepdims=True))


def _softmax_inplace(z: Matrix) -> Matrix:
    z -= np.maximum.reduce(z, axis=0, keepdims=True)
    return _softmax_shifted(z)


def _softmax_shifted(e: Matrix) -> Matrix:
    """exp(e) / its column sums, written over ``e`` (already shifted by the column max)."""
    np.exp(e, out=e)
    e /= np.add.reduce(e, axis=0, keepdims=True)
    return e


identity = _own("identity", None, lambda z: z, lambda z, s, g: g)
"""f(z) = z."""

relu = _own(
    "relu",
    None,
    lambda z: np.maximum(z, 0.0),
    lambda z, s, g: g * (z > 0),
    fn_inplace=lambda z: np.maximum(z, 0.0, out=z),
)
"""f(z) = max(z, 0); derivative 0 at z = 0."""

sigmoid = _own(
    "sigmoid", None, _sigmoid, lambda z, s, g: g * s * (1.0 - s), fn_inplace=_sigmoid_inplace
)
"""f(z) = 1 / (1 + exp(-z)), without overflow warnings for any finite z."""

tanh = _own(
    "tanh", None, np.tanh, lambda z, s, g: g * (1.0 - s * s), fn_inplace=lambda z: np.tanh(z, out=z)
)
"""f(z) = tanh(z)."""

softsign = _own(
    "softsign", None, lambda z: z / (1.0 + np.abs(z)), lambda z, s, g: g / (1.0 + np.abs(z)) ** 2
)
"""f(z) = z / (1 + |z|)."""

softplus = _own("softplus", None, lambda z: np.logaddexp(0.0, z), lambda z, s, g: g * _sigmoid(z))
"""f(z) = log(1 + exp(z)), computed without overflow."""

softmax = _own(
    "softmax",
    None,
    _softmax,
    lambda z, s, g: s * (g - (g * s).sum(axis=0, keepdims=True)),
    elementwise=False,
    fn_inplace=_softmax_inplace,
)
"""Per column: exp(z_i) / sum_j exp(z_j), shifted by the column's max for stability."""

_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805


def _param(name: str, value: float) -> float:
    return _validate.finite(name, "the parameter", value)


def leaky_relu(leak: float = 0.01) -> Activation:
    """f(z) = z for z > 0, else leak * z. The tutorial uses ``leaky_relu(0.1)``."""
    a = _param("leaky_relu", leak)
    # For 0 <= leak <= 1, max(z, leak * z) is the same function in one step fewer.
    fn, inplace = _leaky_max(a) if 0.0 <= a <= 1.0 else (_leaky_where(a), None)
    return _own(
        "leaky_relu",
        a,
        fn,
        lambda z, s, g: g * np.where(z > 0, 1.0, a).astype(z.dtype, copy=False),
        fn_inplace=inplace,
    )


def _leaky_max(a: float) -> tuple[_Fn, _Fn]:
    """max(z, a * z), new and in place, with ``a`` in z's dtype (`_constant`)."""
    leaks: dict[np.dtype[Any], _Scalar | float] = {}

    def fn(z: Matrix) -> Matrix:
        c = leaks.get(z.dtype)
        if c is None:
            c = leaks[z.dtype] = _constant(a, z.dtype)
        return np.maximum(z, c * z)

    def inplace(z: Matrix) -> Matrix:
        c = leaks.get(z.dtype)
        if c is None:
            c = leaks[z.dtype] = _constant(a, z.dtype)
        return np.maximum(z, c * z, out=z)

    return fn, inplace


def _leaky_where(a: float) -> _Fn:
    """where(z > 0, z, a * z): a leak outside [0, 1]."""
    return lambda z: np.where(z > 0, z, a * z)


def elu(alpha: float = 1.0) -> Activation:
    """f(z) = z for z > 0, else alpha * (exp(z) - 1)."""
    a = _param("elu", alpha)
    return _own(
        "elu",
        a,
        lambda z: np.where(z > 0, z, a * np.expm1(np.minimum(z, 0.0))),
        lambda z, s, g: g * np.where(z > 0, 1.0, s + a),
    )


selu = _own(
    "selu",
    None,
    lambda z: _SELU_SCALE * np.where(z > 0, z, _SELU_ALPHA * np.expm1(np.minimum(z, 0.0))),
    lambda z, s, g: g * np.where(z > 0, _SELU_SCALE, s + _SELU_SCALE * _SELU_ALPHA),
)
"""Self-normalizing ELU: scale * elu(z, alpha) with the published constants."""


_MAKERS: dict[str, Callable[[float], Activation]] = {"leaky_relu": leaky_relu, "elu": elu}
_PLAIN = {a.name: a for a in (identity, relu, sigmoid, tanh, softsign, softplus, softmax, selu)}
_OWN_NAMES = frozenset([*_PLAIN, *_MAKERS])


def _by_name(name: str, param: float | None = None) -> Activation:
    """Rebuild an activation from its saved ``name`` and ``param``."""
    if name in _MAKERS:
        if param is None:
            raise ValueError(f"activation {name!r} needs its parameter")
        return _MAKERS[name](param)
    if name not in _PLAIN:
        raise ValueError(f"unknown activation {name!r}; known: {sorted(_OWN_NAMES)}")
    return _PLAIN[name]
