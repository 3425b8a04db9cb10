from pathlib import Path
from typing import BinaryIO

import pytest

from typednet._files import write_atomically


def test_writes_the_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    write_atomically(target, lambda f: f.write(b"new"))
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, error: BaseException
) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    def half_then_fail(f: BinaryIO) -> None:
        f.write(b"ne")
        raise error

    with pytest.raises(type(error)):
        write_atomically(target, half_then_fail)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_an_overwritten_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    target.chmod(0o600)
    write_atomically(target, lambda f: f.write(b"new"))
    assert target.stat().st_mode & 0o777 == 0o600
