"""Tests for typednet.apps.wine_data, on the packaged Wine Quality files and a local HTTP server.

The packaged files' README is the reference for the hashes; the quality counts were
copied by hand from the UCI documentation of the data.
"""

import functools
import hashlib
import http.server
import re
import threading
import time
import zipfile
from collections.abc import Callable, Generator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from typednet.apps import wine_data
from typednet.apps.wine_data import fetch_wine_quality, load_wine_quality
from typednet.data import deduplicate
from typednet.shapes import Matrix

DATA = Path(wine_data.__file__).parent / "datasets"
WHITE = DATA / "winequality-white.csv"
RED = DATA / "winequality-red.csv"

# The UCI quality distribution (winequality.names), copied by hand.
WHITE_COUNTS = {3: 20, 4: 163, 5: 1457, 6: 2198, 7: 880, 8: 175, 9: 5}
RED_COUNTS = {3: 10, 4: 53, 5: 681, 6: 638, 7: 199, 8: 18}


def _readme_sha256(name: str) -> str:
    """The sha256 the packaged datasets README lists for ``name`` (its table row)."""
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
    with pytest.raises(
        ValueError,
        match=r"wine\.zip line 1, column 1 \(\"fixed acidity\"\): not a UTF-8 text file \(byte 0xff, "
        r"character 5 of the line: invalid start byte\)$",
    ):
        load_wine_quality(binary)
    missing = tmp_path / "nowhere.csv"
    with pytest.raises(FileNotFoundError, match=rf"^{re.escape(str(missing))}: no such file"):
        load_wine_quality(missing)


# --- fetch_wine_quality ------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean."""


@contextmanager
def _serving(root: Path) -> Generator[str]:
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
        match=rf"^could not download {re.escape(url)} \(.*\); to work offline, use the copy "
        r"that ships with typednet: load_wine_quality\(\) with no path, or leave out --data",
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
        monkeypatch.setattr("typednet.apps.wine_data.os.replace", disk_full)
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


def test_load_with_no_path_reads_the_packaged_copy(white: tuple[Matrix, Matrix]) -> None:
    x, y = load_wine_quality()
    np.testing.assert_array_equal(x, white[0])
    np.testing.assert_array_equal(y, white[1])
    assert load_wine_quality(colour="red")[0].shape == (11, 1599)
    with pytest.raises(ValueError, match=r"^colour must be 'white' or 'red', got 'rose'$"):
        load_wine_quality(colour="rose")  # type: ignore[arg-type]  # a bad colour on purpose
