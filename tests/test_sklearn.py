"""The scikit-learn estimators: scikit-learn's own checks, pipelines, resuming, bad input."""

# scikit-learn ships no type hints: pyright guesses its parameters from their defaults
# (error_score as float) and cannot see the attributes fit sets (feature_names_in_) or a
# Pipeline's steps' (history_). mypy checks these tests. X is scikit-learn's name, not a
# constant.
# pyright: reportAttributeAccessIssue=false, reportArgumentType=false
# pyright: reportConstantRedefinition=false

import subprocess
import sys
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.dummy import DummyRegressor
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import typednet as tn
from typednet.sklearn import TypedNetClassifier, TypedNetRegressor

Rows = npt.NDArray[np.float64]

# Small and quick, but able to learn the checks' data sets (their bar: R² > 0.5,
# accuracy > 0.83); the checks set random_state themselves.
CHECKED = [
    TypedNetRegressor((16,), learning_rate=0.02, epochs=30, batch_size=32),
    TypedNetClassifier((16,), learning_rate=0.02, epochs=30, batch_size=32),
]


# Before 1.9, scikit-learn passes pytest a generator of checks, which pytest 9 deprecates:
# the same mark with the checks listed.
_CHECKS: Any = parametrize_with_checks(CHECKED)
_NAMES, _VALUES = _CHECKS.args


@pytest.mark.parametrize(_NAMES, list(_VALUES), **_CHECKS.kwargs)
def test_scikit_learn_estimator_checks(estimator: object, check: Any) -> None:
    check(estimator)


def _regression(n: int = 120, seed: int = 0) -> tuple[Rows, Rows]:
    """Features on very different scales; the target is linear in them, plus noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)) * [1.0, 10.0, 0.1, 1.0] + [0.0, 50.0, 0.0, -3.0]
    y = X @ [1.0, 0.2, 5.0, 0.0] + 0.1 * rng.normal(size=n)
    return X, y


def _blobs(n: int = 90, seed: int = 0) -> tuple[Rows, npt.NDArray[np.str_]]:
    rng = np.random.default_rng(seed)
    labels = np.array(["setosa", "versicolor", "virginica"])[np.arange(n) % 3]
    centres = {"setosa": (0.0, 3.0), "versicolor": (3.0, 0.0), "virginica": (-3.0, -3.0)}
    X = np.array([centres[label] for label in labels]) + rng.normal(size=(n, 2))
    return X, labels


# --- the boundary: rows outside, columns inside ----------------------------------------


def test_predict_is_the_network_on_rows_re_derived_in_plain_numpy() -> None:
    X, y = _regression()
    reg = TypedNetRegressor((6, 5), activation="tanh", epochs=2, random_state=0).fit(X, y)
    w1, b1, w2, b2, w3, b3 = reg.net_.params
    assert w1.shape == (6, 4)  # (next, prev): the network inside is typednet's own
    hidden = np.tanh(np.tanh(X @ w1.T + b1.T) @ w2.T + b2.T)
    np.testing.assert_allclose(reg.predict(X), (hidden @ w3.T + b3.T).ravel(), rtol=1e-12)


def test_classifier_probabilities_are_the_softmax_of_the_last_layer_re_derived() -> None:
    X, labels = _blobs()
    clf = TypedNetClassifier((5,), epochs=3, random_state=0).fit(X, labels)
    w1, b1, w2, b2 = clf.net_.params
    logits = np.maximum(X @ w1.T + b1.T, 0.0) @ w2.T + b2.T
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba(X), softmax, rtol=1e-12)
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[softmax.argmax(axis=1)])


def test_the_classifier_learns_any_label_type() -> None:
    X, labels = _blobs()
    clf = TypedNetClassifier((16,), learning_rate=0.05, epochs=40, random_state=0)
    assert clf.fit(X, labels).score(X, labels) > 0.95
    codes = np.searchsorted(["setosa", "versicolor", "virginica"], labels) * 10 - 5
    assert list(clf.fit(X, codes).classes_) == [-5, 5, 15]
    assert clf.score(X, codes) > 0.95


def test_the_regressor_starts_out_predicting_the_targets_mean() -> None:
    X, y = _regression()
    Y = np.column_stack([y, 100.0 - 3.0 * y])
    reg = TypedNetRegressor((4,), optimizer="sgd", learning_rate=1e-9, epochs=1, batch_size=120)
    b_out = reg.fit(X, Y).net_.params[-1]
    np.testing.assert_allclose(b_out.ravel(), [np.mean(y), 100.0 - 3.0 * np.mean(y)], rtol=1e-6)


def test_init_names_the_weights_initializer() -> None:
    X, y = _regression()
    reg = TypedNetRegressor((300,), optimizer="sgd", learning_rate=1e-9, epochs=1, random_state=0)
    w1 = reg.fit(X, y).net_.params[0]  # the default, as scikit-learn's MLPs: Glorot uniform
    bound = np.sqrt(6.0 / (4 + 300))  # U[-a, a), a = sqrt(6 / (prev + next))
    assert np.abs(w1).max() <= bound + 1e-6 and np.abs(w1).max() > 0.98 * bound
    he = reg.set_params(init=None).fit(X, y).net_.params[0]  # typednet's choice for relu
    np.testing.assert_allclose(he.std(), np.sqrt(2.0 / 4), rtol=0.05)  # He: N(0, 2 / prev)
    lecun = reg.set_params(init="lecun_normal").fit(X, y).net_.params[0]
    np.testing.assert_allclose(lecun.std(), np.sqrt(1.0 / 4), rtol=0.05)


def test_dropout_follows_each_hidden_layer_in_training_only() -> None:
    X, y = _regression()
    reg = TypedNetRegressor((6, 5), activation="tanh", dropout=0.5, epochs=2, random_state=0)
    net = reg.fit(X, y).net_
    assert [type(layer).__name__ for layer in net.layers] == [
        "Dense",
        "Dropout",
        "Dense",
        "Dropout",
        "Dense",
    ]
    w1, b1, w2, b2, w3, b3 = net.params  # at inference dropout is the identity
    hidden = np.tanh(np.tanh(X @ w1.T + b1.T) @ w2.T + b2.T)
    np.testing.assert_allclose(reg.predict(X), (hidden @ w3.T + b3.T).ravel(), rtol=1e-12)
    # In training it draws masks: the same seed without dropout trains another network.
    plain = TypedNetRegressor((6, 5), activation="tanh", epochs=2, random_state=0).fit(X, y)
    assert not np.array_equal(plain.net_.params[0], w1)


def test_multi_output_targets_give_one_column_of_predictions_each() -> None:
    X, y = _regression()
    Y = np.column_stack([y, -y])
    reg = TypedNetRegressor((8,), epochs=2, random_state=0).fit(X, Y)
    assert reg.n_outputs_ == 2 and reg.net_.out_size == 2
    assert reg.predict(X).shape == (120, 2)
    assert reg.fit(X, Y[:, :1]).predict(X).shape == (120, 1)
    assert reg.fit(X, y).predict(X).shape == (120,)


def test_pandas_rows_give_feature_names() -> None:
    X, y = _regression()
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    reg = TypedNetRegressor((4,), epochs=2, random_state=0).fit(frame, pd.Series(y))
    assert list(reg.feature_names_in_) == ["a", "b", "c", "d"] and reg.n_features_in_ == 4
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        from_array = reg.predict(X)
    np.testing.assert_array_equal(reg.predict(frame), from_array)


def test_float32_trains_and_predicts_in_float32() -> None:
    X, y = _regression()
    reg = TypedNetRegressor((4,), epochs=2, dtype=np.float32, random_state=0).fit(X, y)
    assert reg.net_.dtype == np.float32 and reg.predict(X).dtype == np.float32


# --- scikit-learn's tools -------------------------------------------------------------


def test_a_pipeline_in_grid_search_and_cross_val_score() -> None:
    X, y = _regression(150)
    pipe = make_pipeline(
        StandardScaler(),
        TypedNetRegressor((8,), learning_rate=0.02, epochs=40, batch_size=16, random_state=0),
    )
    grid = GridSearchCV(
        pipe, {"typednetregressor__learning_rate": [1e-5, 0.02]}, cv=3, error_score="raise"
    )
    grid.fit(X, y)
    # 40 epochs at 1e-5 barely leave the starting point, the targets' mean (R² about 0).
    assert grid.best_params_ == {"typednetregressor__learning_rate": 0.02}
    scores = cross_val_score(grid.best_estimator_, X, y, cv=3)
    baseline = cross_val_score(DummyRegressor(), X, y, cv=3)  # the mean: R² <= 0
    assert scores.shape == (3,) and (scores > 0.8).all() and (baseline < 0.0).all()


# --- resuming ------------------------------------------------------------------------------


@pytest.mark.parametrize("estimator", CHECKED, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize(
    ("optimizer", "learning_rate"),
    [("adam", 0.02), ("adamw", tn.schedules.cosine_decay(0.02, steps=12))],
    ids=["adam", "adamw-cosine"],
)
def test_fit_then_partial_fit_is_a_longer_fit_bit_for_bit(
    estimator: TypedNetRegressor | TypedNetClassifier,
    optimizer: str,
    learning_rate: float | tn.schedules.Schedule,
) -> None:
    X, y = _regression(64)
    if isinstance(estimator, TypedNetClassifier):
        y = (y > np.median(y)).astype(int)
    estimator = clone(estimator).set_params(optimizer=optimizer, learning_rate=learning_rate)
    longer = estimator.set_params(random_state=7, epochs=3).fit(X, y)
    expected = longer.net_.params
    resumed = estimator.set_params(epochs=2).fit(X, y)
    resumed.partial_fit(X, y)
    for a, b in zip(resumed.net_.params, expected, strict=True):
        np.testing.assert_array_equal(a, b)
    assert resumed.history_.epochs == 3 and resumed.opt_state_.count == 3 * 2
    # A fresh optimizer state (moments at zero, the schedule at step 1) would not.
    restarted = estimator.set_params(epochs=2).fit(X, y)
    restarted.opt_state_ = tn.adam(0.02).init(restarted.net_)
    restarted.partial_fit(X, y)
    assert not np.array_equal(restarted.net_.params[0], expected[0])


def test_partial_fit_from_scratch_needs_the_classes_once() -> None:
    X, labels = _blobs()
    clf = TypedNetClassifier((4,), batch_size=10, early_stopping=True, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, labels)
    clf.partial_fit(X[:3], labels[:3], classes=["virginica", "setosa", "versicolor"])
    clf.partial_fit(X[3:], labels[3:])
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    # One epoch per call, on every row given: early stopping is for fit only.
    assert clf.history_.epochs == 2 and clf.opt_state_.count == 1 + 9
    assert clf.history_.val_loss == ()
    with pytest.raises(ValueError, match="differs from the classes of the earlier calls"):
        clf.partial_fit(X, labels, classes=["setosa", "versicolor"])


def test_early_stopping_keeps_the_best_epoch() -> None:
    X, y = _regression(80)
    y = y + 3.0 * np.random.default_rng(1).normal(size=80)  # noisy: it will overfit
    reg = TypedNetRegressor(
        (64, 64),
        learning_rate=0.01,
        epochs=500,
        batch_size=8,
        early_stopping=True,
        validation_fraction=0.25,
        patience=3,
        random_state=0,
    )
    history = make_pipeline(StandardScaler(), reg).fit(X, y)[-1].history_
    assert 3 < history.epochs < 500 and len(history.val_loss) == history.epochs
    assert history.best_epoch == int(np.argmin(history.val_loss)) + 1
    assert history.epochs == history.best_epoch + 3


def test_an_l2_penalty_shrinks_the_weights() -> None:
    X, y = _regression()
    X = StandardScaler().fit_transform(X)

    def fitted(alpha: float, penalty: Literal["l1", "l2"] = "l2") -> TypedNetRegressor:
        reg = TypedNetRegressor(
            (8,), learning_rate=0.01, epochs=30, batch_size=16, random_state=0
        ).set_params(alpha=alpha, penalty=penalty)
        return reg.fit(X, y)

    plain, shrunk, l1 = fitted(0.0), fitted(0.1), fitted(0.1, "l1")
    norm = [float(np.square(r.net_.params[0]).sum()) for r in (plain, shrunk, l1)]
    assert norm[1] < 0.75 * norm[0] and norm[2] < norm[0]


# --- bad input: scikit-learn's usual errors -------------------------------------------------


def test_nan_in_x_is_refused() -> None:
    X, y = _regression()
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        TypedNetRegressor().fit(X, y)


def test_a_wrong_number_of_features_at_predict_time() -> None:
    X, y = _regression()
    reg = TypedNetRegressor((4,), epochs=1).fit(X, y)
    with pytest.raises(
        ValueError, match="X has 3 features, but TypedNetRegressor is expecting 4 features"
    ):
        reg.predict(X[:, :3])


def test_a_single_class_is_refused() -> None:
    X, _ = _blobs()
    with pytest.raises(
        ValueError,
        match="TypedNetClassifier needs samples of at least 2 classes, but the data has 1 class: 'a'",
    ):
        TypedNetClassifier().fit(X, ["a"] * len(X))


def test_continuous_targets_are_refused_by_the_classifier() -> None:
    X, y = _regression()
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        TypedNetClassifier().fit(X, y)


def test_predict_before_fit() -> None:
    with pytest.raises(NotFittedError, match="This TypedNetClassifier instance is not fitted yet"):
        TypedNetClassifier().predict_proba([[1.0, 2.0]])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"activation": "swish"},
            r"activation must be a typednet Activation or one of \['elu', 'identity', .*\], got 'swish'",
        ),
        ({"init": "zeros"}, r"init must be None or one of \['glorot_normal', .*\], got 'zeros'"),
        ({"dropout": 1.0}, r"dropout must be a number in \[0, 1\), got 1.0"),
        ({"optimizer": "lbfgs"}, r"optimizer must be one of \['adadelta', .*\], got 'lbfgs'"),
        ({"penalty": "l3"}, r"penalty must be one of \['l1', 'l2'\], got 'l3'"),
        ({"dtype": np.int64}, "dtype must be np.float32 or np.float64, got <class 'numpy.int64'>"),
        ({"epochs": 0}, "epochs must be a positive int, got 0"),
        ({"batch_size": 2.5}, "batch_size must be a positive int, got 2.5"),
        (
            {"hidden_sizes": ("8",)},
            r"hidden_sizes must be a sequence of positive ints such as \(64, 32\), got \('8',\)",
        ),
        (
            {"early_stopping": True, "validation_fraction": 1.0},
            r"validation_fraction must be a number in \(0, 1\), got 1.0",
        ),
        ({"learning_rate": -1.0}, r"adam: learning_rate must be a finite number > 0, got -1.0"),
    ],
)
def test_bad_hyper_parameters_are_named_at_fit_time(
    params: dict[str, object], message: str
) -> None:
    X, y = _regression()
    reg = TypedNetRegressor((4,), epochs=1).set_params(**params)  # setting never raises
    with pytest.raises(ValueError, match=message):
        reg.fit(X, y)


@pytest.mark.parametrize(
    ("name", "value", "want"),
    [
        ("hidden_sizes", (8, 0), r"a sequence of positive ints such as \(64, 32\)"),
        ("hidden_sizes", None, r"a sequence of positive ints such as \(64, 32\)"),
        ("activation", ["relu"], r"a typednet Activation or one of \['elu', .*\]"),
        ("init", ["he_normal"], r"None or one of \['glorot_normal', .*\]"),
        ("optimizer", ["adam"], r"one of \['adadelta', .*\]"),
        ("penalty", ["l2"], r"one of \['l1', 'l2'\]"),
        ("alpha", "0.1", r"a finite number >= 0"),
        ("alpha", -1.0, r"a finite number >= 0"),
        ("dropout", "0.5", r"a number in \[0, 1\)"),
        ("early_stopping", "no", r"True or False"),
        ("validation_fraction", "0.1", r"a number in \(0, 1\)"),  # unused without stopping
        ("patience", 0, r"a positive int"),  # likewise
        ("epochs", True, r"a positive int"),
        ("random_state", "abc", r"None, an int or a np\.random\.RandomState"),
        ("dtype", "abc", r"np\.float32 or np\.float64"),
        ("dtype", None, r"np\.float32 or np\.float64"),
    ],
)
def test_every_hyper_parameter_of_the_wrong_kind_is_named_at_fit_time(
    name: str, value: object, want: str
) -> None:
    """Raw TypeErrors (unhashable type: 'list'), messages naming another function's
    parameter (l2's lam for alpha) or nothing at all (early_stopping="no" was true)."""
    X, y = _regression(20)
    for estimator in (TypedNetRegressor((4,), epochs=1), TypedNetClassifier((4,), epochs=1)):
        estimator.set_params(**{name: value})  # setting never raises: scikit-learn's rule
        labels = y > y.mean() if isinstance(estimator, TypedNetClassifier) else y
        kind = type(estimator).__name__
        with pytest.raises(ValueError, match=rf"^{kind}: {name} must be {want}, got "):
            estimator.fit(X, labels)


def _fitted_state(estimator: Any) -> dict[str, Any]:
    """What fit set (the attributes ending in _, and the random stream), comparable."""
    state = {k: v for k, v in vars(estimator).items() if k.endswith("_") and k != "_rng"}
    state["stream"] = estimator._rng.bit_generator.state
    return state


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(
        np.array_equal(a[k], b[k]) if isinstance(a[k], np.ndarray) else a[k] is b[k] or a[k] == b[k]
        for k in a
    )


def test_a_refused_call_leaves_a_fitted_estimator_as_it_was() -> None:
    """A fit refused after validate_data had set n_features_in_, or the classifier had
    dropped its classes_, or after a fresh network had replaced net_, left a mix."""
    X, y = _regression(40)
    reg = TypedNetRegressor((4,), epochs=2, random_state=0).fit(X, y)
    clf = TypedNetClassifier((4,), epochs=2, random_state=0).fit(X, y > y.mean())
    refused: list[tuple[Any, Any]] = [
        (reg, lambda: reg.fit(X[:, :3], y[:-1])),  # rows of X and y differ
        (reg, lambda: reg.fit(X[:, :3] * np.nan, y)),  # refused after n_features_in_ = 3
        (reg, lambda: reg.set_params(patience=0).fit(X[:, :3], y)),
        (reg, lambda: reg.set_params(patience=10, epochs=1, learning_rate=1e300).fit(X, y * 1e300)),
        (reg, lambda: reg.partial_fit(X[:, :3], y)),
        (clf, lambda: clf.fit(X, np.zeros(40))),  # one class
        (clf, lambda: clf.partial_fit(X, y > y.mean(), classes=[0, 1, 2])),
    ]
    for estimator, call in refused:
        before, predictions = _fitted_state(estimator), estimator.predict(X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's overflow on the way
            with pytest.raises(ValueError):
                call()
        assert _same(_fitted_state(estimator), before)
        np.testing.assert_array_equal(estimator.predict(X), predictions)

    X, y = _regression()
    reg = TypedNetRegressor((4,), activation="identity", optimizer="sgd", learning_rate=10.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's overflow on the way
        with pytest.raises(
            ValueError,
            match=r"^fit: epoch \d+, step 1 of 1 would give non-finite params \(NaN or inf\), first in layer 1 w; .* try a smaller learning rate",
        ):
            reg.fit(X * 1e3, y)


def test_typednet_itself_imports_without_scikit_learn() -> None:
    code = (
        "import sys; sys.modules['sklearn'] = None  # as if not installed\n"
        "import typednet as tn; print(tn.forward.__name__)\n"
        "import typednet.sklearn\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.stdout == "forward\n"
    assert "ImportError: typednet.sklearn needs scikit-learn 1.6 or newer" in done.stderr
    assert "pip install 'typednet[sklearn]'" in done.stderr


# --- module=: any network a builder returns -------------------------------------------------


@dataclass(frozen=True)
class ResidualMLP:
    """A module builder as a small record, so that the estimator's repr shows it: a
    residual MLP, n_in -> width -> [batch norm] -> residual(width -> width) -> n_out.

    Not with a batch norm in scikit-learn's checks: a batch's statistics depend on which
    samples share it, so integer sample weights cannot equal repeated samples there."""

    width: int = 16
    norm: bool = False

    def __call__(self, rng: np.random.Generator, n_in: int, n_out: int) -> tn.Network:
        w = self.width
        block = tn.network(tn.dense(rng, w, w, tn.relu)).then(tn.dense(rng, w, w, tn.identity))
        net = tn.network(tn.dense(rng, n_in, w, tn.relu))
        if self.norm:
            net = net.then(tn.batch_norm(w))
        return net.then(tn.residual(block)).then(tn.dense(rng, w, n_out, tn.identity))


@dataclass(frozen=True)
class Branches:
    """Two branches over the input, concatenated, then a softmax over the classes."""

    wide: int = 12
    narrow: int = 4

    def __call__(self, rng: np.random.Generator, n_in: int, n_out: int) -> tn.Network:
        wide = tn.network(tn.dense(rng, n_in, self.wide, tn.relu))
        narrow = tn.network(tn.dense(rng, n_in, self.narrow, tn.tanh))
        net = tn.network(tn.parallel(wide, narrow))
        return net.then(tn.dense(rng, self.wide + self.narrow, n_out, tn.softmax))


MODULES = [
    TypedNetRegressor(learning_rate=0.02, epochs=30, batch_size=32, module=ResidualMLP()),
    TypedNetClassifier(learning_rate=0.02, epochs=30, batch_size=32, module=Branches()),
]
_MODULE_CHECKS: Any = parametrize_with_checks(MODULES)


@pytest.mark.parametrize(_NAMES, list(_MODULE_CHECKS.args[1]), **_MODULE_CHECKS.kwargs)
def test_scikit_learn_estimator_checks_with_a_module_builder(estimator: object, check: Any) -> None:
    check(estimator)


def test_a_module_builder_gets_the_seeded_rng_and_the_data_sizes() -> None:
    X, labels = _blobs()
    calls: list[tuple[int, int]] = []

    def build(rng: np.random.Generator, n_in: int, n_out: int) -> tn.Network:
        calls.append((n_in, n_out))
        return Branches()(rng, n_in, n_out)

    clf = TypedNetClassifier(learning_rate=0.05, epochs=40, module=build, random_state=0)
    assert clf.get_params()["module"] is build and clone(clf).module is build
    clf.fit(X, labels)
    assert calls == [(2, 3)] and clf.score(X, labels) > 0.95
    assert [layer.kind for layer in clf.net_.layers if isinstance(layer, tn.Layer)] == [
        "parallel",
        "dense",
    ]
    # The same seed draws the same network; another draws another.
    again = clone(clf).fit(X, labels).net_.params
    for a, b in zip(again, clf.net_.params, strict=True):
        np.testing.assert_array_equal(a, b)
    other = clone(clf).set_params(random_state=1).fit(X, labels).net_.params[0]
    assert not np.array_equal(other, again[0])
    # hidden_sizes and the rest do not apply: the builder's network is trained as it is.
    assert clone(clf).set_params(hidden_sizes=(3, 3)).fit(X, labels).net_.param_count == (
        clf.net_.param_count
    )


def test_a_module_network_is_trained_with_its_batch_norm_statistics() -> None:
    X, y = _regression()
    reg = TypedNetRegressor(epochs=5, batch_size=16, module=ResidualMLP(norm=True), random_state=0)
    norm = reg.fit(X, y).net_.layers[1]
    assert isinstance(norm, tn.BatchNorm)
    # Training moved the running mean from its start (zeros) towards the hidden means.
    assert np.abs(norm.running_mean).max() > 0.01


def _fixed(net: tn.Network) -> Any:
    def build(rng: np.random.Generator, n_in: int, n_out: int) -> tn.Network:
        return net

    return build


@pytest.mark.parametrize(
    ("n_in", "n_out", "got"),
    [(4, 3, r"\(3, 4\)"), (2, 5, r"\(5, 2\)")],
    ids=["features", "outputs"],
)
def test_a_builder_of_the_wrong_size_is_a_shape_error_naming_it(
    n_in: int, n_out: int, got: str
) -> None:
    X, labels = _blobs()  # 2 features, 3 classes
    net = tn.network(tn.dense(np.random.default_rng(0), n_in, n_out, tn.softmax))
    clf = TypedNetClassifier(module=_fixed(net), epochs=1)
    with pytest.raises(
        tn.ShapeError,
        match=rf"^TypedNetClassifier: module=.*build returned a network from {n_in} features "
        rf"to {n_out} outputs: expected \(next, prev\) = \(3, 2\), the data's outputs and "
        rf"features, got {got}$",
    ):
        clf.fit(X, labels)
    assert not hasattr(clf, "net_")


def test_a_builder_of_swapped_sizes_gets_a_hint() -> None:
    X, labels = _blobs()  # 2 features, 3 classes
    net = tn.network(tn.dense(np.random.default_rng(0), 3, 2, tn.softmax))
    with pytest.raises(
        tn.ShapeError,
        match=r"expected \(next, prev\) = \(3, 2\), .*got \(2, 3\); did you swap n_features "
        "and n_outputs\\?$",
    ):
        TypedNetClassifier(module=_fixed(net), epochs=1).fit(X, labels)


def test_a_builder_of_another_dtype_or_kind_or_output_is_refused() -> None:
    X, labels = _blobs()
    rng = np.random.default_rng(0)
    f32 = tn.network(tn.dense(rng, 2, 3, tn.softmax, dtype=np.float32))
    with pytest.raises(
        tn.ShapeError,
        match=r"^TypedNetClassifier: module=.*build returned float32 params but the "
        r"estimator's dtype is float64; build with dtype=np.float64 or set dtype=np.float32$",
    ):
        TypedNetClassifier(module=_fixed(f32), epochs=1).fit(X, labels)
    assert (
        TypedNetClassifier(module=_fixed(f32), epochs=1, dtype=np.float32)
        .fit(X, labels)
        .predict_proba(X)
        .dtype
        == np.float32
    )
    sigmoid = tn.network(tn.dense(rng, 2, 3, tn.sigmoid))
    with pytest.raises(
        ValueError,
        match=r"^TypedNetClassifier: module=.*build returned a network whose output is not a "
        r"softmax \(Network 2 → 3 \(sigmoid\), 9 params\); a classifier's last layer needs "
        r"activation=tn.softmax$",
    ):
        TypedNetClassifier(module=_fixed(sigmoid), epochs=1).fit(X, labels)

    def not_a_network(rng: np.random.Generator, n_in: int, n_out: int) -> Any:
        return rng.random((n_out, n_in))

    with pytest.raises(
        TypeError,
        match=r"^TypedNetRegressor: module=.*not_a_network must return a typednet Network, "
        "got ndarray$",
    ):
        TypedNetRegressor(module=not_a_network, epochs=1).fit(X, X[:, 0])
    with pytest.raises(
        ValueError,
        match=r"^TypedNetRegressor: module must be None or a function \(rng, n_features, "
        r"n_outputs\) -> Network, got \(8, 8\)$",
    ):
        TypedNetRegressor(module=(8, 8), epochs=1).fit(X, X[:, 0])  # type: ignore[arg-type]  # the wrong kind on purpose


# --- predict_log_proba: from the logits ---------------------------------------------------


def _log_softmax(logits: Rows) -> Rows:
    """The log-softmax of each row as z - log(sum(exp(z))), the log of the sum by
    np.logaddexp's pairwise reduction: another route than the estimator's shift by max."""
    total: Rows = np.logaddexp.reduce(logits, axis=1, keepdims=True)
    return logits - total


def test_predict_log_proba_is_the_log_softmax_of_the_logits_re_derived() -> None:
    X, labels = _blobs()
    clf = TypedNetClassifier((5,), epochs=3, random_state=0).fit(X, labels)
    w1, b1, w2, b2 = clf.net_.params
    logits = np.maximum(X @ w1.T + b1.T, 0.0) @ w2.T + b2.T
    np.testing.assert_allclose(clf.predict_log_proba(X), _log_softmax(logits), rtol=1e-12)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), clf.predict_proba(X), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_predict_log_proba_stays_finite_where_log_of_proba_is_minus_inf(
    dtype: type[np.floating[Any]],
) -> None:
    """Logits 900 apart: the softmax rounds the losing class to 0, so log(proba) is -inf,
    while its log-probability is -900 (less the log of a sum of at most 1 + e^-900)."""
    X = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [-1.0, 2.0]])
    w = np.array([[450.0, -450.0], [-450.0, 450.0]], dtype=dtype)  # logits z = w @ x
    net = tn.network(tn.Dense(w=w, b=np.zeros((2, 1), dtype=dtype), activation=tn.softmax))
    clf = TypedNetClassifier(module=_fixed(net), epochs=1, dtype=dtype, learning_rate=1e-12)
    clf.fit(X[:2], ["a", "b"])
    clf.net_ = net  # exactly these weights
    logits = X @ w.T.astype(np.float64)
    expected = logits - logits.max(axis=1, keepdims=True)
    expected -= np.log(np.exp(expected).sum(axis=1, keepdims=True))  # plain NumPy
    with np.errstate(divide="ignore"):
        assert np.isneginf(np.log(clf.predict_proba(X))).any()
    got = clf.predict_log_proba(X)
    assert got.dtype == dtype and np.isfinite(got).all()
    np.testing.assert_allclose(got, expected, rtol=1e-6 if dtype == np.float32 else 1e-14)
    np.testing.assert_allclose(got[0], [0.0, -900.0])
    np.testing.assert_allclose(got, _log_softmax(logits), rtol=1e-6)


def test_predict_log_proba_before_fit_and_with_the_wrong_features() -> None:
    with pytest.raises(NotFittedError, match="This TypedNetClassifier instance is not fitted yet"):
        TypedNetClassifier().predict_log_proba([[1.0, 2.0]])
    X, labels = _blobs()
    clf = TypedNetClassifier((4,), epochs=1).fit(X, labels)
    with pytest.raises(
        ValueError, match="X has 3 features, but TypedNetClassifier is expecting 2 features"
    ):
        clf.predict_log_proba(np.ones((2, 3)))


# --- partial_fit: one epoch per call, continuing ----------------------------------------------


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_partial_fit_on_halves_is_an_epoch_over_each_half_re_derived_with_train_step(
    kind: str,
) -> None:
    """The contract: partial_fit(A) then partial_fit(B) takes an epoch's steps over A's
    rows then over B's from one optimizer state. With a batch as large as a half, each
    call is one step on that whole half (the shuffle changes only the order of the sums),
    which tn.train_step re-derives from the same starting network."""
    X, y = _regression(64)
    rng = np.random.default_rng(3)
    if kind == "classifier":
        net = tn.network(tn.dense(rng, 4, 6, tn.tanh)).then(tn.dense(rng, 6, 2, tn.softmax))
        labels = (y > np.median(y)).astype(int)
        targets, loss = np.eye(2)[labels].T, tn.cross_entropy
        estimator: Any = TypedNetClassifier(module=_fixed(net), learning_rate=0.01, batch_size=32)
        first: dict[str, Any] = {"classes": [0, 1]}
        y_in: Any = labels
    else:
        net = tn.network(tn.dense(rng, 4, 6, tn.tanh)).then(tn.dense(rng, 6, 1, tn.identity))
        targets, loss = y.reshape(1, -1), tn.mse
        estimator = TypedNetRegressor(module=_fixed(net), learning_rate=0.01, batch_size=32)
        first, y_in = {}, y
    estimator.partial_fit(X[:32], y_in[:32], **first).partial_fit(X[32:], y_in[32:])

    opt = tn.adam(0.01)
    ref, state = net, opt.init(net)
    for half in (slice(0, 32), slice(32, 64)):
        x_half = np.ascontiguousarray(X[half].T)
        ref, state, _ = tn.train_step(
            ref, state, x_half, targets[:, half].copy(), loss=loss, optimizer=opt
        )
    for a, b in zip(estimator.net_.params, ref.params, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    assert estimator.opt_state_.count == 2 and estimator.history_.epochs == 2


def test_partial_fit_refuses_new_classes_and_another_feature_count() -> None:
    X, labels = _blobs()
    clf = TypedNetClassifier((4,), batch_size=10, random_state=0)
    clf.partial_fit(X[:30], labels[:30], classes=["setosa", "versicolor", "virginica"])
    before = _fitted_state(clf)
    with pytest.raises(
        ValueError,
        match=r"^TypedNetClassifier: y holds 1 label\(s\) not in classes_ \('daisy'\); "
        "partial_fit learns only the classes passed on its first call: pass them all there$",
    ):
        clf.partial_fit(X[:3], ["setosa", "daisy", "virginica"])
    with pytest.raises(
        ValueError,
        match=r"^X has 3 features, but TypedNetClassifier is expecting 2 features as input",
    ):
        clf.partial_fit(np.column_stack([X, X[:, 0]]), labels)
    assert _same(_fitted_state(clf), before)


def test_regressor_partial_fit_refuses_another_number_of_outputs() -> None:
    X, y = _regression()
    reg = TypedNetRegressor((4,), random_state=0).partial_fit(X, y)
    with pytest.raises(
        tn.ShapeError,
        match=r"^TypedNetRegressor.partial_fit target y: expected 1 output\(s\) per sample as "
        r"in the earlier calls, got shape \(120, 2\); fit starts afresh with new outputs$",
    ):
        reg.partial_fit(X, np.column_stack([y, y]))
    assert reg.fit(X, np.column_stack([y, y])).n_outputs_ == 2


# --- early stopping: a stratified validation split in the classifier -----------------------


def _validation_of(estimator: Any, X: Rows, y: object, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The validation columns that fit passes to tn.fit (spied on, then run)."""
    seen: list[Any] = []
    real = tn.fit

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs["validation"])
        return real(*args, **kwargs)

    monkeypatch.setattr("typednet.sklearn.fit", spy)
    estimator.fit(X, y)
    monkeypatch.undo()
    (validation,) = seen
    return validation


def test_the_classifiers_validation_split_keeps_each_class_share(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat(["common", "rare", "scarce"], [160, 30, 10])  # 80 / 15 / 5 %
    X = rng.normal(size=(200, 3))
    clf = TypedNetClassifier((4,), epochs=2, early_stopping=True, validation_fraction=0.2)
    for seed in range(5):
        x_val, y_val = _validation_of(clf.set_params(random_state=seed), X, labels, monkeypatch)
        assert x_val.shape == (3, 40)
        # 20 % of each class: 32, 6 and 2 of the 40 held-out columns.
        np.testing.assert_array_equal(y_val.sum(axis=1), [32, 6, 2])
        # Each held-out column is a row of X with its own label's one-hot target.
        rows = [int(np.flatnonzero((col == X).all(axis=1))[0]) for col in x_val.T]
        codes = np.searchsorted(["common", "rare", "scarce"], labels[rows])
        np.testing.assert_array_equal(y_val, np.eye(3)[codes].T)
    # A random split of the same sizes often leaves the 2 % class out of it entirely.
    held = [
        _validation_of(clf.set_params(random_state=s), X, labels, monkeypatch)[0] for s in (4, 4, 5)
    ]
    np.testing.assert_array_equal(held[0], held[1])  # reproducible with random_state
    assert not np.array_equal(held[0], held[2])


def test_a_class_too_rare_to_split_is_a_clear_error() -> None:
    X, _ = _blobs(50)
    labels = np.array(["a"] * 49 + ["b"])
    with pytest.raises(
        ValueError,
        match=r"^TypedNetClassifier: early_stopping holds out a share of each class for "
        "validation, so each class needs at least 2 samples, but class 'b' has 1$",
    ):
        TypedNetClassifier(epochs=1, early_stopping=True).fit(X, labels)
    TypedNetClassifier(epochs=1).fit(X, labels)  # without early stopping: no split
    ten = np.array(list("abcdefghij") * 2)
    with pytest.raises(
        ValueError,
        match=r"^TypedNetClassifier: early_stopping holds out validation_fraction=0.1 of each "
        "class, which this y cannot give: The test_size = 2 should be greater or equal to the "
        "number of classes = 10$",
    ):
        TypedNetClassifier(epochs=1, early_stopping=True).fit(X[:20], ten)


def test_too_few_samples_for_a_batch_norm_is_named_in_scikit_learns_words() -> None:
    X, y = _regression(1)
    with pytest.raises(
        ValueError,
        match=r"^TypedNetRegressor: layer 2 \(batch_norm\) needs at least 2 samples per batch "
        "in training, but X has n_samples=1$",
    ):
        TypedNetRegressor(module=ResidualMLP(norm=True), epochs=1).fit(X, y)


# --- compiled=True: fit's compiled loop -----------------------------------------------------


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_compiled_training_predicts_what_the_numpy_path_does(kind: str) -> None:
    """compiled=True trains the same chain by fit's compiled loop: float64 agrees with
    the default to 1e-12, so the predictions agree to rounding and the labels exactly."""
    X, y = _regression()
    X = StandardScaler().fit_transform(X)
    if kind == "classifier":
        y = (y > np.median(y)).astype(int)
        a = TypedNetClassifier((16, 8), epochs=15, batch_size=16, random_state=0).fit(X, y)
        b = clone(a).set_params(compiled=True).fit(X, y)
        np.testing.assert_allclose(b.predict_proba(X), a.predict_proba(X), rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(b.predict(X), a.predict(X))
    else:
        a = TypedNetRegressor((16, 8), epochs=15, batch_size=16, random_state=0).fit(X, y / 100)
        b = clone(a).set_params(compiled=True).fit(X, y / 100)
        np.testing.assert_allclose(b.predict(X), a.predict(X), rtol=1e-9, atol=1e-12)
    assert b.history_.train_loss == pytest.approx(a.history_.train_loss, rel=1e-9)


def test_compiled_with_what_the_loop_does_not_train_is_refused_unchanged() -> None:
    X, y = _regression()
    reg = TypedNetRegressor((8,), epochs=2, dropout=0.2, compiled=True, random_state=0)
    with pytest.raises(
        ValueError,
        match=r"^fit: compiled=True trains chains of tn\.Dense .*; layer 2 is a Dropout$",
    ):
        reg.fit(X, y)
    assert not hasattr(reg, "net_")
    with pytest.raises(
        ValueError, match=r"^TypedNetRegressor: compiled must be True or False, got 'yes'$"
    ):
        TypedNetRegressor(compiled="yes").fit(X, y)  # type: ignore[arg-type]  # the wrong kind, on purpose
