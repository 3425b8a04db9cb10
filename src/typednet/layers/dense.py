"""`Dense[P, N]`: ``post = activation(w @ x + b)``, with ``w`` (next, prev) and ``b`` (next, 1)."""

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from typing_extensions import TypeVar as DefaultTypeVar

from .. import _json
from ..activations import _INPLACE_FROM, Activation
from ..mat import Mat, One, _wrap
from ..shapes import Bias, Matrix, ShapeError, Weight, _check_array, _frozen, _frozen_copy
from ._common import check_finite, dim_label, dim_names, dim_size
from .base import Json, Layer, Rng, register_layer

if TYPE_CHECKING:
    from ..onnx import Graph

__all__ = ["Dense"]


_KEPT_ONES_BYTES = 2**16
"""The largest column of ones `_ones` keeps: 16 of them hold at most 1 MiB."""


def _ones(n: int, dtype: np.dtype[np.floating[Any]]) -> Matrix:
    """A read-only column of n ones, n the batch size: kept up to `_KEPT_ONES_BYTES` (a
    training step needs the same one each time), made afresh for larger batches."""
    if n * dtype.itemsize > _KEPT_ONES_BYTES:
        return _frozen(np.ones((n, 1), dtype))
    return _kept_ones(n, dtype)


@functools.lru_cache(maxsize=16)
def _kept_ones(n: int, dtype: np.dtype[np.floating[Any]]) -> Matrix:
    return _frozen(np.ones((n, 1), dtype))


P = DefaultTypeVar("P", default=int)
N = DefaultTypeVar("N", default=int)
# Dense.of's own dims: solved from its arguments, never the class's defaults.
_P = DefaultTypeVar("_P")
_N = DefaultTypeVar("_N")


@register_layer
@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Dense(Layer[P, N]):
    """A dense layer: ``post = activation(w @ x + b)``.

    Attributes:
        w: weights, shape (next, prev): row i holds the weights into node i.
        b: bias, shape (next, 1).
        activation: applied to ``pre = w @ x + b``.
        dims: optional ``(Prev, Next)`` Dim classes: sizes as types, checked here and
            by mypy when layers are chained.

    Examples:
        >>> import numpy as np
        >>> import typednet as tn
        >>> class Features(tn.Dim, size=2): ...
        >>> class Hidden(tn.Dim, size=3): ...
        >>> layer = tn.Dense(w=np.ones((3, 2)), b=np.zeros((3, 1)), activation=tn.relu,
        ...                  dims=(Features, Hidden))
        >>> layer
        Dense(Features 2 → Hidden 3, relu, float64)
        >>> tn.Dense(w=np.ones((2, 3)), b=np.zeros((3, 1)), activation=tn.relu)
        Traceback (most recent call last):
        ...
        typednet.shapes.ShapeError: Dense weights w: expected (next, prev) = (3, prev) to match b of shape (3, 1), got shape (2, 3) float64; did you pass w.T?
    """  # noqa: E501

    kind = "dense"
    param_names = ("w", "b")

    w: Weight
    b: Bias
    activation: Activation
    dims: tuple[type[P], type[N]] | None = None

    def __post_init__(self) -> None:
        where = "Dense"
        if self.dims is not None:
            prev_size = dim_size(self.dims[0], f"{where} dims")
            next_size = dim_size(self.dims[1], f"{where} dims")
            where = f"Dense({dim_label(self.dim_names(), (prev_size, next_size))})"
            _check_array(self.b, f"{where} bias b", ("next", "1"), (next_size, 1), name="b")
            _check_array(
                self.w, f"{where} weights w", ("next", "prev"), (next_size, prev_size), name="w"
            )
        else:
            _check_array(
                self.b,
                f"{where} bias b",
                ("next", "1"),
                (None, 1),
                name="b",
                hint_1d="pass b.reshape(-1, 1)",
            )
            _check_array(self.w, f"{where} weights w", ("next", "prev"), (None, None), name="w")
            next_size = self.b.shape[0]
            if self.w.shape[0] != next_size:
                hint = "; did you pass w.T?" if self.w.shape[1] == next_size else ""
                raise ShapeError(
                    f"{where} weights w: expected (next, prev) = ({next_size}, prev) to match b "
                    f"of shape {self.b.shape}, got shape {self.w.shape} {self.w.dtype}{hint}"
                )
        if self.w.dtype != self.b.dtype:
            raise ShapeError(
                f"{where}: w is {self.w.dtype} but b is {self.b.dtype}; "
                f"pass b.astype(np.{self.w.dtype.name})"
            )
        if not isinstance(self.activation, Activation):
            raise TypeError(
                f"{where}: activation must be a typednet Activation such as tn.sigmoid, "
                f"got {type(self.activation).__name__}"
            )
        check_finite(self.w, f"{where} weights w")
        check_finite(self.b, f"{where} bias b")
        object.__setattr__(self, "w", _frozen_copy(self.w))
        object.__setattr__(self, "b", _frozen_copy(self.b))

    @property
    def in_size(self) -> int:
        return self.w.shape[1]

    @property
    def out_size(self) -> int:
        return self.w.shape[0]

    @property
    def dtype(self) -> np.dtype[np.floating[Any]]:
        return self.w.dtype

    def dim_names(self) -> tuple[str | None, str | None]:
        return dim_names(self.dims)

    # Names as in the tutorial: pre is in_hidden_k, post is out_hidden_k, and delta is
    # d loss / d pre.
    def apply(self, x: Matrix) -> Matrix:
        pre = self.w @ x
        # pre += b, the same ufunc call: NumPy's in-place operator and the out= keyword
        # each cost more than a positional out (0.13 and 0.04 µs a call on a column).
        np.add(pre, self.b, pre)
        # pre is ours and not kept: `self.activation.overwrite(pre)`, written out (a call
        # fewer per layer, a few % of a one-column forward): in place where that pays.
        act = self.activation
        if act.fn_inplace is None or pre.size < _INPLACE_FROM:
            return act.fn(pre)
        return act.fn_inplace(pre)

    def trace(self, x: Matrix, rng: Rng | None) -> tuple[Matrix, Matrix]:
        pre = self.w @ x
        np.add(pre, self.b, pre)  # pre += b (as in apply)
        return pre, self.activation.fn(pre)

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
        delta = self.activation.vjp_fn(pre, post, upstream)
        return self._backward_delta(x, delta, grads, need_input)

    @property
    def output_activation(self) -> Activation:
        return self.activation

    def backward_fused(
        self,
        x: Matrix,
        pre: Matrix,
        upstream: Matrix,
        grads: tuple[Matrix, ...],
        *,
        need_input: bool,
    ) -> Matrix | None:
        return self._backward_delta(x, upstream, grads, need_input)

    def _backward_delta(
        self, x: Matrix, delta: Matrix, grads: tuple[Matrix, ...], need_input: bool
    ) -> Matrix | None:
        ones = _ones(x.shape[1], x.dtype)  # delta @ ones sums the batch, faster
        np.matmul(delta, x.T, out=grads[0])
        np.matmul(delta, ones, out=grads[1])
        return self.w.T @ delta if need_input else None

    def penalized(self, include_bias: bool) -> tuple[bool, ...]:
        return (True, include_bias)

    shape_keys = frozenset({"shape", "dims"})

    def spec(self) -> dict[str, Json]:
        prev, nxt = self.dim_names()
        return {
            "shape": list(self.w.shape),
            "dims": None if prev is None else [[prev, self.in_size], [nxt, self.out_size]],
            "activation": {"name": self.activation.name, "param": self.activation.param},
        }

    @classmethod
    def check_spec(cls, spec: object, where: str) -> dict[str, tuple[int, int]]:
        saved = _json.object_(spec, ("activation", "dims", "shape"), where)
        nxt, prev = (
            _json.size(n, f"{where} shape") for n in _json.pair(saved["shape"], f"{where} shape")
        )
        if saved["dims"] is not None:
            dims = _json.pair(saved["dims"], f"{where} dims")
            _json.dim(dims[0], prev, f"{where} dims")
            _json.dim(dims[1], nxt, f"{where} dims")
        _json.activation(saved["activation"], f"{where} activation")
        return {"w": (nxt, prev), "b": (nxt, 1)}

    # like is a layer of this kind (load matches kinds first): narrower than the protocol's.
    @classmethod
    def from_spec(  # pyright: ignore[reportIncompatibleMethodOverride]
        cls,
        spec: Mapping[str, object],
        params: tuple[Matrix, ...],
        like: "Dense[Any, Any] | None",
    ) -> "Dense[Any, Any]":
        w, b = params
        activation = _json.activation(spec["activation"], "activation")
        return cls(w=w, b=b, activation=activation, dims=None if like is None else like.dims)

    def describe(self, key: str, value: object) -> str:
        # Parsed JSON, checked by check_spec: lists of objects, objects with str keys.
        if key == "shape" and isinstance(value, list):
            return "(" + ", ".join(str(v) for v in cast("list[object]", value)) + ")"
        if key == "dims":
            pairs = cast("list[list[object]]", value) if isinstance(value, list) else None
            names = ["int", "int"] if pairs is None else [_json.clip(str(d[0])) for d in pairs]
            return f"({', '.join(names)})"
        if key == "activation" and isinstance(value, dict):
            saved = cast("dict[str, object]", value)
            name, param = saved.get("name"), saved.get("param")
            return str(name) if param is None else f"{name}({param!r})"
        return Layer.describe(cast("Layer[Any, Any]", self), key, value)

    @classmethod
    def summarize(cls, spec: Mapping[str, object]) -> str:
        nxt, prev = cls.check_spec(spec, "spec")["w"]
        dims = spec["dims"]
        pairs = cast("list[list[str]]", dims) if isinstance(dims, list) else None  # checked
        names = (None, None) if pairs is None else (pairs[0][0], pairs[1][0])
        activation = _json.activation(spec["activation"], "activation")
        return f"{dim_label(names, (prev, nxt))}, {activation}"

    def label(self) -> str:
        return f"{self.out_size} ({self.activation})"

    def to_onnx(self, graph: "Graph", x: str) -> str:
        # Rows: pre = x @ w.T + b.T, weights stored (prev, next). Columns: w @ x + b.
        if graph.layout == "rows":
            inputs = [x, graph.constant(self.w.T, "w_t")]
        else:
            inputs = [graph.constant(self.w, "w"), x]
        pre = graph.node("Gemm", [*inputs, graph.per_feature(self.b, "b")], "pre")
        return graph.activation(self.activation, pre)

    def connections(self) -> Matrix:
        return self.w

    def __repr__(self) -> str:
        sizes = (self.in_size, self.out_size)
        return f"Dense({dim_label(self.dim_names(), sizes)}, {self.activation}, {self.dtype})"

    # --- typed maths (tn.Mat) ---------------------------------------------------------

    @staticmethod
    def of(w: Mat[_N, _P], b: Mat[_N, One], activation: Activation) -> "Dense[_P, _N]":
        """A layer from typed matrices: its dims are the weights' ``(Prev, Next)``.

        Args:
            w: the weights, a ``Mat[Next, Prev]`` of shape (next, prev).
            b: the bias, a ``Mat[Next, One]`` of shape (next, 1).
            activation: applied to ``pre = w @ x + b``.

        Passing ``w.T`` gives a ``Dense[Next, Prev]`` that the checkers reject where it
        is chained or annotated (and a `ShapeError` at run time when ``b`` does not fit).

        Examples:
            >>> import numpy as np
            >>> import typednet as tn
            >>> class Features(tn.Dim, size=2): ...
            >>> class Hidden(tn.Dim, size=3): ...
            >>> w = tn.mat(np.ones((3, 2)), Hidden, Features)
            >>> tn.Dense.of(w, tn.mat(np.zeros((3, 1)), Hidden, tn.One), tn.relu)
            Dense(Features 2 → Hidden 3, relu, float64)
        """
        if b.dims[0] is not w.dims[0]:
            nxt, prev = (d.__name__ for d in w.dims)
            hint = "; did you pass w.T?" if b.dims[0] is w.dims[1] else ""
            raise ShapeError(
                f"Dense.of: w is Mat[{nxt}, {prev}] (next, prev), so b must be "
                f"Mat[{nxt}, One], got Mat[{b.dims[0].__name__}, {b.dims[1].__name__}]{hint}"
            )
        return Dense(w=w.array, b=b.array, activation=activation, dims=(w.dims[1], w.dims[0]))

    @property
    def weights(self) -> Mat[N, P]:
        """The weights as a typed ``Mat[Next, Prev]`` (a layer built with dims)."""
        prev, nxt = self._typed_dims("weights")
        return _wrap(self.w, (nxt, prev))

    @property
    def bias(self) -> Mat[N, One]:
        """The bias as a typed ``Mat[Next, One]`` (a layer built with dims)."""
        return _wrap(self.b, (self._typed_dims("bias")[1], One))

    def _typed_dims(self, what: str) -> tuple[type[P], type[N]]:
        if self.dims is None:
            raise TypeError(
                f"{self!r}: {what} as a tn.Mat needs the layer's dims; "
                "build it with Dim classes (tn.dense(rng, Features, Hidden, ...))"
            )
        return self.dims
