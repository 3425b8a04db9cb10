"""The README's "What is checked, and when" table, row by row (issue 11).

The table is read from README.md, so a row that is added, removed or reworded fails
here until it has its test. Each row's run-time claim is tested by making the mistake;
each "yes" in the mypy and pyright columns points to the typings/fail file whose marked
lines tests/test_typings.py proves that checker rejects.
"""

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import typednet as tn

ROOT = Path(__file__).resolve().parents[1]
FAIL = ROOT / "typings" / "fail"


class Features(tn.Dim, size=5): ...


class Hidden(tn.Dim, size=3): ...


class Output(tn.Dim, size=4): ...


def _table() -> dict[str, dict[str, str]]:
    """The table's rows by their first cell, each as {column header: cell}."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## What is checked, and when", 1)[1]
    rest = section[section.index("\n|") + 1 :].splitlines()
    lines = rest[: next(i for i, line in enumerate(rest) if not line.startswith("|"))]
    split = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    header, rows = split[0], split[2:]
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


TABLE = _table()
MYPY = "mypy --strict"
PYRIGHT = "pyright strict (Pylance)"
RUN = "run time (`tn.ShapeError`)"


def _any(a: object) -> Any:
    """``a`` hidden from mypy: the mistakes below are the run-time half of each row."""
    return a


def _net() -> tn.Network[Features, Output]:
    rng = np.random.default_rng(0)
    return tn.network(tn.dense(rng, Features, Hidden, tn.relu)).then(
        tn.dense(rng, Hidden, Output, tn.sigmoid)
    )


X = np.random.default_rng(1).random((5, 8))
Y = np.full((4, 8), 0.5)


def _wired_wrong() -> None:
    rng = np.random.default_rng(0)
    first = tn.network(tn.dense(rng, Features, Hidden, tn.relu))
    wrong: Any = tn.dense(rng, Features, Output, tn.relu)  # mypy rejects it: see miswired.py
    with pytest.raises(
        tn.ShapeError,
        match=r"^layer 2 weights w: expected \(next, prev\) = \(4, 3\) to take layer 1's Hidden 3 outputs, got shape \(4, 5\) \(prev = Features 5\)$",
    ):
        first.then(wrong)


def _one_d() -> None:
    with pytest.raises(tn.ShapeError, match=r"pass x.reshape\(-1, 1\)$"):
        tn.forward(_net(), _any(X[:, 0]))


def _integers() -> None:
    for bad in (X.astype(np.int64), X > 0.5):
        with pytest.raises(
            tn.ShapeError,
            match=rf"expected a floating dtype, got {bad.dtype}; pass x.astype\(np.float64\)$",
        ):
            tn.forward(_net(), _any(bad))


def _assignment() -> None:
    assert "FrozenInstanceError" in TABLE["assigning to a layer or network field"][RUN]
    net = _net()
    layer: Any = net.layers[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        layer.w = np.zeros((3, 5))
    whole: Any = net
    with pytest.raises(dataclasses.FrozenInstanceError):
        whole.layers = ()
    assert isinstance(layer, tn.Dense)
    with pytest.raises(ValueError, match=r"^assignment destination is read-only$"):
        layer.w[0, 0] = 1.0
    with pytest.raises(ValueError, match=r"^assignment destination is read-only$"):
        net.params[1][0, 0] = 1.0


def _other_network() -> None:
    net = _net()
    rng = np.random.default_rng(2)
    other: Any = tn.network(tn.dense(rng, 5, 4, tn.relu)).then(tn.dense(rng, 4, 4, tn.sigmoid))
    opt = tn.adam()
    with pytest.raises(
        tn.ShapeError,
        match=r"^adam update: grads param 1 \(layer 1 w\): expected shape \(3, 5\) like params, got \(4, 5\)$",
    ):
        opt.update(tn.grad(other, X, Y, tn.mse), opt.init(net), net)
    with pytest.raises(
        tn.ShapeError,
        match=r"^adam update: state m param 1 \(layer 1 w\): expected shape \(3, 5\) like params, got \(4, 5\)$",
    ):
        opt.update(tn.grad(net, X, Y, tn.mse), opt.init(other), net)
    with pytest.raises(
        tn.ShapeError, match=r"^train_step: state m param 1 \(layer 1 w\): expected shape \(3, 5\)"
    ):
        tn.train_step(net, opt.init(other), X, Y, loss=tn.mse, optimizer=opt)
    with pytest.raises(tn.ShapeError, match=r"^apply_updates: updates param 1 \(layer 1 w\)"):
        tn.apply_updates(net, other)


def _transposed_weights() -> None:
    with pytest.raises(tn.ShapeError, match=r"did you pass w.T\?$"):
        tn.Dense(w=np.ones((5, 3)), b=np.zeros((3, 1)), activation=tn.relu)


def _samples_as_rows() -> None:
    with pytest.raises(tn.ShapeError, match=r"samples are columns: pass x.T$"):
        tn.forward(_net(), X.T)


def _sizes() -> None:
    net = _net()
    with pytest.raises(
        tn.ShapeError,
        match=r"^forward input x: expected \(features, batch\) = \(5, batch\), got shape \(4, 8\)",
    ):
        tn.forward(net, X[:4])
    with pytest.raises(
        tn.ShapeError,
        match=r"^grad target y: expected \(outputs, batch\) = \(4, 8\), got shape \(4, 1\)",
    ):
        tn.grad(net, X, Y[:, :1], tn.mse)  # a broadcastable y: refused
    with pytest.raises(
        tn.ShapeError,
        match=r"^grad target y: expected \(outputs, batch\) = \(4, 8\), got shape \(1, 8\)",
    ):
        tn.grad(net, X, Y[:1], tn.mse)
    with pytest.raises(tn.ShapeError, match=r"a loss never broadcasts"):
        tn.mse(Y[:, :1], Y)


def _float32_into_float64() -> None:
    with pytest.raises(
        tn.ShapeError,
        match=r"^forward input x: expected dtype float64 \(the network's\), got float32",
    ):
        tn.forward(_net(), X.astype(np.float32))


def _non_finite() -> None:
    with pytest.raises(ValueError, match=r"^Dense weights w: contains NaN or inf$"):
        tn.Dense(w=np.full((3, 5), np.nan), b=np.zeros((3, 1)), activation=tn.relu)
    net = _net()
    bad = X.copy()
    bad[2, 3] = np.inf
    opt = tn.sgd(0.1)
    calls: list[tuple[str, Callable[[], object]]] = [
        ("grad", lambda: tn.grad(net, bad, Y, tn.mse)),
        ("value_and_grad", lambda: tn.value_and_grad(net, bad, Y, tn.mse)),
        (
            "train_step",
            lambda: tn.train_step(net, opt.init(net), bad, Y, loss=tn.mse, optimizer=opt),
        ),
        (
            "fit",
            lambda: tn.fit(
                net,
                bad,
                Y,
                loss=tn.mse,
                optimizer=opt,
                epochs=1,
                batch_size=4,
                rng=np.random.default_rng(0),
            ),
        ),
    ]
    for where, call in calls:
        with pytest.raises(ValueError, match=rf"^{where}: x contains NaN or inf"):
            call()
    with pytest.raises(ValueError, match=r"^forward: the batch is empty \(x has 0 columns\)$"):
        tn.forward(net, X[:, :0])
    with pytest.raises(ValueError, match=r"^grad: the batch is empty"):
        tn.grad(net, X[:, :0], Y[:, :0], tn.mse)


def _typed_maths() -> None:
    class Hidden1(tn.Dim, size=3): ...

    w1 = tn.mat(np.ones((3, 5)), Hidden1, Features)
    x = tn.mat(np.ones((5, 1)), Features, tn.One)
    wrong: Any = x  # mypy and pyright reject x @ w1: see typed_maths.py
    with pytest.raises(
        tn.ShapeError,
        match=r"^Mat\[Features, One\] of shape \(5, 1\) float64 @ Mat\[Hidden1, Features\] of shape \(3, 5\) float64: expected the inner dims to agree$",
    ):
        _ = wrong @ w1


def _dense_of_transposed() -> None:
    class Hidden1(tn.Dim, size=3): ...

    w1: Any = tn.mat(np.ones((3, 5)), Hidden1, Features)  # checkers: see typed_maths.py
    b1 = tn.mat(np.zeros((3, 1)), Hidden1, tn.One)
    with pytest.raises(tn.ShapeError, match=r"did you pass w.T\?$"):
        tn.Dense.of(w1.T, b1, tn.relu)


def _nothing_at_run_time() -> None:
    """A function's return type is a static matter: there is no run-time claim."""


# Each row: (the typings/fail file for a "yes" in the mypy column, the same for the
# pyright column, the run-time test).
def _targets() -> None:
    with pytest.raises(ValueError, match=r"^value_and_grad: binary_cross_entropy: y_true must be"):
        tn.value_and_grad(_net(), X, Y * 4, tn.binary_cross_entropy)
    net = tn.network(tn.dense(np.random.default_rng(0), Features, Output, tn.softmax))
    with pytest.raises(ValueError, match=r"^grad: cross_entropy: each column of y_true must sum"):
        tn.grad(net, X, Y, tn.cross_entropy)  # columns of 0.5s sum to 2


def _layer_norm_eps() -> None:
    with pytest.raises(ValueError, match=r"^LayerNorm: eps must stay a finite number > 0 in "):
        tn.layer_norm(3, eps=1e-50, dtype=np.float32)


def _activation_name() -> None:
    with pytest.raises(ValueError, match=r"^Activation: 'sigmoid' names typednet's own"):
        tn.Activation("sigmoid", None, np.tanh, lambda z, s, g: g * (1 - s * s))


ROWS: dict[str, tuple[str | None, str | None, Callable[[], None]]] = {
    "layer wired to the wrong size: `.then(Dense[Features, ...])` after `Hidden`": (
        "miswired.py",
        "miswired.py",
        _wired_wrong,
    ),
    "an annotation inventing a network's dims: `net: Network[A, C] = tn.Network(layers)`": (
        "typed_maths.py",
        "typed_maths.py",
        _nothing_at_run_time,
    ),
    "hand-written maths with `tn.Mat`: `x @ w1`, `w1.T @ x`, `w2 @ x`, `w1 @ x + b2`": (
        "typed_maths.py",
        "typed_maths.py",
        _typed_maths,
    ),
    "`w.T` in a layer built from typed matrices: `tn.Dense.of(w.T, b, act)`": (
        "typed_maths.py",
        "typed_maths.py",
        _dense_of_transposed,
    ),
    "a 1-D array where a column or batch is due, from a typed expression (`np.zeros(5)`, `x[0]`)": (
        "rank.py",
        "rank.py",
        _one_d,
    ),
    "a 1-D array of unknown rank (`rng.normal(size=5)`, `np.loadtxt(...)`: NumPy's stubs do not give the rank)": (
        None,
        None,
        _one_d,
    ),
    "an integer or boolean array bound to a variable first (`counts = np.zeros((5, 1), dtype=np.int64)`)": (
        "dtype.py",
        "dtype.py",
        _integers,
    ),
    "an integer array inline (`tn.forward(net, np.zeros((5, 1), dtype=np.int64))`) or assigned to an annotated variable": (
        None,
        "dtype.py",
        _integers,
    ),
    "assigning to a layer or network field": ("frozen.py", "frozen.py", _assignment),
    "a function returning a `Network` of the wrong dims": (
        "wrong_return.py",
        "wrong_return.py",
        _nothing_at_run_time,
    ),
    "grads or optimizer state of another network": ("learning.py", "learning.py", _other_network),
    "`w` passed as `w.T` inside one layer, as plain arrays": (None, None, _transposed_weights),
    "samples as rows (`x.T`)": (None, None, _samples_as_rows),
    "input size, batch count, output size that do not match": (None, None, _sizes),
    "float32 data into a float64 network": (None, None, _float32_into_float64),
    "NaN or inf in params or training data, empty batch": (None, None, _non_finite),
    "targets a loss has no meaning for: labels outside [0, 1], or columns that do not sum to 1 under a categorical cross-entropy": (
        None,
        None,
        _targets,
    ),
    "a `LayerNorm` `eps` that rounds to 0 in its dtype (`1e-50` in float32)": (
        None,
        None,
        _layer_norm_eps,
    ),
    'an `Activation` of your own named like one of typednet\'s (`"sigmoid"`), which saving, pickling and the fused gradients would take for it': (
        None,
        None,
        _activation_name,
    ),
}


def test_every_row_has_a_test() -> None:
    assert sorted(TABLE) == sorted(ROWS)


@pytest.mark.parametrize("row", sorted(ROWS))
def test_the_mypy_column(row: str) -> None:
    cell = TABLE[row][MYPY]
    fail_file, _, _ = ROWS[row]
    assert cell.startswith("yes") == (fail_file is not None), cell
    if fail_file is not None:
        marks = re.findall(r"# E: \[[\w-]+\]", (FAIL / fail_file).read_text(encoding="utf-8"))
        assert marks, fail_file  # tests/test_typings.py checks that mypy reports each


@pytest.mark.parametrize("row", sorted(ROWS))
def test_the_pyright_column(row: str) -> None:
    cell = TABLE[row][PYRIGHT]
    _, fail_file, _ = ROWS[row]
    assert cell.startswith("yes") == (fail_file is not None), cell
    if fail_file is not None:
        marks = re.findall(r"# P: \[\w+\]", (FAIL / fail_file).read_text(encoding="utf-8"))
        assert marks, fail_file  # tests/test_typings.py checks that pyright reports each


@pytest.mark.parametrize("row", sorted(ROWS))
def test_the_run_time_column(row: str) -> None:
    cell = TABLE[row][RUN]
    _, _, check = ROWS[row]
    assert (cell == "—") == (check is _nothing_at_run_time), cell
    check()
