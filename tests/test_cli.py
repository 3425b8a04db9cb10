"""The command line, in-process and as ``python -m typednet``, and the examples it mirrors.

The wine runs read the UCI copy that ships with typednet and never download. Their figures are re-derived with plain NumPy from the saved network.
"""

import contextlib
import importlib.metadata
import io
import json
import re
import runpy
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import typednet as tn
from typednet.apps import wine_data
from typednet.apps.cli import main
from typednet.apps.tutorial import build
from typednet.apps.wine import train_wine

ROOT = Path(__file__).resolve().parents[1]
WHITE = Path(wine_data.__file__).parent / "datasets" / "winequality-white.csv"
FILES = ["history.png", "metrics.json", "network.npz", "network.png"]
HEADER = "true\\pred    3    4    5    6    7    8    9"


@dataclass(frozen=True)
class Run:
    status: int
    out: str
    err: str
    folder: Path


def _main(*argv: str) -> Run:
    """main(argv) with stdout and stderr captured (usable in module-scoped fixtures)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return Run(status, out.getvalue(), err.getvalue(), Path())


def _train(folder: Path, *flags: str) -> Run:
    run = _main("train-wine", "--out", str(folder), *flags)  # the packaged white wines
    return Run(run.status, run.out, run.err, folder)


@pytest.fixture(scope="module")
def regress(tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("regress") / "not" / "yet"  # created by the command
    return _train(folder, "--epochs", "3", "--quiet")


@pytest.fixture(scope="module")
def classify(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _train(tmp_path_factory.mktemp("classify"), "--task", "classify", "--epochs", "2")


@pytest.fixture(scope="module")
def test_split() -> tuple[np.ndarray, np.ndarray]:
    """The CLI's test columns, by the library's tested data functions."""
    x, y = tn.deduplicate(*tn.load_wine_quality(WHITE))
    _, _, x_test, y_test = tn.train_test_split(
        x, y, test_fraction=0.2, rng=np.random.default_rng(42)
    )
    return x_test, y_test


def _confusion_by_hand(y: np.ndarray, classes: np.ndarray) -> list[list[int]]:
    tally = Counter(zip(y[0].astype(int).tolist(), classes[0].astype(int).tolist(), strict=True))
    return [[tally[(t, p)] for p in range(3, 10)] for t in range(3, 10)]


def _check_report(run: Run, quality: np.ndarray, y: np.ndarray, classes: np.ndarray) -> None:
    """The printed and saved metrics equal plain-NumPy ones of the saved network."""
    assert run.status == 0, run.err
    assert sorted(p.name for p in run.folder.iterdir()) == FILES
    for png in ("history.png", "network.png"):
        assert (run.folder / png).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    saved = json.loads((run.folder / "metrics.json").read_text(encoding="utf-8"))
    deviation = np.abs(quality - y)
    expected = {
        "mse": float(np.mean(deviation**2)),
        "mad": float(np.mean(deviation)),
        "within_0.5": float(np.mean(deviation <= 0.5)),
        "within_1.0": float(np.mean(deviation <= 1.0)),
    }
    assert saved["test"] == pytest.approx(expected, rel=0, abs=1e-12)
    assert saved["columns"] == {"train": 3169, "test": 792}
    lines = run.out.splitlines()
    assert f"  MSE                       {expected['mse']:.4f}" in lines
    assert f"  mean absolute deviation   {expected['mad']:.4f}" in lines
    assert f"  within ±0.5 of quality    {expected['within_0.5']:.1%}" in lines
    assert f"  within ±1.0 of quality    {expected['within_1.0']:.1%}" in lines
    counts = _confusion_by_hand(y, classes)
    assert saved["confusion"] == {"classes": list(range(3, 10)), "counts": counts}
    table = lines[lines.index(HEADER) :][:8]
    assert table[1:] == [
        f"{q:>9}" + "".join(f"{n:>5}" for n in row)
        for q, row in zip(range(3, 10), counts, strict=True)
    ]


# --- demo and the tutorial example --------------------------------------------------------


def _loss_lines(text: str) -> list[str]:
    return [
        line for line in text.splitlines() if re.fullmatch(r"epoch +\d+: loss \d\.\d{10}", line)
    ]


def test_demo_prints_the_forward_layers_then_the_training_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    forward, training = out.split("\ntraining: ")
    for name in ["x (5, 1)", "in_hidden_1 (3, 1)", "out_hidden_2 (5, 1)", "y_hat (4, 1)"]:
        assert f"\n{name}:\n" in forward
    losses = _loss_lines(training)
    assert [int(line.split()[1][:-1]) for line in losses] == list(range(0, 10_001, 1_000))
    # The loss before the first update is the forward pass's loss.
    first = float(re.findall(r"loss \(mse\) = (\S+)", forward)[0])
    assert losses[0].endswith(f"loss {first:.10f}")
    table = training.split("y_hat       y\n")[1].split()
    y_hat, y = np.array(table[0::2], float), np.array(table[1::2], float)
    np.testing.assert_allclose(y_hat, build()[2][:, 0], atol=1e-3)
    np.testing.assert_array_equal(y, build()[2][:, 0])

    # The example prints the same run, written as a user would.
    module = runpy.run_path(str(ROOT / "examples" / "tutorial_backprop.py"))
    final = module["main"]()
    example = capsys.readouterr().out
    assert _loss_lines(example) == losses
    assert example.split("y_hat       y\n")[1] == training.split("y_hat       y\n")[1]
    assert losses[-1].endswith(f"loss {final:.10f}")


# --- train-wine ---------------------------------------------------------------------------


def test_train_wine_regress_reports_what_the_saved_network_predicts(
    regress: Run, test_split: tuple[np.ndarray, np.ndarray]
) -> None:
    x_test, y_test = test_split
    net = tn.load(regress.folder / "network.npz")
    assert repr(net) == "Network 11 → 64 (relu) → 32 (relu) → 1 (identity), 2881 params"
    quality = tn.forward(net, x_test)  # raw features: the standardization is folded in
    classes = np.clip(np.floor(quality + 0.5), 3, 9)
    _check_report(regress, quality, y_test, classes)
    assert regress.err == ""  # --quiet: no progress bar
    assert "confusion matrix (rows: true quality; columns: rounded predictions):" in regress.out


def test_train_wine_classify_reports_the_most_probable_scores(
    classify: Run, test_split: tuple[np.ndarray, np.ndarray]
) -> None:
    x_test, y_test = test_split
    net = tn.load(classify.folder / "network.npz")
    assert repr(net) == (
        "Network 11 → 15 (relu) → 15 (relu) → 15 (relu) → 11 (softmax), 836 params"
    )
    probabilities = tn.forward(net, x_test)
    np.testing.assert_allclose(probabilities.sum(axis=0), 1.0, atol=1e-12)
    scores = np.argmax(probabilities, axis=0)[None, :].astype(np.float64)  # rows: 0..10
    _check_report(classify, scores, y_test, np.clip(scores, 3, 9))
    assert "columns: most probable scores" in classify.out
    assert classify.err == ""  # no --quiet, but stderr is not a terminal: no bar in a log


def test_train_wine_compiled_reports_what_the_numpy_path_does(regress: Run, tmp_path: Path) -> None:
    """--compiled trains the same recipe by fit's compiled loop: the same metrics, to
    rounding (float64 agrees with the NumPy path to 1e-12)."""
    fast = _train(tmp_path / "fast", "--epochs", "3", "--quiet", "--compiled")
    assert fast.status == 0, fast.err
    assert sorted(p.name for p in fast.folder.iterdir()) == FILES
    want = json.loads((regress.folder / "metrics.json").read_text(encoding="utf-8"))
    got = json.loads((fast.folder / "metrics.json").read_text(encoding="utf-8"))
    assert got["test"] == pytest.approx(want["test"], rel=1e-9)
    a, b = tn.load(regress.folder / "network.npz"), tn.load(fast.folder / "network.npz")
    for p, q in zip(a.params, b.params, strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-9, atol=1e-12)


def test_train_wine_compiled_without_numba_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "numba", None)  # `import numba` now fails
    run = _train(tmp_path / "out", "--epochs", "1", "--quiet", "--compiled")
    assert run.status == 1
    assert run.err == (
        "typednet: error: fit: compiled=True needs numba and scipy, optional dependencies: "
        "pip install 'typednet[fast]'\n"
    )
    assert not (tmp_path / "out").exists()


def test_info_prints_the_saved_architecture(regress: Run) -> None:
    run = _main("info", str(regress.folder / "network.npz"))
    assert run.status == 0 and run.err == ""
    assert run.out.splitlines() == [
        "Network 11 → 64 (relu) → 32 (relu) → 1 (identity), 2881 params, float64",
        "  layer 1: dense 11 → 64, relu",
        "  layer 2: dense 64 → 32, relu",
        "  layer 3: dense 32 → 1, identity",
    ]


def test_the_wine_example_is_the_same_recipe_without_folding(
    regress: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    module = runpy.run_path(str(ROOT / "examples" / "wine_quality.py"))
    mse = module["main"](WHITE, epochs=3)
    out = capsys.readouterr().out
    saved = json.loads((regress.folder / "metrics.json").read_text(encoding="utf-8"))
    # Same seed, same draws: the CLI's folded network predicts what the example's does.
    assert mse == pytest.approx(saved["test"]["mse"], rel=0, abs=1e-12)
    assert f"MSE {mse:.4f}, mean absolute deviation {saved['test']['mad']:.4f}" in out
    assert "within 0.5 of the experts' score: " in out
    assert out.endswith("saved and loaded: the same predictions: True\n")


# --- user errors --------------------------------------------------------------------------

MALFORMED = (
    '"fixed acidity";"volatile acidity";"citric acid";"residual sugar";"chlorides";'
    '"free sulfur dioxide";"total sulfur dioxide";"density";"pH";"sulphates";"alcohol";'
    '"quality"\n'
    "7;0.27;0.36;20.7;0.045;45;170;1.001;3;0.45;8.8;6\n"
    "6.3;abc;0.34;1.6;0.049;14;132;0.994;3.3;0.49;9.5;6\n"
)


@pytest.mark.parametrize(
    ("argv", "status", "match"),
    [
        (
            ["train-wine", "--data", "{missing}"],
            1,
            r"nope\.csv: no such file; load_wine_quality\(\) with no path",
        ),
        (
            ["train-wine", "--data", "{bad}"],
            1,
            r'bad\.csv line 3, column 2 \("volatile acidity"\): \'abc\' is not a number$',
        ),
        (
            ["train-wine", "--data", "{white}", "--task", "cluster"],
            2,
            r"argument --task: invalid choice: 'cluster' \(choose from '?regress'?, '?classify'?\)$",
        ),
        (
            ["train-wine", "--data", "{white}", "--epochs", "0"],
            2,
            r"argument --epochs: expected an integer >= 1, got '0'$",
        ),
        (
            ["train-wine", "--data", "{white}", "--epochs", "ten"],
            2,
            r"argument --epochs: expected an integer >= 1, got 'ten'$",
        ),
        (["train-wine", "--bogus"], 2, r"unrecognized arguments: --bogus$"),
        (["info", "{bad}"], 1, r"bad\.csv: not an \.npz archive \(it does not start like a zip"),
        (["info", "{missing}"], 1, r"No such file or directory: .*nope\.csv'$"),
        (["--bogus"], 2, r"the following arguments are required: COMMAND$"),  # bare: the usage
        (["train"], 2, r"argument COMMAND: invalid choice: 'train'"),
    ],
)
def test_a_user_error_is_one_line_on_stderr(
    tmp_path: Path, argv: list[str], status: int, match: str
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(MALFORMED, encoding="utf-8")
    paths = {"missing": tmp_path / "nope.csv", "bad": bad, "white": WHITE}
    out_dir = tmp_path / "out"
    argv = [a.format(**paths) for a in argv]
    if argv[:1] == ["train-wine"]:
        argv += ["--out", str(out_dir), "--quiet"]
    run = _main(*argv)
    assert run.status == status
    assert run.out == ""
    assert run.err.count("\n") == 1 and "Traceback" not in run.err
    assert re.match(r"typednet: error: ", run.err)
    assert re.search(match, run.err.rstrip("\n")), run.err
    assert not out_dir.exists()  # nothing is written before the data is read


def test_train_wine_rejects_an_unknown_task(test_split: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = test_split
    with pytest.raises(
        ValueError, match=r"^train_wine: task must be 'regress' or 'classify', got 'cluster'$"
    ):
        train_wine(x, y, task="cluster", rng=np.random.default_rng(0))  # type: ignore[arg-type]  # a bad task on purpose


def test_help_returns_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train-wine", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: typednet train-wine [-h] [--data PATH]")


def test_version_is_the_installed_distribution_s(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    installed = importlib.metadata.version("typednet")  # from pyproject.toml, not __init__
    python = ".".join(map(str, sys.version_info[:3]))
    assert (
        capsys.readouterr().out
        == f"typednet {installed} (Python {python}, NumPy {np.__version__})\n"
    )


def test_python_m_typednet_runs_info_and_reports_errors_in_one_line(tmp_path: Path) -> None:
    tn.save(tmp_path / "tutorial.npz", build()[0])
    done = subprocess.run(
        [sys.executable, "-m", "typednet", "info", str(tmp_path / "tutorial.npz")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith(
        "Network 5 → 3 (leaky_relu 0.1) → 5 (sigmoid) → 4 (sigmoid), 62 params, float64\n"
    )

    (tmp_path / "bad.csv").write_text(MALFORMED, encoding="utf-8")
    failed = subprocess.run(
        [sys.executable, "-m", "typednet", "train-wine", "--data", str(tmp_path / "bad.csv")],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert failed.returncode == 1 and failed.stdout == ""
    assert failed.stderr.startswith("typednet: error: ") and failed.stderr.count("\n") == 1
    assert "line 3, column 2" in failed.stderr and "Traceback" not in failed.stderr
