"""The UCI Wine Quality data as columns: the packaged copy, the CSV reader, the download.

The two CSVs (white, 4898 samples; red, 1599) ship inside typednet, so
``load_wine_quality()`` works offline; `fetch_wine_quality` gets the official archive.

Data: P. Cortez, A. Cerdeira, F. Almeida, T. Matos and J. Reis, "Modeling wine
preferences by data mining from physicochemical properties", Decision Support Systems
47(4):547-553, 2009; UCI Machine Learning Repository, CC BY 4.0 (see
``datasets/README.md`` beside this module).
"""

import hashlib
import http.client
import io
import lzma
import math
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO, Literal

import numpy as np
from jaxtyping import Float

from .. import _validate
from .._files import open_data, write_atomically
from ..shapes import Matrix
from ._show import show

__all__ = ["fetch_wine_quality", "load_wine_quality"]

_COLUMNS = (
    "fixed acidity",
    "volatile acidity",
    "citric acid",
    "residual sugar",
    "chlorides",
    "free sulfur dioxide",
    "total sulfur dioxide",
    "density",
    "pH",
    "sulphates",
    "alcohol",
    "quality",
)
"""The UCI header: 11 physicochemical features, then the target."""

_UCI_URL = "https://archive.ics.uci.edu/static/public/186/wine+quality.zip"

_SHA256 = {
    "white": "76c3f809815c17c07212622f776311faeb31e87610d52c26d87d6e361b169836",
    "red": "4a402cf041b025d4566d954c3b9ba8635a3a8a01e039005d97d6a710278cf05e",
}
"""sha256 of the UCI ``winequality-{colour}.csv`` files (see datasets/README.md)."""

_PACKAGED = Path(__file__).resolve().parent / "datasets"
"""The copies that ship with typednet, byte for byte the UCI files."""

_MAX_BYTES = 64 * 2**20
"""Refuse downloads and archive members larger than this (the real zip is ~90 kB)."""

_TIMEOUT = 60.0
"""Seconds a whole download may take before it gives up."""

_OFFLINE_HINT = (
    "to work offline, use the copy that ships with typednet: load_wine_quality() with no "
    "path, or leave out --data on the command line"
)


# --- loading -----------------------------------------------------------------------------


def _at(path: Path, line: int, column: int | None = None) -> str:
    """Where in the file: ``path line 7, column 3 ("citric acid")``; column is 0-based."""
    where = f"{path} line {line}"
    if column is None:
        return where
    name = f' ("{_COLUMNS[column]}")' if column < len(_COLUMNS) else ""
    return f"{where}, column {column + 1}{name}"


def _check_count(path: Path, line: int, fields: list[str], what: str) -> None:
    """Raise ValueError naming the first missing or extra column unless there are 12."""
    got, want = len(fields), len(_COLUMNS)
    if got == want:
        return
    if fields == [""]:
        raise ValueError(f"{_at(path, line)}: the line is empty; expected {want} {what}")
    if got < want:
        problem = f"missing; expected {want} {what} separated by ';', got {got}"
        if got == 1 and "," in fields[0]:
            problem += " (the file seems to use ','; the UCI format separates with ';')"
    else:
        problem = f"unexpected; expected {want} {what} separated by ';', got {got}"
    raise ValueError(f"{_at(path, line, min(got, want))}: {problem}")


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
"""What ends a line: only these (str.splitlines also splits on form feeds, U+2028, ...)."""

_NUMBER = re.compile(r"[ \t]*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t]*")
"""A plain ASCII decimal (float() also takes 1_4 and full-width digits)."""

_NON_FINITE = re.compile(r"[ \t]*[+-]?(?:nan|inf|infinity)[ \t]*", re.IGNORECASE)


def _lines(text: str) -> list[str]:
    """The lines of ``text``, ended by \\n, \\r\\n or \\r; a final line break ends the last."""
    lines = _LINE_BREAK.split(text)
    if lines[-1] == "":
        lines.pop()
    return lines


def _parse_row(path: Path, line: int, fields: list[str]) -> list[float]:
    """The 12 numbers of a data line, or a ValueError naming the bad field."""
    _check_count(path, line, fields, "columns")
    values: list[float] = []
    for column, field in enumerate(fields):
        if _NUMBER.fullmatch(field) is None:
            problem = "a finite number" if _NON_FINITE.fullmatch(field) else "a number"
            raise ValueError(f"{_at(path, line, column)}: {show(field)} is not {problem}")
        value = float(field)
        if not math.isfinite(value):  # 1e999
            raise ValueError(f"{_at(path, line, column)}: {show(field)} is not a finite number")
        if column == len(_COLUMNS) - 1 and not (value.is_integer() and 0 <= value <= 10):
            raise ValueError(
                f"{_at(path, line, column)}: {show(field)} is not a score of the 0..10 scale"
            )
        values.append(value)
    return values


def _decode(path: Path, data: bytes) -> str:
    """UTF-8 text (a byte-order mark dropped), or a ValueError naming the line and column."""
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    try:
        return data[len(bom) :].decode("utf-8")
    except UnicodeDecodeError as e:
        before = _LINE_BREAK.split(data[len(bom) : len(bom) + e.start].decode("utf-8"))
        line, start = len(before), before[-1]
        raise ValueError(
            f"{_at(path, line, start.count(';'))}: not a UTF-8 text file (byte "
            f"0x{e.object[e.start]:02x}, character {len(start) + 1} of the line: {e.reason})"
        ) from None


def load_wine_quality(
    path: str | os.PathLike[str] | None = None,
    *,
    colour: Literal["white", "red"] = "white",
) -> tuple[Float[Matrix, "11 n"], Float[Matrix, "1 n"]]:
    """Read a UCI Wine Quality CSV into feature columns and quality columns.

    The file is the UCI format: a header of the 12 quoted column names, then one sample
    per line, fields separated by ``;``, the quality a whole score from 0 to 10. A
    UTF-8 byte-order mark is tolerated.

    Args:
        path: the CSV, e.g. what `fetch_wine_quality` returns; default the copy of
            ``winequality-{colour}.csv`` that ships with typednet (no network needed).
        colour: which packaged file to read when ``path`` is None: ``"white"`` or
            ``"red"``.

    Returns:
        ``(x, y)``: the 11 features, shape (11, n), and the quality scores, shape (1, n),
        both float64; sample i is column i of each, in the file's order.

    Raises:
        FileNotFoundError: there is no file at ``path``.
        OSError: ``path`` is not a regular file or a pipe (``/dev/zero`` never ends).
        ValueError: the file is malformed (empty, wrong header, wrong column count, a
            field that is not a finite number, a quality that is not a score 0..10) or
            larger than 64 MiB; the message names the file, the 1-based line and the
            column (index and name).

    Examples:
        >>> x, y = load_wine_quality()
        >>> x.shape, y.shape
        ((11, 4898), (1, 4898))
    """
    if path is None:
        if colour not in _SHA256:
            raise ValueError(f"colour must be 'white' or 'red', got {colour!r}")
        path = _PACKAGED / f"winequality-{colour}.csv"
    path = Path(path)
    try:
        with open_data(path, "a CSV file") as f:
            data = _read_capped(f, str(path))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path}: no such file; load_wine_quality() with no path reads the copy that "
            "ships with typednet"
        ) from None
    lines = _lines(_decode(path, data))
    if not lines:
        raise ValueError(
            f"{_at(path, 1)}: the file is empty; expected a header of {len(_COLUMNS)} "
            "quoted column names separated by ';'"
        )
    header = lines[0].split(";")
    _check_count(path, 1, header, "column names")
    for column, (got, want) in enumerate(zip(header, _COLUMNS, strict=True)):
        if got.strip().strip('"') != want:
            raise ValueError(f'{_at(path, 1, column)}: the header says {show(got)}, not "{want}"')
    if len(lines) == 1:
        raise ValueError(f"{_at(path, 2)}: no data lines after the header")
    rows = [_parse_row(path, i, line.split(";")) for i, line in enumerate(lines[1:], start=2)]
    table = np.array(rows, dtype=np.float64)
    return np.ascontiguousarray(table[:, :-1].T), np.ascontiguousarray(table[:, -1:].T)


# --- fetching ----------------------------------------------------------------------------


def _default_cache_dir() -> Path:
    """``$TYPEDNET_CACHE`` when set, else ``~/.cache/typednet``."""
    env = os.environ.get("TYPEDNET_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "typednet"


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_capped(stream: IO[bytes], what: str) -> bytes:
    data = stream.read(_MAX_BYTES + 1)
    if len(data) > _MAX_BYTES:
        raise ValueError(f"{what}: larger than {_MAX_BYTES} bytes; refusing to read it")
    return data


def _download(url: str, timeout: float) -> bytes:
    """The body at ``url`` (http or https), within ``timeout`` seconds in all.

    Raises:
        TimeoutError: the deadline passed (a slow server, a stalled connection).
        ConnectionError: any other network failure, with the offline hint.
    """
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise ValueError(f"{url}: only http and https URLs can be fetched, got {scheme!r}")
    deadline = time.monotonic() + timeout
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return _read_by(response, url, deadline)
    except (OSError, http.client.HTTPException) as e:
        reason = getattr(e, "reason", e)
        if isinstance(e, TimeoutError) or isinstance(reason, TimeoutError):
            raise TimeoutError(
                f"could not download {url} within {timeout:g} s; {_OFFLINE_HINT}"
            ) from None
        if isinstance(e, urllib.error.HTTPError):
            e.close()  # an HTTPError holds the open response
            reason = f"HTTP {e.code} {e.reason}"
        raise ConnectionError(
            f"could not download {url} ({str(reason) or type(e).__name__}); {_OFFLINE_HINT}"
        ) from e


def _read_by(response: http.client.HTTPResponse, url: str, deadline: float) -> bytes:
    """The whole body, read in pieces, each allowed only the time left until ``deadline``
    (a server sending a byte now and then cannot stretch it)."""
    sock = getattr(getattr(response.fp, "raw", None), "_sock", None)
    chunks: list[bytes] = []
    size = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline passed")
        if isinstance(sock, socket.socket):
            sock.settimeout(left)
        chunk = response.read1(2**16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > _MAX_BYTES:
            raise ValueError(f"{url}: larger than {_MAX_BYTES} bytes; refusing to read it")


# Errors a damaged archive raises while zipfile reads it (RuntimeError: an encrypted
# member; NotImplementedError: an unknown compression method; OSError: bz2's errors).
_ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    NotImplementedError,
    RuntimeError,
    EOFError,
    OSError,
    ValueError,
)


def _extract(archive: bytes, name: str, url: str) -> bytes:
    """The member of the zip ``archive`` whose file name is ``name`` (in any folder)."""
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zf:
            member = next(
                (m for m in zf.infolist() if PurePosixPath(m.filename).name == name), None
            )
            if member is None:
                names = ", ".join(repr(n[:60]) for n in zf.namelist()[:5])
                raise _NoMember(f"{url}: the archive has no {name}; it holds [{names}]")
            with zf.open(member) as f:
                return _read_capped(f, f"{url}: {name}")
    except _NoMember:
        raise
    except zipfile.BadZipFile as e:
        raise ValueError(f"{url}: not a valid zip archive ({_brief(e)})") from None
    except _ARCHIVE_ERRORS as e:
        raise ValueError(f"{url}: {name} in the archive cannot be read ({_brief(e)})") from None


class _NoMember(ValueError):
    """The archive lacks the requested CSV."""


def _brief(e: BaseException) -> str:
    """An exception's message on one line, at most 200 characters."""
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def fetch_wine_quality(
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    colour: Literal["white", "red"] = "white",
    url: str = _UCI_URL,
    sha256: str | None = None,
    timeout: float = _TIMEOUT,
) -> Path:
    """Download the UCI Wine Quality CSV once, verify it, and return its cached path.

    A cached file whose sha256 is right is returned without any network access; a cached
    file with a wrong hash is downloaded again and replaced. A download is the UCI zip
    archive; the requested CSV is taken out of it and its sha256 checked in memory
    before anything is written, then it is written to a temporary file in ``cache_dir``
    and moved into place with `os.replace`, so no partial file is ever left behind.

    Data: P. Cortez, A. Cerdeira, F. Almeida, T. Matos and J. Reis, "Modeling wine
    preferences by data mining from physicochemical properties", Decision Support
    Systems 47(4):547-553, 2009; UCI Machine Learning Repository, CC BY 4.0.

    Args:
        cache_dir: where to keep the file; default ``$TYPEDNET_CACHE`` when set, else
            ``~/.cache/typednet``. Created when missing.
        colour: ``"white"`` (4898 samples) or ``"red"`` (1599 samples).
        url: the zip archive holding ``winequality-{colour}.csv`` (http or https).
        sha256: the expected hex digest of the CSV; default the known UCI file's.
        timeout: seconds the whole download may take (connecting, then every byte),
            default 60.

    Returns:
        The path of ``winequality-{colour}.csv`` in ``cache_dir``, ready for
        `load_wine_quality`.

    Raises:
        ConnectionError: the download failed (no network, HTTP error); the message has
            the URL and how to use a local copy instead.
        TimeoutError: the download took longer than ``timeout`` seconds in all.
        ValueError: the download is not a zip with the CSV (or the archive is damaged
            in any way), or its sha256 differs from the expected one (both hashes are in
            the message).

    Example (downloads once, then reads the cache)::

        path = fetch_wine_quality()
        path.name  # 'winequality-white.csv'
    """
    if colour not in _SHA256:
        raise ValueError(f"colour must be 'white' or 'red', got {colour!r}")
    expected = (sha256 if sha256 is not None else _SHA256[colour]).lower()
    directory = Path(cache_dir).expanduser() if cache_dir is not None else _default_cache_dir()
    target = directory / f"winequality-{colour}.csv"
    if target.is_file() and _sha256_file(target) == expected:
        return target
    limit = _validate.positive("fetch_wine_quality", "timeout", timeout)
    content = _extract(_download(url, limit), target.name, url)
    got = hashlib.sha256(content).hexdigest()
    if got != expected:
        raise ValueError(
            f"{url}: {target.name} has sha256 {got}, expected {expected}; the download is "
            f"corrupt or the file changed upstream, and nothing was written; {_OFFLINE_HINT}"
        )
    directory.mkdir(parents=True, exist_ok=True)
    write_atomically(target, lambda f: f.write(content))
    return target
