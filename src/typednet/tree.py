"""`summary(net)`: the tree of layers and blocks, with shapes and parameter counts.

Like Keras' ``model.summary()``, in typednet's terms: each row is a layer (a block's
inner layers indented under it, named by where they sit), its output and input sizes
as (next, prev) with their Dim names, and how many numbers its params hold.
"""

from typing import Any

from .activations import Activation
from .layers import Layer
from .network import Network

__all__ = ["summary"]


def summary(net: Network[Any, Any]) -> str:
    """A table of ``net``'s layers, blocks opened: name, kind, (next, prev), params.

    A layer that takes any size (an activation, a dropout) shows ``-`` for its shape.

    Args:
        net: the network; it is not changed.

    Raises:
        TypeError: ``net`` is not a Network.

    Examples:
        >>> import numpy as np
        >>> import typednet as tn
        >>> rng = np.random.default_rng(0)
        >>> block = tn.network(tn.dense(rng, 4, 8, tn.relu)).then(tn.dense(rng, 8, 4, tn.identity))
        >>> print(tn.summary(tn.network(tn.residual(block)).then(tn.dense(rng, 4, 1, tn.sigmoid))))
        layer      kind              (next, prev)  params
        1          residual          (4, 4)            76
          block.1  dense (relu)      (8, 4)            40
          block.2  dense (identity)  (4, 8)            36
        2          dense (sigmoid)   (1, 4)             5
        Network 4 → 1, 81 params
    """
    if not isinstance(net, Network):
        raise TypeError(f"summary: expected a typednet Network, got {type(net).__name__}")
    rows: list[tuple[str, str, str, str]] = [("layer", "kind", "(next, prev)", "params")]
    for i, layer in enumerate(net.layers, 1):
        _rows(str(i), layer, 0, rows)
    widths = [max(len(row[k]) for row in rows) for k in range(4)]
    lines = [
        f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:<{widths[2]}}  {d:>{widths[3]}}"
        for a, b, c, d in rows
    ]
    return "\n".join([*lines, f"Network {net.in_size} → {net.out_size}, {net.param_count} params"])


def _rows(
    name: str,
    layer: Layer[Any, Any] | Activation,
    depth: int,
    rows: list[tuple[str, str, str, str]],
) -> None:
    """The row of ``layer`` and, indented, those of the layers it holds."""
    indent = "  " * depth
    if isinstance(layer, Activation):
        rows.append((indent + name, str(layer), "-", "0"))
        return
    activation = layer.output_activation
    kind = layer.kind if activation is None else f"{layer.kind} ({activation})"
    if layer.in_size is None:
        shape = "-"
    else:
        prev, nxt = layer.dim_names()
        sizes = (
            f"{n} {s}" if n else str(s) for n, s in ((nxt, layer.out_size), (prev, layer.in_size))
        )
        shape = f"({', '.join(sizes)})"
    rows.append((indent + name, kind, shape, str(sum(p.size for p in layer.params))))
    for inner_name, inner in layer.inner():
        _rows(inner_name, inner, depth + 1, rows)
