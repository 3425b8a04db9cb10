"""What the blocks of layers share (`Residual`, `Parallel`): a network held inside a layer.

A block's params are its inner networks' params in order, named by where they sit
(``block.1.w``, ``branch.2.1.b``); each inner network is rebuilt on a view of the outer
network's column (`typednet._store.joined`). Its save spec lists each inner network's
layers as the file lists a network's (`typednet.io.layer_json`), checked and rebuilt as
`load` does.
"""

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .. import _json, _store
from ..activations import Activation
from ..io import LayerMeta, layer_json, layer_meta
from ..network import Network
from ..shapes import Matrix
from .base import Json, Layer

if TYPE_CHECKING:
    from ..onnx import Graph

__all__ = [
    "MAX_DEPTH",
    "Traced",
    "clip",
    "dims",
    "draws",
    "ends",
    "export",
    "from_metas",
    "label",
    "metas",
    "named",
    "names",
    "parts",
    "penalized",
    "rebuilt",
    "shapes",
    "spec",
    "stacked",
    "summary",
    "traced",
]

MAX_DEPTH = 32
"""How deeply `load` accepts blocks nested in blocks (each level costs a few frames)."""

AnyLayer = Layer[Any, Any] | Activation


class Traced(np.ndarray[tuple[int, int], np.dtype[np.floating[Any]]]):
    """A block's ``pre`` in training: a view of an array it computed anyway, carrying
    what its `backward` needs (the inner layers' ``(pre, post)``). No copy."""

    parts: tuple[object, ...]


def traced(a: Matrix, parts: tuple[object, ...]) -> Matrix:
    """``a`` viewed as a `Traced` carrying ``parts``."""
    view = a.view(Traced)
    view.parts = parts
    return view


def parts(pre: Matrix) -> tuple[object, ...]:
    """What `traced` attached to a block's ``pre``."""
    return cast(Traced, pre).parts


def stacked(outs: list[Matrix]) -> Matrix:
    """Branches' outputs, one above the other (one new array)."""
    joined: Matrix = np.concatenate(outs, axis=0)
    return joined


def ends(counts: Iterable[int]) -> tuple[int, ...]:
    """Running totals: where each part ends (branches' params or output rows)."""
    totals: list[int] = []
    for n in counts:
        totals.append((totals[-1] if totals else 0) + n)
    return tuple(totals)


def refuse_state(net: Network[Any, Any], where: str) -> None:
    """A block may not hold a layer whose training updates state besides its params
    (BatchNorm's running statistics): `train_step` updates the network's own layers,
    not a block's, so the statistics would silently stay where they started."""
    for i, layer in enumerate(net.layers, 1):
        if isinstance(layer, Layer) and layer.stateful:
            raise ValueError(
                f"{where}: layer {i} ({layer.kind}) keeps running statistics, which training "
                "does not update inside a block yet; put it before or after the block"
            )


def names(prefix: str, net: Network[Any, Any]) -> list[str]:
    """``{prefix}.{i}.{name}`` for each param of the network's layer i (from 1)."""
    return [
        f"{prefix}.{i}.{name}"
        for i, layer in enumerate(net.layers, 1)
        if isinstance(layer, Layer)
        for name in layer.param_names
    ]


def named(prefix: str, net: Network[Any, Any]) -> list[tuple[str, AnyLayer]]:
    """Each layer of the network named ``{prefix}.{i}`` (i from 1)."""
    return [(f"{prefix}.{i}", layer) for i, layer in enumerate(net.layers, 1)]


def penalized(net: Network[Any, Any], include_bias: bool) -> list[bool]:
    """Per param of the network, whether its layer says a penalty covers it."""
    return [
        flag
        for layer in net.layers
        if isinstance(layer, Layer)
        for flag in layer.penalized(include_bias)
    ]


def draws(net: Network[Any, Any]) -> bool:
    """Whether any layer of the network draws random masks in training."""
    return any(isinstance(layer, Layer) and layer.draws for layer in net.layers)


def rebuilt(net: Network[Any, Any], params: tuple[Matrix, ...]) -> Network[Any, Any]:
    """The network holding ``params``: views of the outer column, without a copy."""
    return _store.rebuild_on(net, params)


def dims(net: Network[Any, Any]) -> tuple[str | None, str | None]:
    """The Dim names of a network's input and output, None where sizes are plain ints."""
    sized = [layer for layer in net.layers if isinstance(layer, Layer) and layer.in_size]
    return sized[0].dim_names()[0], sized[-1].dim_names()[1]


def label(net: Network[Any, Any]) -> str:
    """The network's layers as ``repr(net)`` shows them: ``3 (relu) → 4 (identity)``."""
    return " → ".join(
        layer.label() if isinstance(layer, Layer) else str(layer) for layer in net.layers
    )


def export(graph: "Graph", layers: Sequence[AnyLayer], x: str, where: str) -> str:
    """A chain of layers' ONNX nodes from input ``x``; a ValueError naming a layer that
    has no export."""
    for i, layer in enumerate(layers, 1):
        try:
            x = (
                graph.activation(layer, x)
                if isinstance(layer, Activation)
                else layer.to_onnx(graph, x)
            )
        except (ValueError, NotImplementedError) as e:
            raise ValueError(f"{where} layer {i}: {e}") from None
    return x


# --- saving ------------------------------------------------------------------------------


def spec(layers: Sequence[AnyLayer]) -> list[Json]:
    """A chain of layers as the file lists a network's."""
    return [cast(Json, layer_json(layer)) for layer in layers]


def metas(value: object, where: str) -> list[LayerMeta | Activation]:
    """A saved inner network's layers, checked as `load` checks a network's."""
    if where.count(" layer ") >= MAX_DEPTH:
        raise ValueError(f"{where}: blocks nested more than {MAX_DEPTH} deep")
    got = _json.brief(value)
    layers: list[object] = cast("list[object]", value) if isinstance(value, list) else []
    if not layers:
        raise ValueError(f"{where}: expected a non-empty list of layers, got {got}")
    return [layer_meta(v, f"{where} layer {i}") for i, v in enumerate(layers, 1)]


def shapes(prefix: str, saved: list[LayerMeta | Activation]) -> dict[str, tuple[int, int]]:
    """Each param's name (as `names` gives it) and shape, in order."""
    return {
        f"{prefix}.{i}.{name}": shape
        for i, meta in enumerate(saved, 1)
        if isinstance(meta, LayerMeta)
        for name, shape in meta.shapes.items()
    }


def from_metas(
    saved: list[LayerMeta | Activation],
    arrays: Iterator[Matrix],
    like: Network[Any, Any] | None,
) -> Network[Any, Any]:
    """The network rebuilt from checked metadata, taking its arrays from ``arrays``;
    ``like`` (of the same architecture: `load` compared the specs) lends its Dims."""
    layers: list[AnyLayer] = []
    for i, meta in enumerate(saved):
        if isinstance(meta, Activation):
            layers.append(meta)
            continue
        template = None if like is None else like.layers[i]
        own = tuple(next(arrays) for _ in meta.shapes)
        layers.append(meta.cls.from_spec(meta.spec, own, cast(Layer[Any, Any] | None, template)))
    inner: Network[Any, Any] = Network(tuple(layers))
    return inner


def summary(meta: LayerMeta | Activation) -> str:
    """One saved inner layer as `typednet.io.info` shows a layer."""
    if isinstance(meta, Activation):
        return f"activation {meta}"
    return f"{meta.cls.kind} {meta.cls.summarize(meta.spec)}"


def clip(text: str) -> str:
    """A summary for a message, at most 200 characters."""
    return text if len(text) <= 200 else f"{text[:197]}..."
