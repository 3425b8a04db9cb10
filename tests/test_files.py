import errno
import fcntl
import re
import subprocess
import sys
from pathlib import Path
from typing import BinaryIO

import pytest

import typednet as tn
from typednet._files import replace_folder, write_atomically


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


# --- issue 11: killed writers, and messages that name the target --------------------------


def _killed_writer(target: Path) -> Path:
    """Run a write in another process, kill -9 it mid-write, return its temporary file."""
    code = (
        "import sys, time\n"
        "from typednet._files import write_atomically\n"
        "def slow(f):\n"
        "    f.write(b'half'); f.flush(); print('writing', flush=True); time.sleep(60)\n"
        "write_atomically(sys.argv[1], slow)\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE)
    assert writer.stdout is not None
    assert writer.stdout.readline() == b"writing\n"
    writer.kill()
    writer.wait()
    writer.stdout.close()
    (left,) = (p for p in target.parent.iterdir() if p.name.endswith(".tmp"))
    assert re.fullmatch(rf"\.{re.escape(target.name)}\.[0-9a-f]{{16}}\.tmp", left.name)
    return left


def test_the_next_write_removes_the_temporaries_of_killed_writers(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    left = [_killed_writer(target)]
    left.append(_killed_writer(target))  # the second writer's start removed the first's
    assert not left[0].exists() and left[1].exists()
    assert target.read_bytes() == b"old"
    write_atomically(target, lambda f: f.write(b"new"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]
    assert target.read_bytes() == b"new"


def test_a_live_writers_temporary_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    mine = tmp_path / ".out.bin.0123456789abcdef.tmp"
    mine.write_bytes(b"being written")
    other = tmp_path / ".other.bin.0123456789abcdef.tmp"  # another target's: not ours
    other.write_bytes(b"x")
    with open(mine, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as its writer holds it
        write_atomically(target, lambda f: f.write(b"new"))
    assert mine.exists() and other.exists()


def test_a_failed_write_names_the_target_not_the_temporary(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "net.npz"
    with pytest.raises(
        FileNotFoundError, match=rf"No such file or directory: '{re.escape(str(target))}'$"
    ):
        write_atomically(target, lambda f: f.write(b"new"))
    with pytest.raises(FileNotFoundError, match=rf": '{re.escape(str(target))}'$"):
        tn.save(target, tn.network(tn.layer_norm(2)))

    def full(f: BinaryIO) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(
        OSError, match=rf"No space left on device: '{re.escape(str(tmp_path / 'x'))}'$"
    ):
        write_atomically(tmp_path / "x", full)


def test_replace_folder_keeps_the_old_folder_whole_when_interrupted(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "a.txt").write_text("old a")

    def half(folder: str) -> None:
        Path(folder, "a.txt").write_text("new a")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        replace_folder(out, half)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert (out / "a.txt").read_text() == "old a"
    replace_folder(out, lambda folder: Path(folder, "b.txt").write_text("new b"))
    assert sorted(p.name for p in out.iterdir()) == ["b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_an_error_about_another_file_keeps_that_files_name(tmp_path: Path) -> None:
    """Only errors about the temporary file are renamed to the target."""
    target = tmp_path / "out.csv"

    def write(f: BinaryIO) -> None:
        (tmp_path / "missing-input.csv").read_bytes()

    with pytest.raises(FileNotFoundError, match=r"missing-input\.csv"):
        write_atomically(target, write)
    assert not target.exists() and list(tmp_path.iterdir()) == []
