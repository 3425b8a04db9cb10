"""Metrics: how good predictions are, for reports and for `fit(metric=...)`.

Each metric is a pure function of the targets and the predictions, both with samples as
columns and exactly the same shape: like a loss, a metric never broadcasts. The
predictions' dtype is the one required of the targets. `accuracy` and `mad` have the
``metric(y_true, y_pred) -> float`` signature that `fit` records per epoch.

The wine-quality measures follow Cortez et al. (2009): the mean absolute deviation
(`mad`) and the tolerance accuracy (`within`: the share of predictions within T = 0.5
or 1.0 of the experts' score); `confusion_matrix` counts true against predicted classes.

`accuracy`, `mad` and `within` take an optional ``sample_weight``, one non-negative
weight per column (shape (batch,) or (1, batch)): the result is then the weighted mean
``sum(w_j m_j) / sum(w_j)`` of the columns' values ``m_j`` (as scikit-learn's metrics),
so `fit` can report them on weighted data.

Examples:
    >>> import numpy as np
    >>> quality = np.array([[5.0, 6.0, 7.0, 6.0]])
    >>> predicted = np.array([[5.2, 6.6, 6.1, 5.0]])
    >>> round(mad(quality, predicted), 3), within(quality, predicted, 0.5)
    (0.675, 0.25)
"""

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from jaxtyping import Float, Int

from . import _weights
from .data import Labels, one_hot
from .losses import _check_pair, mae
from .shapes import (
    Batch,
    Matrix,
    SampleWeightsOf,
    ShapeError,
    WeightShapeT,
    _check_array,
    _check_kind,
    _got,
    _is_array,
    checks_enabled,
)

__all__ = ["Counts", "accuracy", "confusion_matrix", "format_confusion", "mad", "within"]

Counts = Int[np.ndarray[tuple[int, int], np.dtype[np.int64]], "true predicted"]
"""A confusion matrix: ``counts[i, j]`` samples of class i predicted as class j."""

_Scores = Float[Matrix, "1 batch"]
"""One score per column, e.g. the wine quality: shape (1, batch)."""


def _mean(
    name: str, values: npt.NDArray[np.bool_] | Matrix, sample_weight: object, like: Matrix
) -> float:
    """The plain mean of per-column ``values`` (1, batch), or their weighted mean."""
    if sample_weight is None:
        return float(np.mean(values))
    if checks_enabled():
        w = _weights.check(sample_weight, like.shape[1], like.dtype, name, of="y_pred")
    else:
        w = _weights.row(sample_weight, like.dtype)
    return _weights.mean(values.reshape(1, -1).astype(like.dtype), _weights.shares(w))


def _check_scores(name: str, y_true: object, y_pred: object) -> None:
    """(1, batch) predictions and targets of one shape and dtype, not empty."""
    if not checks_enabled():
        return
    _check_array(
        y_pred,
        f"{name}: y_pred",
        ("outputs", "batch"),
        (1, None),
        name="y_pred",
        hint_1d="samples are columns: pass y_pred.reshape(1, -1)",
        hint_t="samples are columns: pass y_pred.T",
    )
    _check_pair(name, y_true, y_pred)


def accuracy(
    y_true: Batch, y_pred: Batch, sample_weight: SampleWeightsOf[WeightShapeT] | None = None
) -> float:
    """The share of columns whose largest entry is in the same row in both arrays.

    For one-hot targets and predicted class probabilities: the share of samples whose
    most probable class is the true one. Ties go to the first row, as in `np.argmax`.

    Args:
        y_true: one-hot targets, shape (classes, batch).
        y_pred: scores or probabilities, shape (classes, batch).
        sample_weight: optional weights, one per column, shape (batch,) or
            (1, batch): the weighted share ``sum(w_j right_j) / sum(w_j)``.

    Returns:
        A float in [0, 1].

    Raises:
        ShapeError: the arrays are not 2-D floating of one shape and dtype, or the
            weights not (batch,) or (1, batch) ints or floats.
        ValueError: the batch is empty, or a weight is negative, NaN or inf, or all
            are zero.

    Examples:
        >>> import numpy as np
        >>> y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
        >>> p = np.array([[0.8, 0.6, 0.3], [0.2, 0.4, 0.7]])
        >>> accuracy(y, p)
        0.6666666666666666
    """
    if checks_enabled():
        _check_pair("accuracy", y_true, y_pred)
    true_class: npt.NDArray[np.intp] = np.argmax(y_true, axis=0)
    pred_class: npt.NDArray[np.intp] = np.argmax(y_pred, axis=0)
    return _mean("accuracy", np.equal(true_class, pred_class), sample_weight, y_pred)


def mad(
    y_true: _Scores, y_pred: _Scores, sample_weight: SampleWeightsOf[WeightShapeT] | None = None
) -> float:
    """The mean absolute deviation ``mean(|y_pred - y_true|)`` of one score per column.

    Args:
        y_true: the true scores, shape (1, batch).
        y_pred: the predicted scores, shape (1, batch).
        sample_weight: optional weights, one per column, shape (batch,) or
            (1, batch): the weighted mean ``sum(w_j |d_j|) / sum(w_j)``.

    Raises:
        ShapeError: the arrays are not (1, batch) floating arrays of one shape and
            dtype, or the weights not (batch,) or (1, batch) ints or floats.
        ValueError: the batch is empty, or a weight is negative, NaN or inf, or all
            are zero.

    Examples:
        >>> import numpy as np
        >>> mad(np.array([[5.0, 6.0]]), np.array([[5.5, 7.0]]))
        0.75
        >>> mad(np.array([[5.0, 6.0]]), np.array([[5.5, 7.0]]), sample_weight=np.array([3, 1]))
        0.625
    """
    _check_scores("mad", y_true, y_pred)
    if sample_weight is None:
        return mae.value_fn(y_true, y_pred)  # the mae loss's value, for one score per column
    return _mean("mad", np.abs(y_pred - y_true), sample_weight, y_pred)


def within(
    y_true: _Scores,
    y_pred: _Scores,
    tolerance: float,
    sample_weight: SampleWeightsOf[WeightShapeT] | None = None,
) -> float:
    """The share of columns whose prediction is within ``tolerance`` of the true score.

    Cortez et al. (2009) call it the accuracy at tolerance T: a prediction counts as
    right when ``|y_pred - y_true| <= T``; the paper reports T = 0.5 and T = 1.0.

    Args:
        y_true: the true scores, shape (1, batch).
        y_pred: the predicted scores, shape (1, batch).
        tolerance: T, a finite number >= 0.
        sample_weight: optional weights, one per column, shape (batch,) or
            (1, batch): the weighted share of the columns within T.

    Returns:
        A float in [0, 1].

    Raises:
        ShapeError: the arrays are not (1, batch) floating arrays of one shape and
            dtype, or the weights not (batch,) or (1, batch) ints or floats.
        ValueError: the batch is empty, the tolerance is negative or not finite, or
            a weight is negative, NaN or inf, or all are zero.

    Examples:
        >>> import numpy as np
        >>> within(np.array([[5.0, 6.0, 7.0]]), np.array([[5.5, 6.8, 7.0]]), 0.5)
        0.6666666666666666
    """
    if (
        isinstance(tolerance, bool)
        or not isinstance(tolerance, int | float)
        or not (math.isfinite(tolerance) and tolerance >= 0)
    ):
        raise ValueError(f"within: tolerance must be a finite number >= 0, got {tolerance!r}")
    _check_scores("within", y_true, y_pred)
    return _mean("within", np.abs(y_pred - y_true) <= tolerance, sample_weight, y_pred)


def _check_labels(true_labels: object, pred_labels: object) -> None:
    """Two (1, batch) label arrays of ints or floats, of one shape, not empty."""
    for name, labels in (("true_labels", true_labels), ("pred_labels", pred_labels)):
        got, hint = _got(labels), ""
        if _is_array(labels):
            _check_kind(labels, f"confusion_matrix {name}", name)
            if labels.ndim == 2 and labels.shape[0] == 1 and labels.dtype.kind in "iuf":
                continue
            if labels.ndim != 2:
                got = f"a {labels.ndim}-D array of {got}"
            if labels.ndim == 1:
                hint = f"; samples are columns: pass {name}.reshape(1, -1)"
            elif labels.ndim == 2 and labels.shape[1] == 1:
                hint = f"; samples are columns: pass {name}.T"
        raise ShapeError(
            f"confusion_matrix {name}: expected (labels, batch) = (1, batch) ints or "
            f"floats, got {got}{hint}"
        )
    assert _is_array(true_labels) and _is_array(pred_labels)
    if true_labels.shape != pred_labels.shape:
        raise ShapeError(
            f"confusion_matrix: true_labels has shape {true_labels.shape} but pred_labels "
            f"has {pred_labels.shape}; they need one label per sample, the same samples"
        )
    if true_labels.shape[1] == 0:
        raise ValueError(f"confusion_matrix: no labels (shape {true_labels.shape})")


def _indicator(labels: Labels, classes: Sequence[float], name: str) -> Float[Matrix, "k batch"]:
    """`one_hot`, with its errors said in confusion_matrix's words."""
    try:
        return one_hot(labels, classes)
    except ValueError as error:
        detail = str(error).removeprefix("one_hot: ")
        where = "" if detail.startswith("classes") else f" {name}"
        raise ValueError(f"confusion_matrix{where}: {detail}") from None


def confusion_matrix(true_labels: Labels, pred_labels: Labels, classes: Sequence[float]) -> Counts:
    """Count the samples of each true class by the class they were predicted as.

    Args:
        true_labels: the true class of each sample, shape (1, batch); ints or
            integer-valued floats.
        pred_labels: the predicted class of each sample, shape (1, batch).
        classes: the class values, in the order of the matrix's rows and columns, e.g.
            ``range(3, 10)`` for the white wines' qualities; distinct.

    Returns:
        An int64 array of shape (len(classes), len(classes)): rows are true classes,
        columns predicted ones; the diagonal counts the right predictions.

    Raises:
        ShapeError: the label arrays are not (1, batch) ints or floats of one shape.
        ValueError: there are no labels, the classes are empty or repeat a value, or a
            label is not one of the classes (the message names it and its column).

    Examples:
        >>> import numpy as np
        >>> confusion_matrix(np.array([[5, 6, 6, 7]]), np.array([[5, 6, 5, 6]]), classes=[5, 6, 7])
        array([[1, 0, 0],
               [1, 1, 0],
               [0, 1, 0]])
    """
    _check_labels(true_labels, pred_labels)
    truth = _indicator(true_labels, classes, "true_labels")
    predicted = _indicator(pred_labels, classes, "pred_labels")
    counts: Counts = (truth @ predicted.T).astype(np.int64)  # exact: sums of 0s and 1s
    return counts


def format_confusion(matrix: Counts, classes: Sequence[float]) -> str:
    """A confusion matrix as aligned text: rows are true classes, columns predicted.

    Args:
        matrix: counts, shape (len(classes), len(classes)), as `confusion_matrix` returns.
        classes: the class values of the rows and columns.

    Raises:
        ShapeError: the matrix is not a square integer array with a row per class.

    Examples:
        >>> import numpy as np
        >>> print(format_confusion(np.array([[12, 3], [0, 140]]), classes=[5, 6]))
        true\\pred    5    6
                5   12    3
                6    0  140
    """
    k = len(classes)
    if not (_is_array(matrix) and matrix.dtype.kind in "iu" and matrix.shape == (k, k)):
        got = (
            _got(matrix)
            if not _is_array(matrix) or matrix.ndim == 2
            else (f"a {matrix.ndim}-D array of {_got(matrix)}")
        )
        raise ShapeError(
            f"format_confusion matrix: expected (true, predicted) = ({k}, {k}) integer "
            f"counts for {k} classes, got {got}"
        )
    names = [f"{c:g}" for c in classes]
    width = max([3, *(len(name) for name in names), *(len(str(n)) for n in matrix.flat)]) + 2
    corner = "true\\pred"
    lines = [corner + "".join(name.rjust(width) for name in names)]
    for name, row in zip(names, matrix, strict=True):
        lines.append(name.rjust(len(corner)) + "".join(str(n).rjust(width) for n in row))
    return "\n".join(lines)
