"""ONNX export, checked against onnxruntime as a peer: the same outputs as `tn.forward`.

"Within r relative" here means every output within r times the largest output of its
network, so float32 rounding in a value near zero is not held to float64 standards.
Activations alone are also compared element by element over extreme inputs.
"""

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime
import pytest
from hypothesis import given
from hypothesis import strategies as st

import typednet as tn
from typednet.onnx import Graph

from .helpers import ACTIVATIONS, Scale

Layout = Literal["rows", "columns"]
RTOL = {np.dtype(np.float32): 1e-6, np.dtype(np.float64): 1e-12}


def _run(model: onnx.ModelProto, x: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The model's output for ``x``, computed by onnxruntime (CPU)."""
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    (y,) = session.run(None, {"x": x})
    return cast("npt.NDArray[Any]", y)


def _exported(net: tn.Network[Any, Any], x: npt.NDArray[Any], layout: Layout) -> npt.NDArray[Any]:
    """onnxruntime's output for typednet's columns ``x``, as columns again."""
    model = tn.to_onnx(net, layout=layout)
    if layout == "columns":
        return _run(model, x)
    return _run(model, np.ascontiguousarray(x.T)).T


def _assert_close(got: npt.NDArray[Any], want: npt.NDArray[Any]) -> None:
    assert got.dtype == want.dtype and got.shape == want.shape
    rtol = RTOL[want.dtype]
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * float(np.abs(want).max()))


# --- parity over random networks -----------------------------------------------------------


@st.composite
def networks(draw: st.DrawFn) -> tuple[tn.Network, npt.NDArray[Any]]:
    """A random chain of every layer kind and activation, and a batch for it."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    size = draw(st.integers(1, 6))
    activation = st.sampled_from(ACTIVATIONS)
    layers: list[tn.Layer[Any, Any] | tn.Activation] = []
    for kind in draw(
        st.lists(st.sampled_from(["dense", "layer_norm", "dropout", "activation"]), max_size=5)
    ):
        if kind == "dense":
            new = draw(st.integers(1, 6))
            layers.append(tn.dense(rng, size, new, draw(activation), dtype=dtype))
            size = new
        elif kind == "layer_norm":
            gain, shift = rng.normal(1, 0.5, (size, 1)), rng.normal(0, 0.5, (size, 1))
            eps = draw(st.sampled_from([1e-5, 1e-3, 0.5]))
            layers.append(tn.LayerNorm(gain=gain.astype(dtype), shift=shift.astype(dtype), eps=eps))
        elif kind == "dropout":
            layers.append(tn.dropout(0.5))
        else:
            layers.append(draw(activation))
    outputs = draw(st.integers(1, 5))
    layers.append(tn.dense(rng, size, outputs, draw(activation), dtype=dtype))
    net: tn.Network = tn.Network(tuple(layers))
    x = rng.normal(0, 2, (net.in_size, draw(st.integers(1, 7)))).astype(dtype)
    return net, x


@given(networks(), st.sampled_from(["rows", "columns"]))
def test_onnxruntime_matches_forward(
    case: tuple[tn.Network, npt.NDArray[Any]], layout: Layout
) -> None:
    net, x = case
    _assert_close(_exported(net, x, layout), tn.forward(net, x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ACTIVATIONS, ids=str)
def test_each_activation_over_extreme_inputs(
    activation: tn.Activation, dtype: type[np.floating[Any]]
) -> None:
    """Each activation alone, element by element, from overflow to the cancellation near 0.

    An identity Dense layer passes x through exactly (one product by 1, zeros added).
    """
    big = 700.0 if dtype is np.float64 else 80.0
    values = [
        -big,
        -50,
        -20,
        -3,
        -1,
        -1e-3,
        -1e-9,
        -1e-20,
        0,
        1e-20,
        1e-9,
        1e-3,
        0.5,
        1,
        3,
        20,
        big,
    ]
    x = np.array(values, dtype=dtype).reshape(-1, 1)
    n = x.shape[0]
    # For softmax, one sample per value beside 0 keeps each column's values comparable.
    if not activation.elementwise:
        x = np.vstack([x.T, np.zeros_like(x.T)])
        n = 2
    layer = tn.Dense(w=np.eye(n, dtype=dtype), b=np.zeros((n, 1), dtype), activation=activation)
    net = tn.network(layer)
    want = tn.forward(net, x)
    for layout in ("rows", "columns"):
        got = _exported(net, x, layout)
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=RTOL[want.dtype], atol=0)


@pytest.mark.parametrize(
    ("dtype", "values"),
    [
        (np.float64, [-708.5, -720.0, -740.0, -744.0, -745.0, -746.0]),
        (np.float32, [-87.5, -90.0, -100.0, -103.0, -104.0]),
    ],
)
@pytest.mark.parametrize("activation", [tn.elu(1.0), tn.elu(0.5), tn.selu], ids=str)
def test_elu_and_selu_where_exp_underflows_to_a_subnormal(
    activation: tn.Activation, dtype: type[np.floating[Any]], values: list[float]
) -> None:
    """exp(z) is subnormal there (e.g. exp(-740) = 4.2e-322): log of it has lost digits,
    and the exported expm1 was up to 7.5e-4 (float64) and 2.7e-3 (float32) off."""
    x = np.array(values, dtype=dtype).reshape(-1, 1)
    n = x.shape[0]
    layer = tn.Dense(w=np.eye(n, dtype=dtype), b=np.zeros((n, 1), dtype), activation=activation)
    net = tn.network(layer)
    want = tn.forward(net, x)
    for layout in ("rows", "columns"):
        np.testing.assert_allclose(_exported(net, x, layout), want, rtol=RTOL[want.dtype], atol=0)


def test_the_course_network_and_the_wine_shapes() -> None:
    from typednet.apps.tutorial import build

    net, x = build()[:2]
    _assert_close(_exported(net, x, "rows"), tn.forward(net, x))
    rng = np.random.default_rng(1)
    wine = tn.Network(
        (
            tn.dense(rng, 11, 64, tn.relu),
            tn.dense(rng, 64, 32, tn.relu),
            tn.dense(rng, 32, 1, tn.identity),
        )
    )
    batch = rng.normal(size=(11, 300))
    _assert_close(_exported(wine, batch, "rows"), tn.forward(wine, batch))


# --- the model itself ----------------------------------------------------------------------


def _shape(value: onnx.ValueInfoProto) -> list[str | int]:
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


@pytest.mark.parametrize(
    ("dtype", "elem"), [(np.float32, onnx.TensorProto.FLOAT), (np.float64, onnx.TensorProto.DOUBLE)]
)
def test_file_layout_and_dtype(tmp_path: Path, dtype: type[np.floating[Any]], elem: int) -> None:
    rng = np.random.default_rng(0)
    net = tn.network(tn.dense(rng, 5, 3, tn.tanh, dtype=dtype)).then(
        tn.dense(rng, 3, 2, tn.softmax, dtype=dtype)
    )
    for layout, x_shape, y_shape, w_shape, b_shape in [
        ("rows", ["batch", 5], ["batch", 2], (5, 3), (1, 3)),
        ("columns", [5, "batch"], [2, "batch"], (3, 5), (3, 1)),
    ]:
        path = tmp_path / f"{layout}.onnx"
        tn.to_onnx(net, path, layout=cast("Layout", layout))
        model = onnx.load(path)
        onnx.checker.check_model(model, full_check=True)
        graph = model.graph
        assert (_shape(graph.input[0]), _shape(graph.output[0])) == (x_shape, y_shape)
        assert graph.input[0].type.tensor_type.elem_type == elem
        assert graph.output[0].type.tensor_type.elem_type == elem
        arrays = {t.name: onnx.numpy_helper.to_array(t) for t in graph.initializer}
        w = arrays["layer1/w_t" if layout == "rows" else "layer1/w"]
        assert w.shape == w_shape and w.dtype == dtype
        assert np.array_equal(w, net.params[0].T if layout == "rows" else net.params[0])
        assert arrays["layer1/b"].shape == b_shape
        assert [n.op_type for n in graph.node] == ["Gemm", "Tanh", "Gemm", "Softmax"]
        softmax = graph.node[-1]
        assert softmax.output == ["y"]
        assert softmax.attribute[0].i == (1 if layout == "rows" else 0)  # the feature axis


def test_a_final_dropout_still_names_the_output_y() -> None:
    net = tn.network(tn.layer_norm(3)).then(tn.dropout(0.2))
    nodes = tn.to_onnx(net).graph.node
    assert (nodes[-1].op_type, list(nodes[-1].output)) == ("Add", ["y"])  # the shift
    x = np.random.default_rng(0).normal(size=(3, 4))
    _assert_close(_exported(net, x, "rows"), tn.forward(net, x))


class Unit(Scale):
    """A layer whose export passes its input through (as if s were all ones)."""

    kind = "test_unit"

    def to_onnx(self, graph: Graph, x: str) -> str:
        return x


def test_a_model_that_passes_its_input_through_names_the_output_y() -> None:
    net = tn.Network((Unit(s=np.ones((3, 1))), tn.dropout(0.1)))
    nodes = tn.to_onnx(net).graph.node
    assert [(n.op_type, list(n.input), list(n.output)) for n in nodes] == [
        ("Identity", ["x"], ["y"])
    ]
    x = np.random.default_rng(0).normal(size=(3, 4))
    assert np.array_equal(_exported(net, x, "columns"), x)


class ExportedScale(Scale):
    """A user's layer that adds its own export through the protocol."""

    kind = "test_exported_scale"

    def to_onnx(self, graph: Graph, x: str) -> str:
        return graph.node("Mul", [x, graph.per_feature(self.s, "s")], "scaled")


def test_a_users_layer_exports_itself() -> None:
    rng = np.random.default_rng(0)
    net = tn.Network((tn.dense(rng, 3, 4, tn.elu(0.5)), ExportedScale(s=rng.normal(size=(4, 1)))))
    x = rng.normal(size=(3, 5))
    for layout in ("rows", "columns"):
        _assert_close(_exported(net, x, layout), tn.forward(net, x))


# --- refusals ------------------------------------------------------------------------------


def test_a_layer_without_export_is_named(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    net = tn.Network((tn.dense(rng, 3, 4, tn.relu), Scale(s=np.ones((4, 1)))))
    path = tmp_path / "model.onnx"
    path.write_bytes(b"old")
    match = r"to_onnx: layer 2 \(Scale, kind 'test_scale'\) cannot be exported: Scale does not implement Layer.to_onnx"
    with pytest.raises(ValueError, match=match):
        tn.to_onnx(net, path)
    assert path.read_bytes() == b"old"
    graph = Graph("rows", np.dtype(np.float64))
    with pytest.raises(
        NotImplementedError, match=r"Scale \(kind 'test_scale'\) has no ONNX export"
    ):
        Scale(s=np.ones((4, 1))).to_onnx(graph, "x")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_non_finite_network_is_refused(tmp_path: Path, bad: float) -> None:
    rng = np.random.default_rng(0)
    first = tn.dense(rng, 3, 4, tn.relu)
    second = tn.dense(rng, 4, 2, tn.identity)
    b = second.b.copy()
    b[1, 0] = bad
    net = tn.Network((first, second.with_params((second.w, b))))  # as a diverged fit leaves it
    path = tmp_path / "model.onnx"
    with pytest.raises(
        ValueError,
        match=r"to_onnx: layer 2 \(dense\) b contains NaN or inf; a non-finite network cannot be exported",
    ):
        tn.to_onnx(net, path)
    assert not path.exists()


def test_an_activation_without_export_is_named() -> None:
    swish = tn.Activation("swish", None, lambda z: z / (1 + np.exp(-z)), lambda z, s, g: g)
    rng = np.random.default_rng(0)
    net = tn.Network((tn.dense(rng, 2, 3, tn.relu), tn.dense(rng, 3, 2, swish)))
    with pytest.raises(
        ValueError, match=r"to_onnx: layer 2 \(dense\): activation 'swish' has no ONNX export"
    ):
        tn.to_onnx(net)
    with pytest.raises(ValueError, match=r"to_onnx: layer 2 \(activation\): activation 'swish'"):
        tn.to_onnx(tn.Network((tn.dense(rng, 2, 3, tn.relu), swish)))


def test_a_bad_layout_is_refused() -> None:
    net = tn.network(tn.layer_norm(3))
    with pytest.raises(ValueError, match=r"layout must be 'rows' or 'columns', got 'batch'"):
        tn.to_onnx(net, layout="batch")  # type: ignore[arg-type]  # a bad value on purpose


def test_the_file_is_replaced_whole(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "model.onnx"
    path.write_bytes(b"old model")
    model = tn.to_onnx(tn.network(tn.dense(rng, 2, 2, tn.relu)), path)
    assert path.read_bytes() == model.SerializeToString()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]  # no temporary left


def test_without_onnx_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # as if onnx were not installed
    with pytest.raises(
        ImportError, match=r"ONNX export needs onnx: pip install 'typednet\[onnx\]'"
    ):
        tn.to_onnx(tn.network(tn.layer_norm(2)))


def test_graph_names_are_unique() -> None:
    graph = Graph("columns", np.dtype(np.float32))
    names: Sequence[str] = [graph.node("Relu", ["x"], "a") for _ in range(3)]
    assert names == ["a", "a_2", "a_3"]
    assert graph.constant(1.0, "one") == graph.constant(1.0, "other")  # a scalar is kept once
    assert graph.constants["one"].dtype == np.float32 and graph.constants["one"].shape == ()


@pytest.mark.parametrize("layout", ["rows", "columns"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm_exports_its_inference_pass(
    layout: Layout, dtype: type[np.floating[Any]]
) -> None:
    """BatchNormalization with the running statistics, as `tn.forward`, not the batch's."""
    rng = np.random.default_rng(0)
    bn = tn.BatchNorm(
        gamma=rng.normal(1, 0.3, (4, 1)).astype(dtype),
        beta=rng.normal(0, 0.3, (4, 1)).astype(dtype),
        running_mean=rng.normal(0, 2, (4, 1)).astype(dtype),
        running_var=rng.uniform(0.1, 3, (4, 1)).astype(dtype),
    )
    net = tn.network(tn.dense(rng, 3, 4, tn.relu, dtype=dtype)).then(bn)
    net = net.then(tn.dense(rng, 4, 2, tn.identity, dtype=dtype))
    x = rng.normal(size=(3, 7)).astype(dtype)
    _assert_close(_exported(net, x, layout), tn.forward(net, x))
    ops = [node.op_type for node in tn.to_onnx(net, layout=layout).graph.node]
    assert "BatchNormalization" in ops
