import re

import numpy as np
import pytest

import typednet as tn
from typednet.losses import _by_name

Y = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
P = np.array([[0.7, 0.2], [0.2, 0.5], [0.1, 0.3]])


def test_values_against_hand_computed() -> None:
    # Six elements; differences -0.3, 0.2, 0.2, -0.5, 0.1, 0.3.
    assert tn.mse(Y, P) == pytest.approx((0.09 + 0.04 + 0.04 + 0.25 + 0.01 + 0.09) / 6, abs=1e-15)
    assert tn.mae(Y, P) == pytest.approx((0.3 + 0.2 + 0.2 + 0.5 + 0.1 + 0.3) / 6, abs=1e-15)
    assert tn.cross_entropy(Y, P) == pytest.approx(-(np.log(0.7) + np.log(0.5)) / 2, abs=1e-15)
    bce = -np.mean(Y * np.log(P) + (1 - Y) * np.log(1 - P))
    assert tn.binary_cross_entropy(Y, P) == pytest.approx(bce, abs=1e-15)


def test_mse_is_the_tutorials_mean_over_every_element() -> None:
    y = np.array([[0.21], [0.83], [0.87], [0.75]])
    y_hat = np.array([[0.8], [0.9], [0.87], [0.7]])
    assert tn.mse(y, y_hat) == np.mean(np.square(y - y_hat))


@pytest.mark.parametrize(
    "loss", [tn.mse, tn.mae, tn.binary_cross_entropy, tn.cross_entropy], ids=lambda x: x.name
)
def test_gradient_matches_central_differences(loss: tn.Loss) -> None:
    h = 1e-7
    numeric = np.zeros_like(P)
    for i, j in np.ndindex(P.shape):
        e = np.zeros_like(P)
        e[i, j] = h
        numeric[i, j] = (loss(Y, P + e) - loss(Y, P - e)) / (2 * h)
    np.testing.assert_allclose(loss.gradient(Y, P), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "loss", [tn.mse, tn.mae, tn.binary_cross_entropy, tn.cross_entropy], ids=lambda x: x.name
)
def test_float32_gradient_stays_float32(loss: tn.Loss) -> None:
    g = loss.gradient(Y.astype(np.float32), P.astype(np.float32))
    assert g.dtype == np.float32
    assert isinstance(loss(Y.astype(np.float32), P.astype(np.float32)), float)


def test_cross_entropy_clips_zero_probabilities() -> None:
    value = tn.cross_entropy(np.array([[1.0], [0.0]]), np.array([[0.0], [1.0]]))
    assert np.isfinite(value)
    assert value == pytest.approx(-np.log(np.finfo(np.float64).eps))


@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [
        (
            np.zeros(4),
            np.zeros((4, 1)),
            "mse: y_true: expected (outputs, batch) = (4, 1), got a 1-D array of shape (4,) "
            "float64; pass a column: .reshape(-1, 1)",
        ),
        (
            np.zeros((4, 1)),
            np.zeros(4),
            "mse: y_pred: expected (outputs, batch) = (outputs, batch), got a 1-D array of "
            "shape (4,) float64; pass a column: .reshape(-1, 1)",
        ),
        (
            np.zeros((4, 1)),
            np.zeros((4, 32)),
            "mse: y_true: expected (outputs, batch) = (4, 32), got shape (4, 1) float64; "
            "a loss never broadcasts: y_true and y_pred need one shape",
        ),
        (
            np.zeros((1, 4)),
            np.zeros((4, 1)),
            "mse: y_true: expected (outputs, batch) = (4, 1), got shape (1, 4) float64; "
            "did you pass y_true.T?",
        ),
        (
            np.zeros((4, 1), np.float32),
            np.zeros((4, 1)),
            "mse: y_true: expected dtype float64 (y_pred's), got float32",
        ),
    ],
)
def test_never_broadcasts(y_true: np.ndarray, y_pred: np.ndarray, message: str) -> None:
    with pytest.raises(tn.ShapeError, match=f"^{re.escape(message)}"):
        tn.mse(y_true, y_pred)
    with pytest.raises(tn.ShapeError, match=f"^{re.escape(message)}"):
        tn.mse.gradient(y_true, y_pred)


def test_empty_batch_is_a_value_error() -> None:
    with pytest.raises(
        ValueError, match=re.escape("mae: the batch is empty (y_pred has shape (4, 0))")
    ):
        tn.mae(np.zeros((4, 0)), np.zeros((4, 0)))


def test_no_checks_skips_the_check() -> None:
    with tn.no_checks():
        # NumPy broadcasts (4,) against (4, 1) here: the switch trusts the caller.
        assert tn.mse(np.zeros(4), np.ones((4, 1))) == 1.0  # type: ignore[arg-type]  # a 1-D target on purpose


def test_inputs_are_not_mutated() -> None:
    y, p = Y.copy(), P.copy()
    for loss in (tn.mse, tn.mae, tn.binary_cross_entropy, tn.cross_entropy):
        loss(y, p)
        loss.gradient(y, p)
    np.testing.assert_array_equal(y, Y)
    np.testing.assert_array_equal(p, P)


def test_by_name() -> None:
    assert _by_name("mse") is tn.mse
    with pytest.raises(ValueError, match=r"unknown loss 'hinge'; known: \['binary_cross_entropy'"):
        _by_name("hinge")
