"""The scikit-learn estimators: scikit-learn's own checks, pipelines and bad input."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from typednet.sklearn import TypedNetClassifier, TypedNetRegressor

# Small and quick, but able to learn the checks' data sets (their bar: R² > 0.5,
# accuracy > 0.83); the checks set random_state themselves.
CHECKED = [
    TypedNetRegressor((16,), learning_rate=0.02, epochs=30, batch_size=32),
    TypedNetClassifier((16,), learning_rate=0.02, epochs=30, batch_size=32),
]


@parametrize_with_checks(CHECKED)  # type: ignore[untyped-decorator]  # sklearn: no hints
def test_scikit_learn_estimator_checks(estimator: object, check: object) -> None:
    check(estimator)  # type: ignore[operator]
