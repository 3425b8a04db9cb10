"""Metrics against hand-computed values and plain-Python counts; every error pinned."""

from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import typednet as tn
from typednet.metrics import accuracy, confusion_matrix, format_confusion, mad, within
from typednet.train import Metric


def _row(*values: float) -> np.ndarray:
    return np.array([values], dtype=np.float64)


# --- accuracy -------------------------------------------------------------------------------


def test_accuracy_counts_columns_whose_argmax_agrees() -> None:
    y = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0]])
    p = np.array([[0.7, 0.1, 0.2, 0.5], [0.2, 0.8, 0.5, 0.3], [0.1, 0.1, 0.3, 0.2]])
    # argmax of y: 0 1 2 1; of p: 0 1 1 0 -> 2 of 4 agree
    assert accuracy(y, p) == 0.5


def test_accuracy_breaks_ties_towards_the_first_row() -> None:
    assert accuracy(np.array([[1.0], [0.0]]), np.array([[0.5], [0.5]])) == 1.0
    assert accuracy(np.array([[0.0], [1.0]]), np.array([[0.5], [0.5]])) == 0.0


def test_accuracy_is_a_fit_metric_named_accuracy(rng: np.random.Generator) -> None:
    x = rng.normal(size=(2, 60))
    y = tn.one_hot((x[0:1] > 0).astype(np.int64), classes=[0, 1])
    net = tn.network(tn.dense(rng, 2, 2, tn.softmax))
    net, history = tn.fit(
        net, x, y, loss=tn.cross_entropy, optimizer=tn.adam(0.05), epochs=3, batch_size=20,
        rng=rng, metric=accuracy, progress=False,
    )  # fmt: skip
    assert accuracy.__name__ == "accuracy"
    assert history.metric_name == "accuracy"
    # The last epoch's value is the share recomputed by hand from the final network.
    p = tn.forward(net, x)
    by_hand = sum(p[int(x[0, i] > 0), i] > p[int(x[0, i] <= 0), i] for i in range(60)) / 60
    assert history.train_metric[-1] == pytest.approx(by_hand, abs=1e-15)


# --- mad and within ---------------------------------------------------------------------


def test_mad_is_the_mean_absolute_deviation() -> None:
    assert mad(_row(5, 6, 7), _row(5.5, 6, 9)) == pytest.approx((0.5 + 0 + 2) / 3, abs=1e-15)


def test_within_counts_deviations_up_to_the_tolerance_inclusive() -> None:
    y = _row(5, 6, 7, 4, 8)
    p = _row(5.5, 6.75, 7, 3.0, 9.5)  # deviations 0.5, 0.75, 0, 1, 1.5 (all exact in binary)
    assert within(y, p, 0.5) == 2 / 5
    assert within(y, p, 1.0) == 4 / 5
    assert within(y, p, 0) == 1 / 5
    assert within(y, p, 2) == 1.0


@pytest.mark.parametrize("tolerance", [-0.5, float("nan"), float("inf"), True])
def test_within_rejects_a_bad_tolerance(tolerance: float) -> None:
    with pytest.raises(ValueError, match=r"^within: tolerance must be a finite number >= 0, got "):
        within(_row(5), _row(5), tolerance)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "match"),
    [
        (
            np.zeros((2, 3)),
            np.zeros((2, 3)),
            r"^mad: y_pred: expected \(outputs, batch\) = \(1, batch\), got shape \(2, 3\) float64$",
        ),
        (
            np.zeros((1, 3)),
            np.zeros(3),
            r"^mad: y_pred: expected \(outputs, batch\) = \(1, batch\), got a 1-D array of shape "
            r"\(3,\) float64; samples are columns: pass y_pred.reshape\(1, -1\)$",
        ),
        (
            np.zeros((3, 1)),
            np.zeros((3, 1)),
            r"^mad: y_pred: .* got shape \(3, 1\) float64; samples are columns: pass y_pred.T$",
        ),
        (
            np.zeros((1, 4)),
            np.zeros((1, 3)),
            r"^mad: y_true: expected \(outputs, batch\) = \(1, 3\), got shape \(1, 4\) float64",
        ),
        (
            np.zeros((1, 3), dtype=np.float32),
            np.zeros((1, 3)),
            r"^mad: y_true: expected dtype float64 \(y_pred's\), got float32",
        ),
    ],
)
def test_mad_and_within_need_one_row_of_one_shape(
    y_true: np.ndarray, y_pred: np.ndarray, match: str
) -> None:
    with pytest.raises(tn.ShapeError, match=match):
        mad(y_true, y_pred)
    with pytest.raises(tn.ShapeError, match=match.replace("mad", "within")):
        within(y_true, y_pred, 0.5)


def test_accuracy_needs_one_shape() -> None:
    with pytest.raises(
        tn.ShapeError,
        match=r"^accuracy: y_true: expected \(outputs, batch\) = \(3, 5\), got shape \(5, 3\) "
        r"float64; did you pass y_true.T\?$",
    ):
        accuracy(np.zeros((5, 3)), np.zeros((3, 5)))


@pytest.mark.parametrize("metric", [accuracy, mad, lambda y, p: within(y, p, 0.5)])
def test_an_empty_batch_is_a_value_error(metric: Metric) -> None:
    with pytest.raises(ValueError, match=r": the batch is empty \(y_pred has shape \(1, 0\)\)$"):
        metric(np.zeros((1, 0)), np.zeros((1, 0)))


def test_metrics_leave_their_inputs_alone() -> None:
    y, p = _row(5, 6, 7), _row(5.5, 6, 9)
    before = (y.copy(), p.copy())
    _ = mad(y, p), within(y, p, 0.5), accuracy(y, p)
    np.testing.assert_array_equal(y, before[0])
    np.testing.assert_array_equal(p, before[1])


# --- confusion matrix ---------------------------------------------------------------------


def test_confusion_matrix_rows_are_true_and_columns_predicted() -> None:
    true = np.array([[3, 3, 4, 5, 5, 5]])
    pred = np.array([[3, 4, 4, 5, 3, 5]])
    expected = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    counts = confusion_matrix(true, pred, classes=[3, 4, 5])
    np.testing.assert_array_equal(counts, expected)
    assert counts.dtype == np.int64
    # Integer-valued floats are the same labels.
    floats = confusion_matrix(true.astype(np.float64), pred.astype(np.float64), range(3, 6))
    np.testing.assert_array_equal(floats, expected)


@given(
    st.lists(st.tuples(st.integers(3, 9), st.integers(3, 9)), min_size=1, max_size=60),
)
def test_confusion_matrix_matches_a_plain_count(pairs: list[tuple[int, int]]) -> None:
    true = np.array([[t for t, _ in pairs]])
    pred = np.array([[p for _, p in pairs]], dtype=np.float64)
    counts = confusion_matrix(true, pred, range(3, 10))
    tally = Counter(pairs)
    for i, t in enumerate(range(3, 10)):
        for j, p in enumerate(range(3, 10)):
            assert counts[i, j] == tally[(t, p)]


@pytest.mark.parametrize(
    ("true", "pred", "classes", "error", "match"),
    [
        (
            np.array([[3, 4]]),
            np.array([[3, 2]]),
            [3, 4, 5],
            ValueError,
            r"^confusion_matrix pred_labels: label 2 at column 1 is not one of the classes "
            r"\[3, 4, 5\]$",
        ),
        (
            np.array([[3.5, 4]]),
            np.array([[3, 4]]),
            [3, 4],
            ValueError,
            r"^confusion_matrix true_labels: label 3.5 at column 0 is not one of the classes",
        ),
        (
            np.array([[3]]),
            np.array([[3]]),
            [3, 3],
            ValueError,
            r"^confusion_matrix: classes must be distinct values, at least one; got \[3, 3\]$",
        ),
        (
            np.zeros((1, 0)),
            np.zeros((1, 0)),
            [3],
            ValueError,
            r"^confusion_matrix: no labels \(shape \(1, 0\)\)$",
        ),
        (
            np.array([[3, 4]]),
            np.array([[3, 4, 4]]),
            [3, 4],
            tn.ShapeError,
            r"^confusion_matrix: true_labels has shape \(1, 2\) but pred_labels has \(1, 3\); "
            "they need one label per sample, the same samples$",
        ),
        (
            np.array([3, 4]),
            np.array([[3, 4]]),
            [3, 4],
            tn.ShapeError,
            r"^confusion_matrix true_labels: expected \(labels, batch\) = \(1, batch\) ints or "
            r"floats, got a 1-D array of shape \(2,\) int64; samples are columns: pass "
            r"true_labels.reshape\(1, -1\)$",
        ),
        (
            np.array([[3, 4]]),
            np.array([[3], [4]]),
            [3, 4],
            tn.ShapeError,
            r"^confusion_matrix pred_labels: .* got shape \(2, 1\) int64; samples are columns: "
            r"pass pred_labels.T$",
        ),
        (
            np.array([[True, False]]),
            np.array([[3, 4]]),
            [3, 4],
            tn.ShapeError,
            r"^confusion_matrix true_labels: .* ints or floats, got shape \(1, 2\) bool$",
        ),
        (
            [[3, 4]],
            np.array([[3, 4]]),
            [3, 4],
            tn.ShapeError,
            r"^confusion_matrix true_labels: .* got a list, not a NumPy array$",
        ),
    ],
)
def test_confusion_matrix_errors(
    true: np.ndarray, pred: np.ndarray, classes: list[int], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        confusion_matrix(true, pred, classes)


def test_format_confusion_aligns_the_counts_under_the_classes() -> None:
    text = format_confusion(np.array([[0, 12, 3], [1, 140, 0], [0, 0, 7]]), classes=[3, 4, 5])
    assert text.splitlines() == [
        "true\\pred    3    4    5",
        "        3    0   12    3",
        "        4    1  140    0",
        "        5    0    0    7",
    ]


@pytest.mark.parametrize(
    ("matrix", "got"),
    [
        (np.zeros((2, 2), dtype=np.int64), r"shape \(2, 2\) int64"),
        (np.zeros((3, 3)), r"shape \(3, 3\) float64"),
        (np.zeros(9, dtype=np.int64), r"a 1-D array of shape \(9,\) int64"),
    ],
)
def test_format_confusion_needs_a_square_count_per_class(matrix: np.ndarray, got: str) -> None:
    with pytest.raises(
        tn.ShapeError,
        match=r"^format_confusion matrix: expected \(true, predicted\) = \(3, 3\) integer counts "
        rf"for 3 classes, got {got}$",
    ):
        format_confusion(matrix, classes=[3, 4, 5])
