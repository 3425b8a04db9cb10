"""`NamedInputs[In, N]`: a network over several named inputs, each read by its own branch.

``post = concat(branch_1(x[name_1]), branch_2(x[name_2]), ...)``: the network's input
``x`` is a mapping from each name to that input's columns, shape (features, batch), or
integer ids, shape (1, batch), for a branch that starts with an `Embedding`. Every input
holds the same samples as columns, so they all have the same number of columns. The
output dim N is declared and its size must be the sum of the branches' outputs, as in
`Parallel`. ``In`` is a TypedDict naming the inputs and their array types, so that a
misnamed, missing or mistyped input is a static error where a checker can see it.

Like `Parallel`, a block of layers: its params are its branches' (``numeric.1.w``), views
into the network's column, and its passes run the branches through the network's own
kernels. It stands first in a network (`Layer.takes_named`), since its inputs are the
network's own and carry no gradient.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from typing_extensions import TypeVar as DefaultTypeVar

from .. import _columns, _json, _kernels, _store
from ..activations import Activation
from ..io import LayerMeta
from ..network import Network, _is_network
from ..shapes import Matrix, ShapeError, _got, _is_array
from . import _blocks
from ._common import dim_size
from .base import Json, Layer, Rng, Routing, register_layer

if TYPE_CHECKING:
    from ..onnx import Graph

__all__ = ["NamedInputs"]

In = DefaultTypeVar("In", default=Any)
N = DefaultTypeVar("N", default=int)

Named = _columns.Named
"""The inputs as the kernels see them: each name's columns (or ids)."""


@register_layer
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class NamedInputs(Layer[In, N]):
    """Named inputs, each through its own branch, the outputs stacked in order.

    Build it with `typednet.inputs`, which types it by a TypedDict of the inputs.

    Attributes:
        branches: ``(name, network)`` pairs, in output order: the network reads the input
            of that name (columns, or ids when it starts with an `Embedding`).
        out: the output `Dim` (its size the sum of the branches' outputs), or None for a
            plain int size.

    Examples:
        >>> import numpy as np
        >>> import typednet as tn
        >>> rng = np.random.default_rng(0)
        >>> numeric = tn.network(tn.dense(rng, 3, 2, tn.relu))
        >>> colour = tn.network(tn.embedding(rng, 2, 1))
        >>> tn.NamedInputs((("numeric", numeric), ("colour", colour)))
        NamedInputs(numeric 3, colour ids → 3: [2 (relu)] [1 (embedding of 2)], 10 params)
    """

    kind = "named_inputs"
    takes_named = True

    branches: tuple[tuple[str, Network[Any, Any]], ...]
    out: type[N] | None = None
    param_names: tuple[str, ...] = field(init=False)
    draws: bool = field(init=False)
    _splits: tuple[int, ...] = field(init=False)  # where each branch's params end
    _rows: tuple[int, ...] = field(init=False)  # where each branch's outputs end

    def __post_init__(self) -> None:
        pairs = _pairs(self.branches)
        names = [name for name, _ in pairs]
        nets = [branch for _, branch in pairs]
        for name, branch in pairs:
            first = branch.layers[0]
            if isinstance(first, Layer) and first.takes_named:
                raise ShapeError(
                    f"NamedInputs input {name!r}: a branch cannot itself take named inputs"
                )
            _blocks.refuse_state(branch, f"NamedInputs input {name!r}")
        typed = [(name, branch) for name, branch in pairs if branch.params]
        for name, branch in typed[1:]:
            if branch.dtype != typed[0][1].dtype:
                raise ShapeError(
                    f"NamedInputs input {name!r}: params are {branch.dtype} but those of "
                    f"input {typed[0][0]!r} are {typed[0][1].dtype}; build every branch with "
                    "the same dtype"
                )
        sizes = [branch.out_size for branch in nets]
        total = sum(sizes)
        if self.out is not None:
            size = dim_size(self.out, "NamedInputs out")
            if size != total:
                parts = " + ".join(f"{s} ({n})" for n, s in zip(names, sizes, strict=True))
                raise ShapeError(
                    f"NamedInputs(out {self.out.__name__} {size}): the inputs' branches give "
                    f"{parts} = {total} values per column, but {self.out.__name__} has size "
                    f"{size}; declare a Dim of size {total}"
                )
        object.__setattr__(self, "branches", pairs)
        object.__setattr__(
            self,
            "param_names",
            tuple(n for name, branch in pairs for n in _blocks.names(name, branch)),
        )
        object.__setattr__(self, "draws", any(_blocks.draws(branch) for branch in nets))
        object.__setattr__(self, "_splits", _blocks.ends(len(branch.params) for branch in nets))
        object.__setattr__(self, "_rows", _blocks.ends(sizes))

    @property
    def names(self) -> tuple[str, ...]:
        """The inputs' names, in output order."""
        return tuple(name for name, _ in self.branches)

    # --- sizes ---------------------------------------------------------------------------

    @property
    def in_size(self) -> int:
        """The values per column of all the inputs together (an id counts one)."""
        return sum(branch.in_size for _, branch in self.branches)

    @property
    def out_size(self) -> int:
        return self._rows[-1]

    @property
    def dtype(self) -> np.dtype[np.floating[Any]] | None:
        return next((branch.dtype for _, branch in self.branches if branch.params), None)

    @property
    def params(self) -> tuple[Matrix, ...]:
        return tuple(p for _, branch in self.branches for p in branch.params)

    def dim_names(self) -> tuple[str | None, str | None]:
        return None, None if self.out is None else self.out.__name__

    # --- the inputs ----------------------------------------------------------------------

    def check_inputs(self, x: object, where: str) -> int:
        names = self.names
        listed = ", ".join(repr(n) for n in names)
        if not isinstance(x, Mapping):
            got = f"one array ({_got(x)})" if _is_array(x) else f"a {type(x).__name__}"
            raise ShapeError(
                f"{where} input x: expected a mapping of the named inputs {listed} (the "
                f"network starts with tn.inputs), got {got}; pass "
                "{" + ", ".join(f"{n!r}: ..." for n in names) + "}"
            )
        given = cast("Mapping[object, object]", x)
        missing = [n for n in names if n not in given]
        extra = [k for k in given if k not in names]
        if missing or extra:
            parts: list[str] = []
            if missing:
                parts.append("missing " + ", ".join(repr(n) for n in missing))
            if extra:
                parts.append("unexpected " + ", ".join(_json.clip(repr(k)) for k in extra))
            hint = ""
            if len(missing) == 1 and len(extra) == 1:
                hint = f"; did you mean {missing[0]!r} for {_json.clip(repr(extra[0]))}?"
            raise ShapeError(
                f"{where} input x: expected the named inputs {listed}, got "
                f"{' and '.join(parts)}{hint}"
            )
        columns: tuple[str, int] | None = None
        for name, branch in self.branches:
            value = given[name]
            _kernels.check_input(branch, value, where, f"x[{name!r}]")
            n = cast(Matrix, value).shape[1]
            if columns is None:
                columns = (name, n)
            elif n != columns[1]:
                raise ShapeError(
                    f"{where} input x[{name!r}]: has {n} columns but x[{columns[0]!r}] has "
                    f"{columns[1]}; every input holds the same samples, one column each"
                )
        assert columns is not None  # a NamedInputs has at least one input
        return columns[1]

    def named_inputs(self) -> tuple[tuple[str, int, bool], ...]:
        return tuple((name, branch.in_size, _takes_ids(branch)) for name, branch in self.branches)

    # --- maths ---------------------------------------------------------------------------

    def apply(self, x: Matrix | Named) -> Matrix:
        named = cast(Named, x)  # checked at the network's input
        return _blocks.stacked(
            [_kernels.apply_layers(branch.layers, named[name]) for name, branch in self.branches]
        )

    def trace(self, x: Matrix | Named, rng: Rng | None) -> tuple[Matrix, Matrix]:
        named = cast(Named, x)
        traces = [
            _kernels.trace_layers(branch.layers, named[name], rng) for name, branch in self.branches
        ]
        post = _blocks.stacked([posts[-1] for _, posts in traces])
        return _blocks.traced(post, tuple(traces)), post

    def backward(
        self,
        x: Matrix | Named,
        pre: Matrix,
        post: Matrix,
        upstream: Matrix,
        grads: tuple[Matrix, ...],
        *,
        need_input: bool,
    ) -> Matrix | None:
        named = cast(Named, x)
        traces = cast(
            "tuple[tuple[tuple[Matrix, ...], tuple[Matrix, ...]], ...]", _blocks.parts(pre)
        )
        row = param = 0
        for (name, branch), (pres, posts), rows, params in zip(
            self.branches, traces, self._rows, self._splits, strict=True
        ):
            _kernels.backward_layers(
                branch.layers,
                _store.layout(branch),
                named[name],
                pres,
                posts,
                upstream[row:rows],
                grads[param:params],
            )
            row, param = rows, params
        return None  # the inputs are the network's own: no gradient to pass down

    def penalized(self, include_bias: bool) -> tuple[bool, ...]:
        return tuple(
            f for _, branch in self.branches for f in _blocks.penalized(branch, include_bias)
        )

    # --- rebuilding and saving -----------------------------------------------------------

    def with_params(self, params: tuple[Matrix, ...]) -> "NamedInputs[In, N]":
        new = object.__new__(type(self))
        starts = (0, *self._splits[:-1])
        branches = tuple(
            (name, _blocks.rebuilt(branch, params[a:b]))
            for (name, branch), a, b in zip(self.branches, starts, self._splits, strict=True)
        )
        for key in ("out", "param_names", "draws", "_splits", "_rows"):
            object.__setattr__(new, key, getattr(self, key))
        object.__setattr__(new, "branches", branches)
        return new

    # A different name or branch is a ValueError: a size may differ inside a branch.
    shape_keys = frozenset({"out"})

    def spec(self) -> dict[str, Json]:
        nxt = self.dim_names()[1]
        return {
            "inputs": [
                {"name": name, "layers": _blocks.spec(branch.layers)}
                for name, branch in self.branches
            ],
            "out": None if nxt is None else [nxt, self.out_size],
        }

    @classmethod
    def check_spec(cls, spec: object, where: str) -> dict[str, tuple[int, int]]:
        shapes: dict[str, tuple[int, int]] = {}
        for name, saved in _metas(spec, where)[0]:
            shapes.update(_blocks.shapes(name, saved))
        return shapes

    @classmethod
    def from_spec(  # pyright: ignore[reportIncompatibleMethodOverride]
        cls,
        spec: Mapping[str, object],
        params: tuple[Matrix, ...],
        like: "NamedInputs[Any, Any] | None",
    ) -> "NamedInputs[Any, Any]":
        inputs, _ = _metas(spec, "named_inputs")
        arrays = iter(params)
        branches = tuple(
            (name, _blocks.from_metas(saved, arrays, None if like is None else like.branches[b][1]))
            for b, (name, saved) in enumerate(inputs)
        )
        return cls(branches, None if like is None else like.out)

    def describe(self, key: str, value: object) -> str:
        if key == "inputs":
            return _blocks.clip(self.summarize({"inputs": value, "out": None}))
        pair = cast("list[object]", value) if isinstance(value, list) else None
        return "int" if pair is None else _json.clip(str(pair[0]))

    @classmethod
    def summarize(cls, spec: Mapping[str, object]) -> str:
        inputs, out = _metas(spec, "spec")
        text = " ".join(
            f"{name}: [" + "; ".join(_blocks.summary(meta) for meta in saved) + "]"
            for name, saved in inputs
        )
        return text if out is None else f"{text} → {out}"

    # --- labels ---------------------------------------------------------------------------

    def label(self) -> str:
        inner = " | ".join(f"{name}: {_blocks.label(branch)}" for name, branch in self.branches)
        return f"inputs({inner})"

    def routing(self) -> Routing:
        return Routing(
            chains=tuple(branch.layers for _, branch in self.branches),
            join="concat",
            inputs=self.names,
        )

    def inner(self) -> tuple[tuple[str, Layer[Any, Any] | Activation], ...]:
        return tuple(
            named for name, branch in self.branches for named in _blocks.named(name, branch)
        )

    def __repr__(self) -> str:
        takes = ", ".join(f"{name} {_takes(branch)}" for name, branch in self.branches)
        nxt = self.dim_names()[1]
        out = f"{nxt} {self.out_size}" if nxt else str(self.out_size)
        inner = " ".join(f"[{_blocks.label(branch)}]" for _, branch in self.branches)
        count = sum(p.size for p in self.params)
        return f"NamedInputs({takes} → {out}: {inner}, {count} params)"

    # --- export ---------------------------------------------------------------------------

    def to_onnx(self, graph: "Graph", x: str) -> str:
        # One graph input per name (`named_inputs`), read by its branch.
        names = [graph.reserve(name) for name in self.names]
        outs = [
            _blocks.export(graph, branch.layers, name, f"input {name!r}")
            for name, (_, branch) in zip(names, self.branches, strict=True)
        ]
        return graph.node("Concat", outs, "concat", axis=graph.feature_axis)


def _pairs(value: object) -> tuple[tuple[str, Network[Any, Any]], ...]:
    """The ``(name, network)`` pairs of a mapping or a sequence of pairs, checked."""
    kind = type(value).__name__
    items: list[object]
    if isinstance(value, Mapping):
        items = list(cast("Mapping[object, object]", value).items())
    elif isinstance(value, tuple | list):
        items = list(cast("tuple[object, ...]", value))
    else:
        items = []
    if not items:
        raise TypeError(
            f"NamedInputs: branches must be a non-empty mapping of names to Networks, got {kind}"
        )
    pairs: list[tuple[str, Network[Any, Any]]] = []
    for b, item in enumerate(items, 1):
        pair = cast("tuple[object, ...]", item) if isinstance(item, tuple) else ()
        if len(pair) != 2:
            raise TypeError(f"NamedInputs input {b}: expected a (name, Network) pair")
        name, branch = pair
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(
                f"NamedInputs input {b}: its name must be an identifier string, got "
                f"{_json.clip(repr(name))}"
            )
        if any(name == n for n, _ in pairs):
            raise ValueError(f"NamedInputs input {name!r}: named twice")
        if not _is_network(branch):
            raise TypeError(
                f"NamedInputs input {name!r}: expected a typednet Network, got "
                f"{type(branch).__name__}"
            )
        pairs.append((name, branch))
    return tuple(pairs)


def _takes_ids(branch: Network[Any, Any]) -> bool:
    """Whether a branch starts with a layer that takes ids (an Embedding)."""
    first = branch.layers[0]
    return isinstance(first, Layer) and first.takes_ids


def _takes(branch: Network[Any, Any]) -> str:
    """What a branch takes, for repr: ``ids``, or its input size (with its Dim name)."""
    if _takes_ids(branch):
        return "ids"
    name = _blocks.dims(branch)[0]
    return f"{name} {branch.in_size}" if name else str(branch.in_size)


def _metas(
    spec: object, where: str
) -> tuple[list[tuple[str, list[LayerMeta | Activation]]], str | None]:
    """A saved block's named inputs, checked as `load` checks layers, and its out Dim."""
    saved = _json.object_(spec, ("inputs", "out"), where)
    raw = saved["inputs"]
    got = _json.brief(raw)
    items: list[object] = cast("list[object]", raw) if isinstance(raw, list) else []
    if not items:
        raise ValueError(f"{where} inputs: expected a non-empty list, got {got}")
    inputs: list[tuple[str, list[LayerMeta | Activation]]] = []
    for b, v in enumerate(items, 1):
        entry = _json.object_(v, ("layers", "name"), f"{where} input {b}")
        name = entry["name"]
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(
                f"{where} input {b} name: expected an identifier, got {_json.brief(name)}"
            )
        if any(name == n for n, _ in inputs):
            raise ValueError(f"{where} input {b} name: {name!r} is named twice")
        inputs.append((name, _blocks.metas(entry["layers"], f"{where} input {name!r}")))
    out = None
    if saved["out"] is not None:
        size = _json.size(_json.pair(saved["out"], f"{where} out")[1], f"{where} out")
        out = _json.dim(saved["out"], size, f"{where} out")
    return inputs, out
