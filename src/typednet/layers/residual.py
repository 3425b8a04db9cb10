"""`Residual[P, N]`: ``y = x + block(x)``, or ``y = shortcut(x) + block(x)``.

A block of layers that stands in a network like one layer: its params are its inner
layers' (named ``block.1.w``, ``shortcut.w``), views into the network's one column like
every other param, so gradients, optimizers and penalties see them as any layer's. Its
forward and backward passes run the inner layers through the network's own kernels
(`typednet._kernels`), plus one add.

Imported by ``typednet`` after `typednet.network` (a residual holds a network), not by
``typednet.layers``.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from typing_extensions import TypeVar as DefaultTypeVar

from .. import _json, _kernels, _store
from ..activations import Activation
from ..io import LayerMeta, layer_json, layer_meta
from ..network import Network
from ..shapes import Matrix, ShapeError
from ._common import dim_label
from .base import Json, Layer, Rng, register_layer

if TYPE_CHECKING:
    from ..onnx import Graph

__all__ = ["Residual"]

P = DefaultTypeVar("P", default=int)
N = DefaultTypeVar("N", default=int)

_MAX_DEPTH = 32
"""How deeply `load` accepts blocks nested in blocks (each level costs a few frames)."""


class _Traced(np.ndarray[tuple[int, int], np.dtype[np.floating[Any]]]):
    """A residual's ``pre`` in training: the block's output, carrying what `backward`
    needs (the inner layers' ``(pre, post)`` and the shortcut's). A view: no copy."""

    parts: tuple[tuple[Matrix, ...], tuple[Matrix, ...], Matrix | None, Matrix | None]


@register_layer
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Residual(Layer[P, N]):
    """A residual block: ``post = x + block(x)``, or ``shortcut(x) + block(x)``.

    Build it with `typednet.residual`, which is typed so that a block whose input and
    output dims differ is a static error unless a shortcut projects ``x``.

    Attributes:
        block: the inner network, ``Network[P, N]``; without a shortcut P is N.
        shortcut: None (``x`` itself is added), or a layer ``Layer[P, N]`` (a
            ``Dense[P, N]`` with the identity activation: a projection).

    Examples:
        >>> import numpy as np
        >>> import typednet as tn
        >>> rng = np.random.default_rng(0)
        >>> block = tn.network(tn.dense(rng, 4, 8, tn.relu)).then(tn.dense(rng, 8, 4, tn.identity))
        >>> tn.residual(block)
        Residual(4 → 4: 8 (relu) → 4 (identity), 76 params)
    """

    kind = "residual"

    block: Network[P, N]
    shortcut: Layer[P, N] | None = None
    param_names: tuple[str, ...] = field(init=False)
    draws: bool = field(init=False)
    _split: int = field(init=False)  # how many of `params` are the block's

    def __post_init__(self) -> None:
        block, shortcut = self.block, self.shortcut
        if not isinstance(block, Network):
            raise TypeError(f"Residual: block must be a typednet Network, got {_kind(block)}")
        where = f"Residual({dim_label(_dims(block), (block.in_size, block.out_size))})"
        if shortcut is None:
            prev, nxt = _dims(block)
            if block.in_size != block.out_size or (prev and nxt and prev != nxt):
                raise ShapeError(
                    f"{where}: y = x + block(x) needs the block's output (next) to be its "
                    f"input (prev), got {_sizes(block)}; to add a projection of x, pass "
                    "shortcut=tn.dense(rng, prev, next, tn.identity)"
                )
        else:
            if not isinstance(shortcut, Layer):
                raise TypeError(f"{where}: shortcut must be a Layer, got {_kind(shortcut)}")
            got = (shortcut.out_size, shortcut.in_size)
            if got != (block.out_size, block.in_size):
                swapped = got == (block.in_size, block.out_size)
                raise ShapeError(
                    f"{where} shortcut: expected (next, prev) = ({block.out_size}, "
                    f"{block.in_size}) like the block, got {got}"
                    + ("; did you swap prev and next?" if swapped else "")
                )
            if shortcut.dtype != block.dtype:
                raise ShapeError(
                    f"{where} shortcut: params are {shortcut.dtype} but the block's are "
                    f"{block.dtype}; build both with the same dtype"
                )
        names = [
            f"block.{i}.{name}"
            for i, layer in enumerate(block.layers, 1)
            if isinstance(layer, Layer)
            for name in layer.param_names
        ]
        names += [f"shortcut.{name}" for name in (shortcut.param_names if shortcut else ())]
        inner = (*block.layers, *((shortcut,) if shortcut else ()))
        object.__setattr__(self, "param_names", tuple(names))
        object.__setattr__(self, "draws", any(isinstance(x, Layer) and x.draws for x in inner))
        object.__setattr__(self, "_split", len(block.params))

    # --- sizes ---------------------------------------------------------------------------

    @property
    def in_size(self) -> int:
        return self.block.in_size

    @property
    def out_size(self) -> int:
        return self.block.out_size

    @property
    def dtype(self) -> np.dtype[np.floating[Any]]:
        return self.block.dtype

    @property
    def params(self) -> tuple[Matrix, ...]:
        return (*self.block.params, *(self.shortcut.params if self.shortcut else ()))

    def dim_names(self) -> tuple[str | None, str | None]:
        return _dims(self.block)

    # --- maths ---------------------------------------------------------------------------

    def apply(self, x: Matrix) -> Matrix:
        h = _kernels.apply_layers(self.block.layers, x)
        s = x if self.shortcut is None else self.shortcut.apply(x)
        if h is not x and h is not s and h.flags.owndata and h.flags.writeable:
            h += s  # the block's own new array: add in place
            return h
        out: Matrix = h + s
        return out

    def trace(self, x: Matrix, rng: Rng | None) -> tuple[Matrix, Matrix]:
        pres, posts = _kernels.trace_layers(self.block.layers, x, rng)
        h = posts[-1]
        if self.shortcut is None:
            s_pre, s = None, x
        else:
            s_pre, s = self.shortcut.trace(x, rng)
        traced = h.view(_Traced)
        traced.parts = (pres, posts, s_pre, None if self.shortcut is None else s)
        post: Matrix = h + s  # not in place: the block's output is kept for backward
        return traced, post

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
        pres, posts, s_pre, s_post = cast(_Traced, pre).parts
        k = self._split
        down = _kernels.backward_layers(
            self.block.layers,
            _store.layout(self.block),
            x,
            pres,
            posts,
            upstream,
            grads[:k],
            need_input=need_input,
        )
        if self.shortcut is None:
            skip: Matrix | None = upstream
        else:
            assert s_pre is not None and s_post is not None  # traced with the shortcut
            skip = self.shortcut.backward(
                x, s_pre, s_post, upstream, grads[k:], need_input=need_input
            )
        if down is None or skip is None:
            return None
        if skip is upstream:
            total: Matrix = down + skip
            return total
        skip += down
        return skip

    def penalized(self, include_bias: bool) -> tuple[bool, ...]:
        flags = [
            flag
            for layer in self.block.layers
            if isinstance(layer, Layer)
            for flag in layer.penalized(include_bias)
        ]
        return (*flags, *(self.shortcut.penalized(include_bias) if self.shortcut else ()))

    # --- rebuilding and saving -----------------------------------------------------------

    def with_params(self, params: tuple[Matrix, ...]) -> "Residual[P, N]":
        k = self._split
        new = object.__new__(type(self))
        # The block's params are consecutive rows of the network's column: so is its own.
        block = _store.rebuild(self.block, _store.joined(params[:k], self.dtype))
        shortcut = None if self.shortcut is None else self.shortcut.with_params(params[k:])
        for name, value in (
            ("block", block),
            ("shortcut", shortcut),
            ("param_names", self.param_names),
            ("draws", self.draws),
            ("_split", k),
        ):
            object.__setattr__(new, name, value)
        return new

    # A different block is a ValueError: a size or an activation may differ inside it.

    def spec(self) -> dict[str, Json]:
        return {
            "block": [cast(Json, layer_json(layer)) for layer in self.block.layers],
            "shortcut": None if self.shortcut is None else cast(Json, layer_json(self.shortcut)),
        }

    @classmethod
    def check_spec(cls, spec: object, where: str) -> dict[str, tuple[int, int]]:
        block, shortcut = _metas(spec, where)
        shapes = {
            f"block.{i}.{name}": shape
            for i, meta in enumerate(block, 1)
            if isinstance(meta, LayerMeta)
            for name, shape in meta.shapes.items()
        }
        if shortcut is not None:
            shapes.update({f"shortcut.{n}": shape for n, shape in shortcut.shapes.items()})
        return shapes

    @classmethod
    def from_spec(  # pyright: ignore[reportIncompatibleMethodOverride]
        cls,
        spec: Mapping[str, object],
        params: tuple[Matrix, ...],
        like: "Residual[Any, Any] | None",
    ) -> "Residual[Any, Any]":
        block, shortcut = _metas(spec, "residual")
        arrays = iter(params)
        layers: list[Layer[Any, Any] | Activation] = []
        for i, meta in enumerate(block):
            if isinstance(meta, Activation):
                layers.append(meta)
                continue
            template = None if like is None else like.block.layers[i]
            own = tuple(next(arrays) for _ in meta.shapes)
            layers.append(meta.cls.from_spec(meta.spec, own, template))  # type: ignore[arg-type]  # like is this kind: load matched the specs
        rebuilt = None
        if shortcut is not None:
            template = None if like is None else like.shortcut
            own = tuple(arrays)
            rebuilt = shortcut.cls.from_spec(shortcut.spec, own, template)
        inner: Network[Any, Any] = Network(layers)
        return cls(block=inner, shortcut=rebuilt)

    def describe(self, key: str, value: object) -> str:
        # A checked saved spec's value, or this layer's own.
        if key == "block":
            return _clip(self.summarize({"block": value, "shortcut": None}))
        return "none" if value is None else _clip(_summary(layer_meta(value, key)))

    @classmethod
    def summarize(cls, spec: Mapping[str, object]) -> str:
        block, shortcut = _metas(spec, "spec")
        text = "; ".join(_summary(meta) for meta in block)
        if shortcut is not None:
            text += f" | shortcut {_summary(shortcut)}"
        return f"[{text}]"

    # --- labels ---------------------------------------------------------------------------

    def label(self) -> str:
        inner = " → ".join(_label(layer) for layer in self.block.layers)
        skip = "" if self.shortcut is None else f" + shortcut {self.shortcut.label()}"
        return f"residual({inner}{skip})"

    def __repr__(self) -> str:
        sizes = dim_label(self.dim_names(), (self.in_size, self.out_size))
        inner = " → ".join(_label(layer) for layer in self.block.layers)
        skip = "" if self.shortcut is None else f", shortcut {self.shortcut.label()}"
        count = sum(p.size for p in self.params)
        return f"Residual({sizes}: {inner}{skip}, {count} params)"

    # --- export ---------------------------------------------------------------------------

    def to_onnx(self, graph: "Graph", x: str) -> str:
        h = x
        for i, layer in enumerate(self.block.layers, 1):
            h = _export(graph, layer, h, f"block layer {i}")
        s = x if self.shortcut is None else _export(graph, self.shortcut, x, "shortcut")
        return graph.node("Add", [h, s], "residual")


def _export(graph: "Graph", layer: Layer[Any, Any] | Activation, x: str, where: str) -> str:
    """One inner layer's ONNX nodes; a ValueError naming it if it has no export."""
    try:
        if isinstance(layer, Activation):
            return graph.activation(layer, x)
        return layer.to_onnx(graph, x)
    except (ValueError, NotImplementedError) as e:
        raise ValueError(f"{where}: {e}") from None


def _summary(meta: LayerMeta | Activation) -> str:
    """One saved inner layer as `typednet.io.info` shows a layer."""
    if isinstance(meta, Activation):
        return f"activation {meta}"
    return f"{meta.cls.kind} {meta.cls.summarize(meta.spec)}"


def _clip(text: str) -> str:
    return text if len(text) <= 200 else f"{text[:197]}..."


def _label(layer: Layer[Any, Any] | Activation) -> str:
    return layer.label() if isinstance(layer, Layer) else str(layer)


def _kind(x: object) -> str:
    return type(x).__name__


def _dims(block: Network[Any, Any]) -> tuple[str | None, str | None]:
    """The Dim names of a network's input and output, None where sizes are plain ints."""
    sized = [layer for layer in block.layers if isinstance(layer, Layer) and layer.in_size]
    return sized[0].dim_names()[0], sized[-1].dim_names()[1]


def _sizes(block: Network[Any, Any]) -> str:
    return dim_label(_dims(block), (block.in_size, block.out_size))


def _metas(spec: object, where: str) -> tuple[list[LayerMeta | Activation], LayerMeta | None]:
    """A saved residual's inner layers and shortcut, checked as `load` checks layers."""
    if where.count(" block layer ") >= _MAX_DEPTH:
        raise ValueError(f"{where}: blocks nested more than {_MAX_DEPTH} deep")
    saved = _json.object_(spec, ("block", "shortcut"), where)
    raw = saved["block"]
    got = _json.brief(raw)
    layers: list[object] = cast("list[object]", raw) if isinstance(raw, list) else []
    if not layers:
        raise ValueError(f"{where} block: expected a non-empty list, got {got}")
    block = [layer_meta(value, f"{where} block layer {i}") for i, value in enumerate(layers, 1)]
    shortcut = None
    if saved["shortcut"] is not None:
        meta = layer_meta(saved["shortcut"], f"{where} shortcut")
        if isinstance(meta, Activation):
            raise ValueError(f"{where} shortcut: expected a layer, got an activation")
        shortcut = meta
    return block, shortcut
