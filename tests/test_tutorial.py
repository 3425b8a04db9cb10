"""The course's forward pass, reproduced exactly (against a plain-NumPy re-run)."""

import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import typednet as tn
from typednet.apps import tutorial

ROOT = Path(__file__).resolve().parents[1]


def _course_in_plain_numpy() -> tuple[float, np.ndarray]:
    """The course's own steps, in plain NumPy, with its global seed."""
    np.random.seed(42)
    x = np.random.randint(1, 100, size=(5, 1)) / 100
    y = np.random.randint(1, 100, size=(4, 1)) / 100
    w1, w2, w3 = np.random.random((3, 5)), np.random.random((5, 3)), np.random.random((4, 5))
    b1, b2, b3 = np.zeros((3, 1)), np.zeros((5, 1)), np.zeros((4, 1))
    in_hidden_1 = w1 @ x + b1
    out_hidden_1 = np.where(in_hidden_1 > 0, in_hidden_1, 0.1 * in_hidden_1)
    in_hidden_2 = w2 @ out_hidden_1 + b2
    out_hidden_2 = 1 / (1 + np.exp(-in_hidden_2))
    in_output = w3 @ out_hidden_2 + b3
    y_hat = 1 / (1 + np.exp(-in_output))
    return float(np.mean((y - y_hat) ** 2)), y_hat


def test_loss_matches_plain_numpy_to_1e_15() -> None:
    expected, y_hat = _course_in_plain_numpy()
    net, x, y = tutorial.build()
    assert abs(tn.mse(y, tn.forward(net, x)) - expected) <= 1e-15
    np.testing.assert_allclose(tn.forward(net, x), y_hat, rtol=0, atol=1e-15)


def test_demo_prints_every_layer_and_the_loss(capsys: pytest.CaptureFixture[str]) -> None:
    expected, _ = _course_in_plain_numpy()
    loss = tutorial.print_forward()
    out = capsys.readouterr().out
    assert abs(loss - expected) <= 1e-15
    for name in [
        "x (5, 1)",
        "in_hidden_1 (3, 1)",
        "out_hidden_1 (3, 1)",
        "in_hidden_2 (5, 1)",
        "out_hidden_2 (5, 1)",
        "in_output (4, 1)",
        "y_hat (4, 1)",
        "y (4, 1)",
    ]:
        assert f"\n{name}:\n" in out
    assert out.startswith("Network 5 → 3 (leaky_relu 0.1) → 5 (sigmoid) → 4 (sigmoid), 62 params")
    assert f"loss (mse) = {expected!r}" in out


def test_the_example_script_reproduces_the_course(capsys: pytest.CaptureFixture[str]) -> None:
    expected, _ = _course_in_plain_numpy()
    module = runpy.run_path(str(ROOT / "examples" / "tutorial_forward.py"))
    assert abs(module["main"]() - expected) <= 1e-15
    assert "y_hat (4, 1):" in capsys.readouterr().out


def test_python_m_typednet_demo_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "typednet", "demo"], capture_output=True, text=True, check=True
    )
    assert "loss (mse) = " in done.stdout
    assert done.stderr == ""
