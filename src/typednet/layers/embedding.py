"""`Embedding[V, D]`: integer category ids, shape (1, batch), to columns of D values.

The table has shape (next, prev) = (D, V): column ``c`` is category ``c``'s vector, so
``post = table[:, ids[0]]``, and ``post[i, j] = table[i, ids[0, j]]``. That is
``table @ one_hot(ids)`` without the (V, batch) one-hot matrix, and its gradient is the
scatter-add ``d table[:, c] = sum of upstream[:, j] over the columns j with id c``.
Ids are not differentiable: an Embedding is a network's first layer (`takes_ids`).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt
from typing_extensions import TypeVar as DefaultTypeVar

from .. import _json
from ..shapes import Matrix, Weight, _check_array, _frozen_copy
from ._common import check_finite, dim_label, dim_names, dim_size
from .base import Json, Layer, Rng, register_layer

if TYPE_CHECKING:
    from ..onnx import Graph

__all__ = ["Embedding"]

V = DefaultTypeVar("V", default=int)
D = DefaultTypeVar("D", default=int)

IntIds = npt.NDArray[np.integer[Any]]


@register_layer
@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Embedding(Layer[V, D]):
    """An embedding: each column's integer id in [0, V) picks a column of ``table``.

    A network starting with an Embedding takes ids of shape (1, batch) in any integer
    dtype instead of floating columns; every id is checked to lie in [0, V) (a negative
    id is refused, never wrapped around). Build one with `embedding`.

    Attributes:
        table: shape (next, prev) = (D, V): column c holds category c's D values.
        dims: optional ``(Vocab, Width)`` Dim classes: Vocab's size is the number of
            categories V, Width's the embedding width D.

    Examples:
        >>> import numpy as np
        >>> import typednet as tn
        >>> layer = tn.Embedding(table=np.arange(6.0).reshape(2, 3))
        >>> layer
        Embedding(3 → 2, float64)
        >>> tn.forward(tn.network(layer), np.array([[2, 0, 2]]))
        array([[2., 0., 2.],
               [5., 3., 5.]])
    """

    kind = "embedding"
    param_names = ("table",)
    takes_ids = True
    shape_keys = frozenset({"shape", "dims"})

    table: Weight
    dims: tuple[type[V], type[D]] | None = None

    def __post_init__(self) -> None:
        where = "Embedding"
        expected: tuple[int | None, int | None] = (None, None)
        if self.dims is not None:
            vocab = dim_size(self.dims[0], f"{where} dims")
            width = dim_size(self.dims[1], f"{where} dims")
            where = f"Embedding({dim_label(self.dim_names(), (vocab, width))})"
            expected = (width, vocab)
        _check_array(self.table, f"{where} table", ("next", "prev"), expected, name="table")
        check_finite(self.table, f"{where} table")
        object.__setattr__(self, "table", _frozen_copy(self.table))

    @property
    def vocab(self) -> int:
        """The number of categories V: ids lie in [0, V)."""
        return self.table.shape[1]

    @property
    def in_size(self) -> int:
        return 1  # one id per column

    @property
    def out_size(self) -> int:
        return self.table.shape[0]

    @property
    def dtype(self) -> np.dtype[np.floating[Any]]:
        return self.table.dtype

    def dim_names(self) -> tuple[str | None, str | None]:
        return dim_names(self.dims)

    def check_ids(self, ids: IntIds, where: str) -> None:
        bad = (ids < 0) | (ids >= self.vocab)
        if bad.any():
            column = int(np.flatnonzero(bad[0])[0])
            side = "negative" if ids[0, column] < 0 else f"≥ {self.vocab}"
            raise ValueError(
                f"{where}: the id in column {column} is {side}; ids must lie in "
                f"[0, {self.vocab}) (the embedding's {self._vocab_name()}categories)"
            )

    def _vocab_name(self) -> str:
        name = self.dim_names()[0]
        return f"{name} " if name else ""

    def trace(self, x: Matrix | IntIds, rng: Rng | None) -> tuple[Matrix, Matrix]:
        post = self.apply(x)
        return post, post  # no activation; backward reads the ids themselves, as x

    # Ids, not the protocol's floating columns: a network starting here takes them
    # (checked at its input); the wider type keeps jaxtyping's audit mode honest.
    def apply(self, x: Matrix | IntIds) -> Matrix:
        out: Matrix = self.table[:, x[0]]
        return out

    def backward(
        self,
        x: Matrix | IntIds,
        pre: Matrix,
        post: Matrix,
        upstream: Matrix,
        grads: tuple[Matrix, ...],
        *,
        need_input: bool,
    ) -> Matrix | None:
        # Scatter-add: a column of upstream adds into its id's column of the table, once
        # per occurrence (np.add.at does not buffer, so repeated ids all count).
        table = grads[0]
        table.fill(0.0)
        np.add.at(table.T, x[0], upstream.T)  # table.T: a view, rows by id
        return None  # ids are not differentiable; an Embedding is always first

    def penalized(self, include_bias: bool) -> tuple[bool, ...]:
        return (True,)

    def spec(self) -> dict[str, Json]:
        prev, nxt = self.dim_names()
        return {
            "shape": list(self.table.shape),
            "dims": None if prev is None else [[prev, self.vocab], [nxt, self.out_size]],
        }

    @classmethod
    def check_spec(cls, spec: object, where: str) -> dict[str, tuple[int, int]]:
        saved = _json.object_(spec, ("dims", "shape"), where)
        width, vocab = (
            _json.size(n, f"{where} shape") for n in _json.pair(saved["shape"], f"{where} shape")
        )
        if saved["dims"] is not None:
            dims = _json.pair(saved["dims"], f"{where} dims")
            _json.dim(dims[0], vocab, f"{where} dims")
            _json.dim(dims[1], width, f"{where} dims")
        return {"table": (width, vocab)}

    # like is a layer of this kind (load matches kinds first): narrower than the protocol's.
    @classmethod
    def from_spec(  # pyright: ignore[reportIncompatibleMethodOverride]
        cls,
        spec: Mapping[str, object],
        params: tuple[Matrix, ...],
        like: "Embedding[Any, Any] | None",
    ) -> "Embedding[Any, Any]":
        (table,) = params
        return cls(table=table, dims=None if like is None else like.dims)

    def describe(self, key: str, value: object) -> str:
        if key == "shape" and isinstance(value, list):
            return "(" + ", ".join(str(v) for v in cast("list[object]", value)) + ")"
        if key == "dims":
            pairs = cast("list[list[object]]", value) if isinstance(value, list) else None
            names = ["int", "int"] if pairs is None else [_json.clip(str(d[0])) for d in pairs]
            return f"({', '.join(names)})"
        return Layer.describe(cast("Layer[Any, Any]", self), key, value)

    @classmethod
    def summarize(cls, spec: Mapping[str, object]) -> str:
        width, vocab = cls.check_spec(spec, "spec")["table"]
        dims = spec["dims"]
        pairs = cast("list[list[str]]", dims) if isinstance(dims, list) else None  # checked
        names = (None, None) if pairs is None else (pairs[0][0], pairs[1][0])
        return f"embedding {dim_label(names, (vocab, width))}"

    def label(self) -> str:
        return f"{self.out_size} (embedding of {self.vocab})"

    def to_onnx(self, graph: "Graph", x: str) -> str:
        # Ids come in as (batch, 1) rows or (1, batch) columns: flattened to (batch,),
        # Gather picks rows of table.T (rows layout) or columns of table (columns layout).
        flat = graph.node("Reshape", [x, graph.integers([-1], "flat")], "ids")
        if graph.layout == "rows":
            return graph.node("Gather", [graph.constant(self.table.T, "table_t"), flat], "post")
        return graph.node("Gather", [graph.constant(self.table, "table"), flat], "post", axis=1)

    def __repr__(self) -> str:
        sizes = (self.vocab, self.out_size)
        return f"Embedding({dim_label(self.dim_names(), sizes)}, {self.dtype})"
