"""Files typednet writes and reads, done safely: atomic writes that replace only regular
files, and data files that are refused when they are devices."""

import contextlib
import os
import re
import secrets
import shutil
import stat
import sys
from collections.abc import Callable, Generator
from typing import BinaryIO, cast

__all__ = ["check_target", "not_an_input", "open_data", "replace_folder", "write_atomically"]

if sys.platform != "win32":
    import fcntl


def write_atomically(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> None:
    """Call ``write(file)`` on a temporary file next to ``path``, then move it there.

    Readers see the old file or the whole new one, never a partial file: on any failure
    (an exception, Ctrl-C) the temporary file is removed and the old file is intact. A
    writer killed outright (kill -9, a power cut) cannot clean up: its temporary file is
    removed by a later write to the same ``path`` once no process holds its lock.

    Only a regular file is replaced, or a symbolic link's target when that is a regular
    file (the link stays, as ``open(path, "w")`` would write through it); anything else
    at ``path`` (see `check_target`) is an OSError, and nothing is written. The new
    file's mode is the old one's without setuid, setgid and sticky bits, and without
    group and other write bits when another user owned the old file; a new file gets
    0o666 less the umask. An OSError names ``path``, not the temporary file.
    """
    name = os.fspath(path)
    target = check_target(name)[0]
    folder = os.path.dirname(target)
    remove_stale(folder, os.path.basename(target))
    tmp = _temporary(target)
    try:
        # os.open with 0o666 lets the umask apply, as open() would (mkstemp forces 0o600).
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_BINARY", 0)
        fd = os.open(tmp, flags, 0o666)
    except OSError as exc:
        raise _naming(exc, name) from None
    try:
        _lock(fd)  # held until the file is in place: a later writer sees it is not stale
        with os.fdopen(fd, "wb", closefd=False) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        now, old = check_target(name)  # again: what is at path may have changed meanwhile
        if now != target:
            raise OSError(f"{name}: changed while it was written; nothing was written")
        if old is not None:
            os.chmod(tmp, _mode(old))
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        # Name the target for errors about the temporary file, not for those of other
        # files the writer reads (an input that does not exist keeps its own name).
        if isinstance(exc, OSError) and exc.errno is not None and exc.filename in (None, tmp):
            raise _naming(exc, name) from None
        raise
    finally:
        os.close(fd)
    if os.name == "posix":  # make the rename itself durable
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def check_target(path: str) -> tuple[str, os.stat_result | None]:
    """The file `write_atomically` replaces for ``path``, and its status (None if absent).

    That is ``path`` when nothing or a regular file is there, or the regular file a
    symbolic link there leads to. Raises OSError, naming what is there, for a folder, a
    FIFO, a socket, a device, a link to one of those or to a missing file, and (as
    Linux's ``fs.protected_symlinks`` does for ``open``) a link of another user in a
    folder anyone may write to, like /tmp.
    """
    try:
        found = os.lstat(path)
    except FileNotFoundError:  # (a missing folder is reported when the file is created)
        return os.path.abspath(path), None
    if stat.S_ISREG(found.st_mode):
        return os.path.abspath(path), found
    if not stat.S_ISLNK(found.st_mode):
        raise OSError(f"{path}: not a regular file ({_kind(found)}); nothing was written")
    _may_follow(path, found)
    link = os.readlink(path)
    try:
        target = os.stat(path)
    except FileNotFoundError:
        message = f"{path}: a symbolic link to a missing file ({link}); nothing was written"
        raise OSError(message) from None
    if not stat.S_ISREG(target.st_mode):
        raise OSError(f"{path}: a symbolic link to {_kind(target)} ({link}); nothing was written")
    real = os.path.realpath(path)
    if not os.path.samestat(os.stat(real), target):  # /proc/self/fd/N and the like
        raise OSError(
            f"{path}: a symbolic link that leads nowhere on the file system; nothing was written"
        )
    return real, target


def _kind(found: os.stat_result) -> str:
    """What a file system entry is, for messages: ``a FIFO``, ``a character device``, ..."""
    mode = found.st_mode
    for test, name in (
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISLNK, "a symbolic link"),
    ):
        if test(mode):
            return name
    return "an unknown kind of file"


def _may_follow(path: str, link: os.stat_result) -> None:
    """Refuse a link of another user in a sticky, world-writable folder (/tmp): the rule
    of Linux's fs.protected_symlinks, which a rename would otherwise get around (root
    would write through a link that anyone planted there, to any file)."""
    if sys.platform == "win32":
        return
    folder = os.stat(os.path.dirname(os.path.abspath(path)))
    shared = stat.S_ISVTX | stat.S_IWOTH
    if folder.st_mode & shared == shared and link.st_uid not in (os.geteuid(), folder.st_uid):
        raise OSError(
            f"{path}: a symbolic link of another user (uid {link.st_uid}) in a folder anyone "
            "may write to (sticky, like /tmp); nothing was written"
        )


def _mode(old: os.stat_result) -> int:
    """The replacing file's mode: the old one's, less what it must not carry over."""
    mode = stat.S_IMODE(old.st_mode) & 0o777  # never setuid, setgid or sticky
    if sys.platform != "win32" and old.st_uid != os.geteuid():
        mode &= ~0o022  # another user's file: its group and others do not get to write ours
    return mode


def not_an_input(out: str, label: str, inputs: dict[str, str]) -> None:
    """Raise ValueError when ``out`` is one of ``inputs`` (label: path), the same file by
    any name (a link, a hard link): writing it would destroy that input."""
    for what, source in inputs.items():
        with contextlib.suppress(OSError):  # either does not exist: not the same file
            if os.path.samefile(out, source):
                raise ValueError(
                    f"{label} {out} is the {what} {source}: writing it would destroy the "
                    f"input; choose another {label}"
                )


def open_data(path: str | os.PathLike[str], expected: str) -> BinaryIO:
    """``path`` opened for reading, if it is a regular file or a pipe (a FIFO).

    A device (``/dev/zero`` never ends), socket or folder is refused before it is opened
    (opening some devices does something); ``expected`` ends the message, e.g. ``"a CSV
    file"``.
    """
    name = os.fspath(path)
    found = os.stat(name)
    if not (stat.S_ISREG(found.st_mode) or stat.S_ISFIFO(found.st_mode)):
        raise OSError(f"{name}: not a regular file or a pipe ({_kind(found)}); expected {expected}")
    f = open(name, "rb")  # noqa: SIM115  # the caller closes it
    opened = os.fstat(f.fileno())
    if not os.path.samestat(found, opened):  # replaced between the two calls
        f.close()
        raise OSError(f"{name}: changed while it was opened")
    return f


def replace_folder(path: str | os.PathLike[str], fill: Callable[[str], object]) -> None:
    """Call ``fill(folder)`` on a new temporary folder next to ``path``, then put it there.

    A run interrupted in ``fill`` (an exception, Ctrl-C, kill -9) leaves a folder already
    at ``path`` as it was, whole; the temporary folder is removed (after kill -9: by the
    next call for the same ``path``). At the end the old folder is moved aside, the new
    one renamed into place, and the old one deleted: two renames, microseconds apart.
    Anything at ``path`` but a folder (a symbolic link to one included) is an OSError.
    """
    path = os.fspath(path)
    with contextlib.suppress(FileNotFoundError):
        found = os.lstat(path)
        if not stat.S_ISDIR(found.st_mode):
            raise OSError(f"{path}: not a folder ({_kind(found)}); nothing was written")
    folder = os.path.dirname(os.path.abspath(path))
    remove_stale(folder, os.path.basename(path))
    tmp = _temporary(path) + ".d"
    try:
        os.mkdir(tmp)
    except OSError as exc:
        raise _naming(exc, path) from None
    with contextlib.ExitStack() as locks:
        locks.enter_context(_locked_folder(tmp))
        try:
            fill(tmp)
            old = _temporary(path) + ".d"
            had_old = os.path.isdir(path)
            if had_old:
                locks.enter_context(_locked_folder(path))  # moved aside: not anyone's stale
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


def _temporary(path: str) -> str:
    """A fresh temporary name next to ``path``: ``.{name}.{random}.tmp``, hidden and
    unique (only the name's start is kept: file names have a length limit)."""
    folder, base = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f"{_prefix(base)}{secrets.token_hex(8)}.tmp")


def _prefix(base: str) -> str:
    return f".{base[:100]}."


_STALE = re.compile(r"[0-9a-f]{16}\.tmp(\.d)?", re.ASCII)


def _lock(fd: int) -> None:
    """Hold an exclusive lock on ``fd`` while it is open, where the file system allows."""
    if sys.platform != "win32":
        with contextlib.suppress(OSError):  # no locks here: then no one removes the file
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


@contextlib.contextmanager
def _locked_folder(path: str) -> Generator[None]:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_DIRECTORY", 0))
    try:
        _lock(fd)
        yield
    finally:
        os.close(fd)


def remove_stale(folder: str, base: str) -> None:
    """Remove the temporary files (or ``.tmp.d`` folders) for ``base`` in ``folder`` that
    killed writers left: those whose lock anyone can take. Best effort: whatever may be
    in use is kept.

    A lock, not a process id, tells: a process id means nothing across containers or
    hosts sharing the folder, while the kernel drops a killed writer's lock at once.
    Where the file system cannot lock for us (a read-only descriptor on NFS), nothing
    is removed.
    """
    if sys.platform == "win32":
        return
    prefix = _prefix(base)
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if not entry.name.startswith(prefix):
                continue
            found = _STALE.fullmatch(entry.name[len(prefix) :])
            if found is None:
                continue
            with contextlib.suppress(OSError):  # in use, gone, or not ours to open
                _remove_if_unlocked(entry.path, is_folder=found.group(1) is not None)


def _remove_if_unlocked(path: str, *, is_folder: bool) -> None:
    # O_NOFOLLOW, O_NONBLOCK: a link or a FIFO planted under such a name is not opened.
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if not (stat.S_ISDIR(mode) if is_folder else stat.S_ISREG(mode)):
            return
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError: its writer runs
        if is_folder:
            shutil.rmtree(path)
        else:
            os.unlink(path)
    finally:
        os.close(fd)


def _naming(exc: OSError, path: str) -> OSError:
    """The same error (and OSError subclass) about ``path`` instead of the temporary file."""
    assert exc.errno is not None
    return OSError(exc.errno, exc.strerror, path)
