"""Issue 11, the wine data: damaged archives and slow servers for `fetch_wine_quality`
(item 10), and CSV files that misreported their errors (item 11 and the notes).

Servers listen on 127.0.0.1 only.
"""

import http.server
import re
import socket
import struct
import threading
import time
import zipfile
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path

import pytest

from typednet.apps.wine_data import fetch_wine_quality, load_wine_quality

from .test_wine_data import WHITE, _serving

# --- 10. fetch: damaged archives are ValueErrors ----------------------------------------------


def _damaged(path: Path, how: str) -> Path:
    """A zip of the white CSV, then damaged: a corrupt stream, an unknown method, a
    member marked encrypted."""
    compression = zipfile.ZIP_LZMA if how == "lzma" else zipfile.ZIP_DEFLATED
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression) as zf:
        zf.writestr("winequality-white.csv", WHITE.read_bytes())
    data = bytearray(path.read_bytes())
    # The local header: signature, version, flags (offset 6), method (offset 8), ...
    assert data[:4] == b"PK\x03\x04"
    data_start = 30 + struct.unpack("<H", data[26:28])[0] + struct.unpack("<H", data[28:30])[0]
    central = data.rindex(
        b"PK\x01\x02"
    )  # the central directory's entry: flags at +8, method at +10
    if how in ("lzma", "deflate"):
        for k in range(data_start + 20, data_start + 60):
            data[k] ^= 0x5A
    elif how == "method":
        data[8:10] = data[central + 10 : central + 12] = struct.pack("<H", 99)
    elif how == "encrypted":
        data[6] |= 1
        data[central + 8] |= 1
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("lzma", r".+"),  # was lzma.LZMAError
        ("deflate", r".+"),  # was zlib.error
        ("method", r"That compression method is not supported"),  # was NotImplementedError
        (
            "encrypted",
            r"File .* is encrypted, password required for extraction",
        ),  # was RuntimeError
    ],
)
def test_10_every_archive_failure_is_a_value_error(tmp_path: Path, how: str, reason: str) -> None:
    root = tmp_path / "www"
    _damaged(root / "wine.zip", how)
    with _serving(root) as base:
        url = f"{base}/wine.zip"
        with pytest.raises(
            ValueError,
            match=rf"^{re.escape(url)}: winequality-white\.csv in the archive cannot be read \({reason}\)$",
        ):
            fetch_wine_quality(tmp_path / "cache", url=url)
    assert not (tmp_path / "cache").exists()


class _Trickle(http.server.BaseHTTPRequestHandler):
    """Answers 200, then sends its body one byte every 0.25 s."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "400")
        self.end_headers()
        try:
            for _ in range(400):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.25)
        except OSError:  # the client gave up: the point of the test
            pass

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean."""


@contextmanager
def _trickling() -> Generator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/wine.zip"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def test_10_the_timeout_is_a_total_deadline(tmp_path: Path) -> None:
    with _trickling() as url:
        start = time.monotonic()
        with pytest.raises(
            TimeoutError, match=rf"^could not download {re.escape(url)} within 1 s; to work offline"
        ):
            fetch_wine_quality(tmp_path, url=url, timeout=1.0)
        took = time.monotonic() - start
    assert 0.9 < took < 3.0  # was 400 x 0.25 s: each read came within the per-read timeout


def test_10_a_server_that_never_answers_is_a_timeout_error(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # connections complete in the kernel; nobody ever answers
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/wine.zip"
        with pytest.raises(
            TimeoutError, match=rf"^could not download {re.escape(url)} within 0.5 s"
        ):
            fetch_wine_quality(tmp_path, url=url, timeout=0.5)


def test_10_a_refused_connection_is_a_connection_error(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, never listening: the connection is refused
        url = f"http://127.0.0.1:{port}/wine.zip"
        with pytest.raises(
            ConnectionError, match=rf"^could not download {re.escape(url)} \(.*[Rr]efused"
        ):
            fetch_wine_quality(tmp_path, url=url, timeout=5)


def test_10_the_timeout_is_checked(tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match=r"^fetch_wine_quality: timeout must be a finite number > 0, got 0$"
    ):
        fetch_wine_quality(tmp_path, url="http://127.0.0.1:9/x.zip", timeout=0)


# --- 11. CSV errors ---------------------------------------------------------------------------


def _lines() -> list[str]:
    return WHITE.read_text(encoding="ascii").splitlines()[:9]


def _write(path: Path, lines: list[str], end: str = "\n") -> Path:
    path.write_bytes("".join(line + end for line in lines).encode("utf-8"))
    return path


def _set(lines: list[str], line: int, column: int, value: str) -> list[str]:
    fields = lines[line - 1].split(";")
    fields[column - 1] = value
    return [*lines[: line - 1], ";".join(fields), *lines[line:]]


@pytest.mark.parametrize("odd", ["\x0c", "\x0b", "\x85", "\u2028", "\x1c"])
def test_11_only_newlines_end_a_line(tmp_path: Path, odd: str) -> None:
    lines = _set(_lines(), 3, 4, f"1{odd}5")  # was split into two lines
    lines = _set(lines, 8, 2, "abc")
    path = _write(tmp_path / "odd.csv", lines)
    with pytest.raises(
        ValueError,
        match=rf'odd\.csv line 3, column 4 \("residual sugar"\): {re.escape(repr(f"1{odd}5"))} is not a number$',
    ):
        load_wine_quality(path)
    lines = _set(_lines(), 8, 2, "abc")
    lines[0] += odd  # whitespace after the header's last name: harmless, and one line
    path = _write(tmp_path / "odd.csv", lines)
    with pytest.raises(ValueError, match=r'odd\.csv line 8, column 2 \("volatile acidity"\)'):
        load_wine_quality(path)


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_11_each_line_ending_counts_lines_alike(tmp_path: Path, end: str) -> None:
    path = _write(tmp_path / "ends.csv", _set(_lines(), 6, 5, "x"), end)
    with pytest.raises(
        ValueError, match=r'ends\.csv line 6, column 5 \("chlorides"\): \'x\' is not a number$'
    ):
        load_wine_quality(path)


def test_11_a_non_utf8_byte_names_its_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path / "latin.csv", _lines())
    data = path.read_bytes()
    lines = data.split(b"\n")
    fields = lines[3].split(b";")
    fields[2] = b"0.3\xe9"  # line 4, column 3; the byte is the 4th character of the field
    lines[3] = b";".join(fields)
    path.write_bytes(b"\n".join(lines))
    at = len(b";".join(fields[:2])) + 1 + 4
    with pytest.raises(
        ValueError,
        match=rf'latin\.csv line 4, column 3 \("citric acid"\): not a UTF-8 text file \(byte 0xe9, character {at} of the line: invalid continuation byte\)$',
    ):
        load_wine_quality(path)


def test_11_a_huge_bad_cell_gives_a_short_message(tmp_path: Path) -> None:
    path = _write(tmp_path / "huge.csv", _set(_lines(), 2, 1, "9" * 5 + "x" * 10_000_000))
    with pytest.raises(ValueError) as caught:
        load_wine_quality(path)
    message = str(caught.value)
    assert message.endswith(
        "huge.csv line 2, column 1 (\"fixed acidity\"): '99999xxxxxxxxxxxxxxxxxxxxxxxxx'... (10000005 characters) is not a number"
    )
    assert len(message) < 200 + len(str(tmp_path))


@pytest.mark.parametrize("cell", ["1_4", "\uff17.\uff10", "٣", "0x1p3", " 7.0\u00a0", "7.0\u2003"])
def test_11_numbers_are_plain_ascii_decimals(tmp_path: Path, cell: str) -> None:
    path = _write(tmp_path / "digits.csv", _set(_lines(), 5, 6, cell))
    with pytest.raises(
        ValueError,
        match=rf'digits\.csv line 5, column 6 \("free sulfur dioxide"\): {re.escape(repr(cell))} is not a number$',
    ):
        load_wine_quality(path)


def test_11_ordinary_decimals_still_read(tmp_path: Path) -> None:
    lines = _set(_set(_set(_lines(), 2, 1, "+7"), 3, 1, ".5"), 4, 1, "6.E1")
    x, _ = load_wine_quality(_write(tmp_path / "ok.csv", _set(lines, 5, 1, " 1e-1\t")))
    assert x[0, :4].tolist() == [7.0, 0.5, 60.0, 0.1]
