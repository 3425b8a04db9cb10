"""Issue 11, files: crafted archives for `load`, FIFOs, decompression bombs.

Each test reproduces one failure of the adversarial pass (item 7, 8, 9 or a note) and
pins the one-line ValueError that replaces it. Files are built by hand with zipfile and
NumPy's documented .npy header writer, not with `tn.save`.
"""

import json
import os
import re
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

import typednet as tn
from tests.archives import META
from tests.archives import archive as _archive
from tests.archives import good_members as _good_members
from tests.archives import header as _header
from tests.archives import npy as _npy
from tests.helpers import in_thread
from typednet.apps.cli import main


def _refused(path: Path, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern) as caught:
        tn.load(path)
    assert "\n" not in str(caught.value)


def test_the_hand_built_archive_loads(tmp_path: Path) -> None:
    net = tn.load(_archive(tmp_path / "ok.npz", _good_members()))
    assert repr(net) == "Network 5 → 3 (relu), 18 params"


# --- 7. raw exceptions out of load ----------------------------------------------------------


def test_7_a_header_claiming_a_huge_shape_is_refused_before_any_allocation(tmp_path: Path) -> None:
    members = _good_members()
    members["layer1_w.npy"] = _header((1_000_000, 1_000_000)) + b"\0" * 64  # was MemoryError
    path = _archive(tmp_path / "huge.npz", members)
    _refused(
        path,
        re.escape(
            f"{path}: array 'layer1_w' has shape (1000000, 1000000), the metadata says (3, 5)"
        ),
    )


def test_7_an_absurd_dim_is_refused(tmp_path: Path) -> None:
    members = _good_members()
    members["layer1_w.npy"] = _header((2**70, 1))  # was OverflowError
    path = _archive(tmp_path / "absurd.npz", members)
    _refused(
        path,
        re.escape(f"{path}: array 'layer1_w' has shape ({2**70}, 1), the metadata says (3, 5)"),
    )
    meta = json.loads(json.dumps(META))
    meta["layers"][0]["shape"] = [2**40, 2**40]  # w: 2**80 float64s, b: 2**40
    path = _archive(tmp_path / "absurd-meta.npz", {}, meta)
    _refused(
        path,
        re.escape(
            f"{path}: the metadata describes {(2**80 + 2**40) * 8} bytes of params, more than typednet loads (2147483648)"
        ),
    )


def test_7_a_corrupt_lzma_member_is_a_value_error_naming_it(tmp_path: Path) -> None:
    path = _archive(tmp_path / "lzma.npz", _good_members(), compression=zipfile.ZIP_LZMA)
    data = bytearray(path.read_bytes())
    start = data.index(b"layer1_w.npy") + len("layer1_w.npy")
    for k in range(start + 12, start + 40):  # inside the LZMA stream
        data[k] ^= 0x5A
    path.write_bytes(bytes(data))
    # Issue 24: LZMA is refused whole (zipfile inflates it without a limit), corrupt or not.
    _refused(
        path, re.escape(f"{path}: array '__typednet__' cannot be read (it is compressed with LZMA;")
    )


def test_7_typednet_info_prints_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    members = _good_members()
    members["layer1_w.npy"] = _header((1_000_000, 1_000_000))
    path = _archive(tmp_path / "huge.npz", members)
    assert main(["info", str(path)]) == 1
    err = capsys.readouterr().err
    assert (
        err
        == f"typednet: error: {path}: array 'layer1_w' has shape (1000000, 1000000), the metadata says (3, 5)\n"
    )


# --- 8. decompression is bounded by the metadata --------------------------------------------


def _zeros_deflated(path: Path, name: str, header: bytes, nbytes: int) -> None:
    """Add a deflated member: ``header`` then ``nbytes`` zero bytes, streamed in."""
    with (
        zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open(name, "w", force_zip64=True) as f,
    ):
        f.write(header)
        chunk = bytes(2**20)
        for _ in range(nbytes // len(chunk)):
            f.write(chunk)


@pytest.mark.parametrize("claims", ["a bigger shape", "the right shape"])
def test_8_a_decompression_bomb_is_refused_before_it_is_inflated(
    tmp_path: Path, claims: str
) -> None:
    nbytes = 2048 * 2048 * 8  # 32 MiB of zeros, about 32 kB deflated
    path = _archive(tmp_path / "bomb.npz", {"layer1_b.npy": _npy(np.zeros((3, 1)))})
    shape = (2048, 2048) if claims == "a bigger shape" else (3, 5)
    _zeros_deflated(path, "layer1_w.npy", _header(shape), nbytes)
    assert path.stat().st_size < 2**20
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as caught:
            tn.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20  # was the whole 32 MiB (and 2 GB for the file)
    if claims == "a bigger shape":
        assert (
            str(caught.value)
            == f"{path}: array 'layer1_w' has shape (2048, 2048), the metadata says (3, 5)"
        )
    else:
        assert re.fullmatch(
            re.escape(f"{path}: array 'layer1_w' cannot be read (its size in the archive (")
            + r"\d+ bytes\) is not its header's plus 120 bytes of data\)",
            str(caught.value),
        )


def test_8_a_member_shorter_than_its_header_says_is_refused(tmp_path: Path) -> None:
    members = _good_members()
    members["layer1_w.npy"] = _header((3, 5)) + b"\0" * 16
    path = _archive(tmp_path / "short.npz", members)
    _refused(path, re.escape(f"{path}: array 'layer1_w' cannot be read (its size in the archive ("))


def test_8_a_metadata_member_over_the_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "meta.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("__typednet__.npy", _header((2**30,), "|u1"))
    _refused(path, re.escape(f"{path}: metadata: 1073741824 bytes, more than 16777216"))


# --- 9. FIFOs and other non-regular files -----------------------------------------------------


def test_9_a_fifo_is_refused_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    error = in_thread(lambda: tn.load(fifo))
    assert isinstance(error, ValueError)
    assert (
        str(error)
        == f"{fifo}: not a regular file (a FIFO, socket or device); expected an .npz archive"
    )
    assert in_thread(lambda: main(["info", str(fifo)])) is None
    assert (
        capsys.readouterr().err
        == f"typednet: error: {fifo}: not a regular file (a FIFO, socket or device); expected an .npz archive\n"
    )


def test_9_a_folder_is_refused(tmp_path: Path) -> None:
    _refused(
        tmp_path, re.escape(f"{tmp_path}: not a regular file (a folder); expected an .npz archive")
    )


# --- notes: version true, duplicate members ---------------------------------------------------


def test_version_true_is_not_version_1(tmp_path: Path) -> None:
    meta = dict(META, version=True)  # True == 1 in Python
    path = _archive(tmp_path / "true.npz", _good_members(), meta)
    _refused(
        path,
        re.escape(
            f"{path}: metadata: unsupported format version true (this typednet reads version 1)"
        ),
    )


def test_duplicate_members_are_refused(tmp_path: Path) -> None:
    path = _archive(tmp_path / "dup.npz", _good_members())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns: "Duplicate name"
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("layer1_w.npy", _npy(np.full((3, 5), 2.0)))
    _refused(path, re.escape(f"{path}: the archive holds 'layer1_w.npy' twice"))


def test_a_crc_mismatch_in_a_deflated_member_is_one_line(tmp_path: Path) -> None:
    path = _archive(tmp_path / "z.npz", _good_members(), compression=zipfile.ZIP_DEFLATED)
    data = bytearray(path.read_bytes())
    start = data.index(b"layer1_b.npy") + len("layer1_b.npy")
    data[start + 4] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(
        ValueError, match=re.escape(f"{path}: array 'layer1_b' cannot be read (")
    ) as caught:
        tn.load(path)
    assert "\n" not in str(caught.value)
