"""The network: an immutable chain of layers, typed by its input and output sizes.

``Network[In, Out]`` maps In values per column to Out values per column. Chaining is
typed: ``Network[A, B].then(Dense[B, C])`` is a ``Network[A, C]``, so a layer that does
not fit is a mypy error naming both dims; at run time the same mistake is a `ShapeError`.
"""

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, overload

import numpy as np
from typing_extensions import TypeVar

from ._pickle import Reduced, reduce
from .activations import Activation
from .layers import AnyLayer, Dense, Layer, LayerNorm
from .shapes import Matrix, ShapeError, _frozen

__all__ = ["Network", "network"]

A = TypeVar("A", default=int)
B = TypeVar("B", default=int)
C = TypeVar("C", default=int)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Network(Generic[A, B]):
    """An immutable chain of layers mapping A values per column to B values per column.

    Build it with `network` and `then` (typed), or as ``Network(layers)`` from a
    sequence built at run time (then annotate it: ``net: Network[int, int] = ...``).
    Adjacent layers are checked to chain when the network is built.

    Attributes:
        layers: the layers in order: `Dense`, `LayerNorm` or a bare `Activation`.
    """

    layers: tuple[AnyLayer, ...]
    # Derived once, when the network is built: read on every call and every training step.
    # Every param is a read-only view into one column, `_flat`, so optimizers and
    # gradients work on a single array (one NumPy call per operation, not one per param).
    _sized: tuple[Layer[Any, Any], ...] = field(init=False, repr=False)
    _in_size: int = field(init=False, repr=False)
    _dtype: np.dtype[np.floating[Any]] = field(init=False, repr=False)
    _flat: Matrix = field(init=False, repr=False)  # shape (param_count, 1)
    _params: tuple[Matrix, ...] = field(init=False, repr=False)  # views into _flat
    _layout: "_Layout" = field(init=False, repr=False)

    def __post_init__(self) -> None:
        layers = self.layers
        if isinstance(layers, Layer | Activation) or not isinstance(layers, Sequence):
            raise TypeError(
                f"Network(layers): expected a sequence of layers, got {type(layers).__name__}; "
                "for one layer use tn.network(layer)"
            )
        layers = tuple(layers)
        for i, layer in enumerate(layers, 1):
            if not isinstance(layer, Layer | Activation):
                raise TypeError(
                    f"layer {i}: expected Dense, LayerNorm or an Activation, "
                    f"got {type(layer).__name__}"
                )
        if not any(isinstance(layer, Layer) for layer in layers):
            raise ValueError("a network needs at least one Dense or LayerNorm layer")
        _check_chain(layers)
        params = [p for layer in layers if isinstance(layer, Layer) for p in layer.params]
        flat = np.concatenate([p.reshape(-1, 1) for p in params])
        _fill(self, layers, _Layout.of(layers), _frozen(flat))

    @overload
    def then(self, layer: Layer[B, C]) -> "Network[A, C]": ...
    @overload
    def then(self, layer: Activation) -> "Network[A, B]": ...
    def then(self, layer: Layer[Any, Any] | Activation) -> "Network[A, Any]":
        """This network followed by ``layer``, whose input size must be this one's output.

        >>> import numpy as np
        >>> import typednet as tn
        >>> rng = np.random.default_rng(0)
        >>> tn.network(tn.dense(rng, 2, 3, tn.relu)).then(tn.dense(rng, 3, 1, tn.sigmoid))
        Network 2 → 3 (relu) → 1 (sigmoid), 13 params
        """
        return Network((*self.layers, layer))

    @property
    def in_size(self) -> int:
        """Values per input column (the number of features)."""
        return self._in_size

    @property
    def out_size(self) -> int:
        """Values per output column."""
        return self._sized[-1].out_size

    @property
    def sizes(self) -> tuple[int, ...]:
        """The input size, then each Dense layer's output size: (5, 3, 5, 4) for the tutorial."""
        return (
            self.in_size,
            *(layer.out_size for layer in self._sized if isinstance(layer, Dense)),
        )

    @property
    def dtype(self) -> np.dtype[np.floating[Any]]:
        """The params' dtype; inputs must have the same."""
        return self._dtype

    @property
    def param_count(self) -> int:
        """How many numbers the params hold, biases included."""
        return self._flat.shape[0]

    @property
    def params(self) -> tuple[Matrix, ...]:
        """Every array of every layer, in order (``w1, b1, w2, b2, ...``)."""
        return self._params

    def _with_flat(self, flat: Matrix) -> "Network[A, B]":
        """The same architecture on the params in ``flat`` (shape (param_count, 1)).

        Unchecked and uncopied, for trusted callers (gradients, optimizers): ``flat``
        becomes the new network's own and is made read-only.
        """
        new: Network[A, B] = object.__new__(Network)
        _fill(new, self.layers, self._layout, _frozen(flat))
        return new

    def _with_params(self, params: Iterable[Matrix]) -> "Network[A, B]":
        """The same architecture holding copies of ``params`` (in `params` order), unchecked."""
        return self._with_flat(np.concatenate([p.reshape(-1, 1) for p in params]))

    def _map(self, fn: Callable[..., Matrix], *others: "Network[A, B]") -> "Network[A, B]":
        """Apply an elementwise ``fn`` to all params at once (and to those of ``others``)."""
        return self._with_flat(fn(self._flat, *(o._flat for o in others)))

    def __reduce__(self) -> Reduced:
        """Pickle and copy the layers; unpickling builds the network again (validated,
        read-only, typed), refusing a pickle of another format with a clear error."""
        return reduce(self)

    def __repr__(self) -> str:
        parts = [str(self.in_size)]
        for layer in self.layers:
            if isinstance(layer, Dense):
                parts.append(f"{layer.out_size} ({layer.activation})")
            elif isinstance(layer, LayerNorm):
                parts.append("layer_norm")
            else:
                parts.append(str(layer))
        return f"Network {' → '.join(parts)}, {self.param_count} params"


def network(first: Layer[A, B]) -> Network[A, B]:
    """Start a network with its first layer; chain more with `Network.then`.

    ``network(first)`` is typed ``Network[P, N]`` from a ``Dense[P, N]``; for a chain built
    at run time use ``Network(layers)``.
    """
    return Network((first,))


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where each layer's params sit: shared by every network of one architecture."""

    spans: tuple[tuple[int, int], ...]  # per layer: its range in the params tuple
    slices: tuple[tuple[int, int, tuple[int, ...]], ...]  # per param: rows of _flat, shape

    @staticmethod
    def of(layers: tuple[AnyLayer, ...]) -> "_Layout":
        counts = [len(layer.params) if isinstance(layer, Layer) else 0 for layer in layers]
        shapes = [p.shape for layer in layers if isinstance(layer, Layer) for p in layer.params]
        ends = itertools.accumulate(counts)
        rows = itertools.accumulate(math.prod(shape) for shape in shapes)
        return _Layout(
            spans=tuple((end - n, end) for n, end in zip(counts, ends, strict=True)),
            slices=tuple((end - math.prod(s), end, s) for s, end in zip(shapes, rows, strict=True)),
        )

    def views(self, flat: Matrix) -> tuple[Matrix, ...]:
        """Each param as a view of ``flat``, in params order."""
        return tuple(flat[a:b].reshape(shape) for a, b, shape in self.slices)


def _fill(
    net: Network[Any, Any], template: tuple[AnyLayer, ...], layout: _Layout, flat: Matrix
) -> None:
    """Set every field of ``net``: ``template``'s layers, holding views of ``flat``."""
    params = layout.views(flat)
    layers = tuple(
        layer._with_params(params[a:b]) if isinstance(layer, Layer) else layer
        for layer, (a, b) in zip(template, layout.spans, strict=True)
    )
    sized = tuple(layer for layer in layers if isinstance(layer, Layer))
    object.__setattr__(net, "layers", layers)
    object.__setattr__(net, "_sized", sized)
    object.__setattr__(net, "_in_size", sized[0].in_size)
    object.__setattr__(net, "_dtype", flat.dtype)
    object.__setattr__(net, "_flat", flat)
    object.__setattr__(net, "_params", params)
    object.__setattr__(net, "_layout", layout)


def _check_chain(layers: tuple[AnyLayer, ...]) -> None:
    """Raise ShapeError where a layer's input does not fit the previous layer's output."""
    prev: tuple[int, Layer[Any, Any]] | None = None
    for i, layer in enumerate(layers, 1):
        if not isinstance(layer, Layer):
            continue
        if prev is not None:
            j, before = prev
            if layer.dtype != before.dtype:
                raise ShapeError(
                    f"layer {i}: params are {layer.dtype} but layer {j}'s are {before.dtype}; "
                    "build every layer with the same dtype"
                )
            got_name, want_name = layer._dim_names()[0], before._dim_names()[1]
            if layer.in_size != before.out_size or (
                got_name and want_name and got_name != want_name
            ):
                raise ShapeError(_chain_message(i, layer, j, before))
        prev = (i, layer)


def _chain_message(i: int, layer: Layer[Any, Any], j: int, before: Layer[Any, Any]) -> str:
    want = before.out_size
    want_name = before._dim_names()[1]
    gives = f"{want_name} {want}" if want_name else str(want)
    got_name = layer._dim_names()[0]
    takes = f"{got_name} {layer.in_size}" if got_name else str(layer.in_size)
    if isinstance(layer, Dense):
        shape = layer.w.shape
        hint = "; did you pass w.T?" if shape[0] == want else ""
        return (
            f"layer {i} weights w: expected (next, prev) = ({layer.out_size}, {want}) "
            f"to take layer {j}'s {gives} outputs, got shape {shape} (prev = {takes}){hint}"
        )
    return f"layer {i}: takes {takes} values per column, but layer {j} gives {gives}"
