"""Red and white wines together: a residual MLP with the colour embedded, against a chain.

The UCI wine data (Cortez et al. 2009) ships as two files, one per colour. Together they
are 11 physicochemical features per wine plus a category, its colour. The first network
reads them as two named inputs: the standardized features through a dense layer, the
colour id (0 white, 1 red) through an `Embedding`, the two concatenated, then a residual
block and the output. The second is a plain chain with exactly as many params that takes
the colour as a 0/1 twelfth feature. Both start from the same seed and train with the
same optimizer, batches, epochs and early stopping on the same split; the test MSE of
each is printed with its parameter count.

Run: python examples/wine_colour.py [--epochs N] [--seed S]   (make example-colour)
"""

import argparse
from typing import TypedDict

import numpy as np

import typednet as tn


class Numeric(tn.Dim, size=11): ...  # the physicochemical features


class Colours(tn.Dim, size=2): ...  # the vocabulary: 0 white, 1 red


class Hidden(tn.Dim, size=20): ...  # the features' dense layer


class Width(tn.Dim, size=4): ...  # each colour's vector


class Joined(tn.Dim, size=24): ...  # Hidden and Width stacked


class Inner(tn.Dim, size=32): ...  # the residual block's hidden layer


class Quality(tn.Dim, size=1): ...


class Wine(TypedDict):
    """The named inputs: numeric columns (11, n) and colour ids (1, n)."""

    numeric: tn.Inputs
    colour: tn.Ids


def residual_mlp(rng: np.random.Generator) -> tn.Network[Wine, Quality]:
    """inputs(numeric → 20 (relu) | colour → embedding 4) → residual(32 (relu) → 24) → 1."""
    first = tn.inputs(
        Wine,
        Joined,
        numeric=tn.network(tn.dense(rng, Numeric, Hidden, tn.relu)),
        colour=tn.network(tn.embedding(rng, Colours, Width)),
    )
    block = tn.network(tn.dense(rng, Joined, Inner, tn.relu)).then(
        tn.dense(rng, Inner, Joined, tn.identity)
    )
    return (
        tn.network(first).then(tn.residual(block)).then(tn.dense(rng, Joined, Quality, tn.identity))
    )


def chain(rng: np.random.Generator) -> tn.Network[int, int]:
    """12 → 40 (relu) → 32 (relu) → 1: as many params as `residual_mlp` (1865)."""
    return tn.Network(
        [
            tn.dense(rng, 12, 40, tn.relu),
            tn.dense(rng, 40, 32, tn.relu),
            tn.dense(rng, 32, 1, tn.identity),
        ]
    )


def load(seed: int) -> dict[str, tuple[tn.Matrix, tn.Matrix]]:
    """Both colours, duplicates dropped, split 72/8/20 (train, validation, test).

    Returns each part as ``(x, y)``: x has 12 rows, the 11 standardized features (on the
    training wines' statistics) and the colour (0 white, 1 red); y is the quality minus
    the training mean.
    """
    white = tn.deduplicate(*tn.load_wine_quality(colour="white"))
    red = tn.deduplicate(*tn.load_wine_quality(colour="red"))
    x: tn.Matrix = np.hstack([
        np.vstack([white[0], np.zeros((1, white[0].shape[1]))]),
        np.vstack([red[0], np.ones((1, red[0].shape[1]))]),
    ])  # fmt: skip
    y: tn.Matrix = np.hstack([white[1], red[1]])
    rng = np.random.default_rng(seed)
    x_train, y_train, x_test, y_test = tn.train_test_split(x, y, test_fraction=0.2, rng=rng)
    x_fit, y_fit, x_val, y_val = tn.train_test_split(x_train, y_train, test_fraction=0.1, rng=rng)
    scaler = tn.standardize(x_fit[:11])
    mean = float(y_fit.mean())

    def prepared(a: tn.Matrix, b: tn.Matrix) -> tuple[tn.Matrix, tn.Matrix]:
        return np.vstack([scaler.apply(a[:11]), a[11:]]), b - mean

    return {
        "fit": prepared(x_fit, y_fit),
        "validation": prepared(x_val, y_val),
        "test": prepared(x_test, y_test),
    }


def named(x: tn.Matrix) -> Wine:
    """The 12-row columns as the residual MLP's named inputs."""
    return Wine(numeric=x[:11], colour=x[11:].astype(np.int64))


def main(epochs: int = 200, seed: int = 42) -> dict[str, float]:
    """Train both networks; print and return each one's test MSE."""
    data = load(seed)
    (x_fit, y_fit), (x_val, y_val), (x_test, y_test) = data.values()
    sizes = (x_fit.shape[1], x_val.shape[1], x_test.shape[1])
    print("wines: {} to fit, {} to stop early, {} to test".format(*sizes))
    print(f"red among the test wines: {x_test[11].mean():.1%}")

    mlp, mlp_history = tn.fit(
        residual_mlp(np.random.default_rng(seed)),
        named(x_fit),
        y_fit,
        loss=tn.mse,
        optimizer=tn.adam(1e-3),
        rng=np.random.default_rng(seed),
        validation=(named(x_val), y_val),
        epochs=epochs,
        batch_size=32,
        patience=10,
        progress=False,
    )
    plain, plain_history = tn.fit(
        chain(np.random.default_rng(seed)),
        x_fit,
        y_fit,
        loss=tn.mse,
        optimizer=tn.adam(1e-3),
        rng=np.random.default_rng(seed),
        validation=(x_val, y_val),
        epochs=epochs,
        batch_size=32,
        patience=10,
        progress=False,
    )
    results = {
        "residual": tn.mse(y_test, tn.forward(mlp, named(x_test))),
        "chain": tn.mse(y_test, tn.forward(plain, x_test)),
    }
    rows = [
        ("residual MLP, colour embedded", mlp.param_count, mlp_history.best_epoch,
         mlp_history.epochs, results["residual"]),
        ("chain, colour as a feature", plain.param_count, plain_history.best_epoch,
         plain_history.epochs, results["chain"]),
    ]  # fmt: skip
    for label, count, best, ran, mse in rows:
        print(f"{label:<30} {count} params, kept epoch {best} of {ran}: test MSE {mse:.4f}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="red and white wines: embedded colour vs chain")
    parser.add_argument("--epochs", type=int, default=200, help="at most (early stopping)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    main(args.epochs, args.seed)
