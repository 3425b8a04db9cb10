"""Data: the helpers that prepare columns for training.

Samples are columns here as everywhere in typednet: features have shape
(features, batch) and targets (targets, batch). `deduplicate`, `train_test_split`,
`standardize` and `one_hot` prepare the columns for a network. The course's Wine
Quality data (`load_wine_quality`, `fetch_wine_quality`) lives in `typednet.apps`.

Examples:
    >>> import numpy as np
    >>> x = np.array([[1.0, 2.0, 1.0, 4.0], [0.0, 5.0, 0.0, 5.0]])
    >>> y = np.array([[6.0, 5.0, 6.0, 7.0]])
    >>> x, y = deduplicate(x, y)
    >>> x_train, y_train, x_test, y_test = train_test_split(
    ...     x, y, test_fraction=1 / 3, rng=np.random.default_rng(0))
    >>> x_train.shape, x_test.shape
    ((2, 2), (2, 1))
    >>> scaler = standardize(x_train)
    >>> scaler.apply(x_train).mean(axis=1)
    array([0., 0.])
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from jaxtyping import Float, Int

from . import _validate
from ._pickle import Reduced, reduce
from ._validate import Rng
from .shapes import (
    Inputs,
    Matrix,
    ShapeError,
    Targets,
    _check_array,
    _check_kind,
    _frozen_copy,
    _got,
    _is_array,
    checks_enabled,
)

__all__ = [
    "Labels",
    "Standardizer",
    "deduplicate",
    "one_hot",
    "standardize",
    "train_test_split",
]

Labels = (
    Float[Matrix, "1 batch"]
    | Int[np.ndarray[tuple[int, int], np.dtype[np.integer[Any]]], "1 batch"]
)
"""Class labels, one per column: a (1, batch) array of ints or integer-valued floats."""

# --- array checks ------------------------------------------------------------------------


def _check_columns(
    a: object,
    where: str,
    name: str,
    *,
    axis: str = "features",
    rows: int | None = None,
    cols: int | None = None,
) -> None:
    """ShapeError unless ``a`` is a 2-D floating (axis, batch) array; skipped by no_checks."""
    if checks_enabled():
        _check_array(
            a,
            where,
            (axis, "batch"),
            (rows, cols),
            name=name,
            hint_1d=_hint_1d(name, axis, rows),
            hint_t=f"samples are columns: pass {name}.T",
        )


def _hint_1d(name: str, axis: str, rows: int | None) -> str:
    """What to do with a 1-D array: which reshape makes it columns."""
    if axis != "features":
        return f"samples are columns: pass {name}.reshape(1, -1)"
    if rows is not None:
        return f"a sample is a column: pass {name}.reshape(-1, 1)"
    return (
        f"samples are columns: pass {name}.reshape(-1, 1) for one sample, "
        f"{name}.reshape(1, -1) for one feature"
    )


def _check_pair(x: Inputs, y: Targets, where: str) -> None:
    """x and y: 2-D floating arrays with the same number of columns (samples)."""
    _check_columns(x, f"{where} x", "x")
    _check_columns(y, f"{where} y", "y", axis="targets")
    if not checks_enabled() or x.shape[1] == y.shape[1]:
        return
    hint = ""
    if x.shape[0] == y.shape[0] > x.shape[1]:
        hint = "; samples are columns: pass x.T and y.T"
    elif x.shape[0] == y.shape[1]:
        hint = "; samples are columns: pass x.T"
    elif y.shape[0] == x.shape[1]:
        hint = "; samples are columns: pass y.T"
    raise ShapeError(
        f"{where}: expected x (features, batch) and y (targets, batch) with the same batch, "
        f"got x of {_got(x)} and y of {_got(y)}{hint}"
    )


# --- preparing columns ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Standardizer:
    """Per-feature statistics that map features to mean 0 and std 1, and back.

    Build it with `standardize` on the training columns only, then apply the same
    statistics to every other split. The arrays are copied and read-only.

    Attributes:
        mean: per-feature mean, shape (features, 1).
        std: per-feature population std (ddof 0), shape (features, 1); 1 for a feature
            that is constant in the training columns, so it maps to 0 instead of NaN.
    """

    mean: Float[Matrix, "features 1"]
    std: Float[Matrix, "features 1"]

    def __post_init__(self) -> None:
        _check_array(self.mean, "Standardizer mean", ("features", "1"), (None, 1), name="mean")
        rows = self.mean.shape[0]
        _check_array(
            self.std,
            "Standardizer std",
            ("features", "1"),
            (rows, 1),
            name="std",
            dtype=self.mean.dtype,
        )
        if not (np.isfinite(self.mean).all() and np.isfinite(self.std).all()):
            raise ValueError("Standardizer: mean and std must be finite")
        if not (self.std > 0).all():
            raise ValueError("Standardizer: std must be positive (use 1 for a constant feature)")
        object.__setattr__(self, "mean", _frozen_copy(self.mean))
        object.__setattr__(self, "std", _frozen_copy(self.std))

    def __reduce__(self) -> Reduced:
        """Pickle and copy through the constructor, which validates and freezes again."""
        return reduce(self)

    def _check(self, a: object, method: str, name: str) -> None:
        where = f"Standardizer.{method} {name} (fitted on {self.mean.shape[0]} features)"
        _check_columns(a, where, name, rows=self.mean.shape[0])

    def apply(self, x: Inputs) -> Inputs:
        """Standardized columns ``(x - mean) / std``, in ``x``'s dtype.

        Args:
            x: columns with the fitted features, shape (features, batch).

        Raises:
            ShapeError: x is not 2-D floating with the fitted number of features.
        """
        self._check(x, "apply", "x")
        return ((x - self.mean) / self.std).astype(x.dtype, copy=False)

    def invert(self, z: Inputs) -> Inputs:
        """Undo `apply`: ``z * std + mean``, in ``z``'s dtype.

        Args:
            z: standardized columns, shape (features, batch).

        Raises:
            ShapeError: z is not 2-D floating with the fitted number of features.
        """
        self._check(z, "invert", "z")
        return (z * self.std + self.mean).astype(z.dtype, copy=False)


def standardize(x: Inputs) -> Standardizer:
    """Fit a `Standardizer` on training columns: per-feature mean and std over samples.

    Args:
        x: the training columns, shape (features, batch); fit on the training split
            only, so no statistic leaks from the test columns.

    Returns:
        The fitted `Standardizer`, in ``x``'s dtype; a constant feature gets std 1.

    Raises:
        ShapeError: x is not a 2-D floating array.
        ValueError: x has no columns, or holds NaN or inf.

    Examples:
        >>> import numpy as np
        >>> scaler = standardize(np.array([[1.0, 3.0], [5.0, 5.0]]))
        >>> scaler.mean.ravel(), scaler.std.ravel()
        (array([2., 5.]), array([1., 1.]))
        >>> scaler.apply(np.array([[5.0], [6.0]]))
        array([[3.],
               [1.]])
    """
    _check_columns(x, "standardize x", "x")
    if x.shape[1] == 0:
        raise ValueError(f"standardize: x has no columns (shape {x.shape})")
    if not np.isfinite(x).all():
        raise ValueError("standardize: x contains NaN or inf")
    std = x.std(axis=1, keepdims=True)
    # Constancy is tested exactly (a constant row's computed std can be ~1e-17, not 0);
    # a std that underflows to 0 (subnormal spreads) is replaced too.
    std[(np.ptp(x, axis=1, keepdims=True) == 0) | (std == 0)] = 1.0
    return Standardizer(mean=x.mean(axis=1, keepdims=True), std=std)


def train_test_split(
    x: Inputs, y: Targets, *, test_fraction: float = 0.2, rng: Rng
) -> tuple[
    Float[Matrix, "features train"],
    Float[Matrix, "outputs train"],
    Float[Matrix, "features test"],
    Float[Matrix, "outputs test"],
]:
    """Split samples (columns) at random into a training and a test part.

    The test part gets ``round(test_fraction * n)`` columns (halves round up), drawn by
    ``rng.permutation``: the same seed gives the same split. Columns of ``x`` and ``y``
    stay paired.

    Args:
        x: features, shape (features, batch).
        y: targets, shape (targets, batch), one column per column of x.
        test_fraction: the share of columns in the test part, in (0, 1).
        rng: the source of randomness, e.g. ``np.random.default_rng(0)``.

    Returns:
        ``(x_train, y_train, x_test, y_test)``, in the order the permutation drew them.

    Raises:
        ShapeError: x or y is not 2-D floating, or their column counts differ.
        TypeError: rng is not a ``np.random.Generator`` (or a legacy RandomState).
        ValueError: test_fraction is not in (0, 1), or a part would be empty.

    Examples:
        >>> import numpy as np
        >>> x = np.arange(10.0).reshape(1, 10)
        >>> x_train, y_train, x_test, y_test = train_test_split(
        ...     x, 2 * x, test_fraction=0.3, rng=np.random.default_rng(0))
        >>> x_train.shape, x_test.shape
        ((1, 7), (1, 3))
        >>> bool((y_test == 2 * x_test).all())
        True
    """
    _check_pair(x, y, "train_test_split")
    _validate.rng("train_test_split", rng)
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"train_test_split: test_fraction must be in (0, 1), got {test_fraction}")
    n = x.shape[1]
    n_test = math.floor(test_fraction * n + 0.5)
    if not 0 < n_test < n:
        side = "test" if n_test == 0 else "training"
        raise ValueError(
            f"train_test_split: test_fraction {test_fraction} of {n} columns leaves the "
            f"{side} part empty"
        )
    order = rng.permutation(n)
    test, train = order[:n_test], order[n_test:]
    return x[:, train], y[:, train], x[:, test], y[:, test]


def deduplicate(
    x: Inputs, y: Targets
) -> tuple[Float[Matrix, "features kept"], Float[Matrix, "outputs kept"]]:
    """Drop the samples whose features and target exactly repeat an earlier sample.

    Duplicates that land on both sides of a split inflate the test score. The first
    occurrence is kept and the original order preserved.

    Args:
        x: features, shape (features, batch).
        y: targets, shape (targets, batch), one column per column of x.

    Returns:
        ``(x, y)`` without the repeated columns.

    Raises:
        ShapeError: x or y is not 2-D floating, or their column counts differ.

    Examples:
        >>> import numpy as np
        >>> x, y = deduplicate(np.array([[1.0, 2.0, 1.0, 1.0]]), np.array([[0.0, 0.0, 0.0, 1.0]]))
        >>> x, y
        (array([[1., 2., 1.]]), array([[0., 0., 1.]]))
    """
    _check_pair(x, y, "deduplicate")
    _, first = np.unique(np.vstack([x, y]).T, axis=0, return_index=True)
    keep = np.sort(first)
    return x[:, keep], y[:, keep]


def _check_labels(labels: object) -> None:
    """ShapeError unless labels is a (1, batch) array of ints or floats."""
    if not checks_enabled():
        return
    if _is_array(labels):
        _check_kind(labels, "one_hot labels", "labels")
    if not (_is_array(labels) and labels.dtype.kind in "iu"):
        _check_columns(labels, "one_hot labels", "labels", axis="labels", rows=1)
        return
    if labels.ndim == 2 and labels.shape[0] == 1:
        return
    hint = ""
    if labels.ndim == 1:
        hint = "; samples are columns: pass labels.reshape(1, -1)"
    elif labels.ndim == 2 and labels.shape[1] == 1:
        hint = "; samples are columns: pass labels.T"
    got = _got(labels) if labels.ndim == 2 else f"a {labels.ndim}-D array of {_got(labels)}"
    raise ShapeError(f"one_hot labels: expected (labels, batch) = (1, batch), got {got}{hint}")


def one_hot(labels: Labels, classes: Sequence[int | float]) -> Float[Matrix, "classes batch"]:
    """One-hot columns: row k of column i is 1 where ``labels[0, i] == classes[k]``.

    Args:
        labels: one label per column, shape (1, batch), ints or integer-valued floats.
        classes: the class values in the order of the output rows, e.g. ``range(3, 10)``
            for the wine qualities 3..9; distinct.

    Returns:
        float64 array of shape (len(classes), batch) with a single 1 per column.

    Raises:
        ShapeError: labels is not a (1, batch) array of ints or floats.
        ValueError: classes is empty or repeats a value, or a label is not one of them
            (the message names the label and its column).

    Examples:
        >>> import numpy as np
        >>> one_hot(np.array([[5, 3, 5]]), classes=range(3, 6))
        array([[0., 1., 0.],
               [0., 0., 0.],
               [1., 0., 1.]])
    """
    _check_labels(labels)
    values = np.asarray(classes, dtype=np.float64)
    if values.ndim != 1 or values.size == 0 or np.unique(values).size != values.size:
        raise ValueError(f"one_hot: classes must be distinct values, at least one; got {classes}")
    hits: npt.NDArray[np.bool_] = values[:, None] == labels
    unknown = np.flatnonzero(~hits.any(axis=0))
    if unknown.size:
        j = int(unknown[0])
        raise ValueError(
            f"one_hot: label {labels[0, j]:g} at column {j} is not one of the classes "
            f"[{', '.join(f'{c:g}' for c in values)}]"
        )
    return hits.astype(np.float64)
