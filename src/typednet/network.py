"""The network: an immutable chain of layers, typed by its input and output sizes.

``Network[In, Out]`` maps In values per column to Out values per column. Chaining is
typed: ``Network[A, B].then(Dense[B, C])`` is a ``Network[A, C]``, so a layer that does
not fit is a mypy error naming both dims; at run time the same mistake is a `ShapeError`.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, overload

import numpy as np
from typing_extensions import TypeIs, TypeVar

from . import _html, _store
from ._pickle import Reduced, reduce
from .activations import Activation
from .layers import AnyLayer, Dropout, Layer
from .shapes import Matrix, ShapeError, _adopted_column, _frozen

__all__ = ["Network", "network"]

A = TypeVar("A", default=int)
B = TypeVar("B", default=int)
C = TypeVar("C", default=int)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Network(Generic[A, B]):
    """An immutable chain of layers mapping A values per column to B values per column.

    Build it with `network` and `then` (typed), or as ``Network(layers)`` from a
    sequence built at run time: that is a ``Network[int, int]``, since the checkers cannot
    see the sizes of a run-time sequence (an annotation with other dims is an error).
    Adjacent layers are checked to chain when the network is built.

    Attributes:
        layers: the layers in order: any `Layer` (`Dense`, `LayerNorm`, `Dropout`, one of
            your own) or a bare `Activation`.
    """

    layers: tuple[AnyLayer, ...]
    # Derived once, when the network is built: read on every call and every training step.
    # Every param is a read-only view into one column (see typednet._flat, the only other
    # module that reads these).
    _sized: tuple[Layer[Any, Any], ...] = field(init=False, repr=False)  # layers with a size
    _in_size: int = field(init=False, repr=False)
    _dtype: np.dtype[np.floating[Any]] = field(init=False, repr=False)
    # shape (param_count, 1); None in a block's network until `_store.column` joins it
    _flat: Matrix | None = field(init=False, repr=False)
    _params: tuple[Matrix, ...] = field(init=False, repr=False)  # views into _flat
    _layout: "_store.Layout" = field(init=False, repr=False)

    if TYPE_CHECKING:
        # For the checkers only (at run time the dataclass writes __init__): a chain built
        # at run time is a Network[int, int], so an annotation cannot invent its dims;
        # network(first).then(...) is the typed way.
        def __init__(self: "Network[int, int]", layers: Sequence[AnyLayer]) -> None: ...

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
                    f"layer {i}: expected a Layer (Dense, LayerNorm, Dropout, ...) or an "
                    f"Activation, got {type(layer).__name__}"
                )
        dtypes = [layer.dtype for layer in layers if isinstance(layer, Layer) and layer.dtype]
        if not any(isinstance(layer, Layer) and layer.in_size is not None for layer in layers):
            raise ValueError("a network needs at least one Dense or LayerNorm layer")
        _check_chain(layers)
        params = [p for layer in layers if isinstance(layer, Layer) for p in layer.params]
        flat = _adopted_column(params)  # load's column, read from the file: not copied
        if flat is None:
            flat = (
                np.concatenate([p.reshape(-1, 1) for p in params])
                if params
                else np.zeros((0, 1), dtypes[0] if dtypes else np.float64)
            )
        _store.fill(self, layers, _store.Layout.of(layers), _frozen(flat))

    # Dims-keeping layers first: a layer that does not fit is then reported against
    # Layer[B, C].
    @overload
    def then(self, layer: Dropout | Activation) -> "Network[A, B]": ...
    @overload
    def then(self, layer: Layer[B, C]) -> "Network[A, C]": ...
    def then(self, layer: Layer[Any, Any] | Activation) -> "Network[A, Any]":
        """This network followed by ``layer``, whose input size must be this one's output.

        Examples:
            >>> import numpy as np
            >>> import typednet as tn
            >>> rng = np.random.default_rng(0)
            >>> tn.network(tn.dense(rng, 2, 3, tn.relu)).then(tn.dense(rng, 3, 1, tn.sigmoid))
            Network 2 → 3 (relu) → 1 (sigmoid), 13 params
        """
        return _chain((*self.layers, layer))

    @property
    def in_size(self) -> int:
        """Values per input column (the number of features)."""
        return self._in_size

    @property
    def out_size(self) -> int:
        """Values per output column."""
        size = self._sized[-1].out_size
        assert size is not None  # a sized layer's out_size defaults to its in_size
        return size

    @property
    def sizes(self) -> tuple[int, ...]:
        """The input size, then the output size of each layer with connections (a Dense
        layer's weights): (5, 3, 5, 4) for the tutorial."""
        return (
            self.in_size,
            *(
                layer.out_size
                for layer in self._sized
                if layer.out_size is not None and layer.connections() is not None
            ),
        )

    @property
    def dtype(self) -> np.dtype[np.floating[Any]]:
        """The params' dtype; inputs must have the same."""
        return self._dtype

    def _takes_columns(self, x: object) -> bool:
        """Whether ``x`` is, at a glance, a batch of this network's input columns: an
        ndarray (or memmap; not isinstance: np.matrix and masked arrays change NumPy's
        arithmetic) of shape (in_size, batch >= 1) in its dtype, for a network whose
        first layer takes plain columns (not ids, not named inputs). The fast path of the
        input check (`typednet._kernels.check_input`), run at every checked call: the
        fields read directly, x.shape once (each read makes a tuple), dtypes compared by
        identity first (NumPy's built-in dtypes are singletons)."""
        if type(x) is not np.ndarray and type(x) is not np.memmap:
            return False
        shape = x.shape
        return (
            len(shape) == 2
            and shape[0] == self._in_size
            and shape[1] > 0
            and (x.dtype is self._dtype or x.dtype == self._dtype)
            and self._layout.columns
        )

    @property
    def param_count(self) -> int:
        """How many numbers the params hold, biases included."""
        return _store.column(self).shape[0]

    @property
    def params(self) -> tuple[Matrix, ...]:
        """Every array of every layer, in order (``w1, b1, w2, b2, ...``)."""
        return self._params

    def __reduce__(self) -> Reduced:
        """Pickle and copy the layers; unpickling builds the network again (validated,
        read-only, typed), refusing a pickle of another format with a clear error."""
        return reduce(self)

    def __repr__(self) -> str:
        parts = [str(self.in_size)]
        parts += [
            layer.label() if isinstance(layer, Layer) else str(layer) for layer in self.layers
        ]
        return f"Network {' → '.join(parts)}, {self.param_count} params"

    def _repr_html_(self) -> str:
        """In a notebook: the diagram, each layer's shapes in (next, prev) terms, counts."""
        return _html.network(self)


def network(first: Layer[A, B]) -> Network[A, B]:
    """Start a network with its first layer; chain more with `Network.then`.

    ``network(first)`` is typed ``Network[P, N]`` from a ``Dense[P, N]``; for a chain built
    at run time use ``Network(layers)``.
    """
    return _chain((first,))


def _is_network(x: object) -> TypeIs[Network[Any, Any]]:
    """``isinstance(x, Network)``, narrowing to a known ``Network[Any, Any]`` for pyright."""
    return isinstance(x, Network)


def _chain(layers: tuple[AnyLayer, ...]) -> Network[Any, Any]:
    """A network of ``layers``, its dims left to the typed caller (`network`, `then`)."""
    return Network(layers)


def _check_chain(layers: tuple[AnyLayer, ...]) -> None:
    """Raise ShapeError where a layer's input does not fit the previous layer's output."""
    prev: tuple[int, Layer[Any, Any]] | None = None
    typed: tuple[int, Layer[Any, Any]] | None = None  # the last layer with a dtype
    for i, layer in enumerate(layers, 1):
        if isinstance(layer, Layer):
            _check_ids_first(i, layer)
        if not isinstance(layer, Layer) or layer.in_size is None:
            continue  # an activation or a dropout takes any size and keeps it
        if layer.dtype is not None:  # a layer without params (take) has none
            if typed is not None and layer.dtype != typed[1].dtype:
                j, before = typed
                raise ShapeError(
                    f"layer {i}: params are {layer.dtype} but layer {j}'s are {before.dtype}; "
                    "build every layer with the same dtype"
                )
            typed = (i, layer)
        if prev is not None:
            j, before = prev
            got_name, want_name = layer.dim_names()[0], before.dim_names()[1]
            if layer.in_size != before.out_size or (
                got_name and want_name and got_name != want_name
            ):
                raise ShapeError(_chain_message(i, layer, j, before))
        prev = (i, layer)


def _check_ids_first(i: int, layer: Layer[Any, Any], inside: str = "") -> None:
    """ShapeError for a layer taking ids (an Embedding) or named inputs (`NamedInputs`)
    anywhere but first in a network: its input must be the network's, since ids are not
    differentiable (and neither are the inputs a `NamedInputs` hands its branches)."""
    if (layer.takes_ids or layer.takes_named) and (i != 1 or inside):
        where = f"layer {i}{inside}"
        takes, why = (
            ("named inputs", "they are the network's own inputs")
            if layer.takes_named
            else ("integer ids", "ids come from the network's input and carry no gradient")
        )
        raise ShapeError(
            f"{where} ({type(layer).__name__}, {layer.label()}) takes {takes}, so it "
            f"must be a network's first layer, outside any block: {why}"
        )
    if layer.takes_named:
        return  # each branch reads an input of the network's: checked as a network when built
    for name, part in layer.inner():
        if isinstance(part, Layer):
            _check_ids_first(i, part, f"{inside} {name}")


def _chain_message(i: int, layer: Layer[Any, Any], j: int, before: Layer[Any, Any]) -> str:
    want = before.out_size
    want_name = before.dim_names()[1]
    gives = f"{want_name} {want}" if want_name else str(want)
    got_name = layer.dim_names()[0]
    takes = f"{got_name} {layer.in_size}" if got_name else str(layer.in_size)
    weights = layer.connections()
    if weights is not None:
        shape = weights.shape
        hint = "; did you pass w.T?" if shape[0] == want else ""
        return (
            f"layer {i} weights {layer.param_names[0]}: expected (next, prev) = "
            f"({layer.out_size}, {want}) to take layer {j}'s {gives} outputs, got shape "
            f"{shape} (prev = {takes}){hint}"
        )
    return f"layer {i}: takes {takes} values per column, but layer {j} gives {gives}"
