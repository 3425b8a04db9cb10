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


# --- probabilities checked, and the logits forms -----------------------------------------

LOGITS = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -0.5], [-1.0, 0.5, 0.25]])
ONE_HOT = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])


@pytest.mark.parametrize(
    ("loss", "p", "match"),
    [
        (
            tn.binary_cross_entropy,
            np.array([[0.5, 1.5]]),
            r"^binary_cross_entropy: y_pred must be probabilities in \[0, 1\], but y_pred\[0, 1\] is outside; use a sigmoid output layer, or tn\.sigmoid_binary_cross_entropy on the raw outputs of an identity output layer \(logits\)$",
        ),
        (
            tn.binary_cross_entropy,
            np.array([[-0.1, 0.5]]),
            r"but y_pred\[0, 0\] is outside; use a sigmoid",
        ),
        (tn.binary_cross_entropy, np.array([[0.5, np.nan]]), r"but y_pred\[0, 1\] is outside"),
        (
            tn.cross_entropy,
            np.array([[0.5, 2.0], [0.5, -1.0]]),
            r"^cross_entropy: y_pred must be probabilities in \[0, 1\], but y_pred\[0, 1\] is outside; use a softmax output layer, or tn\.softmax_cross_entropy on the raw outputs of an identity output layer \(logits\)$",
        ),
        (
            tn.cross_entropy,
            np.array([[0.5, 0.6], [0.5, 0.3]]),
            r"^cross_entropy: each column of y_pred must sum to 1 \(within 1e-06 in float64\), but column 1 sums to 0\.9; use a softmax output layer, or tn\.softmax_cross_entropy on the raw outputs of an identity output layer \(logits\)$",
        ),
        (tn.cross_entropy, np.array([[0.5], [0.5 + 2e-6]]), r"column 0 sums to 1\.000002"),
    ],
)
def test_probability_losses_refuse_non_probabilities(
    loss: tn.Loss, p: np.ndarray, match: str
) -> None:
    y = np.zeros_like(p)
    for call in (loss, loss.gradient):
        with pytest.raises(ValueError, match=match):
            call(y, p)
    with tn.no_checks():  # the off switch skips them, as every check
        loss(y, np.nan_to_num(p, nan=0.5))


def test_cross_entropy_sum_tolerance_is_per_dtype() -> None:
    y = np.array([[1.0], [0.0]])
    assert tn.losses.SUM_TOLERANCE == {"float64": 1e-6, "float32": 1e-3}
    tn.cross_entropy(y, np.array([[0.5], [0.5 + 9e-7]]))  # within 1e-6
    tn.cross_entropy(y.astype(np.float32), np.array([[0.5], [0.5009]], dtype=np.float32))
    with pytest.raises(
        ValueError, match=r"within 0\.001 in float32\), but column 0 sums to 1\.0011"
    ):
        tn.cross_entropy(y.astype(np.float32), np.array([[0.5], [0.5011]], dtype=np.float32))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=0))
    return np.asarray(e / e.sum(axis=0))


def test_logits_losses_equal_the_two_step_forms_at_moderate_logits() -> None:
    two_step = -np.sum(ONE_HOT * np.log(_softmax(LOGITS))) / 3
    assert tn.softmax_cross_entropy(ONE_HOT, LOGITS) == pytest.approx(two_step, rel=1e-14)
    s = 1 / (1 + np.exp(-LOGITS))
    y = (LOGITS > 0.2).astype(float)
    bce = -np.mean(y * np.log(s) + (1 - y) * np.log(1 - s))
    assert tn.sigmoid_binary_cross_entropy(y, LOGITS) == pytest.approx(bce, rel=1e-14)


def test_logits_losses_at_extreme_logits() -> None:
    # Column 0: right class at +1e4 -> loss 0; column 1: wrong class by 2e4 -> loss 2e4.
    z = np.array([[1e4, -1e4], [-1e4, 1e4]])
    y = np.array([[1.0, 1.0], [0.0, 0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # exp may underflow to 0
        assert tn.softmax_cross_entropy(y, z) == 2e4 / 2
        np.testing.assert_array_equal(
            tn.softmax_cross_entropy.gradient(y, z), np.array([[0.0, -0.5], [0.0, 0.5]])
        )
        # Per element: log(1 + e^-|z|) is 0 in float64 at |z| = 1e4; a wrong sign costs |z|.
        assert tn.sigmoid_binary_cross_entropy(y, z) == pytest.approx((0 + 1e4 + 0 + 1e4) / 4)
        np.testing.assert_allclose(  # sigmoid(-1e4) is 0 to within the smallest normal
            tn.sigmoid_binary_cross_entropy.gradient(y, z),
            np.array([[0.0, -0.25], [0.0, 0.25]]),
            rtol=1e-15,
            atol=np.finfo(np.float64).tiny,
        )


@pytest.mark.parametrize(
    ("loss", "y"),
    [
        (tn.softmax_cross_entropy, ONE_HOT),
        (tn.softmax_cross_entropy, np.array([[0.2, 0.5, 0.0], [0.3, 0.5, 0.0], [0.5, 0.0, 1.0]])),
        (tn.sigmoid_binary_cross_entropy, (LOGITS > 0.2).astype(float)),
        (tn.sigmoid_binary_cross_entropy, np.array([[0.1, 0.9, 0.5], [1, 0, 0.3], [0.7, 0.2, 1]])),
    ],
    ids=["softmax one-hot", "softmax soft labels", "sigmoid", "sigmoid soft labels"],
)
@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_logits_gradient_matches_central_differences(
    loss: tn.Loss, y: np.ndarray, scale: float
) -> None:
    z, h = LOGITS * scale, 1e-6
    numeric = np.zeros_like(z)
    for i, j in np.ndindex(z.shape):
        e = np.zeros_like(z)
        e[i, j] = h
        numeric[i, j] = (loss(y, z + e) - loss(y, z - e)) / (2 * h)
    np.testing.assert_allclose(loss.gradient(y, z), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("loss", [tn.softmax_cross_entropy, tn.sigmoid_binary_cross_entropy])
def test_logits_losses_keep_float32_and_are_saved_by_name(loss: tn.Loss) -> None:
    z, y = LOGITS.astype(np.float32), ONE_HOT.astype(np.float32)
    assert loss.gradient(y, z).dtype == np.float32
    assert isinstance(loss(y, z), float)
    assert _by_name(loss.name) is loss


# --- targets checked: a loss takes only the targets it means something for -----------------

_SOFTMAX_TARGETS = r"; targets are one-hot columns or soft labels \(a distribution per column\)$"


@pytest.mark.parametrize(
    ("loss", "y", "match"),
    [
        (
            tn.binary_cross_entropy,
            np.array([[0.0, 2.0]]),  # below zero at p = 0.9: -2.09
            r"^binary_cross_entropy: y_true must be labels or probabilities in \[0, 1\], but "
            r"y_true\[0, 1\] is outside$",
        ),
        (tn.binary_cross_entropy, np.array([[np.nan, 1.0]]), r"but y_true\[0, 0\] is outside$"),
        (
            tn.sigmoid_binary_cross_entropy,
            np.array([[1.0, -1.0]]),
            r"^sigmoid_binary_cross_entropy: y_true must be labels or probabilities in "
            r"\[0, 1\], but y_true\[0, 1\] is outside$",
        ),
        (
            tn.cross_entropy,
            np.array([[0.5, 0.6], [0.5, 0.3]]),  # the fused gradient was 3.7e-2 off here
            r"^cross_entropy: each column of y_true must sum to 1 \(within 1e-06 in float64\), "
            r"but column 1 sums to 0\.9" + _SOFTMAX_TARGETS,
        ),
        (
            tn.cross_entropy,
            np.array([[1.5, 0.0], [-0.5, 1.0]]),  # sums to 1, but not a distribution
            r"^cross_entropy: y_true must be probabilities in \[0, 1\], but y_true\[0, 0\] is "
            r"outside" + _SOFTMAX_TARGETS,
        ),
        (tn.cross_entropy, np.array([[0.0], [0.0]]), r"column 0 sums to 0;"),
        (
            tn.softmax_cross_entropy,
            np.array([[1.0, 1.0], [0.0, 1.0]]),
            r"^softmax_cross_entropy: each column of y_true must sum to 1 \(within 1e-06 in "
            r"float64\), but column 1 sums to 2" + _SOFTMAX_TARGETS,
        ),
        (
            tn.softmax_cross_entropy,
            np.array([[2.0, 1.0], [-1.0, 0.0]]),  # unbounded below: y0 log p0 - log p1
            r"^softmax_cross_entropy: y_true must be probabilities in \[0, 1\], but "
            r"y_true\[0, 0\] is outside",
        ),
    ],
)
def test_the_cross_entropies_refuse_targets_they_have_no_meaning_for(
    loss: tn.Loss, y: np.ndarray, match: str
) -> None:
    p = np.full_like(y, 1.0 / y.shape[0])  # valid predictions for every loss here
    for call in (loss, loss.gradient):
        with pytest.raises(ValueError, match=match):
            call(y, p)


def test_targets_within_the_sum_tolerance_are_taken() -> None:
    y = np.array([[0.5], [0.5 + 9e-7]])
    p = np.array([[0.25], [0.75]])
    # -(0.5 log 0.25 + (0.5 + 9e-7) log 0.75), by hand.
    want = -(0.5 * np.log(0.25) + (0.5 + 9e-7) * np.log(0.75))
    assert tn.cross_entropy(y, p) == pytest.approx(want, rel=1e-15)
    assert tn.softmax_cross_entropy(y, np.log(p)) == pytest.approx(want, rel=1e-14)
    y32 = np.array([[0.5], [0.5009]], np.float32)  # float32's tolerance is 1e-3
    tn.cross_entropy(y32, p.astype(np.float32))
    with pytest.raises(
        ValueError, match=r"within 0\.001 in float32\), but column 0 sums to 1\.0011"
    ):
        tn.cross_entropy(np.array([[0.5], [0.5011]], np.float32), p.astype(np.float32))


SOFT = np.array([[0.8, 0.05, 1 / 3], [0.1, 0.9, 1 / 3], [0.1, 0.05, 1 / 3]])  # smoothed labels


@pytest.mark.parametrize(
    ("loss", "y", "p"),
    [
        (tn.cross_entropy, SOFT, _softmax(LOGITS)),
        (tn.binary_cross_entropy, SOFT, 1 / (1 + np.exp(-LOGITS))),
        (tn.softmax_cross_entropy, SOFT, LOGITS),
        (tn.sigmoid_binary_cross_entropy, SOFT, LOGITS),
    ],
    ids=lambda x: x.name if isinstance(x, tn.Loss) else "",
)
def test_soft_labels_are_taken_and_their_gradients_match_central_differences(
    loss: tn.Loss, y: np.ndarray, p: np.ndarray
) -> None:
    h = 1e-6
    numeric = np.zeros_like(p)
    with tn.no_checks():  # a step of h takes p off the sums the check wants
        for i, j in np.ndindex(p.shape):
            e = np.zeros_like(p)
            e[i, j] = h
            numeric[i, j] = (loss(y, p + e) - loss(y, p - e)) / (2 * h)
    np.testing.assert_allclose(loss.gradient(y, p), numeric, rtol=1e-6, atol=1e-9)
