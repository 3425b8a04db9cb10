"""`Parallel[P, N]`: branches over the same input, outputs concatenated along features.

``post = concat(branch_1(x), branch_2(x), ...)``: rows 0..n1 are the first branch's
outputs, the next n2 the second's, and so on. Every branch takes the same input dim P;
the output dim N is declared (`typednet.parallel`'s ``out=``) and its size must be the
sum of the branches' outputs. Like `Residual`, a block of layers: its params are its
branches' (``branch.2.1.w``: branch 2, its layer 1), views into the network's column,
and its passes run the branches through the network's own kernels.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from typing_extensions import TypeVar as DefaultTypeVar

from .. import _json, _kernels, _store
from ..activations import Activation
from ..io import LayerMeta
from ..network import Network
from ..shapes import Matrix, ShapeError
from . import _blocks
from ._common import dim_label, dim_size
from .base import Json, Layer, Rng, Routing, register_layer

if TYPE_CHECKING:
    from ..onnx import Graph

__all__ = ["Parallel"]

P = DefaultTypeVar("P", default=int)
N = DefaultTypeVar("N", default=int)


@register_layer
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Parallel(Layer[P, N]):
    """Branches over the same input, their outputs stacked: ``concat(b1(x), b2(x), ...)``.

    Build it with `typednet.parallel`.

    Attributes:
        branches: the networks, each ``Network[P, ...]``, in output order.
        out: the output `Dim` (its size the sum of the branches' outputs), or None for a
            plain int size.

    Examples:
        >>> import numpy as np
        >>> import typednet as tn
        >>> rng = np.random.default_rng(0)
        >>> wide = tn.network(tn.dense(rng, 4, 3, tn.relu))
        >>> narrow = tn.network(tn.dense(rng, 4, 2, tn.tanh))
        >>> tn.parallel(wide, narrow)
        Parallel(4 → 5: [3 (relu)] [2 (tanh)], 25 params)
    """

    kind = "parallel"

    branches: tuple[Network[P, Any], ...]
    out: type[N] | None = None
    param_names: tuple[str, ...] = field(init=False)
    draws: bool = field(init=False)
    _splits: tuple[int, ...] = field(init=False)  # where each branch's params end
    _rows: tuple[int, ...] = field(init=False)  # where each branch's outputs end

    def __post_init__(self) -> None:
        branches = self.branches
        if not isinstance(branches, tuple | list) or not branches:
            raise TypeError(
                f"Parallel: branches must be a non-empty tuple of Networks, "
                f"got {type(branches).__name__}"
            )
        given = tuple(cast("tuple[object, ...]", branches))
        for b, branch in enumerate(given, 1):
            if not isinstance(branch, Network):
                raise TypeError(
                    f"Parallel branch {b}: expected a typednet Network, got {type(branch).__name__}"
                )
        nets = cast("tuple[Network[Any, Any], ...]", given)
        for b, branch in enumerate(nets, 1):
            _blocks.refuse_state(branch, f"Parallel branch {b}")
        first = nets[0]
        takes = _takes(first)
        for b, branch in enumerate(nets[1:], 2):
            if branch.in_size != first.in_size or _blocks.dims(branch)[0] != takes[0]:
                raise ShapeError(
                    f"Parallel branch {b}: takes {_takes(branch)[1]} values per column, but "
                    f"branch 1 takes {takes[1]}; every branch takes the same input"
                )
        typed = [(b, branch) for b, branch in enumerate(nets, 1) if branch.params]
        for b, branch in typed[1:]:
            if branch.dtype != typed[0][1].dtype:
                raise ShapeError(
                    f"Parallel branch {b}: params are {branch.dtype} but branch "
                    f"{typed[0][0]}'s are {typed[0][1].dtype}; build every branch with the "
                    "same dtype"
                )
        sizes = [branch.out_size for branch in nets]
        total = sum(sizes)
        if self.out is not None:
            size = dim_size(self.out, "Parallel out")
            if size != total:
                parts = " + ".join(str(s) for s in sizes)
                raise ShapeError(
                    f"Parallel(out {self.out.__name__} {size}): the branches give {parts} = "
                    f"{total} values per column, but {self.out.__name__} has size {size}; "
                    f"declare a Dim of size {total}"
                )
        names = [
            n for b, branch in enumerate(nets, 1) for n in _blocks.names(f"branch.{b}", branch)
        ]
        object.__setattr__(self, "branches", nets)
        object.__setattr__(self, "param_names", tuple(names))
        object.__setattr__(self, "draws", any(_blocks.draws(branch) for branch in nets))
        object.__setattr__(self, "_splits", _blocks.ends(len(branch.params) for branch in nets))
        object.__setattr__(self, "_rows", _blocks.ends(sizes))

    # --- sizes ---------------------------------------------------------------------------

    @property
    def in_size(self) -> int:
        return self.branches[0].in_size

    @property
    def out_size(self) -> int:
        return self._rows[-1]

    @property
    def dtype(self) -> np.dtype[np.floating[Any]] | None:
        # A branch without params (a take) works in any dtype.
        return next((branch.dtype for branch in self.branches if branch.params), None)

    @property
    def params(self) -> tuple[Matrix, ...]:
        return tuple(p for branch in self.branches for p in branch.params)

    def dim_names(self) -> tuple[str | None, str | None]:
        return _blocks.dims(self.branches[0])[0], None if self.out is None else self.out.__name__

    # --- maths ---------------------------------------------------------------------------

    def apply(self, x: Matrix) -> Matrix:
        outs = [_kernels.apply_layers(branch.layers, x) for branch in self.branches]
        return _blocks.stacked(outs)

    def trace(self, x: Matrix, rng: Rng | None) -> tuple[Matrix, Matrix]:
        traces = [_kernels.trace_layers(branch.layers, x, rng) for branch in self.branches]
        post = _blocks.stacked([posts[-1] for _, posts in traces])
        return _blocks.traced(post, tuple(traces)), post

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
        traces = cast(
            "tuple[tuple[tuple[Matrix, ...], tuple[Matrix, ...]], ...]", _blocks.parts(pre)
        )
        total: Matrix | None = None
        row = param = 0
        for branch, (pres, posts), rows, params in zip(
            self.branches, traces, self._rows, self._splits, strict=True
        ):
            down = _kernels.backward_layers(
                branch.layers,
                _store.layout(branch),
                x,
                pres,
                posts,
                upstream[row:rows],
                grads[param:params],
                need_input=need_input,
            )
            row, param = rows, params
            if down is not None:
                if total is None:
                    total = down
                elif total is down or not total.flags.owndata:
                    total = total + down
                else:
                    total += down
        return total

    def penalized(self, include_bias: bool) -> tuple[bool, ...]:
        return tuple(f for branch in self.branches for f in _blocks.penalized(branch, include_bias))

    # --- rebuilding and saving -----------------------------------------------------------

    def with_params(self, params: tuple[Matrix, ...]) -> "Parallel[P, N]":
        new = object.__new__(type(self))
        starts = (0, *self._splits[:-1])
        branches = tuple(
            _blocks.rebuilt(branch, params[a:b])
            for branch, a, b in zip(self.branches, starts, self._splits, strict=True)
        )
        for name in ("out", "param_names", "draws", "_splits", "_rows"):
            object.__setattr__(new, name, getattr(self, name))
        object.__setattr__(new, "branches", branches)
        return new

    # A different branch is a ValueError: a size or an activation may differ inside it.
    shape_keys = frozenset({"dims"})

    def spec(self) -> dict[str, Json]:
        prev, nxt = self.dim_names()
        return {
            "branches": [{"layers": _blocks.spec(branch.layers)} for branch in self.branches],
            "dims": None if nxt is None else [[prev, self.in_size], [nxt, self.out_size]],
        }

    @classmethod
    def check_spec(cls, spec: object, where: str) -> dict[str, tuple[int, int]]:
        branches, _ = _metas(spec, where)
        shapes: dict[str, tuple[int, int]] = {}
        for b, saved in enumerate(branches, 1):
            shapes.update(_blocks.shapes(f"branch.{b}", saved))
        return shapes

    @classmethod
    def from_spec(  # pyright: ignore[reportIncompatibleMethodOverride]
        cls,
        spec: Mapping[str, object],
        params: tuple[Matrix, ...],
        like: "Parallel[Any, Any] | None",
    ) -> "Parallel[Any, Any]":
        branches, _ = _metas(spec, "parallel")
        arrays = iter(params)
        nets = tuple(
            _blocks.from_metas(saved, arrays, None if like is None else like.branches[b])
            for b, saved in enumerate(branches)
        )
        return cls(branches=nets, out=None if like is None else like.out)

    def describe(self, key: str, value: object) -> str:
        if key == "branches":
            return _blocks.clip(self.summarize({"branches": value, "dims": None}))
        pairs = cast("list[list[object]]", value) if isinstance(value, list) else None
        return "int" if pairs is None else _json.clip(str(pairs[1][0]))

    @classmethod
    def summarize(cls, spec: Mapping[str, object]) -> str:
        branches, out = _metas(spec, "spec")
        text = " ".join(
            "[" + "; ".join(_blocks.summary(meta) for meta in saved) + "]" for saved in branches
        )
        return text if out is None else f"{text} → {out}"

    # --- labels ---------------------------------------------------------------------------

    def label(self) -> str:
        inner = " | ".join(_blocks.label(branch) for branch in self.branches)
        return f"parallel({inner})"

    def routing(self) -> Routing:
        return Routing(chains=tuple(branch.layers for branch in self.branches), join="concat")

    def inner(self) -> tuple[tuple[str, Layer[Any, Any] | Activation], ...]:
        return tuple(
            named
            for b, branch in enumerate(self.branches, 1)
            for named in _blocks.named(f"branch.{b}", branch)
        )

    def __repr__(self) -> str:
        sizes = dim_label(self.dim_names(), (self.in_size, self.out_size))
        inner = " ".join(f"[{_blocks.label(branch)}]" for branch in self.branches)
        count = sum(p.size for p in self.params)
        return f"Parallel({sizes}: {inner}, {count} params)"

    # --- export ---------------------------------------------------------------------------

    def to_onnx(self, graph: "Graph", x: str) -> str:
        outs = [
            _blocks.export(graph, branch.layers, x, f"branch {b}")
            for b, branch in enumerate(self.branches, 1)
        ]
        return graph.node("Concat", outs, "concat", axis=graph.feature_axis)


def _takes(branch: Network[Any, Any]) -> tuple[str | None, str]:
    name = _blocks.dims(branch)[0]
    return name, f"{name} {branch.in_size}" if name else str(branch.in_size)


def _metas(spec: object, where: str) -> tuple[list[list[LayerMeta | Activation]], str | None]:
    """A saved block's branches, checked as `load` checks layers, and its out Dim's name."""
    saved = _json.object_(spec, ("branches", "dims"), where)
    raw = saved["branches"]
    got = _json.brief(raw)
    items: list[object] = cast("list[object]", raw) if isinstance(raw, list) else []
    if not items:
        raise ValueError(f"{where} branches: expected a non-empty list, got {got}")
    branches = [
        _blocks.metas(_json.object_(v, ("layers",), f"{where} branch {b}")["layers"],
                      f"{where} branch {b}")
        for b, v in enumerate(items, 1)
    ]  # fmt: skip
    out = None
    if saved["dims"] is not None:
        dims = _json.pair(saved["dims"], f"{where} dims")
        names: list[str | None] = []
        for d in dims:
            size = _json.size(_json.pair(d, f"{where} dims")[1], f"{where} dims")
            names.append(_json.dim(d, size, f"{where} dims"))
        out = names[1]
    return branches, out
