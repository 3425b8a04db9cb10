"""``typednet predict``: a saved network's predictions for the samples of a CSV file.

By default the CSV holds one sample per row (the usual layout of data files), with an
optional header line (a first line in which no cell is a number); it is read and
predicted in blocks of rows, so memory stays bounded however long the file is. With
``columns=True`` it holds the course's layout, one feature per row and one sample per
column (read whole, no header).

The output has one row per sample (one column per sample with ``columns=True``): the
network's outputs, or for a softmax network the most probable class (its index) and
then every class's probability. Numbers are written with enough digits to read back
the same values. Blank lines are skipped.
"""

import csv
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from .._files import write_atomically
from ..activations import Activation
from ..forward import forward
from ..network import Network

__all__ = ["BLOCK_ROWS", "predict_csv"]

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


def _rows(source: IO[str], name: str) -> _Rows:
    """(line number, cells) of each non-blank line."""
    reader = csv.reader(source)
    try:
        for cells in reader:
            if cells and (len(cells) > 1 or cells[0].strip()):
                yield reader.line_num, cells
    except csv.Error as e:
        raise ValueError(f"{name} line {reader.line_num}: not a readable CSV line: {e}") from None


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
                raise ValueError(f"{where}: {cell.strip()[:40]!r} is not a number")
            if not np.isfinite(float(cell)):
                raise ValueError(f"{where}: {cell.strip()!r} is not a finite number")
    raise AssertionError("unreachable: a block that failed to parse has a bad cell")


def _as_batch(
    rows: list[tuple[int, list[str]]], dtype: np.dtype[Any], name: str
) -> npt.NDArray[np.floating[Any]]:
    """The rows' samples as typednet's (features, batch) columns, C-contiguous as
    `forward` is usually given them (the same BLAS path, the same bits)."""
    return np.ascontiguousarray(_parse(rows, dtype, name).T)


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


def _predict_rows(
    net: Network[Any, Any], source: IO[str], out: IO[bytes], name: str, block: int
) -> int:
    rows = _rows(source, name)
    first = next(rows, None)
    if first is None:
        raise ValueError(f"{name}: no samples to predict")
    pending: list[tuple[int, list[str]]] = []
    line, cells = first
    if not any(_is_number(cell) for cell in cells):  # a header line
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
            _write(out, net, forward(net, _as_batch(pending, net.dtype, name)), columns=False)
            count, pending = count + len(pending), []
    if pending:
        _write(out, net, forward(net, _as_batch(pending, net.dtype, name)), columns=False)
        count += len(pending)
    if count == 0:
        raise ValueError(f"{name}: no samples to predict, only a header")
    return count


def _predict_columns(net: Network[Any, Any], source: IO[str], out: IO[bytes], name: str) -> int:
    rows = list(_rows(source, name))
    if len(rows) != net.in_size:
        raise ValueError(
            f"{name}: {len(rows)} rows, but the network takes {net.in_size} features "
            "(with --columns, one row per feature)"
        )
    width = len(rows[0][1])
    for line, cells in rows:
        if len(cells) != width:
            raise ValueError(f"{name} line {line}: {len(cells)} values, but line 1 has {width}")
    _write(out, net, forward(net, _parse(rows, net.dtype, name)), columns=True)
    return width


def predict_csv(
    net: Network[Any, Any],
    data: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    columns: bool = False,
    block: int = BLOCK_ROWS,
) -> int:
    """Write ``net``'s predictions for the samples in the CSV ``data`` to the CSV ``out``.

    Args:
        net: the network.
        data: the samples, one per row (a header line allowed), or one per column with
            ``columns=True``.
        out: the predictions' file, replaced atomically (an error leaves it as it was).
        columns: the course's layout, (features, batch), in and out.
        block: rows predicted at a time in the row layout.

    Returns:
        How many samples were predicted.

    Raises:
        OSError: ``data`` cannot be read or ``out`` cannot be written.
        ValueError: naming the file, line and column: a row (or a header) with a count
            other than the network's features, a cell that is not a finite number, no
            samples.
    """
    name = os.fspath(data)
    folder = Path(out).absolute().parent
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {os.fspath(out)}: directory {folder} does not exist")
    count = 0

    def write(f: IO[bytes]) -> None:
        nonlocal count
        with open(data, newline="", encoding="utf-8") as source:
            if columns:
                count = _predict_columns(net, source, f, name)
            else:
                count = _predict_rows(net, source, f, name, block)

    write_atomically(out, write)
    return count
