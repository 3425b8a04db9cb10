"""The README's "What is checked, and when" table, row by row (issue 11).

The table is read from README.md, so a row that is added, removed or reworded fails
here until it has its test. Each row's run-time claim is tested by making the mistake;
each checker's column says "yes" where typings/README.md's table says that checker reports
every typings/fail line of the row, and "no" where it reports none of them
(tests/test_typings.py proves that table against the checkers themselves).
"""

import dataclasses
import json
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import typednet as tn

ROOT = Path(__file__).resolve().parents[1]


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
CHECKERS = ("mypy", "pyright", "pyrefly", "ty")
COLUMNS = {
    "mypy": "mypy --strict",
    "pyright": "pyright strict (Pylance)",
    "pyrefly": "pyrefly",
    "ty": "ty",
}
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


def _state_dict_transposed() -> None:
    """A torch nn.Sequential state_dict (float64) as .safetensors, its first weight
    transposed: written by hand from the format (length, JSON header, raw data)."""
    net = _net()
    w1, b1, w2, b2 = net.params
    tensors = {"0.weight": w1.T, "0.bias": b1[:, 0], "2.weight": w2, "2.bias": b2[:, 0]}
    header: dict[str, object] = {}
    data = b""
    for name, array in tensors.items():
        raw = np.ascontiguousarray(array, "<f8").tobytes()
        header[name] = {
            "dtype": "F64",
            "shape": list(array.shape),
            "data_offsets": [len(data), len(data) + len(raw)],
        }
        data += raw
    text = json.dumps(header).encode()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.safetensors"
        path.write_bytes(struct.pack("<Q", len(text)) + text + data)
        with pytest.raises(
            tn.ShapeError,
            match=r"module '0' \(layer 1, dense\) weight \(its w\): expected \(next, prev\) = \(3, 5\), got \(5, 3\); did you pass w.T\?$",
        ):
            tn.load_state_dict(path, like=net)


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


def _two_float_dtypes() -> None:
    y_hat = tn.forward(_net(), X)
    with pytest.raises(
        tn.ShapeError,
        match=r"^mse: y_true: expected dtype float64 \(y_pred's\), got float32; pass y_true.astype\(np.float64\)$",
    ):
        tn.mse(_any(Y.astype(np.float32)), y_hat)


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


def _targets() -> None:
    with pytest.raises(ValueError, match=r"^value_and_grad: binary_cross_entropy: y_true must be"):
        tn.value_and_grad(_net(), X, Y * 4, tn.binary_cross_entropy)
    net = tn.network(tn.dense(np.random.default_rng(0), Features, Output, tn.softmax))
    with pytest.raises(ValueError, match=r"^grad: cross_entropy: each column of y_true must sum"):
        tn.grad(net, X, Y, tn.cross_entropy)  # columns of 0.5s sum to 2


def _layer_norm_eps() -> None:
    with pytest.raises(ValueError, match=r"^LayerNorm: eps must stay a finite number > 0 in "):
        tn.layer_norm(3, eps=1e-50, dtype=np.float32)


def _batch_norm_one_column() -> None:
    rng = np.random.default_rng(0)
    net = tn.network(tn.dense(rng, 2, 3, tn.relu)).then(tn.batch_norm(3))
    with pytest.raises(
        ValueError, match=r"^grad: layer 2 \(batch_norm\) needs at least 2 columns per batch"
    ):
        tn.grad(net, np.ones((2, 1)), np.ones((3, 1)), tn.mse)


def _blocks_miswired() -> None:
    rng = np.random.default_rng(0)
    widen = tn.Network([tn.dense(rng, 3, 5, tn.relu)])
    with pytest.raises(tn.ShapeError, match=r"^Residual\(3 → 5\): y = x \+ block\(x\) needs"):
        tn.residual(widen)
    with pytest.raises(tn.ShapeError, match=r"^Parallel branch 2: takes 4 values per column"):
        tn.parallel(widen, tn.Network([tn.dense(rng, 4, 2, tn.relu)]))


def _parallel_out_size() -> None:
    class Six(tn.Dim, size=6): ...

    rng = np.random.default_rng(0)
    wide = tn.Network([tn.dense(rng, 3, 5, tn.relu)])
    with pytest.raises(tn.ShapeError, match=r"^Parallel\(out Six 6\): the branches give 5 \+ 5"):
        tn.parallel(wide, wide, out=Six)


def _activation_name() -> None:
    with pytest.raises(ValueError, match=r"^Activation: 'sigmoid' names typednet's own"):
        tn.Activation("sigmoid", None, np.tanh, lambda z, s, g: g * (1 - s * s))


# Each row: the typings/fail lines that show the mistake (file, code, as in typings/README.md's
# table, which tests/test_typings.py proves line by line), and the run-time test.
Cases = tuple[tuple[str, str], ...]
ROWS: dict[str, tuple[Cases, Callable[[], None]]] = {
    "layer wired to the wrong size: `.then(Dense[Features, ...])` after `Hidden`": (
        (("miswired.py", "net.then(skips)"), ("miswired.py", "net.then(restart)")),
        _wired_wrong,
    ),
    "an annotation inventing a network's dims: `net: Network[A, C] = tn.Network(layers)`": (
        (("typed_maths.py", "net: tn.Network[Features, Hidden2] = tn.Network(layers)"),),
        _nothing_at_run_time,
    ),
    "hand-written maths with `tn.Mat`: `x @ w1`, `w1.T @ x`, `w2 @ x`, `w1 @ x + b2`": (
        tuple(
            ("typed_maths.py", code)
            for code in ("a = x @ w1", "b = w1.T @ x", "c = w2 @ x", "d = w1 @ x + b2")
        ),
        _typed_maths,
    ),
    "`w.T` in a layer built from typed matrices: `tn.Dense.of(w.T, b, act)`": (
        (
            ("typed_maths.py", "g = tn.Dense.of(w=w1.T, b=b1, activation=tn.relu)"),
            (
                "typed_maths.py",
                "e = tn.network(first).then(tn.Dense.of(w=w2.T, b=b2, activation=tn.sigmoid))",
            ),
        ),
        _dense_of_transposed,
    ),
    "a 1-D array where a column or batch is due, from a typed expression (`np.zeros(5)`, `x[0]`)": (
        (
            ("rank.py", "tn.forward(net, vector)"),
            ("rank.py", "tn.mse(target, tn.forward(net, column))"),
        ),
        _one_d,
    ),
    "a 1-D array of unknown rank (`rng.normal(size=5)`, `np.loadtxt(...)`: NumPy's stubs do not give the rank)": (
        (
            ("rank.py", "tn.forward(net, rng.normal(size=5))"),
            ("rank.py", 'tn.forward(net, np.loadtxt("x.txt"))'),
        ),
        _one_d,
    ),
    "an integer or boolean array, bound to a variable or passed inline (`tn.forward(net, np.zeros((5, 1), dtype=np.int64))`)": (
        (
            ("dtype.py", "tn.forward(net, counts)"),
            ("dtype.py", "tn.Dense(w=flags, b=np.zeros((3, 1)), activation=tn.relu)"),
            ("dtype.py", "tn.forward(net, np.zeros((5, 1), dtype=np.int64))"),
            ("typed_maths.py", "h = tn.mat(np.zeros((3, 5), dtype=np.int64), Hidden1, Features)"),
        ),
        _integers,
    ),
    "an integer array assigned to an annotated variable (`x: tn.Matrix = np.zeros((5, 1), dtype=np.int64)`)": (
        (("dtype.py", "inline: tn.Matrix = np.zeros((5, 1), dtype=np.int64)"),),
        _integers,
    ),
    "an integer array from nested lists (`np.array([[1, 2], [3, 4]])`: NumPy's stubs give `dtype[Any]`)": (
        (("dtype.py", "tn.forward(net, np.array([[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]))"),),
        _integers,
    ),
    "assigning to a layer or network field": (
        (("frozen.py", "layer.w = np.zeros((3, 5))"), ("frozen.py", "net.layers = (layer,)")),
        _assignment,
    ),
    "a function returning a `Network` of the wrong dims": (
        (("wrong_return.py", "return hidden_only"),),
        _nothing_at_run_time,
    ),
    "grads or optimizer state of another network": (
        (
            ("learning.py", "optimizer.update(tn.grad(other, x, y, tn.mse), state, net)"),
            ("learning.py", "tn.apply_updates(net, other)"),
        ),
        _other_network,
    ),
    "targets in another float dtype than the predictions (`tn.mse(y32, y_hat64)`)": (
        (
            (
                "dtype.py",
                "tn.mse(np.zeros((3, 1), dtype=np.float32), tn.forward(net, np.zeros((5, 1))))",
            ),
        ),
        _two_float_dtypes,
    ),
    "`w` passed as `w.T` inside one layer, as plain arrays": ((), _transposed_weights),
    "samples as rows (`x.T`)": ((), _samples_as_rows),
    "a PyTorch state_dict whose weight is transposed or of another size (`tn.load_state_dict`)": (
        (),
        _state_dict_transposed,
    ),
    "input size, batch count, output size that do not match": ((), _sizes),
    "float32 data into a float64 network": ((), _float32_into_float64),
    "NaN or inf in params or training data, empty batch": ((), _non_finite),
    "targets a loss has no meaning for: labels outside [0, 1], or columns that do not sum to 1 under a categorical cross-entropy": (
        (),
        _targets,
    ),
    "a residual block whose output dim is not its input dim, branches of `tn.parallel` taking different dims": (
        (
            ("blocks.py", "tn.residual(widen)"),
            ("blocks.py", "tn.parallel(widen, later, out=Both)"),
        ),
        _blocks_miswired,
    ),
    "`tn.parallel(..., out=Dim)` where the Dim's size is not the sum of the branches' outputs": (
        (),
        _parallel_out_size,
    ),
    "a `LayerNorm` `eps` that rounds to 0 in its dtype (`1e-50` in float32)": ((), _layer_norm_eps),
    "a batch of 1 column in training a network with a `BatchNorm` (no variance to normalize by)": (
        (),
        _batch_norm_one_column,
    ),
    'an `Activation` of your own named like one of typednet\'s (`"sigmoid"`), which saving, pickling and the fused gradients would take for it': (
        (),
        _activation_name,
    ),
}


def _caught() -> dict[tuple[str, str], dict[str, bool]]:
    """typings/README.md's table: per (file, code), whether each checker reports it."""
    text = (ROOT / "typings" / "README.md").read_text(encoding="utf-8")
    section = text.split("## Which checker catches which mistake\n", 1)[1]
    lines = section[section.index("\n|") + 1 :].splitlines()[2:]
    rows = [line.strip("|").split(" | ") for line in lines[: lines.index("")]]
    return {
        (file.strip(), code.strip().strip("`")): {
            checker: cell.strip() != "—" for checker, cell in zip(CHECKERS, cells, strict=True)
        }
        for file, code, *cells in rows
    }


def test_every_row_has_a_test() -> None:
    assert sorted(TABLE) == sorted(ROWS)


@pytest.mark.parametrize("checker", CHECKERS)
@pytest.mark.parametrize("row", sorted(ROWS))
def test_the_static_columns(row: str, checker: str) -> None:
    cell = TABLE[row][COLUMNS[checker]]
    cases, _ = ROWS[row]
    caught = _caught()
    verdicts = [caught[case][checker] for case in cases]
    assert cell.startswith("yes") == (bool(verdicts) and all(verdicts)), (cell, cases)
    assert cell.startswith("no") == (not any(verdicts)), (cell, cases)


@pytest.mark.parametrize("row", sorted(ROWS))
def test_the_run_time_column(row: str) -> None:
    cell = TABLE[row][RUN]
    _, check = ROWS[row]
    assert (cell == "—") == (check is _nothing_at_run_time), cell
    check()
