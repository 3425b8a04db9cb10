"""Initializers, and the layer builders `dense`, `layer_norm`, `batch_norm`, `dropout`,
`residual` and `parallel`.

Every random draw takes an explicit ``rng``: a ``np.random.Generator``, or a legacy
``np.random.RandomState`` so the tutorial's ``np.random.seed(42)`` stream can be
reproduced. Weights are drawn in float64 and then cast, so a float32 network holds the
same draws, rounded. Biases start at zero.

An initializer is a function ``(rng, next, prev) -> float64 array of shape (next, prev)``;
the factories below return one.

===================  ======================================================
factory              weights
===================  ======================================================
``uniform()``        U[low, high); the tutorial's is ``uniform(0.0, 1.0)``
``normal(std)``      N(0, std²)
``glorot_uniform()`` U[-a, a), a = sqrt(6 / (prev + next))  (Xavier)
``glorot_normal()``  N(0, 2 / (prev + next))
``he_uniform()``     U[-a, a), a = sqrt(6 / prev)  (Kaiming)
``he_normal()``      N(0, 2 / prev)
``lecun_normal()``   N(0, 1 / prev), the standard choice for selu
===================  ======================================================

The default for `dense` depends on the activation: ``he_normal`` for relu, leaky_relu
and elu; ``lecun_normal`` for selu; ``glorot_uniform`` otherwise.
"""

import math
from collections.abc import Callable
from typing import Any, cast, overload

import numpy as np
import numpy.typing as npt
from typing_extensions import TypeVar, is_typeddict

from . import _validate
from .activations import Activation
from .layers import BatchNorm, Dense, Dropout, Embedding, Layer, LayerNorm
from .layers.inputs import NamedInputs
from .layers.parallel import Parallel
from .layers.residual import Residual
from .layers.take import Take
from .network import Network
from .shapes import FLOAT_DTYPES, Dim, ShapeError, float_dtype_message

__all__ = [
    "Initializer",
    "Rng",
    "batch_norm",
    "dense",
    "dropout",
    "embedding",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "inputs",
    "layer_norm",
    "lecun_normal",
    "normal",
    "parallel",
    "residual",
    "take",
    "uniform",
]


Rng = _validate.Rng
"""A source of random draws: a ``np.random.Generator``, or the course's legacy
``np.random.RandomState``."""

Initializer = Callable[[Rng, int, int], npt.NDArray[np.float64]]
"""``(rng, next, prev) -> weights of shape (next, prev)``, float64."""

PD = TypeVar("PD", bound=Dim)
ND = TypeVar("ND", bound=Dim)
D = TypeVar("D")
P = TypeVar("P")
N = TypeVar("N")


def _uniform(rng: Rng, shape: tuple[int, int], low: float, high: float) -> npt.NDArray[np.float64]:
    # low + (high - low) * U[0, 1): for low=0, high=1 exactly the tutorial's np.random.random.
    draw: npt.NDArray[np.float64] = rng.random(shape)
    return low + (high - low) * draw if (low, high) != (0.0, 1.0) else draw


def _normal(rng: Rng, shape: tuple[int, int], std: float) -> npt.NDArray[np.float64]:
    draw: npt.NDArray[np.float64] = rng.normal(0.0, std, shape)
    return draw


def uniform(low: float = 0.0, high: float = 1.0) -> Initializer:
    """Weights uniform in [low, high); the tutorial draws ``uniform(0.0, 1.0)``."""
    return lambda rng, n, p: _uniform(rng, (n, p), low, high)


def normal(std: float = 0.01) -> Initializer:
    """Weights normal with mean 0 and standard deviation ``std``."""
    return lambda rng, n, p: _normal(rng, (n, p), std)


def glorot_uniform() -> Initializer:
    """Glorot/Xavier uniform: U[-a, a) with a = sqrt(6 / (prev + next))."""
    return lambda rng, n, p: _uniform(rng, (n, p), -(a := math.sqrt(6.0 / (p + n))), a)


def glorot_normal() -> Initializer:
    """Glorot/Xavier normal: std = sqrt(2 / (prev + next))."""
    return lambda rng, n, p: _normal(rng, (n, p), math.sqrt(2.0 / (p + n)))


def he_uniform() -> Initializer:
    """He/Kaiming uniform: U[-a, a) with a = sqrt(6 / prev)."""
    return lambda rng, n, p: _uniform(rng, (n, p), -(a := math.sqrt(6.0 / p)), a)


def he_normal() -> Initializer:
    """He/Kaiming normal: std = sqrt(2 / prev)."""
    return lambda rng, n, p: _normal(rng, (n, p), math.sqrt(2.0 / p))


def lecun_normal() -> Initializer:
    """LeCun normal: std = sqrt(1 / prev), the standard choice for selu."""
    return lambda rng, n, p: _normal(rng, (n, p), math.sqrt(1.0 / p))


def _default_init(activation: Activation) -> Initializer:
    if activation.name in ("relu", "leaky_relu", "elu"):
        return he_normal()
    if activation.name == "selu":
        return lecun_normal()
    return glorot_uniform()


def _size(dim: type[Dim] | int, where: str) -> int:
    if isinstance(dim, type) and issubclass(dim, Dim):
        return dim.size
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise ValueError(f"{where}: expected a positive int or a Dim subclass, got {dim!r}")
    return dim


@overload
def dense(
    rng: Rng,
    prev: type[PD],
    next: type[ND],
    activation: Activation,
    *,
    init: Initializer | None = None,
    dtype: npt.DTypeLike = np.float64,
) -> Dense[PD, ND]: ...
@overload
def dense(
    rng: Rng,
    prev: int,
    next: int,
    activation: Activation,
    *,
    init: Initializer | None = None,
    dtype: npt.DTypeLike = np.float64,
) -> Dense[int, int]: ...
def dense(
    rng: Rng,
    prev: type[Dim] | int,
    next: type[Dim] | int,
    activation: Activation,
    *,
    init: Initializer | None = None,
    dtype: npt.DTypeLike = np.float64,
) -> Dense[Any, Any]:
    """A new dense layer with weights drawn from ``init`` and zero biases.

    Args:
        rng: the source of the draws (Generator or RandomState).
        prev: input size: a `Dim` subclass (typed, mypy checks the wiring) or an int.
        next: output size, likewise.
        activation: e.g. ``tn.sigmoid`` or ``tn.leaky_relu(0.1)``.
        init: weight initializer; default by activation (see the module docstring).
        dtype: a floating dtype for the params; float64 by default.

    Examples:
        >>> import numpy as np
        >>> import typednet as tn
        >>> tn.dense(np.random.default_rng(0), 5, 3, tn.leaky_relu(0.1)).w.shape
        (3, 5)
    """
    _validate.rng("dense", rng)
    p, n = _size(prev, "dense prev"), _size(next, "dense next")
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"dense: dtype must be floating (float32 or float64), got {dt}")
    if dt not in FLOAT_DTYPES:
        raise ShapeError(f"dense: {float_dtype_message(dt, 'pass dtype=np.float32')}")
    dt = cast("np.dtype[np.floating[Any]]", dt)  # floating: checked just above
    w = (init if init is not None else _default_init(activation))(rng, n, p)
    dims = (prev, next) if isinstance(prev, type) and isinstance(next, type) else None
    return Dense(w=w.astype(dt), b=np.zeros((n, 1), dt), activation=activation, dims=dims)


@overload
def embedding(
    rng: Rng, vocab: type[PD], width: type[ND], *, dtype: npt.DTypeLike = np.float64
) -> Embedding[PD, ND]: ...
@overload
def embedding(
    rng: Rng, vocab: int, width: int, *, dtype: npt.DTypeLike = np.float64
) -> Embedding[int, int]: ...
def embedding(
    rng: Rng, vocab: type[Dim] | int, width: type[Dim] | int, *, dtype: npt.DTypeLike = np.float64
) -> Embedding[Any, Any]:
    """A new embedding of ``vocab`` categories into ``width`` values (see `Embedding`):
    its table, shape (width, vocab), drawn from N(0, 1) as PyTorch's ``nn.Embedding``
    does, so that each embedded value starts at the unit scale the next layer's
    initializer expects of its inputs.

    Args:
        rng: the source of the draws (Generator or RandomState).
        vocab: the number of categories V (ids lie in [0, V)): a `Dim` subclass whose
            size is V (typed) or an int.
        width: the embedding width D, likewise.
        dtype: a floating dtype for the table; float64 by default.

    Examples:
        >>> import numpy as np
        >>> import typednet as tn
        >>> tn.embedding(np.random.default_rng(0), 10, 4)
        Embedding(10 → 4, float64)
    """
    _validate.rng("embedding", rng)
    v, d = _size(vocab, "embedding vocab"), _size(width, "embedding width")
    dt = _float_dtype(dtype, "embedding")
    dims = (vocab, width) if isinstance(vocab, type) and isinstance(width, type) else None
    return Embedding(table=rng.standard_normal((d, v)).astype(dt), dims=dims)


@overload
def layer_norm(
    dim: type[ND], *, eps: float = 1e-5, dtype: npt.DTypeLike = np.float64
) -> LayerNorm[ND]: ...
@overload
def layer_norm(
    dim: int, *, eps: float = 1e-5, dtype: npt.DTypeLike = np.float64
) -> LayerNorm[int]: ...
def layer_norm(
    dim: type[Dim] | int, *, eps: float = 1e-5, dtype: npt.DTypeLike = np.float64
) -> LayerNorm[Any]:
    """A new layer normalization over ``dim`` features: gain 1, shift 0, both (d, 1).

    Examples:
        >>> import typednet as tn
        >>> tn.layer_norm(3)
        LayerNorm(3, eps=1e-05, float64)
    """
    d = _size(dim, "layer_norm dim")
    dt = _float_dtype(dtype, "layer_norm")
    return LayerNorm(
        gain=np.ones((d, 1), dt),
        shift=np.zeros((d, 1), dt),
        eps=eps,
        dim=dim if isinstance(dim, type) else None,
    )


@overload
def batch_norm(
    dim: type[ND], *, momentum: float = 0.1, eps: float = 1e-5, dtype: npt.DTypeLike = np.float64
) -> BatchNorm[ND]: ...
@overload
def batch_norm(
    dim: int, *, momentum: float = 0.1, eps: float = 1e-5, dtype: npt.DTypeLike = np.float64
) -> BatchNorm[int]: ...
def batch_norm(
    dim: type[Dim] | int,
    *,
    momentum: float = 0.1,
    eps: float = 1e-5,
    dtype: npt.DTypeLike = np.float64,
) -> BatchNorm[Any]:
    """A new batch normalization over ``dim`` features (see `BatchNorm`): gamma 1 and
    beta 0 (the params), running mean 0 and running variance 1, all (d, 1).

    Training (`train_step`, `fit`) normalizes with each batch's statistics and returns
    the network with the running ones updated; `forward` uses the running ones.

    Raises:
        ValueError: ``momentum`` is not in (0, 1], or ``eps`` is not a number > 0 that
            stays finite and > 0 in ``dtype``.

    Examples:
        >>> import typednet as tn
        >>> tn.batch_norm(3)
        BatchNorm(3, momentum=0.1, eps=1e-05, float64)
    """
    d = _size(dim, "batch_norm dim")
    dt = _float_dtype(dtype, "batch_norm")
    return BatchNorm(
        gamma=np.ones((d, 1), dt),
        beta=np.zeros((d, 1), dt),
        running_mean=np.zeros((d, 1), dt),
        running_var=np.ones((d, 1), dt),
        momentum=momentum,
        eps=eps,
        dim=dim if isinstance(dim, type) else None,
    )


def _float_dtype(dtype: npt.DTypeLike, where: str) -> "np.dtype[np.floating[Any]]":
    """``dtype`` when it is float32 or float64; TypeError or ShapeError otherwise."""
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"{where}: dtype must be floating (float32 or float64), got {dt}")
    if dt not in FLOAT_DTYPES:
        raise ShapeError(f"{where}: {float_dtype_message(dt, 'pass dtype=np.float32')}")
    return cast("np.dtype[np.floating[Any]]", dt)  # floating: checked just above


def dropout(rate: float) -> Dropout:
    """A new inverted-dropout layer: in training, each value is zeroed with probability
    ``rate`` and the rest scaled by ``1 / (1 - rate)``; at inference, the identity.

    It takes any size and keeps it: ``net.then(tn.dropout(0.5))`` has ``net``'s type.

    Raises:
        ValueError: ``rate`` is not a number in [0, 1).

    Examples:
        >>> import typednet as tn
        >>> tn.dropout(0.5)
        Dropout(0.5)
        >>> tn.dropout(1.0)
        Traceback (most recent call last):
        ...
        ValueError: dropout: rate must be a number in [0, 1), got 1.0
    """
    return Dropout(rate)


@overload
def residual(block: Network[D, D], *, shortcut: None = None) -> Residual[D, D]: ...
@overload
def residual(block: Network[P, N], *, shortcut: Layer[P, N]) -> Residual[P, N]: ...
def residual(
    block: Network[Any, Any], *, shortcut: Layer[Any, Any] | None = None
) -> Residual[Any, Any]:
    """A residual block, ``post = x + block(x)``: a layer ``Layer[D, D]`` to chain with
    `typednet.Network.then` like any other.

    The block must map its input dim to itself: a ``Network[A, B]`` with A not B is a
    static error (no overload matches) and, with plain int sizes, a `ShapeError`. When
    the dims differ on purpose, pass a projection, ``shortcut=tn.dense(rng, A, B,
    tn.identity)``: then ``post = shortcut(x) + block(x)``, a ``Layer[A, B]``.

    Args:
        block: the network whose output is added to the input.
        shortcut: None (add ``x`` itself), or a layer ``Layer[P, N]`` applied to ``x``.

    Raises:
        TypeError: ``block`` is not a Network or ``shortcut`` not a Layer.
        ShapeError: the block's dims differ and there is no shortcut, or the shortcut's
            do not match the block's.

    Examples:
        >>> import numpy as np
        >>> import typednet as tn
        >>> rng = np.random.default_rng(0)
        >>> block = tn.network(tn.dense(rng, 4, 4, tn.relu)).then(tn.dense(rng, 4, 4, tn.identity))
        >>> tn.network(tn.dense(rng, 2, 4, tn.relu)).then(tn.residual(block))
        Network 2 → 4 (relu) → residual(4 (relu) → 4 (identity)), 52 params
    """
    return Residual(block=block, shortcut=shortcut)


@overload
def parallel(*branches: Network[P, Any], out: type[N]) -> Parallel[P, N]: ...
@overload
def parallel(*branches: Network[P, Any], out: None = None) -> Parallel[P, int]: ...
def parallel(*branches: Network[Any, Any], out: type[Any] | None = None) -> Parallel[Any, Any]:
    """Branches over the same input, their outputs concatenated along features: a layer
    ``Layer[P, Out]`` whose rows are the first branch's outputs, then the second's, ...

    Every branch must take the same input dim P (a static error otherwise, where the
    checker can see the dims); ``out`` declares the output dim, whose size must be the
    sum of the branches' outputs (a `ShapeError` when the network is built otherwise).

    Args:
        branches: one or more networks, each ``Network[P, ...]``.
        out: the output `Dim`; without it the output is a plain int size.

    Raises:
        TypeError: a branch is not a Network.
        ShapeError: the branches take different inputs or dtypes, or ``out``'s size is
            not the sum of their outputs.

    Examples:
        >>> import numpy as np
        >>> import typednet as tn
        >>> class Features(tn.Dim, size=4): ...
        >>> class Three(tn.Dim, size=3): ...
        >>> class Both(tn.Dim, size=7): ...
        >>> rng = np.random.default_rng(0)
        >>> norm = tn.network(tn.layer_norm(Features))
        >>> wide = tn.network(tn.dense(rng, Features, Three, tn.relu))
        >>> tn.parallel(norm, wide, out=Both)
        Parallel(Features 4 → Both 7: [layer_norm] [3 (relu)], 23 params)
    """
    return Parallel(branches=branches, out=out)


# Not bound to Mapping: beartype (the audit mode's import hook) cannot check a subclass
# hint of a parametrized generic; `inputs` refuses a spec that is not a TypedDict.
M = TypeVar("M")


@overload
def inputs(spec: type[M], out: type[N], /, **branches: Network[Any, Any]) -> NamedInputs[M, N]: ...
@overload
def inputs(spec: type[M], out: None, /, **branches: Network[Any, Any]) -> NamedInputs[M, int]: ...
def inputs(
    spec: type[Any], out: type[Any] | None, /, **branches: Network[Any, Any]
) -> NamedInputs[Any, Any]:
    """A network's first layer over named inputs, one branch each, outputs concatenated.

    ``spec`` is a TypedDict naming the inputs and the array each takes (`typednet.Ids`
    for a branch that starts with an `Embedding`, floating columns such as
    `typednet.Inputs` for the others): the network is a ``Network[Spec, ...]``, and
    `forward`, `grad`, `value_and_grad`, `train_step` and `fit` take a ``Spec``, so a
    misnamed, missing or mistyped input is a static error where the checker sees it
    (build the mapping as ``Spec(name=..., ...)``). Its keys must be the branches' names.

    Args:
        spec: the TypedDict of the inputs.
        out: the output `Dim`, its size the sum of the branches' outputs; None for a
            plain int size.
        branches: one network per input, by name, in output order.

    Raises:
        TypeError: ``spec`` is not a TypedDict, or a branch is not a Network.
        ValueError: ``spec``'s keys are not the branches' names.
        ShapeError: the branches' dtypes differ, or ``out``'s size is not the sum of
            their outputs.

    Examples:
        >>> from typing import TypedDict
        >>> import numpy as np
        >>> import typednet as tn
        >>> class Columns(TypedDict):
        ...     numeric: tn.Inputs
        ...     colour: tn.Ids
        >>> rng = np.random.default_rng(0)
        >>> first = tn.inputs(Columns, None, numeric=tn.network(tn.dense(rng, 3, 2, tn.relu)),
        ...                   colour=tn.network(tn.embedding(rng, 2, 1)))
        >>> net = tn.network(first).then(tn.dense(rng, 3, 1, tn.identity))
        >>> tn.forward(net, Columns(numeric=np.ones((3, 4)), colour=np.array([[0, 1, 1, 0]]))).shape
        (1, 4)
    """
    if not is_typeddict(spec):
        raise TypeError(f"inputs: spec must be a TypedDict class naming the inputs, got {spec!r}")
    keys = list(cast("dict[str, object]", spec.__annotations__))
    names = list(branches)
    if sorted(keys) != sorted(names):
        missing = [k for k in keys if k not in names]
        extra = [n for n in names if n not in keys]
        raise ValueError(
            f"inputs: {spec.__name__}'s keys are {', '.join(map(repr, keys))} but the branches "
            f"are named {', '.join(map(repr, names))}"
            + (f"; no branch for {', '.join(map(repr, missing))}" if missing else "")
            + (f"; {', '.join(map(repr, extra))} not in {spec.__name__}" if extra else "")
        )
    return NamedInputs(tuple(branches.items()), out)


@overload
def take(prev: type[PD], start: int, stop: int, next: type[ND]) -> Take[PD, ND]: ...
@overload
def take(prev: int, start: int, stop: int) -> Take[int, int]: ...
def take(
    prev: type[Dim] | int, start: int, stop: int, next: type[Dim] | None = None
) -> Take[Any, Any]:
    """A layer keeping features ``start:stop`` of each column (rows, as in Python slices).

    With Dim classes it is a ``Take[Prev, Next]``, Next of size ``stop - start``; with
    an int it is a ``Take[int, int]``.

    Raises:
        ValueError: not ``0 <= start < stop <= prev``.
        ShapeError: ``next``'s size is not ``stop - start``.

    Examples:
        >>> import numpy as np
        >>> import typednet as tn
        >>> tn.forward(tn.Network([tn.take(3, 1, 3)]), np.arange(6.0).reshape(3, 2))
        array([[2., 3.],
               [4., 5.]])
    """
    size = _size(prev, "take prev")
    if isinstance(prev, type) and next is None:
        raise TypeError("take: with a Dim for prev, pass the Dim of the slice as next")
    dims = (prev, next) if isinstance(prev, type) and next is not None else None
    return Take(size, start, stop, dims)
