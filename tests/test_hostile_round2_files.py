"""Issue 24, files: the writer never destroys what it writes onto (item 1), the command
line's readers refuse devices and bound what they read (item 2), and ``predict`` and
``train-wine`` are safe with real files (item 5).

Devices, FIFOs and sockets are stand-ins made in ``tmp_path`` (we run as root: the
machine's own /dev entries are never opened). A device made with ``os.mknod`` and the
numbers of /dev/null (1, 3) or /dev/zero (1, 5) behaves as they do.
"""

import contextlib
import fcntl
import io
import json
import os
import pty
import re
import socket
import stat
import subprocess
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
import pandas as pd
import pytest

import typednet as tn
from typednet._files import replace_folder, write_atomically
from typednet.apps import cli
from typednet.apps.cli import main
from typednet.apps.predict import predict_csv
from typednet.apps.wine_data import load_wine_quality

from .test_wine_data import WHITE

TYPEDNET = Path(sys.executable).with_name("typednet")
OTHER_UID = 54321  # no user of this machine


def _main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue(), err.getvalue()


def _run(*argv: str, **options: Any) -> subprocess.CompletedProcess[bytes]:
    """The installed ``typednet`` command, in a process of its own, within 60 s."""
    options = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **options}
    return subprocess.run([str(TYPEDNET), *argv], timeout=60, check=False, **options)


def _net() -> tn.Network[Any, Any]:
    return tn.network(tn.layer_norm(2))


# --- 1. the writer never destroys what it writes onto ------------------------------------------


@contextlib.contextmanager
def _socket(path: Path) -> Generator[Path]:
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        yield path


def _identity(path: Path) -> tuple[int, int, int]:
    """What must not change: the entry's type and mode, its device number, its inode."""
    entry = os.lstat(path)
    return entry.st_mode, entry.st_rdev, entry.st_ino


def _only_entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("fifo", "not a regular file (a FIFO)"),
        ("null", "not a regular file (a character device)"),  # /dev/null's numbers
        ("socket", "not a regular file (a socket)"),
        ("folder", "not a regular file (a folder)"),
        ("link to null", "a symbolic link to a character device (null)"),
        ("link to fifo", "a symbolic link to a FIFO (fifo)"),  # as /dev/stdout in a pipe
        ("dangling link", "a symbolic link to a missing file (nowhere)"),
    ],
)
def test_1_what_is_not_a_regular_file_is_refused_and_left_as_it_is(
    tmp_path: Path, kind: str, message: str
) -> None:
    os.mkfifo(tmp_path / "fifo")
    os.mknod(tmp_path / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    (tmp_path / "folder").mkdir()
    for name, to in [
        ("link to null", "null"),
        ("link to fifo", "fifo"),
        ("dangling link", "nowhere"),
    ]:
        os.symlink(to, tmp_path / name)
    with _socket(tmp_path / "socket"):
        target = tmp_path / kind
        before = _identity(target)
        entries = _only_entries(tmp_path)
        expected = re.escape(f"{target}: {message}; nothing was written")
        for write in (
            lambda: tn.save(target, _net()),  # was: the FIFO or device replaced by the file
            lambda: write_atomically(target, lambda f: f.write(b"new")),
            lambda: tn.to_onnx(_net(), target),
            lambda: tn.plot_history(_history(), target),
        ):
            with pytest.raises(OSError, match=f"^{expected}$"):
                write()
            assert _identity(target) == before
            assert _only_entries(tmp_path) == entries  # and no temporary file left


def _history() -> tn.History[Any, Any]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 8))
    fitted = tn.fit(
        _net(), x, x, loss=tn.mse, optimizer=tn.sgd(0.1), epochs=1, batch_size=8, rng=rng,
        progress=False,
    )  # fmt: skip
    return fitted[1]


@pytest.mark.parametrize("kind", ["fifo", "file", "link to a folder"])
def test_1_replace_folder_replaces_only_a_folder(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "run"
    (tmp_path / "elsewhere").mkdir()
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "file":
        target.write_bytes(b"old")
    else:
        target.symlink_to(tmp_path / "elsewhere")
    before = _identity(target)
    what = {"fifo": "a FIFO", "file": "a regular file", "link to a folder": "a symbolic link"}
    with pytest.raises(
        OSError,
        match=f"^{re.escape(f'{target}: not a folder ({what[kind]}); nothing was written')}$",
    ):
        replace_folder(target, lambda folder: Path(folder, "a.txt").write_text("new"))
    assert _identity(target) == before
    assert _only_entries(tmp_path) == ["elsewhere", "run"]  # was: a folder left beside it
    assert _only_entries(tmp_path / "elsewhere") == []


def test_1_a_symbolic_link_to_a_regular_file_is_written_through(tmp_path: Path) -> None:
    (tmp_path / "runs").mkdir()
    real = tmp_path / "runs" / "net.npz"
    real.write_bytes(b"old")
    real.chmod(0o640)
    link = tmp_path / "latest.npz"
    link.symlink_to(Path("runs") / "net.npz")
    tn.save(link, _net())  # as open(link, "w") would: the link stays, its target is new
    assert link.is_symlink() and os.readlink(link) == os.path.join("runs", "net.npz")
    assert repr(tn.load(real)) == repr(_net())
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert _only_entries(tmp_path) == ["latest.npz", "runs"]
    assert _only_entries(tmp_path / "runs") == ["net.npz"]


def test_1_another_users_link_in_a_shared_folder_is_not_followed(tmp_path: Path) -> None:
    """As Linux's fs.protected_symlinks does for open(): in a sticky world-writable folder
    (/tmp), a link that neither we nor the folder's owner own is not followed."""
    shared = tmp_path / "tmp"
    shared.mkdir()
    shared.chmod(0o1777)
    victim = tmp_path / "passwd"
    victim.write_bytes(b"root:x:0:0")
    link = shared / "model.npz"
    link.symlink_to(victim)
    os.lchown(link, OTHER_UID, OTHER_UID)
    with pytest.raises(
        OSError,
        match="^"
        + re.escape(
            f"{link}: a symbolic link of another user (uid {OTHER_UID}) in a folder anyone "
            "may write to (sticky, like /tmp); nothing was written"
        )
        + "$",
    ):
        tn.save(link, _net())
    assert victim.read_bytes() == b"root:x:0:0" and link.is_symlink()
    os.lchown(link, os.geteuid(), os.getegid())  # our own link there is followed
    tn.save(link, _net())
    assert repr(tn.load(victim)) == repr(_net())


@pytest.mark.parametrize(
    ("owner", "old", "new"),
    [
        ("me", 0o7777, 0o777),  # never setuid, setgid or sticky
        ("me", 0o664, 0o664),  # our own choices stay
        ("other", 0o6777, 0o755),  # the file: world-writable and setuid before
        ("other", 0o666, 0o644),
        ("other", 0o640, 0o640),
    ],
)
def test_1_the_new_files_mode_carries_no_special_bits_and_no_other_users_write_bits(
    tmp_path: Path, owner: str, old: int, new: int
) -> None:
    target = tmp_path / "net.npz"
    target.write_bytes(b"old")
    if owner == "other":
        os.chown(target, OTHER_UID, OTHER_UID)
    target.chmod(old)  # (after chown, which clears setuid and setgid)
    assert stat.S_IMODE(target.stat().st_mode) == old
    tn.save(target, _net())
    assert stat.S_IMODE(target.stat().st_mode) == new  # was `old`, kept as it was
    assert target.stat().st_uid == os.geteuid()


def _temporary_of(target: Path, middle: str) -> Path:
    path = target.parent / f".{target.name}.{middle}.tmp"
    path.write_bytes(b"being written")
    return path


def test_1_a_live_writers_temporary_is_never_removed_on_a_pid_test(tmp_path: Path) -> None:
    """A writer in another container (another PID namespace) or on another host sharing
    the folder: its PID means nothing here. Only a lock tells a dead writer's file."""
    target = tmp_path / "net.npz"
    pid = 2**22 + 1  # above Linux's pid_max: no process here has it
    elsewhere = _temporary_of(target, f"{pid}-0123456789abcdef")  # the old naming
    live = _temporary_of(target, "fedcba9876543210")
    dead = _temporary_of(target, "00112233445566aa")
    with open(elsewhere, "rb+") as first, open(live, "rb+") as second:
        fcntl.flock(first, fcntl.LOCK_EX)  # as their writers hold them
        fcntl.flock(second, fcntl.LOCK_EX)
        tn.save(target, _net())
        assert elsewhere.exists()  # was removed: its pid is not running here
        assert live.exists()
        assert not dead.exists()  # no lock: its writer is gone
    tn.save(target, _net())
    assert _only_entries(tmp_path) == sorted([elsewhere.name, "net.npz"])


# --- 1 and issue 22, on the command line: `-`, and an output that is an input -----------------


def _classifier(dtype: type[np.floating[Any]] = np.float64) -> tn.Network[Any, Any]:
    rng = np.random.default_rng(7)
    return tn.network(tn.dense(rng, 3, 5, tn.relu, dtype=dtype)).then(
        tn.dense(rng, 5, 4, tn.softmax, dtype=dtype)
    )


def _by_hand(net: tn.Network[Any, Any], x: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """relu then softmax written out: the classifier's probabilities, (4, batch)."""
    w1, b1, w2, b2 = (p.astype(np.float64) for p in net.params)
    z = w2 @ np.maximum(w1 @ x + b1, 0.0) + b2
    e = np.exp(z - z.max(axis=0))
    out: npt.NDArray[Any] = e / e.sum(axis=0)
    return out


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    path = tmp_path / "net.npz"
    tn.save(path, _classifier())
    return path


def _samples(n: int) -> npt.NDArray[np.float64]:
    return np.random.default_rng(0).normal(0, 2, (3, n))


def _rows(x: npt.NDArray[Any]) -> str:
    return "".join(",".join(repr(float(v)) for v in sample) + "\n" for sample in x.T)


def test_1_out_dash_writes_the_predictions_to_standard_output(tmp_path: Path, saved: Path) -> None:
    x = _samples(5)
    data = tmp_path / "data.csv"
    data.write_text(_rows(x))
    done = _run("predict", str(saved), str(data), "--out", "-", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, b"")
    lines = done.stdout.decode().splitlines()  # no "wrote ..." among the predictions
    assert lines[0] == "class,p0,p1,p2,p3"
    table = np.loadtxt(lines[1:], delimiter=",", ndmin=2)
    np.testing.assert_allclose(table[:, 1:], _by_hand(_classifier(), x).T, rtol=1e-13)
    assert _only_entries(tmp_path) == ["data.csv", "net.npz"]  # was: a file named '-'


def test_1_export_dash_writes_the_model_to_a_pipe_never_to_a_terminal(
    tmp_path: Path, saved: Path
) -> None:
    done = _run("export", str(saved), "-", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout == tn.to_onnx(_classifier()).SerializeToString()
    assert [n.op_type for n in onnx.load_from_string(done.stdout).graph.node] == [
        "Gemm", "Relu", "Gemm", "Softmax"
    ]  # fmt: skip
    parent, child = pty.openpty()
    try:
        tty = _run("export", str(saved), "-", stdout=child, cwd=tmp_path)
    finally:
        os.close(child)
        os.close(parent)
    assert tty.returncode == 1
    assert tty.stderr == (
        b"typednet: error: MODEL.onnx -: standard output is a terminal; "
        b"redirect it to a file (> model.onnx) or a pipe\n"
    )
    assert _only_entries(tmp_path) == ["net.npz"]


def test_1_out_dev_stdout_is_refused_with_the_way_to_standard_output(
    tmp_path: Path, saved: Path
) -> None:
    os.mkfifo(tmp_path / "pipe")
    stdout = tmp_path / "stdout"
    stdout.symlink_to(tmp_path / "pipe")  # as /dev/stdout -> /proc/self/fd/1 -> a pipe
    data = tmp_path / "data.csv"
    data.write_text("1,2,3\n")
    status, out, err = _main("predict", str(saved), str(data), "--out", str(stdout))
    assert (status, out) == (1, "")
    assert err == (
        f"typednet: error: {stdout}: a symbolic link to a FIFO ({tmp_path / 'pipe'}); nothing "
        "was written; --out - writes to standard output\n"
    )
    assert stdout.is_symlink()  # was replaced by a regular file


@pytest.mark.parametrize("which", ["data", "net", "a hard link to the data"])
def test_1_predict_refuses_to_write_onto_its_input(tmp_path: Path, saved: Path, which: str) -> None:
    data = tmp_path / "data.csv"
    data.write_text("1,2,3\n")
    if which == "a hard link to the data":
        os.link(data, tmp_path / "same.csv")
    out = {"data": data, "net": saved, "a hard link to the data": tmp_path / "same.csv"}[which]
    inputs = {p: p.read_bytes() for p in (data, saved)}
    status, _, err = _main("predict", str(saved), str(data), "--out", str(out))
    assert status == 1
    what = "NET.npz" if which == "net" else "DATA.csv"
    source = saved if which == "net" else data
    assert err == (
        f"typednet: error: --out {out} is the {what} {source}: writing it would destroy "
        "the input; choose another --out\n"
    )
    assert {p: p.read_bytes() for p in inputs} == inputs  # was overwritten by the predictions


def test_1_export_refuses_to_write_onto_its_input(saved: Path) -> None:
    before = saved.read_bytes()
    status, _, err = _main("export", str(saved), str(saved))
    assert status == 1
    assert err == (
        f"typednet: error: MODEL.onnx {saved} is the NET.npz {saved}: writing it would "
        "destroy the input; choose another MODEL.onnx\n"
    )
    assert saved.read_bytes() == before  # was replaced by the ONNX model


def test_1_train_wine_refuses_an_out_folder_holding_its_data(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    data = out / "network.npz"  # a name of the run's files: the folder check passes it
    data.write_bytes(WHITE.read_bytes()[:20_000].rsplit(b"\n", 1)[0] + b"\n")
    status, _, err = _main("train-wine", "--data", str(data), "--out", str(out), "--quiet")
    assert status == 1
    assert err == (
        f"typednet: error: --out {out} holds the --data file {data}: the folder is replaced "
        "as a whole, so choose another --out\n"
    )
    assert _only_entries(out) == ["network.npz"]


# --- 2. the command line's readers: devices, long lines, MemoryError, long cells ----------------


def _limited(gib: int) -> None:
    """In the child: at most ``gib`` GiB of address space, so a reader gone wrong fails fast."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (gib * 2**30, gib * 2**30))


def test_2_a_device_as_data_is_refused_before_it_is_read(tmp_path: Path, saved: Path) -> None:
    zero = tmp_path / "zero"
    os.mknod(zero, stat.S_IFCHR | 0o666, os.makedev(1, 5))  # /dev/zero's numbers: endless zeros
    for argv in (
        ["predict", str(saved), str(zero), "--out", str(tmp_path / "p.csv")],
        ["train-wine", "--data", str(zero), "--out", str(tmp_path / "run"), "--quiet"],
    ):
        done = _run(*argv, preexec_fn=lambda: _limited(1))  # was: read until memory ran out
        assert done.returncode == 1
        assert done.stderr.decode() == (
            f"typednet: error: {zero}: not a regular file or a pipe (a character device); "
            "expected a CSV file\n"
        )
    assert _only_entries(tmp_path) == ["net.npz", "zero"]


def test_2_a_fifo_is_still_read(tmp_path: Path, saved: Path) -> None:
    x = _samples(3)
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    writer = subprocess.Popen(["sh", "-c", f"cat > '{fifo}'"], stdin=subprocess.PIPE)
    assert writer.stdin is not None
    writer.stdin.write(_rows(x).encode())
    writer.stdin.close()
    try:
        assert predict_csv(_classifier(), fifo, tmp_path / "p.csv") == 3
    finally:
        writer.wait(timeout=10)
    table = np.loadtxt(tmp_path / "p.csv", delimiter=",", skiprows=1, ndmin=2)
    np.testing.assert_allclose(table[:, 1:], _by_hand(_classifier(), x).T, rtol=1e-13)


def _peak(call: Any) -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        with contextlib.suppress(ValueError):
            call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_2_a_line_is_bounded_before_it_is_read_whole(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    with open(data, "w") as f:
        f.write("1,2,3\n")
        f.write("1," * 10_000_000)  # 20 MB, no line break
    limit = 65536 + 1024 * 3
    with pytest.raises(
        ValueError,
        match="^"
        + re.escape(
            f"{data} line 2: a row longer than {limit} characters (the network takes 3 numbers)"
        )
        + "$",
    ):
        predict_csv(_classifier(), data, tmp_path / "p.csv")
    assert (
        _peak(lambda: predict_csv(_classifier(), data, tmp_path / "p.csv")) < 2**20
    )  # was 20 MB and more
    quoted = tmp_path / "quoted.csv"  # one row over many lines, in a quoted cell
    quoted.write_text('1,2,3\n1,2,"' + "3\n" * 100_000 + '"\n')
    with pytest.raises(
        ValueError,
        match=rf"^{re.escape(str(quoted))} line \d+: a row longer than {limit} characters \(",
    ):
        predict_csv(_classifier(), quoted, tmp_path / "p.csv")
    assert not (tmp_path / "p.csv").exists()


def test_2_memory_error_is_one_line(
    tmp_path: Path, saved: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def exhausted(*args: object, **kwargs: object) -> int:
        raise MemoryError("Unable to allocate 8.00 EiB for an array with shape (2**60,)")

    monkeypatch.setattr(cli, "predict_csv", exhausted)
    status, _, err = _main("predict", str(saved), str(saved), "--out", str(tmp_path / "p.csv"))
    assert (status, err) == (
        1,
        "typednet: error: out of memory: Unable to allocate 8.00 EiB for an array with shape (2**60,)\n",
    )  # was a traceback
    monkeypatch.setattr(cli, "predict_csv", lambda *a, **k: (_ for _ in ()).throw(MemoryError()))
    status, _, err = _main("predict", str(saved), str(saved), "--out", str(tmp_path / "p.csv"))
    assert (status, err) == (1, "typednet: error: out of memory\n")


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ("x" * 60_000, "is not a number"),
        ("1" + "0" * 60_000, "is not a finite number"),  # was quoted whole: 60 kB on stderr
    ],
)
def test_2_a_cell_in_a_message_is_shortened(
    tmp_path: Path, saved: Path, cell: str, problem: str
) -> None:
    data = tmp_path / "data.csv"
    data.write_text(f"1,2,{cell}\n")
    status, _, err = _main("predict", str(saved), str(data), "--out", str(tmp_path / "p.csv"))
    assert status == 1
    assert err == (
        f"typednet: error: {data} line 1, column 3: {cell[:30]!r}... (60001 characters) {problem}\n"
    ).replace("60001", str(len(cell)))


# --- 5. predict and train-wine with real files --------------------------------------------------


def test_5_a_pandas_csv_is_refused_naming_header_then_read_as_asked(
    tmp_path: Path, saved: Path
) -> None:
    x = _samples(4)
    data = tmp_path / "data.csv"
    pd.DataFrame(x.T).to_csv(data, index=False)  # header 0,1,2
    assert data.read_text().startswith("0,1,2\n")
    pred = tmp_path / "p.csv"
    status, _, err = _main("predict", str(saved), str(data), "--out", str(pred))
    assert status == 1  # was: 5 predictions, the first for the sample (0, 1, 2)
    assert err == (
        f"typednet: error: {data} line 1: 0,1,2 is the header pandas writes for unnamed "
        "columns, or a sample; say which: --header yes or --header no\n"
    )
    assert not pred.exists()
    assert _main("predict", str(saved), str(data), "--out", str(pred), "--header", "yes")[0] == 0
    table = np.loadtxt(pred, delimiter=",", skiprows=1, ndmin=2)
    np.testing.assert_allclose(table[:, 1:], _by_hand(_classifier(), x).T, rtol=1e-13)
    status, _, err = _main(
        "predict", str(saved), str(data), "--out", str(pred), "--header", "yes", "--columns"
    )
    assert (status, err) == (
        2,
        "typednet: error: argument --header: the --columns layout has no header line\n",
    )
    with pytest.raises(
        ValueError, match=r"^predict_csv: columns=True reads no header line, got header=True$"
    ):
        predict_csv(_classifier(), data, pred, columns=True, header=True)
    assert _main("predict", str(saved), str(data), "--out", str(pred), "--header", "no")[0] == 0
    table = np.loadtxt(pred, delimiter=",", skiprows=1, ndmin=2)
    first = _by_hand(_classifier(), np.array([[0.0], [1.0], [2.0]]))
    np.testing.assert_allclose(
        table[:, 1:], np.hstack([first, _by_hand(_classifier(), x)]).T, rtol=1e-13
    )


@pytest.mark.parametrize("cell", ["1e39", "-4e38"])
def test_5_a_cell_beyond_the_networks_dtype_is_one_line(tmp_path: Path, cell: str) -> None:
    path = tmp_path / "net32.npz"
    tn.save(path, _classifier(np.float32))
    data = tmp_path / "data.csv"
    data.write_text(f"1,2,3\n1,2,{cell}\n")
    status, _, err = _main("predict", str(path), str(data), "--out", str(tmp_path / "p.csv"))
    assert status == 1  # was: AssertionError, a traceback
    assert err == (
        f"typednet: error: {data} line 2, column 3: {cell!r} is beyond the range of the "
        "network's float32 (at most 3.4028235e+38 in size)\n"
    )


def _dense(w: list[list[float]], activation: tn.Activation) -> tn.Network[Any, Any]:
    weights = np.array(w)
    return tn.network(tn.Dense(w=weights, b=np.zeros((len(w), 1)), activation=activation))


@pytest.mark.parametrize("activation", [tn.identity, tn.softmax])
def test_5_non_finite_predictions_are_an_error(tmp_path: Path, activation: tn.Activation) -> None:
    path = tmp_path / "net.npz"
    tn.save(path, _dense([[1e300, 1e300, 1e300], [1e300, 1e300, 1e300]], activation))
    data = tmp_path / "data.csv"
    data.write_text("a,b,c\n1,0,0\n1e10,1,1\n")
    pred = tmp_path / "p.csv"
    pred.write_text("old\n")
    status, out, err = _main("predict", str(path), str(data), "--out", str(pred))
    assert (status, out) == (1, "")  # was 0, with inf, or NaN and class 0
    assert err == (
        f"typednet: error: {data} line 3: the network's output for this sample is not finite "
        "(an overflow?)\n"
    )
    assert pred.read_text() == "old\n"


def test_5_an_encoding_error_names_the_file_line_and_column(tmp_path: Path, saved: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_bytes(b"a,b,c\n1,2,3\n4,\xff5,6\n")
    status, _, err = _main("predict", str(saved), str(data), "--out", str(tmp_path / "p.csv"))
    assert status == 1
    assert err == (  # was: 'utf-8' codec can't decode byte 0xff in position 15 (of the file)
        f"typednet: error: {data} line 3, column 2: not UTF-8 text (byte 0xff, character 3 "
        "of the line)\n"
    )


@pytest.mark.parametrize("header", ["", "a,b,c\n"])
def test_5_a_byte_order_mark_is_dropped(tmp_path: Path, header: str) -> None:
    x = _samples(2)
    data = tmp_path / "data.csv"
    data.write_bytes(b"\xef\xbb\xbf" + (header + _rows(x)).encode())
    assert (
        predict_csv(_classifier(), data, tmp_path / "p.csv") == 2
    )  # was: '\ufeff...' not a number
    table = np.loadtxt(tmp_path / "p.csv", delimiter=",", skiprows=1, ndmin=2)
    np.testing.assert_allclose(table[:, 1:], _by_hand(_classifier(), x).T, rtol=1e-13)


def _wines(path: Path, scores: dict[int, str]) -> Path:
    """The first 400 white wines, with the quality of the rows in ``scores`` replaced."""
    lines = WHITE.read_text(encoding="ascii").splitlines()[:401]
    rows = [line.split(";") for line in lines[1:]]
    for row, score in scores.items():
        rows[row][-1] = score
    path.write_text("\n".join([lines[0], *(";".join(r) for r in rows)]) + "\n")
    return path


@pytest.mark.parametrize("task", ["regress", "classify"])
def test_5_train_wine_takes_every_score_of_the_scale(tmp_path: Path, task: str) -> None:
    scores = {k: "10" for k in range(0, 400, 7)} | {k: "0" for k in range(3, 400, 11)}
    data = _wines(tmp_path / "wines.csv", scores)
    out = tmp_path / "run"
    argv = ["--data", str(data), "--out", str(out), "--epochs", "2", "--quiet", "--task", task]
    status, _, err = _main("train-wine", *argv)
    assert (status, err) == (0, "")  # was: label 10 is not one of the classes, after training
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["confusion"]["classes"] == list(range(11))
    x, y = tn.deduplicate(*load_wine_quality(data))
    _, _, _, y_test = tn.train_test_split(x, y, test_fraction=0.2, rng=np.random.default_rng(42))
    rows = np.array(metrics["confusion"]["counts"]).sum(axis=1)
    assert rows.tolist() == [int(np.sum(y_test == q)) for q in range(11)]
    assert rows[0] > 0 and rows[10] > 0


@pytest.mark.parametrize("score", ["11", "5.5", "-1"])
def test_5_a_score_off_the_scale_is_refused_when_read(tmp_path: Path, score: str) -> None:
    data = _wines(tmp_path / "wines.csv", {1: score})
    with pytest.raises(
        ValueError,
        match="^"
        + re.escape(
            f'{data} line 3, column 12 ("quality"): {score!r} is not a score of the 0..10 scale'
        )
        + "$",
    ):
        load_wine_quality(data)


def test_5_train_wine_saves_the_network_and_metrics_even_when_a_plot_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise ValueError("no room for the labels")

    monkeypatch.setattr(cli, "plot_network", broken)
    data = _wines(tmp_path / "wines.csv", {})
    out = tmp_path / "run"
    status, stdout, err = _main(
        "train-wine", "--data", str(data), "--out", str(out), "--epochs", "2", "--quiet"
    )
    assert status == 1
    assert err == (
        f"typednet: error: saved to {out}: network.npz, metrics.json, history.png; "
        "but not network.png: no room for the labels\n"
    )  # was: nothing saved, the trained network lost
    assert _only_entries(out) == ["history.png", "metrics.json", "network.npz"]
    assert "test metrics (" in stdout
    assert repr(tn.load(out / "network.npz")).startswith("Network 11 → 64 (relu)")


def test_5_train_wine_checks_for_matplotlib_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("trained without matplotlib")

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setattr(cli, "train_wine", never)
    status, _, err = _main("train-wine", "--out", str(tmp_path / "run"), "--quiet")
    assert (status, err) == (
        1,
        "typednet: error: train-wine draws its plots with matplotlib: "
        "pip install 'typednet[plot]'\n",
    )
    assert _only_entries(tmp_path) == []


# --- issue 22: bare `typednet`, and help for every command and argument -------------------------

COMMANDS = ["demo", "train-wine", "info", "export", "predict"]


def test_bare_typednet_prints_the_usage_and_a_line_per_command() -> None:
    status, out, err = _main()
    assert (status, err) == (0, "")  # was: exit 2, "the following arguments are required"
    assert out.startswith("usage: typednet [-h] [--version] COMMAND ...\n")
    for command in COMMANDS:
        assert re.search(rf"^    {command} +\S", out, re.MULTILINE), command


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_a_description_and_every_argument_help(command: str) -> None:
    status, out, _ = _main(command, "--help")
    assert status == 0
    usage, description, *sections = out.split("\n\n")
    assert usage.startswith(f"usage: typednet {command}")
    assert len(description.strip()) > 20 and not description.startswith(("options:", "positional"))
    for section in sections:
        lines = section.splitlines()
        assert lines[0] in ("positional arguments:", "options:"), section
        for k, line in enumerate(lines[1:], 1):
            if re.match(r"  \S", line):  # an argument: its help beside it or below it
                below = k + 1 < len(lines) and re.match(r" {4,}\S", lines[k + 1])
                assert re.match(r"  \S.*? {2,}\S", line) or below, (command, line)
