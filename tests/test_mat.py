"""tn.Mat at run time: checked construction, hand-computed maths, pinned errors.

What the checkers reject is in typings/ (typed_maths.py); here, what happens when the
static types are bypassed or cannot see a size (the batch axis).
"""

import re
import runpy
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest

import typednet as tn

ROOT = Path(__file__).resolve().parents[1]


class Features(tn.Dim, size=2): ...


class Hidden(tn.Dim, size=3): ...


class Other(tn.Dim, size=3): ...


class Rows(tn.BatchDim): ...


W = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])  # (Hidden, Features)


def test_mat_copies_and_freezes_the_array() -> None:
    a = W.copy()
    m = tn.mat(a, Hidden, Features)
    a[0, 0] = 100.0
    assert m.array[0, 0] == 1.0
    assert a.flags.writeable
    assert not m.array.flags.writeable
    assert m.dims == (Hidden, Features)
    assert m.shape == (3, 2)
    with pytest.raises(ValueError, match="read-only"):
        m.array[0, 0] = 5.0


def test_a_mat_has_no_setters_and_is_built_by_mat_only() -> None:
    m = tn.mat(W, Hidden, Features)
    with pytest.raises(AttributeError, match="array"):
        m.array = W  # type: ignore[misc]  # read-only on purpose: what this test checks
    with pytest.raises(TypeError, match=re.escape("build a Mat with tn.mat(array, Rows, Cols)")):
        tn.Mat()


def test_np_asarray_gives_the_read_only_array_without_a_copy() -> None:
    m = tn.mat(W, Hidden, Features)
    assert np.asarray(m) is m.array
    copied = np.array(m, copy=True)
    assert copied.flags.writeable
    np.testing.assert_array_equal(copied, W)
    single = np.asarray(m, dtype=np.float32)
    assert single.dtype == np.float32
    assert single.tolist() == W.tolist()  # small whole numbers: exact in float32


def test_batch_dims_take_any_size_and_dims_any_dtype_of_float() -> None:
    for n in (1, 7):
        assert tn.mat(np.zeros((2, n)), Features, tn.Samples).shape == (2, n)
    assert tn.mat(np.zeros((2, 4), np.float32), Features, Rows).array.dtype == np.float32


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (
            W.T,
            "tn.mat(array, Hidden, Features): expected (Hidden, Features) = (3, 2), "
            "got shape (2, 3) float64; did you pass array.T?",
        ),
        (
            np.zeros((3, 4)),
            "tn.mat(array, Hidden, Features): expected (Hidden, Features) = (3, 2), "
            "got shape (3, 4) float64",
        ),
        (
            np.zeros(3),
            "tn.mat(array, Hidden, Features): expected (Hidden, Features) = (3, 2), "
            "got a 1-D array of shape (3,) float64",
        ),
        (
            np.zeros((3, 2), dtype=np.int64),
            "tn.mat(array, Hidden, Features): expected a floating dtype, got int64; "
            "pass array.astype(np.float64)",
        ),
        (
            [[1.0, 2.0]] * 3,
            "tn.mat(array, Hidden, Features): expected (Hidden, Features) = (3, 2), "
            "got a list, not a NumPy array; convert it with np.asarray(...)",
        ),
    ],
    ids=["transposed", "wrong size", "1-D", "int", "list"],
)
def test_mat_rejects_a_wrong_shape_rank_or_dtype(array: object, message: str) -> None:
    with pytest.raises(tn.ShapeError, match=re.escape(message) + "$"):
        tn.mat(cast(tn.Matrix, array), Hidden, Features)


def test_mat_rejects_non_finite_values_and_non_dims() -> None:
    bad = W.copy()
    bad[1, 1] = np.nan
    with pytest.raises(
        ValueError, match=re.escape("tn.mat(array, Hidden, Features): contains NaN or inf")
    ):
        tn.mat(bad, Hidden, Features)
    with pytest.raises(
        TypeError,
        match=re.escape("dims must be tn.Dim or tn.BatchDim subclasses, got <class 'int'>"),
    ):
        tn.mat(W, Hidden, int)
    with pytest.raises(TypeError, match="Rows is a batch axis, not a value"):
        Rows()


def test_transpose_swaps_the_dims() -> None:
    t = tn.mat(W, Hidden, Features).T
    assert t.dims == (Features, Hidden)
    assert t.array.tolist() == [[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]


def test_matmul_and_column_bias_by_hand() -> None:
    w = tn.mat(W, Hidden, Features)
    x = tn.mat(np.array([[1.0, 0.0], [-1.0, 2.0]]), Features, tn.Samples)
    b = tn.mat(np.array([[0.5], [0.0], [-1.0]]), Hidden, tn.One)
    pre = w @ x + b
    # Row i, column j: W[i] . x[:, j] + b[i], worked out by hand.
    assert pre.array.tolist() == [[-0.5, 4.5], [-1.0, 8.0], [-2.0, 11.0]]
    assert pre.dims == (Hidden, tn.Samples)
    assert (pre - b).array.tolist() == [[-1.0, 4.0], [-1.0, 8.0], [-1.0, 12.0]]
    assert (pre - pre).array.tolist() == [[0.0, 0.0]] * 3
    assert not pre.array.flags.writeable


def test_batch_sizes_that_differ_at_run_time_name_both() -> None:
    a = tn.mat(np.zeros((3, 4)), Hidden, tn.Samples)
    b = tn.mat(np.zeros((3, 5)), Hidden, tn.Samples)
    with pytest.raises(
        tn.ShapeError,
        match=re.escape(
            "Mat[Hidden, Samples] of shape (3, 4) float64 + Mat[Hidden, Samples] of shape "
            "(3, 5) float64: expected the same shape, or a column bias (next, 1); "
            "the batch sizes differ: (3, 4) and (3, 5)"
        ),
    ):
        _ = a + b
    # The batch axis is inner here, so only the run time sees the sizes.
    y = tn.mat(np.zeros((2, 4)), Features, tn.Samples)
    with pytest.raises(tn.ShapeError, match=re.escape("expected the inner dims to agree")):
        _ = y @ b.T


def test_a_batch_column_is_not_broadcast_like_a_bias() -> None:
    # Mat[Hidden, Samples] with one sample is not a bias: it has no One dim.
    a = tn.mat(np.zeros((3, 4)), Hidden, tn.Samples)
    one_sample = tn.mat(np.zeros((3, 1)), Hidden, tn.Samples)
    with pytest.raises(tn.ShapeError, match=re.escape("the batch sizes differ: (3, 4) and (3, 1)")):
        _ = a - one_sample


def test_errors_when_the_static_types_are_bypassed() -> None:
    w = tn.mat(W, Hidden, Features)
    x = tn.mat(np.ones((2, 1)), Features, tn.One)
    wrong_w: Any = w  # as code without a type checker would pass it
    with pytest.raises(
        tn.ShapeError,
        match=re.escape(
            "Mat[Features, One] of shape (2, 1) float64 @ Mat[Hidden, Features] of shape "
            "(3, 2) float64: expected the inner dims to agree"
        ),
    ):
        _ = x @ wrong_w
    other: Any = tn.mat(np.ones((3, 2)), Other, Features)
    with pytest.raises(tn.ShapeError, match=re.escape("did you mean right.T?")):
        _ = w @ other
    h32 = tn.mat(np.zeros((3, 1), np.float32), Hidden, tn.One)
    with pytest.raises(tn.ShapeError, match=re.escape("pass both in one dtype (np.float64)")):
        _ = (w @ x) + h32


@pytest.mark.parametrize(
    "activation",
    [tn.identity, tn.relu, tn.leaky_relu(0.1), tn.sigmoid, tn.tanh, tn.softsign,
     tn.softplus, tn.elu(1.0), tn.selu, tn.softmax],
    ids=str,
)  # fmt: skip
def test_every_activation_keeps_the_dims(activation: tn.Activation) -> None:
    m = tn.mat(np.array([[-1.0, 0.5], [2.0, -3.0], [0.0, 1.0]]), Hidden, tn.Samples)
    out = activation(m)
    assert out.dims == (Hidden, tn.Samples)
    assert not out.array.flags.writeable
    # The plain-array path is the oracle.
    np.testing.assert_array_equal(out.array, activation(m.array.copy()))


def test_dense_of_takes_its_dims_from_the_matrices() -> None:
    w = tn.mat(W, Hidden, Features)
    b = tn.mat(np.array([[0.5], [0.0], [-1.0]]), Hidden, tn.One)
    layer = tn.Dense.of(w, b, tn.relu)
    assert repr(layer) == "Dense(Features 2 → Hidden 3, relu, float64)"
    assert layer.weights.dims == (Hidden, Features)
    assert layer.bias.dims == (Hidden, tn.One)
    np.testing.assert_array_equal(np.asarray(layer.weights), W)
    x = np.array([[1.0], [-1.0]])
    # relu(W @ x + b) by hand: W @ x = (-1, -1, -1), + b = (-0.5, -1, -2), relu -> 0.
    assert tn.forward(tn.network(layer), x).tolist() == [[0.0], [0.0], [0.0]]
    ones = np.ones((2, 1))
    assert tn.forward(tn.network(layer), ones).tolist() == [[3.5], [7.0], [10.0]]


def test_dense_of_with_w_transposed_blames_the_weights() -> None:
    w = tn.mat(W, Hidden, Features)
    b = tn.mat(np.zeros((3, 1)), Hidden, tn.One)
    with pytest.raises(
        tn.ShapeError,
        match=re.escape(
            "Dense.of: w is Mat[Features, Hidden] (next, prev), so b must be "
            "Mat[Features, One], got Mat[Hidden, One]; did you pass w.T?"
        ),
    ):
        tn.Dense.of(w.T, b, tn.relu)  # type: ignore[misc]  # the mistake under test


def test_typed_params_need_a_layer_with_dims(rng: np.random.Generator) -> None:
    layer = tn.dense(rng, 2, 3, tn.relu)
    with pytest.raises(TypeError, match=re.escape("weights as a tn.Mat needs the layer's dims")):
        _ = layer.weights
    with pytest.raises(TypeError, match=re.escape("bias as a tn.Mat needs the layer's dims")):
        _ = layer.bias


def test_the_typed_example_prints_the_course_loss(capsys: pytest.CaptureFixture[str]) -> None:
    namespace = runpy.run_path(str(ROOT / "examples" / "tutorial_typed.py"))
    loss = namespace["main"]()
    out = capsys.readouterr().out
    # The course's loss, as the course prints it (README, `make demo`).
    assert loss == 0.1059625955371147
    assert "in_hidden_1 Mat[Hidden1, One](shape (3, 1) float64):" in out
    assert "y_hat Mat[Output, One](shape (4, 1) float64):" in out
    assert out.endswith(
        "loss (mse) = 0.1059625955371147\n"
        "Network 5 → 3 (leaky_relu 0.1) → 5 (sigmoid) → 4 (sigmoid), 62 params: "
        "loss 0.1059625955371147\n"
    )
