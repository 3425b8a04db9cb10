"""Atomic file writes, shared by everything typednet saves."""

import contextlib
import os
import re
import secrets
import shutil
import stat
from collections.abc import Callable
from typing import BinaryIO, cast

__all__ = ["remove_stale", "replace_folder", "write_atomically", "writer_is_gone"]


def write_atomically(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> None:
    """Call ``write(file)`` on a temporary file next to ``path``, then move it there.

    Readers see the old file or the whole new one, never a partial file: on any failure
    (an exception, Ctrl-C) the temporary file is removed and the old file is intact. A
    writer killed outright (kill -9, a power cut) cannot clean up: its temporary file is
    named after its process id, and the next write to the same ``path`` removes it once
    that process is gone. An OSError names ``path``, not the temporary file.
    """
    path = os.fspath(path)
    folder, tmp, prefix = _temporary(path)
    remove_stale(folder, prefix)
    try:
        # os.open with 0o666 lets the umask apply, as open() would (mkstemp forces 0o600).
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as exc:
        raise _naming(exc, path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileNotFoundError):  # an overwritten file keeps its mode
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        # Name the target for errors about the temporary file, not for those of other
        # files the writer reads (an input that does not exist keeps its own name).
        if isinstance(exc, OSError) and exc.errno is not None and exc.filename in (None, tmp):
            raise _naming(exc, path) from None
        raise
    if os.name == "posix":  # make the rename itself durable
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def replace_folder(path: str | os.PathLike[str], fill: Callable[[str], object]) -> None:
    """Call ``fill(folder)`` on a new temporary folder next to ``path``, then put it there.

    A run interrupted in ``fill`` (an exception, Ctrl-C, kill -9) leaves a folder already
    at ``path`` as it was, whole; the temporary folder is removed (after kill -9: by the
    next call for the same ``path``). At the end the old folder is moved aside, the new
    one renamed into place, and the old one deleted: two renames, microseconds apart.
    """
    path = os.fspath(path)
    folder, tmp, prefix = _temporary(path)
    remove_stale(folder, prefix)
    tmp += ".d"
    try:
        os.mkdir(tmp)
    except OSError as exc:
        raise _naming(exc, path) from None
    try:
        fill(tmp)
        old = _temporary(path)[1] + ".d"
        had_old = os.path.isdir(path)
        if had_old:
            os.rename(path, old)
        try:
            os.rename(tmp, path)
        except BaseException:
            if had_old:
                os.rename(old, path)
            raise
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError) and exc.errno is not None:
            filename: object = exc.filename  # OSError leaves it untyped
            # (bytes paths too: fspath keeps them bytes, and they name no path below)
            path_like = cast("str | os.PathLike[str]", filename)
            name = os.fspath(path_like) if isinstance(filename, str | os.PathLike) else tmp
            if isinstance(name, str) and name.startswith(tmp):  # name the final path
                raise _naming(exc, path + name[len(tmp) :]) from None
        raise
    if had_old:
        shutil.rmtree(old, ignore_errors=True)


def _temporary(path: str) -> tuple[str, str, str]:
    """The folder, a fresh temporary name next to ``path``, and every such name's start.

    ``.{name}.{pid}-{random}.tmp``: hidden, unique, and naming its writer's process (only
    the name's start is kept: file names have a length limit).
    """
    folder = os.path.dirname(os.path.abspath(path))
    prefix = f".{os.path.basename(path)[:100]}."
    tmp = os.path.join(folder, f"{prefix}{os.getpid()}-{secrets.token_hex(8)}.tmp")
    return folder, tmp, prefix


_STALE = re.compile(r"(\d+)-[0-9a-f]{16}\.tmp(\.d)?", re.ASCII)


def remove_stale(folder: str, prefix: str) -> None:
    """Remove ``{prefix}{pid}-{random}.tmp`` files (or ``.tmp.d`` folders) in ``folder``
    whose writing process is gone; best effort, POSIX only."""
    if os.name != "posix":  # os.kill(pid, 0) would end the process on Windows
        return
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if not entry.name.startswith(prefix):
                continue
            found = _STALE.fullmatch(entry.name[len(prefix) :])
            if found is None or not writer_is_gone(int(found.group(1))):
                continue
            with contextlib.suppress(OSError):
                if found.group(2):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)


def writer_is_gone(pid: int) -> bool:
    """Whether no process ``pid`` runs on this machine (a reused pid counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, ValueError):
        return pid <= 0
    return False


def _naming(exc: OSError, path: str) -> OSError:
    """The same error (and OSError subclass) about ``path`` instead of the temporary file."""
    assert exc.errno is not None
    return OSError(exc.errno, exc.strerror, path)
