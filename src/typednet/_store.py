"""A network's params as one flat column: the layout, and the only access to it.

Every param of a network is a read-only view into one column of shape
(param_count, 1), so gradients and optimizers work on a single array: one NumPy call per
operation, not one per param. `Layout` says where each layer's params sit; it is shared
by every network of one architecture. Only this module and `typednet.network` touch a
network's storage; the rest of typednet calls `column`, `layout` and `rebuild`.
"""

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np

from .layers import AnyLayer, Layer
from .shapes import Matrix, _frozen

if TYPE_CHECKING:  # a cycle: network imports this module; only used in annotations
    from .network import Network


__all__ = [
    "Layout",
    "column",
    "fill",
    "joined",
    "layout",
    "rebuild",
    "rebuild_on",
    "with_layers",
]

A = TypeVar("A")
B = TypeVar("B")


@dataclass(frozen=True, slots=True)
class Layout:
    """Where each layer's params sit in the flat column."""

    spans: tuple[tuple[int, int], ...]  # per layer: its range in the params tuple
    slices: tuple[tuple[int, int, tuple[int, ...]], ...]  # per param: rows of the column, shape
    # Read by `fill` at every rebuild, so derived once per architecture:
    owners: tuple[tuple[int, int, int], ...]  # (layer index, span) of each layer with params
    sized: tuple[int, ...]  # indices of the layers with a size (in_size not None)
    stateful: tuple[int, ...]  # indices of the layers whose training updates a state
    # Whether the first layer takes plain columns (not ids, not named inputs): the input
    # check's fast path (`Network._takes_columns`, `typednet.forward`) applies.
    columns: bool

    @staticmethod
    def of(layers: tuple[AnyLayer, ...]) -> "Layout":
        counts = [len(layer.param_names) if isinstance(layer, Layer) else 0 for layer in layers]
        shapes = [p.shape for layer in layers if isinstance(layer, Layer) for p in layer.params]
        ends = itertools.accumulate(counts)
        rows = itertools.accumulate(math.prod(shape) for shape in shapes)
        spans = tuple((end - n, end) for n, end in zip(counts, ends, strict=True))
        return Layout(
            spans=spans,
            slices=tuple((end - math.prod(s), end, s) for s, end in zip(shapes, rows, strict=True)),
            owners=tuple((i, a, b) for i, (a, b) in enumerate(spans) if a < b),
            sized=tuple(
                i
                for i, layer in enumerate(layers)
                if isinstance(layer, Layer) and layer.in_size is not None
            ),
            stateful=tuple(
                i for i, layer in enumerate(layers) if isinstance(layer, Layer) and layer.stateful
            ),
            columns=not (
                isinstance(layers[0], Layer) and (layers[0].takes_ids or layers[0].takes_named)
            ),
        )

    def views(self, flat: Matrix) -> tuple[Matrix, ...]:
        """Each param as a view of ``flat``, in params order."""
        # Run twice per training step: a list, not a generator, and one cast, not one each.
        return cast("tuple[Matrix, ...]", tuple([flat[a:b].reshape(s) for a, b, s in self.slices]))


def fill(
    net: "Network[Any, Any]",
    template: tuple[AnyLayer, ...],
    layout: Layout,
    flat: Matrix,
) -> None:
    """Set every field of ``net``: ``template``'s layers, holding views of ``flat``."""
    _fill(net, template, layout, layout.views(flat), flat, flat.dtype)


def _fill(
    net: "Network[Any, Any]",
    template: tuple[AnyLayer, ...],
    layout: Layout,
    params: tuple[Matrix, ...],
    flat: Matrix | None,
    dtype: np.dtype[np.floating[Any]],
) -> None:
    """`fill` from the param views themselves; ``flat`` None: `column` joins them when
    first asked."""
    # Every owner and every sized layer is a Layer (`Layout.of`); one cast for the list,
    # not one call per layer: this runs at every training step.
    rebuilt = cast("list[Layer[Any, Any]]", list(template))
    for i, a, b in layout.owners:
        rebuilt[i] = rebuilt[i].with_params(params[a:b])  # owns params
    layers: tuple[AnyLayer, ...] = tuple(rebuilt)
    sized = tuple([rebuilt[i] for i in layout.sized])
    in_size = sized[0].in_size
    assert in_size is not None
    object.__setattr__(net, "layers", layers)
    object.__setattr__(net, "_sized", sized)
    object.__setattr__(net, "_in_size", in_size)
    object.__setattr__(net, "_dtype", dtype)
    object.__setattr__(net, "_flat", flat)
    object.__setattr__(net, "_params", params)
    object.__setattr__(net, "_layout", layout)


def column(net: "Network[Any, Any]") -> Matrix:
    """Every param of ``net`` in one read-only column, shape (param_count, 1)."""
    found: Matrix | None = net._flat
    if found is None:  # a block's network, rebuilt on its params (`rebuild_on`)
        found = joined(net._params, net._dtype)
        object.__setattr__(net, "_flat", found)
    return found


def layout(net: "Network[Any, Any]") -> Layout:
    """Where ``net``'s params sit in its column."""
    found: Layout = net._layout
    return found


def rebuild(net: "Network[A, B]", flat: Matrix) -> "Network[A, B]":
    """``net``'s architecture holding the params in ``flat`` (shape (param_count, 1)).

    Unchecked and uncopied, for trusted callers (gradients, optimizers): ``flat``
    becomes the new network's own and is made read-only.
    """
    new = object.__new__(type(net))
    fill(new, net.layers, net._layout, _frozen(flat))
    return new


def rebuild_on(net: "Network[A, B]", params: tuple[Matrix, ...]) -> "Network[A, B]":
    """``net``'s architecture holding ``params`` themselves (in params order), unchecked
    and uncopied: a block's network on the views of its outer network's column that a
    training step hands the block. Its own column is joined only if asked for
    (`column`), which a training step never does: so a block costs one rebuild per step,
    not a second pass over its params' views and addresses."""
    new = object.__new__(type(net))
    _fill(new, net.layers, net._layout, params, None, net._dtype)
    return new


def with_layers(net: "Network[A, B]", layers: tuple[AnyLayer, ...]) -> "Network[A, B]":
    """``net`` holding ``layers`` instead: layers of the same kinds and params whose state
    changed (a training step's running statistics). Unchecked, for trusted callers."""
    new = object.__new__(type(net))
    _fill(new, layers, net._layout, net._params, net._flat, net._dtype)
    return new


def from_params(net: "Network[A, B]", params: Iterable[Matrix]) -> "Network[A, B]":
    """``net``'s architecture holding copies of ``params`` (in params order), unchecked."""
    return rebuild(net, np.concatenate([p.reshape(-1, 1) for p in params]))


def joined(params: tuple[Matrix, ...], dtype: np.dtype[np.floating[Any]]) -> Matrix:
    """``params`` as one read-only column, shape (their count, 1): a view when they are
    consecutive rows of one column (a block's params inside its network's), else a copy.

    A block of layers (`typednet.layers.residual`) holds a network of its own; this gives
    that network its column without copying at every training step.
    """
    if not params:
        return _frozen(np.zeros((0, 1), dtype))
    owner = params[0].base
    if isinstance(owner, np.ndarray) and owner.flags.c_contiguous and owner.dtype == dtype:
        item = dtype.itemsize
        start = _address(params[0])
        at = start
        for p in params:
            if not (p.base is owner and p.flags.c_contiguous) or _address(p) != at:
                break
            at += p.size * item
        else:
            offset = (start - _address(owner)) // item
            column = owner.reshape(-1)[offset : offset + (at - start) // item].reshape(-1, 1)
            return _frozen(cast(Matrix, column))
    return _frozen(np.concatenate([p.reshape(-1, 1) for p in params]))


def _address(a: Matrix) -> int:
    """Where ``a``'s first element sits in memory."""
    address: int = a.__array_interface__["data"][0]
    return address
