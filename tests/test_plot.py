import subprocess
import sys
from pathlib import Path
from typing import TypedDict

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.image import imread
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

import typednet as tn
from typednet.apps.tutorial import build
from typednet.plot import plot_history, plot_network
from typednet.train import History

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _read_png(path: Path, fig: Figure) -> np.ndarray:
    """Check that ``path`` is a PNG of the figure's size that is not blank; return its pixels."""
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = imread(path)
    width, height = fig.get_size_inches() * fig.dpi
    # Within a pixel: matplotlib 3.9 rounds a fractional size down, newer ones to nearest.
    assert abs(image.shape[0] - height) < 1 and abs(image.shape[1] - width) < 1
    assert image.shape[2] == 4
    assert 300 <= image.shape[0] <= 2000 and 300 <= image.shape[1] <= 2000
    rgb = image[..., :3].reshape(-1, 3)
    assert len(np.unique(rgb, axis=0)) > 50
    not_white = (rgb < 0.95).any(axis=1).mean()
    assert 0.02 < not_white < 0.6
    return image


def _parts(fig: Figure) -> tuple[LineCollection, PathCollection]:
    (ax,) = fig.axes
    by_gid = {c.get_gid(): c for c in ax.collections}
    edges, nodes = by_gid["edges"], by_gid["nodes"]
    assert isinstance(edges, LineCollection) and isinstance(nodes, PathCollection)
    return edges, nodes


def _columns(nodes: PathCollection) -> list[list[tuple[float, float]]]:
    """Node centres grouped by column (left to right), each column top to bottom."""
    centres = [(float(x), float(y)) for x, y in np.asarray(nodes.get_offsets(), dtype=float)]
    xs = sorted({x for x, _ in centres})
    return [sorted((c for c in centres if c[0] == x), key=lambda c: -c[1]) for x in xs]


def _edge_index(fig: Figure) -> dict[tuple[int, int, int], int]:
    """Map (layer k, next node i, prev node j) to the edge's index, from the drawn geometry."""
    edges, nodes = _parts(fig)
    columns = _columns(nodes)
    where = {c: (k, n) for k, column in enumerate(columns) for n, c in enumerate(column)}
    index = {}
    for e, segment in enumerate(edges.get_segments()):
        (k, j), (k_next, i) = sorted(where[(float(x), float(y))] for x, y in segment.tolist())
        assert k_next == k + 1
        assert (k, i, j) not in index
        index[(k, i, j)] = e
    return index


def _legend_colours(fig: Figure) -> dict[str, tuple[float, float, float]]:
    (legend,) = fig.legends
    colours = {}
    for text, handle in zip(legend.get_texts(), legend.legend_handles, strict=True):
        assert isinstance(handle, Line2D)
        colours[text.get_text()] = to_rgb(handle.get_color())
    return colours


def _labels(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.axes[0].get_xticklabels()]


# --- plot_network -------------------------------------------------------------------------


def test_network_png_is_a_legible_image(tmp_path: Path) -> None:
    path = tmp_path / "net.png"
    fig = plot_network(build()[0], path)
    image = _read_png(path, fig)
    # Every tutorial weight is positive (uniform in [0, 1)): blue edges, nothing red.
    assert _legend_colours(fig)["w ≥ 0"] == to_rgb("tab:blue")
    red, blue = image[..., 0], image[..., 2]
    assert (blue > red + 0.2).mean() > 0.01
    assert (red > blue + 0.2).mean() < 0.001


def test_tutorial_network_nodes_and_edges() -> None:
    net = build()[0]
    fig = plot_network(net)
    edges, nodes = _parts(fig)
    assert [len(column) for column in _columns(nodes)] == [5, 3, 5, 4]
    assert np.shape(nodes.get_offsets()) == (17, 2)
    assert len(edges.get_segments()) == 50
    index = _edge_index(fig)
    # One edge per weight w[i, j] of each layer: 3*5 + 5*3 + 4*5.
    shapes = [(3, 5), (5, 3), (4, 5)]
    expected = {(k, i, j) for k, (n, p) in enumerate(shapes) for i in range(n) for j in range(p)}
    assert set(index) == expected
    labels = _labels(fig)
    assert labels == [
        "input\nFeatures 5",
        "hidden 1\nHidden1 3\nleaky_relu 0.1",
        "hidden 2\nHidden2 5\nsigmoid",
        "output\nOutput 4\nsigmoid",
    ]
    assert fig.texts[0].get_text() == repr(net)


def test_edge_colour_follows_sign_and_width_follows_magnitude() -> None:
    w1 = np.array([[1.0, -2.0, 0.5], [-0.25, 3.0, -1.0]])  # (next, prev) = (2, 3)
    w2 = np.array([[-2.0, 0.1]])  # (1, 2): |w| = 2 appears in both layers
    net = tn.network(tn.Dense(w=w1, b=np.zeros((2, 1)), activation=tn.relu)).then(
        tn.Dense(w=w2, b=np.zeros((1, 1)), activation=tn.identity)
    )
    fig = plot_network(net)
    edges, _ = _parts(fig)
    index = _edge_index(fig)
    colour = _legend_colours(fig)
    assert colour["w ≥ 0"] != colour["w < 0"]
    drawn = [to_rgb((r, g, b)) for r, g, b in np.asarray(edges.get_colors())[:, :3].tolist()]
    widths = np.asarray(edges.get_linewidth(), dtype=float).tolist()
    magnitude = {}
    for k, w in enumerate([w1, w2]):
        for (i, j), value in np.ndenumerate(w):
            e = index[(k, i, j)]
            assert drawn[e] == colour["w ≥ 0" if value >= 0 else "w < 0"]
            magnitude[e] = abs(value)
    # Widths grow with |w| over the whole network, across layers: equal |w|, equal width
    # (|w| = 2 in both layers, |w| = 1 twice in the first); a larger |w|, a thicker edge.
    for a in magnitude:
        for b in magnitude:
            if magnitude[a] == magnitude[b]:
                assert widths[a] == widths[b]
            elif magnitude[a] < magnitude[b]:
                assert widths[a] < widths[b]
    assert widths[index[(0, 0, 1)]] == widths[index[(1, 0, 0)]] < widths[index[(0, 1, 1)]]


def test_layer_norm_and_activation_add_no_column() -> None:
    rng = np.random.default_rng(0)
    net = (
        tn.network(tn.dense(rng, 3, 4, tn.relu))
        .then(tn.layer_norm(4))
        .then(tn.tanh)
        .then(tn.dense(rng, 4, 2, tn.sigmoid))
    )
    fig = plot_network(net)
    edges, nodes = _parts(fig)
    assert [len(column) for column in _columns(nodes)] == [3, 4, 2]
    assert len(edges.get_segments()) == 3 * 4 + 4 * 2
    assert _labels(fig) == [
        "input\n3",
        "hidden 1\n4\nrelu\n+ layer_norm\n+ tanh",
        "output\n2\nsigmoid",
    ]
    first = plot_network(tn.network(tn.layer_norm(3)).then(tn.dense(rng, 3, 2, tn.relu)))
    assert _labels(first) == ["input\n3\n+ layer_norm", "output\n2\nrelu"]


def _bundles(fig: Figure) -> LineCollection:
    (bundles,) = [c for c in fig.axes[0].collections if c.get_gid() == "bundles"]
    assert isinstance(bundles, LineCollection)
    return bundles


def test_wide_layers_are_summarised_with_the_strongest_units(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    w1, w2 = rng.normal(size=(4, 7)), rng.normal(size=(2, 4))
    net = tn.network(tn.Dense(w=w1, b=np.zeros((4, 1)), activation=tn.relu)).then(
        tn.Dense(w=w2, b=np.zeros((2, 1)), activation=tn.identity)
    )
    fig = plot_network(net, tmp_path / "wide.png", max_nodes=3)
    _, nodes = _parts(fig)
    columns = _columns(nodes)
    assert [len(column) for column in columns] == [3, 3, 2]
    # By hand: the 3 units with the largest sum of |w| in and out, in index order.
    strength_in = np.abs(w1).sum(axis=0)
    strength_hidden = np.abs(w1).sum(axis=1) + np.abs(w2).sum(axis=0)
    shown_in = sorted(np.argsort(strength_in)[-3:].tolist())
    shown_hidden = sorted(np.argsort(strength_hidden)[-3:].tolist())
    assert set(_edge_index(fig)) == {(0, i, j) for i in range(3) for j in range(3)} | {
        (1, i, j) for i in range(2) for j in range(3)
    }
    texts = {(round(t.get_position()[0]), t.get_text()) for t in fig.axes[0].texts}
    numbers = {(0, str(i)) for i in shown_in} | {(1, str(i)) for i in shown_hidden}
    assert texts == numbers | {(0, "+4 more"), (1, "+1 more")}
    # Each drawn edge is its weight: edge (k, a, b) joins the a-th and b-th drawn units.
    widths = np.asarray(_parts(fig)[0].get_linewidth(), dtype=float)
    scale = max(np.abs(w1).max(), np.abs(w2).max())
    index = _edge_index(fig)
    for a, i in enumerate(shown_hidden):
        for b, j in enumerate(shown_in):
            assert widths[index[(0, a, b)]] == pytest.approx(0.3 + 3.2 * abs(w1[i, j]) / scale)
    # Bundles: the input box to 3 hidden nodes, 3 input nodes to the hidden box, box to
    # box, and the hidden box to the 2 outputs.
    bundles = _bundles(fig)
    assert len(bundles.get_segments()) == 3 + 3 + 1 + 2
    hidden_in = sorted(set(range(7)) - set(shown_in))
    (hidden_hidden,) = sorted(set(range(4)) - set(shown_hidden))
    block = w1[hidden_hidden, hidden_in]  # box to box
    boxes = [s for s in bundles.get_segments() if s[0][0] == 0 and s[1][0] == 1]
    box_to_box = min(boxes, key=lambda s: s[0][1] + s[1][1])  # both at the bottom slot
    e = [np.array_equal(s, box_to_box) for s in bundles.get_segments()].index(True)
    colour = _legend_colours(fig)["w ≥ 0" if block.sum() >= 0 else "w < 0"]
    assert to_rgb(tuple(np.asarray(bundles.get_colors())[e, :3].tolist())) == colour
    mean = np.abs(block).mean()
    assert np.asarray(bundles.get_linewidth())[e] == pytest.approx(0.3 + 3.2 * mean / scale)
    _read_png(tmp_path / "wide.png", fig)


def test_the_wine_network_is_readable_and_small(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    net = tn.Network(
        (
            tn.dense(rng, 11, 64, tn.relu),
            tn.dense(rng, 64, 32, tn.relu),
            tn.dense(rng, 32, 1, tn.identity),
        )
    )
    path = tmp_path / "wine.png"
    fig = plot_network(net, path)
    edges, nodes = _parts(fig)
    assert [len(column) for column in _columns(nodes)] == [11, 12, 12, 1]
    assert len(edges.get_segments()) == 11 * 12 + 12 * 12 + 12
    assert len(_bundles(fig).get_segments()) == 11 + (12 + 12 + 1) + 1
    assert sorted(t.get_text() for t in fig.axes[0].texts if "more" in t.get_text()) == [
        "+20 more",
        "+52 more",
    ]
    assert path.stat().st_size < 300_000
    image = _read_png(path, fig)
    assert image.shape[0] < 900  # 12 rows of nodes, not 32 (about 1600 pixels before)


# --- blocks: a residual's skip, branches side by side, a take -------------------------------


def _skips(fig: Figure) -> list[FancyArrowPatch]:
    skips = [p for p in fig.axes[0].patches if p.get_gid() == "skip"]
    assert all(isinstance(p, FancyArrowPatch) for p in skips)
    return [p for p in skips if isinstance(p, FancyArrowPatch)]


def _maps(fig: Figure) -> list[list[tuple[float, float]]]:
    """The dashed lines that carry values unchanged (a take's, a join's), as point pairs."""
    (maps,) = [c for c in fig.axes[0].collections if c.get_gid() == "maps"]
    assert isinstance(maps, LineCollection)
    return [[(float(x), float(y)) for x, y in s.tolist()] for s in maps.get_segments()]


def _column_labels(fig: Figure) -> dict[tuple[float, float], str]:
    """The labels written under the columns of a drawing with branches, by position."""
    return {
        (round(t.get_position()[0], 6), round(t.get_position()[1], 6)): t.get_text()
        for t in fig.axes[0].texts
        if t.get_gid() == "label"
    }


def test_a_residual_is_its_block_in_line_with_an_arc_for_each_skip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    block = tn.network(tn.dense(rng, 4, 6, tn.relu)).then(tn.dense(rng, 6, 4, tn.identity))
    net = (
        tn.network(tn.dense(rng, 3, 4, tn.relu))
        .then(tn.residual(block))
        .then(tn.residual(tn.network(tn.dense(rng, 4, 2, tn.tanh)), shortcut=tn.dense(rng, 4, 2, tn.identity)))
    )  # fmt: skip
    fig = plot_network(net, tmp_path / "residual.png")
    _read_png(tmp_path / "residual.png", fig)
    edges, nodes = _parts(fig)
    columns = _columns(nodes)
    # The block's layers are columns like any Dense layer's: 3 → 4 → 6 → 4 → 2.
    assert [len(column) for column in columns] == [3, 4, 6, 4, 2]
    assert len(edges.get_segments()) == 3 * 4 + 4 * 6 + 6 * 4 + 4 * 2  # not the shortcut's
    assert _labels(fig) == [
        "input\n3",
        "hidden 1\n4\nrelu",
        "hidden 2\n6\nrelu",
        "hidden 3\n4\nidentity\n+ skip (residual)",
        "output\n2\ntanh\n+ skip (residual)",
    ]
    # Each skip is an arrow from above its block's input column to above its output
    # column, higher than every node it passes over, with what it adds written on it.
    first, second = _skips(fig)
    for arc, (a, b) in zip((first, second), ((1, 3), (3, 4)), strict=True):
        path = arc.get_path()  # the curve, then the head at its end
        x0, y0 = np.asarray(path.vertices, dtype=float)[0].tolist()
        box = path.get_extents()  # of the curve itself, not of its control points
        assert x0 == a and box.x0 == pytest.approx(a) and box.x1 == pytest.approx(b, abs=0.01)
        assert y0 > columns[a][0][1]
        assert box.y1 > max(c[0][1] for c in columns[a : b + 1]) + 0.5
        assert arc.get_arrowstyle().__class__.__name__ == "CurveFilledB"  # "-|>": at the end
    texts = sorted(t.get_text() for t in fig.axes[0].texts)
    assert texts == ["+ shortcut 2 (identity)", "+ x"]


def test_branches_are_stacked_then_joined_and_a_take_keeps_its_rows(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    wide = tn.network(tn.dense(rng, 3, 4, tn.relu)).then(tn.dense(rng, 4, 3, tn.relu))
    narrow = tn.network(tn.dense(rng, 3, 2, tn.tanh))
    norm = tn.network(tn.layer_norm(3))
    net = (
        tn.network(tn.parallel(wide, narrow, norm))
        .then(tn.take(8, 1, 4))
        .then(tn.dense(rng, 3, 1, tn.identity))
    )
    fig = plot_network(net, tmp_path / "branches.png")
    _read_png(tmp_path / "branches.png", fig)
    edges, nodes = _parts(fig)
    assert len(edges.get_segments()) == 3 * 4 + 4 * 3 + 3 * 2 + 3 * 1
    by_x = _columns(nodes)
    # x = 0: the input; x = 1: the first layer of each branch (wide 4, narrow 2) and the
    # layer norm's own column (3); x = 2: wide's second layer; then the concatenation, the
    # take and the output.
    assert [len(c) for c in by_x] == [3, 4 + 2 + 3, 3, 8, 3, 1]
    labels = _column_labels(fig)
    assert sorted(labels.values()) == sorted([
        "input\n3", "hidden 1\n4\nrelu", "hidden 2\n3\nrelu", "hidden 3\n2\ntanh",
        "branch 3\n3\n+ layer_norm", "concat\n8", "take\n3\nrows 1:4",
        "output\n1\nidentity",
    ])  # fmt: skip
    # The branches are stacked in order, the first on top: no band overlaps the next.
    at_1 = by_x[1]
    ys = [y for _, y in at_1]
    assert ys == sorted(ys, reverse=True)
    wide_1, narrow_1, norm_1 = ys[:4], ys[4:6], ys[6:]
    assert min(wide_1) > max(narrow_1) + 1 and min(narrow_1) > max(norm_1) + 1
    # Dashed lines carry each branch's units to its rows of the concatenation: wide's 3
    # to rows 0-2, narrow's 2 to rows 3-4, the layer norm's 3 to rows 5-7; the layer
    # norm's column takes the input's 3 units unchanged; the take keeps rows 1-3.
    concat = [y for _, y in by_x[3]]
    take = [y for _, y in by_x[4]]
    wide_2 = [y for _, y in by_x[2]]
    inputs = [y for _, y in by_x[0]]
    expected = (
        [[(2, wide_2[i]), (3, concat[i])] for i in range(3)]
        + [[(1, narrow_1[i]), (3, concat[3 + i])] for i in range(2)]
        + [[(0, inputs[i]), (1, norm_1[i])] for i in range(3)]
        + [[(1, norm_1[i]), (3, concat[5 + i])] for i in range(3)]
        + [[(3, concat[1 + i]), (4, take[i])] for i in range(3)]
    )
    assert sorted(_maps(fig)) == sorted(expected)
    (maps,) = [c for c in fig.axes[0].collections if c.get_gid() == "maps"]
    style = maps.get_linestyle()  # [(offset, dashes)], dashes None for a solid line
    assert isinstance(style, list) and style[0][1] is not None


class _Sample(TypedDict):
    numeric: tn.Inputs
    colour: tn.Ids


def test_named_inputs_are_a_branch_each_from_an_input_column_of_its_own(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    numeric = tn.network(tn.dense(rng, 3, 4, tn.relu))
    colour = tn.network(tn.embedding(rng, 5, 2))
    first = tn.inputs(_Sample, None, numeric=numeric, colour=colour)
    net = tn.network(first).then(tn.dense(rng, 6, 1, tn.identity))
    fig = plot_network(net, tmp_path / "inputs.png")
    _read_png(tmp_path / "inputs.png", fig)
    edges, nodes = _parts(fig)
    # Weighted edges: numeric's dense 3 -> 4 and the output's 6 -> 1; none into the
    # embedding (it looks its rows up) nor into the join.
    assert len(edges.get_segments()) == 3 * 4 + 6 * 1
    by_x = _columns(nodes)
    # x = 0: the two inputs (numeric's 3 columns, colour's one id), no shared input
    # column; x = 1: the dense layer's 4 and the embedding's 2; then the join and output.
    assert [len(c) for c in by_x] == [3 + 1, 4 + 2, 6, 1]
    labels = _column_labels(fig)
    assert sorted(labels.values()) == sorted([
        "input 'numeric'\n3", "input 'colour'\n1", "hidden 1\n4\nrelu",
        "hidden 2\n2\nembedding", "concat\n6", "output\n1\nidentity",
    ])  # fmt: skip
    # In the inputs' order, numeric's band above colour's: its input and its layer.
    inputs = [y for _, y in by_x[0]]
    hidden = [y for _, y in by_x[1]]
    assert min(inputs[:3]) > inputs[3] + 1 and min(hidden[:4]) > max(hidden[4:]) + 1
    # Dashed lines carry numeric's 4 units to rows 0-3 of the join, colour's 2 to rows 4-5.
    concat = [y for _, y in by_x[2]]
    expected = [[(1, hidden[i]), (2, concat[i])] for i in range(6)]
    assert sorted(_maps(fig)) == sorted(expected)
    # The edges of the dense branch start at numeric's input column, not the id's node.
    starts = {(float(x), float(y)) for s in edges.get_segments() for x, y in s.tolist()[:1]}
    assert (0.0, inputs[3]) not in starts


def test_a_wide_branch_is_summarised_and_its_maps_follow_the_shown_units() -> None:
    rng = np.random.default_rng(0)
    branch = tn.network(tn.dense(rng, 2, 20, tn.relu))
    net = tn.network(tn.parallel(branch, tn.network(tn.dense(rng, 2, 1, tn.relu)))).then(
        tn.dense(rng, 21, 1, tn.identity)
    )
    fig = plot_network(net, max_nodes=4)
    boxes = sorted(t.get_text() for t in fig.axes[0].texts if "more" in t.get_text())
    assert boxes == ["+16 more", "+17 more"]  # the branch's 20 and the join's 21
    # Lines join only drawn units (a unit shown on both sides) and, once, box to box.
    _, nodes = _parts(fig)
    centres = {(float(x), float(y)) for x, y in np.asarray(nodes.get_offsets(), dtype=float)}
    at = {
        tuple(float(v) for v in t.get_position())
        for t in fig.axes[0].texts
        if "more" in t.get_text()
    }
    lines = _maps(fig)
    assert all(end in centres | at for line in lines for end in line)
    assert sum(all(end in at for end in line) for line in lines) == 1
    assert len(lines) <= 4 + 1  # at most the join's 4 drawn rows, and the box's line


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_max_nodes_must_be_a_positive_integer(bad: object) -> None:
    with pytest.raises(ValueError, match=r"max_nodes must be a positive integer, got "):
        plot_network(build()[0], max_nodes=bad)  # type: ignore[arg-type]  # a bad value on purpose


# --- plot_history -------------------------------------------------------------------------


def _line(ax: Axes, label: str) -> tuple[list[float], list[float]]:
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == label]
    return _data(line)


def _data(line: Line2D) -> tuple[list[float], list[float]]:
    xs, ys = (np.asarray(d, dtype=float).tolist() for d in (line.get_xdata(), line.get_ydata()))
    return xs, ys


def test_history_png_is_a_legible_image(tmp_path: Path) -> None:
    path = tmp_path / "history.png"
    history = History(
        train_loss=(0.9, 0.5, 0.3, 0.2),
        val_loss=(1.0, 0.6, 0.5, 0.55),
        metric_name="accuracy",
        train_metric=(0.5, 0.7, 0.8, 0.9),
        val_metric=(0.4, 0.6, 0.7, 0.65),
        best_epoch=3,
    )
    fig = plot_history(history, str(path))
    _read_png(path, fig)


def test_history_train_loss_only() -> None:
    fig = plot_history(History(train_loss=(0.5, 0.3, 0.25)))
    (ax,) = fig.axes
    assert _line(ax, "train loss") == ([1.0, 2.0, 3.0], [0.5, 0.3, 0.25])
    assert len(ax.get_lines()) == 1
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("loss", "epoch", "loss")
    assert ax.get_yscale() == "linear"
    assert ax.get_legend() is not None
    assert fig.texts[0].get_text() == "training history, 3 epochs"
    assert all(float(t).is_integer() for t in ax.get_xticks())


def test_history_with_validation_metric_and_best_epoch() -> None:
    history = History(
        train_loss=(0.9, 0.5, 0.3),
        val_loss=(1.0, 0.4, 0.6),
        metric_name="accuracy",
        train_metric=(0.5, 0.7, 0.8),
        val_metric=(0.4, 0.75, 0.7),
        best_epoch=2,
    )
    fig = plot_history(history)
    loss, metric = fig.axes
    assert _line(loss, "validation loss") == ([1.0, 2.0, 3.0], [1.0, 0.4, 0.6])
    assert _line(metric, "train accuracy")[1] == [0.5, 0.7, 0.8]
    assert _line(metric, "validation accuracy")[1] == [0.4, 0.75, 0.7]
    assert (metric.get_title(), metric.get_ylabel()) == ("accuracy", "accuracy")
    for ax, kept in [(loss, 0.4), (metric, 0.75)]:
        assert _line(ax, "best epoch (2)")[0] == [2.0, 2.0]
        stars = [ln for ln in ax.get_lines() if ln.get_marker() == "*"]
        assert [_data(s) for s in stars] == [([2.0], [kept])]


def test_history_best_epoch_without_validation_marks_train_loss() -> None:
    fig = plot_history(History(train_loss=(0.9, 0.5, 0.7), best_epoch=2))
    (ax,) = fig.axes
    (star,) = [ln for ln in ax.get_lines() if ln.get_marker() == "*"]
    assert _data(star) == ([2.0], [0.5])


def test_history_metric_without_a_name_and_log_scale() -> None:
    history = History(train_loss=(10.0, 1.0, 0.05), train_metric=(0.1, 0.2, 0.3))
    loss, metric = plot_history(history).axes
    assert loss.get_yscale() == "log"  # the loss spans a factor 200
    assert metric.get_yscale() == "linear"
    assert metric.get_title() == "metric"
    assert len(metric.get_lines()) == 1


@pytest.mark.parametrize(
    ("history", "match"),
    [
        (History(train_loss=()), r"no epochs; nothing to plot"),
        (
            History(train_loss=(1.0, 0.5), val_loss=(1.0,)),
            r"val_loss has 1 values but train_loss has 2; expected one per epoch or none",
        ),
        (
            History(train_loss=(1.0, 0.5), train_metric=(0.1, 0.2, 0.3)),
            r"train_metric has 3 values but train_loss has 2",
        ),
        (History(train_loss=(1.0, 0.5), best_epoch=0), r"best_epoch 0 is not in 1\.\.2"),
        (History(train_loss=(1.0, 0.5), best_epoch=3), r"best_epoch 3 is not in 1\.\.2"),
    ],
)
def test_history_inconsistent(history: History, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        plot_history(history)


# --- both ---------------------------------------------------------------------------------


def test_saving_needs_an_existing_directory(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "plot.png"
    with pytest.raises(FileNotFoundError, match=r"cannot save the plot to .*: directory .*nope"):
        plot_network(build()[0], missing)
    with pytest.raises(FileNotFoundError, match=r"directory .*nope does not exist; create it"):
        plot_history(History(train_loss=(1.0,)), missing)
    assert not missing.parent.exists()


def test_missing_matplotlib_is_a_clear_import_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m.split(".")[0] == "matplotlib"]:
        monkeypatch.setitem(sys.modules, name, None)  # as if matplotlib were not installed
    match = r"plotting needs matplotlib: pip install 'typednet\[plot\]'"
    with pytest.raises(ImportError, match=match):
        plot_history(History(train_loss=(1.0,)))
    with pytest.raises(ImportError, match=match):
        plot_network(build()[0])


def test_import_needs_no_matplotlib_and_plotting_needs_no_pyplot() -> None:
    code = (
        # As pyproject's filterwarnings: matplotlib 3.9's own pyparsing deprecations aside.
        "import warnings\n"
        "warnings.filterwarnings('ignore', category=DeprecationWarning, module='matplotlib')\n"
        "import sys, typednet.plot, typednet.apps.tutorial\n"
        "print('matplotlib' in sys.modules)\n"
        "typednet.plot.plot_network(typednet.apps.tutorial.build()[0])\n"
        "print('matplotlib' in sys.modules, 'matplotlib.pyplot' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "True", "False"]
