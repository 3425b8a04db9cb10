"""``typednet predict`` and ``typednet export``: predictions re-derived with plain NumPy.

The command line runs in-process through `main` (its output captured), as in
test_cli.py; the predictions are checked against the networks' maths written out by
hand here, never against `tn.forward`'s own output alone.
"""

import contextlib
import io
import re
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime
import pytest

import typednet as tn
from typednet.apps.cli import main
from typednet.apps.predict import predict_csv

Array = npt.NDArray[Any]


def _main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue(), err.getvalue()


def _classifier(dtype: type[np.floating[Any]] = np.float64) -> tn.Network[Any, Any]:
    rng = np.random.default_rng(7)
    return tn.network(tn.dense(rng, 3, 5, tn.relu, dtype=dtype)).then(
        tn.dense(rng, 5, 4, tn.softmax, dtype=dtype)
    )


def _by_hand(net: tn.Network[Any, Any], x: Array) -> Array:
    """relu then softmax, written out: the classifier's probabilities, (4, batch)."""
    w1, b1, w2, b2 = (p.astype(np.float64) for p in net.params)
    z = w2 @ np.maximum(w1 @ x + b1, 0.0) + b2
    e = np.exp(z - z.max(axis=0))
    out: Array = e / e.sum(axis=0)
    return out


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    path = tmp_path / "net.npz"
    tn.save(path, _classifier())
    return path


def _csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _samples(n: int, seed: int = 0) -> Array:
    """n samples of 3 features, as typednet's (features, batch) columns."""
    return np.random.default_rng(seed).normal(0, 2, (3, n))


def _rows_text(x: Array, header: str | None = "alcohol,acidity,sugar") -> str:
    lines = [] if header is None else [header]
    lines += [",".join(repr(float(v)) for v in sample) for sample in x.T]
    return "\n".join(lines) + "\n"


# --- predictions ---------------------------------------------------------------------------


def test_rows_in_class_and_probabilities_out(tmp_path: Path, saved: Path) -> None:
    x = _samples(9)
    data = _csv(tmp_path / "data.csv", _rows_text(x))
    status, out, err = _main("predict", str(saved), str(data), "--out", str(tmp_path / "p.csv"))
    assert (status, err) == (0, "")
    assert out == f"wrote 9 predictions to {tmp_path / 'p.csv'}\n"
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0] == "class,p0,p1,p2,p3"
    table = np.loadtxt(lines[1:], delimiter=",", ndmin=2)
    want = _by_hand(tn.load(saved), x)
    assert table.shape == (9, 5)
    np.testing.assert_allclose(table[:, 1:], want.T, rtol=1e-13)
    assert table[:, 0].tolist() == np.argmax(want, axis=0).tolist()
    assert len(set(table[:, 0].tolist())) > 1  # the samples do not all fall in one class


def test_without_a_header_blank_lines_skipped_and_any_block_size(tmp_path: Path) -> None:
    net = _classifier()
    x = _samples(10, seed=1)
    text = _rows_text(x, header=None)
    text = text.replace("\n", "\n\n", 3)  # blank lines between the first samples
    data = _csv(tmp_path / "data.csv", text)
    results = []
    for block in (1, 3, 4096):
        out = tmp_path / f"p{block}.csv"
        assert predict_csv(net, data, out, block=block) == 10
        results.append(out.read_bytes())
    assert results[0] == results[1] == results[2]
    table = np.loadtxt(io.StringIO(results[0].decode()), delimiter=",", skiprows=1, ndmin=2)
    np.testing.assert_allclose(table[:, 1:], _by_hand(net, x).T, rtol=1e-13)


def test_a_regression_network_and_float32_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    w, b = rng.normal(size=(1, 3)).astype(np.float32), np.array([[0.25]], dtype=np.float32)
    net = tn.network(tn.Dense(w=w, b=b, activation=tn.identity))
    x = _samples(6).astype(np.float32)
    data = _csv(tmp_path / "data.csv", _rows_text(x, header=None))
    predict_csv(net, data, tmp_path / "p.csv")
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0] == "y"
    got = np.array([np.float32(v) for v in lines[1:]])  # 9 digits read back exactly
    # x's text is float64's repr of float32 values: it parses back to the same float32.
    want = (w.astype(np.float64) @ x.astype(np.float64) + 0.25)[0]
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert np.array_equal(got, tn.forward(net, x)[0])


def test_columns_in_columns_out(tmp_path: Path, saved: Path) -> None:
    x = _samples(5)
    text = "\n".join(",".join(repr(float(v)) for v in feature) for feature in x) + "\n"
    data = _csv(tmp_path / "data.csv", text)
    pred = tmp_path / "p.csv"
    status, _, err = _main("predict", str(saved), str(data), "--out", str(pred), "--columns")
    assert (status, err) == (0, "")
    table = np.loadtxt(pred, delimiter=",", ndmin=2)
    want = _by_hand(tn.load(saved), x)
    assert table.shape == (5, 5)  # the class row, then one row per class; a column per sample
    assert table[0].tolist() == np.argmax(want, axis=0).tolist()
    np.testing.assert_allclose(table[1:], want, rtol=1e-13)


def _peak_memory(tmp_path: Path, samples: int) -> tuple[int, int]:
    """(file size, peak bytes allocated) of predicting ``samples`` rows in blocks of 200."""
    data = _csv(tmp_path / f"data{samples}.csv", _rows_text(_samples(samples)))
    out = tmp_path / f"p{samples}.csv"
    tracemalloc.start()
    try:
        predict_csv(_classifier(), data, out, block=200)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(out.read_text().splitlines()) == samples + 1
    return data.stat().st_size, peak


def test_memory_stays_bounded_on_a_long_file(tmp_path: Path) -> None:
    size, peak = _peak_memory(tmp_path, 24_000)
    # Reading the file whole would hold at least its text (and then every row's cells,
    # several times more); blocks of 200 rows stay far below.
    assert size > 1_300_000 and peak < size / 3


# --- errors: one line, a non-zero exit, the old output intact ----------------------------


@pytest.mark.parametrize(
    ("text", "flags", "message"),
    [
        ("a,b,c\n1,2,3\n\n1,x,3\n", (), r"data.csv line 4, column 2: 'x' is not a number"),
        ("1,2,3\n4,,6\n", (), r"data.csv line 2, column 2: '' is not a number"),
        ("1,2,3\n4,inf,6\n", (), r"data.csv line 2, column 2: 'inf' is not a finite number"),
        ("1,2,3\n4,5,6,7\n", (), r"data.csv line 2: 4 values, but the network takes 3 features"),
        (
            "a,b\n1,2\n",
            (),
            r"data.csv line 1: 2 columns in the header, but the network takes 3 features",
        ),
        ("a,b,c\n", (), r"data.csv: no samples to predict, only a header"),
        ("\n\n", (), r"data.csv: no samples to predict$"),
        (
            "1,2\n3,4\n",
            ("--columns",),
            r"data.csv: 2 rows, but the network takes 3 features \(with --columns, one row per feature\)",
        ),
        ("1,2\n3,4\n5\n", ("--columns",), r"data.csv line 3: 1 values, but line 1 has 2"),
        (
            '1,2,"' + "3" * 200_000 + '"\n',
            ("--columns",),  # (the row layout refuses the row first: issue 24's bound)
            r"data.csv line 1: not a readable CSV line: field larger than field limit",
        ),
    ],
)
def test_bad_data_is_one_line(
    tmp_path: Path, saved: Path, text: str, flags: tuple[str, ...], message: str
) -> None:
    data = _csv(tmp_path / "data.csv", text)
    pred = _csv(tmp_path / "p.csv", "old predictions\n")
    status, out, err = _main("predict", str(saved), str(data), "--out", str(pred), *flags)
    assert (status, out) == (1, "")
    assert err.startswith("typednet: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert re.search(message, err), err
    assert pred.read_text() == "old predictions\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "net.npz", "p.csv"]


def test_an_unreadable_model_or_missing_files_are_one_line(tmp_path: Path, saved: Path) -> None:
    data = _csv(tmp_path / "data.csv", "1,2,3\n")
    not_a_model = _csv(tmp_path / "model.npz", "not a model")
    cases = [
        (
            ("predict", str(not_a_model), str(data), "--out", str(tmp_path / "p.csv")),
            r"model.npz: not an .npz archive",
        ),
        (
            ("predict", str(saved), str(tmp_path / "nope.csv"), "--out", str(tmp_path / "p.csv")),
            r"No such file or directory: .*nope.csv",
        ),
        (
            ("predict", str(saved), str(data), "--out", str(tmp_path / "no" / "p.csv")),
            r"cannot write .*p.csv: directory .*no does not exist",
        ),
        (("export", str(not_a_model), str(tmp_path / "m.onnx")), r"model.npz: not an .npz archive"),
    ]
    for argv, message in cases:
        status, out, err = _main(*argv)
        assert (status, out) == (1, "")
        assert err.count("\n") == 1 and "Traceback" not in err
        assert err.startswith("typednet: error: ")
        assert re.search(message, err), err
    assert not (tmp_path / "p.csv").exists() and not (tmp_path / "m.onnx").exists()
    status, _, err = _main("predict", str(saved), str(data))
    assert status == 2 and "the following arguments are required: --out" in err


# --- export --------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["rows", "columns"])
def test_export_runs_in_onnxruntime(tmp_path: Path, saved: Path, layout: str) -> None:
    model = tmp_path / "model.onnx"
    status, out, err = _main("export", str(saved), str(model), "--layout", layout)
    assert (status, err) == (0, "")
    shape = "(batch, 3)" if layout == "rows" else "(3, batch)"
    assert (
        out
        == f"wrote {model}: Network 3 → 5 (relu) → 4 (softmax), 44 params, float64, input x {shape}\n"
    )
    x = _samples(4)
    session = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    (y,) = session.run(None, {"x": np.ascontiguousarray(x.T) if layout == "rows" else x})
    got = np.asarray(y).T if layout == "rows" else np.asarray(y)
    np.testing.assert_allclose(got, _by_hand(tn.load(saved), x), rtol=1e-12)


def test_export_without_onnx_is_one_line(
    tmp_path: Path, saved: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)
    status, _, err = _main("export", str(saved), str(tmp_path / "m.onnx"))
    assert status == 1
    assert err == "typednet: error: ONNX export needs onnx: pip install 'typednet[onnx]'\n"
