"""Issue 11, the command line: one line on stderr for every failure (NumPy warnings and
Ctrl-C included, item 12), and a ``train-wine --out`` folder that is replaced whole or
not at all (item 13).

The subprocess tests run the installed ``typednet`` console script, as a user would.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from typednet.apps import cli
from typednet.apps.cli import main

from .helpers import INTERRUPTED, interrupted_cleanly
from .test_wine_data import WHITE

TYPEDNET = Path(sys.executable).with_name("typednet")


def _huge_csv(path: Path) -> Path:
    """200 wines whose fixed acidity is 1e300: training overflows."""
    lines = WHITE.read_text(encoding="ascii").splitlines()[:201]
    rows = [";".join(["1e300", *line.split(";")[1:]]) for line in lines[1:]]
    path.write_text("\n".join([lines[0], *rows]) + "\n", encoding="ascii")
    return path


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# --- 12. one line: NumPy warnings, Ctrl-C -----------------------------------------------------


def test_12_numpy_overflow_warnings_do_not_print_before_the_error(tmp_path: Path) -> None:
    data = _huge_csv(tmp_path / "huge.csv")
    done = subprocess.run(
        [str(TYPEDNET), "train-wine", "--data", str(data), "--out", str(tmp_path / "out"), "--quiet", "--epochs", "2"],
        capture_output=True, text=True, check=False, env={**os.environ, "PYTHONWARNINGS": "default"},
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.startswith("typednet: error: fit: epoch 1, step 1 of ")
    assert done.stderr.count("\n") == 1, done.stderr  # was five RuntimeWarnings first
    assert not (tmp_path / "out").exists()


# From 0.1 s on: before that, Python itself is starting (typednet_cli's docstring).
# Until about 0.5 s typednet is being imported; from 1.5 s train-wine is training.
@pytest.mark.parametrize("delay", [0.1, 0.2, 0.35, 0.6, 1.5])
def test_12_ctrl_c_anywhere_exits_130_with_one_line(tmp_path: Path, delay: float) -> None:
    out = tmp_path / "out"
    argv = ["train-wine", "--out", str(out), "--quiet", "--batch-size", "1", "--epochs", "100"]
    process = subprocess.Popen(
        [str(TYPEDNET), *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    with pytest.raises(subprocess.TimeoutExpired):  # still running (an epoch takes seconds)
        process.wait(timeout=delay)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert interrupted_cleanly(process.returncode, err), err  # was a traceback in start-up
    assert list(tmp_path.iterdir()) == []  # nothing written, nothing left behind


# --- 13. --out is replaced as a whole ---------------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 400 white wines: quick runs."""
    path = tmp_path_factory.mktemp("data") / "small.csv"
    path.write_text("\n".join(WHITE.read_text(encoding="ascii").splitlines()[:401]) + "\n")
    return path


@pytest.fixture(scope="module")
def previous(small: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The files of a completed 2-epoch run."""
    out = tmp_path_factory.mktemp("previous") / "run"
    argv = ["train-wine", "--data", str(small), "--out", str(out), "--epochs", "2", "--quiet"]
    assert main(argv) == 0
    return _snapshot(out)


def _previous_run(tmp_path: Path, previous: dict[str, bytes]) -> Path:
    out = tmp_path / "run"
    out.mkdir()
    for name, data in previous.items():
        (out / name).write_bytes(data)
    return out


def test_13_an_interrupted_run_leaves_the_previous_folder_whole(
    small: Path,
    tmp_path: Path,
    previous: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = _previous_run(tmp_path, previous)

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt  # after network.npz and history.png of the new run

    monkeypatch.setattr(cli, "plot_network", interrupted)
    assert (
        main(
            [
                "train-wine",
                "--data",
                str(small),
                "--out",
                str(out),
                "--epochs",
                "2",
                "--quiet",
                "--seed",
                "2",
            ]
        )
        == 130
    )
    assert capsys.readouterr().err == INTERRUPTED
    assert _snapshot(out) == previous  # was the new network.npz beside the old run's files
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_13_a_completed_run_replaces_the_folder(
    small: Path, tmp_path: Path, previous: dict[str, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    out = _previous_run(tmp_path, previous)
    assert (
        main(
            [
                "train-wine",
                "--data",
                str(small),
                "--out",
                str(out),
                "--epochs",
                "3",
                "--quiet",
                "--seed",
                "2",
            ]
        )
        == 0
    )
    now = _snapshot(out)
    assert sorted(now) == sorted(previous)
    assert now["network.npz"] != previous["network.npz"]
    assert b'"run": 3' in now["metrics.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    assert capsys.readouterr().err == ""


def test_13_a_killed_run_leaves_the_previous_folder_and_its_leftovers_are_removed(
    small: Path, tmp_path: Path, previous: dict[str, bytes]
) -> None:
    out = _previous_run(tmp_path, previous)
    code = (
        "import os, signal, sys\n"
        "from typednet.apps import cli\n"
        "cli.plot_network = lambda *a: os.kill(os.getpid(), signal.SIGKILL)\n"
        "cli.main(sys.argv[1:])\n"
    )
    argv = ["train-wine", "--data", str(small), "--out", str(out), "--epochs", "2", "--quiet"]
    killed = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, check=False)
    assert killed.returncode == -signal.SIGKILL
    assert _snapshot(out) == previous
    (left,) = (p.name for p in tmp_path.iterdir() if p.name != "run")
    assert left.startswith(".run.") and left.endswith(".tmp.d")
    assert main([*argv, "--seed", "3"]) == 0  # the next run removes the dead run's folder
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_13_a_folder_that_is_not_a_runs_output_is_refused_before_training(
    small: Path, tmp_path: Path, previous: dict[str, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    out = _previous_run(tmp_path, previous)
    (out / "history.png").unlink()
    (out / "history.png").mkdir()  # was: network.npz written, then an error
    before = sorted(p.name for p in out.iterdir())
    assert main(["train-wine", "--data", str(small), "--out", str(out), "--quiet"]) == 1
    assert capsys.readouterr().err == (
        f"typednet: error: --out {out}: holds 'history.png', which is not a file of a train-wine "
        "run; the folder is replaced as a whole, so choose another --out\n"
    )
    assert sorted(p.name for p in out.iterdir()) == before
    assert (out / "network.npz").read_bytes() == previous["network.npz"]
    (tmp_path / "file").write_text("x")
    assert (
        main(["train-wine", "--data", str(small), "--out", str(tmp_path / "file"), "--quiet"]) == 1
    )
    assert (
        capsys.readouterr().err
        == f"typednet: error: --out {tmp_path / 'file'}: not a folder; choose another --out\n"
    )
