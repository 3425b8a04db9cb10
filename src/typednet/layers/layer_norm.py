"""`LayerNorm[D]`: each column normalized over its D features, then scaled and shifted."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from typing_extensions import TypeVar as DefaultTypeVar

from .. import _json
from ..shapes import Bias, Matrix, _check_array, _frozen_copy
from ._common import check_eps, check_finite, dim_size, normalize, normalized_backward
from .base import Json, Layer, register_layer

if TYPE_CHECKING:
    from ..onnx import Graph

__all__ = ["LayerNorm"]

D = DefaultTypeVar("D", default=int)


@register_layer
@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class LayerNorm(Layer[D, D]):
    """Layer normalization: each column is normalized over its D features.

    ``post = gain * (x - mean) / sqrt(var + eps) + shift``, with the mean and the
    (population) variance taken over each column. ``gain`` starts at 1 and ``shift`` at
    0, both shape (d, 1). Build one with `layer_norm`. ``eps`` must be a number > 0
    that stays finite and > 0 in the params' dtype (1e-50 is 0 in float32). Any finite
    input is normalized without overflow: a column too large to square is scaled first.
    """

    kind = "layer_norm"
    param_names = ("gain", "shift")
    shape_keys = frozenset({"size", "dim"})

    gain: Bias
    shift: Bias
    eps: float = 1e-5
    dim: type[D] | None = None

    def __post_init__(self) -> None:
        where = "LayerNorm"
        size: int | None = None
        if self.dim is not None:
            size = dim_size(self.dim, f"{where} dim")
            where = f"LayerNorm({self.dim.__name__} {size})"
        _check_array(self.gain, f"{where} gain", ("d", "1"), (size, 1), name="gain")
        size = self.gain.shape[0]
        _check_array(
            self.shift, f"{where} shift", ("d", "1"), (size, 1), name="shift", dtype=self.gain.dtype
        )
        eps = check_eps(where, self.eps, self.gain.dtype)
        check_finite(self.gain, f"{where} gain")
        check_finite(self.shift, f"{where} shift")
        object.__setattr__(self, "eps", eps)
        object.__setattr__(self, "gain", _frozen_copy(self.gain))
        object.__setattr__(self, "shift", _frozen_copy(self.shift))

    @property
    def in_size(self) -> int:
        return self.gain.shape[0]

    @property
    def dtype(self) -> np.dtype[np.floating[Any]]:
        return self.gain.dtype

    def dim_names(self) -> tuple[str | None, str | None]:
        name = None if self.dim is None else self.dim.__name__
        return (name, name)

    def _normalize(self, x: Matrix) -> tuple[Matrix, Matrix]:
        """``(xhat, 1 / sqrt(var + eps))`` per column, without overflow for any finite x."""
        return normalize(x, self.eps, axis=0)

    def apply(self, x: Matrix) -> Matrix:
        return self.gain * self._normalize(x)[0] + self.shift

    def trace(self, x: Matrix, rng: object) -> tuple[Matrix, Matrix]:
        xhat = self._normalize(x)[0]
        return xhat, self.gain * xhat + self.shift

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
        return normalized_backward(
            upstream,
            pre,
            self.gain,
            lambda: self._normalize(x)[1],
            grads,
            axis=0,
            need_input=need_input,
        )

    def spec(self) -> dict[str, Json]:
        name = self.dim_names()[0]
        return {
            "eps": self.eps,
            "dim": None if name is None else [name, self.in_size],
            "size": self.in_size,
        }

    @classmethod
    def check_spec(cls, spec: object, where: str) -> dict[str, tuple[int, int]]:
        saved = _json.object_(spec, ("eps", "dim", "size"), where)
        size = _json.size(saved["size"], f"{where} size")
        _json.number(saved["eps"], f"{where} eps")
        _json.dim(saved["dim"], size, f"{where} dim")
        return {"gain": (size, 1), "shift": (size, 1)}

    # like is a layer of this kind (load matches kinds first): narrower than the protocol's.
    @classmethod
    def from_spec(  # pyright: ignore[reportIncompatibleMethodOverride]
        cls,
        spec: Mapping[str, object],
        params: tuple[Matrix, ...],
        like: "LayerNorm[Any] | None",
    ) -> "LayerNorm[Any]":
        gain, shift = params
        eps = _json.number(spec["eps"], "eps")
        return cls(gain=gain, shift=shift, eps=eps, dim=None if like is None else like.dim)

    def describe(self, key: str, value: object) -> str:
        if key == "dim":
            if not isinstance(value, list):
                return "int"
            return _json.clip(str(cast("list[object]", value)[0]))
        return Layer.describe(cast("Layer[Any, Any]", self), key, value)

    @classmethod
    def summarize(cls, spec: Mapping[str, object]) -> str:
        dim = spec["dim"]
        name = f"{dim[0]} " if isinstance(dim, list) else ""
        return f"{name}{spec['size']}, eps {spec['eps']:g}"

    def label(self) -> str:
        return "layer_norm"

    def to_onnx(self, graph: "Graph", x: str) -> str:
        # As _normalize: centred * (1 / sqrt(mean(centred ** 2) + eps)), over the features.
        axes = [graph.feature_axis]
        centred = graph.node("Sub", [x, graph.node("ReduceMean", [x], "mean", axes=axes)], "c")
        square = graph.node("Mul", [centred, centred], "square")
        var = graph.node("ReduceMean", [square], "var", axes=axes)
        var_eps = graph.node("Add", [var, graph.constant(self.eps, "eps")], "var_eps")
        std = graph.node("Sqrt", [var_eps], "std")
        inv_std = graph.node("Reciprocal", [std], "inv_std")
        xhat = graph.node("Mul", [centred, inv_std], "xhat")
        scaled = graph.node("Mul", [graph.per_feature(self.gain, "gain"), xhat], "scaled")
        return graph.node("Add", [scaled, graph.per_feature(self.shift, "shift")], "post")

    def __repr__(self) -> str:
        name = f"{self.dim.__name__} " if self.dim is not None else ""
        return f"LayerNorm({name}{self.in_size}, eps={self.eps:g}, {self.dtype})"
