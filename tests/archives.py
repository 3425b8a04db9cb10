"""Hand-built typednet archives for the hostile-file tests: the metadata of a one-layer
network and its members, written member by member so that a test can break any part."""

import io
import json
import zipfile
from pathlib import Path

import numpy as np

META = {
    "format": "typednet",
    "version": 1,
    "dtype": "float64",
    "layers": [
        {
            "kind": "dense",
            "activation": {"name": "relu", "param": None},
            "dims": None,
            "shape": [3, 5],
        }
    ],
}


def npy(a: np.ndarray) -> bytes:
    """``a`` as the bytes of a .npy file."""
    buffer = io.BytesIO()
    np.save(buffer, a, allow_pickle=False)
    return buffer.getvalue()


def header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    """A .npy version 1.0 header claiming ``shape``, with no data after it."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue()


def archive(
    path: Path,
    members: dict[str, bytes],
    meta: object = META,
    compression: int = zipfile.ZIP_STORED,
) -> Path:
    """A zip at ``path`` with ``meta`` as typednet's metadata member, then ``members``."""
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        raw = np.frombuffer(json.dumps(meta).encode(), np.uint8)
        zf.writestr("__typednet__.npy", npy(raw))
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def good_members() -> dict[str, bytes]:
    """The members of a valid archive for META."""
    return {"layer1_w.npy": npy(np.ones((3, 5))), "layer1_b.npy": npy(np.zeros((3, 1)))}
