"""The layer protocol: what every layer kind owns, and the registry that `load` reads.

A layer maps ``in_size`` values per column to ``out_size`` values per column. Each kind
is a frozen dataclass subclassing `Layer` and keeps in one place:

- its forward maths (`apply`, and `trace` for training, which keeps what `backward`
  needs), and its backward pass (`backward`: the param gradients and the gradient
  passed down);
- its params (`param_names`, `params`) in (next, prev) terms, and which of them a
  penalty covers (`penalized`);
- its save spec (`spec` and `from_spec`: JSON-able metadata plus the arrays);
- its labels (`label` for ``repr(net)``, messages, optimizer param labels and plots),
  and, for a layer that routes its input (a block, a slice), its `routing` for plots;
- its ONNX export (`to_onnx`, optional: the default refuses, naming the kind);
- its training state, if it keeps one besides its params (`stateful`, `updated`:
  BatchNorm's running statistics, returned by the training step, never an optimizer's);
- what it takes, if not floating columns (`takes_ids`, `check_ids`: an Embedding takes
  integer ids, so it stands first and the network's input is ids; `takes_named`,
  `check_inputs`: `NamedInputs` takes a mapping of named inputs, one per branch).

`grad`, `save`/`load`, the penalties, the optimizers' messages and `plot_network` work
through these methods only. A layer written outside typednet works everywhere once it
implements them; `load` finds it after `register_layer`.
"""

import abc
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

import numpy as np
import numpy.typing as npt
from typing_extensions import TypeVar as DefaultTypeVar

from .. import _json
from .._pickle import Reduced, reduce
from ..activations import Activation
from ..shapes import Matrix

if TYPE_CHECKING:
    from ..onnx import Graph

__all__ = ["Json", "Layer", "Routing", "register_layer"]

P = DefaultTypeVar("P", default=int)
N = DefaultTypeVar("N", default=int)

Json = None | bool | int | float | str | list["Json"] | dict[str, "Json"]
"""A value `json.dumps` can write: a layer's save spec is a ``dict[str, Json]``."""

LayerT = TypeVar("LayerT", bound="Layer[Any, Any]")
"""A layer kind, for methods that return a layer of their own class."""

Rng = np.random.Generator | np.random.RandomState
"""A source of random draws for layers that draw in training (dropout masks)."""


class Layer(abc.ABC, Generic[P, N]):
    """Base of every sized layer kind: maps P values per column to N values per column.

    Subclass it as a frozen dataclass whose array fields are the params, set the class
    attributes `kind` and `param_names`, and implement the abstract methods. The arrays a
    layer holds are read-only; a layer never changes after it is built.

    Attributes:
        kind: the stable name written by `save` (``"dense"``); unique per kind.
        param_names: the array fields, in `params` order (``("w", "b")``); may be empty.
            A block of layers names its inner layers' params (``"block.1.w"``).
        draws: True when `trace` draws random numbers in training (dropout): `grad` and
            `fit` then require ``rng=``.
        stateful: True when training updates state that is not a param (BatchNorm's
            running statistics): `train_step` and `fit` return the layer from `updated`.
        min_batch: the fewest columns `trace` takes in training (BatchNorm: 2, since a
            variance needs two); the training functions refuse a smaller batch.
        takes_ids: True when the layer takes integer ids of shape (1, batch) instead of
            floating columns (`Embedding`): it must be a network's first layer (ids are
            not differentiable), and the network's input checks ask it about the ids.
        takes_named: True when the layer takes a mapping of named inputs instead of one
            array (`NamedInputs`): it must be a network's first layer, and the network's
            input checks ask it (`check_inputs`) about the mapping.
    """

    __slots__ = ()

    kind: ClassVar[str]
    # Class attributes for most kinds; a block of layers (`Residual`) sets the first two
    # per instance, since its params and draws are its inner layers'.
    param_names: tuple[str, ...]
    draws: bool = False
    stateful: ClassVar[bool] = False
    min_batch: ClassVar[int] = 1
    takes_ids: ClassVar[bool] = False
    takes_named: ClassVar[bool] = False

    # --- sizes ---------------------------------------------------------------------------

    @property
    @abc.abstractmethod
    def in_size(self) -> int | None:
        """Values per column the layer takes (its prev), or None for any size (dropout)."""

    @property
    def out_size(self) -> int | None:
        """Values per column the layer gives (its next); None: the same as it takes."""
        return self.in_size

    @property
    @abc.abstractmethod
    def dtype(self) -> np.dtype[np.floating[Any]] | None:
        """The params' floating dtype (inputs must have it), or None for a layer without."""

    @property
    def params(self) -> tuple[Matrix, ...]:
        """The layer's arrays, in `param_names` order (optimizers and saving use this)."""
        return tuple(getattr(self, name) for name in self.param_names)

    def dim_names(self) -> tuple[str | None, str | None]:
        """The names of the (prev, next) `Dim` classes, None where sizes are plain ints."""
        return (None, None)

    # --- maths ---------------------------------------------------------------------------

    @abc.abstractmethod
    def apply(self, x: Matrix) -> Matrix:
        """The forward pass at inference, unchecked: ``post`` for input columns ``x``.

        Args:
            x: input columns, shape (prev, batch), in the layer's dtype.
        """

    def trace(self, x: Matrix, rng: Rng | None) -> tuple[Matrix, Matrix]:
        """The forward pass in training, unchecked: ``(pre, post)``.

        ``pre`` is whatever `backward` needs besides the input (a Dense layer's
        ``w @ x + b``, the tutorial's ``in_hidden_k``); ``post`` is the output. ``rng``
        is given when the layer `draws`. The default keeps the input as ``pre``.
        """
        return x, self.apply(x)

    @abc.abstractmethod
    def backward(
        self,
        x: Matrix,
        pre: Matrix,
        post: Matrix,
        upstream: Matrix,
        grads: tuple[Matrix, ...],
        *,
        need_input: bool,
    ) -> Matrix | None:
        """The backward pass, unchecked.

        Args:
            x: the layer's input in the forward pass, shape (prev, batch).
            pre, post: what `trace` returned for ``x``.
            upstream: d loss / d post, shape (next, batch).
            grads: one preallocated array per param, shaped like `params`: write
                d loss / d param into each, in place (overwrite, do not add).
            need_input: whether the caller needs d loss / d x (False for the first
                layer with params: skip that work).

        Returns:
            d loss / d x, shape (prev, batch), or None when ``need_input`` is False.
        """

    def check_ids(self, ids: "npt.NDArray[np.integer[Any]]", where: str) -> None:
        """Raise ValueError, its message starting with ``where``, for integer ids of shape
        (1, batch) the layer cannot take (out of range). Called only when `takes_ids`,
        after the dtype and shape are checked; the default accepts any."""

    def check_inputs(self, x: object, where: str) -> int:
        """Raise ShapeError (or ValueError for values) naming the input, unless ``x`` is
        a mapping of inputs the layer takes; return the batch's number of columns.
        Called only when `takes_named`; the default refuses."""
        raise NotImplementedError(f"{type(self).__name__} takes no named inputs")

    def named_inputs(self) -> tuple[tuple[str, int, bool], ...]:
        """For a layer that `takes_named`: each input's name, its values per column, and
        whether it takes ids (ONNX export declares one graph input each); else ()."""
        return ()

    def updated(self: "LayerT", x: Matrix) -> "LayerT":
        """This layer after a training step on input columns ``x`` (shape (prev, batch)):
        a new layer whose state (not its params: those are the optimizer's) has learnt
        from ``x``. Called only when `stateful`; the default returns the layer itself."""
        return self

    def penalized(self, include_bias: bool) -> tuple[bool, ...]:
        """Per param, whether an L1/L2 penalty covers it (default: none of them)."""
        return tuple(False for _ in self.param_names)

    @property
    def output_activation(self) -> Activation | None:
        """The activation the layer ends with, for fused output gradients; None if none."""
        return None

    def backward_fused(
        self,
        x: Matrix,
        pre: Matrix,
        upstream: Matrix,
        grads: tuple[Matrix, ...],
        *,
        need_input: bool,
    ) -> Matrix | None:
        """`backward` for an output layer whose ``upstream`` is already d loss / d pre.

        Called only when `output_activation` is a sigmoid or softmax paired with its loss
        (the stable fused gradient), so a layer without an activation never gets it.
        """
        raise NotImplementedError(f"{type(self).__name__} has no activation to fuse")

    # --- rebuilding and saving -----------------------------------------------------------

    def with_params(self: "LayerT", params: tuple[Matrix, ...]) -> "LayerT":
        """A copy holding ``params`` (in `params` order) instead, without validation.

        For trusted callers (optimizers, gradients, the network's flat param column):
        the arrays must already have the right shapes and dtype.
        """
        new = object.__new__(type(self))
        for name in _kept_fields(type(self)):
            object.__setattr__(new, name, getattr(self, name))
        for name, value in zip(self.param_names, params, strict=True):
            object.__setattr__(new, name, value)
        return new

    @abc.abstractmethod
    def spec(self) -> dict[str, Json]:
        """Everything but the arrays, as JSON-able metadata (sizes, Dim names, settings).

        `save` writes it beside ``"kind"``; `check_spec` must accept it.
        """

    @classmethod
    @abc.abstractmethod
    def check_spec(cls, spec: object, where: str) -> dict[str, tuple[int, int]]:
        """Check a saved spec, before any array is read; return each param's shape.

        The shapes are in `param_names` order; `load` checks every array against them.
        Use the readers of ``typednet._json`` for messages like the rest of `load`'s.

        Raises:
            ValueError: the spec is malformed; the message starts with ``where``.
        """

    @classmethod
    @abc.abstractmethod
    def from_spec(
        cls: type["LayerT"],
        spec: Mapping[str, object],
        params: tuple[Matrix, ...],
        like: "LayerT | None",
    ) -> "LayerT":
        """Rebuild a layer from a checked spec and its arrays, through the constructor.

        ``like`` is a layer of the same kind and architecture to take `Dim` classes from
        (`load`'s ``like=``), or None for plain int sizes.
        """

    shape_keys: ClassVar[frozenset[str]] = frozenset()
    """Spec keys whose difference from ``like=`` is a ShapeError (else a ValueError)."""

    state_keys: ClassVar[frozenset[str]] = frozenset()
    """Spec keys holding training state, not architecture (BatchNorm's running
    statistics): `load` does not compare them with ``like=``."""

    def describe(self, key: str, value: object) -> str:
        """A spec value as messages show it (`load`'s ``like=`` mismatches), shortened."""
        return _json.clip(json.dumps(value))

    @classmethod
    def summarize(cls, spec: Mapping[str, object]) -> str:
        """One line describing a checked saved spec, Dim names included (`info`)."""
        return ", ".join(f"{key} {json.dumps(value)}" for key, value in spec.items())

    # --- labels ---------------------------------------------------------------------------

    @abc.abstractmethod
    def label(self) -> str:
        """Short text for ``repr(net)``, plots and messages (``"3 (relu)"``, ``"layer_norm"``)."""

    def inner(self) -> "tuple[tuple[str, Layer[Any, Any] | Activation], ...]":
        """The layers a block of layers holds, each named by where it sits (``block.1``,
        ``shortcut``), for `typednet.summary`; a plain layer holds none."""
        return ()

    def routing(self) -> "Routing | None":
        """How the layer routes its input, for `plot_network`: through inner chains of
        layers joined by an add or a concatenation (a block), or by taking some of its
        rows (a slice); None for a layer that computes its output in one piece."""
        return None

    def connections(self) -> Matrix | None:
        """A (next, prev) matrix to draw as weighted edges in `plot_network`, if any.

        A layer with connections gets a column of its own in the diagram; one without is
        noted under the column it transforms.
        """
        return None

    def __reduce__(self) -> Reduced:
        """Pickle and copy a layer through its constructor, which validates and freezes
        again (a dataclass's init fields; another kind of layer defines its own)."""
        return reduce(self)

    # --- export ---------------------------------------------------------------------------

    def to_onnx(self, graph: "Graph", x: str) -> str:
        """Add the layer's inference pass to an ONNX graph (`typednet.to_onnx`).

        Args:
            graph: the `typednet.onnx.Graph` being built; its ``layout`` says whether
                values are (batch, features) rows or (features, batch) columns.
            x: the name of the layer's input in ``graph``.

        Returns:
            The name of the layer's output.

        Raises:
            NotImplementedError: the default: this layer kind has no ONNX export.
        """
        raise NotImplementedError(
            f"{type(self).__name__} (kind {self.kind!r}) has no ONNX export; "
            "implement Layer.to_onnx"
        )


@dataclass(frozen=True, slots=True)
class Routing:
    """What `Layer.routing` returns: the paths a layer's input takes to its output.

    Attributes:
        chains: the inner chains of layers, each taking the layer's input; an empty
            chain is the input itself (a residual's skip).
        join: how the chains' outputs make the layer's: ``"add"`` (a residual: the
            first chain is the block, the others what is added to it) or ``"concat"``
            (branches, their outputs stacked in order).
        rows: instead of chains, the ``(start, stop)`` rows of the input kept (a take).
        inputs: for a layer over the network's named inputs (`NamedInputs`), the name
            of the input each chain reads, in order; empty when every chain takes the
            layer's one input.
    """

    chains: tuple[tuple["Layer[Any, Any] | Activation", ...], ...] = ()
    join: Literal["add", "concat"] = "concat"
    rows: tuple[int, int] | None = None
    inputs: tuple[str, ...] = ()


@functools.cache
def _kept_fields(cls: type[Layer[Any, Any]]) -> tuple[str, ...]:
    """The fields `with_params` copies (all but the params), read once per class: a
    training step rebuilds its layers every time."""
    from dataclasses import fields, is_dataclass

    if not is_dataclass(cls):
        raise TypeError(f"{cls.__name__}: a Layer must be a dataclass")
    return tuple(f.name for f in fields(cls) if f.name not in cls.param_names)


L = TypeVar("L", bound=type[Layer[Any, Any]])

_REGISTRY: dict[str, type[Layer[Any, Any]]] = {}


def register_layer(cls: L) -> L:
    """Let `load` rebuild layers of kind ``cls.kind``; usable as a class decorator.

    typednet's own kinds are registered already. A file naming a kind that is not
    registered is refused by `load` with a ValueError, and no code from it runs.

    Raises:
        TypeError: ``cls`` is not a `Layer` subclass with a ``kind`` string.
        ValueError: another class is registered under the same kind.
    """
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise TypeError(f"register_layer: expected a Layer subclass, got {cls!r}")
    kind = getattr(cls, "kind", None)
    if not isinstance(kind, str) or not kind.isidentifier():
        raise TypeError(f"register_layer: {cls.__name__}.kind must be an identifier string")
    if kind == "activation":
        raise ValueError("register_layer: the kind 'activation' is reserved")
    known = _REGISTRY.get(kind)
    if known is not None and known is not cls:
        raise ValueError(
            f"register_layer: kind {kind!r} is already {known.__module__}.{known.__qualname__}"
        )
    _REGISTRY[kind] = cls
    return cls


def registered(kind: str) -> type[Layer[Any, Any]] | None:
    """The class registered under ``kind``, or None."""
    return _REGISTRY.get(kind)


def registered_kinds() -> list[str]:
    """Every registered kind, sorted (for messages)."""
    return sorted(_REGISTRY)
