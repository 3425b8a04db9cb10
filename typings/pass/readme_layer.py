"""docs/layers.md's "Writing a layer" example, as written there."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

import typednet as tn


@tn.register_layer  # so that tn.load can rebuild it
@dataclass(frozen=True, slots=True, eq=False)
class Scale(tn.Layer[int, int]):
    """post = s * x, one learned factor per feature: s has shape (d, 1)."""

    kind = "scale"
    param_names = ("s",)
    s: tn.Bias

    @property
    def in_size(self) -> int:
        return self.s.shape[0]

    @property
    def dtype(self) -> np.dtype[np.floating[Any]]:
        return self.s.dtype

    def apply(self, x: tn.Matrix) -> tn.Matrix:
        return self.s * x

    def backward(self, x: tn.Matrix, pre: tn.Matrix, post: tn.Matrix, upstream: tn.Matrix,
                 grads: tuple[tn.Matrix, ...], *, need_input: bool) -> tn.Matrix | None:
        grads[0][...] = (upstream * x).sum(axis=1, keepdims=True)  # d loss / d s
        return upstream * self.s if need_input else None  # d loss / d x

    def spec(self) -> dict[str, tn.Json]:
        return {"size": self.in_size}

    @classmethod
    def check_spec(cls, spec: object, where: str) -> dict[str, tuple[int, int]]:
        match spec:
            case {"size": int(size)}:
                return {"s": (size, 1)}
            case _:
                raise ValueError(f"{where}: expected {{'size': int}}")

    @classmethod
    def from_spec(cls, spec: Mapping[str, object], params: tuple[tn.Matrix, ...],
                  like: tn.Layer[Any, Any] | None) -> "Scale":
        return cls(s=params[0])

    def label(self) -> str:
        return "scale"


rng = np.random.default_rng(0)
net = tn.Network((tn.dense(rng, 3, 2, tn.tanh), Scale(s=np.full((2, 1), 2.0))))
x, y = rng.normal(size=(3, 5)), rng.normal(size=(2, 5))
print(net)
print(tn.grad(net, x, y, tn.mse).params[-1].T)  # d loss / d s, by Scale.backward
