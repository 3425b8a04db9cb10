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

Loading never executes code from the file: arrays are read with
``allow_pickle=False``, activations are rebuilt from their names, and Dim classes are
never imported. Without ``like=`` the dims come back as plain int sizes (their names are
still shown by `info`); with ``like=`` the file must match that network's architecture
and the loaded layers reuse its Dim classes, so the result has its static type.
"""

import json
import math
import os
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any, TypeVar, overload

import numpy as np
import numpy.typing as npt
from numpy.lib.npyio import NpzFile

from ._files import write_atomically
from .activations import Activation, _by_name
from .layers import AnyLayer, Dense, LayerNorm, _label
from .network import Network
from .shapes import Matrix, ShapeError

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
class _DenseMeta:
    activation: Activation
    names: tuple[str | None, str | None]  # (prev, next) Dim names
    shape: tuple[int, int]  # the weights' (next, prev)


@dataclass(frozen=True, slots=True)
class _NormMeta:
    eps: float
    name: str | None
    size: int


_LayerMeta = _DenseMeta | _NormMeta | Activation


@dataclass(frozen=True, slots=True)
class _Meta:
    dtype: np.dtype[np.floating[Any]]
    layers: tuple[_LayerMeta, ...]


def _kind(layer: _LayerMeta | AnyLayer) -> str:
    if isinstance(layer, _DenseMeta | Dense):
        return "dense"
    if isinstance(layer, _NormMeta | LayerNorm):
        return "layer_norm"
    return "activation"


def _arrays(layer: _LayerMeta) -> dict[str, tuple[int, int]]:
    """The layer's array fields and their shapes, in `Layer.params` order."""
    if isinstance(layer, _DenseMeta):
        return {"w": layer.shape, "b": (layer.shape[0], 1)}
    if isinstance(layer, _NormMeta):
        return {"gain": (layer.size, 1), "shift": (layer.size, 1)}
    return {}


def _shapes(meta: _Meta) -> dict[str, tuple[int, int]]:
    """Every array's name (``layer{i}_{field}``) and shape, in `Network.params` order."""
    return {
        f"layer{i}_{field}": shape
        for i, layer in enumerate(meta.layers, 1)
        for field, shape in _arrays(layer).items()
    }


# --- writing ---------------------------------------------------------------------------


def _activation_json(a: Activation) -> dict[str, object]:
    return {"name": a.name, "param": a.param}


def _layer_json(layer: AnyLayer, i: int) -> dict[str, object]:
    if isinstance(layer, Dense):
        prev, nxt = layer._dim_names()
        return {
            "kind": "dense",
            "activation": _activation_json(layer.activation),
            "dims": None if prev is None else [[prev, layer.in_size], [nxt, layer.out_size]],
            "shape": list(layer.w.shape),
        }
    if isinstance(layer, LayerNorm):
        name = layer._dim_names()[0]
        return {
            "kind": "layer_norm",
            "eps": layer.eps,
            "dim": None if name is None else [name, layer.in_size],
            "size": layer.in_size,
        }
    if isinstance(layer, Activation):
        return {"kind": "activation", "activation": _activation_json(layer)}
    raise TypeError(
        f"save: layer {i} is a {type(layer).__name__}; only Dense, LayerNorm and Activation "
        "layers can be saved"
    )


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
        TypeError: ``net`` is not a Network, or holds a layer other than Dense,
            LayerNorm or an Activation.
        ValueError: the network could not be loaded back (an activation that is not
            one of typednet's, a Dim whose name is not an identifier); nothing is written.
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
            "layers": [_layer_json(layer, i) for i, layer in enumerate(net.layers, 1)],
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


def _brief(value: object) -> str:
    """A JSON value for a message: numbers and short strings as such, else their type."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else f"a string of {len(value)} characters"
    if isinstance(value, bool | int | float) or value is None:
        return json.dumps(value)[:40]
    return "a list" if isinstance(value, list) else "an object"


def _object(value: object, keys: tuple[str, ...], where: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object, got {_brief(value)}")
    missing = [k for k in keys if k not in value]
    if missing:
        raise ValueError(f"{where}: missing {missing[0]!r}")
    extra = sorted(k for k in value if k not in keys)
    if extra:
        raise ValueError(f"{where}: unexpected key {extra[0]!r}")
    return value


def _list(value: object, length: int, where: str) -> list[object]:
    if not isinstance(value, list) or len(value) != length:
        got = f"a list of {len(value)}" if isinstance(value, list) else _brief(value)
        raise ValueError(f"{where}: expected a list of {length}, got {got}")
    return value


def _size(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{where}: expected a positive integer, got {_brief(value)}")
    return value


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{where}: expected a finite number, got {_brief(value)}")
    return float(value)


def _dim(value: object, size: int, where: str) -> str | None:
    """A saved ``[name, size]`` pair: the name, after checking the size; null is None."""
    if value is None:
        return None
    name, saved_size = _list(value, 2, where)
    if not (isinstance(name, str) and name.isidentifier()):
        raise ValueError(f"{where}: a Dim name must be an identifier, got {_brief(name)}")
    if _size(saved_size, where) != size:
        raise ValueError(f"{where}: {name} has size {saved_size} but its arrays have {size}")
    return name


def _activation(value: object, where: str) -> Activation:
    saved = _object(value, ("name", "param"), where)
    name, param = saved["name"], saved["param"]
    if not isinstance(name, str):
        raise ValueError(f"{where} name: expected a string, got {_brief(name)}")
    number = None if param is None else _number(param, f"{where} param")
    try:
        activation = _by_name(name, number)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    if activation.param != number:
        raise ValueError(f"{where}: {name} takes no parameter, got {_brief(param)}")
    return activation


def _layer_meta(value: object, where: str) -> _LayerMeta:
    kind = value.get("kind") if isinstance(value, dict) else None
    if kind == "dense":
        saved = _object(value, ("kind", "activation", "dims", "shape"), where)
        nxt, prev = (_size(n, f"{where} shape") for n in _list(saved["shape"], 2, f"{where} shape"))
        dims = (None, None) if saved["dims"] is None else _list(saved["dims"], 2, f"{where} dims")
        return _DenseMeta(
            activation=_activation(saved["activation"], f"{where} activation"),
            names=(_dim(dims[0], prev, f"{where} dims"), _dim(dims[1], nxt, f"{where} dims")),
            shape=(nxt, prev),
        )
    if kind == "layer_norm":
        saved = _object(value, ("kind", "eps", "dim", "size"), where)
        size = _size(saved["size"], f"{where} size")
        eps = _number(saved["eps"], f"{where} eps")
        return _NormMeta(eps=eps, name=_dim(saved["dim"], size, f"{where} dim"), size=size)
    if kind == "activation":
        saved = _object(value, ("kind", "activation"), where)
        return _activation(saved["activation"], f"{where} activation")
    raise ValueError(f"{where}: 'kind' must be dense, layer_norm or activation")


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
            f"metadata: unsupported format version {_brief(top.get('version'))} "
            f"(this typednet reads version {_VERSION})"
        )
    saved = _object(top, ("format", "version", "dtype", "layers"), "metadata")
    name = saved["dtype"]
    try:
        dtype = np.dtype(name) if isinstance(name, str) else None
    except TypeError:
        dtype = None
    if dtype is None or dtype.name != name or dtype.kind != "f":
        raise ValueError(
            f"metadata dtype: expected a floating dtype such as 'float64', got {_brief(name)}"
        )
    layers = saved["layers"]
    if not isinstance(layers, list):
        raise ValueError(f"metadata layers: expected a list, got {_brief(layers)}")
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


def _show(value: object) -> str:
    """A value for a message: an activation with its exact param, None (no Dim) as int."""
    if isinstance(value, Activation):
        return value.name if value.param is None else f"{value.name}({value.param!r})"
    if isinstance(value, tuple):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    return "int" if value is None else str(value)


def _same(where: str, what: str, saved: object, want: object, error: type[Exception]) -> None:
    if saved != want:
        raise error(f"{where} {what}: the file has {_show(saved)}, like= has {_show(want)}")


def _check_like(path: str, meta: _Meta, like: Network[Any, Any]) -> None:
    """Raise at the first difference between the file's architecture and ``like``'s."""
    _same(path + ":", "layer count", len(meta.layers), len(like.layers), ValueError)
    _same(path + ":", "dtype", meta.dtype, like.dtype, ShapeError)
    for i, (saved, want) in enumerate(zip(meta.layers, like.layers, strict=True), 1):
        where = f"{path}: layer {i}"
        _same(where, "kind", _kind(saved), _kind(want), ValueError)
        if isinstance(saved, _DenseMeta) and isinstance(want, Dense):
            _same(where, "shape (next, prev)", saved.shape, want.w.shape, ShapeError)
            _same(where, "dims", saved.names, want._dim_names(), ShapeError)
            _same(where, "activation", saved.activation, want.activation, ValueError)
        elif isinstance(saved, _NormMeta) and isinstance(want, LayerNorm):
            _same(where, "size", saved.size, want.in_size, ShapeError)
            _same(where, "dim", saved.name, want._dim_names()[0], ShapeError)
            _same(where, "eps", saved.eps, want.eps, ValueError)
        else:
            _same(where, "activation", saved, want, ValueError)


def _layer(layer: _LayerMeta, params: tuple[Matrix, ...], like: AnyLayer | None) -> AnyLayer:
    """Rebuild one layer through its validating constructor, with ``like``'s dims."""
    if isinstance(layer, _DenseMeta):
        w, b = params
        dims = like.dims if isinstance(like, Dense) else None
        return Dense(w=w, b=b, activation=layer.activation, dims=dims)
    if isinstance(layer, _NormMeta):
        gain, shift = params
        dim = like.dim if isinstance(like, LayerNorm) else None
        return LayerNorm(gain=gain, shift=shift, eps=layer.eps, dim=dim)
    return layer


def _load(path: str, like: Network[Any, Any] | None) -> tuple[_Meta, Network[Any, Any]]:
    meta, arrays = _read(path)
    if like is not None:
        _check_like(path, meta, like)
    params = iter(arrays.values())
    layers: list[AnyLayer] = []
    for i, layer in enumerate(meta.layers, 1):
        own = tuple(next(params) for _ in _arrays(layer))
        try:
            layers.append(_layer(layer, own, None if like is None else like.layers[i - 1]))
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
        if isinstance(layer, _DenseMeta):
            sizes = (layer.shape[1], layer.shape[0])
            text = f"dense {_label(layer.names, sizes)}, {layer.activation}"
        elif isinstance(layer, _NormMeta):
            name = f"{layer.name} " if layer.name else ""
            text = f"layer_norm {name}{layer.size}, eps {layer.eps:g}"
        else:
            text = f"activation {layer}"
        lines.append(f"  layer {i}: {text}")
    return "\n".join(lines)
