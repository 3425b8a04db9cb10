import itertools
import re

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st

import typednet as tn

ACTIVATIONS = [
    tn.identity,
    tn.relu,
    tn.leaky_relu(0.1),
    tn.sigmoid,
    tn.tanh,
    tn.softmax,
    tn.elu(1.0),
]


@st.composite
def architectures(draw: st.DrawFn) -> tuple[tn.Network, np.ndarray]:
    """A random dense network (1-6 layers, 1-64 nodes) and a batch (1-64 columns)."""
    sizes = draw(st.lists(st.integers(1, 64), min_size=2, max_size=7))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    seed = draw(st.integers(0, 2**32 - 1))
    batch = draw(st.integers(1, 64))
    rng = np.random.default_rng(seed)
    layers = [
        tn.dense(rng, p, n, draw(st.sampled_from(ACTIVATIONS)), dtype=dtype)
        for p, n in itertools.pairwise(sizes)
    ]
    x = rng.normal(size=(sizes[0], batch)).astype(dtype)
    return tn.Network(tuple(layers)), x


def _plain_loop(net: tn.Network, x: np.ndarray) -> np.ndarray:
    """An independent reference: one column at a time, one node at a time."""
    columns = []
    for c in range(x.shape[1]):
        h: npt.NDArray[np.float64] = x[:, c].astype(np.float64)
        for layer in net.layers:
            assert isinstance(layer, tn.Dense)
            pre = np.array(
                [
                    sum(layer.w[i, j] * h[j] for j in range(h.size)) + layer.b[i, 0]
                    for i in range(layer.w.shape[0])
                ]
            )
            h = layer.activation(pre.reshape(-1, 1))[:, 0].astype(np.float64)
        columns.append(h)
    return np.stack(columns, axis=1)


@given(architectures())
def test_output_shape_dtype_and_inputs_untouched(case: tuple[tn.Network, np.ndarray]) -> None:
    net, x = case
    before = x.copy()
    params_before = [p.copy() for p in net.params]
    y_hat = tn.forward(net, x)
    assert y_hat.shape == (net.out_size, x.shape[1])
    assert y_hat.dtype == net.dtype == x.dtype
    np.testing.assert_array_equal(x, before)
    for p, q in zip(net.params, params_before, strict=True):
        np.testing.assert_array_equal(p, q)


@given(architectures())
def test_batch_equals_column_by_column(case: tuple[tn.Network, np.ndarray]) -> None:
    net, x = case
    y_hat = tn.forward(net, x)
    columns = np.concatenate([tn.forward(net, x[:, [c]]) for c in range(x.shape[1])], axis=1)
    tol = 1e-5 if net.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y_hat, columns, rtol=tol, atol=tol)


@given(architectures())
def test_matches_a_plain_loop(case: tuple[tn.Network, np.ndarray]) -> None:
    net, x = case
    x = x[:, :4]
    tol = 1e-4 if net.dtype == np.float32 else 1e-10
    np.testing.assert_allclose(tn.forward(net, x), _plain_loop(net, x), rtol=tol, atol=tol)


@given(architectures())
def test_trace_agrees_with_forward(case: tuple[tn.Network, np.ndarray]) -> None:
    net, x = case
    trace = tn.forward_trace(net, x)
    assert len(trace.pre) == len(trace.post) == len(net.layers)
    np.testing.assert_array_equal(trace.y_hat, tn.forward(net, x))
    h = x
    for layer, pre, post in zip(net.layers, trace.pre, trace.post, strict=True):
        assert isinstance(layer, tn.Dense)
        np.testing.assert_allclose(pre, layer.w @ h + layer.b, rtol=1e-5)
        np.testing.assert_array_equal(post, layer.activation(pre))
        h = post


NET = tn.network(tn.dense(np.random.default_rng(0), 5, 3, tn.relu)).then(
    tn.dense(np.random.default_rng(1), 3, 2, tn.sigmoid)
)


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (
            np.zeros((1, 5)),
            "forward input x: expected (features, batch) = (5, batch), got shape (1, 5) float64; "
            "samples are columns: pass x.T",
        ),
        (
            np.zeros(5),
            "forward input x: expected (features, batch) = (5, batch), got a 1-D array of shape "
            "(5,) float64; a sample is a column: pass x.reshape(-1, 1)",
        ),
        (
            np.zeros((4, 7)),
            "forward input x: expected (features, batch) = (5, batch), got shape (4, 7) float64",
        ),
        (
            np.zeros((5, 1), np.int64),
            "forward input x: expected a floating dtype, got int64; pass x.astype(np.float64)",
        ),
        (
            np.zeros((5, 1), np.float32),
            "forward input x: expected dtype float64 (the network's), got float32; "
            "pass x.astype(np.float64) or build the network in float32",
        ),
        (
            [[1.0]] * 5,
            "forward input x: expected (features, batch) = (5, batch), got a list, "
            "not a NumPy array; convert it with np.asarray(...)",
        ),
        (
            np.zeros((5, 1, 1)),
            "forward input x: expected (features, batch) = (5, batch), got a 3-D array of shape "
            "(5, 1, 1) float64",
        ),
    ],
)
def test_bad_inputs_are_shape_errors(x: object, message: str) -> None:
    with pytest.raises(tn.ShapeError, match=f"^{re.escape(message)}$"):
        tn.forward(NET, x)  # type: ignore[call-overload]  # bad input is the test
    with pytest.raises(
        tn.ShapeError, match=f"^{re.escape(message.replace('forward', 'forward_trace', 1))}$"
    ):
        tn.forward_trace(NET, x)  # type: ignore[arg-type]  # bad input is the test


def test_empty_batch_is_a_value_error() -> None:
    with pytest.raises(
        ValueError, match=re.escape("forward: the batch is empty (x has 0 columns)")
    ):
        tn.forward(NET, np.zeros((5, 0)))


def test_no_checks_skips_the_input_check_only() -> None:
    x = np.ones((5, 3), np.float32)
    with tn.no_checks():
        y_hat = tn.forward(NET, x)  # unchecked: NumPy promotes float32 to float64
    assert y_hat.dtype == np.float64
    with pytest.raises(tn.ShapeError):
        tn.forward(NET, x)


def test_a_single_column_works() -> None:
    assert tn.forward(NET, np.ones((5, 1))).shape == (2, 1)


def test_an_equal_dtype_that_is_not_numpys_own_object_is_taken() -> None:
    # forward's quick check compares dtypes by identity; an equal dtype object (here one
    # with metadata) falls through to the full check, which takes it: the same bits.
    x = np.random.default_rng(2).normal(size=(5, 3))
    tagged = x.astype(np.dtype(np.float64, metadata={"unit": "m"}))
    assert tagged.dtype is not x.dtype
    assert tn.forward(NET, tagged).tobytes() == tn.forward(NET, x).tobytes()
