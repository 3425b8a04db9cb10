"""A plain install, as a user without extras has it: a fresh virtual environment with
typednet's runtime from requirements/demo.txt and nothing else. Each extra says what it
needs, with its `pip install 'typednet[...]'` line, before any work is done; the command
line guides and prints no traceback."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import typednet as tn

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The bin folder of a venv holding typednet and its runtime dependencies only."""
    venv = tmp_path_factory.mktemp("plain") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "-r", str(ROOT / "requirements" / "demo.txt")], check=True)
    # A regular (not editable) install from a copy: what `pip install ./typednet` gives.
    subprocess.run([*pip, "--no-deps", "--no-build-isolation", str(ROOT)], check=True)
    yield venv / "bin"


def _run(bin_: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [str(bin_ / args[0]), *args[1:]],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=env,
        timeout=300,
    )


def test_only_the_runtime_is_there(plain: Path, tmp_path: Path) -> None:
    extras = ("matplotlib", "sklearn", "onnx", "dask", "mlflow", "tensorboardX")
    code = f"import importlib.util as u; print([m for m in {extras} if u.find_spec(m)])"
    done = _run(plain, "python", "-c", code, cwd=tmp_path)
    assert done.stdout == "[]\n", done.stderr
    done = _run(plain, "python", "-c", "import typednet; print(typednet.__file__)", cwd=tmp_path)
    assert "site-packages" in done.stdout  # the installed copy, not the source tree


@pytest.mark.parametrize(
    ("module", "message"),
    [
        ("typednet.sklearn", "typednet.sklearn needs scikit-learn 1.6 or newer"),
        ("typednet.dask", "typednet.dask needs dask and distributed 2026.1.1 or newer"),
    ],
)
def test_an_extras_module_says_what_to_install(
    plain: Path, tmp_path: Path, module: str, message: str
) -> None:
    done = _run(plain, "python", "-c", f"import {module}", cwd=tmp_path)
    assert done.returncode == 1
    extra = module.rsplit(".", 1)[1]
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"ImportError: {message}"), done.stderr
    assert last.endswith(f"pip install 'typednet[{extra}]'"), done.stderr


def test_plots_onnx_and_trackers_say_what_to_install_at_first_use(
    plain: Path, tmp_path: Path
) -> None:
    code = (
        "import numpy as np\n"
        "import typednet as tn\n"
        "net = tn.network(tn.dense(np.random.default_rng(0), 2, 1, tn.relu))\n"
        "for call in (\n"
        "    lambda: tn.plot_network(net),\n"
        "    lambda: tn.to_onnx(net),\n"
        "    lambda: tn.tracking.mlflow_callback(),\n"
        "    lambda: tn.tracking.tensorboard_callback('run'),\n"
        "):\n"
        "    try:\n"
        "        call()\n"
        "    except ImportError as error:\n"
        "        print(error)\n"
    )
    done = _run(plain, "python", "-c", code, cwd=tmp_path)
    assert done.stdout.splitlines() == [
        "plotting needs matplotlib: pip install 'typednet[plot]'",
        "ONNX export needs onnx: pip install 'typednet[onnx]'",
        "MLflow tracking needs mlflow: pip install 'typednet[mlflow]'",
        "TensorBoard tracking needs tensorboardX: pip install 'typednet[tensorboard]'",
    ], done.stderr
    assert not (tmp_path / "run").exists()


def test_the_command_line_guides_without_extras(plain: Path, tmp_path: Path) -> None:
    bare = _run(plain, "typednet", cwd=tmp_path)
    assert bare.returncode == 0
    assert "usage: typednet" in bare.stdout
    for command in ("demo", "train-wine", "info", "export", "predict"):
        assert command in bare.stdout
    # train-wine refuses before training, in one line, and leaves nothing behind.
    wine = _run(plain, "typednet", "train-wine", "--out", str(tmp_path / "run"), cwd=tmp_path)
    assert wine.returncode == 1
    assert wine.stderr == (
        "typednet: error: train-wine draws its plots with matplotlib: pip install 'typednet[plot]'\n"
    )
    assert not (tmp_path / "run").exists()
    # export: one line naming the extra, no traceback.
    rng = np.random.default_rng(0)
    tn.save(tmp_path / "net.npz", tn.network(tn.dense(rng, 2, 1, tn.relu)))
    export = _run(plain, "typednet", "export", "net.npz", "net.onnx", cwd=tmp_path)
    assert export.returncode == 1
    assert "Traceback" not in export.stderr
    assert export.stderr.strip().endswith("pip install 'typednet[onnx]'"), export.stderr
    assert not (tmp_path / "net.onnx").exists()
