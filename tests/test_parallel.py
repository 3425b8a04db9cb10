"""`tn.parallel` (branches concatenated along features), `tn.take` (a slice of them) and
`tn.summary` (the tree of blocks).

References are independent: the forward pass re-derived in plain NumPy from the params,
gradients by central differences, onnxruntime for the export, sizes counted by hand.
"""

import copy
import pickle
import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
import onnxruntime
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.collections import LineCollection

import typednet as tn
from typednet import _store


class Features(tn.Dim, size=4): ...


class Three(tn.Dim, size=3): ...


class Both(tn.Dim, size=7): ...


class Two(tn.Dim, size=2): ...


class Output(tn.Dim, size=1): ...


def _net(seed: int = 0, dtype: Any = np.float64) -> tn.Network[Features, Output]:
    """Features → parallel(layer_norm | dense 3 (tanh)) → take rows 2:4 → dense 1."""
    rng = np.random.default_rng(seed)
    norm = tn.network(tn.layer_norm(Features, dtype=dtype))
    wide = tn.network(tn.dense(rng, Features, Three, tn.tanh, dtype=dtype))
    return (
        tn.network(tn.parallel(norm, wide, out=Both))
        .then(tn.take(Both, 2, 4, Two))
        .then(tn.dense(rng, Two, Output, tn.sigmoid, dtype=dtype))
    )


def _by_hand(net: tn.Network[Any, Any], x: np.ndarray) -> np.ndarray:
    gain, shift, w1, b1, w2, b2 = net.params
    mean = x.mean(axis=0, keepdims=True)
    std = np.sqrt(((x - mean) ** 2).mean(axis=0, keepdims=True) + 1e-5)
    stacked = np.vstack([gain * (x - mean) / std + shift, np.tanh(w1 @ x + b1)])
    out: np.ndarray = 1.0 / (1.0 + np.exp(-(w2 @ stacked[2:4] + b2)))
    return out


def _batch(dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.normal(size=(4, 6)).astype(dtype), rng.uniform(size=(1, 6)).astype(dtype)


def _central_differences(net: tn.Network[Any, Any], loss: Any) -> list[np.ndarray]:
    h = 1e-6
    out = []
    for k, p in enumerate(net.params):
        numeric = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            up, down = [q.copy() for q in net.params], [q.copy() for q in net.params]
            up[k][idx] += h
            down[k][idx] -= h
            numeric[idx] = (
                loss(_store.from_params(net, up)) - loss(_store.from_params(net, down))
            ) / (2 * h)
        out.append(numeric)
    return out


def test_forward_equals_plain_numpy_and_names_the_params_by_branch() -> None:
    net = _net()
    x, _ = _batch()
    x0 = x.copy()
    np.testing.assert_allclose(tn.forward(net, x), _by_hand(net, x), rtol=1e-13)
    np.testing.assert_array_equal(x, x0)
    block = net.layers[0]
    assert isinstance(block, tn.Parallel)
    assert block.param_names == (
        "branch.1.1.gain",
        "branch.1.1.shift",
        "branch.2.1.w",
        "branch.2.1.b",
    )
    assert (block.in_size, block.out_size, block.dim_names()) == (4, 7, ("Features", "Both"))


def test_gradient_matches_central_differences() -> None:
    net = _net()
    x, y = _batch()
    grads = tn.grad(net, x, y, tn.mse, penalty=tn.l1(0.1))
    numeric = _central_differences(
        net, lambda other: tn.mse(y, _by_hand(other, x)) + tn.l1(0.1).value(other)
    )
    for g, n in zip(grads.params, numeric, strict=True):
        np.testing.assert_allclose(g, n, rtol=1e-6, atol=1e-9)


@st.composite
def _architectures(draw: st.DrawFn) -> tuple[tn.Network, np.ndarray, np.ndarray]:
    """A random small chain mixing dense layers, residual and parallel blocks and takes."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    acts = st.sampled_from([tn.tanh, tn.sigmoid, tn.softplus, tn.identity])
    width = draw(st.integers(2, 4))

    def dense(p: int, n: int) -> tn.Dense:
        return tn.Dense(w=rng.normal(0, 0.7, (n, p)), b=rng.normal(0, 0.3, (n, 1)),
                        activation=draw(acts))  # fmt: skip

    first = dense(width, width)
    layers: list[tn.Layer[Any, Any] | tn.Activation] = [first]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["dense", "residual", "parallel", "take"]))
        if kind == "residual":
            inner = tn.Network([dense(width, 3), dense(3, width)])
            shortcut = dense(width, width) if draw(st.booleans()) else None
            layers.append(tn.residual(inner, shortcut=shortcut) if shortcut else tn.residual(inner))
        elif kind == "parallel":
            out = draw(st.integers(1, 3))
            layers.append(
                tn.parallel(tn.Network([dense(width, out)]), tn.Network([tn.take(width, 0, 1)]))
            )
            width = out + 1
        elif kind == "take" and width > 1:
            start = draw(st.integers(0, width - 1))
            layers.append(tn.take(width, start, width))
            width -= start
        else:
            layers.append(dense(width, width))
    layers.append(dense(width, 2))
    x = rng.normal(size=(first.in_size, 3))
    return tn.Network(layers), x, rng.normal(size=(2, 3))


@settings(max_examples=25, deadline=None)
@given(_architectures())
def test_random_architectures_match_central_differences(
    case: tuple[tn.Network, np.ndarray, np.ndarray],
) -> None:
    net, x, y = case
    grads = tn.grad(net, x, y, tn.mse)
    numeric = _central_differences(net, lambda other: tn.mse(y, tn.forward(other, x)))
    for g, n in zip(grads.params, numeric, strict=True):
        np.testing.assert_allclose(g, n, rtol=1e-5, atol=1e-8)


def test_a_declared_out_dim_must_be_the_sum_of_the_branches() -> None:
    class Six(tn.Dim, size=6): ...

    rng = np.random.default_rng(0)
    norm = tn.network(tn.layer_norm(Features))
    wide = tn.network(tn.dense(rng, Features, Three, tn.tanh))
    with pytest.raises(
        tn.ShapeError,
        match=re.escape(
            "Parallel(out Six 6): the branches give 4 + 3 = 7 values per column, but Six has "
            "size 6; declare a Dim of size 7"
        ),
    ):
        tn.parallel(norm, wide, out=Six)


def test_branches_must_take_the_same_input_and_dtype() -> None:
    rng = np.random.default_rng(0)
    four = tn.Network([tn.dense(rng, 4, 2, tn.relu)])
    with pytest.raises(
        tn.ShapeError,
        match=re.escape(
            "Parallel branch 2: takes 5 values per column, but branch 1 takes 4; every branch "
            "takes the same input"
        ),
    ):
        tn.parallel(four, tn.Network([tn.dense(rng, 5, 2, tn.relu)]))
    with pytest.raises(tn.ShapeError, match="Parallel branch 2: params are float32 but branch 1"):
        tn.parallel(four, tn.Network([tn.dense(rng, 4, 2, tn.relu, dtype=np.float32)]))
    with pytest.raises(
        TypeError, match="Parallel branch 2: expected a typednet Network, got Dense"
    ):
        tn.parallel(four, tn.dense(rng, 4, 2, tn.relu))  # type: ignore[call-overload]  # on purpose
    with pytest.raises(TypeError, match="Parallel: branches must be a non-empty tuple"):
        tn.parallel()


def test_take_checks_its_rows_and_dims() -> None:
    with pytest.raises(
        ValueError, match=re.escape("take: rows 2:2 of 4: need 0 <= start < stop <= size")
    ):
        tn.take(4, 2, 2)
    with pytest.raises(ValueError, match=re.escape("take: rows 1:5 of 4")):
        tn.take(4, 1, 5)
    with pytest.raises(
        tn.ShapeError, match=re.escape("take(Features 4 → Three 3): rows 0:2 of 4 give 2")
    ):
        tn.take(Features, 0, 2, Three)
    with pytest.raises(TypeError, match="take: start must be an int, got float"):
        tn.take(4, 1.0, 2)  # type: ignore[call-overload]  # on purpose
    x = np.arange(8.0).reshape(4, 2)
    y = tn.forward(tn.Network([tn.take(4, 1, 3)]), x)
    np.testing.assert_array_equal(y, [[2.0, 3.0], [4.0, 5.0]])
    assert not np.shares_memory(y, x)


def test_float32_stays_float32_with_a_branch_without_params() -> None:
    net = _net(dtype=np.float32)
    x, y = _batch(np.float32)
    assert tn.forward(net, x).dtype == np.float32
    assert all(g.dtype == np.float32 for g in tn.grad(net, x, y, tn.mse).params)


def test_save_load_pickle_and_deepcopy_round_trip(tmp_path: Path) -> None:
    net = _net()
    path = tmp_path / "net.npz"
    tn.save(path, net)
    typed: tn.Network[Features, Output] = tn.load(path, like=net)
    x, _ = _batch()
    for other in (tn.load(path), typed, pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
        assert repr(other) == repr(net)
        np.testing.assert_array_equal(tn.forward(other, x), tn.forward(net, x))
    assert typed.layers[0].dim_names() == ("Features", "Both")  # type: ignore[union-attr]  # a Parallel
    assert typed.layers[1].dim_names() == ("Both", "Two")  # type: ignore[union-attr]  # a Take
    lines = tn.io.info(path).splitlines()
    assert lines[1] == (
        "  layer 1: parallel [layer_norm Features 4, eps 1e-05] "
        "[dense Features 4 → Three 3, tanh] → Both"
    )
    assert lines[2] == "  layer 2: take Both 7 → Two 2, rows 2:4"


def test_fit_and_onnx_export_match() -> None:
    net = _net()
    x, y = _batch()
    trained, history = tn.fit(net, x, y, loss=tn.mse, optimizer=tn.adam(0.05), epochs=20,
                              batch_size=6, rng=np.random.default_rng(0), progress=False)  # fmt: skip
    assert history.train_loss[-1] < tn.mse(y, tn.forward(net, x))
    layouts: tuple[Literal["rows", "columns"], ...] = ("rows", "columns")
    for layout in layouts:
        model = tn.to_onnx(trained, layout=layout)
        assert {"Concat", "Slice"} <= {node.op_type for node in model.graph.node}
        session = onnxruntime.InferenceSession(
            model.SerializeToString(), providers=["CPUExecutionProvider"]
        )
        fed = x if layout == "columns" else np.ascontiguousarray(x.T)
        got = np.asarray(session.run(None, {"x": fed})[0])
        got = got if layout == "columns" else got.T
        np.testing.assert_allclose(got, _by_hand(trained, x), rtol=1e-12)


def test_summary_shows_the_tree_in_next_prev_terms() -> None:
    rng = np.random.default_rng(0)
    block = tn.network(tn.dense(rng, Features, Three, tn.relu)).then(
        tn.dense(rng, Three, Features, tn.identity)
    )
    branches = tn.parallel(
        tn.network(tn.layer_norm(Features)),
        tn.network(tn.dense(rng, Features, Three, tn.tanh)),
        out=Both,
    )
    net = tn.network(tn.residual(block)).then(branches).then(tn.relu)
    assert tn.summary(net).splitlines() == [
        "layer         kind              (next, prev)              params",
        "1             residual          (Features 4, Features 4)      31",
        "  block.1     dense (relu)      (Three 3, Features 4)         15",
        "  block.2     dense (identity)  (Features 4, Three 3)         16",
        "2             parallel          (Both 7, Features 4)          23",
        "  branch.1.1  layer_norm        (Features 4, Features 4)       8",
        "  branch.2.1  dense (tanh)      (Three 3, Features 4)         15",
        "3             relu              -                              0",
        "Network 4 → 7, 54 params",
    ]


def test_the_diagram_draws_the_branches_and_the_take() -> None:
    fig = tn.plot_network(_net())
    labels = sorted(t.get_text() for t in fig.axes[0].texts if t.get_gid() == "label")
    assert labels == sorted(["input\nFeatures 4", "branch 1\n4\n+ layer_norm",
                             "hidden 1\nThree 3\ntanh", "concat\nBoth 7",
                             "take\nTwo 2\nrows 2:4", "output\nOutput 1\nsigmoid"])  # fmt: skip
    by_gid = {c.get_gid(): c for c in fig.axes[0].collections}
    edges, maps = by_gid["edges"], by_gid["maps"]
    assert isinstance(edges, LineCollection) and isinstance(maps, LineCollection)
    assert len(edges.get_segments()) == 4 * 3 + 2 * 1  # the Dense layers' weights
    # The layer norm's 4 units in and out, the tanh branch's 3 into the join, the take's 2.
    assert len(maps.get_segments()) == 4 + 4 + 3 + 2
