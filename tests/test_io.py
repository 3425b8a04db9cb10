"""Saving and loading: exact round trips, ``like=``, atomic writes, refused files."""

import json
import os
import re
import stat
import types
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, assert_type

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st

import typednet as tn
from typednet.apps.tutorial import Features, Hidden1, Hidden2, Output, build
from typednet.io import info, load, save

from . import helpers

LEAKY = tn.leaky_relu(0.1)
# Every activation, and the ones with a parameter at a second value too.
ACTIVATIONS = [*helpers.ACTIVATIONS, tn.leaky_relu(0.3), tn.elu(0.7)]

# The tutorial network's metadata, written out by hand from the documented format.
TUTORIAL_META = {
    "format": "typednet",
    "version": 1,
    "dtype": "float64",
    "layers": [
        {
            "kind": "dense",
            "activation": {"name": "leaky_relu", "param": 0.1},
            "dims": [["Features", 5], ["Hidden1", 3]],
            "shape": [3, 5],
        },
        {
            "kind": "dense",
            "activation": {"name": "sigmoid", "param": None},
            "dims": [["Hidden1", 3], ["Hidden2", 5]],
            "shape": [5, 3],
        },
        {
            "kind": "dense",
            "activation": {"name": "sigmoid", "param": None},
            "dims": [["Hidden2", 5], ["Output", 4]],
            "shape": [4, 5],
        },
    ],
}


# --- helpers ---------------------------------------------------------------------------


def _dense(
    rng: np.random.Generator, prev: int, nxt: int, act: tn.Activation, dtype: Any = np.float64
) -> tn.Dense:
    """A dense layer with random (not zero) weights and biases."""
    w = rng.standard_normal((nxt, prev)).astype(dtype)
    b = rng.standard_normal((nxt, 1)).astype(dtype)
    return tn.Dense(w=w, b=b, activation=act)


def _norm(rng: np.random.Generator, size: int, eps: float, dtype: Any = np.float64) -> tn.LayerNorm:
    gain = rng.standard_normal((size, 1)).astype(dtype)
    shift = rng.standard_normal((size, 1)).astype(dtype)
    return tn.LayerNorm(gain=gain, shift=shift, eps=eps)


def _mixed(rng: np.random.Generator, dtype: Any = np.float64) -> tn.Network:
    """Dense(identity) -> LayerNorm -> relu -> Dense(sigmoid): every kind of layer."""
    layers = (
        _dense(rng, 4, 3, tn.identity, dtype),
        _norm(rng, 3, 1e-3, dtype),
        tn.relu,
        _dense(rng, 3, 2, tn.sigmoid, dtype),
    )
    net: tn.Network = tn.Network(layers)
    return net


def _assert_identical(
    loaded: tn.Network[Any, Any], net: tn.Network[Any, Any], x: npt.NDArray[Any]
) -> None:
    """Same layers, activations, eps, bit-identical arrays, same outputs, same repr."""
    assert repr(loaded) == repr(net)
    assert len(loaded.layers) == len(net.layers)
    for got, want in zip(loaded.layers, net.layers, strict=True):
        assert type(got) is type(want)
        if isinstance(got, tn.Dense) and isinstance(want, tn.Dense):
            assert got.activation == want.activation
        elif isinstance(got, tn.LayerNorm) and isinstance(want, tn.LayerNorm):
            assert got.eps == want.eps
        else:
            assert got == want
    assert len(loaded.params) == len(net.params)
    for p, q in zip(loaded.params, net.params, strict=True):
        assert (p.dtype, p.shape) == (q.dtype, q.shape)
        assert p.tobytes() == q.tobytes()
    x = x.astype(net.dtype)
    assert tn.forward(loaded, x).tobytes() == tn.forward(net, x).tobytes()


def _round_trip(tmp_path: Path, net: tn.Network) -> tn.Network:
    path = tmp_path / "net.npz"
    save(path, net)
    return load(path)


def _contents(path: Path) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    """A saved file's metadata and arrays, read with plain NumPy and json."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(arrays.pop("__typednet__").tobytes())
    return meta, arrays


def _write(path: Path, meta: object, arrays: dict[str, npt.NDArray[Any]]) -> None:
    raw = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with open(path, "wb") as f:
        np.savez(f, allow_pickle=True, __typednet__=raw, **arrays)  # object arrays too


def _saved_tutorial(tmp_path: Path) -> Path:
    path = tmp_path / "tutorial.npz"
    save(path, build()[0])
    return path


def _edited(
    tmp_path: Path,
    edit_meta: Callable[[dict[str, Any]], object] = lambda meta: None,
    edit_arrays: Callable[[dict[str, npt.NDArray[Any]]], object] = lambda arrays: None,
) -> Path:
    """The tutorial file, rewritten after ``edit_meta`` / ``edit_arrays`` changed it."""
    meta, arrays = _contents(_saved_tutorial(tmp_path))
    edit_meta(meta)
    edit_arrays(arrays)
    path = tmp_path / "edited.npz"
    _write(path, meta, arrays)
    return path


def _refused(path: Path, message: str, error: type[Exception] = ValueError) -> None:
    """Loading ``path`` (and describing it) raises ``error``: the path, then ``message``."""
    pattern = re.escape(f"{path}: {message}")
    with pytest.raises(error, match=pattern):
        load(path)
    with pytest.raises(error, match=pattern):
        info(path)


# --- round trips -----------------------------------------------------------------------


def test_the_tutorial_round_trips_with_its_dims_and_type(tmp_path: Path) -> None:
    net, x, _ = build()
    path = tmp_path / "tutorial.npz"
    save(path, net)
    loaded = load(path, like=net)
    assert_type(loaded, tn.Network[Features, Output])
    _assert_identical(loaded, net, x)
    dims = [layer.dims for layer in loaded.layers if isinstance(layer, tn.Dense)]
    assert dims == [(Features, Hidden1), (Hidden1, Hidden2), (Hidden2, Output)]
    assert [repr(a) for a in loaded.layers] == [repr(b) for b in net.layers]


def test_without_like_the_dims_come_back_as_ints(tmp_path: Path) -> None:
    net, x, _ = build()
    path = tmp_path / "tutorial.npz"
    save(path, net)
    loaded = load(path)
    assert_type(loaded, tn.Network[int, int])
    _assert_identical(loaded, net, x)
    assert [layer.dims for layer in loaded.layers if isinstance(layer, tn.Dense)] == [None] * 3
    assert repr(loaded.layers[0]) == "Dense(5 → 3, leaky_relu 0.1, float64)"


def test_the_file_holds_the_documented_format(tmp_path: Path) -> None:
    net, _, _ = build()
    meta, arrays = _contents(_saved_tutorial(tmp_path))
    assert meta == TUTORIAL_META
    names = ["layer1_w", "layer1_b", "layer2_w", "layer2_b", "layer3_w", "layer3_b"]
    assert sorted(arrays) == sorted(names)
    for name, p in zip(names, net.params, strict=True):
        assert arrays[name].tobytes() == p.tobytes()
        assert arrays[name].dtype == np.float64


def test_a_float32_network_round_trips(tmp_path: Path, rng: np.random.Generator) -> None:
    layers = (_dense(rng, 5, 3, tn.tanh, np.float32), _dense(rng, 3, 2, tn.softmax, np.float32))
    net: tn.Network = tn.Network(layers)
    loaded = _round_trip(tmp_path, net)
    assert loaded.dtype == np.float32
    _assert_identical(loaded, net, rng.standard_normal((5, 7)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_layer_norm_and_a_bare_activation_round_trip(
    tmp_path: Path, rng: np.random.Generator, dtype: Any
) -> None:
    net = _mixed(rng, dtype)
    loaded = _round_trip(tmp_path, net)
    _assert_identical(loaded, net, rng.standard_normal((4, 6)))
    assert repr(loaded.layers[1]) == f"LayerNorm(3, eps=0.001, {np.dtype(dtype)})"
    assert loaded.layers[2] is tn.relu


@pytest.mark.parametrize("act", ACTIVATIONS, ids=str)
def test_every_activation_round_trips(
    tmp_path: Path, rng: np.random.Generator, act: tn.Activation
) -> None:
    # As a dense layer's activation and as a bare layer of its own.
    net: tn.Network = tn.Network((_dense(rng, 3, 4, act), act))
    loaded = _round_trip(tmp_path, net)
    _assert_identical(loaded, net, rng.standard_normal((3, 5)))
    bare = loaded.layers[1]
    assert bare == act
    assert isinstance(bare, tn.Activation)
    assert (bare.name, bare.param) == (act.name, act.param)


_LAYER = st.one_of(
    st.tuples(st.just("dense"), st.integers(1, 5), st.sampled_from(ACTIVATIONS)),
    st.tuples(st.just("norm"), st.floats(1e-9, 1.0)),
    st.tuples(st.just("act"), st.sampled_from(ACTIVATIONS)),
)


@given(
    first=st.integers(1, 5),
    spec=st.lists(_LAYER, max_size=5),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_architectures_round_trip(
    tmp_path_factory: pytest.TempPathFactory,
    first: int,
    spec: list[tuple[Any, ...]],
    dtype: Any,
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    layers: list[tn.Layer[Any, Any] | tn.Activation] = [_dense(rng, 2, first, tn.relu, dtype)]
    size = first
    for kind, *args in spec:
        if kind == "dense":
            layers.append(_dense(rng, size, args[0], args[1], dtype))
            size = args[0]
        elif kind == "norm":
            layers.append(_norm(rng, size, args[0], dtype))
        else:
            layers.append(args[0])
    net: tn.Network = tn.Network(tuple(layers))
    loaded = _round_trip(tmp_path_factory.mktemp("random"), net)
    _assert_identical(loaded, net, rng.standard_normal((2, 3)))


# --- like= -----------------------------------------------------------------------------


class Wide(tn.Dim, size=4): ...


def _tutorial_like(
    rng: np.random.Generator,
    hidden: type[tn.Dim] = Hidden1,
    act: tn.Activation = LEAKY,
    dtype: Any = np.float64,
) -> tn.Network[Features, Output]:
    """The tutorial's architecture (or a variant) with other values."""
    return (
        tn.network(tn.dense(rng, Features, hidden, act, dtype=dtype))
        .then(tn.dense(rng, hidden, Hidden2, tn.sigmoid, dtype=dtype))
        .then(tn.dense(rng, Hidden2, Output, tn.sigmoid, dtype=dtype))
    )


def _int_sized(rng: np.random.Generator) -> tn.Network:
    layers = (
        _dense(rng, 5, 3, tn.leaky_relu(0.1)),
        _dense(rng, 3, 5, tn.sigmoid),
        _dense(rng, 5, 4, tn.sigmoid),
    )
    net: tn.Network = tn.Network(layers)
    return net


def test_like_with_int_sizes_loads_a_file_saved_with_int_sizes(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    net = _mixed(rng)
    path = tmp_path / "mixed.npz"
    save(path, net)
    like = _mixed(np.random.default_rng(1))  # same architecture, other values
    _assert_identical(load(path, like=like), net, rng.standard_normal((4, 2)))


@pytest.mark.parametrize(
    ("like", "error", "message"),
    [
        (
            lambda rng: _tutorial_like(rng, hidden=Wide),
            tn.ShapeError,
            "layer 1 shape: the file has (3, 5), like= has (4, 5)",
        ),
        (
            lambda rng: _tutorial_like(rng, act=tn.leaky_relu(0.2)),
            ValueError,
            "layer 1 activation: the file has leaky_relu(0.1), like= has leaky_relu(0.2)",
        ),
        (
            lambda rng: _tutorial_like(rng, act=tn.relu),
            ValueError,
            "layer 1 activation: the file has leaky_relu(0.1), like= has relu",
        ),
        (
            lambda rng: tn.Network(_tutorial_like(rng).layers[:2]),
            ValueError,
            "layer count: the file has 3, like= has 2",
        ),
        (
            lambda rng: tn.Network((*_tutorial_like(rng).layers, tn.softmax)),
            ValueError,
            "layer count: the file has 3, like= has 4",
        ),
        (
            lambda rng: _tutorial_like(rng, dtype=np.float32),
            tn.ShapeError,
            "dtype: the file has float64, like= has float32",
        ),
        (
            _int_sized,
            tn.ShapeError,
            "layer 1 dims: the file has (Features, Hidden1), like= has (int, int)",
        ),
    ],
    ids=["size", "param", "activation", "fewer", "more", "dtype", "dims"],
)
def test_like_mismatches_are_refused(
    tmp_path: Path,
    rng: np.random.Generator,
    like: Callable[[np.random.Generator], tn.Network],
    error: type[Exception],
    message: str,
) -> None:
    path = _saved_tutorial(tmp_path)
    with pytest.raises(error, match=re.escape(f"{path}: {message}")):
        load(path, like=like(rng))


def test_like_refuses_other_kinds_eps_and_dim_names(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    path = tmp_path / "mixed.npz"
    save(path, _mixed(rng))
    swapped = _mixed(rng).layers
    other_kind: tn.Network = tn.Network((swapped[0], tn.relu, swapped[1], swapped[3]))
    with pytest.raises(
        ValueError, match=re.escape(f"{path}: layer 2 kind: the file has layer_norm, like= has ")
    ):
        load(path, like=other_kind)
    other_eps: tn.Network = tn.Network((swapped[0], _norm(rng, 3, 1e-5), *swapped[2:]))
    with pytest.raises(
        ValueError, match=re.escape(f"{path}: layer 2 eps: the file has 0.001, like= has 1e-05")
    ):
        load(path, like=other_eps)

    class Hidden(tn.Dim, size=3): ...

    named_norm = tn.LayerNorm(gain=np.ones((3, 1)), shift=np.zeros((3, 1)), eps=1e-3, dim=Hidden)
    named: tn.Network = tn.Network((swapped[0], named_norm, *swapped[2:]))
    with pytest.raises(
        tn.ShapeError, match=re.escape(f"{path}: layer 2 dim: the file has int, like= has Hidden")
    ):
        load(path, like=named)


# --- atomic writes ---------------------------------------------------------------------


@pytest.mark.parametrize("failure", [OSError, RuntimeError, KeyboardInterrupt])
@pytest.mark.parametrize("where", ["writer", "replace"])
def test_a_failed_save_leaves_the_old_file_and_no_temporary(
    tmp_path: Path,
    rng: np.random.Generator,
    monkeypatch: pytest.MonkeyPatch,
    failure: type[BaseException],
    where: str,
) -> None:
    path = _saved_tutorial(tmp_path)
    before = path.read_bytes()

    def broken_writer(f: Any, **arrays: Any) -> None:
        f.write(b"PK\x03\x04 half an archive")
        raise failure("the disk is full")

    def broken_replace(src: Any, dst: Any) -> None:
        raise failure("the disk is full")

    if where == "writer":
        monkeypatch.setattr(np, "savez", broken_writer)
    else:
        monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(failure, match="the disk is full"):
        save(path, _mixed(rng))
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == [path.name]
    _assert_identical(load(path), build()[0], build()[1])


def test_save_writes_exactly_the_path_given(tmp_path: Path) -> None:
    path = tmp_path / "weights"
    save(path, build()[0])
    save(str(path), build()[0])  # a str path too, overwriting
    assert os.listdir(tmp_path) == ["weights"]
    assert zipfile.is_zipfile(path)
    assert repr(load(path)) == repr(build()[0])


def test_file_modes_follow_the_umask_and_an_overwritten_file_keeps_its_own(
    tmp_path: Path,
) -> None:
    path = tmp_path / "net.npz"
    old_umask = os.umask(0o027)
    try:
        save(path, build()[0])
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # 0o666 & ~0o027
    path.chmod(0o600)
    save(path, build()[0])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_saving_never_mutates_the_network(tmp_path: Path, rng: np.random.Generator) -> None:
    net = _mixed(rng)
    layers = net.layers
    copies = [p.copy() for p in net.params]
    save(tmp_path / "net.npz", net)
    assert net.layers is layers
    for p, c in zip(net.params, copies, strict=True):
        assert p.tobytes() == c.tobytes()
        assert not p.flags.writeable


def test_loaded_arrays_are_read_only(tmp_path: Path, rng: np.random.Generator) -> None:
    loaded = _round_trip(tmp_path, _mixed(rng))
    assert len(loaded.params) == 6
    for p in loaded.params:
        assert not p.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            p[0, 0] = 1.0


def test_save_refuses_what_load_could_not_rebuild(tmp_path: Path, rng: np.random.Generator) -> None:
    path = tmp_path / "net.npz"
    custom = tn.Activation("cube", None, lambda z: z**3, lambda z, s, g: 3 * z**2 * g)
    with pytest.raises(
        ValueError,
        match=re.escape(f"cannot save to {path}: metadata layer 1 activation: unknown activation"),
    ):
        save(path, tn.network(_dense(rng, 2, 2, custom)))
    spaced = types.new_class("my dim", (tn.Dim,), {"size": 2})
    dense = tn.Dense(
        w=np.ones((2, 2)), b=np.zeros((2, 1)), activation=tn.relu, dims=(spaced, spaced)
    )
    with pytest.raises(
        ValueError,
        match=re.escape("metadata layer 1 dims: a Dim name must be an identifier, got 'my dim'"),
    ):
        save(path, tn.network(dense))
    with pytest.raises(TypeError, match="save: expected a typednet Network, got Dense"):
        save(path, dense)  # type: ignore[arg-type]  # the mistake under test
    assert os.listdir(tmp_path) == []


# --- refused files ---------------------------------------------------------------------


def test_a_truncated_file_is_refused(tmp_path: Path) -> None:
    path = _saved_tutorial(tmp_path)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 1):
        path.write_bytes(data[:cut])
        _refused(path, "not a readable .npz archive (File is not a zip file)")


def test_random_bytes_and_a_single_npy_are_refused(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    path = tmp_path / "noise.npz"
    path.write_bytes(rng.bytes(1000))
    _refused(path, "not an .npz archive (it does not start like a zip file)")
    path.write_bytes(b"")
    _refused(path, "not an .npz archive (it does not start like a zip file)")
    with open(path, "wb") as f:
        np.save(f, np.ones((2, 2)))
    _refused(path, "not an .npz archive (it does not start like a zip file)")


def test_damaged_bytes_inside_an_array_are_refused(tmp_path: Path) -> None:
    path = _saved_tutorial(tmp_path)
    data = bytearray(path.read_bytes())
    # Flip a byte of layer1_w's data: the zip's CRC check catches it.
    start = data.index(b"layer1_w.npy") + len("layer1_w.npy") + 128
    data[start + 5] ^= 0xFF
    path.write_bytes(bytes(data))
    _refused(path, "array 'layer1_w' cannot be read (Bad CRC-32 for file 'layer1_w.npy')")


def test_an_npz_without_metadata_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain.npz"
    np.savez(path, layer1_w=np.ones((3, 5)), layer1_b=np.zeros((3, 1)))
    _refused(
        path, "no typednet metadata (array '__typednet__'); was it written by typednet.io.save?"
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda m: m.update(version=2),
            "metadata: unsupported format version 2 (this typednet reads version 1)",
        ),
        (
            lambda m: m.pop("version"),
            "metadata: unsupported format version null (this typednet reads version 1)",
        ),
        (lambda m: m.update(format="other"), "metadata: not a typednet file"),
        (lambda m: m.update(extra=1), "metadata: unexpected key 'extra'"),
        (lambda m: m.pop("layers"), "metadata: missing 'layers'"),
        (lambda m: m.update(layers={}), "metadata layers: expected a list, got an object"),
        (
            lambda m: m.update(dtype="int64"),
            "metadata dtype: expected a floating dtype such as 'float64', got 'int64'",
        ),
        (
            lambda m: m.update(dtype=">f8"),
            "metadata dtype: expected a floating dtype such as 'float64', got '>f8'",
        ),
        (
            lambda m: m["layers"][0].update(kind="conv"),
            "metadata layer 1: 'kind' must be a registered layer kind (batch_norm, dense, dropout, embedding, layer_norm, ",
        ),
        (
            lambda m: m["layers"][1]["activation"].update(name="swish"),
            "metadata layer 2 activation: unknown activation 'swish'",
        ),
        (
            lambda m: m["layers"][1]["activation"].update(param=0.5),
            "metadata layer 2 activation: sigmoid takes no parameter, got 0.5",
        ),
        (
            lambda m: m["layers"][0]["activation"].update(param=None),
            "metadata layer 1 activation: activation 'leaky_relu' needs its parameter",
        ),
        (
            lambda m: m["layers"][0]["activation"].update(param="0.1"),
            "metadata layer 1 activation param: expected a finite number, got '0.1'",
        ),
        (
            lambda m: m["layers"][0].update(shape=[3, 0]),
            "metadata layer 1 shape: expected a positive integer, got 0",
        ),
        (
            lambda m: m["layers"][0].update(shape=[3, 5, 1]),
            "metadata layer 1 shape: expected a list of 2, got a list of 3",
        ),
        (
            lambda m: m["layers"][0]["dims"][1].__setitem__(1, 4),
            "metadata layer 1 dims: Hidden1 has size 4 but its arrays have 3",
        ),
        (
            lambda m: m["layers"][0]["dims"][0].__setitem__(0, "import os"),
            "metadata layer 1 dims: a Dim name must be an identifier, got 'import os'",
        ),
    ],
)
def test_malformed_metadata_is_refused(
    tmp_path: Path, edit: Callable[[dict[str, Any]], object], message: str
) -> None:
    _refused(_edited(tmp_path, edit_meta=edit), message)


def test_metadata_that_is_not_json_or_not_bytes_is_refused(tmp_path: Path) -> None:
    _, arrays = _contents(_saved_tutorial(tmp_path))
    path = tmp_path / "bad.npz"
    for raw, message in [
        (np.frombuffer(b"{not json", np.uint8), "metadata: not valid JSON (Expecting property"),
        (np.frombuffer(b"\xff\xfe", np.uint8), "metadata: not UTF-8 text"),
        (np.frombuffer(b"[" * 100_000, np.uint8), "metadata: nested too deeply"),
        (np.array("{}"), "metadata: expected a 1-D uint8 array, got 0-D <U2"),
    ]:
        np.savez(path, allow_pickle=False, __typednet__=raw, **arrays)
        _refused(path, message)


def test_non_finite_numbers_in_the_metadata_are_refused(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    path = tmp_path / "mixed.npz"
    save(path, _mixed(rng))
    meta, arrays = _contents(path)
    for bad, message in [
        ("NaN", "metadata: NaN is not a valid number"),
        ("Infinity", "metadata: Infinity is not a valid number"),
        ("1e999", "metadata layer 2 eps: expected a finite number, got Infinity"),
    ]:
        text = json.dumps(meta).replace('"eps": 0.001', f'"eps": {bad}')
        np.savez(
            path, allow_pickle=False, __typednet__=np.frombuffer(text.encode(), np.uint8), **arrays
        )
        _refused(path, message)


def test_a_metadata_entry_that_is_not_an_npy_array_is_refused(tmp_path: Path) -> None:
    _, arrays = _contents(_saved_tutorial(tmp_path))
    path = tmp_path / "raw.npz"
    np.savez(path, allow_pickle=False, **arrays)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("__typednet__", json.dumps(TUTORIAL_META))
    _refused(path, "'__typednet__' is not a .npy array")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda a: a.pop("layer2_b"), "missing array 'layer2_b'"),
        (lambda a: a.update(notes=np.zeros(1)), "unexpected array 'notes'"),
        (
            lambda a: a.update(layer1_w=a["layer1_w"].astype(np.int64)),
            "array 'layer1_w' is int64, expected float64 (the file's dtype)",
        ),
        (
            lambda a: a.update(layer1_w=a["layer1_w"].astype(np.float32)),
            "array 'layer1_w' is float32, expected float64 (the file's dtype)",
        ),
        (
            lambda a: a.update(layer1_w=a["layer1_w"].T),
            "array 'layer1_w' has shape (5, 3), the metadata says (3, 5)",
        ),
        (
            lambda a: a.update(layer3_b=a["layer3_b"].ravel()),
            "array 'layer3_b' has shape (4,), the metadata says (4, 1)",
        ),
        (
            lambda a: a["layer2_w"].__setitem__((1, 2), np.nan),
            "layer 2: Dense weights w: contains NaN or inf",
        ),
        (
            lambda a: a["layer3_b"].__setitem__((0, 0), -np.inf),
            "layer 3: Dense bias b: contains NaN or inf",
        ),
    ],
    ids=["missing", "extra", "int", "other-float", "transposed", "1-d", "nan", "inf"],
)
def test_bad_arrays_are_refused(
    tmp_path: Path, edit: Callable[[dict[str, npt.NDArray[Any]]], object], message: str
) -> None:
    _refused(_edited(tmp_path, edit_arrays=edit), message)


def test_a_file_whose_layers_do_not_chain_is_refused(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    def widen(meta: dict[str, Any]) -> None:
        meta["layers"][1].update(dims=None, shape=[5, 4])

    def widen_arrays(arrays: dict[str, npt.NDArray[Any]]) -> None:
        arrays["layer2_w"] = rng.standard_normal((5, 4))

    path = _edited(tmp_path, widen, widen_arrays)
    _refused(path, "layer 2 weights w: expected (next, prev) = (5, 3) to take layer 1's")


class _Mkdir:
    """Unpickling this would create a directory: proof that code ran."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Callable[[str], None], tuple[str]]:
        return (os.mkdir, (str(self.path),))


def test_an_object_array_is_refused_without_unpickling(tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    payload = np.array([[_Mkdir(marker)]], dtype=object)
    path = _edited(tmp_path, edit_arrays=lambda a: a.update(layer1_w=payload))
    _refused(
        path,
        "array 'layer1_w' is object, expected float64 (the file's dtype)",
    )
    assert not marker.exists()
    # Control: the payload is live; an unsafe load would have run it.
    with np.load(path, allow_pickle=True) as archive:
        archive["layer1_w"]
    assert marker.is_dir()


def test_a_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "absent.npz")


# --- info ------------------------------------------------------------------------------


def test_info_describes_the_tutorial_with_its_dim_names(tmp_path: Path) -> None:
    assert info(_saved_tutorial(tmp_path)) == (
        "Network 5 → 3 (leaky_relu 0.1) → 5 (sigmoid) → 4 (sigmoid), 62 params, float64\n"
        "  layer 1: dense Features 5 → Hidden1 3, leaky_relu 0.1\n"
        "  layer 2: dense Hidden1 3 → Hidden2 5, sigmoid\n"
        "  layer 3: dense Hidden2 5 → Output 4, sigmoid"
    )


def test_info_describes_every_kind_of_layer(tmp_path: Path, rng: np.random.Generator) -> None:
    path = tmp_path / "mixed.npz"
    save(path, _mixed(rng, np.float32))
    # 4*3 + 3 weights and biases, 3 + 3 gain and shift, 3*2 + 2: 29 numbers.
    assert info(path) == (
        "Network 4 → 3 (identity) → layer_norm → relu → 2 (sigmoid), 29 params, float32\n"
        "  layer 1: dense 4 → 3, identity\n"
        "  layer 2: layer_norm 3, eps 0.001\n"
        "  layer 3: activation relu\n"
        "  layer 4: dense 3 → 2, sigmoid"
    )
