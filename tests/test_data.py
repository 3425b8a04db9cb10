"""Tests for typednet.data, on the real Wine Quality files and a local HTTP server.

The data files live in ``shared/datasets`` beside the repository (never copied into it);
their README is the independent reference for the hashes and the quality counts.
"""

import dataclasses
import functools
import hashlib
import http.server
import re
import statistics
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from typednet.data import (
    Standardizer,
    deduplicate,
    fetch_wine_quality,
    load_wine_quality,
    one_hot,
    standardize,
    train_test_split,
)
from typednet.shapes import Matrix, ShapeError

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"
WHITE = DATA / "winequality-white.csv"
RED = DATA / "winequality-red.csv"

# From shared/datasets/README.md ("Quality distribution"), copied by hand.
WHITE_COUNTS = {3: 20, 4: 163, 5: 1457, 6: 2198, 7: 880, 8: 175, 9: 5}
RED_COUNTS = {3: 10, 4: 53, 5: 681, 6: 638, 7: 199, 8: 18}


def _readme_sha256(name: str) -> str:
    """The sha256 the datasets README lists for ``name`` (its table row)."""
    text = (DATA / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"^\| {re.escape(name)} .*\| ([0-9a-f]{{64}}) \|$", text, re.MULTILINE)
    assert match is not None, f"no sha256 for {name} in the datasets README"
    return match.group(1)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(scope="module")
def white() -> tuple[Matrix, Matrix]:
    return load_wine_quality(WHITE)


# --- load_wine_quality -------------------------------------------------------------------


def test_shared_files_are_the_readme_files() -> None:
    assert _sha256(WHITE) == _readme_sha256("winequality-white.csv")
    assert _sha256(RED) == _readme_sha256("winequality-red.csv")


def test_load_white_matches_the_readme(white: tuple[Matrix, Matrix]) -> None:
    x, y = white
    assert x.shape == (11, 4898) and y.shape == (1, 4898)
    assert x.dtype == np.float64 and y.dtype == np.float64
    qualities, counts = np.unique(y, return_counts=True)
    assert dict(zip(qualities.tolist(), counts.tolist(), strict=True)) == WHITE_COUNTS
    assert y.mean() == pytest.approx(5.878, abs=1e-3)
    assert y.var() == pytest.approx(0.784, abs=1e-3)


def test_load_red_matches_the_readme() -> None:
    x, y = load_wine_quality(RED)
    assert x.shape == (11, 1599) and y.shape == (1, 1599)
    qualities, counts = np.unique(y, return_counts=True)
    assert dict(zip(qualities.tolist(), counts.tolist(), strict=True)) == RED_COUNTS
    assert y.mean() == pytest.approx(5.636, abs=1e-3)
    assert deduplicate(x, y)[0].shape == (11, 1599 - 240)


def test_load_agrees_with_genfromtxt(white: tuple[Matrix, Matrix]) -> None:
    """Sample i is column i, in file order: same numbers as the README's NumPy recipe."""
    rows = np.genfromtxt(WHITE, delimiter=";", skip_header=1)
    x, y = white
    np.testing.assert_array_equal(x, rows[:, :11].T)
    np.testing.assert_array_equal(y, rows[:, 11:].T)
    # The first data line, by hand: 7;0.27;0.36;20.7;0.045;45;170;1.001;3;0.45;8.8;6
    first = [7, 0.27, 0.36, 20.7, 0.045, 45, 170, 1.001, 3, 0.45, 8.8]
    np.testing.assert_array_equal(x[:, 0], first)
    assert y[0, 0] == 6


def test_load_is_fast() -> None:
    """4898 lines well under a second (about 0.1 s here); best of 3 against noisy machines."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        load_wine_quality(WHITE)
        times.append(time.perf_counter() - start)
    assert min(times) < 1.0


def test_load_tolerates_a_bom_and_crlf(tmp_path: Path, white: tuple[Matrix, Matrix]) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + WHITE.read_bytes().replace(b"\n", b"\r\n"))
    x, y = load_wine_quality(path)
    np.testing.assert_array_equal(x, white[0])
    np.testing.assert_array_equal(y, white[1])


def _head() -> list[str]:
    """The header and the first 6 data lines: line 7 is the last one."""
    return WHITE.read_text(encoding="ascii").splitlines()[:7]


def _set_field(lines: list[str], line: int, column: int, value: str) -> list[str]:
    """Replace the field at the 1-based ``line`` and ``column``."""
    fields = lines[line - 1].split(";")
    fields[column - 1] = value
    return [*lines[: line - 1], ";".join(fields), *lines[line:]]


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (
            lambda ls: [ls[0].replace('"citric acid"', '"citric_acid"'), *ls[1:]],
            r'bad\.csv line 1, column 3 \("citric acid"\): the header says \'"citric_acid"\', '
            r'not "citric acid"$',
        ),
        (
            lambda ls: [ls[0].rsplit(";", 1)[0], *ls[1:]],
            r'bad\.csv line 1, column 12 \("quality"\): missing; expected 12 column names '
            r"separated by ';', got 11$",
        ),
        (
            lambda ls: [line.replace(";", ",") for line in ls],
            r'bad\.csv line 1, column 2 \("volatile acidity"\): missing; .* got 1 '
            r"\(the file seems to use ','; the UCI format separates with ';'\)$",
        ),
        (
            lambda ls: [*ls[:6], ls[6].rsplit(";", 1)[0]],
            r'bad\.csv line 7, column 12 \("quality"\): missing; expected 12 columns '
            r"separated by ';', got 11$",
        ),
        (
            lambda ls: [*ls[:6], ls[6] + ";1"],
            r"bad\.csv line 7, column 13: unexpected; expected 12 columns separated by ';', "
            r"got 13$",
        ),
        (
            lambda ls: _set_field(ls, 7, 3, "abc"),
            r'bad\.csv line 7, column 3 \("citric acid"\): \'abc\' is not a number$',
        ),
        (
            lambda ls: _set_field(ls, 5, 11, ""),
            r'bad\.csv line 5, column 11 \("alcohol"\): \'\' is not a number$',
        ),
        (
            lambda ls: _set_field(ls, 7, 5, "nan"),
            r'bad\.csv line 7, column 5 \("chlorides"\): \'nan\' is not a finite number$',
        ),
        (
            lambda ls: _set_field(ls, 3, 12, "-inf"),
            r'bad\.csv line 3, column 12 \("quality"\): \'-inf\' is not a finite number$',
        ),
        (
            lambda ls: [*ls[:3], "", *ls[3:]],
            r"bad\.csv line 4: the line is empty; expected 12 columns$",
        ),
        (lambda ls: ls[:1], r"bad\.csv line 2: no data lines after the header$"),
        (lambda ls: [], r"bad\.csv line 1: the file is empty; expected a header of 12 quoted"),
    ],
    ids=[
        "header name",
        "header count",
        "commas",
        "missing column",
        "extra column",
        "not a number",
        "empty field",
        "nan",
        "inf",
        "blank line",
        "header only",
        "empty file",
    ],
)
def test_load_malformed_file(
    tmp_path: Path, edit: Callable[[list[str]], list[str]], match: str
) -> None:
    path = tmp_path / "bad.csv"
    lines = edit(_head())
    path.write_text("".join(line + "\n" for line in lines), encoding="ascii")
    with pytest.raises(ValueError, match=match):
        load_wine_quality(path)


def test_load_rejects_binary_and_missing_files(tmp_path: Path) -> None:
    binary = tmp_path / "wine.zip"
    binary.write_bytes(b"PK\x03\x04\xff\xfe")
    with pytest.raises(ValueError, match=r"wine\.zip: not a UTF-8 text file"):
        load_wine_quality(binary)
    missing = tmp_path / "nowhere.csv"
    with pytest.raises(FileNotFoundError, match=rf"^{re.escape(str(missing))}: no such file"):
        load_wine_quality(missing)


# --- fetch_wine_quality ------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean."""


@contextmanager
def _serving(root: Path) -> Iterator[str]:
    """Serve ``root`` over HTTP on 127.0.0.1 (a free port) for the ``with`` block."""
    server = http.server.HTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return path


@pytest.fixture
def www(tmp_path: Path) -> Path:
    """A web root holding a zip laid out like the UCI archive, from the shared CSVs."""
    root = tmp_path / "www"
    _zip(
        root / "wine+quality.zip",
        {
            "winequality-red.csv": RED.read_bytes(),
            "winequality-white.csv": WHITE.read_bytes(),
            "winequality.names": b"Citation Request: ...\n",
        },
    )
    return root


def test_fetch_downloads_verifies_caches_then_stays_offline(www: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with _serving(www) as base:
        url = f"{base}/wine+quality.zip"
        path = fetch_wine_quality(cache, url=url)
    assert path == cache / "winequality-white.csv"
    assert _sha256(path) == _readme_sha256("winequality-white.csv")
    assert sorted(p.name for p in cache.iterdir()) == ["winequality-white.csv"]
    stamp = path.stat().st_mtime_ns
    # The server is stopped: a download would now fail, so the cached file is reused.
    assert fetch_wine_quality(cache, url=url) == path
    assert path.stat().st_mtime_ns == stamp
    with pytest.raises(
        ConnectionError,
        match=rf"^could not download {re.escape(url)} \(.*\); to work offline, pass the path "
        r"of a local copy of the CSV: load_wine_quality\(path\), or --data PATH",
    ):
        fetch_wine_quality(tmp_path / "empty", url=url)
    assert not (tmp_path / "empty").exists()


def test_fetch_red_and_the_default_cache_dirs(
    www: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TYPEDNET_CACHE", str(tmp_path / "env"))
    with _serving(www) as base:
        url = f"{base}/wine+quality.zip"
        red = fetch_wine_quality(colour="red", url=url)
        monkeypatch.delenv("TYPEDNET_CACHE")
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        white = fetch_wine_quality(url=url)
    assert red == tmp_path / "env" / "winequality-red.csv"
    assert _sha256(red) == _readme_sha256("winequality-red.csv")
    assert white == tmp_path / "home" / ".cache" / "typednet" / "winequality-white.csv"
    assert _sha256(white) == _readme_sha256("winequality-white.csv")


def test_fetch_refetches_a_cached_file_with_a_wrong_hash(www: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "winequality-white.csv").write_bytes(WHITE.read_bytes()[:-100])
    with _serving(www) as base:
        path = fetch_wine_quality(cache, url=f"{base}/wine+quality.zip")
    assert _sha256(path) == _readme_sha256("winequality-white.csv")
    assert sorted(p.name for p in cache.iterdir()) == ["winequality-white.csv"]


def test_fetch_hash_mismatch_writes_nothing(tmp_path: Path) -> None:
    tampered = WHITE.read_bytes().replace(b"\n7;0.27;0.36;", b"\n7;0.28;0.36;", 1)
    got = hashlib.sha256(tampered).hexdigest()
    want = _readme_sha256("winequality-white.csv")
    assert got != want
    _zip(tmp_path / "www" / "wine+quality.zip", {"winequality-white.csv": tampered})
    cache = tmp_path / "cache"
    cache.mkdir()
    with (
        _serving(tmp_path / "www") as base,
        pytest.raises(
            ValueError,
            match=rf"winequality-white\.csv has sha256 {got}, expected {want}; "
            r".*nothing was written",
        ),
    ):
        fetch_wine_quality(cache, url=f"{base}/wine+quality.zip")
    assert list(cache.iterdir()) == []


def test_fetch_http_404_leaves_nothing(www: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    with (
        _serving(www) as base,
        pytest.raises(
            ConnectionError, match=r"could not download .*/missing\.zip \(HTTP 404 File not found\)"
        ),
    ):
        fetch_wine_quality(cache, url=f"{base}/missing.zip")
    assert list(cache.iterdir()) == []


def test_fetch_failed_write_leaves_no_temp_file(
    www: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(src: object, dst: object) -> None:
        raise OSError("disk full")

    cache = tmp_path / "cache"
    with _serving(www) as base:
        monkeypatch.setattr("typednet.data.os.replace", disk_full)
        with pytest.raises(OSError, match="disk full"):
            fetch_wine_quality(cache, url=f"{base}/wine+quality.zip")
    assert list(cache.iterdir()) == []


def test_fetch_rejects_bad_archives_and_arguments(tmp_path: Path) -> None:
    root = tmp_path / "www"
    _zip(root / "other.zip", {"winequality-red.csv": RED.read_bytes()})
    (root / "page.html").write_text("<html>moved</html>", encoding="ascii")
    cache = tmp_path / "cache"
    with _serving(root) as base:
        with pytest.raises(
            ValueError,
            match=r"other\.zip: the archive has no winequality-white\.csv; it holds "
            r"\['winequality-red\.csv'\]$",
        ):
            fetch_wine_quality(cache, url=f"{base}/other.zip")
        with pytest.raises(ValueError, match=r"page\.html: not a valid zip archive"):
            fetch_wine_quality(cache, url=f"{base}/page.html")
    with pytest.raises(ValueError, match=r"only http and https URLs can be fetched, got 'file'"):
        fetch_wine_quality(cache, url=WHITE.as_uri())
    with pytest.raises(ValueError, match=r"colour must be 'white' or 'red', got 'rose'"):
        fetch_wine_quality(cache, colour="rose")  # type: ignore[arg-type]  # checked at run time
    assert not cache.exists()


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
        match=r"rng must be a np\.random\.Generator, got int; "
        r"pass rng=np\.random\.default_rng\(seed\)",
    ):
        train_test_split(x, y, rng=0)  # type: ignore[arg-type]  # checked at run time


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
