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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._files import write_atomically
from .activations import Activation
from .layers import Layer
from .network import Network
from .shapes import Matrix
from .train import History

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.path import Path as BezierPath

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

_GAP = 1.0  # between stacked branches, in node spacings


@dataclass(eq=False)
class _Column:
    """A column of nodes: one value of the network (its input, a Dense layer's output,
    the join of branches, a slice), centred at height ``y`` in column ``x``."""

    size: int
    labels: list[str]
    x: float
    y: float
    slots: int  # nodes drawn, plus a "+N more" box for the others

    @property
    def top(self) -> float:
        return self.y + (self.slots - 1) / 2


@dataclass(eq=False)
class _Edges:
    """A layer's weights between two columns: ``w`` (next, prev), or None (no edges)."""

    src: _Column
    dst: _Column
    w: Matrix | None


@dataclass(eq=False)
class _Map:
    """Values carried over unchanged: unit ``i`` of ``src`` is unit ``j`` of ``dst``."""

    src: _Column
    dst: _Column
    pairs: list[tuple[int, int]]


@dataclass(eq=False)
class _Skip:
    """A residual's skip: ``src`` (or its projection, ``text``) added at ``dst``, in an
    arc over the block's own columns, ``inside``."""

    src: _Column
    dst: _Column
    text: str
    inside: list[_Column]
    nested: list["_Skip"]  # the block's own skips, which this arc passes over

    @property
    def apex(self) -> float:
        """The arc's highest point: above every column and arc it spans."""
        tops = [c.top + 0.8 for c in (self.src, self.dst, *self.inside)]
        return max(tops + [skip.apex + 0.7 for skip in self.nested])


class _Diagram:
    """The network laid out as columns of nodes, walking the tree of blocks through
    `Layer.routing`: a chain goes left to right; a residual's block is drawn in line
    with an arc for its skip; branches are stacked one above the other, then joined
    into one column; a take keeps some rows of the column before it."""

    def __init__(self, net: Network[Any, Any], max_nodes: int) -> None:
        self.max_nodes = max_nodes
        self.columns: list[_Column] = []
        self.edges: list[_Edges] = []
        self.maps: list[_Map] = []
        self.skips: list[_Skip] = []
        sized = (layer for layer in net.layers if isinstance(layer, Layer) and layer.in_size)
        name = next(sized).dim_names()[0]
        self.input = self.column(net.in_size, ["input", _sized(name, net.in_size)], 0, 0.0)
        self.output = self.chain(net.layers, self.input, 0.0)
        if self.output is not self.input:
            first = self.output.labels[0]
            self.output.labels[0] = "output" if first.startswith("hidden") else f"output ({first})"

    def column(self, size: int, labels: list[str], x: float, y: float) -> _Column:
        slots = size if size <= self.max_nodes else self.max_nodes + 1
        column = _Column(size, labels, x, y, slots)
        self.columns.append(column)
        return column

    def hidden(self, layer: Layer[Any, Any], src: _Column, y: float, *labels: str) -> _Column:
        """A new column for ``layer``'s output, after ``src``."""
        out = layer.out_size
        assert out is not None  # a layer that makes a column has a size
        count = sum(label[0].startswith("hidden") for label in (c.labels for c in self.columns))
        size = _sized(layer.dim_names()[1], out)
        return self.column(out, [f"hidden {count + 1}", size, *labels], src.x + 1, y)

    def chain(
        self, layers: Sequence[Layer[Any, Any] | Activation], col: _Column, y: float
    ) -> _Column:
        """Lay out ``layers`` from ``col`` in the band at height ``y``; the last column."""
        for layer in layers:
            if not isinstance(layer, Layer):
                col.labels.append(f"+ {layer}")
                continue
            routing = layer.routing()
            if routing is not None and routing.rows is not None:
                start, stop = routing.rows
                size = _sized(layer.dim_names()[1], stop - start)
                new = self.column(
                    stop - start, ["take", size, f"rows {start}:{stop}"], col.x + 1, y
                )
                self.maps.append(_Map(col, new, [(start + i, i) for i in range(stop - start)]))
                col = new
            elif routing is not None and routing.join == "add":
                col = self.residual(layer, routing.chains, col, y)
            elif routing is not None:
                col = self.branches(layer, routing.chains, col, y, routing.inputs)
            else:
                w = layer.connections()
                out = layer.out_size
                if w is None and (out is None or out == col.size):
                    col.labels.append(f"+ {layer.label()}")
                    continue
                new = self.hidden(layer, col, y, str(layer.output_activation or layer.kind))
                self.edges.append(_Edges(col, new, w))
                col = new
        return col

    def residual(
        self,
        layer: Layer[Any, Any],
        chains: tuple[tuple[Layer[Any, Any] | Activation, ...], ...],
        col: _Column,
        y: float,
    ) -> _Column:
        """The block in line, then an arc from its input to its output per added path."""
        block, *added = chains
        first, skips = len(self.columns), len(self.skips)
        out = self.inner(block, col, y)
        if out is col:  # nothing in the block makes a column: note it
            col.labels.append(f"+ {layer.label()}")
            return col
        inside, nested = self.columns[first:], self.skips[skips:]
        for path in added:
            text = "shortcut " + " → ".join(_label(item) for item in path) if path else "x"
            self.skips.append(_Skip(col, out, f"+ {text}", inside, nested))
        out.labels.append("+ skip (residual)")
        return out

    def branches(
        self,
        layer: Layer[Any, Any],
        chains: tuple[tuple[Layer[Any, Any] | Activation, ...], ...],
        col: _Column,
        y: float,
        inputs: tuple[str, ...] = (),
    ) -> _Column:
        """Each chain in a band of its own, stacked from the top, then one join column.
        Chains over the network's named ``inputs`` each start from an input column of
        their own, which stands in for ``col``."""
        outs: list[_Column] = []
        bands: list[tuple[int, int, int, int]] = []  # the columns and skips of each
        for b, chain in enumerate(chains, 1):
            first, skips = len(self.columns), len(self.skips)
            if inputs:
                start = self.named_input(chain, inputs[b - 1], col)
                outs.append(self.inner(chain, start, y, inputs[b - 1]))
            else:
                outs.append(self.inner(chain, col, y, f"branch {b}"))
            bands.append((first, len(self.columns), skips, len(self.skips)))
        extents = [self.extent(*band) for band in bands]
        heights = [top - bottom for top, bottom in extents if top >= bottom]
        cursor = y + (sum(heights) + _GAP * (len(heights) - 1)) / 2
        for (a, b, _, _), (top, bottom) in zip(bands, extents, strict=True):
            if top < bottom:  # a branch that adds no column
                continue
            for column in self.columns[a:b]:
                column.y += cursor - top
            cursor -= top - bottom + _GAP
        out = layer.out_size
        assert out is not None  # branches have a size
        x = max(o.x for o in outs) + 1
        join = self.column(out, ["concat", _sized(layer.dim_names()[1], out)], x, y)
        offset = 0
        for o in outs:
            self.maps.append(_Map(o, join, [(i, offset + i) for i in range(o.size)]))
            offset += o.size
        if inputs:  # the named inputs' columns stand in for the network's one input
            self.columns.remove(col)
        return join

    def named_input(
        self, chain: Sequence[Layer[Any, Any] | Activation], name: str, col: _Column
    ) -> _Column:
        """The input column of the branch ``chain`` over the input ``name``, in ``col``'s
        place: ``input 'colour'``, then its size (ids count one)."""
        first = next(layer for layer in chain if isinstance(layer, Layer) and layer.in_size)
        size = first.in_size
        assert size is not None  # the filter above
        labels = [f"input {name!r}", _sized(first.dim_names()[0], size)]
        return self.column(size, labels, col.x, col.y)

    def inner(
        self,
        chain: Sequence[Layer[Any, Any] | Activation],
        col: _Column,
        y: float,
        name: str | None = None,
    ) -> _Column:
        """A block's inner chain from ``col``. What it does to the values before its
        first column is its own, not ``col``'s: noted on that column (``first``), or
        for a ``name``d branch that makes no column, on a column of its own."""
        before, first = len(col.labels), len(self.columns)
        out = self.chain(chain, col, y)
        notes = col.labels[before:]
        del col.labels[before:]
        if out is col and name is not None:
            out = self.column(col.size, [name, _sized(None, col.size), *notes], col.x + 1, y)
            self.maps.append(_Map(col, out, [(i, i) for i in range(col.size)]))
        elif out is not col:
            self.columns[first].labels += [f"{note} first" for note in notes]
        return out

    def extent(self, a: int, b: int, s: int, t: int) -> tuple[float, float]:
        """The top and bottom of columns ``a:b`` with their labels and skips ``s:t``
        (bottom above top when there are none)."""
        columns = self.columns[a:b]
        if not columns:
            return -np.inf, np.inf
        top = max(c.top + _arc_room(self.skips[s:t], c) for c in columns)
        bottom = min(c.y - (c.slots - 1) / 2 - _label_room(c) for c in columns)
        return top, bottom


def _sized(name: str | None, size: int) -> str:
    return f"{name} {size}" if name else str(size)


def _label(item: Layer[Any, Any] | Activation) -> str:
    return item.label() if isinstance(item, Layer) else str(item)


def _label_room(column: _Column) -> float:
    """Below a column in a stacked drawing: its label's lines."""
    return 0.5 + 0.32 * len(column.labels)


def _arc_room(skips: Sequence[_Skip], column: _Column) -> float:
    """Above a column: the highest skip arc that passes over it, and its text."""
    return max(
        (
            skip.apex + 0.6 - column.top
            for skip in skips
            if column in (skip.src, skip.dst, *skip.inside)
        ),
        default=0.0,
    )


def _arc(skip: _Skip) -> "BezierPath":
    """A skip's arc: a cubic Bézier from above ``src`` to above ``dst`` whose highest
    point is ``skip.apex`` (the control points sit 4/3 as high as the curve reaches)."""
    from matplotlib.path import Path as BezierPath

    (x0, y0), (x1, y1) = (skip.src.x, skip.src.top + 0.4), (skip.dst.x, skip.dst.top + 0.4)
    lift = skip.apex + (skip.apex - (y0 + y1) / 2) / 3
    return BezierPath(
        [(x0, y0), (x0 + 0.1 * (x1 - x0), lift), (x1 - 0.1 * (x1 - x0), lift), (x1, y1)],
        [BezierPath.MOVETO, BezierPath.CURVE4, BezierPath.CURVE4, BezierPath.CURVE4],
    )


def _shown(n: int, into: list[Matrix], out_of: list[Matrix], max_nodes: int) -> list[int]:
    """The units of a column of ``n`` drawn in full: all of them, or for a wide column the
    ``max_nodes`` with the largest sum of |w| over their edges in and out, in order."""
    if n <= max_nodes:
        return list(range(n))
    weight = np.zeros(n)
    for w in into:  # (n, prev): row i holds the weights into unit i
        weight += np.abs(w).sum(axis=1)
    for w in out_of:  # (next, n): column j holds the weights out of unit j
        weight += np.abs(w).sum(axis=0)
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

    Blocks are drawn as what they compute. A residual block's layers stand in line, with
    an arc from the block's input to its output for what is added there (``+ x``, or the
    shortcut's projection). Parallel branches are stacked one above the other, each
    from the same input column, then joined into one ``concat`` column: dashed grey
    lines carry each branch's units to their rows. A network over named inputs
    (`typednet.inputs`) is drawn the same way, each branch from an input column of its
    own, named by its input (``input 'colour'``). A take is a column of the rows it
    keeps, joined to them by dashed lines. With branches, each column's label is written
    under it.

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
        with gid ``"nodes"``, its edges the LineCollection with gid ``"edges"``, for a
        summarised network the bundles the LineCollection with gid ``"bundles"``, the
        lines of takes and joins the LineCollection with gid ``"maps"``, and each skip
        an arrow patch with gid ``"skip"``.

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
    diagram = _Diagram(net, max_nodes)
    columns, weighted = diagram.columns, [e for e in diagram.edges if e.w is not None]
    shown = {
        id(c): _shown(
            c.size,
            [e.w for e in weighted if e.dst is c and e.w is not None],
            [e.w for e in weighted if e.src is c and e.w is not None],
            max_nodes,
        )
        for c in columns
    }
    hidden = {id(c): sorted(set(range(c.size)) - set(shown[id(c)])) for c in columns}
    # In a chain (every column in line, one per x) the labels are the x tick labels, as
    # in the course's figures; with branches each is written under its column.
    in_line = all(c.y == 0 for c in columns) and len({c.x for c in columns}) == len(columns)
    top = max(c.top + _arc_room(diagram.skips, c) for c in columns) + 0.7
    bottom = (
        min(c.y - (c.slots - 1) / 2 - (0 if in_line else _label_room(c)) for c in columns) - 0.7
    )
    width = max(c.x for c in columns) + 1
    fig = _figure(max(6.0, 2.2 * width + 1.0), max(3.5, 0.4 * (top - bottom - 1.4) + 2.9))
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch

    ax = fig.add_subplot()  # an Axes under every matplotlib>=3.9 stub (subplots(): a union)
    # Slot i of a column sits at (x, top - i), node 0 on top; a summarised column's box
    # takes its last slot.
    node_y = {id(c): {unit: c.top - i for i, unit in enumerate(shown[id(c)])} for c in columns}
    box_y = {id(c): c.top - (c.slots - 1) for c in columns}

    largest = max((float(np.abs(e.w).max()) for e in weighted if e.w is not None), default=0.0)
    scale = largest or 1.0

    def linewidth(magnitude: float) -> float:
        return _MIN_WIDTH + (_MAX_WIDTH - _MIN_WIDTH) * magnitude / scale

    def colour(sign: float) -> str:
        return _NEGATIVE if sign < 0 else _POSITIVE

    segments: list[list[tuple[float, float]]] = []
    colours: list[str] = []
    widths: list[float] = []
    bundled: list[tuple[list[tuple[float, float]], float, float]] = []
    for e in weighted:
        w, src, dst = e.w, e.src, e.dst
        assert w is not None
        ys, yd = node_y[id(src)], node_y[id(dst)]
        for i in shown[id(dst)]:
            for j in shown[id(src)]:
                segments.append([(src.x, ys[j]), (dst.x, yd[i])])
                colours.append(colour(w[i, j]))
                widths.append(linewidth(abs(w[i, j])))
        # The boxes' edges, one line per node they meet: (prev units, y, next units, y).
        hs, hd = hidden[id(src)], hidden[id(dst)]
        ends: list[tuple[list[int], float, list[int], float]] = []
        if hs:
            ends += [(hs, box_y[id(src)], [i], yd[i]) for i in shown[id(dst)]]
        if hd:
            ends += [([j], ys[j], hd, box_y[id(dst)]) for j in shown[id(src)]]
        if hs and hd:
            ends.append((hs, box_y[id(src)], hd, box_y[id(dst)]))
        for cols, y0, rows, y1 in ends:
            sign, mean = _bundle(w, rows, cols)
            bundled.append(([(src.x, y0), (dst.x, y1)], sign, mean))
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
            linewidths=[linewidth(mean) for _, _, mean in bundled],
            alpha=0.35,
            zorder=1,
        )
        bundles.set_gid("bundles")
        ax.add_collection(bundles)
    if diagram.maps:
        lines: list[list[tuple[float, float]]] = []
        for m in diagram.maps:
            ys, yd = node_y[id(m.src)], node_y[id(m.dst)]
            lines += [
                [(m.src.x, ys[i]), (m.dst.x, yd[j])] for i, j in m.pairs if i in ys and j in yd
            ]
            if any(i not in ys and j not in yd for i, j in m.pairs):  # box to box
                lines.append([(m.src.x, box_y[id(m.src)]), (m.dst.x, box_y[id(m.dst)])])
        maps = LineCollection(lines, colors="gray", linewidths=1.0, linestyles="--", zorder=1)
        maps.set_gid("maps")
        ax.add_collection(maps)
    for skip in diagram.skips:
        arc = FancyArrowPatch(
            path=_arc(skip),
            arrowstyle="-|>",
            mutation_scale=12,
            color="dimgray",
            linewidth=1.5,
            zorder=2,
        )
        arc.set_gid("skip")
        ax.add_patch(arc)
        middle = (skip.src.x + skip.dst.x) / 2
        ax.text(middle, skip.apex + 0.1, skip.text, ha="center", va="bottom", fontsize=8)

    xs = [c.x for c in columns for _ in shown[id(c)]]
    ys_all = [node_y[id(c)][i] for c in columns for i in shown[id(c)]]
    nodes = ax.scatter(xs, ys_all, s=260, c="white", edgecolors="black", zorder=3)
    nodes.set_gid("nodes")
    for c in columns:
        if not hidden[id(c)]:
            continue
        for i in shown[id(c)]:  # which units these are
            ax.text(c.x, node_y[id(c)][i], str(i), ha="center", va="center", fontsize=6, zorder=4)
        ax.text(
            c.x,
            box_y[id(c)],
            f"+{len(hidden[id(c)])} more",
            ha="center",
            va="center",
            zorder=4,
            bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "gray"},
        )

    ax.set_xlim(-0.5, width - 0.5)
    ax.set_ylim(bottom, top)
    if in_line:
        ordered = sorted(columns, key=lambda c: c.x)
        ax.set_xticks([c.x for c in ordered], ["\n".join(c.labels) for c in ordered])
    else:
        ax.set_xticks([])
        for c in columns:
            ax.text(
                c.x,
                c.y - (c.slots - 1) / 2 - 0.45,
                "\n".join(c.labels),
                ha="center",
                va="top",
                fontsize=7,
                gid="label",
            )
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
