"""`Dropout`: inverted dropout in training, the identity at inference."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .. import _json, _validate
from ..shapes import Matrix
from .base import Json, Layer, Rng, register_layer

if TYPE_CHECKING:
    from ..onnx import Graph

__all__ = ["Dropout"]


@register_layer
@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Dropout(Layer[int, int]):
    """Inverted dropout: in training each value is zeroed with probability ``rate`` and
    the kept ones are scaled by ``1 / (1 - rate)``, so a value's mean is unchanged.

    `forward` is inference: there dropout is the identity, and the pass stays
    deterministic. Training (`grad`, `value_and_grad`, `train_step`, `fit`) draws the
    masks from the ``rng=`` it is given. A dropout layer has no params and takes any
    size; chained with `Network.then` it keeps the network's type. Build one with
    `typednet.dropout`.

    Attributes:
        rate: the probability of dropping a value, in [0, 1).
    """

    kind = "dropout"
    param_names = ()
    draws = True

    rate: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate", _validate.fraction("dropout", "rate", self.rate))

    @property
    def in_size(self) -> None:
        return None

    @property
    def dtype(self) -> None:
        return None

    def apply(self, x: Matrix) -> Matrix:
        return x

    def trace(self, x: Matrix, rng: Rng | None) -> tuple[Matrix, Matrix]:
        # pre is the scaled mask: 0 where a value is dropped, 1 / (1 - rate) where kept.
        if rng is None or self.rate == 0.0:
            return np.ones_like(x), x
        keep = 1.0 - self.rate
        mask: Matrix = (rng.random(x.shape) < keep).astype(x.dtype)
        mask /= keep
        return mask, x * mask

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
        out: Matrix = upstream * pre
        return out if need_input else None

    def spec(self) -> dict[str, Json]:
        return {"rate": self.rate}

    @classmethod
    def check_spec(cls, spec: object, where: str) -> dict[str, tuple[int, int]]:
        saved = _json.object_(spec, ("rate",), where)
        rate = _json.number(saved["rate"], f"{where} rate")
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"{where} rate: expected a number in [0, 1), got {rate!r}")
        return {}

    @classmethod
    def from_spec(
        cls,
        spec: Mapping[str, object],
        params: tuple[Matrix, ...],
        like: "Dropout | None",
    ) -> "Dropout":
        return cls(_json.number(spec["rate"], "rate"))

    @classmethod
    def summarize(cls, spec: Mapping[str, object]) -> str:
        return f"rate {spec['rate']:g}"

    def label(self) -> str:
        return f"dropout {self.rate:g}"

    def to_onnx(self, graph: "Graph", x: str) -> str:
        return x  # the identity at inference, as in forward

    def __repr__(self) -> str:
        return f"Dropout({self.rate:g})"
