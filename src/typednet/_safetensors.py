"""The safetensors container, read and written by typednet itself.

A file is an 8-byte little-endian header length ``n``, ``n`` bytes of JSON, then the
raw little-endian data of every tensor::

    {"__metadata__": {"key": "text", ...},
     "name": {"dtype": "F64", "shape": [3, 5], "data_offsets": [begin, end]}, ...}

with offsets counted from the end of the header. This reader works on an open file
(which `typednet.io` has checked is a regular file), with ``read``, never a memory map:
a file truncated while it is read is a ValueError, not a SIGBUS. Everything is checked
against the file's size before anything is allocated: the header is at most ``limit``
bytes, and the tensors must tile the data exactly (no gap, no overlap, nothing after).
"""

import json
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from io import BufferedReader
from typing import Any, BinaryIO, cast

import numpy as np
import numpy.typing as npt

from . import _json

__all__ = ["DTYPES", "Tensor", "encode_header", "read_header", "read_into", "write"]

DTYPES: dict[str, np.dtype[Any]] = {"F64": np.dtype("<f8"), "F32": np.dtype("<f4")}
"""The tensor dtypes typednet reads and writes, by their safetensors names."""
_NAMES = {dtype: name for name, dtype in DTYPES.items()}
_START = b"{"  # a header is a JSON object


@dataclass(frozen=True, slots=True)
class Tensor:
    """One tensor's entry in the header: its dtype, shape and bytes in the data."""

    dtype: np.dtype[Any]  # little-endian, as stored
    shape: tuple[int, ...]
    begin: int
    end: int


def looks_like(start: bytes) -> bool:
    """Whether a file's first 9 bytes start a safetensors file (a length, then ``{``)."""
    return len(start) == 9 and start[8:] == _START


def _reject_constant(name: str) -> object:
    raise ValueError(f"header: {name} is not a valid number")


def read_header(
    f: BufferedReader, size: int, limit: int
) -> tuple[dict[str, str], dict[str, Tensor], int]:
    """The header of the file ``f`` (``size`` bytes, positioned anywhere): its metadata,
    its tensors by name, and where the data starts.

    Raises:
        ValueError: a header longer than ``limit`` or than the file, not a JSON object,
            a malformed entry, a dtype other than F64 and F32, or tensors that do not
            tile the data exactly.
    """
    f.seek(0)
    length = int.from_bytes(f.read(8), "little")
    if length > limit:
        raise ValueError(f"header: {length} bytes, more than {limit}")
    if 8 + length > size:
        raise ValueError(
            f"header: {length} bytes, more than the file's {size - 8} after its length"
        )
    raw = f.read(length)
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise ValueError("header: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"header: not valid JSON ({exc.msg} at position {exc.pos})") from None
    except RecursionError:
        raise ValueError("header: nested too deeply") from None
    if not isinstance(value, dict):
        raise ValueError(f"header: expected an object, got {_json.brief(value)}")
    entries = cast("dict[str, object]", value)  # parsed JSON: its keys are strings
    metadata = _metadata(entries.pop("__metadata__", {}))
    tensors = {
        name: _tensor(entry, f"tensor {_json.brief(name)}") for name, entry in entries.items()
    }
    _check_tiling(tensors, size - 8 - length)
    return metadata, tensors, 8 + length


def _metadata(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError(f"header __metadata__: expected an object, got {_json.brief(value)}")
    found = cast("dict[str, object]", value)
    for key, text in found.items():
        if not isinstance(text, str):
            raise ValueError(
                f"header __metadata__ {_json.brief(key)}: expected a string, "
                f"got {_json.brief(text)}"
            )
    return cast("dict[str, str]", found)


def _tensor(value: object, where: str) -> Tensor:
    entry = _json.object_(value, ("data_offsets", "dtype", "shape"), where)
    name = entry["dtype"]
    dtype = DTYPES.get(name) if isinstance(name, str) else None
    if dtype is None:
        raise ValueError(
            f"{where} dtype: expected one of {', '.join(DTYPES)}, got {_json.brief(name)}"
        )
    shape = entry["shape"]
    if not isinstance(shape, list):
        raise ValueError(f"{where} shape: expected a list, got {_json.brief(shape)}")
    dims = cast("list[object]", shape)
    if len(dims) > 8 or not all(type(n) is int and n >= 0 for n in dims):
        raise ValueError(f"{where} shape: expected up to 8 sizes, each an integer >= 0")
    begin, end = _json.pair(entry["data_offsets"], f"{where} data_offsets")
    if not (type(begin) is int and type(end) is int and 0 <= begin <= end):
        raise ValueError(f"{where} data_offsets: expected two integers 0 <= begin <= end")
    sizes = tuple(cast("list[int]", dims))
    if end - begin != math.prod(sizes) * dtype.itemsize:
        raise ValueError(
            f"{where}: its data_offsets hold {end - begin} bytes, its shape and dtype "
            f"{math.prod(sizes) * dtype.itemsize}"
        )
    return Tensor(dtype=dtype, shape=sizes, begin=begin, end=end)


def _check_tiling(tensors: Mapping[str, Tensor], data: int) -> None:
    """The tensors' bytes, in order, must be exactly the file's ``data`` bytes."""
    at = 0
    for name, tensor in sorted(tensors.items(), key=lambda item: (item[1].begin, item[1].end)):
        if tensor.begin != at:
            raise ValueError(
                f"tensor {_json.brief(name)}: its data starts at {tensor.begin}, expected {at} "
                "(tensors must follow one another with no gap or overlap)"
            )
        at = tensor.end
    if at != data:
        raise ValueError(f"the tensors hold {at} bytes of data, the file {data}")


def read_into(f: BufferedReader, start: int, tensor: Tensor, out: npt.NDArray[Any]) -> None:
    """Read ``tensor``'s data into ``out`` (C-contiguous, its size, native byte order)."""
    f.seek(start + tensor.begin)
    into = out.data.cast("B")
    done = 0
    while done < len(into):
        got = f.readinto(into[done:])
        if not got:
            raise ValueError("the file ends before its data does (was it truncated?)")
        done += got
    if sys.byteorder == "big":
        out.byteswap(inplace=True)


def encode_header(metadata: Mapping[str, str], arrays: Mapping[str, npt.NDArray[Any]]) -> bytes:
    """The header for ``arrays`` written in order, padded with spaces to 8 bytes."""
    header: dict[str, object] = {"__metadata__": dict(metadata)}
    at = 0
    for name, array in arrays.items():
        dtype = _NAMES[array.dtype.newbyteorder("<")]
        header[name] = {
            "dtype": dtype,
            "shape": list(array.shape),
            "data_offsets": [at, at + array.nbytes],
        }
        at += array.nbytes
    raw = json.dumps(header, separators=(",", ":")).encode()
    return raw + b" " * (-len(raw) % 8)


def write(f: BinaryIO, header: bytes, arrays: Mapping[str, npt.NDArray[Any]]) -> None:
    """Write a file: ``header`` (from `encode_header` for these ``arrays``), then the data."""
    f.write(len(header).to_bytes(8, "little"))
    f.write(header)
    for array in arrays.values():
        f.write(np.ascontiguousarray(array, array.dtype.newbyteorder("<")).data)
