"""The scikit-learn estimators against scikit-learn's own MLPs: same layers, same budget.

Run: .venv/bin/python benchmarks/sklearn_quality.py   (after `make bench` has installed
the peers; one thread each, as in the like-for-like speed runs)

Two data sets, both fixed splits, each peer run once per seed (the seed sets the
initial weights and the shuffles), medians compared:

- digits (scikit-learn's 8 x 8 images, 1797 rows): a stratified 75/25 split with
  ``random_state=0``; `TypedNetClassifier` against `MLPClassifier`, test accuracy;
- wine (the white wines that ship with typednet, deduplicated, split 80/20 with
  ``default_rng(42)`` as ``typednet train-wine`` does): `TypedNetRegressor` against
  `MLPRegressor`, test MSE, on the quality as it is (neither peer centres it).

typednet runs twice: with the estimators' default initializer, Glorot uniform (as
scikit-learn's MLPs), and with ``init=None``, typednet's choice for relu layers
(He normal). Every peer sits in
``make_pipeline(StandardScaler(), ...)`` and gets the same settings:
the hidden layers, relu, Adam with the same learning rate, the same batch size and no
penalty (``alpha=0``). Each comparison runs twice:

- a fixed budget: 50 epochs, run in full (MLP: ``max_iter=50`` with ``tol=0`` and
  ``n_iter_no_change=50``, so it never stops early);
- early stopping: at most 200 epochs; each holds out 10% of its training rows and stops
  after 10 epochs without a better validation score, keeping the best epoch's weights
  (MLP: ``early_stopping=True``, ``n_iter_no_change=10``, ``tol=0``).
"""

import statistics
import time
import warnings
from collections.abc import Callable

import numpy as np
import threadpoolctl  # type: ignore[import-untyped]  # no py.typed
from sklearn.base import BaseEstimator  # type: ignore[import-untyped]  # no py.typed
from sklearn.datasets import load_digits  # type: ignore[import-untyped]  # no py.typed
from sklearn.exceptions import ConvergenceWarning  # type: ignore[import-untyped]
from sklearn.metrics import accuracy_score, mean_squared_error  # type: ignore[import-untyped]
from sklearn.model_selection import train_test_split  # type: ignore[import-untyped]
from sklearn.neural_network import MLPClassifier, MLPRegressor  # type: ignore[import-untyped]
from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped]
from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

import typednet as tn
from typednet.sklearn import TypedNetClassifier, TypedNetRegressor

SEEDS = range(10)
LEARNING_RATE = 1e-3
BATCH_SIZE = 32
VALIDATION = 0.1
PATIENCE = 10

Split = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
Make = Callable[[int], BaseEstimator]


def digits() -> Split:
    X, y = load_digits(return_X_y=True)
    parts: list[np.ndarray] = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    X_train, X_test, y_train, y_test = parts
    return X_train, y_train, X_test, y_test


def wine() -> Split:
    x, y = tn.deduplicate(*tn.load_wine_quality())
    x_train, y_train, x_test, y_test = tn.train_test_split(
        x, y, test_fraction=0.2, rng=np.random.default_rng(42)
    )
    # typednet's helpers give columns; scikit-learn takes rows.
    return x_train.T, y_train.ravel(), x_test.T, y_test.ravel()


def mlp_settings(
    hidden: tuple[int, ...], epochs: int, seed: int, stopping: bool
) -> dict[str, object]:
    return {
        "hidden_layer_sizes": hidden,
        "activation": "relu",
        "solver": "adam",
        "learning_rate_init": LEARNING_RATE,
        "batch_size": BATCH_SIZE,
        "max_iter": epochs,
        "tol": 0.0,
        "n_iter_no_change": PATIENCE if stopping else epochs,
        "early_stopping": stopping,
        "validation_fraction": VALIDATION,
        "alpha": 0.0,
        "random_state": seed,
    }


def peers(task: str, hidden: tuple[int, ...], epochs: int, stopping: bool) -> dict[str, Make]:
    ours = TypedNetClassifier if task == "classify" else TypedNetRegressor
    theirs = MLPClassifier if task == "classify" else MLPRegressor

    def typednet(init: str | None) -> Make:
        return lambda seed: ours(
            hidden,
            activation="relu",
            init=init,
            optimizer="adam",
            learning_rate=LEARNING_RATE,
            batch_size=BATCH_SIZE,
            epochs=epochs,
            early_stopping=stopping,
            validation_fraction=VALIDATION,
            patience=PATIENCE,
            random_state=seed,
        )

    return {
        "typednet": typednet("glorot_uniform"),
        "typednet, init=None (He normal)": typednet(None),
        "scikit-learn": lambda seed: theirs(**mlp_settings(hidden, epochs, seed, stopping)),
    }


def run(make: Make, split: Split, seed: int, score: Callable[..., float]) -> tuple[float, float]:
    """Test score and fit seconds of one seed's pipeline."""
    X_train, y_train, X_test, y_test = split
    model = make_pipeline(StandardScaler(), make(seed))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the budget ran out, as asked
        model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return float(score(y_test, model.predict(X_test))), seconds


def compare(
    title: str,
    split: Split,
    task: str,
    hidden: tuple[int, ...],
    epochs: int,
    metric: str,
    stopping: bool,
) -> None:
    score = accuracy_score if task == "classify" else mean_squared_error
    higher_is_better = task == "classify"
    X_train, _, X_test, _ = split
    layers = "-".join(map(str, (X_train.shape[1], *hidden)))
    budget = (
        f"at most {epochs} epochs, early stopping ({VALIDATION:.0%} validation, "
        f"patience {PATIENCE})"
        if stopping
        else f"{epochs} epochs in full"
    )
    print(
        f"\n{title}: {X_train.shape[0]} training and {X_test.shape[0]} test rows; "
        f"{layers}-out relu, Adam {LEARNING_RATE:g}, batch {BATCH_SIZE}, {budget}; "
        f"seeds {SEEDS[0]}..{SEEDS[-1]}\n"
    )
    makers = peers(task, hidden, epochs, stopping)
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in makers}
    for seed in SEEDS:
        for name, make in makers.items():  # interleaved: the same machine state for both
            results[name].append(run(make, split, seed, score))
    print(f"| peer | median test {metric} | min | max | median fit s |")
    print("|---|---|---|---|---|")
    medians = {}
    for name, rows in results.items():
        values = [r[0] for r in rows]
        medians[name] = statistics.median(values)
        seconds = statistics.median(r[1] for r in rows)
        print(
            f"| {name} | {medians[name]:.4f} | {min(values):.4f} | {max(values):.4f} "
            f"| {seconds:.2f} |"
        )
    theirs = np.array([r[0] for r in results["scikit-learn"]])
    for name in makers:
        if name == "scikit-learn":
            continue
        diffs = np.array([r[0] for r in results[name]]) - theirs
        wins = int(np.sum(diffs >= 0) if higher_is_better else np.sum(diffs <= 0))
        se = float(diffs.std(ddof=1) / np.sqrt(len(diffs)))
        better = (
            medians[name] >= medians["scikit-learn"]
            if higher_is_better
            else medians[name] <= medians["scikit-learn"]
        )
        print(
            f"\n{name} no worse than scikit-learn (medians): {'PASS' if better else 'FAIL'} "
            f"(no worse on {wins} of {len(diffs)} seeds; paired difference "
            f"{diffs.mean():+.4f} ± {se:.4f} s.e.)"
        )


def main() -> None:
    threadpoolctl.threadpool_limits(limits=1)
    for stopping in (False, True):
        epochs = 200 if stopping else 50
        compare("Digits", digits(), "classify", (64,), epochs, "accuracy", stopping)
        compare("Wine quality (white)", wine(), "regress", (64, 32), epochs, "MSE", stopping)


if __name__ == "__main__":
    main()
