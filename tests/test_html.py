"""Rich display in notebooks: the HTML of a Network, a Trace, a History and a ShapeError.

Expected values come from the objects' own data computed here (NumPy's min/max/mean,
shapes), not from the renderer; tests/test_course_notebooks.py checks the same HTML as a
real kernel sends it."""

import re
import sys

import numpy as np
import pytest

import typednet as tn
from typednet.apps.tutorial import build
from typednet.train import History


def _dim(name: str, size: int) -> type[tn.Dim]:
    return type(name, (tn.Dim,), {}, size=size)


def test_plain_text_reprs_are_unchanged() -> None:
    net = build()[0]
    assert repr(net) == "Network 5 → 3 (leaky_relu 0.1) → 5 (sigmoid) → 4 (sigmoid), 62 params"
    assert str(tn.ShapeError("a: expected 1, got 2")) == "a: expected 1, got 2"
    assert repr(History(train_loss=(1.0,))).startswith("History(train_loss=(1.0,)")


def test_network_html_has_the_diagram_shapes_and_counts_without_matplotlib(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` fails
    net, _, _ = build()
    page = net._repr_html_()
    assert page.count("<circle") == 5 + 3 + 5 + 4
    assert page.count("<line") == 5 * 3 + 3 * 5 + 5 * 4  # one edge per weight
    for shape in ["w (next, prev) = (3, 5)", "w (next, prev) = (5, 3)", "b = (4, 1)"]:
        assert shape in page
    assert "Features 5 → Hidden1 3" in page
    counts = re.findall(r"<td [^>]*>(\d+)</td></tr>", page)
    assert counts == ["18", "20", "24"]  # 3*5+3, 5*3+5, 4*5+4
    assert "<b>62</b>" in page
    assert "<script" not in page and "src=" not in page and "href=" not in page


def test_user_strings_are_escaped() -> None:
    evil = _dim('<img src=x onerror="alert(1)">', 3)
    rng = np.random.default_rng(0)
    net = tn.network(tn.dense(rng, _dim("In&Out", 2), evil, tn.relu))
    page = net._repr_html_()
    assert "<img" not in page and 'onerror="' not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; 3" in page
    assert "In&amp;Out 2" in page
    error = tn.ShapeError("layer <b>1</b>: expected (3, 2), got (2, 3); did you pass w.T?")
    assert "<b>1</b>" not in error._repr_html_()
    assert "layer &lt;b&gt;1&lt;/b&gt;" in error._repr_html_()


def test_a_wide_network_is_summarised() -> None:
    rng = np.random.default_rng(0)
    net = tn.network(tn.dense(rng, 40, 30, tn.relu)).then(tn.dense(rng, 30, 1, tn.identity))
    page = net._repr_html_()
    assert page.count("<circle") == 12 + 12 + 1
    assert "+28 more" in page and "+18 more" in page
    assert page.count("<line") == 12 * 12 + 12


def test_shape_error_html_is_where_expected_got_hint_and_never_values() -> None:
    net = build()[0]
    with pytest.raises(tn.ShapeError, match=r"samples are columns: pass x\.T") as caught:
        tn.forward(net, np.full((1, 5), 123.456))
    page = caught.value._repr_html_()
    cells = re.findall(r"<td [^>]*>(.*?)</td>", page)
    assert cells == [
        "where",
        "forward input x",
        "expected",
        "(features, batch) = (5, batch)",
        "got",
        "shape (1, 5) float64",
        "hint",
        "samples are columns: pass x.T",
    ]
    assert "123" not in page
    plain = tn.ShapeError("layer 2: params are float32 but layer 1's are float64")
    assert "layer 2: params are float32 but layer 1&#x27;s are float64" in plain._repr_html_()


def test_trace_html_shows_each_value_with_its_shape_range_and_heat_map() -> None:
    net, x, _ = build()
    trace = tn.forward_trace(net, np.hstack([x, 2 * x, 3 * x]))
    page = trace._repr_html_()
    rows = re.findall(r"<tr><td [^>]*>(\w+)</td><td [^>]*>([^<]*)</td>", page)
    assert rows == [
        ("x", "(5, 3)"),
        ("in_hidden_1", "(3, 3)"),
        ("out_hidden_1", "(3, 3)"),
        ("in_hidden_2", "(5, 3)"),
        ("out_hidden_2", "(5, 3)"),
        ("in_output", "(4, 3)"),
        ("y_hat", "(4, 3)"),
    ]
    y_hat = trace.y_hat
    stats = f"{y_hat.min():.4g}</td><td [^>]*>{y_hat.max():.4g}</td><td [^>]*>{y_hat.mean():.4g}"
    assert re.search(stats, page)
    assert page.count("<rect") == sum(a.size + 1 for a in (trace.x, *trace.pre, *trace.post))


def test_a_wide_trace_draws_32_by_32_cells() -> None:
    net = tn.network(tn.layer_norm(40))
    x = np.random.default_rng(0).normal(size=(40, 100))
    page = tn.forward_trace(net, x)._repr_html_()
    assert page.count("<rect") == 3 * (32 * 32 + 1)  # x, pre, post: capped, and a border
    assert "the first 32 rows and columns" in page


def test_history_html_draws_the_curves() -> None:
    page = History(
        train_loss=(4.0, 2.0, 0.01), val_loss=(5.0, 3.0, 1.0), best_epoch=3
    )._repr_html_()
    assert "3 epochs" in page and "log scale" in page  # 4.0 / 0.01 > 100
    train = re.search(r'class="train_loss" points="([^"]*)"', page)
    val = re.search(r'class="val_loss" points="([^"]*)"', page)
    assert train is not None and val is not None
    assert len(train.group(1).split()) == len(val.group(1).split()) == 3
    assert "stroke-dasharray" in page  # the best epoch
    assert "no epochs" in History(train_loss=())._repr_html_()
    linear = History(train_loss=(2.0, 1.0))._repr_html_()
    assert "log scale" not in linear and "val_loss" not in linear
