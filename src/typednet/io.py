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
arrays are its `Layer.param_names`. Loading never executes code from the file: an
array's .npy header must give the file's float dtype (an object array is refused
unread), activations are rebuilt from their names, a layer kind is looked up among the
registered ones (`register_layer`; an unknown kind is a ValueError), and Dim classes are
never imported. Without ``like=`` the dims come back as plain int sizes (their names are
still shown by `info`); with ``like=`` the file must match that network's architecture
and the loaded layers reuse its Dim classes, so the result has its static type.

``save(..., format="safetensors")`` writes the same metadata and arrays as a
.safetensors file instead (``__metadata__["typednet"]`` and one tensor per array, by the
same names), which `load` reads with typednet's own reader (`typednet._safetensors`):
from the checked descriptor, with ``read`` and no memory map, every header checked
before any data is read. `load_state_dict` reads a PyTorch state_dict in that container.

Resources are bounded: a file holds at most `_MAX_META_BYTES` of metadata and
`_MAX_PARAM_BYTES` of params (`save` refuses to write more); members must be stored or
deflated (what `np.savez` and `np.savez_compressed` write; zipfile inflates bzip2 and
LZMA without a limit), with compressed data that fits their declared size; and each
array streams from the file into its place in the network's one column, so `load` holds
the params' bytes and a constant (`_CHUNK`, and the metadata).
"""

import itertools
import json
import lzma
import math
import os
import stat
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from io import BufferedReader
from typing import Any, Literal, TypeVar, cast, overload

import numpy as np
import numpy.typing as npt

from . import _json, _safetensors
from ._files import write_atomically
from .activations import Activation
from .layers import AnyLayer, Layer
from .layers.base import registered, registered_kinds
from .network import Network, _is_network
from .shapes import FLOAT_DTYPES, Matrix, ShapeError, _adopting, _frozen, float_dtype_message

__all__ = ["info", "load", "load_state_dict", "save"]

A = TypeVar("A")
B = TypeVar("B")

_PathLike = str | os.PathLike[str]
"""A file path: a string or a ``pathlib.Path``."""

_META = "__typednet__"
_VERSION = 1
_MAX_META_BYTES = 16 * 2**20
"""The most metadata a file may hold: the JSON of about 100 000 layers."""
_MAX_PARAM_BYTES = 2**31
"""The most param bytes a file may describe (2 GiB: 268 million float64 params)."""
_MAX_HEADER_BYTES = 2 * _MAX_META_BYTES
"""The longest .safetensors header: the metadata (escaped as a JSON string) and one
entry per array."""
_SAFETENSORS_KEY = "typednet"
"""The ``__metadata__`` key of a .safetensors file that holds typednet's metadata."""
_CHUNK = 2**18
"""Bytes read (and inflated) at a time: the reader's one buffer besides the params."""
# Errors a damaged archive can raise while numpy and zipfile read it (RuntimeError: an
# encrypted member; NotImplementedError: an unknown compression method; OverflowError:
# an absurd size in a header; OSError covers bz2's errors).
_READ_ERRORS = (
    ValueError,
    OSError,
    EOFError,
    RuntimeError,
    NotImplementedError,
    OverflowError,
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
)


# --- what the metadata describes --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LayerMeta:
    """A saved layer: its class, its checked spec and the shapes of its arrays.

    With `layer_json` and `layer_meta`, also what a block of layers
    (`typednet.layers.residual`) writes and reads for its inner layers.
    """

    cls: type[Layer[Any, Any]]
    spec: Mapping[str, object]
    shapes: dict[str, tuple[int, int]]


@dataclass(frozen=True, slots=True)
class _Meta:
    dtype: np.dtype[np.floating[Any]]
    layers: tuple[LayerMeta | Activation, ...]


def _param_count(meta: _Meta) -> int:
    """How many numbers the metadata's arrays hold."""
    return sum(
        math.prod(shape)
        for layer in meta.layers
        if isinstance(layer, LayerMeta)
        for shape in layer.shapes.values()
    )


def _shapes(meta: _Meta) -> dict[str, tuple[int, int]]:
    """Every array's name (``layer{i}_{field}``) and shape, in `Network.params` order."""
    return {
        f"layer{i}_{field}": shape
        for i, layer in enumerate(meta.layers, 1)
        if isinstance(layer, LayerMeta)
        for field, shape in layer.shapes.items()
    }


# --- writing ---------------------------------------------------------------------------


def layer_json(layer: AnyLayer) -> dict[str, object]:
    """A layer's entry in the file's ``"layers"``: its kind and its spec."""
    if isinstance(layer, Activation):
        return {"kind": "activation", "activation": _json.activation_spec(layer)}
    return {"kind": layer.kind, **layer.spec()}


def save(
    path: _PathLike, net: Network[Any, Any], *, format: Literal["npz", "safetensors"] = "npz"
) -> None:
    """Write ``net`` to ``path`` (exactly that path: no ``.npz`` is added), atomically.

    ``format="safetensors"`` writes the same arrays and metadata as a .safetensors file
    instead (for tools that read that format; `load` reads either): the metadata is its
    ``__metadata__["typednet"]``, the arrays its tensors, by the same names.

    The archive is written to a temporary file in the same directory, flushed to disk,
    then renamed over ``path``: a reader sees the old file or the new one, never a part.
    On any failure the temporary file is removed and an old file at ``path`` is left as
    it was. A new file gets the usual permissions (0o666 less the umask); an overwritten
    one keeps its own. A symlink at ``path`` is replaced by the file, not followed.

    Args:
        path: where to write, e.g. ``"model.npz"``.
        net: the network; it is not changed.
        format: ``"npz"`` (the default) or ``"safetensors"``.

    Raises:
        TypeError: ``net`` is not a Network.
        ValueError: the network could not be loaded back (an activation that is not
            one of typednet's, a Dim whose name is not an identifier, a layer kind that
            is not registered, more than 2 GiB of params or 16 MiB of metadata); nothing
            is written.
        OSError: the file could not be written; an old file at ``path`` is intact. Only
            a regular file is replaced (a symbolic link to one is written through): a
            folder, FIFO, socket or device at ``path`` is refused and left as it is.

    Examples:
        >>> import os, tempfile
        >>> from typednet.io import load, save
        >>> from typednet.apps.tutorial import build
        >>> net, x, y = build()
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     save(os.path.join(folder, "tutorial.npz"), net)
        ...     load(os.path.join(folder, "tutorial.npz"), like=net)
        Network 5 → 3 (leaky_relu 0.1) → 5 (sigmoid) → 4 (sigmoid), 62 params
    """
    if not _is_network(net):
        raise TypeError(f"save: expected a typednet Network, got {type(net).__name__}")
    if format not in ("npz", "safetensors"):
        raise ValueError(f"save: format must be 'npz' or 'safetensors', got {format!r}")
    raw = json.dumps(
        {
            "format": "typednet",
            "version": _VERSION,
            "dtype": net.dtype.name,
            "layers": [layer_json(layer) for layer in net.layers],
        }
    ).encode()
    try:
        meta = _checked_meta(raw)  # never write a file that `load` would refuse
    except ValueError as exc:
        raise ValueError(f"cannot save to {os.fspath(path)}: {exc}") from None
    params: dict[str, npt.NDArray[Any]] = dict(zip(_shapes(meta), net.params, strict=True))
    if format == "safetensors":
        header = _safetensors.encode_header({_SAFETENSORS_KEY: raw.decode()}, params)
        if len(header) > _MAX_HEADER_BYTES:
            raise ValueError(
                f"cannot save to {os.fspath(path)}: a header of {len(header)} bytes, "
                f"more than {_MAX_HEADER_BYTES}"
            )
        write_atomically(os.fspath(path), lambda f: _safetensors.write(f, header, params))
        return
    arrays = {_META: np.frombuffer(raw, dtype=np.uint8), **params}
    write_atomically(os.fspath(path), lambda f: np.savez(f, allow_pickle=False, **arrays))


# --- reading the metadata --------------------------------------------------------------


def layer_meta(value: object, where: str) -> LayerMeta | Activation:
    """Check one entry of ``"layers"`` (`layer_json`'s form), running no code."""
    # Parsed JSON: an object's keys are strings.
    saved_layer = cast("dict[str, object]", value) if isinstance(value, dict) else {}
    kind = saved_layer.get("kind")
    if kind == "activation":
        saved = _json.object_(saved_layer, ("kind", "activation"), where)
        return _json.activation(saved["activation"], f"{where} activation")
    cls = registered(kind) if isinstance(kind, str) else None
    if cls is None:
        known = ", ".join([*registered_kinds(), "activation"])
        raise ValueError(
            f"{where}: 'kind' must be a registered layer kind ({known}), got {_json.brief(kind)}; "
            "a layer class of your own needs tn.register_layer(cls) before load"
        )
    spec = {k: v for k, v in saved_layer.items() if k != "kind"}
    return LayerMeta(cls=cls, spec=spec, shapes=cls.check_spec(spec, where))


def _reject_constant(name: str) -> object:
    raise ValueError(f"metadata: {name} is not a valid number")


def _checked_meta(raw: bytes) -> _Meta:
    """The metadata checked as `_parse_meta` does, within typednet's limits."""
    if len(raw) > _MAX_META_BYTES:
        raise ValueError(f"metadata: {len(raw)} bytes, more than {_MAX_META_BYTES}")
    meta = _parse_meta(raw)
    total = _param_count(meta) * meta.dtype.itemsize
    if total > _MAX_PARAM_BYTES:
        raise ValueError(
            f"the metadata describes {total} bytes of params, more than typednet loads "
            f"({_MAX_PARAM_BYTES})"
        )
    return meta


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
    top = cast("dict[str, object]", value) if isinstance(value, dict) else {}
    if top.get("format") != "typednet":
        raise ValueError("metadata: not a typednet file ('format' is not \"typednet\")")
    if type(top.get("version")) is not int or top.get("version") != _VERSION:  # not True
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
    layers = cast("list[object]", layers)
    return _Meta(
        dtype=dtype,
        layers=tuple(layer_meta(layer, f"metadata layer {i}") for i, layer in enumerate(layers, 1)),
    )


# --- reading the archive ---------------------------------------------------------------


def _open_regular(path: str, expected: str) -> BufferedReader:
    """``path`` opened for reading, after checking through its descriptor that it is a
    regular file (a FIFO is refused without waiting for a writer, a device unread)."""
    # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO, socket or device"
            raise ValueError(f"{path}: not a regular file ({kind}); expected {expected}")
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _read(path: str) -> tuple[_Meta, Matrix]:
    """The checked metadata, and every param of the file at ``path`` (an .npz archive or
    a .safetensors file, told apart by their first bytes) in one read-only column of
    shape (param_count, 1), in `Network.params` order.

    Memory is the params' bytes and a constant: each array's header is checked against
    the metadata (and the metadata's total against `_MAX_PARAM_BYTES`) before any data
    is read, and its data is read, a chunk at a time, into its place in the column.
    """
    with _open_regular(path, "an .npz archive") as f:
        start = f.read(9)
        f.seek(0)
        size = os.fstat(f.fileno()).st_size
        if _safetensors.looks_like(start):
            return _read_safetensors(path, f, size)
        # Checked here: the start of a zip file (a local header, or an empty archive).
        if start[:4] not in (b"PK\x03\x04", b"PK\x05\x06"):
            raise ValueError(
                f"{path}: not an .npz archive (it does not start like a zip file) "
                "nor a .safetensors file"
            )
        try:
            archive = zipfile.ZipFile(f)
        except _READ_ERRORS as exc:
            raise ValueError(f"{path}: not a readable .npz archive ({_brief(exc)})") from None
        with archive:
            return _read_archive(path, archive, size)


def _members(path: str, archive: zipfile.ZipFile, size: int) -> dict[str, zipfile.ZipInfo]:
    """The archive's members by array name (``layer1_w`` for ``layer1_w.npy``), each one
    stored or deflated, their compressed data within the file's ``size`` bytes.

    Checked before anything is read or allocated: the arrays a file can declare are then
    at most about 1000 times its size (deflate's limit), whatever its metadata says.
    """
    members: dict[str, zipfile.ZipInfo] = {}
    for member in archive.infolist():
        name = member.filename.removesuffix(".npy")
        if name in members:
            raise ValueError(f"{path}: the archive holds {_json.brief(member.filename)} twice")
        try:
            _check_compression(member)
        except ValueError as exc:
            raise ValueError(f"{path}: array {_json.brief(name)} cannot be read ({exc})") from None
        members[name] = member
    data = sum(member.compress_size for member in members.values())
    if data > size:
        raise ValueError(
            f"{path}: not a readable .npz archive (its members hold {data} bytes, "
            f"more than the file's {size})"
        )
    return members


def _read_member(
    path: str,
    archive: zipfile.ZipFile,
    member: zipfile.ZipInfo,
    name: str,
    place: Callable[[np.dtype[Any], tuple[int, ...]], npt.NDArray[Any]],
) -> npt.NDArray[Any]:
    """Stream one .npy member into the array ``place(dtype, shape)`` gives for its header,
    and return that array.

    ``place`` checks the header against the metadata (raising `_Refused`) before any data
    is read. Exactly the bytes the header declares are read; any decoding failure is a
    ValueError naming the file and the array.
    """
    if not member.filename.endswith(".npy"):
        raise ValueError(f"{path}: {name!r} is not a .npy array")
    try:
        with archive.open(member) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"unsupported .npy format version {version}")
            out = place(dtype, shape)
            if member.file_size != f.tell() + out.nbytes:
                raise ValueError(
                    f"its size in the archive ({member.file_size} bytes) is not its header's "
                    f"plus {out.nbytes} bytes of data"
                )
            _fill(f.read, out, fortran)
            if f.read(1):  # reading to the end also checks the CRC
                raise ValueError("its data is longer than its header says")
    except _READ_ERRORS as exc:
        if isinstance(exc, _Refused):
            raise ValueError(f"{path}: {exc}") from None
        raise ValueError(f"{path}: array {name!r} cannot be read ({_brief(exc)})") from None
    return out


def _check_compression(member: zipfile.ZipInfo) -> None:
    """Refuse a member whose decompression zipfile could not bound, whose compressed data
    is longer than its declared size needs (it would decompress beyond it), or whose
    declared size is more than its compressed data can make."""
    if member.compress_type == zipfile.ZIP_STORED:
        need, most = member.file_size, member.compress_size
    elif member.compress_type == zipfile.ZIP_DEFLATED:
        # zlib's deflateBound for raw deflate, with room for other compressors' blocks;
        # deflate makes at most 258 bytes of 2 bits (1032 to 1).
        need = member.file_size + member.file_size // 1000 + 1024
        most = 1032 * member.compress_size + 1024
    else:
        # zipfile inflates bzip2 and LZMA without a limit: a 1 kB member can take gigabytes.
        method = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA"}.get(
            member.compress_type, f"method {member.compress_type}"
        )
        raise ValueError(
            f"it is compressed with {method}; typednet reads stored or deflated members "
            "(what np.savez and np.savez_compressed write)"
        )
    if member.compress_size > need:
        raise ValueError(
            f"its compressed data ({member.compress_size} bytes) is longer than its "
            f"declared size ({member.file_size} bytes) needs"
        )
    if member.file_size > most:
        raise ValueError(
            f"its declared size ({member.file_size} bytes) is more than its "
            f"{member.compress_size} bytes of compressed data can hold"
        )


def _fill(read: Callable[[int], bytes], out: npt.NDArray[Any], fortran: bool) -> None:
    """Read ``out.nbytes`` bytes with ``read`` into ``out`` (C-contiguous), `_CHUNK` at a
    time; a Fortran-ordered .npy's data is column-major."""
    into = out.data.cast("B")
    done = 0
    while done < out.nbytes:
        want = min(out.nbytes - done, _CHUNK)
        chunk = read(want)
        if len(chunk) < want:
            raise ValueError("its data is not as long as its header says")
        if fortran and out.ndim > 1:
            start = done // out.itemsize
            out.T.flat[start : start + want // out.itemsize] = np.frombuffer(chunk, out.dtype)
        else:
            into[done : done + want] = chunk
        del chunk  # before the next read: one chunk alive at a time
        done += want


class _Refused(ValueError):
    """A header that disagrees with the metadata: reported as it is."""


def _read_archive(path: str, archive: zipfile.ZipFile, size: int) -> tuple[_Meta, Matrix]:
    members = _members(path, archive, size)
    if _META not in members:
        raise ValueError(
            f"{path}: no typednet metadata (array {_META!r}); was it written by typednet.io.save?"
        )

    def place_meta(dtype: np.dtype[Any], shape: tuple[int, ...]) -> npt.NDArray[np.uint8]:
        if dtype != np.uint8 or len(shape) != 1:
            raise _Refused(f"metadata: expected a 1-D uint8 array, got {len(shape)}-D {dtype}")
        if shape[0] > _MAX_META_BYTES:
            raise _Refused(f"metadata: {shape[0]} bytes, more than {_MAX_META_BYTES}")
        return np.empty(shape, np.uint8)

    raw = _read_member(path, archive, members[_META], _META, place_meta)
    try:
        meta = _checked_meta(raw.tobytes())
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    shapes = _shapes(meta)
    _check_names(path, shapes, [name for name in members if name != _META])
    column: Matrix = np.empty((_param_count(meta), 1), meta.dtype)
    for (name, want), into in zip(shapes.items(), _split(column, shapes), strict=True):
        _read_member(path, archive, members[name], name, _place(name, meta.dtype, want, into))
    return meta, _frozen(column)


def _check_names(path: str, shapes: Mapping[str, tuple[int, int]], names: list[str]) -> None:
    """The file's arrays must be exactly those the metadata describes."""
    missing = [name for name in shapes if name not in names]
    if missing:
        raise ValueError(f"{path}: missing array {missing[0]!r}")
    extra = sorted(name for name in names if name not in shapes)
    if extra:
        raise ValueError(f"{path}: unexpected array {_json.brief(extra[0])}")


def _safetensors_header(
    path: str, f: BufferedReader, size: int
) -> tuple[dict[str, str], dict[str, _safetensors.Tensor], int]:
    try:
        return _safetensors.read_header(f, size, _MAX_HEADER_BYTES)
    except ValueError as exc:
        raise ValueError(f"{path}: not a readable .safetensors file ({exc})") from None


def _read_safetensors(path: str, f: BufferedReader, size: int) -> tuple[_Meta, Matrix]:
    """`_read` for a .safetensors file: the metadata is its ``__metadata__["typednet"]``."""
    metadata, tensors, start = _safetensors_header(path, f, size)
    raw = metadata.get(_SAFETENSORS_KEY)
    if raw is None:
        raise ValueError(
            f"{path}: a .safetensors file without typednet metadata; a PyTorch state_dict "
            "loads with tn.load_state_dict(path, like=net)"
        )
    try:
        meta = _checked_meta(raw.encode())
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    shapes = _shapes(meta)
    _check_names(path, shapes, list(tensors))
    column: Matrix = np.empty((_param_count(meta), 1), meta.dtype)
    views = _split(column, shapes)
    for (name, want), into in zip(shapes.items(), views, strict=True):
        tensor = tensors[name]
        try:  # every header against the metadata before any data is read
            _place(name, meta.dtype, want, into)(tensor.dtype.newbyteorder("="), tensor.shape)
        except _Refused as exc:
            raise ValueError(f"{path}: {exc}") from None
    for name, into in zip(shapes, views, strict=True):
        try:
            _safetensors.read_into(f, start, tensors[name], into)
        except (ValueError, OSError) as exc:
            raise ValueError(f"{path}: array {name!r} cannot be read ({_brief(exc)})") from None
    return meta, _frozen(column)


def _place(
    name: str, want_dtype: np.dtype[Any], want: tuple[int, int], into: Matrix
) -> Callable[[np.dtype[Any], tuple[int, ...]], Matrix]:
    """Check a param's .npy header against the metadata; its data goes ``into`` its view."""

    def place(dtype: np.dtype[Any], shape: tuple[int, ...]) -> Matrix:
        if dtype != want_dtype:
            raise _Refused(f"array {name!r} is {dtype}, expected {want_dtype} (the file's dtype)")
        if shape != want:
            raise _Refused(f"array {name!r} has shape {shape}, the metadata says {want}")
        return into

    return place


def _split(column: Matrix, shapes: Mapping[str, tuple[int, int]]) -> tuple[Matrix, ...]:
    """Views of ``column``, one per shape, in order (read-only if ``column`` is)."""
    ends = itertools.accumulate(math.prod(shape) for shape in shapes.values())
    return tuple(
        column[end - math.prod(shape) : end].reshape(shape)
        for shape, end in zip(shapes.values(), ends, strict=True)
    )


def _brief(exc: BaseException) -> str:
    """An exception's message on one line, at most 200 characters."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


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
            if key not in want.state_keys and saved.spec[key] != value:
                error = ShapeError if key in want.shape_keys else ValueError
                raise error(
                    f"{where} {key}: the file has {want.describe(key, saved.spec[key])}, "
                    f"like= has {want.describe(key, value)}"
                )


def _kind(layer: LayerMeta | AnyLayer) -> str:
    if isinstance(layer, Activation):
        return "activation"
    return layer.cls.kind if isinstance(layer, LayerMeta) else layer.kind


def _show(layer: LayerMeta | AnyLayer) -> str:
    if isinstance(layer, Activation):
        return layer.name if layer.param is None else f"{layer.name}({layer.param!r})"
    return _kind(layer)


def _load(path: str, like: Network[Any, Any] | None) -> tuple[_Meta, Network[Any, Any]]:
    meta, column = _read(path)
    if like is not None:
        _check_like(path, meta, like)
    views = _split(column, _shapes(meta))
    params = iter(views)
    # The layers and the network keep the column read from the file: no copy of it.
    with _adopting(column, views):
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
        ValueError: naming the file and the first problem, on one line: not a regular
            file (a folder or a FIFO: refused at once), not a readable archive, a member
            that cannot be decoded (naming it), a duplicate member, a member compressed
            with bzip2 or LZMA or whose compressed data does not fit its declared size, a
            .npy header that disagrees with the metadata (checked before any data is
            read), more than 2 GiB of params or 16 MiB of metadata, no or malformed
            metadata, an unknown version, a missing or extra array, an object
            or non-float array, NaN or inf values, parameters the layers refuse; or, with
            ``like=``, a different layer count, kind, activation or eps.
        ShapeError: with ``like=``, a different size, Dim name or dtype.

    Examples:
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
    if like is not None and not _is_network(like):
        raise TypeError(f"load: like= must be a typednet Network, got {type(like).__name__}")
    return _load(os.fspath(path), like)[1]


def load_state_dict(path: _PathLike, *, like: Network[A, B]) -> Network[A, B]:
    """Read a PyTorch ``state_dict`` saved as a .safetensors file into ``like``'s layers.

    For a stack such as ``nn.Sequential(nn.Linear(5, 3), nn.ReLU(), nn.Linear(3, 4))``
    saved with ``safetensors.torch.save_file(model.state_dict(), path)``: its modules
    with tensors (``0``, ``2``, ordered by their numbers) are matched in order with the
    layers of ``like`` that have params, ``weight`` and ``bias`` going to a layer's two
    params (a dense layer's ``w`` and ``b``, a layer norm's ``gain`` and ``shift``); a
    1-D bias of n becomes a column (n, 1). PyTorch's ``Linear.weight`` is (out, in),
    which is already (next, prev). The activations, eps values and Dim classes come from
    ``like``: the file holds no code and no architecture, so matching them is yours.
    F32 tensors load into a float64 ``like`` exactly; F64 ones into float32 are refused.
    The file is read as `load` reads one, from a checked regular file, sizes first.

    Args:
        path: the file, e.g. ``"model.safetensors"``.
        like: a network of the architecture the state_dict was trained with.

    Returns:
        ``like``'s architecture holding the file's params, with ``like``'s type.

    Raises:
        OSError: the file cannot be opened.
        ValueError: not a regular file, not a readable .safetensors file, a different
            count of modules with tensors than ``like`` has layers with params, a module
            whose tensors are not ``weight`` and ``bias``, or values the layers refuse.
        ShapeError: a tensor whose shape is not its layer's, in (next, prev) terms
            (``did you pass w.T?`` for a transposed weight), or of a wider dtype.

    Examples:
        >>> import os, tempfile
        >>> import numpy as np
        >>> import typednet as tn
        >>> from typednet import _safetensors
        >>> w = np.arange(6.0).reshape(2, 3)  # (out, in), as torch.nn.Linear(3, 2) keeps it
        >>> tensors = {"0.weight": w, "0.bias": np.ones(2)}
        >>> like = tn.network(tn.dense(np.random.default_rng(0), 3, 2, tn.relu))
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = os.path.join(folder, "model.safetensors")
        ...     with open(path, "wb") as f:
        ...         _safetensors.write(f, _safetensors.encode_header({}, tensors), tensors)
        ...     net = tn.load_state_dict(path, like=like)
        >>> net.layers[0].w
        array([[0., 1., 2.],
               [3., 4., 5.]])
    """
    if not _is_network(like):
        raise TypeError(
            f"load_state_dict: like= must be a typednet Network, got {type(like).__name__}"
        )
    name = os.fspath(path)
    with _open_regular(name, "a .safetensors file") as f:
        size = os.fstat(f.fileno()).st_size
        if not _safetensors.looks_like(f.read(9)):
            raise ValueError(f"{name}: not a .safetensors file (it does not start like one)")
        _, tensors, start = _safetensors_header(name, f, size)
        modules = _modules(tensors)
        owners = [
            (i, layer)
            for i, layer in enumerate(like.layers, 1)
            if isinstance(layer, Layer) and layer.param_names
        ]
        if len(modules) != len(owners):
            listed = ", ".join(_json.clip(prefix) for prefix, _ in modules[:10])
            raise ValueError(
                f"{name}: {len(modules)} modules with tensors ({listed or 'none'}), "
                f"like= has {len(owners)} layers with params"
            )
        layers = list(like.layers)
        for (prefix, entries), (i, layer) in zip(modules, owners, strict=True):
            params = _state_params(name, f, start, prefix, entries, i, layer, like.dtype)
            try:
                layers[i - 1] = type(layer).from_spec(layer.spec(), params, layer)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{name}: layer {i} ({prefix}): {exc}") from None
    return cast("Network[A, B]", Network(tuple(layers)))  # like's layers: its dims


_TORCH_NAMES = ("weight", "bias")
"""The tensors of a PyTorch module, in the order of a typednet layer's two params."""


def _modules(
    tensors: Mapping[str, _safetensors.Tensor],
) -> list[tuple[str, dict[str, _safetensors.Tensor]]]:
    """The tensors grouped by module (``0.weight`` is module ``0``'s ``weight``), the
    modules in PyTorch's order (``2`` before ``10``, as nn.Sequential numbers them)."""
    grouped: dict[str, dict[str, _safetensors.Tensor]] = {}
    for key, tensor in tensors.items():
        prefix, _, field = key.rpartition(".")
        grouped.setdefault(prefix, {})[field] = tensor

    def order(prefix: str) -> tuple[tuple[int, int, str], ...]:
        return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in prefix.split("."))

    return sorted(grouped.items(), key=lambda item: order(item[0]))


def _state_params(
    path: str,
    f: BufferedReader,
    start: int,
    prefix: str,
    entries: Mapping[str, _safetensors.Tensor],
    i: int,
    layer: Layer[Any, Any],
    dtype: np.dtype[Any],
) -> tuple[Matrix, ...]:
    """Module ``prefix``'s weight and bias as ``layer``'s params, shapes checked first."""
    where = f"{path}: module {_json.brief(prefix)} (layer {i}, {layer.kind})"
    if len(layer.param_names) != len(_TORCH_NAMES) or sorted(entries) != sorted(_TORCH_NAMES):
        raise ValueError(
            f"{where}: holds {', '.join(_json.brief(k) for k in sorted(entries))}; "
            f"expected weight and bias for its params {', '.join(layer.param_names)}"
        )
    params: list[Matrix] = []
    for field, param, want in zip(_TORCH_NAMES, layer.param_names, layer.params, strict=True):
        tensor = entries[field]
        got = tensor.shape if len(tensor.shape) != 1 else (tensor.shape[0], 1)
        if got != want.shape:
            column = want.shape[1] == 1
            axes = "(next, 1)" if column else "(next, prev)"
            hint = "; did you pass w.T?" if not column and got == want.shape[::-1] else ""
            raise ShapeError(
                f"{where} {field} (its {param}): expected {axes} = {want.shape}, "
                f"got {tensor.shape}{hint}"
            )
        native = tensor.dtype.newbyteorder("=")
        if native.itemsize > dtype.itemsize:
            raise ShapeError(
                f"{where} {field}: the file has {native}, like= has {dtype}; "
                f"build like= with dtype {native} to load it"
            )
        out: npt.NDArray[Any] = np.empty(got, native)
        try:
            _safetensors.read_into(f, start, tensor, out)
        except (ValueError, OSError) as exc:
            raise ValueError(f"{where} {field} cannot be read ({_brief(exc)})") from None
        params.append(out.astype(dtype, copy=False))
    return tuple(params)


def info(path: _PathLike) -> str:
    """Describe a saved network (architecture, dims, dtype, parameter count), checked.

    The file is read and validated as by `load`; no ``like=`` is needed. The first line
    is the network as ``repr`` shows it plus the dtype; then one line per layer with the
    saved Dim names.

    Args:
        path: the file, e.g. ``"model.npz"``.

    Examples:
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
