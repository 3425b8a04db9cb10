"""Rich display in notebooks: the HTML behind each ``_repr_html_``.

`Network`, `Trace`, `History` and `ShapeError` each call one function here. The HTML is
self-contained (inline SVG and tables, no script, no external file, no matplotlib) and
every piece of text in it is escaped: a `Dim`'s name is a user's string. A ShapeError's
HTML shows its message only (shapes and dtypes, never values), laid out as where /
expected / got / hint.
"""

import html
import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .layers import Layer
from .shapes import Ids, Matrix

if TYPE_CHECKING:
    from .forward import Trace
    from .network import Network
    from .shapes import ShapeError
    from .train import History

__all__ = ["history", "network", "shape_error", "trace"]

_POSITIVE, _NEGATIVE, _VAL = "#1f77b4", "#d62728", "#ff7f0e"  # matplotlib's tab: colours
_MAX_NODES = 12  # units drawn per column of a diagram; the rest are "+N more"
_MAX_CELLS = 32  # rows and columns drawn per heat map
_MAX_POINTS = 400  # points drawn per loss curve
_TABLE = 'style="border-collapse:collapse;font-family:monospace;font-size:12px"'
_CELL = 'style="border:1px solid #ccc;padding:2px 6px;text-align:left"'


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table of cells that are already HTML (escape the text before)."""
    th = "".join(f"<th {_CELL}>{h}</th>" for h in head)
    thead = f"<thead><tr>{th}</tr></thead>" if head else ""
    body = "".join("<tr>" + "".join(f"<td {_CELL}>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table {_TABLE}>{thead}<tbody>{body}</tbody></table>"


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ")"


# --- network ------------------------------------------------------------------------------


def _sized(size: int | None, name: str | None) -> str:
    return f"{name} {size}" if name else str(size)


def network(net: "Network[Any, Any]") -> str:
    """The diagram (inline SVG), then one row per layer: kind, label, param shapes in
    (next, prev) terms, and parameter counts."""
    rows: list[list[str]] = []
    for i, layer in enumerate(net.layers, 1):
        if not isinstance(layer, Layer):
            rows.append([str(i), "activation", _e(layer), "", "0"])
            continue
        prev, next_ = layer.dim_names()
        if layer.in_size is None:
            sizes = "any → same"
        else:
            sizes = f"{_sized(layer.in_size, prev)} → {_sized(layer.out_size, next_)}"
        shapes: list[str] = []
        for name, p in zip(layer.param_names, layer.params, strict=True):
            terms = " (next, prev)" if p is layer.connections() else ""
            shapes.append(f"{_e(name)}{terms} = {_shape(p.shape)}")
        count = sum(p.size for p in layer.params)
        rows.append([str(i), _e(layer.kind), _e(sizes), "<br>".join(shapes) or "—", str(count)])
    rows.append(["", "", "", "<b>total</b>", f"<b>{net.param_count}</b>"])
    table = _table(["layer", "kind", "prev → next", "params (shape)", "count"], rows)
    return (
        f'<div class="typednet-network"><p><b>{_e(repr(net))}</b> ({_e(net.dtype)})</p>'
        f"{_diagram(net)}{table}</div>"
    )


def _diagram(net: "Network[Any, Any]") -> str:
    """Nodes in columns, one per value (the input, then each layer with connections);
    each weight an edge, blue for w >= 0 and red for w < 0, as thick as |w|."""
    columns: list[tuple[int, str]] = [(net.in_size, "input")]
    weights: list[Matrix] = []
    for layer in net.layers:
        w = layer.connections() if isinstance(layer, Layer) else None
        if isinstance(layer, Layer) and w is not None:
            columns.append((w.shape[0], f"{w.shape[0]} ({layer.output_activation or layer.kind})"))
            weights.append(w)
    shown = [min(n, _MAX_NODES) for n, _ in columns]
    tall = max(shown) + (1 if any(n > _MAX_NODES for n, _ in columns) else 0)
    dx, dy, top = 120, 26, 30
    width, height = 60 + dx * (len(columns) - 1) + 60, top + dy * tall + 10

    def y(k: int, i: int) -> float:
        return top + dy * (tall - shown[k]) / 2 + dy * i + dy / 2

    largest = max((float(np.abs(w).max()) for w in weights), default=0.0) or 1.0
    parts: list[str] = []
    for k, w in enumerate(weights):
        x0, x1 = 60 + dx * k, 60 + dx * (k + 1)
        for i in range(shown[k + 1]):
            for j in range(shown[k]):
                v = float(w[i, j])
                colour = _NEGATIVE if v < 0 else _POSITIVE
                stroke = 0.3 + 3.2 * abs(v) / largest if math.isfinite(v) else 0.3
                parts.append(
                    f'<line x1="{x0}" y1="{y(k, j):.1f}" x2="{x1}" y2="{y(k + 1, i):.1f}" '
                    f'stroke="{colour}" stroke-width="{stroke:.2f}" stroke-opacity="0.7"/>'
                )
    for k, (n, label) in enumerate(columns):
        cx = 60 + dx * k
        name = f"output {label}" if k == len(columns) - 1 and k else label
        parts.append(f'<text x="{cx}" y="16" text-anchor="middle" font-size="11">{_e(name)}</text>')
        for i in range(shown[k]):
            parts.append(
                f'<circle cx="{cx}" cy="{y(k, i):.1f}" r="8" fill="white" stroke="black"/>'
            )
        if n > shown[k]:
            parts.append(
                f'<text x="{cx}" y="{y(k, shown[k]):.1f}" text-anchor="middle" '
                f'font-size="10">+{n - shown[k]} more</text>'
            )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
        f'role="img">{"".join(parts)}</svg>'
    )


# --- trace --------------------------------------------------------------------------------


def _colour(v: float, scale: float) -> str:
    """White at 0, blue for positive, red for negative values, as |v| / scale grows."""
    if not math.isfinite(v):
        return "#888888"
    t = min(abs(v) / scale, 1.0) if scale else 0.0
    r, g, b = (31, 119, 180) if v >= 0 else (214, 39, 40)
    mix = [round(255 + (c - 255) * t) for c in (r, g, b)]
    return "#{:02x}{:02x}{:02x}".format(*mix)


def _heat_map(a: Matrix | Ids) -> str:
    """The first 32 rows and columns of ``a`` as coloured cells, one scale for all."""
    shown = a[:_MAX_CELLS, :_MAX_CELLS]
    finite = shown[np.isfinite(shown)]
    scale = float(np.abs(finite).max()) if finite.size else 0.0
    cell = 8
    rects = "".join(
        f'<rect x="{j * cell}" y="{i * cell}" width="{cell}" height="{cell}" '
        f'fill="{_colour(float(shown[i, j]), scale)}"/>'
        for i in range(shown.shape[0])
        for j in range(shown.shape[1])
    )
    w, h = shown.shape[1] * cell, shown.shape[0] * cell
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img">'
        f'{rects}<rect width="{w}" height="{h}" fill="none" stroke="#ccc"/></svg>'
    )


def _stats(a: Matrix | Ids) -> list[str]:
    if a.size == 0:
        return ["—", "—", "—"]
    return [f"{float(a.min()):.4g}", f"{float(a.max()):.4g}", f"{float(a.mean()):.4g}"]


def trace(t: "Trace") -> str:
    """One row per value, in the tutorial's names: shape, dtype, min / max / mean, heat map."""
    last = len(t.post)
    rows: list[tuple[str, Matrix | Ids]] = [("x", t.x)]
    for k, (pre, post) in enumerate(zip(t.pre, t.post, strict=True), 1):
        names = ("in_output", "y_hat") if k == last else (f"in_hidden_{k}", f"out_hidden_{k}")
        rows += [(names[0], pre), (names[1], post)]
    body = [[_e(name), _shape(a.shape), _e(a.dtype), *_stats(a), _heat_map(a)] for name, a in rows]
    note = (
        f"<p>heat maps: the first {_MAX_CELLS} rows and columns; blue ≥ 0, red &lt; 0</p>"
        if any(max(a.shape) > _MAX_CELLS for _, a in rows)
        else "<p>heat maps: blue ≥ 0, red &lt; 0, white 0</p>"
    )
    table = _table(["value", "shape", "dtype", "min", "max", "mean", "heat map"], body)
    return f'<div class="typednet-trace"><p><b>forward trace</b></p>{table}{note}</div>'


# --- history ------------------------------------------------------------------------------


def _curves(series: Sequence[tuple[str, tuple[float, ...], str]], best: int | None) -> str:
    """The loss curves as an inline SVG line chart (log scale past a factor of 100)."""
    values = [v for _, s, _ in series for v in s if math.isfinite(v)]
    if not values:
        return "<p>no finite loss to plot</p>"
    log = min(values) > 0 and max(values) > 100 * min(values)

    def scaled(v: float) -> float:
        return math.log10(v) if log else v

    low, high = scaled(min(values)), scaled(max(values))
    span = (high - low) or 1.0
    epochs = max(len(s) for _, s, _ in series)
    w, h, left, pad = 360, 180, 56, 12

    def px(epoch: int) -> float:
        return left + (w - left - pad) * ((epoch - 1) / (epochs - 1) if epochs > 1 else 0.5)

    def py(v: float) -> float:
        return pad + (h - 2 * pad - 14) * (high - scaled(v)) / span

    parts = [
        f'<line x1="{left}" y1="{h - 26}" x2="{w - pad}" y2="{h - 26}" stroke="#999"/>',
        f'<line x1="{left}" y1="{pad}" x2="{left}" y2="{h - 26}" stroke="#999"/>',
        f'<text x="{left - 4}" y="{pad + 4}" text-anchor="end" font-size="10">'
        f"{max(values):.3g}</text>",
        f'<text x="{left - 4}" y="{h - 26}" text-anchor="end" font-size="10">'
        f"{min(values):.3g}</text>",
        f'<text x="{(left + w) / 2}" y="{h - 8}" text-anchor="middle" font-size="10">'
        f"epoch (1 to {epochs}){', log scale' if log else ''}</text>",
    ]
    if best is not None:
        parts.append(
            f'<line x1="{px(best):.1f}" y1="{pad}" x2="{px(best):.1f}" y2="{h - 26}" '
            'stroke="#7f7f7f" stroke-dasharray="4 3"/>'
        )
    for name, s, colour in series:
        stride = max(1, len(s) // _MAX_POINTS)  # a long run: every stride-th epoch, and the last
        kept = [e for e in range(1, len(s) + 1) if e % stride == 0 or e in (1, len(s))]
        points = " ".join(
            f"{px(e):.1f},{py(s[e - 1]):.1f}" for e in kept if math.isfinite(s[e - 1])
        )
        parts.append(
            f'<polyline class="{_e(name)}" points="{points}" fill="none" stroke="{colour}" '
            'stroke-width="1.5"/>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img">'
        f"{''.join(parts)}</svg>"
    )


def history(h: "History[Any, Any]") -> str:
    """The loss curves (train, and validation when recorded) and the last values."""
    if not h.epochs:
        return '<div class="typednet-history"><p><b>History</b>: no epochs</p></div>'
    series = [("train_loss", h.train_loss, _POSITIVE)]
    rows = [["train loss", f"{h.train_loss[-1]:.6g}"]]
    if h.val_loss:
        series.append(("val_loss", h.val_loss, _VAL))
        rows.append(["validation loss", f"{h.val_loss[-1]:.6g}"])
    if h.metric_name is not None:
        for label, values in (("train", h.train_metric), ("validation", h.val_metric)):
            if values:
                rows.append([f"{label} {_e(h.metric_name)}", f"{values[-1]:.6g}"])
    if h.best_epoch is not None:
        rows.append(["best epoch (kept)", str(h.best_epoch)])
    legend = " ".join(
        f'<span style="color:{colour}">— {name.replace("_", " ")}</span>'
        for name, _, colour in series
    )
    epochs = f"{h.epochs} epoch{'s' if h.epochs != 1 else ''}"
    return (
        f'<div class="typednet-history"><p><b>History</b>, {epochs} {legend}</p>'
        f"{_curves(series, h.best_epoch)}{_table(['last epoch', 'value'], rows)}</div>"
    )


# --- ShapeError ---------------------------------------------------------------------------

_PARTS = re.compile(
    r"^(?P<where>.*?): expected (?P<expected>.*?),? got (?P<got>.*?)(?:; (?P<hint>.*))?$", re.S
)


def shape_error(error: "ShapeError") -> str:
    """The message laid out as where / expected / got / hint (it holds no values)."""
    message = str(error)
    match = _PARTS.match(message)
    if match is None:
        body = f"<p>{_e(message)}</p>"
    else:
        body = _table([], [[k, _e(v)] for k, v in match.groupdict().items() if v])
    return (
        '<div class="typednet-shape-error"><p><b style="color:#d62728">ShapeError</b></p>'
        f"{body}</div>"
    )
