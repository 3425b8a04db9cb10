"""Tests for typednet.data: standardize, train_test_split, deduplicate, one_hot."""

import dataclasses
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from typednet.apps.wine_data import load_wine_quality
from typednet.data import (
    Standardizer,
    deduplicate,
    one_hot,
    standardize,
    train_test_split,
)
from typednet.shapes import Matrix, ShapeError

# The UCI quality distribution of the white wines (winequality.names), copied by hand.
WHITE_COUNTS = {3: 20, 4: 163, 5: 1457, 6: 2198, 7: 880, 8: 175, 9: 5}


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(scope="module")
def white() -> tuple[Matrix, Matrix]:
    return load_wine_quality()


# --- standardize ---------------------------------------------------------------------------


def test_standardize_gives_mean_0_std_1_on_the_training_columns(
    white: tuple[Matrix, Matrix],
) -> None:
    x = white[0]
    before = x.copy()
    z = standardize(x).apply(x)
    assert z.shape == x.shape and z.dtype == np.float64
    assert np.abs(z.mean(axis=1)).max() < 1e-12
    assert np.abs(z.std(axis=1) - 1.0).max() < 1e-12
    np.testing.assert_array_equal(x, before)


def test_standardize_applies_the_training_statistics(white: tuple[Matrix, Matrix]) -> None:
    x = white[0]
    train, test = x[:, :4000], x[:, 4000:]
    scaler = standardize(train)
    # Reference statistics from the standard library, one feature (row) at a time.
    mean = np.array([[statistics.fmean(row)] for row in train.tolist()])
    std = np.array([[statistics.pstdev(row)] for row in train.tolist()])
    np.testing.assert_allclose(scaler.mean, mean, rtol=1e-13)
    np.testing.assert_allclose(scaler.std, std, rtol=1e-12)
    np.testing.assert_allclose(scaler.apply(test), (test - mean) / std, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(scaler.invert(scaler.apply(test)), test, rtol=1e-13)


@settings(max_examples=50, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 5), st.integers(1, 20)),
        elements=st.floats(-1e6, 1e6, allow_nan=False),
    )
)
def test_standardize_invert_round_trips(x: Matrix) -> None:
    scaler = standardize(x)
    z = scaler.apply(x)
    assert np.isfinite(z).all()
    scale = max(1.0, float(np.abs(x).max()))
    np.testing.assert_allclose(scaler.invert(z), x, rtol=0, atol=1e-9 * scale)


def test_standardize_constant_feature_gives_no_nan() -> None:
    x = np.array([[0.1, 0.1, 0.1], [1.0, 2.0, 3.0]])
    scaler = standardize(x)
    z = scaler.apply(x)
    assert scaler.std[0, 0] == 1.0
    assert np.abs(z[0]).max() < 1e-15
    # Hand-computed: mean 2, population std sqrt(2/3), so 1 / sqrt(2/3) = 1.2247...
    np.testing.assert_allclose(z[1], [-1.224744871391589, 0.0, 1.224744871391589], rtol=1e-15)
    # A spread so small its std underflows to 0 (found by hypothesis) is no NaN either.
    tiny = standardize(np.array([[5e-324, 0.0]]))
    assert tiny.std[0, 0] == 1.0 and np.isfinite(tiny.apply(np.array([[1.0]]))).all()


def test_standardize_keeps_float32() -> None:
    x = np.array([[1.0, 2.0, 4.0]], dtype=np.float32)
    scaler = standardize(x)
    assert scaler.mean.dtype == np.float32
    assert scaler.apply(x).dtype == np.float32
    assert scaler.invert(scaler.apply(x)).dtype == np.float32


def test_standardizer_is_frozen_and_read_only() -> None:
    scaler = standardize(np.array([[1.0, 3.0]]))
    with pytest.raises(ValueError, match="read-only"):
        scaler.mean[0, 0] = 5.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(scaler, "std", np.ones((1, 1)))  # noqa: B010


def test_standardize_errors(white: tuple[Matrix, Matrix]) -> None:
    x = white[0]
    scaler = standardize(x)
    fitted = r"Standardizer\.apply x \(fitted on 11 features\): expected \(features, batch\) = "
    with pytest.raises(
        ShapeError,
        match=fitted + r"\(11, batch\), got shape \(4898, 11\) float64; samples are columns: "
        r"pass x\.T$",
    ):
        scaler.apply(x.T)
    with pytest.raises(ShapeError, match=fitted + r"\(11, batch\), got shape \(10, 5\) float64$"):
        scaler.apply(x[:10, :5])
    with pytest.raises(ShapeError, match=r"a sample is a column: pass x\.reshape\(-1, 1\)$"):
        scaler.apply(x[:, 0])
    with pytest.raises(ShapeError, match=r"^Standardizer\.invert z \(fitted on 11 features\)"):
        scaler.invert(x[:10])
    with pytest.raises(
        ShapeError,
        match=r"^standardize x: expected \(features, batch\) = \(features, batch\), got a 1-D "
        r"array of shape \(4898,\) float64; samples are columns: pass x\.reshape\(-1, 1\) for "
        r"one sample, x\.reshape\(1, -1\) for one feature$",
    ):
        standardize(x[0])
    with pytest.raises(ShapeError, match=r"expected a floating dtype, got int64"):
        standardize(np.ones((2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match=r"^standardize: x has no columns \(shape \(11, 0\)\)$"):
        standardize(x[:, :0])
    with pytest.raises(ValueError, match=r"^standardize: x contains NaN or inf$"):
        standardize(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match=r"std must be positive \(use 1 for a constant feature\)"):
        Standardizer(mean=np.zeros((2, 1)), std=np.array([[1.0], [0.0]]))
    with pytest.raises(ShapeError, match=r"^Standardizer std: expected \(features, 1\) = \(2, 1\)"):
        Standardizer(mean=np.zeros((2, 1)), std=np.ones((3, 1)))


# --- train_test_split ----------------------------------------------------------------------


def _ids(n: int) -> tuple[Matrix, Matrix]:
    """x holds each column's id and its negative; y holds the id + 1000."""
    ids = np.arange(n, dtype=np.float64)
    return np.vstack([ids, -ids]), (ids + 1000.0).reshape(1, n)


def test_split_keeps_columns_paired_and_covers_every_sample(rng: np.random.Generator) -> None:
    x, y = _ids(100)
    x_train, y_train, x_test, y_test = train_test_split(x, y, rng=rng)
    assert x_train.shape == (2, 80) and y_train.shape == (1, 80)
    assert x_test.shape == (2, 20) and y_test.shape == (1, 20)
    for xs, ys in ((x_train, y_train), (x_test, y_test)):
        np.testing.assert_array_equal(ys[0], xs[0] + 1000.0)
        np.testing.assert_array_equal(xs[1], -xs[0])
    ids = np.concatenate([x_train[0], x_test[0]])
    np.testing.assert_array_equal(np.sort(ids), np.arange(100.0))


def test_split_same_seed_same_split() -> None:
    x, y = _ids(50)
    first = train_test_split(x, y, rng=np.random.default_rng(7))
    again = train_test_split(x, y, rng=np.random.default_rng(7))
    other = train_test_split(x, y, rng=np.random.default_rng(8))
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[2], other[2])


@pytest.mark.parametrize(
    ("n", "fraction", "n_test"),
    [(100, 0.2, 20), (4898, 0.2, 980), (10, 0.25, 3), (100, 0.07, 7), (3, 0.5, 2)],
)
def test_split_sizes(n: int, fraction: float, n_test: int, rng: np.random.Generator) -> None:
    x, y = _ids(n)
    x_train, _, x_test, _ = train_test_split(x, y, test_fraction=fraction, rng=rng)
    assert (x_train.shape[1], x_test.shape[1]) == (n - n_test, n_test)


def test_split_errors(rng: np.random.Generator) -> None:
    x, y = _ids(100)
    same = r"^train_test_split: expected x \(features, batch\) and y \(targets, batch\) with "
    with pytest.raises(
        ShapeError,
        match=same + r"the same batch, got x of shape \(2, 100\) float64 and y of shape "
        r"\(1, 99\) float64$",
    ):
        train_test_split(x, y[:, :99], rng=rng)
    with pytest.raises(ShapeError, match=same + r".*samples are columns: pass x\.T$"):
        train_test_split(x.T, y, rng=rng)
    with pytest.raises(ShapeError, match=same + r".*samples are columns: pass y\.T$"):
        train_test_split(x, y.T, rng=rng)
    with pytest.raises(ShapeError, match=same + r".*samples are columns: pass x\.T and y\.T$"):
        train_test_split(x.T, y.T, rng=rng)
    with pytest.raises(
        ShapeError,
        match=r"^train_test_split y: expected \(targets, batch\) = \(targets, batch\), got a "
        r"1-D array of shape \(100,\) float64; samples are columns: pass y\.reshape\(1, -1\)$",
    ):
        train_test_split(x, y[0], rng=rng)
    for fraction in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match=r"test_fraction must be in \(0, 1\), got"):
            train_test_split(x, y, test_fraction=fraction, rng=rng)
    x2, y2 = _ids(2)
    with pytest.raises(ValueError, match=r"0\.2 of 2 columns leaves the test part empty$"):
        train_test_split(x2, y2, rng=rng)
    with pytest.raises(ValueError, match=r"0\.9 of 2 columns leaves the training part empty$"):
        train_test_split(x2, y2, test_fraction=0.9, rng=rng)
    with pytest.raises(
        TypeError,
        match=r"^train_test_split: rng must be np\.random\.default_rng\(seed\) or "
        r"np\.random\.RandomState\(seed\), got int$",
    ):
        train_test_split(x, y, rng=0)  # type: ignore[arg-type]  # checked at run time
    # The course's legacy generator is accepted here as everywhere.
    legacy = train_test_split(x, y, rng=np.random.RandomState(0))
    assert legacy[0].shape[1] + legacy[2].shape[1] == x.shape[1]


# --- deduplicate ---------------------------------------------------------------------------


def test_deduplicate_by_hand() -> None:
    # Columns (x, y): (1,0) (2,0) (1,0)dup (3,0) (2,1) (1,0)dup: the target counts too.
    x = np.array([[1.0, 2.0, 1.0, 3.0, 2.0, 1.0]])
    y = np.array([[0.0, 0.0, 0.0, 0.0, 1.0, 0.0]])
    x_unique, y_unique = deduplicate(x, y)
    np.testing.assert_array_equal(x_unique, [[1.0, 2.0, 3.0, 2.0]])
    np.testing.assert_array_equal(y_unique, [[0.0, 0.0, 0.0, 1.0]])


def test_deduplicate_white_matches_a_plain_loop(white: tuple[Matrix, Matrix]) -> None:
    x, y = white
    seen: set[tuple[float, ...]] = set()
    keep = []
    for i, column in enumerate(np.vstack([x, y]).T.tolist()):
        if tuple(column) not in seen:
            seen.add(tuple(column))
            keep.append(i)
    x_unique, y_unique = deduplicate(x, y)
    assert x_unique.shape == (11, 3961) and y_unique.shape == (1, 3961)
    np.testing.assert_array_equal(x_unique, x[:, keep])
    np.testing.assert_array_equal(y_unique, y[:, keep])


def test_deduplicate_errors() -> None:
    with pytest.raises(ShapeError, match=r"^deduplicate: expected x .* pass y\.T$"):
        deduplicate(np.zeros((3, 4)), np.zeros((4, 1)))


# --- one_hot -------------------------------------------------------------------------------


def test_one_hot_by_hand() -> None:
    expected = np.array(
        [
            [0, 1, 0, 0, 0],  # 3
            [0, 0, 0, 0, 1],  # 4
            [1, 0, 0, 1, 0],  # 5
            [0, 0, 0, 0, 0],  # 6
            [0, 0, 0, 0, 0],  # 7
            [0, 0, 0, 0, 0],  # 8
            [0, 0, 1, 0, 0],  # 9
        ],
        dtype=np.float64,
    )
    for labels in (np.array([[5, 3, 9, 5, 4]]), np.array([[5.0, 3.0, 9.0, 5.0, 4.0]])):
        got = one_hot(labels, classes=range(3, 10))
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, expected)
    # The classes fix the row order.
    np.testing.assert_array_equal(
        one_hot(np.array([[5, 3, 9]]), classes=[9, 5, 3]), [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
    )


def test_one_hot_white_counts(white: tuple[Matrix, Matrix]) -> None:
    encoded = one_hot(white[1], classes=range(3, 10))
    assert encoded.shape == (7, 4898)
    np.testing.assert_array_equal(encoded.sum(axis=0), np.ones(4898))
    assert encoded.sum(axis=1).tolist() == list(WHITE_COUNTS.values())


def test_one_hot_errors() -> None:
    with pytest.raises(
        ValueError,
        match=r"^one_hot: label 10 at column 2 is not one of the classes \[3, 4, 5, 6, 7, 8, 9\]$",
    ):
        one_hot(np.array([[3, 4, 10]]), classes=range(3, 10))
    with pytest.raises(ValueError, match=r"label 5\.5 at column 0 is not one of the classes"):
        one_hot(np.array([[5.5]]), classes=range(3, 10))
    with pytest.raises(ValueError, match=r"classes must be distinct values, at least one; got"):
        one_hot(np.array([[3]]), classes=[3, 4, 3])
    with pytest.raises(
        ShapeError,
        match=r"^one_hot labels: expected \(labels, batch\) = \(1, batch\), got a 1-D array of "
        r"shape \(3,\) int64; samples are columns: pass labels\.reshape\(1, -1\)$",
    ):
        one_hot(np.array([3, 4, 5]), classes=range(3, 10))
    for labels in (np.array([[3], [4]]), np.array([[3.0], [4.0]])):
        with pytest.raises(ShapeError, match=r"samples are columns: pass labels\.T$"):
            one_hot(labels, classes=range(3, 10))
