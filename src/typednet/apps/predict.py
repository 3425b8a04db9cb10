"""``typednet predict``: a saved network's predictions for the samples of a CSV file.

By default the CSV holds one sample per row (the usual layout of data files), with an
optional header line (``header=``; by default a first line in which no cell is a
number); it is read and predicted in blocks of rows, and no row is read past
`row_limit`, so memory stays bounded whatever the file holds. With ``columns=True`` it
holds the course's layout, one feature per row and one sample per column (read whole,
no header). The file is UTF-8 text, a regular file or a pipe.

The output has one row per sample (one column per sample with ``columns=True``): the
network's outputs, or for a softmax network the most probable class (its index) and
then every class's probability. Numbers are written with enough digits to read back
the same values. Blank lines are skipped.
"""

import csv
import io
import math
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from .._files import not_an_input, open_data, write_atomically
from ..activations import Activation
from ..forward import forward
from ..network import Network
from ._show import show

__all__ = ["BLOCK_ROWS", "predict_csv", "row_limit"]

BLOCK_ROWS = 4096
"""Rows read and predicted at a time in the row layout."""

_Rows = Iterator[tuple[int, list[str]]]


def _is_softmax(net: Network[Any, Any]) -> bool:
    last = net.layers[-1]
    activation = last if isinstance(last, Activation) else last.output_activation
    return activation is not None and activation.name == "softmax"


def _header(net: Network[Any, Any]) -> list[str]:
    n = net.out_size
    if _is_softmax(net):
        return ["class", *(f"p{i}" for i in range(n))]
    return ["y"] if n == 1 else [f"y{i}" for i in range(n)]


def row_limit(inputs: int) -> int:
    """The most characters a row may have in the row layout: 64 KiB, and 1 KiB per input."""
    return 65_536 + 1024 * inputs


_UNDECODABLE = re.compile("[\udc80-\udcff]")
"""What surrogateescape turns a byte that is not UTF-8 into."""


class _Lines:
    """A CSV file's lines for `csv.reader`, each checked to be UTF-8 text. With a
    ``limit``, no row (a line, or several joined by a quoted cell) is read past
    ``limit`` characters: memory stays bounded whatever the file holds."""

    def __init__(self, source: IO[str], name: str, limit: int | None, inputs: int) -> None:
        self.source, self.name, self.limit, self.inputs = source, name, limit, inputs
        self.number = 0  # lines read
        self.row = 0  # characters read of the current row; `_rows` resets it

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        line = self.source.readline(-1 if self.limit is None else self.limit - self.row + 1)
        if not line:
            raise StopIteration
        self.number += 1
        self.row += len(line)
        if self.limit is not None and self.row > self.limit:
            raise ValueError(
                f"{self.name} line {self.number}: a row longer than {self.limit} characters "
                f"(the network takes {self.inputs} numbers)"
            )
        bad = None if line.isascii() else _UNDECODABLE.search(line)
        if bad is not None:
            before = line[: bad.start()]
            raise ValueError(
                f"{self.name} line {self.number}, column {before.count(',') + 1}: not UTF-8 "
                f"text (byte 0x{ord(bad.group()) - 0xDC00:02x}, character {len(before) + 1} "
                "of the line)"
            )
        return line


def _rows(lines: _Lines) -> _Rows:
    """(line number, cells) of each non-blank row."""
    reader = csv.reader(lines)
    try:
        for cells in reader:
            lines.row = 0
            if cells and (len(cells) > 1 or cells[0].strip()):
                yield reader.line_num, cells
    except csv.Error as e:
        raise ValueError(
            f"{lines.name} line {reader.line_num}: not a readable CSV line: {e}"
        ) from None


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _parse(
    rows: list[tuple[int, list[str]]], dtype: np.dtype[Any], name: str
) -> npt.NDArray[np.floating[Any]]:
    """The rows as a (len(rows), cells) array; ValueError naming the first bad cell."""
    with np.errstate(over="ignore", invalid="ignore"):  # 1e39 in float32: inf, blamed below
        try:
            values: npt.NDArray[np.floating[Any]] = np.array([c for _, c in rows], dtype=dtype)
            if np.isfinite(values).all():
                return values
        except ValueError:
            pass
        for line, cells in rows:  # find the cell to blame
            for column, cell in enumerate(cells, 1):
                where = f"{name} line {line}, column {column}"
                if not _is_number(cell):
                    raise ValueError(f"{where}: {show(cell.strip())} is not a number")
                if not math.isfinite(float(cell)):
                    raise ValueError(f"{where}: {show(cell.strip())} is not a finite number")
                if not np.isfinite(dtype.type(cell)):
                    raise ValueError(
                        f"{where}: {show(cell.strip())} is beyond the range of the network's "
                        f"{dtype} (at most {np.finfo(dtype).max!s} in size)"
                    )
    raise AssertionError("unreachable: a block that failed to parse has a bad cell")


def _predicted(
    net: Network[Any, Any], x: npt.NDArray[np.floating[Any]], name: str, where: list[str]
) -> npt.NDArray[np.floating[Any]]:
    """``net``'s outputs for the columns of ``x``; ValueError naming (by ``where``) the
    first sample whose output is not finite (NaN would print as class 0)."""
    y = forward(net, x)
    finite = np.isfinite(y).all(axis=0)
    if not finite.all():
        raise ValueError(
            f"{name} {where[int(np.argmin(finite))]}: the network's output for this sample "
            "is not finite (an overflow?)"
        )
    return y


def _block(
    net: Network[Any, Any], rows: list[tuple[int, list[str]]], name: str
) -> npt.NDArray[np.floating[Any]]:
    """The predictions for the rows' samples. The samples become typednet's (features,
    batch) columns, C-contiguous as `forward` is usually given them (the same BLAS path,
    the same bits)."""
    x = np.ascontiguousarray(_parse(rows, net.dtype, name).T)
    return _predicted(net, x, name, [f"line {line}" for line, _ in rows])


def _check_width(line: int, cells: list[str], want: int, name: str, what: str) -> None:
    if len(cells) != want:
        raise ValueError(
            f"{name} line {line}: {len(cells)} {what}, but the network takes {want} features"
        )


def _write(out: IO[bytes], net: Network[Any, Any], y: npt.NDArray[Any], columns: bool) -> None:
    """Write the predictions for ``y`` (outputs, batch) as rows, or as columns."""
    digits = "%.17g" if net.dtype == np.float64 else "%.9g"
    if _is_softmax(net):
        table = np.vstack([np.argmax(y, axis=0).astype(y.dtype), y])
        formats = ["%d", *[digits] * y.shape[0]]
    else:
        table, formats = y, [digits] * y.shape[0]
    if columns:
        for row, fmt in zip(table, formats, strict=True):
            np.savetxt(out, row.reshape(1, -1), fmt=fmt, delimiter=",")
    else:
        np.savetxt(out, table.T, fmt=formats, delimiter=",")


def _is_header(line: int, cells: list[str], name: str) -> bool:
    """Whether a first line is a header, when the user did not say: one in which no cell
    is a number. ``0,1,2,...`` (what pandas writes for unnamed columns, and a possible
    sample) is refused: the user says which."""
    if not any(_is_number(cell) for cell in cells):
        return True
    if [cell.strip() for cell in cells] == [str(k) for k in range(len(cells))]:
        shown = ",".join(cells) if len(cells) <= 4 else f"0,1,...,{len(cells) - 1}"
        raise ValueError(
            f"{name} line {line}: {shown} is the header pandas writes for unnamed columns, "
            "or a sample; say which: --header yes or --header no"
        )
    return False


def _predict_rows(
    net: Network[Any, Any], lines: _Lines, out: IO[bytes], header: bool | None, block: int
) -> int:
    name = lines.name
    rows = _rows(lines)
    first = next(rows, None)
    if first is None:
        raise ValueError(f"{name}: no samples to predict")
    pending: list[tuple[int, list[str]]] = []
    line, cells = first
    if _is_header(line, cells, name) if header is None else header:
        _check_width(line, cells, net.in_size, name, "columns in the header")
    else:
        _check_width(line, cells, net.in_size, name, "values")
        pending.append(first)
    out.write((",".join(_header(net)) + "\n").encode())
    count = 0
    for line, cells in rows:
        _check_width(line, cells, net.in_size, name, "values")
        pending.append((line, cells))
        if len(pending) == block:
            _write(out, net, _block(net, pending, name), columns=False)
            count, pending = count + len(pending), []
    if pending:
        _write(out, net, _block(net, pending, name), columns=False)
        count += len(pending)
    if count == 0:
        raise ValueError(f"{name}: no samples to predict, only a header")
    return count


def _predict_columns(net: Network[Any, Any], lines: _Lines, out: IO[bytes]) -> int:
    name = lines.name
    rows = list(_rows(lines))
    if len(rows) != net.in_size:
        raise ValueError(
            f"{name}: {len(rows)} rows, but the network takes {net.in_size} features "
            "(with --columns, one row per feature)"
        )
    width = len(rows[0][1])
    for line, cells in rows:
        if len(cells) != width:
            raise ValueError(f"{name} line {line}: {len(cells)} values, but line 1 has {width}")
    where = [f"column {k}" for k in range(1, width + 1)]
    _write(out, net, _predicted(net, _parse(rows, net.dtype, name), name, where), columns=True)
    return width


def predict_csv(
    net: Network[Any, Any],
    data: str | os.PathLike[str],
    out: str | os.PathLike[str] | IO[bytes],
    *,
    columns: bool = False,
    header: bool | None = None,
    block: int = BLOCK_ROWS,
) -> int:
    """Write ``net``'s predictions for the samples in the CSV ``data`` to the CSV ``out``.

    Args:
        net: the network.
        data: the samples, one per row (a header line allowed), or one per column with
            ``columns=True``: a regular file or a pipe, UTF-8 (a byte-order mark is
            dropped). In the row layout a row may not be longer than `row_limit`.
        out: the predictions' file, replaced atomically (an error leaves it as it was),
            or a binary stream to write them to (standard output's buffer).
        columns: the course's layout, (features, batch), in and out.
        header: whether the first line of the row layout is a header; None (default):
            it is when none of its cells is a number, and ``0,1,2,...`` (pandas' header
            for unnamed columns) is refused as ambiguous.
        block: rows predicted at a time in the row layout.

    Returns:
        How many samples were predicted.

    Raises:
        OSError: ``data`` cannot be read (or is a device, a socket, a folder), or ``out``
            cannot be written (or is not a regular file, see `write_atomically`).
        ValueError: naming the file, line and column: a row (or a header) with a count
            other than the network's features, a cell that is not a finite number or is
            beyond the network's dtype, text that is not UTF-8, a row too long, no
            samples, a sample whose output is not finite; or ``out`` is ``data``.
    """
    name = os.fspath(data)
    if columns and header:
        raise ValueError("predict_csv: columns=True reads no header line, got header=True")
    count = 0

    def write(f: IO[bytes]) -> None:
        nonlocal count
        with (
            open_data(data, "a CSV file") as raw,
            io.TextIOWrapper(raw, "utf-8-sig", errors="surrogateescape", newline="") as text,
        ):
            lines = _Lines(text, name, None if columns else row_limit(net.in_size), net.in_size)
            if columns:
                count = _predict_columns(net, lines, f)
            else:
                count = _predict_rows(net, lines, f, header, block)

    if not isinstance(out, str | os.PathLike):
        write(out)
        out.flush()
        return count
    target = os.fspath(out)
    folder = Path(target).absolute().parent
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {target}: directory {folder} does not exist")
    not_an_input(target, "out", {"data": name})
    write_atomically(target, write)
    return count
