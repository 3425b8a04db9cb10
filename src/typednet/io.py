"""Saving and loading networks: ``save(path, net)``, ``load(path, like=net)``, ``info(path)``.

A saved network is one ``.npz`` archive (NumPy's zip of ``.npy`` arrays, no pickles):

- ``__typednet__``: the metadata, UTF-8 JSON stored as a 1-D uint8 array::

    {"format": "typednet", "version": 1, "dtype": "float64",
     "layers": [{"kind": "dense", "activation": {"name": "leaky_relu", "param": 0.1},
                 "dims": [["Features", 5], ["Hidden1", 3]], "shape": [3, 5]},
                {"kind": "layer_norm", "eps": 1e-05, "dim": ["Hidden1", 3], "size": 3},
                {"kind": "activation", "activation": {"name": "relu", "param": null}}]}

  ``dims`` (a dense layer's ``[prev, next]`` Dim names and sizes) and ``dim`` are null
  for layers built from plain int sizes; ``shape`` is the weights' (next, prev).
- ``layer{i}_{field}``, ``i`` counting every layer of the network from 1: ``layer1_w``,
  ``layer1_b`` (shapes (next, prev) and (next, 1)) for a dense layer, ``layer2_gain``,
  ``layer2_shift`` (shape (d, 1)) for a layer norm; a bare activation has no arrays.

Each layer's entry is its kind plus the layer's own save spec (`Layer.spec`); its
arrays are its `Layer.param_names`. Loading never executes code from the file: arrays
are read with ``allow_pickle=False``, activations are rebuilt from their names, a layer
kind is looked up among the registered ones (`register_layer`; an unknown kind is a
ValueError), and Dim classes are never imported. Without ``like=`` the dims come back as
plain int sizes (their names are still shown by `info`); with ``like=`` the file must
match that network's architecture and the loaded layers reuse its Dim classes, so the
result has its static type.
"""

import json
import os
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, overload

import numpy as np
import numpy.typing as npt
from numpy.lib.npyio import NpzFile

from . import _json
from ._files import write_atomically
from .activations import Activation
from .layers import AnyLayer, Layer
from .layers.base import registered, registered_kinds
from .network import Network
from .shapes import FLOAT_DTYPES, Matrix, ShapeError, float_dtype_message

__all__ = ["info", "load", "save"]

A = TypeVar("A")
B = TypeVar("B")

_PathLike = str | os.PathLike[str]
"""A file path: a string or a ``pathlib.Path``."""

_META = "__typednet__"
_VERSION = 1
# Errors a damaged archive can raise while numpy and zipfile read it (RuntimeError: an
# encrypted member; NotImplementedError: an unknown compression method).
_READ_ERRORS = (
    ValueError,
    OSError,
    EOFError,
    RuntimeError,
    NotImplementedError,
    zipfile.BadZipFile,
    zlib.error,
)


# --- what the metadata describes --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _LayerMeta:
    """A saved layer: its class, its checked spec and the shapes of its arrays."""

    cls: type[Layer[Any, Any]]
    spec: Mapping[str, object]
    shapes: dict[str, tuple[int, int]]


@dataclass(frozen=True, slots=True)
class _Meta:
    dtype: np.dtype[np.floating[Any]]
    layers: tuple[_LayerMeta | Activation, ...]


def _shapes(meta: _Meta) -> dict[str, tuple[int, int]]:
    """Every array's name (``layer{i}_{field}``) and shape, in `Network.params` order."""
    return {
        f"layer{i}_{field}": shape
        for i, layer in enumerate(meta.layers, 1)
        if isinstance(layer, _LayerMeta)
        for field, shape in layer.shapes.items()
    }


# --- writing ---------------------------------------------------------------------------


def _layer_json(layer: AnyLayer) -> dict[str, object]:
    if isinstance(layer, Activation):
        return {"kind": "activation", "activation": _json.activation_spec(layer)}
    return {"kind": layer.kind, **layer.spec()}


def save(path: _PathLike, net: Network[Any, Any]) -> None:
    """Write ``net`` to ``path`` (exactly that path: no ``.npz`` is added), atomically.

    The archive is written to a temporary file in the same directory, flushed to disk,
    then renamed over ``path``: a reader sees the old file or the new one, never a part.
    On any failure the temporary file is removed and an old file at ``path`` is left as
    it was. A new file gets the usual permissions (0o666 less the umask); an overwritten
    one keeps its own. A symlink at ``path`` is replaced by the file, not followed.

    Args:
        path: where to write, e.g. ``"model.npz"``.
        net: the network; it is not changed.

    Raises:
        TypeError: ``net`` is not a Network.
        ValueError: the network could not be loaded back (an activation that is not
            one of typednet's, a Dim whose name is not an identifier, a layer kind that
            is not registered); nothing is written.
        OSError: the file could not be written; an old file at ``path`` is intact.

    >>> import os, tempfile
    >>> from typednet.io import load, save
    >>> from typednet.apps.tutorial import build
    >>> net, x, y = build()
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     save(os.path.join(folder, "tutorial.npz"), net)
    ...     load(os.path.join(folder, "tutorial.npz"), like=net)
    Network 5 → 3 (leaky_relu 0.1) → 5 (sigmoid) → 4 (sigmoid), 62 params
    """
    if not isinstance(net, Network):
        raise TypeError(f"save: expected a typednet Network, got {type(net).__name__}")
    raw = json.dumps(
        {
            "format": "typednet",
            "version": _VERSION,
            "dtype": net.dtype.name,
            "layers": [_layer_json(layer) for layer in net.layers],
        }
    ).encode()
    try:
        meta = _parse_meta(raw)  # never write a file that `load` would refuse
    except ValueError as exc:
        raise ValueError(f"cannot save to {os.fspath(path)}: {exc}") from None
    arrays: dict[str, npt.NDArray[Any]] = {_META: np.frombuffer(raw, dtype=np.uint8)}
    arrays.update(zip(_shapes(meta), net.params, strict=True))
    write_atomically(os.fspath(path), lambda f: np.savez(f, allow_pickle=False, **arrays))


# --- reading the metadata --------------------------------------------------------------


def _layer_meta(value: object, where: str) -> _LayerMeta | Activation:
    kind = value.get("kind") if isinstance(value, dict) else None
    if kind == "activation":
        saved = _json.object_(value, ("kind", "activation"), where)
        return _json.activation(saved["activation"], f"{where} activation")
    cls = registered(kind) if isinstance(kind, str) else None
    if cls is None:
        known = ", ".join([*registered_kinds(), "activation"])
        raise ValueError(
            f"{where}: 'kind' must be a registered layer kind ({known}), got {_json.brief(kind)}; "
            "a layer class of your own needs tn.register_layer(cls) before load"
        )
    assert isinstance(value, dict)
    spec = {k: v for k, v in value.items() if k != "kind"}
    return _LayerMeta(cls=cls, spec=spec, shapes=cls.check_spec(spec, where))


def _reject_constant(name: str) -> object:
    raise ValueError(f"metadata: {name} is not a valid number")


def _parse_meta(raw: bytes) -> _Meta:
    """Check the metadata, key by key, and say what it describes."""
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise ValueError("metadata: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"metadata: not valid JSON ({exc.msg} at position {exc.pos})") from None
    except RecursionError:
        raise ValueError("metadata: nested too deeply") from None
    top = value if isinstance(value, dict) else {}
    if top.get("format") != "typednet":
        raise ValueError("metadata: not a typednet file ('format' is not \"typednet\")")
    if top.get("version") != _VERSION:
        raise ValueError(
            f"metadata: unsupported format version {_json.brief(top.get('version'))} "
            f"(this typednet reads version {_VERSION})"
        )
    saved = _json.object_(top, ("format", "version", "dtype", "layers"), "metadata")
    name = saved["dtype"]
    try:
        dtype = np.dtype(name) if isinstance(name, str) else None
    except TypeError:
        dtype = None
    if dtype is None or dtype.name != name or dtype.kind != "f":
        raise ValueError(
            f"metadata dtype: expected a floating dtype such as 'float64', got {_json.brief(name)}"
        )
    if dtype not in FLOAT_DTYPES:
        raise ValueError(f"metadata dtype: {float_dtype_message(dtype, 'the file cannot be used')}")
    layers = saved["layers"]
    if not isinstance(layers, list):
        raise ValueError(f"metadata layers: expected a list, got {_json.brief(layers)}")
    return _Meta(
        dtype=dtype,
        layers=tuple(
            _layer_meta(layer, f"metadata layer {i}") for i, layer in enumerate(layers, 1)
        ),
    )


# --- reading the archive ---------------------------------------------------------------


def _read(path: str) -> tuple[_Meta, dict[str, Matrix]]:
    """The checked metadata and every array of the archive at ``path``, by name."""
    with open(path, "rb") as f:
        # Checked here, or np.load would take any other file for a pickle (and refuse it).
        if f.read(4) not in (b"PK\x03\x04", b"PK\x05\x06"):
            raise ValueError(f"{path}: not an .npz archive (it does not start like a zip file)")
        f.seek(0)
        try:
            archive: NpzFile = np.load(f, allow_pickle=False)
        except _READ_ERRORS as exc:
            raise ValueError(f"{path}: not a readable .npz archive ({exc})") from None
        with archive:
            return _read_archive(path, archive)


def _read_array(path: str, archive: NpzFile, name: str) -> npt.NDArray[Any]:
    try:
        array: npt.NDArray[Any] = archive[name]
    except _READ_ERRORS as exc:
        raise ValueError(f"{path}: array {name!r} cannot be read ({exc})") from None
    if not isinstance(array, np.ndarray):  # a zip member that is not a .npy file
        raise ValueError(f"{path}: {name!r} is not a .npy array")
    return array


def _read_archive(path: str, archive: NpzFile) -> tuple[_Meta, dict[str, Matrix]]:
    if _META not in archive.files:
        raise ValueError(
            f"{path}: no typednet metadata (array {_META!r}); was it written by typednet.io.save?"
        )
    raw = _read_array(path, archive, _META)
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise ValueError(
            f"{path}: metadata: expected a 1-D uint8 array, got {raw.ndim}-D {raw.dtype}"
        )
    try:
        meta = _parse_meta(raw.tobytes())
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    shapes = _shapes(meta)
    missing = [name for name in shapes if name not in archive.files]
    if missing:
        raise ValueError(f"{path}: missing array {missing[0]!r}")
    extra = sorted(name for name in archive.files if name not in shapes and name != _META)
    if extra:
        raise ValueError(f"{path}: unexpected array {extra[0]!r}")
    arrays: dict[str, Matrix] = {}
    for name, shape in shapes.items():
        array = _read_array(path, archive, name)
        if array.dtype != meta.dtype:
            raise ValueError(
                f"{path}: array {name!r} is {array.dtype}, expected {meta.dtype} (the file's dtype)"
            )
        if array.shape != shape:
            raise ValueError(
                f"{path}: array {name!r} has shape {array.shape}, the metadata says {shape}"
            )
        arrays[name] = array
    return meta, arrays


# --- rebuilding ------------------------------------------------------------------------


def _check_like(path: str, meta: _Meta, like: Network[Any, Any]) -> None:
    """Raise at the first difference between the file's architecture and ``like``'s."""
    if len(meta.layers) != len(like.layers):
        raise ValueError(
            f"{path}: layer count: the file has {len(meta.layers)}, like= has {len(like.layers)}"
        )
    if meta.dtype != like.dtype:
        raise ShapeError(f"{path}: dtype: the file has {meta.dtype}, like= has {like.dtype}")
    for i, (saved, want) in enumerate(zip(meta.layers, like.layers, strict=True), 1):
        where = f"{path}: layer {i}"
        kinds = (_kind(saved), _kind(want))
        if kinds[0] != kinds[1]:
            raise ValueError(f"{where} kind: the file has {kinds[0]}, like= has {kinds[1]}")
        if isinstance(saved, Activation) or isinstance(want, Activation):
            if saved != want:
                raise ValueError(
                    f"{where} activation: the file has {_show(saved)}, like= has {_show(want)}"
                )
            continue
        for key, value in want.spec().items():
            if saved.spec[key] != value:
                error = ShapeError if key in want.shape_keys else ValueError
                raise error(
                    f"{where} {key}: the file has {want.describe(key, saved.spec[key])}, "
                    f"like= has {want.describe(key, value)}"
                )


def _kind(layer: _LayerMeta | AnyLayer) -> str:
    if isinstance(layer, Activation):
        return "activation"
    return layer.cls.kind if isinstance(layer, _LayerMeta) else layer.kind


def _show(layer: _LayerMeta | AnyLayer) -> str:
    if isinstance(layer, Activation):
        return layer.name if layer.param is None else f"{layer.name}({layer.param!r})"
    return _kind(layer)


def _load(path: str, like: Network[Any, Any] | None) -> tuple[_Meta, Network[Any, Any]]:
    meta, arrays = _read(path)
    if like is not None:
        _check_like(path, meta, like)
    params = iter(arrays.values())
    layers: list[AnyLayer] = []
    for i, layer in enumerate(meta.layers, 1):
        if isinstance(layer, Activation):
            layers.append(layer)
            continue
        own = tuple(next(params) for _ in layer.shapes)
        template = None if like is None else like.layers[i - 1]
        try:
            layers.append(layer.cls.from_spec(layer.spec, own, template))  # type: ignore[arg-type]
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{path}: layer {i}: {exc}") from None
    try:
        return meta, Network(tuple(layers))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: {exc}") from None


@overload
def load(path: _PathLike, *, like: Network[A, B]) -> Network[A, B]: ...
@overload
def load(path: _PathLike, *, like: None = None) -> Network[int, int]: ...
def load(path: _PathLike, *, like: Network[Any, Any] | None = None) -> Network[Any, Any]:
    """Read a network written by `save`, checking everything and running no code.

    Args:
        path: the file, e.g. ``"model.npz"``.
        like: a network of the expected architecture (its values do not matter). The
            file must match it layer by layer, and the result reuses its Dim classes, so
            ``load(path, like=net)`` has ``net``'s type, ``Network[In, Out]``. Without
            it the result is a ``Network[int, int]`` with plain int sizes.

    Returns:
        The network; its arrays are read-only copies, bit for bit the saved ones.

    Raises:
        OSError: if the file cannot be opened (FileNotFoundError if it does not exist).
        ValueError: naming the file and the first problem: not a readable archive, no or
            malformed metadata, an unknown version, a missing or extra array, an object
            or non-float array, NaN or inf values, parameters the layers refuse; or, with
            ``like=``, a different layer count, kind, activation or eps.
        ShapeError: with ``like=``, a different size, Dim name or dtype.

    >>> import os, tempfile
    >>> import numpy as np
    >>> import typednet as tn
    >>> from typednet.io import load, save
    >>> net = tn.network(tn.dense(np.random.default_rng(0), 2, 3, tn.relu)).then(tn.softmax)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     save(os.path.join(folder, "model.npz"), net)
    ...     loaded = load(os.path.join(folder, "model.npz"))
    >>> loaded, all(np.array_equal(p, q) for p, q in zip(loaded.params, net.params))
    (Network 2 → 3 (relu) → softmax, 9 params, True)
    """
    if like is not None and not isinstance(like, Network):
        raise TypeError(f"load: like= must be a typednet Network, got {type(like).__name__}")
    return _load(os.fspath(path), like)[1]


def info(path: _PathLike) -> str:
    """Describe a saved network (architecture, dims, dtype, parameter count), checked.

    The file is read and validated as by `load`; no ``like=`` is needed. The first line
    is the network as ``repr`` shows it plus the dtype; then one line per layer with the
    saved Dim names.

    Args:
        path: the file, e.g. ``"model.npz"``.

    >>> import os, tempfile
    >>> from typednet.io import info, save
    >>> from typednet.apps.tutorial import build
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     save(os.path.join(folder, "tutorial.npz"), build()[0])
    ...     print(info(os.path.join(folder, "tutorial.npz")))
    Network 5 → 3 (leaky_relu 0.1) → 5 (sigmoid) → 4 (sigmoid), 62 params, float64
      layer 1: dense Features 5 → Hidden1 3, leaky_relu 0.1
      layer 2: dense Hidden1 3 → Hidden2 5, sigmoid
      layer 3: dense Hidden2 5 → Output 4, sigmoid
    """
    meta, net = _load(os.fspath(path), None)
    lines = [f"{net!r}, {net.dtype}"]
    for i, layer in enumerate(meta.layers, 1):
        if isinstance(layer, Activation):
            text = f"activation {layer}"
        else:
            text = f"{layer.cls.kind} {layer.cls.summarize(layer.spec)}"
        lines.append(f"  layer {i}: {text}")
    return "\n".join(lines)
