"""The estimators' sample_weight and class_weight (scikit-learn's own sample-weight
checks run in test_sklearn.py): duplication, scikit-learn's class-weight formulas, and
the refusals."""

# scikit-learn ships no type hints: pyright cannot see the attributes fit sets.
# pyright: reportAttributeAccessIssue=false

import re
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from sklearn.utils.class_weight import compute_class_weight

from typednet import _store
from typednet.sklearn import TypedNetClassifier, TypedNetRegressor

Rows = npt.NDArray[np.float64]


def _data(n: int = 40, seed: int = 0) -> tuple[Rows, Rows, npt.NDArray[np.str_]]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=n)
    labels = np.array(["a", "b", "c"])[np.digitize(y, [-1.0, 1.0])]
    return X, y, labels


def _flat(est: TypedNetRegressor | TypedNetClassifier) -> Rows:
    return np.asarray(_store.column(est.net_), dtype=np.float64)


@pytest.mark.parametrize("make", [TypedNetRegressor, TypedNetClassifier])
def test_integer_weights_train_as_repeated_rows_in_full_batch(
    make: type[TypedNetRegressor] | type[TypedNetClassifier],
) -> None:
    X, y, labels = _data()
    target = y if make is TypedNetRegressor else labels
    counts = np.random.default_rng(1).integers(0, 4, len(X))
    counts[:3] = 1  # every class keeps a sample
    rows = np.repeat(np.arange(len(X)), counts)
    settings: dict[str, Any] = {
        "epochs": 15,
        "batch_size": 500,
        "learning_rate": 0.02,
        "random_state": 0,
    }
    weighted = make((8,), **settings).fit(X, target, sample_weight=counts)
    repeated = make((8,), **settings).fit(X[rows], target[rows])
    np.testing.assert_allclose(_flat(weighted), _flat(repeated), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        weighted.history_.train_loss, repeated.history_.train_loss, rtol=1e-9
    )
    if make is TypedNetRegressor:  # the output bias starts at the weighted mean target
        start = make((8,), epochs=1, batch_size=500, optimizer="sgd", learning_rate=1e-12)
        bias = start.fit(X, y, sample_weight=counts).net_.params[-1]
        np.testing.assert_allclose(bias.ravel(), [np.average(y, weights=counts)], rtol=1e-9)


def test_a_class_weight_dict_is_a_sample_weight_per_class() -> None:
    X, _, labels = _data()
    settings: dict[str, Any] = {
        "epochs": 5,
        "batch_size": 16,
        "learning_rate": 0.02,
        "random_state": 0,
    }
    by_class = TypedNetClassifier((8,), class_weight={"a": 3.0, "c": 0.5}, **settings)
    by_sample = TypedNetClassifier((8,), **settings)
    factor = np.select([labels == "a", labels == "c"], [3.0, 0.5], 1.0)
    by_class.fit(X, labels)
    by_sample.fit(X, labels, sample_weight=factor)
    np.testing.assert_array_equal(_flat(by_class), _flat(by_sample))
    # With sample weights too, the two multiply.
    w = np.random.default_rng(2).random(len(X))
    by_class.fit(X, labels, sample_weight=w)
    by_sample.fit(X, labels, sample_weight=w * factor)
    np.testing.assert_allclose(_flat(by_class), _flat(by_sample), rtol=1e-13)


@pytest.mark.parametrize("weighted", [False, True])
def test_balanced_class_weights_are_scikit_learns(weighted: bool) -> None:
    X, _, labels = _data()
    w = np.random.default_rng(3).integers(0, 5, len(X)).astype(float) if weighted else None
    per_class = compute_class_weight(
        "balanced", classes=np.unique(labels), y=labels, sample_weight=w
    )  # the installed scikit-learn's own formula: the oracle
    factor = per_class[np.searchsorted(np.unique(labels), labels)]
    settings: dict[str, Any] = {
        "epochs": 3,
        "batch_size": 16,
        "learning_rate": 0.02,
        "random_state": 0,
    }
    balanced = TypedNetClassifier((8,), class_weight="balanced", **settings)
    explicit = TypedNetClassifier((8,), **settings)
    balanced.fit(X, labels, sample_weight=w)
    explicit.fit(X, labels, sample_weight=factor if w is None else factor * w)
    np.testing.assert_allclose(_flat(balanced), _flat(explicit), rtol=1e-12)


def test_weights_follow_their_rows_into_the_early_stopping_split() -> None:
    X, y, _ = _data(60)
    w = np.where(np.arange(60) % 2 == 0, 1.0, 0.0)
    reg = TypedNetRegressor((8,), early_stopping=True, patience=2, epochs=5, random_state=0)
    reg.fit(X, y, sample_weight=w)
    assert reg.history_.val_loss and all(np.isfinite(reg.history_.val_loss))
    partial = TypedNetRegressor((8,), random_state=0).partial_fit(X, y, sample_weight=w)
    assert partial.history_.epochs == 1


@pytest.mark.parametrize(
    ("make", "kwargs", "message"),
    [
        (TypedNetRegressor, {"sample_weight": np.ones(7)}, "TypedNetRegressor: sample_weight must have shape (n_samples,) = (40,), one weight per sample, got shape (7,)"),
        (TypedNetRegressor, {"sample_weight": np.ones((40, 1))}, "TypedNetRegressor: sample_weight must have shape (n_samples,) = (40,), one weight per sample, got shape (40, 1)"),
        (TypedNetRegressor, {"sample_weight": -np.ones(40)}, "TypedNetRegressor: sample_weight must be >= 0, but the weight of column 0 is negative"),
        (TypedNetRegressor, {"sample_weight": np.full(40, np.nan)}, "TypedNetRegressor: sample_weight contains NaN or inf; weights must be finite"),
        (TypedNetClassifier, {"sample_weight": np.zeros(40)}, "TypedNetClassifier: sample_weight is all zero; at least one sample needs a weight > 0"),
        (TypedNetClassifier, {"class_weight": "even"}, "TypedNetClassifier: class_weight must be None, 'balanced' or a dict of weights by label, got 'even'"),
        (TypedNetClassifier, {"class_weight": {"a": -1.0}}, "TypedNetClassifier: class_weight must be >= 0 for every class"),
        (TypedNetClassifier, {"class_weight": {"a": np.inf}}, "TypedNetClassifier: class_weight: contains NaN or inf"),
        (TypedNetClassifier, {"class_weight": {"a": 0.0, "b": 0.0, "c": 0.0}}, "TypedNetClassifier: every sample weighs zero (class_weight times sample_weight); at least one sample needs a weight > 0"),
        (TypedNetClassifier, {"class_weight": {"a": 0.0, "b": 0.0}}, "TypedNetClassifier needs samples of at least 2 classes with a weight > 0, but only class 'c' has any"),
    ],
)  # fmt: skip
def test_bad_weights_are_refused_and_leave_the_estimator_as_it_was(
    make: type[TypedNetRegressor] | type[TypedNetClassifier],
    kwargs: dict[str, object],
    message: str,
) -> None:
    X, y, labels = _data()
    sample_weight = kwargs.pop("sample_weight", None)
    est = make((4,), epochs=1, random_state=0, **kwargs)  # type: ignore[arg-type]  # bad on purpose
    target = y if make is TypedNetRegressor else labels
    with pytest.raises(ValueError, match=re.escape(message)):
        est.fit(X, target, sample_weight=sample_weight)
    assert not hasattr(est, "net_")


def test_balanced_class_weights_are_refused_by_partial_fit() -> None:
    X, _, labels = _data()
    clf = TypedNetClassifier((4,), class_weight="balanced", random_state=0)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "TypedNetClassifier: class_weight 'balanced' needs the whole training set, which "
            "partial_fit does not see; pass a dict of weights"
        ),
    ):
        clf.partial_fit(X, labels, classes=["a", "b", "c"])
    clf.set_params(class_weight={"a": 2.0}).partial_fit(X, labels, classes=["a", "b", "c"])
    assert clf.history_.epochs == 1
