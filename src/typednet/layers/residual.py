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
from ..io import LayerMeta, layer_meta
from ..network import Network
from ..shapes import Matrix, ShapeError
from . import _blocks
from ._common import dim_label
from .base import Json, Layer, Rng, Routing, register_layer

if TYPE_CHECKING:
    from ..onnx import Graph

__all__ = ["Residual"]

P = DefaultTypeVar("P", default=int)
N = DefaultTypeVar("N", default=int)


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
            raise TypeError(
                f"Residual: block must be a typednet Network, got {type(block).__name__}"
            )
        sizes = dim_label(_blocks.dims(block), (block.in_size, block.out_size))
        where = f"Residual({sizes})"
        _blocks.refuse_state(block, where)
        if shortcut is None:
            prev, nxt = _blocks.dims(block)
            if block.in_size != block.out_size or (prev and nxt and prev != nxt):
                raise ShapeError(
                    f"{where}: y = x + block(x) needs the block's output (next) to be its "
                    f"input (prev), got {sizes}; to add a projection of x, pass "
                    "shortcut=tn.dense(rng, prev, next, tn.identity)"
                )
        else:
            if not isinstance(shortcut, Layer):
                raise TypeError(f"{where}: shortcut must be a Layer, got {type(shortcut).__name__}")
            if shortcut.stateful:
                raise ValueError(
                    f"{where} shortcut: a {shortcut.kind} keeps running statistics, which "
                    "training does not update inside a block yet"
                )
            got = (shortcut.out_size, shortcut.in_size)
            if got != (block.out_size, block.in_size):
                swapped = got == (block.in_size, block.out_size)
                raise ShapeError(
                    f"{where} shortcut: expected (next, prev) = ({block.out_size}, "
                    f"{block.in_size}) like the block, got {got}"
                    + ("; did you swap prev and next?" if swapped else "")
                )
            if block.params and shortcut.dtype not in (None, block.dtype):
                raise ShapeError(
                    f"{where} shortcut: params are {shortcut.dtype} but the block's are "
                    f"{block.dtype}; build both with the same dtype"
                )
        names = _blocks.names("block", block)
        names += [f"shortcut.{name}" for name in (shortcut.param_names if shortcut else ())]
        object.__setattr__(self, "param_names", tuple(names))
        object.__setattr__(
            self, "draws", _blocks.draws(block) or (shortcut is not None and shortcut.draws)
        )
        object.__setattr__(self, "_split", len(block.params))

    # --- sizes ---------------------------------------------------------------------------

    @property
    def in_size(self) -> int:
        return self.block.in_size

    @property
    def out_size(self) -> int:
        return self.block.out_size

    @property
    def dtype(self) -> np.dtype[np.floating[Any]] | None:
        # A block without params (a take) works in any dtype.
        if self.block.params:
            return self.block.dtype
        return None if self.shortcut is None else self.shortcut.dtype

    @property
    def params(self) -> tuple[Matrix, ...]:
        return (*self.block.params, *(self.shortcut.params if self.shortcut else ()))

    def dim_names(self) -> tuple[str | None, str | None]:
        return _blocks.dims(self.block)

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
        post: Matrix = h + s  # not in place: the block's output is kept for backward
        return _blocks.traced(h, (pres, posts, s_pre, s)), post

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
        pres, posts, s_pre, s_post = cast(_Parts, _blocks.parts(pre))
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
            assert s_pre is not None  # traced with the shortcut
            skip = self.shortcut.backward(
                x, s_pre, s_post, upstream, grads[k:], need_input=need_input
            )
        if down is None or skip is None:
            return None
        # The add's gradient: into whichever of the two is a new array of the passes here.
        if skip is not upstream:
            skip += down
            return skip
        if down is not upstream and down.flags.owndata and down.flags.writeable:
            down += skip
            return down
        total: Matrix = down + skip
        return total

    def penalized(self, include_bias: bool) -> tuple[bool, ...]:
        flags = _blocks.penalized(self.block, include_bias)
        return (*flags, *(self.shortcut.penalized(include_bias) if self.shortcut else ()))

    # --- rebuilding and saving -----------------------------------------------------------

    def with_params(self, params: tuple[Matrix, ...]) -> "Residual[P, N]":
        k = self._split
        new = object.__new__(type(self))
        # The block's params are consecutive rows of the network's column: so is its own.
        block = _blocks.rebuilt(self.block, params[:k])
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
        shortcut = self.shortcut
        return {
            "block": _blocks.spec(self.block.layers),
            "shortcut": None if shortcut is None else _blocks.spec([shortcut])[0],
        }

    @classmethod
    def check_spec(cls, spec: object, where: str) -> dict[str, tuple[int, int]]:
        block, shortcut = _metas(spec, where)
        shapes = _blocks.shapes("block", block)
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
        inner = _blocks.from_metas(block, arrays, None if like is None else like.block)
        rebuilt = None
        if shortcut is not None:
            template = None if like is None else like.shortcut
            rebuilt = shortcut.cls.from_spec(shortcut.spec, tuple(arrays), template)
        return cls(block=inner, shortcut=rebuilt)

    def describe(self, key: str, value: object) -> str:
        # A checked saved spec's value, or this layer's own.
        if key == "block":
            return _blocks.clip(self.summarize({"block": value, "shortcut": None}))
        return "none" if value is None else _blocks.clip(_blocks.summary(layer_meta(value, key)))

    @classmethod
    def summarize(cls, spec: Mapping[str, object]) -> str:
        block, shortcut = _metas(spec, "spec")
        text = "; ".join(_blocks.summary(meta) for meta in block)
        if shortcut is not None:
            text += f" | shortcut {_blocks.summary(shortcut)}"
        return f"[{text}]"

    # --- labels ---------------------------------------------------------------------------

    def label(self) -> str:
        inner = _blocks.label(self.block)
        skip = "" if self.shortcut is None else f" + shortcut {self.shortcut.label()}"
        return f"residual({inner}{skip})"

    def routing(self) -> Routing:
        skip = () if self.shortcut is None else (self.shortcut,)
        return Routing(chains=(self.block.layers, skip), join="add")

    def inner(self) -> tuple[tuple[str, Layer[Any, Any] | Activation], ...]:
        shortcut = () if self.shortcut is None else (("shortcut", self.shortcut),)
        return (*_blocks.named("block", self.block), *shortcut)

    def __repr__(self) -> str:
        sizes = dim_label(self.dim_names(), (self.in_size, self.out_size))
        inner = _blocks.label(self.block)
        skip = "" if self.shortcut is None else f", shortcut {self.shortcut.label()}"
        count = sum(p.size for p in self.params)
        return f"Residual({sizes}: {inner}{skip}, {count} params)"

    # --- export ---------------------------------------------------------------------------

    def to_onnx(self, graph: "Graph", x: str) -> str:
        h = _blocks.export(graph, self.block.layers, x, "block")
        s = x if self.shortcut is None else _blocks.export(graph, [self.shortcut], x, "shortcut")
        return graph.node("Add", [h, s], "residual")


_Parts = tuple[tuple[Matrix, ...], tuple[Matrix, ...], Matrix | None, Matrix]
"""What a residual's trace keeps: the block's pres and posts, the shortcut's pre and post."""


def _metas(spec: object, where: str) -> tuple[list[LayerMeta | Activation], LayerMeta | None]:
    """A saved residual's inner layers and shortcut, checked as `load` checks layers."""
    saved = _json.object_(spec, ("block", "shortcut"), where)
    block = _blocks.metas(saved["block"], f"{where} block")
    shortcut = None
    if saved["shortcut"] is not None:
        meta = layer_meta(saved["shortcut"], f"{where} shortcut")
        if isinstance(meta, Activation):
            raise ValueError(f"{where} shortcut: expected a layer, got an activation")
        shortcut = meta
    return block, shortcut
