"""The .safetensors format: ``save(..., format="safetensors")``, `load` of it, and
`load_state_dict` of a PyTorch state_dict, each file written or read here by hand from
the format's definition (8-byte little-endian header length, JSON header, raw data)."""

import itertools
import json
import os
import re
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any, assert_type

import numpy as np
import numpy.typing as npt
import pytest

import typednet as tn
from tests.helpers import in_thread
from typednet.apps.tutorial import Features, Output, build
from typednet.io import info, load, load_state_dict, save

# --- the format, by hand ----------------------------------------------------------------


def _write(
    path: Path,
    tensors: dict[str, npt.NDArray[Any]],
    metadata: dict[str, str] | None = None,
    edit: Callable[[dict[str, Any]], object] = lambda header: None,
) -> None:
    """A .safetensors file of ``tensors`` (in order), its header edited by ``edit``."""
    header: dict[str, Any] = {} if metadata is None else {"__metadata__": metadata}
    data = b""
    for name, array in tensors.items():
        dtype = {np.dtype("<f8"): "F64", np.dtype("<f4"): "F32"}[array.dtype]
        raw = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {
            "dtype": dtype,
            "shape": list(array.shape),
            "data_offsets": [len(data), len(data) + len(raw)],
        }
        data += raw
    edit(header)
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)


def _read(path: Path) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    """A .safetensors file's header and tensors, read with struct, json and NumPy."""
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + length])
    data = raw[8 + length :]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        dtype = {"F64": "<f8", "F32": "<f4"}[entry["dtype"]]
        tensors[name] = np.frombuffer(data[begin:end], dtype).reshape(entry["shape"])
    return header, tensors


def _saved(tmp_path: Path, net: tn.Network[Any, Any], name: str = "net.safetensors") -> Path:
    path = tmp_path / name
    save(path, net, format="safetensors")
    return path


def _refused(path: Path, message: str, error: type[Exception] = ValueError) -> None:
    pattern = re.escape(f"{path}: {message}")
    with pytest.raises(error, match=pattern):
        load(path)
    with pytest.raises(error, match=pattern):
        info(path)


def _mixed(rng: np.random.Generator, dtype: Any = np.float64) -> tn.Network:
    """Dense -> LayerNorm -> relu -> Dropout -> Dense: every kind of layer."""
    net: tn.Network = (
        tn.network(tn.dense(rng, 4, 3, tn.identity, dtype=dtype))
        .then(tn.layer_norm(3, eps=1e-3, dtype=dtype))
        .then(tn.relu)
        .then(tn.dropout(0.25))
        .then(tn.dense(rng, 3, 2, tn.sigmoid, dtype=dtype))
    )
    return net


# --- tn.save(format="safetensors") and tn.load ------------------------------------------


def test_the_tutorial_round_trips_with_its_dims_and_type(tmp_path: Path) -> None:
    net = build()[0]
    loaded = load(_saved(tmp_path, net), like=net)
    assert_type(loaded, tn.Network[Features, Output])
    assert repr(loaded) == repr(net)
    assert [p.tobytes() for p in loaded.params] == [p.tobytes() for p in net.params]
    assert loaded.layers[0].dims == net.layers[0].dims  # type: ignore[union-attr]  # Dense


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_kind_of_layer_round_trips_bit_for_bit(
    tmp_path: Path, rng: np.random.Generator, dtype: Any
) -> None:
    net = _mixed(rng, dtype)
    loaded = load(_saved(tmp_path, net))
    assert repr(loaded) == repr(net)
    assert loaded.dtype == np.dtype(dtype)
    assert [p.tobytes() for p in loaded.params] == [p.tobytes() for p in net.params]
    assert info(_saved(tmp_path, net)) == info(_npz(tmp_path, net))


def _npz(tmp_path: Path, net: tn.Network[Any, Any]) -> Path:
    path = tmp_path / "net.npz"
    save(path, net)
    return path


def test_the_file_is_safetensors_with_the_npz_metadata(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    net = _mixed(rng)
    header, tensors = _read(_saved(tmp_path, net))
    with np.load(_npz(tmp_path, net), allow_pickle=False) as archive:
        npz_meta = json.loads(archive["__typednet__"].tobytes())
        npz_arrays = {name: archive[name] for name in archive.files if name != "__typednet__"}
    assert json.loads(header["__metadata__"]["typednet"]) == npz_meta
    assert (
        sorted(tensors)
        == sorted(npz_arrays)
        == ["layer1_b", "layer1_w", "layer2_gain", "layer2_shift", "layer5_b", "layer5_w"]
    )
    for name, array in tensors.items():
        assert array.tobytes() == npz_arrays[name].tobytes()
    raw = (tmp_path / "net.safetensors").read_bytes()
    assert struct.unpack("<Q", raw[:8])[0] % 8 == 0  # the data starts 8-byte aligned


def test_load_tells_the_format_by_its_first_bytes_not_its_name(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    net = _mixed(rng)
    as_npz = _saved(tmp_path, net, "really-safetensors.npz")
    loaded = load(as_npz)
    assert [p.tobytes() for p in loaded.params] == [p.tobytes() for p in net.params]


def test_save_refuses_an_unknown_format(tmp_path: Path, rng: np.random.Generator) -> None:
    with pytest.raises(ValueError, match=r"save: format must be 'npz' or 'safetensors', got 'pt'"):
        save(tmp_path / "x", _mixed(rng), format="pt")  # type: ignore[arg-type]  # the check
    assert list(tmp_path.iterdir()) == []


def test_a_failed_save_leaves_the_old_file(tmp_path: Path, rng: np.random.Generator) -> None:
    path = _saved(tmp_path, _mixed(rng))
    before = path.read_bytes()

    with pytest.raises(TypeError, match="expected a typednet Network, got str"):
        save(path, "net", format="safetensors")  # type: ignore[arg-type]  # the check
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(OSError, match="not a regular file \\(a FIFO\\); nothing was written"):
        save(tmp_path / "pipe", _mixed(rng), format="safetensors")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.safetensors", "pipe"]


# --- what load refuses -------------------------------------------------------------------


def test_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)
    like = build()[0]
    error = in_thread(lambda: load_state_dict(fifo, like=like))
    assert isinstance(error, ValueError)
    assert (
        str(error)
        == f"{fifo}: not a regular file (a FIFO, socket or device); expected a .safetensors file"
    )


def _tutorial_tensors(tmp_path: Path) -> tuple[dict[str, str], dict[str, npt.NDArray[Any]]]:
    header, tensors = _read(_saved(tmp_path, build()[0], "tutorial.safetensors"))
    return header["__metadata__"], {k: v.copy() for k, v in tensors.items()}


def test_a_header_longer_than_the_limit_is_refused_before_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.safetensors"
    path.write_bytes(struct.pack("<Q", 2**40) + b"{}")
    _refused(
        path,
        f"not a readable .safetensors file (header: {2**40} bytes, more than {2 * 16 * 2**20})",
    )


def test_a_header_longer_than_the_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "short.safetensors"
    path.write_bytes(struct.pack("<Q", 1000) + b"{}")
    _refused(
        path,
        "not a readable .safetensors file (header: 1000 bytes, more than the file's 2 after its length)",
    )


def test_a_truncated_file_is_refused_before_its_data_is_read(tmp_path: Path) -> None:
    path = _saved(tmp_path, build()[0])
    raw = path.read_bytes()
    path.write_bytes(raw[:-8])
    _refused(
        path, "not a readable .safetensors file (the tensors hold 496 bytes of data, the file 488)"
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda h: h["layer1_w"].update(data_offsets=[8, 128]),
            "tensor 'layer1_w': its data starts at 8, expected 0 (tensors must follow one another with no gap or overlap)",
        ),
        (
            lambda h: h["layer1_w"].update(data_offsets=[0, 8]),
            "tensor 'layer1_w': its data_offsets hold 8 bytes, its shape and dtype 120",
        ),
        (
            lambda h: h["layer1_w"].update(dtype="I64"),
            "tensor 'layer1_w' dtype: expected one of F64, F32, got 'I64'",
        ),
        (
            lambda h: h["layer1_w"].update(shape=[3, -5]),
            "tensor 'layer1_w' shape: expected up to 8 sizes, each an integer >= 0",
        ),
        (lambda h: h["layer1_w"].pop("dtype"), "tensor 'layer1_w': missing 'dtype'"),
        (
            lambda h: h.update(__metadata__={"typednet": 1}),
            "header __metadata__ 'typednet': expected a string, got 1",
        ),
    ],
)
def test_malformed_headers_are_refused(
    tmp_path: Path, edit: Callable[[dict[str, Any]], object], message: str
) -> None:
    metadata, tensors = _tutorial_tensors(tmp_path)
    path = tmp_path / "bad.safetensors"
    _write(path, tensors, metadata, edit)
    _refused(path, f"not a readable .safetensors file ({message})")


def test_tensors_that_disagree_with_the_metadata_are_refused(tmp_path: Path) -> None:
    metadata, tensors = _tutorial_tensors(tmp_path)
    path = tmp_path / "bad.safetensors"
    _write(path, {**tensors, "layer1_w": tensors["layer1_w"].T.copy()}, metadata)
    _refused(path, "array 'layer1_w' has shape (5, 3), the metadata says (3, 5)")
    _write(path, {**tensors, "layer2_b": tensors["layer2_b"].astype(np.float32)}, metadata)
    _refused(path, "array 'layer2_b' is float32, expected float64 (the file's dtype)")
    _write(path, {k: v for k, v in tensors.items() if k != "layer3_b"}, metadata)
    _refused(path, "missing array 'layer3_b'")
    _write(path, {**tensors, "extra": np.zeros(2)}, metadata)
    _refused(path, "unexpected array 'extra'")


def test_non_finite_values_and_bad_metadata_are_refused(tmp_path: Path) -> None:
    metadata, tensors = _tutorial_tensors(tmp_path)
    path = tmp_path / "bad.safetensors"
    tensors["layer1_w"][0, 0] = np.nan
    _write(path, tensors, metadata)
    _refused(path, "layer 1: Dense weights w: contains NaN or inf")
    _write(path, tensors, {"typednet": '{"format": "other"}'})
    _refused(path, "metadata: not a typednet file ('format' is not \"typednet\")")


def test_a_state_dict_file_given_to_load_points_to_load_state_dict(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    _write(path, {"0.weight": np.ones((3, 5)), "0.bias": np.ones(3)})
    _refused(
        path,
        "a .safetensors file without typednet metadata; a PyTorch state_dict loads with "
        "tn.load_state_dict(path, like=net)",
    )


def test_neither_npz_nor_safetensors_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "junk.bin"
    path.write_bytes(b"0123456789abcdef")
    _refused(
        path, "not an .npz archive (it does not start like a zip file) nor a .safetensors file"
    )


# --- a PyTorch state_dict ----------------------------------------------------------------

# torch.nn.Sequential(Linear(5, 3), LeakyReLU(0.1), Linear(3, 5), Sigmoid(), Linear(5, 4),
# Sigmoid()) names its tensors so: each Linear's index, weight (out, in) and bias (out,).
SIZES = [5, 3, 5, 4]


def _state_dict(rng: np.random.Generator, dtype: Any = np.float64) -> dict[str, npt.NDArray[Any]]:
    tensors = {}
    for k, (n_in, n_out) in enumerate(itertools.pairwise(SIZES)):
        tensors[f"{2 * k}.weight"] = rng.standard_normal((n_out, n_in)).astype(dtype)
        tensors[f"{2 * k}.bias"] = rng.standard_normal(n_out).astype(dtype)
    return tensors


def _leaky_relu(z: npt.NDArray[Any]) -> npt.NDArray[Any]:
    return np.where(z > 0, z, 0.1 * z)


def _sigmoid(z: npt.NDArray[Any]) -> npt.NDArray[Any]:
    return np.asarray(1 / (1 + np.exp(-z)))


def _numpy_forward(tensors: dict[str, npt.NDArray[Any]], x: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The torch model's forward pass in NumPy, rows as samples as torch has them."""
    rows = x.T
    for k, act in enumerate([_leaky_relu, _sigmoid, _sigmoid]):
        rows = act(rows @ tensors[f"{2 * k}.weight"].T + tensors[f"{2 * k}.bias"])
    return np.asarray(rows.T)


def _like() -> tn.Network[Features, Output]:
    """The tutorial's network: the torch model's architecture, with its Dim classes."""
    return build()[0]


def _like32(rng: np.random.Generator) -> tn.Network:
    """The same architecture in float32, with plain int sizes."""
    net: tn.Network = (
        tn.network(tn.dense(rng, 5, 3, tn.leaky_relu(0.1), dtype=np.float32))
        .then(tn.dense(rng, 3, 5, tn.sigmoid, dtype=np.float32))
        .then(tn.dense(rng, 5, 4, tn.sigmoid, dtype=np.float32))
    )
    return net


def test_a_state_dict_loads_and_matches_torchs_forward_pass(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    tensors = _state_dict(rng)
    path = tmp_path / "model.safetensors"
    _write(path, dict(reversed(tensors.items())))  # the header's order does not matter
    like = _like()
    net = load_state_dict(path, like=like)
    assert_type(net, tn.Network[Features, Output])
    assert net.layers[0].dims == like.layers[0].dims  # type: ignore[union-attr]  # Dense
    x = rng.standard_normal((5, 7))
    np.testing.assert_allclose(tn.forward(net, x), _numpy_forward(tensors, x), rtol=0, atol=1e-12)


def test_modules_are_matched_in_torchs_numeric_order(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    # 0, 2, ..., 10: "10" sorts before "2" as text.
    sizes = [2, 3, 4, 5, 6, 7, 8]
    tensors = {}
    like = tn.network(tn.dense(rng, sizes[0], sizes[1], tn.identity))
    for k, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        tensors[f"{2 * k}.weight"] = rng.standard_normal((n_out, n_in))
        tensors[f"{2 * k}.bias"] = rng.standard_normal(n_out)
        if k:
            like = like.then(tn.dense(rng, n_in, n_out, tn.identity))
    path = tmp_path / "deep.safetensors"
    _write(path, tensors)
    net = load_state_dict(path, like=like)
    for k, layer in enumerate(net.layers):
        assert layer.params[0].tobytes() == tensors[f"{2 * k}.weight"].tobytes()  # type: ignore[union-attr]


def test_float32_tensors_load_into_a_float64_network_exactly(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    tensors = _state_dict(rng, np.float32)
    path = tmp_path / "model.safetensors"
    _write(path, tensors)
    net = load_state_dict(path, like=_like())
    assert net.dtype == np.float64
    np.testing.assert_array_equal(net.params[0], tensors["0.weight"].astype(np.float64))
    _write(path, _state_dict(rng))
    with pytest.raises(
        tn.ShapeError,
        match=re.escape(
            f"{path}: module '0' (layer 1, dense) weight: the file has float64, like= has "
            "float32; build like= with dtype float64 to load it"
        ),
    ):
        load_state_dict(path, like=_like32(rng))


def test_a_transposed_weight_is_a_shape_error_with_the_hint(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    tensors = _state_dict(rng)
    tensors["2.weight"] = tensors["2.weight"].T.copy()
    path = tmp_path / "model.safetensors"
    _write(path, tensors)
    with pytest.raises(
        tn.ShapeError,
        match=re.escape(
            f"{path}: module '2' (layer 2, dense) weight (its w): expected (next, prev) = (5, 3), got (3, 5); did you pass w.T?"
        ),
    ):
        load_state_dict(path, like=_like())
    tensors = _state_dict(rng)
    tensors["0.bias"] = np.ones(4)
    _write(path, tensors)
    with pytest.raises(
        tn.ShapeError,
        match=re.escape(
            "module '0' (layer 1, dense) bias (its b): expected (next, 1) = (3, 1), got (4,)"
        ),
    ):
        load_state_dict(path, like=_like())
    tensors["0.bias"] = np.ones((1, 3))  # a row: no hint about w.T for a bias
    _write(path, tensors)
    with pytest.raises(
        tn.ShapeError, match=r"bias \(its b\): expected \(next, 1\) = \(3, 1\), got \(1, 3\)$"
    ):
        load_state_dict(path, like=_like())


def test_a_state_dict_of_another_architecture_is_refused(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    tensors = _state_dict(rng)
    path = tmp_path / "model.safetensors"
    _write(path, {k: v for k, v in tensors.items() if not k.startswith("4.")})
    with pytest.raises(
        ValueError,
        match=re.escape(f"{path}: 2 modules with tensors (0, 2), like= has 3 layers with params"),
    ):
        load_state_dict(path, like=_like())
    _write(path, {**tensors, "2.running_mean": np.ones(5)})
    with pytest.raises(
        ValueError,
        match=re.escape(
            "module '2' (layer 2, dense): holds 'bias', 'running_mean', 'weight'; expected weight and bias for its params w, b"
        ),
    ):
        load_state_dict(path, like=_like())
    bad = _state_dict(rng)
    bad["4.bias"][1] = np.inf
    _write(path, bad)
    with pytest.raises(
        ValueError,
        match=re.escape(
            f"{path}: layer 3 (4): Dense(Hidden2 5 → Output 4) bias b: contains NaN or inf"
        ),
    ):
        load_state_dict(path, like=_like())
    npz = _npz(tmp_path, _like())
    with pytest.raises(
        ValueError, match=re.escape(f"{npz}: not a .safetensors file (it does not start like one)")
    ):
        load_state_dict(npz, like=_like())
