"""The course as notebooks: each of notebooks/*.py (jupytext's percent format, the one
source) is executed in a real IPython kernel; the numbers are checked by the assertions
in its cells and here, and its rich displays by the HTML the kernel sent back."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jupytext
import pytest
from nbclient import NotebookClient

from tests.helpers import COURSE_LOSS

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("*.py"))


def _run(path: Path) -> list[dict[str, Any]]:
    """Execute the notebook built from ``path``; return every output of every cell."""
    notebook = jupytext.read(path)
    client = NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()  # a failing assertion in a cell raises CellExecutionError
    return [output for cell in notebook.cells for output in cell.get("outputs", [])]


def _html(outputs: list[dict[str, Any]]) -> list[str]:
    return [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]


def _text(outputs: list[dict[str, Any]]) -> str:
    return "".join(o["text"] for o in outputs if o.get("output_type") == "stream")


@pytest.fixture(scope="module")
def outputs() -> Iterator[dict[str, list[dict[str, Any]]]]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MPLBACKEND", "Agg")  # the kernels inherit it: no GUI backend
        yield {path.stem: _run(path) for path in SOURCES}


def test_the_course_is_seven_notebooks() -> None:
    assert [path.stem for path in SOURCES] == [
        "01_forward",
        "02_backprop",
        "03_optimizers",
        "04_regularization",
        "05_layer_norm",
        "06_mini_batches",
        "07_wine",
    ]


def test_every_notebook_runs_without_an_error(outputs: dict[str, list[dict[str, Any]]]) -> None:
    for name, cells in outputs.items():
        assert not [o for o in cells if o["output_type"] == "error"], name
        assert _text(cells), name  # each prints its numbers


def test_the_forward_notebook_prints_the_course_loss_and_shows_html(
    outputs: dict[str, list[dict[str, Any]]],
) -> None:
    cells = outputs["01_forward"]
    assert f"loss (mse) = {COURSE_LOSS!r}" in _text(cells)
    network, trace, error = _html(cells)
    assert network.startswith('<div class="typednet-network">')
    assert "Network 5 → 3 (leaky_relu 0.1) → 5 (sigmoid) → 4 (sigmoid), 62 params" in network
    assert network.count("<circle") == 5 + 3 + 5 + 4
    assert network.count("<line") == 3 * 5 + 5 * 3 + 4 * 5
    assert "w (next, prev) = (3, 5)" in network
    assert "Features 5 → Hidden1 3" in network
    for name, shape in [("x", "(5, 1)"), ("in_hidden_1", "(3, 1)"), ("y_hat", "(4, 1)")]:
        assert f"<td {_CELL}>{name}</td><td {_CELL}>{shape}</td>" in trace
    assert trace.count("<svg") == 7  # a heat map per value: x and 3 pre, 3 post
    assert error.startswith('<div class="typednet-shape-error">')
    assert "samples are columns: pass x.T" in error
    assert "shape (1, 5) float64" in error


def test_the_backprop_notebook_prints_every_1000_epochs_and_plots_the_loss(
    outputs: dict[str, list[dict[str, Any]]],
) -> None:
    cells = outputs["02_backprop"]
    text = _text(cells)
    assert re.findall(r"epoch +(\d+): loss", text) == [str(k) for k in range(0, 10_001, 1_000)]
    assert f"epoch      0: loss {COURSE_LOSS:.10f}" in text
    (history,) = _html(cells)
    assert "10001 epochs" in history
    assert "log scale" in history
    points = re.search(r'class="train_loss" points="([^"]*)"', history)
    assert points is not None
    assert 300 < len(points.group(1).split()) <= 500  # thinned: a long run stays small


def test_live_plot_redraws_in_place(outputs: dict[str, list[dict[str, Any]]]) -> None:
    cells = outputs["03_optimizers"]
    shown = _html(cells)
    # Per run: one live display (updated in place to the last epoch) and the History.
    assert len(shown) == 6
    for drawn, final in zip(shown[0::2], shown[1::2], strict=True):
        assert "300 epochs" in drawn and "300 epochs" in final


_CELL = 'style="border:1px solid #ccc;padding:2px 6px;text-align:left"'


def test_fit_shows_a_widget_by_default_in_a_notebook_and_nothing_when_told(
    outputs: dict[str, list[dict[str, Any]]],
) -> None:
    def widgets(name: str) -> int:
        return sum(_WIDGET in o.get("data", {}) for o in outputs[name])

    assert widgets("07_wine") == 1  # fit's default: tqdm.auto's widget
    assert widgets("04_regularization") == 0  # progress=False


_WIDGET = "application/vnd.jupyter.widget-view+json"
