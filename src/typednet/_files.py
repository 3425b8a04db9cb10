"""Atomic file writes, shared by everything typednet saves."""

import contextlib
import os
import secrets
import stat
from collections.abc import Callable
from typing import BinaryIO

__all__ = ["write_atomically"]


def write_atomically(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> None:
    """Call ``write(file)`` on a temporary file next to ``path``, then move it there.

    Readers see the old file or the whole new one, never a partial file: on any failure
    (an exception, Ctrl-C) the temporary file is removed and the old file is intact.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    # A unique hidden name next to the target (its start only: names have a length limit).
    tmp = os.path.join(folder, f".{os.path.basename(path)[:100]}.{secrets.token_hex(8)}.tmp")
    # os.open with 0o666 lets the umask apply, as open() would (mkstemp forces 0o600).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileNotFoundError):  # an overwritten file keeps its mode
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if os.name == "posix":  # make the rename itself durable
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
