"""Issue 24, item 2: bounded resources (library side), and short messages.

`load`, `info` and `save`: memory, decompression, size limits, untrusted strings in
messages; the caches keyed by batch size.

Each test reproduces one failure of the second hostile-input round and pins what replaces
it. Files are built by hand with zipfile and NumPy's documented .npy writer.
"""

import functools
import itertools
import json
import re
import tracemalloc
import types
import warnings
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import typednet as tn
from tests.archives import META
from tests.archives import archive as _archive
from tests.archives import good_members as _good_members
from tests.archives import npy as _npy
from typednet import io as tn_io
from typednet.io import info


def _peak(call: Callable[[], object]) -> int:
    """The most memory ``call`` held at once, as tracemalloc sees it (NumPy's arrays too)."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _refusal(call: Callable[[], object]) -> str:
    with pytest.raises(ValueError) as caught:
        call()
    return str(caught.value)


# --- memory: the params' bytes and a constant ---------------------------------------------


def _several_mb() -> tn.Network:
    """784-1024-1024-10, float64: 14.9 MB of params, the largest array 8.4 MB."""
    rng = np.random.default_rng(0)
    sizes = (784, 1024, 1024, 10)
    return tn.Network(tuple(tn.dense(rng, a, b, tn.relu) for a, b in itertools.pairwise(sizes)))


@pytest.mark.parametrize("reader", ["load", "load like=", "info"])
def test_load_and_info_hold_the_params_bytes_and_a_constant(tmp_path: Path, reader: str) -> None:
    net = _several_mb()
    path = tmp_path / "net.npz"
    tn.save(path, net)
    calls: dict[str, Callable[[], object]] = {
        "load": lambda: tn.load(path),
        "load like=": lambda: tn.load(path, like=net),
        "info": lambda: info(path),
    }
    nbytes = sum(p.nbytes for p in net.params)
    # Was 3.0x: a bytearray per member, each layer's frozen copy, the network's column.
    assert _peak(calls[reader]) < nbytes + 2**20
    loaded = tn.load(path)
    assert all(np.array_equal(p, q) for p, q in zip(loaded.params, net.params, strict=True))
    assert not any(p.flags.writeable for p in loaded.params)


def test_a_loaded_network_owns_its_column_alone(tmp_path: Path) -> None:
    # The column read from the file becomes the network's: no writable alias is left.
    path = tmp_path / "net.npz"
    tn.save(path, _several_mb())
    loaded = tn.load(path)
    for p in loaded.params:
        base = p.base
        assert isinstance(base, np.ndarray)
        assert not base.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            p[0, 0] = 1.0


# --- decompression: bounded, and no member decompresses beyond what it declares -------------


def _compressed_zeros(path: Path, method: int, nbytes: int) -> None:
    """The good archive, but layer1_w holds ``nbytes`` zero bytes after its array."""
    members = _good_members()
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        raw = np.frombuffer(json.dumps(META).encode(), np.uint8)
        archive.writestr("__typednet__.npy", _npy(raw), compress_type=zipfile.ZIP_STORED)
        archive.writestr("layer1_b.npy", members["layer1_b.npy"], zipfile.ZIP_STORED)
        archive.writestr("layer1_w.npy", members["layer1_w.npy"] + bytes(nbytes))


@pytest.mark.parametrize(
    ("method", "name"), [(zipfile.ZIP_BZIP2, "bzip2"), (zipfile.ZIP_LZMA, "LZMA")]
)
def test_a_bzip2_or_lzma_bomb_is_refused_before_it_is_inflated(
    tmp_path: Path, method: int, name: str
) -> None:
    path = tmp_path / "bomb.npz"
    _compressed_zeros(path, method, 64 * 2**20)
    assert path.stat().st_size < 20_000
    message = ""

    def load() -> None:
        nonlocal message
        message = _refusal(lambda: tn.load(path))

    peak = _peak(load)
    assert peak < 2**20  # bzip2 was 140 MB: zipfile inflates its first 4 kB without limit
    assert message == (
        f"{path}: array 'layer1_w' cannot be read (it is compressed with {name}; typednet "
        "reads stored or deflated members (what np.savez and np.savez_compressed write))"
    )


def _set_size(
    data: bytearray, member: zipfile.ZipInfo, size: int, crc: int, compressed: int | None = None
) -> None:
    """Rewrite a member's declared size and CRC (and compressed size) in its headers."""
    local = member.header_offset
    assert data[local : local + 4] == b"PK\x03\x04"
    data[local + 14 : local + 18] = crc.to_bytes(4, "little")
    data[local + 22 : local + 26] = size.to_bytes(4, "little")
    if compressed is not None:
        data[local + 18 : local + 22] = compressed.to_bytes(4, "little")
    central = data.index(b"PK\x01\x02")  # the central directory's first entry
    while (
        bytes(data[central + 46 : central + 46 + len(member.filename)]) != member.filename.encode()
    ):
        central = data.index(b"PK\x01\x02", central + 4)
    data[central + 16 : central + 20] = crc.to_bytes(4, "little")
    data[central + 24 : central + 28] = size.to_bytes(4, "little")
    if compressed is not None:
        data[central + 20 : central + 24] = compressed.to_bytes(4, "little")


def test_a_deflated_member_longer_than_it_declares_is_refused(tmp_path: Path) -> None:
    # 32 MiB of zeros follow layer1_w's array in its deflated stream, but its headers
    # declare (and its CRC covers) only the array: zipfile stops there, and the file
    # loaded as if the rest were not there.
    path = tmp_path / "longer.npz"
    _compressed_zeros(path, zipfile.ZIP_DEFLATED, 32 * 2**20)
    with zipfile.ZipFile(path) as archive:
        member = archive.getinfo("layer1_w.npy")
    array = _npy(np.ones((3, 5)))
    data = bytearray(path.read_bytes())
    _set_size(data, member, len(array), zlib.crc32(array))
    path.write_bytes(bytes(data))
    assert _refusal(lambda: tn.load(path)) == (
        f"{path}: array 'layer1_w' cannot be read (its compressed data "
        f"({member.compress_size} bytes) is longer than its declared size "
        f"({len(array)} bytes) needs)"
    )


def test_a_member_declaring_more_than_its_data_can_hold_is_refused_before_allocating(
    tmp_path: Path,
) -> None:
    # The metadata and the member's headers say 128 MiB of weights; the file is 1 kB.
    meta = json.loads(json.dumps(META))
    meta["layers"][0]["shape"] = [4096, 4096]
    header = _npy(np.ones((4096, 4096)))[:128]
    members = {"layer1_w.npy": header, "layer1_b.npy": _npy(np.zeros((4096, 1)))}
    path = _archive(tmp_path / "liar.npz", members, meta, zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(path) as archive:
        member = archive.getinfo("layer1_w.npy")
    declared = 128 + 4096 * 4096 * 8
    data = bytearray(path.read_bytes())
    _set_size(data, member, declared, zlib.crc32(header))
    path.write_bytes(bytes(data))
    assert path.stat().st_size < 2000
    message = ""

    def load() -> None:
        nonlocal message
        message = _refusal(lambda: tn.load(path))

    assert _peak(load) < 2**20  # was 128 MiB, allocated before the data ran short
    assert message == (
        f"{path}: array 'layer1_w' cannot be read (its declared size ({declared} bytes) is "
        f"more than its {member.compress_size} bytes of compressed data can hold)"
    )


def test_a_stored_member_larger_than_the_file_is_refused_before_allocating(
    tmp_path: Path,
) -> None:
    # As above, uncompressed: the headers say 128 MiB are stored in a 1 kB file.
    meta = json.loads(json.dumps(META))
    meta["layers"][0]["shape"] = [4096, 4096]
    header = _npy(np.ones((4096, 4096)))[:128]
    members = {"layer1_w.npy": header, "layer1_b.npy": _npy(np.zeros((4096, 1)))}
    path = _archive(tmp_path / "liar.npz", members, meta)
    with zipfile.ZipFile(path) as archive:
        member = archive.getinfo("layer1_w.npy")
        stored = sum(m.compress_size for m in archive.infolist()) - member.compress_size
    declared = 128 + 4096 * 4096 * 8
    data = bytearray(path.read_bytes())
    _set_size(data, member, declared, zlib.crc32(header), compressed=declared)
    path.write_bytes(bytes(data))
    message = ""

    def load() -> None:
        nonlocal message
        message = _refusal(lambda: tn.load(path))

    assert _peak(load) < 2**20  # was 128 MiB
    assert message == (
        f"{path}: not a readable .npz archive (its members hold {stored + declared} bytes, "
        f"more than the file's {path.stat().st_size})"
    )


def test_an_archive_recompressed_with_deflate_still_loads(tmp_path: Path) -> None:
    net = _several_mb()
    path = tmp_path / "net.npz"
    tn.save(path, net)
    deflated = tmp_path / "deflated.npz"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(deflated, "w", zipfile.ZIP_DEFLATED) as dst:
        for member in src.infolist():
            dst.writestr(member.filename, src.read(member))
    assert deflated.stat().st_size < path.stat().st_size
    loaded = tn.load(deflated)
    assert all(np.array_equal(p, q) for p, q in zip(loaded.params, net.params, strict=True))


def test_a_fortran_ordered_member_loads_in_its_order(tmp_path: Path) -> None:
    w = np.arange(15.0).reshape(3, 5)
    fortran = _npy(np.asfortranarray(w))
    assert b"'fortran_order': True" in fortran
    members = dict(_good_members(), **{"layer1_w.npy": fortran})
    net = tn.load(_archive(tmp_path / "f.npz", members))
    assert net.params[0].tobytes() == w.tobytes()


# --- save refuses what load would refuse, size limits included ------------------------------


def test_save_refuses_more_params_than_load_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 2 GiB of params cannot be built in a test: the limit is lowered instead.
    net = tn.network(tn.dense(np.random.default_rng(0), 5, 3, tn.relu))  # 18 params
    monkeypatch.setattr(tn_io, "_MAX_PARAM_BYTES", 100)
    path = tmp_path / "net.npz"
    message = (
        f"cannot save to {path}: the metadata describes 144 bytes of params, more than "
        "typednet loads (100)"
    )
    assert _refusal(lambda: tn.save(path, net)) == message  # was written, then refused
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_metadata_longer_than_load_reads(tmp_path: Path) -> None:
    # A Dim name is an identifier of any length: 9 million characters, twice in the JSON.
    long = types.new_class("D" * 9_000_000, (tn.Dim,), {"size": 2})
    dense = tn.Dense(w=np.ones((2, 2)), b=np.zeros((2, 1)), activation=tn.relu, dims=(long, long))
    path = tmp_path / "net.npz"
    message = _refusal(lambda: tn.save(path, tn.network(dense)))
    assert re.fullmatch(
        re.escape(f"cannot save to {path}: metadata: ") + r"\d{8} bytes, more than 16777216",
        message,
    )
    assert list(tmp_path.iterdir()) == []


# --- messages quote untrusted strings shortened ---------------------------------------------

FIVE_MB = "a" * 5_000_000


def _deflated(path: Path, meta: object, members: dict[str, bytes] | None = None) -> Path:
    """A small file: its metadata's long strings deflate to almost nothing."""
    path = _archive(
        path, _good_members() if members is None else members, meta, zipfile.ZIP_DEFLATED
    )
    assert path.stat().st_size < 20_000
    return path


def _meta_with(edit: Callable[[dict[str, object]], object]) -> dict[str, object]:
    meta: dict[str, object] = json.loads(json.dumps(META))
    edit(meta)
    return meta


def _first_layer(meta: dict[str, object]) -> dict[str, object]:
    layers = meta["layers"]
    assert isinstance(layers, list)
    first: dict[str, object] = layers[0]
    return first


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda m: _first_layer(m).update(activation={"name": FIVE_MB, "param": None}),
            "metadata layer 1 activation: unknown activation a string of 5000000 characters; "
            "known: [",
        ),
        (
            lambda m: m.update({FIVE_MB: 1}),
            "metadata: unexpected key a string of 5000000 characters",
        ),
        (
            lambda m: _first_layer(m).update({FIVE_MB: 1}),
            "metadata layer 1: unexpected key a string of 5000000 characters",
        ),
        (
            lambda m: _first_layer(m).update(dims=[["F" + FIVE_MB, 4], ["Hidden", 3]]),
            "metadata layer 1 dims: Faaaaaaaaaaaaaaaaaaaaaaaaaaaaa... (5000001 characters) has "
            "size 4 but its arrays have 5",
        ),
    ],
)
def test_a_5_mb_string_in_a_small_file_is_quoted_short(
    tmp_path: Path, edit: Callable[[dict[str, object]], object], message: str
) -> None:
    path = _deflated(tmp_path / "long.npz", _meta_with(edit))
    for call in (lambda: tn.load(path), lambda: info(path)):
        got = _refusal(call)
        assert got.startswith(f"{path}: {message}")
        assert len(got) < len(str(path)) + 300  # was 5 MB


def test_a_long_member_name_is_quoted_short(tmp_path: Path) -> None:
    name = "x" * 60_000  # a zip name holds at most 65 535 bytes
    for member in (name, f"{name}.npy"):
        path = _archive(tmp_path / "names.npz", dict(_good_members(), **{member: b""}))
        assert _refusal(functools.partial(tn.load, path)) == (
            f"{path}: unexpected array a string of 60000 characters"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns: "Duplicate name"
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr(f"{name}.npy", b"")
    assert _refusal(lambda: tn.load(path)) == (
        f"{path}: the archive holds a string of 60004 characters twice"
    )


def test_a_long_dim_name_against_like_is_quoted_short(tmp_path: Path) -> None:
    class Features(tn.Dim, size=5): ...

    class Hidden(tn.Dim, size=3): ...

    rng = np.random.default_rng(0)
    like = tn.network(tn.dense(rng, Features, Hidden, tn.relu))
    meta = _meta_with(lambda m: _first_layer(m).update(dims=[["F" + FIVE_MB, 5], ["Hidden", 3]]))
    path = _deflated(tmp_path / "dims.npz", meta)
    with pytest.raises(tn.ShapeError) as caught:
        tn.load(path, like=like)
    assert str(caught.value) == (
        f"{path}: layer 1 dims: the file has (Faaaaaaaaaaaaaaaaaaaaaaaaaaaaa... (5000001 "
        "characters), Hidden), like= has (Features, Hidden)"
    )


# --- caches keyed by batch size are bounded in bytes -----------------------------------------


def test_large_batches_leave_no_cached_arrays_behind() -> None:
    net = tn.network(tn.dense(np.random.default_rng(0), 1, 1, tn.identity))
    x = np.ones((1, 1_000_000))
    tracemalloc.start()
    try:
        for n in range(1_000_000, 999_996, -1):  # four batch sizes of 8 MB columns
            tn.grad(net, x[:, :n], x[:, :n], tn.mse)
        kept = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert kept < 2**20  # was 32 MB: a column of ones per batch size, 16 sizes kept
