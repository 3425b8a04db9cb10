"""examples/wine_colour.py: red and white wines, an embedded colour against a chain.

Run briefly (a few epochs), in-process and as `make example-colour` runs it (the recipe
Make prints, run in a real process). The wines' count is read from the CSVs with NumPy
alone, the params counted by hand from the layer sizes, the baseline computed here.
"""

import os
import runpy
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from typednet.apps import wine_data

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "wine_colour.py"
DATA = Path(wine_data.__file__).parent / "datasets"


def _distinct_wines() -> np.ndarray:
    """Distinct (features, quality) rows of both CSVs, by NumPy alone."""
    files = [DATA / f"winequality-{c}.csv" for c in ("white", "red")]
    return np.vstack([np.unique(np.loadtxt(f, delimiter=";", skiprows=1), axis=0) for f in files])


def test_both_networks_have_as_many_params_and_beat_the_mean(
    capsys: pytest.CaptureFixture[str],
) -> None:
    module = runpy.run_path(str(EXAMPLE))
    results = module["main"](epochs=5, seed=42)
    out = capsys.readouterr().out.splitlines()
    wines = _distinct_wines()
    total = wines.shape[0]
    test = round(0.2 * total)
    fit_and_val = total - test
    assert out[0] == (
        f"wines: {fit_and_val - round(0.1 * fit_and_val)} to fit, {round(0.1 * fit_and_val)} "
        f"to stop early, {test} to test"
    )
    # By hand: dense 11→20, embedding 2×4, residual 24→32→24, dense 24→1.
    residual = (11 * 20 + 20) + 2 * 4 + (24 * 32 + 32) + (32 * 24 + 24) + (24 + 1)
    chain = (12 * 40 + 40) + (40 * 32 + 32) + (32 + 1)  # 12→40→32→1
    assert residual == chain == 1865
    assert out[2].startswith(f"residual MLP, colour embedded  {residual} params, kept epoch ")
    assert out[3].startswith(f"chain, colour as a feature     {chain} params, kept epoch ")
    assert out[2].endswith(f"test MSE {results['residual']:.4f}")
    assert out[3].endswith(f"test MSE {results['chain']:.4f}")
    # Predicting the mean quality scores about its variance; five epochs beat that by far.
    variance = float(wines[:, -1].var())
    for name in ("residual", "chain"):
        assert 0.3 < results[name] < 0.85 * variance, name


def test_make_example_colour_runs_it() -> None:
    venv = Path(sys.executable).parent.parent
    # Run from `make test`, make's own variables would make this nested make print
    # "Entering/Leaving directory" lines around the command: a fresh make, quietly.
    clean = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", "example-colour", f"VENV={venv}", "EPOCHS=1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=clean,
    )
    command = shlex.split(dry.stdout.strip().splitlines()[-1])
    assert command[1:] == ["examples/wine_colour.py", "--epochs", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    run = subprocess.run(
        [sys.executable, *command[1:]], cwd=ROOT, capture_output=True, text=True, env=env
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert len(lines) == 4
    assert "kept epoch 1 of 1: test MSE " in lines[2]
    assert "kept epoch 1 of 1: test MSE " in lines[3]
    assert run.stderr == ""
