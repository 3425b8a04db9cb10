"""`tn.residual`: ``y = x + block(x)`` (or ``shortcut(x) + block(x)``) as one layer.

References are independent: the forward pass re-derived in plain NumPy from the params,
gradients by central differences, onnxruntime for the export. The shared invariants
(dtypes, optimizers, penalties, save/load, repr) run from `helpers.LAYERS`.
"""

import copy
import pickle
import re
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
import pytest

import typednet as tn
from typednet import _store


class Features(tn.Dim, size=3): ...


class Hidden(tn.Dim, size=5): ...


class Output(tn.Dim, size=2): ...


def _net(seed: int = 0, dtype: Any = np.float64) -> tn.Network[Features, Output]:
    """Features → [residual: Hidden → Features, + x] → [residual with a projection to
    Output, holding a nested residual] → sigmoid."""
    rng = np.random.default_rng(seed)

    def dense(p: Any, n: Any, a: tn.Activation) -> Any:
        layer = tn.dense(rng, p, n, a, dtype=dtype)
        return tn.Dense(w=layer.w, b=rng.normal(0, 0.3, layer.b.shape).astype(dtype),
                        activation=a, dims=layer.dims)  # fmt: skip

    block = tn.network(dense(Features, Hidden, tn.tanh)).then(dense(Hidden, Features, tn.identity))
    inner = tn.residual(tn.network(dense(Output, Output, tn.relu)))
    head = tn.network(dense(Features, Output, tn.tanh)).then(inner)
    return (
        tn.network(tn.residual(block))
        .then(tn.residual(head, shortcut=dense(Features, Output, tn.identity)))
        .then(tn.sigmoid)
    )


def _by_hand(net: tn.Network[Any, Any], x: np.ndarray) -> np.ndarray:
    """The same network re-derived from its params with plain NumPy."""
    (w1, b1, w2, b2, w3, b3, w4, b4, ws, bs) = net.params
    h = x + (w2 @ np.tanh(w1 @ x + b1) + b2)
    a = np.tanh(w3 @ h + b3)
    a = a + np.maximum(w4 @ a + b4, 0.0)
    out: np.ndarray = 1.0 / (1.0 + np.exp(-(a + ws @ h + bs)))
    return out


def _batch(dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.normal(size=(3, 7)).astype(dtype), rng.uniform(size=(2, 7)).astype(dtype)


def test_forward_equals_plain_numpy_and_leaves_the_input_alone() -> None:
    net = _net()
    x, _ = _batch()
    x0 = x.copy()
    np.testing.assert_allclose(tn.forward(net, x), _by_hand(net, x), rtol=1e-13)
    np.testing.assert_allclose(tn.forward_trace(net, x).y_hat, _by_hand(net, x), rtol=1e-13)
    np.testing.assert_array_equal(x, x0)


def test_the_params_are_named_through_the_tree_and_are_views_of_one_column() -> None:
    net = _net()
    outer = net.layers[1]
    assert isinstance(outer, tn.Residual)
    assert outer.param_names == (
        "block.1.w", "block.1.b", "block.2.block.1.w", "block.2.block.1.b",
        "shortcut.w", "shortcut.b",
    )  # fmt: skip
    column = _store.column(net)
    for p in (*net.params, *outer.block.params):
        assert np.shares_memory(p, column) and not p.flags.writeable
    # a training step's rebuild keeps the block's params views of the new column
    step = _store.rebuild(net, column * 2.0)
    assert all(np.shares_memory(p, _store.column(step)) for p in step.layers[1].block.params)  # type: ignore[union-attr]  # a Residual


@pytest.mark.parametrize("penalty", [None, tn.l2(0.1, include_bias=True)])
def test_gradient_matches_central_differences(penalty: tn.Penalty | None) -> None:
    net = _net()
    x, y = _batch()
    value, grads = tn.value_and_grad(net, x, y, tn.binary_cross_entropy, penalty=penalty)

    def loss(params: list[np.ndarray]) -> float:
        other = _store.from_params(net, params)
        extra = penalty.value(other) if penalty is not None else 0.0
        return tn.binary_cross_entropy(y, _by_hand(other, x)) + extra

    assert value == pytest.approx(loss(list(net.params)), rel=1e-12)
    h = 1e-6
    for k, p in enumerate(net.params):
        numeric = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            up, down = [q.copy() for q in net.params], [q.copy() for q in net.params]
            up[k][idx] += h
            down[k][idx] -= h
            numeric[idx] = (loss(up) - loss(down)) / (2 * h)
        np.testing.assert_allclose(grads.params[k], numeric, rtol=1e-6, atol=1e-9)


def test_float32_stays_float32() -> None:
    net = _net(dtype=np.float32)
    x, y = _batch(np.float32)
    assert tn.forward(net, x).dtype == np.float32
    assert all(g.dtype == np.float32 for g in tn.grad(net, x, y, tn.mse).params)


def test_fit_lowers_the_loss() -> None:
    net = _net()
    x, y = _batch()
    trained, history = tn.fit(
        net, x, y, loss=tn.mse, optimizer=tn.adam(0.05), epochs=30, batch_size=7,
        rng=np.random.default_rng(0), progress=False,
    )  # fmt: skip
    assert history.train_loss[-1] < 0.5 * tn.mse(y, tn.forward(net, x))
    assert repr(trained) == repr(net)


def test_save_load_pickle_and_deepcopy_round_trip(tmp_path: Path) -> None:
    net = _net()
    path = tmp_path / "net.npz"
    tn.save(path, net)
    typed: tn.Network[Features, Output] = tn.load(path, like=net)
    copies = [tn.load(path), typed, pickle.loads(pickle.dumps(net)), copy.deepcopy(net)]
    x, _ = _batch()
    for other in copies:
        assert repr(other) == repr(net)
        assert all(np.array_equal(a, b) for a, b in zip(other.params, net.params, strict=True))
        np.testing.assert_array_equal(tn.forward(other, x), tn.forward(net, x))
    assert typed.layers[0].dim_names() == ("Features", "Features")  # type: ignore[union-attr]  # a Residual
    info = tn.io.info(path).splitlines()
    assert info[1].startswith("  layer 1: residual [dense Features 3 → Hidden 5, tanh; dense ")


def test_load_like_a_different_block_is_refused(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "net.npz"
    tn.save(path, tn.network(tn.residual(tn.network(tn.dense(rng, 3, 3, tn.relu)))))
    other = tn.network(tn.residual(tn.network(tn.dense(rng, 3, 3, tn.tanh))))
    with pytest.raises(
        ValueError,
        match=re.escape(
            "layer 1 block: the file has [dense 3 → 3, relu], like= has [dense 3 → 3, tanh]"
        ),
    ):
        tn.load(path, like=other)


def test_a_block_that_changes_size_needs_a_shortcut() -> None:
    rng = np.random.default_rng(0)
    widen = tn.Network([tn.dense(rng, 3, 5, tn.relu)])
    with pytest.raises(
        tn.ShapeError,
        match=re.escape(
            "Residual(3 → 5): y = x + block(x) needs the block's output (next) to be its "
            "input (prev), got 3 → 5; to add a projection of x, pass "
            "shortcut=tn.dense(rng, prev, next, tn.identity)"
        ),
    ):
        tn.residual(widen)
    with pytest.raises(
        tn.ShapeError,
        match=re.escape("Residual(3 → 5) shortcut: expected (next, prev) = (5, 3) like the "
                        "block, got (3, 5); did you swap prev and next?"),
    ):  # fmt: skip
        tn.residual(widen, shortcut=tn.dense(rng, 5, 3, tn.identity))
    with pytest.raises(tn.ShapeError, match="params are float32 but the block's are float64"):
        tn.residual(widen, shortcut=tn.dense(rng, 3, 5, tn.identity, dtype=np.float32))
    with pytest.raises(TypeError, match="Residual: block must be a typednet Network, got Dense"):
        tn.residual(tn.dense(rng, 3, 3, tn.relu))  # type: ignore[call-overload]  # on purpose
    projected = tn.residual(widen, shortcut=tn.dense(rng, 3, 5, tn.identity))
    assert (projected.in_size, projected.out_size) == (3, 5)


def test_dims_that_differ_by_name_are_refused_too() -> None:
    class Other(tn.Dim, size=3): ...

    rng = np.random.default_rng(0)
    renamed = tn.Network([tn.dense(rng, Features, Other, tn.relu)])
    with pytest.raises(tn.ShapeError, match=re.escape("Residual(Features 3 → Other 3)")):
        tn.residual(renamed)


def test_dropout_inside_a_block_asks_for_an_rng() -> None:
    rng = np.random.default_rng(0)
    block = tn.network(tn.dense(rng, 3, 3, tn.relu)).then(tn.dropout(0.5))
    net = tn.network(tn.residual(block))
    x, _ = _batch()
    with pytest.raises(TypeError, match=r"layer 1 \(residual\(3 \(relu\) → dropout"):
        tn.grad(net, x, x, tn.mse)


@pytest.mark.parametrize("layout", ["rows", "columns"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_onnx_export_matches_onnxruntime(layout: Any, dtype: Any) -> None:
    net = _net(dtype=dtype)
    x, _ = _batch(dtype)
    model = tn.to_onnx(net, layout=layout)
    assert {"Add"} <= {node.op_type for node in model.graph.node}
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    fed = x if layout == "columns" else np.ascontiguousarray(x.T)
    got = np.asarray(session.run(None, {"x": fed})[0])
    got = got if layout == "columns" else got.T
    np.testing.assert_allclose(got, _by_hand(net, x), rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_the_diagram_draws_each_block_with_its_skips() -> None:
    net = _net()
    fig = tn.plot_network(net)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == [
        "input\nFeatures 3",
        "hidden 1\nHidden 5\ntanh",
        "hidden 2\nFeatures 3\nidentity\n+ skip (residual)",
        "hidden 3\nOutput 2\ntanh",
        "output\nOutput 2\nrelu\n+ skip (residual)\n+ skip (residual)\n+ sigmoid",
    ]
    skips = [p for p in fig.axes[0].patches if p.get_gid() == "skip"]
    assert len(skips) == 3  # the first block's x, the nested block's x, the shortcut
    arcs = sorted(t.get_text() for t in fig.axes[0].texts)
    assert arcs == ["+ shortcut 2 (identity)", "+ x", "+ x"]
    # The outer arc (from hidden 2 over the nested one) passes above it.
    tops = {t.get_text(): t.get_position()[1] for t in fig.axes[0].texts}
    assert tops["+ shortcut 2 (identity)"] > max(y for text, y in tops.items() if text == "+ x")
