"""Wine quality regression: typednet against scikit-learn's MLPRegressor, on one split.

Run: .venv/bin/python benchmarks/wine_quality.py [PATH_TO_winequality-white.csv]

The white wines, deduplicated, split 80/20 by columns with ``default_rng(42)`` as
``typednet train-wine`` does. typednet trains with the CLI's own recipe
(`typednet.apps.wine.train_wine`). MLPRegressor gets the same settings: hidden layers 64-32,
relu, Adam at the same learning rate, the same batch size and epoch budget (max_iter),
early stopping on 10% of the training columns with the same patience (tol 0: stop after
that many epochs without a better validation score, keep the best epoch), no L2
penalty, and features standardized on the training columns. It runs twice per seed:

- "sklearn centred": fed the quality minus its training mean, as typednet's recipe
  does, so the two differ only in the library;
- "sklearn raw": fed the quality as it is, as MLPRegressor is usually called.

Each peer runs once per seed (the network's init, the validation columns and the
shuffles; the split stays fixed), and the medians are compared. The baseline predicts
the training mean for every wine.
"""

import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning  # type: ignore[import-untyped]  # no py.typed
from sklearn.neural_network import MLPRegressor  # type: ignore[import-untyped]  # no py.typed

import typednet as tn
from typednet.apps.wine import (
    BATCH_SIZE,
    EPOCHS,
    HIDDEN,
    LEARNING_RATE,
    PATIENCE,
    VALIDATION,
    evaluate,
    predict_quality,
    train_wine,
)

SPLIT_SEED = 42
SEEDS = range(10)
COLUMNS = ("mse", "mad", "within_0.5", "within_1.0")
PEERS = ("typednet", "sklearn centred", "sklearn raw")

Split = tuple[tn.Matrix, tn.Matrix, tn.Matrix, tn.Matrix]
Row = tuple[dict[str, float], float, float]
"""A run's test metrics, epochs run and fit seconds."""


def load_split(path: Path | None) -> Split:
    x, y = tn.deduplicate(*tn.load_wine_quality(path))
    return tn.train_test_split(x, y, test_fraction=0.2, rng=np.random.default_rng(SPLIT_SEED))


def run_typednet(split: Split, seed: int) -> Row:
    x_train, y_train, x_test, y_test = split
    start = time.perf_counter()
    run = train_wine(x_train, y_train, rng=np.random.default_rng(seed), progress=False)
    seconds = time.perf_counter() - start
    return evaluate(y_test, predict_quality(run.model, x_test)), run.history.epochs, seconds


def run_sklearn(split: Split, seed: int, *, centred: bool) -> Row:
    x_train, y_train, x_test, y_test = split
    scaler = tn.standardize(x_train)
    offset = float(y_train.mean()) if centred else 0.0
    model = MLPRegressor(
        hidden_layer_sizes=HIDDEN["regress"],
        activation="relu",
        solver="adam",
        learning_rate_init=LEARNING_RATE,
        batch_size=BATCH_SIZE,
        max_iter=EPOCHS,
        alpha=0.0,
        early_stopping=True,
        validation_fraction=VALIDATION,
        n_iter_no_change=PATIENCE,
        tol=0.0,
        random_state=seed,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(scaler.apply(x_train).T, (y_train - offset).ravel())
    seconds = time.perf_counter() - start
    quality = model.predict(scaler.apply(x_test).T).reshape(1, -1) + offset
    return evaluate(y_test, quality), int(model.n_iter_), seconds


def line(label: str, metrics: dict[str, float], cost: tuple[float, float] | None) -> str:
    """One table row; ``cost`` is (epochs, fit seconds), or None for the baseline."""
    mse, mad, within_half, within_one = (metrics[name] for name in COLUMNS)
    tail = f"{cost[0]:>8g}{cost[1]:>8.2f}" if cost else f"{'-':>8}{'-':>8}"
    return f"{label:<26}{mse:>8.4f}{mad:>8.4f}{within_half:>8.1%}{within_one:>8.1%}{tail}"


def median(rows: list[Row]) -> Row:
    """Each column's median over the runs (not one run's row)."""
    metrics = {name: statistics.median(r[0][name] for r in rows) for name in COLUMNS}
    return metrics, statistics.median(r[1] for r in rows), statistics.median(r[2] for r in rows)


def verdict(ours: Row, theirs: Row) -> str:
    return "PASS" if ours[0]["mse"] <= theirs[0]["mse"] else "FAIL"


def main(path: Path | None = None) -> None:
    split = load_split(path)
    x_train, y_train, x_test, y_test = split
    print(
        f"Wine quality (white), deduplicated: {x_train.shape[1]} training and "
        f"{x_test.shape[1]} test columns, split with default_rng({SPLIT_SEED})"
    )
    print(
        f"all peers: 11-{'-'.join(map(str, HIDDEN['regress']))}-1 relu, Adam lr "
        f"{LEARNING_RATE:g}, batch {BATCH_SIZE}, at most {EPOCHS} epochs, early stopping "
        f"({VALIDATION:.0%} validation, patience {PATIENCE}), no L2; seeds {list(SEEDS)}\n"
    )
    print(f"{'':<26}{'MSE':>8}{'MAD':>8}{'±0.5':>8}{'±1.0':>8}{'epochs':>8}{'fit s':>8}")
    runs: dict[str, list[Row]] = {peer: [] for peer in PEERS}
    for seed in SEEDS:
        runs["typednet"].append(run_typednet(split, seed))
        runs["sklearn centred"].append(run_sklearn(split, seed, centred=True))
        runs["sklearn raw"].append(run_sklearn(split, seed, centred=False))
        for peer in PEERS:
            metrics, epochs, seconds = runs[peer][-1]
            print(line(f"seed {seed} {peer}", metrics, (epochs, seconds)))
    print()
    medians = {peer: median(runs[peer]) for peer in PEERS}
    for peer in PEERS:
        metrics, epochs, seconds = medians[peer]
        print(line(f"median {peer}", metrics, (epochs, seconds)))
    print(line("training mean", evaluate(y_test, np.full_like(y_test, y_train.mean())), None))
    print()
    roles = {
        "sklearn raw": "the target: MLPRegressor as it is called, same layers and budget",
        "sklearn centred": "stricter, for information: sklearn also given typednet's centring",
    }
    for peer in PEERS[1:]:
        pairs = list(zip(runs["typednet"], runs[peer], strict=True))
        wins = sum(verdict(o, t) == "PASS" for o, t in pairs)
        diffs = [o[0]["mse"] - t[0]["mse"] for o, t in pairs]
        se = statistics.stdev(diffs) / len(diffs) ** 0.5
        result = verdict(medians["typednet"], medians[peer])
        print(
            f"median typednet MSE <= median {peer} MSE: {result} "
            f"(no worse on {wins} of {len(SEEDS)} seeds; paired difference "
            f"{statistics.fmean(diffs):+.4f} ± {se:.4f} s.e.) [{roles[peer]}]"
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
