"""Wine quality from Python: load, prepare, train with early stopping, measure, save.

The UCI white wines (Cortez et al. 2009): 11 physicochemical features per wine, one per
row of ``x``, and the experts' quality score 0..10 in ``y``; wines are columns. A
64-32 relu network learns the quality's deviation from the training mean, and the test
wines are scored as in the paper: mean absolute deviation and tolerance accuracy.
``typednet train-wine`` runs the same recipe from the command line.

Run: python examples/wine_quality.py [PATH]   (default: the copy that ships with typednet;
``tn.fetch_wine_quality()`` downloads the official UCI file and returns its path)
"""

import sys
import tempfile
from pathlib import Path

import numpy as np

import typednet as tn
from typednet.metrics import mad, within


def main(path: str | Path | None = None, epochs: int = 200) -> float:
    """Train on the wines at ``path`` (default: the packaged white wines); return the test MSE."""
    rng = np.random.default_rng(42)
    x, y = tn.deduplicate(*tn.load_wine_quality(path))  # x: (11, n), y: (1, n)
    x_train, y_train, x_test, y_test = tn.train_test_split(x, y, test_fraction=0.2, rng=rng)
    scaler = tn.standardize(x_train)  # statistics of the training wines only
    mean = float(y_train.mean())
    # 10% of the training wines pick the epoch to keep (early stopping).
    x_fit, y_fit, x_val, y_val = tn.train_test_split(
        scaler.apply(x_train), y_train - mean, test_fraction=0.1, rng=rng
    )

    glorot = tn.init.glorot_uniform()
    net = (
        tn.network(tn.dense(rng, 11, 64, tn.relu, init=glorot))
        .then(tn.dense(rng, 64, 32, tn.relu, init=glorot))
        .then(tn.dense(rng, 32, 1, tn.identity, init=glorot))
    )
    net, history = tn.fit(
        net,
        x_fit,
        y_fit,
        loss=tn.mse,
        optimizer=tn.adam(1e-3),
        epochs=epochs,
        batch_size=32,
        rng=rng,
        validation=(x_val, y_val),
        patience=10,
        progress=False,
    )
    print(f"{net}: kept epoch {history.best_epoch} of {history.epochs}")

    quality = tn.forward(net, scaler.apply(x_test)) + mean
    mse = tn.mse(y_test, quality)
    print(f"test wines: {x_test.shape[1]}")
    print(f"MSE {mse:.4f}, mean absolute deviation {mad(y_test, quality):.4f}")
    print(f"within 0.5 of the experts' score: {within(y_test, quality, 0.5):.1%}")
    print(f"within 1.0 of the experts' score: {within(y_test, quality, 1.0):.1%}")

    with tempfile.TemporaryDirectory() as folder:
        tn.save(Path(folder) / "wine.npz", net)
        loaded = tn.load(Path(folder) / "wine.npz", like=net)
    same = np.array_equal(tn.forward(loaded, scaler.apply(x_test)) + mean, quality)
    print(f"saved and loaded: the same predictions: {same}")
    return mse


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
