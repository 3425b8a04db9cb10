"""`BatchNorm[D]`: each feature normalized over the batch, with running statistics.

The running statistics are a value, not params: an optimizer never sees them, and a
layer never changes. A training step (`train_step`, `fit`) returns a network whose
BatchNorm layers hold the updated statistics (`BatchNorm.updated`), as Equinox's
``State`` is returned beside the model.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from typing_extensions import TypeVar as DefaultTypeVar

from .. import _json, _validate
from ..shapes import Bias, Matrix, _check_array, _frozen_copy
from ._common import check_eps, check_finite, dim_size, limit, normalize, normalized_backward
from .base import Json, Layer, register_layer

if TYPE_CHECKING:
    from ..onnx import Graph

__all__ = ["BatchNorm"]

D = DefaultTypeVar("D", default=int)


@register_layer
@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class BatchNorm(Layer[D, D]):
    """Batch normalization, as ``torch.nn.BatchNorm1d``: each of the D features is
    normalized over the batch, then scaled by ``gamma`` and shifted by ``beta``.

    Two modes, each with its own functions:

    - training (`grad`, `value_and_grad`, `train_step`, `fit`, and `forward_trace`):
      ``post = gamma * (x - mean) / sqrt(var + eps) + beta`` with the batch's mean and
      (biased) variance per feature, so a batch needs at least 2 columns. `train_step`
      and `fit` return the network with the running statistics updated:
      ``running = (1 - momentum) * running + momentum * batch_stat``, the variance
      there being the unbiased one (divided by batch - 1).
    - inference (`forward`, ONNX export): the same formula with ``running_mean`` and
      ``running_var`` in place of the batch's.

    ``gamma`` starts at 1 and ``beta`` at 0 (the params, shape (d, 1)); the running
    mean starts at 0 and the running variance at 1 (shape (d, 1), not params: no
    optimizer or penalty touches them; `save`, pickle and copies keep them). Build one
    with `typednet.batch_norm`.

    Attributes:
        momentum: the weight of a batch's statistics in the running ones, in (0, 1].
        eps: added to the variance; a number > 0 that stays finite and > 0 in the
            params' dtype.
    """

    kind = "batch_norm"
    param_names = ("gamma", "beta")
    shape_keys = frozenset({"size", "dim"})
    state_keys = frozenset({"running_mean", "running_var"})
    stateful = True
    min_batch = 2

    gamma: Bias
    beta: Bias
    running_mean: Bias
    running_var: Bias
    momentum: float = 0.1
    eps: float = 1e-5
    dim: type[D] | None = None

    def __post_init__(self) -> None:
        size = None if self.dim is None else dim_size(self.dim, "BatchNorm dim")
        where = self._where()
        _check_array(self.gamma, f"{where} gamma", ("d", "1"), (size, 1), name="gamma")
        size, dtype = self.gamma.shape[0], self.gamma.dtype
        for name in ("beta", "running_mean", "running_var"):
            value = getattr(self, name)
            _check_array(value, f"{where} {name}", ("d", "1"), (size, 1), name=name, dtype=dtype)
        momentum = _validate.number(
            where, "momentum", self.momentum, lambda m: 0.0 < m <= 1.0, "a number in (0, 1]"
        )
        eps = check_eps(where, self.eps, dtype)
        for name in ("gamma", "beta", "running_mean", "running_var"):
            check_finite(getattr(self, name), f"{where} {name}")
        if (self.running_var < 0.0).any():
            raise ValueError(f"{where} running_var: a variance must be >= 0, got negative values")
        object.__setattr__(self, "momentum", momentum)
        object.__setattr__(self, "eps", eps)
        for name in ("gamma", "beta", "running_mean", "running_var"):
            object.__setattr__(self, name, _frozen_copy(getattr(self, name)))

    def _where(self) -> str:
        """``BatchNorm``, or ``BatchNorm(Hidden 8)`` with a Dim, for messages."""
        if self.dim is None:
            return "BatchNorm"
        return f"BatchNorm({self.dim.__name__} {dim_size(self.dim, 'BatchNorm dim')})"

    @property
    def in_size(self) -> int:
        return self.gamma.shape[0]

    @property
    def dtype(self) -> np.dtype[np.floating[Any]]:
        return self.gamma.dtype

    def dim_names(self) -> tuple[str | None, str | None]:
        name = None if self.dim is None else self.dim.__name__
        return (name, name)

    # --- maths: columns are samples, so statistics run along axis 1 ----------------------

    def apply(self, x: Matrix) -> Matrix:
        scale = self.gamma / np.sqrt(self.running_var + self.eps)
        out: Matrix = (x - self.running_mean) * scale + self.beta
        return out

    def _normalize(self, x: Matrix) -> tuple[Matrix, Matrix]:
        """``(xhat, 1 / sqrt(var + eps))`` with the batch's own per-feature statistics,
        without overflow for any finite x."""
        return normalize(x, self.eps, axis=1)

    def trace(self, x: Matrix, rng: object) -> tuple[Matrix, Matrix]:
        xhat = self._normalize(x)[0]
        return xhat, self.gamma * xhat + self.beta

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
            self.gamma,
            lambda: self._normalize(x)[1],
            grads,
            axis=1,
            need_input=need_input,
        )

    def updated(self, x: Matrix) -> "BatchNorm[D]":
        n = x.shape[1]
        # As in normalize: past limit, squares overflow though the variance may not, so
        # each feature is divided by its largest magnitude s first.
        bound = limit(x.dtype, n)
        huge = not (
            np.minimum.reduce(x, axis=None) >= -bound and np.maximum.reduce(x, axis=None) <= bound
        )
        s = np.maximum(np.maximum.reduce(np.abs(x), axis=1, keepdims=True), 1.0) if huge else None
        xs = x if s is None else x / s
        mean = xs.mean(axis=1, keepdims=True)
        centred = xs - mean
        var = (centred * centred).sum(axis=1, keepdims=True) / (n - 1)  # unbiased, as torch
        m = self.momentum
        with np.errstate(over="ignore"):
            if s is not None:
                mean, var = mean * s, s * (s * var)
            running_mean = (1.0 - m) * self.running_mean + m * mean
            running_var = (1.0 - m) * self.running_var + m * var
        if not (np.isfinite(running_mean).all() and np.isfinite(running_var).all()):
            raise ValueError(
                f"{self._where()} running_var: a training batch's variance overflows "
                f"{x.dtype}; scale the inputs down"
            )
        new = self.with_params(self.params)  # a copy sharing the params, unchecked
        running_mean.setflags(write=False)
        running_var.setflags(write=False)
        object.__setattr__(new, "running_mean", running_mean)
        object.__setattr__(new, "running_var", running_var)
        return new

    def spec(self) -> dict[str, Json]:
        name = self.dim_names()[0]
        return {
            "momentum": self.momentum,
            "eps": self.eps,
            "dim": None if name is None else [name, self.in_size],
            "size": self.in_size,
            "running_mean": [float(v) for v in self.running_mean[:, 0]],
            "running_var": [float(v) for v in self.running_var[:, 0]],
        }

    @classmethod
    def check_spec(cls, spec: object, where: str) -> dict[str, tuple[int, int]]:
        keys = ("momentum", "eps", "dim", "size", "running_mean", "running_var")
        saved = _json.object_(spec, keys, where)
        size = _json.size(saved["size"], f"{where} size")
        _json.number(saved["momentum"], f"{where} momentum")
        _json.number(saved["eps"], f"{where} eps")
        _json.dim(saved["dim"], size, f"{where} dim")
        for key in ("running_mean", "running_var"):
            _json.numbers(saved[key], size, f"{where} {key}")
        return {"gamma": (size, 1), "beta": (size, 1)}

    # like is a layer of this kind (load matches kinds first): narrower than the protocol's.
    @classmethod
    def from_spec(  # pyright: ignore[reportIncompatibleMethodOverride]
        cls,
        spec: Mapping[str, object],
        params: tuple[Matrix, ...],
        like: "BatchNorm[Any] | None",
    ) -> "BatchNorm[Any]":
        gamma, beta = params
        running = [
            np.array(_json.numbers(spec[key], gamma.shape[0], key), gamma.dtype).reshape(-1, 1)
            for key in ("running_mean", "running_var")
        ]
        return cls(
            gamma=gamma,
            beta=beta,
            running_mean=running[0],
            running_var=running[1],
            momentum=_json.number(spec["momentum"], "momentum"),
            eps=_json.number(spec["eps"], "eps"),
            dim=None if like is None else like.dim,
        )

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
        return f"{name}{spec['size']}, momentum {spec['momentum']:g}, eps {spec['eps']:g}"

    def label(self) -> str:
        return "batch_norm"

    def to_onnx(self, graph: "Graph", x: str) -> str:
        # BatchNormalization in inference mode takes (batch, features, ...): the rows layout.
        args = [
            graph.constant(a.reshape(-1), hint)
            for a, hint in (
                (self.gamma, "gamma"),
                (self.beta, "beta"),
                (self.running_mean, "running_mean"),
                (self.running_var, "running_var"),
            )
        ]
        rows = x if graph.layout == "rows" else graph.node("Transpose", [x], "rows", perm=[1, 0])
        out = graph.node("BatchNormalization", [rows, *args], "post", epsilon=self.eps)
        return (
            out if graph.layout == "rows" else graph.node("Transpose", [out], "post", perm=[1, 0])
        )

    def __repr__(self) -> str:
        name = f"{self.dim.__name__} " if self.dim is not None else ""
        return (
            f"BatchNorm({name}{self.in_size}, momentum={self.momentum:g}, eps={self.eps:g}, "
            f"{self.dtype})"
        )
