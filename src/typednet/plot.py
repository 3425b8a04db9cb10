"""Plots: training curves (`plot_history`) and the network diagram (`plot_network`).

Needs the optional extra ``plot`` (``pip install 'typednet[plot]'``). matplotlib is
imported only when a function here is called, so ``import typednet`` never needs it.
Figures are drawn with matplotlib's Agg canvas directly: no pyplot, no GUI backend and
no global figure registry, so nothing is left open between calls.
"""

# matplotlib's stubs leave many parameters (**kwargs) unannotated: its members are
# "partially unknown" to pyright's strict mode, whatever the call passes.
# pyright: reportUnknownMemberType=false

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._files import write_atomically
from .layers import Layer
from .network import Network
from .shapes import Matrix
from .train import History

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_history", "plot_network"]

_TRAIN, _VAL, _BEST = "tab:blue", "tab:orange", "tab:gray"
_POSITIVE, _NEGATIVE = "tab:blue", "tab:red"
_MIN_WIDTH, _MAX_WIDTH = 0.3, 3.5  # edge linewidths in points, for |w| = 0 and max |w|


def _figure(width: float, height: float) -> "Figure":
    """A new Figure on its own Agg canvas, or the ImportError that says what to install."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError("plotting needs matplotlib: pip install 'typednet[plot]'") from e
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _check_dir(path: str | os.PathLike[str] | None) -> None:
    if path is not None and not Path(path).parent.is_dir():
        raise FileNotFoundError(
            f"cannot save the plot to {os.fspath(path)}: "
            f"directory {Path(path).parent} does not exist; create it first"
        )


def _save(fig: "Figure", path: str | os.PathLike[str] | None, *, palette: bool = False) -> "Figure":
    """Write ``fig`` as a PNG; with ``palette``, in 256 colours, for a small file."""
    if path is None:
        return fig
    if not palette:
        write_atomically(path, lambda f: fig.savefig(f, format="png"))
        return fig
    from PIL import Image  # matplotlib's own dependency

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    image = Image.open(buffer).convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT)
    write_atomically(path, lambda f: image.save(f, format="png", optimize=True))
    return fig


# --- training curves ----------------------------------------------------------------------


def _check_history(history: History) -> None:
    epochs = history.epochs
    if epochs == 0:
        raise ValueError("plot_history: the history has no epochs; nothing to plot")
    for name in ("val_loss", "train_metric", "val_metric"):
        got = len(getattr(history, name))
        if got not in (0, epochs):
            raise ValueError(
                f"plot_history: {name} has {got} values but train_loss has {epochs}; "
                "expected one per epoch or none"
            )
    best = history.best_epoch
    if best is not None and not 1 <= best <= epochs:
        raise ValueError(f"plot_history: best_epoch {best} is not in 1..{epochs}")


def _curves(
    ax: "Axes", train: tuple[float, ...], val: tuple[float, ...], name: str, best: int | None
) -> None:
    """Train (and validation) values of ``name`` per epoch, marking the best epoch."""
    from matplotlib.ticker import MaxNLocator

    epochs = np.arange(1, len(train) + 1)
    ax.plot(epochs, train, color=_TRAIN, marker=".", label=f"train {name}")
    if val:
        ax.plot(epochs, val, color=_VAL, marker=".", label=f"validation {name}")
    if best is not None:
        ax.axvline(best, color=_BEST, linestyle="--", label=f"best epoch ({best})")
        kept = val or train
        ax.plot([best], [kept[best - 1]], color=_BEST, marker="*", markersize=12, linestyle="")
    values = train + val
    if min(values) > 0 and max(values) > 100 * min(values):
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(name)
    ax.set_title(name)
    ax.legend()


def plot_history(
    history: History[Any, Any], path: str | os.PathLike[str] | None = None
) -> "Figure":
    """Training curves of a `fit` run: the loss per epoch and, when recorded, the metric.

    The loss (train, and validation when present) is on the left axes, the metric on a
    second axes when the history has one; a dashed line and a star mark ``best_epoch``
    when early stopping kept one. A loss spanning more than a factor 100 uses a log
    scale.

    Args:
        history: the record returned by `fit`.
        path: where to save the figure as a PNG; its directory must exist.

    Returns:
        The matplotlib Figure (on an Agg canvas), to show, adjust or save again.

    Raises:
        ImportError: without matplotlib (``pip install 'typednet[plot]'``).
        FileNotFoundError: when the directory of ``path`` does not exist.
        ValueError: for an empty history, or series whose lengths do not match.

    Examples:
        >>> from typednet.train import History
        >>> fig = plot_history(History(train_loss=(0.9, 0.5, 0.4), val_loss=(1.0, 0.6, 0.7),
        ...                            best_epoch=2))
        >>> [ax.get_title() for ax in fig.axes]
        ['loss']
    """
    _check_dir(path)
    _check_history(history)
    has_metric = bool(history.train_metric or history.val_metric)
    fig = _figure(11.0 if has_metric else 6.0, 4.0)
    axes = fig.subplots(1, 2 if has_metric else 1, squeeze=False)[0]
    best = history.best_epoch
    _curves(axes[0], history.train_loss, history.val_loss, "loss", best)
    if has_metric:
        name = history.metric_name or "metric"
        _curves(axes[1], history.train_metric, history.val_metric, name, best)
    epochs = history.epochs
    fig.suptitle(f"training history, {epochs} epoch{'s' if epochs != 1 else ''}")
    return _save(fig, path)


# --- network diagram ----------------------------------------------------------------------


def _columns(
    net: Network[Any, Any],
) -> tuple[list[int], list[list[str]], list[Matrix | None]]:
    """Each column's size and label lines, and the weights between columns.

    The input is the first column; each layer with connections (a Dense layer's
    weights, see `Layer.connections`) adds one, and so does a layer that changes the
    size without them (a take, a block of branches): its column has no edges drawn
    into it (None). Any other layer (a LayerNorm, a dropout, a bare Activation, a
    residual block) adds no column: it is noted under the column whose values it
    transforms.
    """
    sized = (layer for layer in net.layers if isinstance(layer, Layer) and layer.in_size)
    first = next(sized).dim_names()[0]
    sizes = [net.in_size]
    labels = [["input", f"{first} {net.in_size}" if first else str(net.in_size)]]
    weights: list[Matrix | None] = []
    for layer in net.layers:
        if not isinstance(layer, Layer):
            labels[-1].append(f"+ {layer}")
            continue
        w = layer.connections()
        out = layer.out_size
        if w is None and (out is None or out == sizes[-1]):
            labels[-1].append(f"+ {layer.label()}")
            continue
        assert out is not None  # a layer with connections has a size
        name = layer.dim_names()[1]
        sizes.append(out)
        activation = layer.output_activation
        size = f"{name} {out}" if name else str(out)
        labels.append([f"hidden {len(sizes) - 1}", size, str(activation or layer.kind)])
        weights.append(w)
    if len(sizes) > 1:
        labels[-1][0] = "output"
    return sizes, labels, weights


def _shown(n: int, into: Matrix | None, out_of: Matrix | None, max_nodes: int) -> list[int]:
    """The units of a column of ``n`` drawn in full: all of them, or for a wide column the
    ``max_nodes`` with the largest sum of |w| over their edges in and out, in order."""
    if n <= max_nodes:
        return list(range(n))
    weight = np.zeros(n)
    if into is not None:  # (n, prev): row i holds the weights into unit i
        weight += np.abs(into).sum(axis=1)
    if out_of is not None:  # (next, n): column j holds the weights out of unit j
        weight += np.abs(out_of).sum(axis=0)
    return sorted(np.argsort(-weight, kind="stable")[:max_nodes].tolist())


def _bundle(w: Matrix, rows: list[int], cols: list[int]) -> tuple[float, float]:
    """The weights ``w[rows][:, cols]`` as one line: the sign of their sum, their mean |w|."""
    block = w[np.ix_(rows, cols)]
    return (-1.0 if block.sum() < 0 else 1.0), float(np.abs(block).mean())


def plot_network(
    net: Network[Any, Any], path: str | os.PathLike[str] | None = None, *, max_nodes: int = 12
) -> "Figure":
    """A diagram of the network, like the course's figures: nodes in columns, weighted edges.

    One column of nodes per layer value: the input, then each Dense layer's output (a
    LayerNorm or a bare Activation adds no column and is noted in the column's label).
    Each weight ``w[i, j]`` of a Dense layer (``w`` has shape (next, prev)) is an edge from
    node j of the previous column to node i of the next: blue for ``w >= 0``, red for
    ``w < 0``, and as thick as ``|w|`` (linewidth from 0.3 pt at ``|w| = 0`` up to 3.5 pt at
    the largest ``|w|`` of the whole network, linear in between). Node 0 is at the top.

    A column wider than ``max_nodes`` is summarised, so a real network stays readable:
    it draws the ``max_nodes`` units with the largest sum of ``|w|`` over their edges
    (each numbered by its index), then a ``+N more`` box for the others. The edges to
    and from the box are bundled by sign: one blue and one red line per node it meets,
    as thick as the mean ``|w|`` of the edges it stands for.

    Args:
        net: the network to draw.
        path: where to save the figure as a PNG; its directory must exist.
        max_nodes: the most units drawn in full per column.

    Returns:
        The matplotlib Figure (on an Agg canvas). Its nodes are the scatter collection
        with gid ``"nodes"``, its edges the LineCollection with gid ``"edges"`` and, for a
        summarised network, the bundles the LineCollection with gid ``"bundles"``.

    Raises:
        ImportError: without matplotlib (``pip install 'typednet[plot]'``).
        FileNotFoundError: when the directory of ``path`` does not exist.
        ValueError: when ``max_nodes`` is not a positive integer.

    Examples:
        >>> from typednet.apps.tutorial import build
        >>> fig = plot_network(build()[0])
        >>> edges, nodes = fig.axes[0].collections
        >>> len(edges.get_segments()), len(nodes.get_offsets())
        (50, 17)
    """
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"plot_network: max_nodes must be a positive integer, got {max_nodes!r}")
    _check_dir(path)
    sizes, labels, weights = _columns(net)
    into: list[Matrix | None] = [None, *weights]
    out_of: list[Matrix | None] = [*weights, None]
    shown = [_shown(n, into[k], out_of[k], max_nodes) for k, n in enumerate(sizes)]
    hidden = [sorted(set(range(n)) - set(s)) for n, s in zip(sizes, shown, strict=True)]
    slots = [len(s) + bool(h) for s, h in zip(shown, hidden, strict=True)]  # the box: a slot
    tall = max(slots)
    fig = _figure(max(6.0, 2.2 * len(sizes) + 1.0), max(3.5, 0.4 * tall + 2.5))
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    ax = fig.add_subplot()  # an Axes under every matplotlib>=3.9 stub (subplots(): a union)
    # Slot i of column k sits at (k, (slots - 1) / 2 - i): columns centred, node 0 on top;
    # a summarised column's box takes its last slot.
    ys = [(n - 1) / 2 - np.arange(n) for n in slots]
    node_y = [dict(zip(s, y.tolist(), strict=False)) for s, y in zip(shown, ys, strict=True)]
    box_y = [float(y[-1]) for y in ys]

    largest = max((float(np.abs(w).max()) for w in weights if w is not None), default=0.0)
    scale = largest or 1.0

    def width(magnitude: float) -> float:
        return _MIN_WIDTH + (_MAX_WIDTH - _MIN_WIDTH) * magnitude / scale

    def colour(sign: float) -> str:
        return _NEGATIVE if sign < 0 else _POSITIVE

    segments: list[list[tuple[float, float]]] = []
    colours: list[str] = []
    widths: list[float] = []
    bundled: list[tuple[list[tuple[float, float]], float, float]] = []
    for k, w in enumerate(weights):
        if w is None:  # a layer without connections (a take): no edges
            continue
        for i in shown[k + 1]:
            for j in shown[k]:
                segments.append([(k, node_y[k][j]), (k + 1, node_y[k + 1][i])])
                colours.append(colour(w[i, j]))
                widths.append(width(abs(w[i, j])))
        # The boxes' edges, one line per node they meet: (prev units, y, next units, y).
        ends: list[tuple[list[int], float, list[int], float]] = []
        if hidden[k]:
            ends += [(hidden[k], box_y[k], [i], node_y[k + 1][i]) for i in shown[k + 1]]
        if hidden[k + 1]:
            ends += [([j], node_y[k][j], hidden[k + 1], box_y[k + 1]) for j in shown[k]]
        if hidden[k] and hidden[k + 1]:
            ends.append((hidden[k], box_y[k], hidden[k + 1], box_y[k + 1]))
        for cols, y0, rows, y1 in ends:
            sign, mean = _bundle(w, rows, cols)
            bundled.append(([(k, y0), (k + 1, y1)], sign, mean))
    if bundled:  # a summarised drawing: weak edges fade, so the strong ones stand out
        from matplotlib.colors import to_rgba

        edges = LineCollection(
            segments,
            colors=[
                to_rgba(c, 0.12 + 0.8 * (w - _MIN_WIDTH) / (_MAX_WIDTH - _MIN_WIDTH))
                for c, w in zip(colours, widths, strict=True)
            ],
            linewidths=widths,
            zorder=1,
        )
    else:
        edges = LineCollection(segments, colors=colours, linewidths=widths, alpha=0.75, zorder=1)
    edges.set_gid("edges")
    ax.add_collection(edges)
    if bundled:
        bundles = LineCollection(
            [line for line, _, _ in bundled],
            colors=[colour(sign) for _, sign, _ in bundled],
            linewidths=[width(mean) for _, _, mean in bundled],
            alpha=0.35,
            zorder=1,
        )
        bundles.set_gid("bundles")
        ax.add_collection(bundles)

    xs = np.concatenate([np.full(len(s), k) for k, s in enumerate(shown)])
    node_ys = np.concatenate([[node_y[k][i] for i in s] for k, s in enumerate(shown)])
    nodes = ax.scatter(xs, node_ys, s=260, c="white", edgecolors="black", zorder=2)
    nodes.set_gid("nodes")
    for k, (s, h) in enumerate(zip(shown, hidden, strict=True)):
        if not h:
            continue
        for i in s:  # which units these are
            ax.text(k, node_y[k][i], str(i), ha="center", va="center", fontsize=6, zorder=3)
        ax.text(
            k,
            box_y[k],
            f"+{len(h)} more",
            ha="center",
            va="center",
            zorder=3,
            bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "gray"},
        )

    ax.set_xlim(-0.5, len(sizes) - 0.5)
    ax.set_ylim(-(tall - 1) / 2 - 0.7, (tall - 1) / 2 + 0.7)
    ax.set_xticks(range(len(sizes)), ["\n".join(lines) for lines in labels])
    ax.set_yticks([])
    ax.tick_params(axis="x", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    handles = [
        Line2D([], [], color=_POSITIVE, linewidth=2.5, label="w ≥ 0"),
        Line2D([], [], color=_NEGATIVE, linewidth=2.5, label="w < 0"),
    ]
    title = f"edge colour: sign of w; width grows with |w| (thickest: |w| = {largest:.3g})"
    if bundled:
        title += (
            f"\ndrawn: the {max_nodes} units per column with the largest total |w|, numbered;"
            " '+N more': the others,\na line to it stands for all their edges with one node"
            " (colour: sign of their sum; width: their mean |w|)"
        )
    fig.legend(handles=handles, loc="outside lower center", ncols=2, title=title)
    fig.suptitle(repr(net))
    return _save(fig, path, palette=bool(bundled))
