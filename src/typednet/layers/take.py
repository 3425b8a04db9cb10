"""`Take[P, N]`: rows ``start:stop`` of the input, a slice of the features as a layer."""

import operator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, SupportsIndex, cast

import numpy as np
from typing_extensions import TypeVar as DefaultTypeVar

from .. import _json
from ..shapes import Matrix, ShapeError
from ._common import dim_label, dim_names, dim_size
from .base import Json, Layer, Routing, register_layer

if TYPE_CHECKING:
    from ..onnx import Graph

__all__ = ["Take"]

P = DefaultTypeVar("P", default=int)
N = DefaultTypeVar("N", default=int)


@register_layer
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Take(Layer[P, N]):
    """Features ``start:stop`` of each column: ``post = x[start:stop]`` (a copy).

    The reverse of `Parallel`'s concatenation; it has no params and takes the
    network's dtype. Build it with `typednet.take`.

    Attributes:
        size: the input's features (prev).
        start, stop: the rows kept, ``0 <= start < stop <= size``.
        dims: optional ``(Prev, Next)`` Dim classes, Next of size ``stop - start``.

    Examples:
        >>> import typednet as tn
        >>> tn.take(5, 1, 3)
        Take(5 → 2, rows 1:3)
    """

    kind = "take"
    param_names = ()

    size: int
    start: int
    stop: int
    dims: tuple[type[P], type[N]] | None = None

    def __post_init__(self) -> None:
        for name in ("size", "start", "stop"):
            value: object = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, SupportsIndex):
                raise TypeError(f"take: {name} must be an int, got {type(value).__name__}")
            object.__setattr__(self, name, operator.index(value))
        if not 0 <= self.start < self.stop <= self.size:
            raise ValueError(
                f"take: rows {self.start}:{self.stop} of {self.size}: need "
                "0 <= start < stop <= size"
            )
        if self.dims is not None:
            prev, nxt = (dim_size(d, "take dims") for d in self.dims)
            if (prev, nxt) != (self.size, self.stop - self.start):
                raise ShapeError(
                    f"take({dim_label(self.dim_names(), (prev, nxt))}): rows "
                    f"{self.start}:{self.stop} of {self.size} give {self.stop - self.start} "
                    f"values per column from {self.size}; declare dims of sizes "
                    f"({self.size}, {self.stop - self.start})"
                )

    @property
    def in_size(self) -> int:
        return self.size

    @property
    def out_size(self) -> int:
        return self.stop - self.start

    @property
    def dtype(self) -> None:
        return None

    def dim_names(self) -> tuple[str | None, str | None]:
        return dim_names(self.dims)

    def apply(self, x: Matrix) -> Matrix:
        # A copy: the output must not be a view of the caller's input.
        taken: Matrix = x[self.start : self.stop].copy()
        return taken

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
        if not need_input:
            return None
        down = np.zeros_like(x)
        down[self.start : self.stop] = upstream
        return down

    shape_keys = frozenset({"size", "start", "stop", "dims"})

    def spec(self) -> dict[str, Json]:
        prev, nxt = self.dim_names()
        return {
            "size": self.size,
            "start": self.start,
            "stop": self.stop,
            "dims": None if prev is None else [[prev, self.size], [nxt, self.out_size]],
        }

    @classmethod
    def check_spec(cls, spec: object, where: str) -> dict[str, tuple[int, int]]:
        saved = _json.object_(spec, ("dims", "size", "start", "stop"), where)
        size = _json.size(saved["size"], f"{where} size")
        stop = _json.size(saved["stop"], f"{where} stop")
        start = saved["start"]
        if not (type(start) is int and 0 <= start < stop <= size):
            raise ValueError(
                f"{where}: expected 0 <= start < stop <= size, got {_json.brief(start)}"
            )
        if saved["dims"] is not None:
            dims = _json.pair(saved["dims"], f"{where} dims")
            _json.dim(dims[0], size, f"{where} dims")
            _json.dim(dims[1], stop - start, f"{where} dims")
        return {}

    @classmethod
    def from_spec(  # pyright: ignore[reportIncompatibleMethodOverride]
        cls,
        spec: Mapping[str, object],
        params: tuple[Matrix, ...],
        like: "Take[Any, Any] | None",
    ) -> "Take[Any, Any]":
        size, start, stop = (int(str(spec[k])) for k in ("size", "start", "stop"))
        return cls(size, start, stop, None if like is None else like.dims)

    @classmethod
    def summarize(cls, spec: Mapping[str, object]) -> str:
        dims = spec["dims"]
        pairs = cast("list[list[object]]", dims) if isinstance(dims, list) else None  # checked
        names = (None, None) if pairs is None else (str(pairs[0][0]), str(pairs[1][0]))
        size, start, stop = (int(str(spec[k])) for k in ("size", "start", "stop"))
        return f"{dim_label(names, (size, stop - start))}, rows {start}:{stop}"

    def routing(self) -> Routing:
        return Routing(rows=(self.start, self.stop))

    def label(self) -> str:
        return f"take {self.start}:{self.stop}"

    def __repr__(self) -> str:
        sizes = dim_label(self.dim_names(), (self.size, self.out_size))
        return f"Take({sizes}, rows {self.start}:{self.stop})"

    def to_onnx(self, graph: "Graph", x: str) -> str:
        axis = graph.feature_axis
        starts = graph.integers([self.start], "starts")
        ends = graph.integers([self.stop], "ends")
        return graph.node("Slice", [x, starts, ends, graph.integers([axis], "axes")], "take")
