import re

import numpy as np
import pytest

import typednet as tn


class Features(tn.Dim, size=5): ...


class Hidden(tn.Dim, size=3): ...


def _dense(w: np.ndarray, b: np.ndarray) -> tn.Dense:
    return tn.Dense(w=w, b=b, activation=tn.sigmoid)


def test_a_transposed_weight_blames_the_weights_and_suggests_T() -> None:
    # Regression: a decorator-style check would run in field order and blame the bias.
    w = np.ones((3, 5))
    with pytest.raises(
        tn.ShapeError,
        match=re.escape(
            "Dense weights w: expected (next, prev) = (3, prev) to match b of shape (3, 1), "
            "got shape (5, 3) float64; did you pass w.T?"
        ),
    ):
        _dense(w.T, np.zeros((3, 1)))


def test_typed_dims_name_the_layer_in_the_message() -> None:
    with pytest.raises(
        tn.ShapeError,
        match=re.escape(
            "Dense(Features 5 → Hidden 3) weights w: expected (next, prev) = (3, 5), "
            "got shape (5, 3) float64; did you pass w.T?"
        ),
    ):
        tn.Dense(w=np.ones((5, 3)), b=np.zeros((3, 1)), activation=tn.relu, dims=(Features, Hidden))


@pytest.mark.parametrize(
    ("b", "message"),
    [
        (
            np.zeros(3),
            "Dense bias b: expected (next, 1) = (next, 1), got a 1-D array of shape (3,) "
            "float64; pass b.reshape(-1, 1)",
        ),
        (
            np.zeros((1, 3)),
            "Dense bias b: expected (next, 1) = (next, 1), got shape (1, 3) float64; "
            "did you pass b.T?",
        ),
        (
            np.zeros((3, 1), dtype=np.int64),
            "Dense bias b: expected a floating dtype, got int64; pass b.astype(np.float64)",
        ),
    ],
)
def test_bad_bias_messages(b: np.ndarray, message: str) -> None:
    with pytest.raises(tn.ShapeError, match=f"^{re.escape(message)}$"):
        _dense(np.ones((3, 5)), b)


def test_weights_that_match_neither_orientation() -> None:
    with pytest.raises(
        tn.ShapeError,
        match=re.escape(
            "Dense weights w: expected (next, prev) = (3, prev) to match b of shape (3, 1), "
            "got shape (4, 5) float64"
        )
        + "$",
    ):
        _dense(np.ones((4, 5)), np.zeros((3, 1)))


def test_mixed_dtypes_are_refused() -> None:
    with pytest.raises(
        tn.ShapeError,
        match=re.escape("Dense: w is float32 but b is float64; pass b.astype(np.float32)"),
    ):
        _dense(np.ones((3, 5), np.float32), np.zeros((3, 1)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_params_are_a_value_error(bad: float) -> None:
    w = np.ones((3, 5))
    w[1, 2] = bad
    with pytest.raises(ValueError, match=r"^Dense weights w: contains NaN or inf$"):
        _dense(w, np.zeros((3, 1)))


def test_activation_must_be_an_activation() -> None:
    with pytest.raises(
        TypeError, match=r"Dense: activation must be a typednet Activation such as tn.sigmoid"
    ):
        tn.Dense(w=np.ones((3, 5)), b=np.zeros((3, 1)), activation=np.tanh)  # type: ignore[arg-type]  # the wrong kind is the test


def test_dims_must_be_dim_classes() -> None:
    with pytest.raises(TypeError, match=r"Dense dims: dims must be Dim subclasses, got 5"):
        tn.Dense(w=np.ones((3, 5)), b=np.zeros((3, 1)), activation=tn.relu, dims=(5, 3))  # type: ignore[arg-type]  # ints are not dims


def test_params_are_read_only_copies() -> None:
    w, b = np.ones((3, 5)), np.zeros((3, 1))
    layer = _dense(w, b)
    w[0, 0] = 99.0  # the caller's array stays writable and unlinked
    b[0, 0] = 99.0
    assert layer.w[0, 0] == 1.0
    assert layer.b[0, 0] == 0.0
    with pytest.raises(ValueError, match="read-only"):
        layer.w[0, 0] = 2.0
    with pytest.raises(ValueError, match="read-only"):
        layer.b[:] += 1.0


def test_fields_are_frozen() -> None:
    layer = _dense(np.ones((3, 5)), np.zeros((3, 1)))
    with pytest.raises(AttributeError):
        layer.w = np.ones((3, 5))  # type: ignore[misc]  # assigning a frozen field is the test


def test_sizes_dtype_params_and_repr() -> None:
    layer = tn.Dense(
        w=np.ones((3, 5), np.float32),
        b=np.zeros((3, 1), np.float32),
        activation=tn.leaky_relu(0.1),
        dims=(Features, Hidden),
    )
    assert (layer.in_size, layer.out_size) == (5, 3)
    assert layer.dtype == np.float32
    assert [p.shape for p in layer.params] == [(3, 5), (3, 1)]
    assert repr(layer) == "Dense(Features 5 → Hidden 3, leaky_relu 0.1, float32)"
    assert repr(_dense(np.ones((3, 5)), np.zeros((3, 1)))) == "Dense(5 → 3, sigmoid, float64)"


def test_layer_norm_validates_and_reports() -> None:
    norm = tn.LayerNorm(gain=np.ones((3, 1)), shift=np.zeros((3, 1)), dim=Hidden)
    assert (norm.in_size, norm.out_size) == (3, 3)
    assert repr(norm) == "LayerNorm(Hidden 3, eps=1e-05, float64)"
    with pytest.raises(
        tn.ShapeError,
        match=re.escape("LayerNorm(Hidden 3) gain: expected (d, 1) = (3, 1), got shape (4, 1)"),
    ):
        tn.LayerNorm(gain=np.ones((4, 1)), shift=np.zeros((4, 1)), dim=Hidden)
    with pytest.raises(
        tn.ShapeError,
        match=re.escape("LayerNorm shift: expected (d, 1) = (3, 1), got shape (2, 1)"),
    ):
        tn.LayerNorm(gain=np.ones((3, 1)), shift=np.zeros((2, 1)))
    for eps in (0, -1e-5, float("inf"), float("nan"), True):
        with pytest.raises(ValueError, match=r"LayerNorm: eps must be a finite number > 0, got"):
            tn.LayerNorm(gain=np.ones((3, 1)), shift=np.zeros((3, 1)), eps=eps)


def test_layer_norm_forward_against_plain_numpy(rng: np.random.Generator) -> None:
    x = rng.normal(size=(4, 6))
    gain, shift = rng.normal(size=(4, 1)), rng.normal(size=(4, 1))
    norm = tn.LayerNorm(gain=gain, shift=shift, eps=1e-5)
    expected = gain * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5) + shift
    np.testing.assert_allclose(norm.apply(x), expected, rtol=1e-12)
    xhat, post = norm.trace(x, None)
    np.testing.assert_allclose(xhat.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(post, expected, rtol=1e-12)


@pytest.mark.parametrize(("dtype", "eps"), [(np.float32, 1e-50), (np.float32, 1e300)])
def test_layer_norm_refuses_an_eps_that_is_not_positive_and_finite_in_its_dtype(
    dtype: type[np.floating], eps: float
) -> None:
    """1e-50 is 0 in float32: a constant column gave 0 / 0, a NaN."""
    rounded = "0.0" if eps < 1 else "inf"
    match = (
        rf"^LayerNorm: eps must stay a finite number > 0 in float32, got {eps:g}, which "
        rf"rounds to {rounded} there$"
    ).replace("+", r"\+")
    with pytest.raises(ValueError, match=match):
        tn.LayerNorm(gain=np.ones((3, 1), dtype), shift=np.zeros((3, 1), dtype), eps=eps)
    with pytest.raises(ValueError, match=match):
        tn.layer_norm(3, eps=eps, dtype=dtype)
    assert tn.layer_norm(3, eps=1e-50).eps == 1e-50  # float64 holds it


@pytest.mark.parametrize(("dtype", "scale"), [(np.float64, 1e200), (np.float32, 1e20)])
def test_layer_norm_does_not_overflow_on_large_inputs(
    rng: np.random.Generator, dtype: type[np.floating], scale: float
) -> None:
    """Squares of 1e200 overflow float64 (and of 1e20 float32): the output was all 0.

    Normalizing is scale-free but for eps, negligible here: the output for x * scale is
    the plain formula on x without eps, and a constant column still gives the shift.
    """
    x = rng.normal(size=(4, 6))
    x[:, 4] = 0.5
    gain, shift = rng.normal(size=(4, 1)), rng.normal(size=(4, 1))
    norm = tn.LayerNorm(gain=gain.astype(dtype), shift=shift.astype(dtype), eps=1e-5)
    centred = x - x.mean(axis=0)
    std = np.sqrt(centred[:, :4].var(axis=0))
    expected = np.hstack([gain * centred[:, :4] / std + shift, shift, shift])
    big = (x * scale).astype(dtype)
    big[:, 5] = x[:, 5] / scale  # beside them, a column of 1e-200 (or 1e-20): var << eps
    rtol = 1e-12 if dtype is np.float64 else 1e-5
    np.testing.assert_allclose(norm.apply(big), expected, rtol=rtol)
    np.testing.assert_allclose(norm.trace(big, None)[1], expected, rtol=rtol)
