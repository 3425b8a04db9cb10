"""The ``typednet`` command line: ``demo``, ``train-wine``, ``info``, ``export``, ``predict``.

``typednet demo`` prints the course's forward pass and its training run.
``typednet train-wine`` trains a network on the UCI Wine Quality data and reports the
test metrics of Cortez et al. (2009); ``typednet info PATH`` describes a saved network;
``typednet export NET.npz MODEL.onnx`` writes it as an ONNX model, and
``typednet predict NET.npz DATA.csv --out PRED.csv`` its predictions for a CSV's samples.
``typednet --version`` prints the versions of typednet, Python and NumPy; bare
``typednet`` the usage and the commands. ``-`` as the output of ``predict`` and
``export`` writes to standard output. ``train-wine --checkpoint DIR`` writes a checkpoint
after each epoch; the same command with ``--resume`` added carries on from it after a
crash or a Ctrl-C, to the result of a run never stopped.

A user error (a missing or malformed file, a bad flag) ends with one line on stderr,
``typednet: error: ...``, and a non-zero exit status: 2 for bad usage, 1 otherwise.
Ctrl-C at any moment ends with ``typednet: error: interrupted`` and status 130.

The wine recipe itself lives in `typednet.wine`.
"""

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

import numpy as np

from .. import __version__, checkpoints
from .._files import check_target, not_an_input, replace_folder, write_atomically
from ..data import deduplicate, train_test_split
from ..io import info, load, save
from ..metrics import Counts, confusion_matrix, format_confusion
from ..onnx import to_onnx
from ..plot import plot_history, plot_network
from ..shapes import ShapeError
from . import tutorial
from .predict import predict_csv
from .wine import (
    BATCH_SIZE,
    EPOCHS,
    QUALITIES,
    Task,
    WineRun,
    evaluate,
    predict_quality,
    quality_classes,
    train_wine,
)
from .wine_data import load_wine_quality

__all__ = ["main"]


# --- the commands ------------------------------------------------------------------------


def _demo(args: argparse.Namespace) -> None:
    tutorial.print_forward()
    print("\ntraining: plain gradient descent, learning rate 0.01, 10 000 epochs\n")
    tutorial.print_backprop()


def _info(args: argparse.Namespace) -> None:
    print(info(args.path))


def _export(args: argparse.Namespace) -> None:
    model: str = args.model
    if model == "-":
        if sys.stdout.isatty():
            raise ValueError(
                "MODEL.onnx -: standard output is a terminal; redirect it to a file "
                "(> model.onnx) or a pipe"
            )
        data = to_onnx(load(args.net), layout=args.layout).SerializeToString()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    _check_file(
        model, "MODEL.onnx", "MODEL.onnx - writes to standard output", {"NET.npz": args.net}
    )
    net = load(args.net)
    to_onnx(net, model, layout=args.layout)
    shape = f"(batch, {net.in_size})" if args.layout == "rows" else f"({net.in_size}, batch)"
    print(f"wrote {model}: {net!r}, {net.dtype}, input x {shape}")


def _predict(args: argparse.Namespace) -> None:
    out: str = args.out
    if args.columns and args.header == "yes":
        raise _UsageError("argument --header: the --columns layout has no header line")
    header = {"auto": None, "yes": True, "no": False}[args.header]
    if out == "-":
        predict_csv(
            load(args.net), args.data, sys.stdout.buffer, columns=args.columns, header=header
        )
        return
    _check_file(
        out,
        "--out",
        "--out - writes to standard output",
        {"NET.npz": args.net, "DATA.csv": args.data},
    )
    count = predict_csv(load(args.net), args.data, out, columns=args.columns, header=header)
    print(f"wrote {count} predictions to {out}")


def _check_file(out: str, label: str, hint: str, inputs: dict[str, str]) -> None:
    """Before any work: ``out`` can be written (see `write_atomically`) and is none of the
    ``inputs`` (what: path)."""
    try:
        check_target(out)
    except OSError as error:
        if error.errno is not None:  # a system error (permissions, ...): as it is
            raise
        raise OSError(f"{error}; {hint}") from None
    not_an_input(out, label, inputs)


def _report(
    task: Task, run: WineRun, test: dict[str, float], counts: Counts, n: int, classes: range
) -> None:
    history = run.history
    print(f"task: {task}; network: {run.model!r}")
    print(
        f"trained {history.epochs} epochs; kept epoch {history.best_epoch} (lowest validation loss)"
    )
    print(f"test metrics ({n} wines):")
    print(f"  MSE                       {test['mse']:.4f}")
    print(f"  mean absolute deviation   {test['mad']:.4f}")
    print(f"  within ±0.5 of quality    {test['within_0.5']:.1%}")
    print(f"  within ±1.0 of quality    {test['within_1.0']:.1%}")
    what = "rounded predictions" if task == "regress" else "most probable scores"
    print(f"confusion matrix (rows: true quality; columns: {what}):")
    print(format_confusion(counts, classes))


def _train_wine(args: argparse.Namespace) -> None:
    task: Task = args.task
    seed: int = args.seed
    # Checked now, not after training; found, not imported (importing it here would
    # print its own import-time warnings, such as matplotlib 3.9's on pyparsing 3.3).
    if importlib.util.find_spec("matplotlib") is None:
        raise ImportError(
            "train-wine draws its plots with matplotlib: pip install 'typednet[plot]'"
        )
    folder: str | None = args.checkpoint
    if args.resume and folder is None:
        raise _UsageError("argument --resume: needs --checkpoint DIR, the folder to resume from")
    if folder is not None and not args.resume and checkpoints.exists(folder):
        raise ValueError(
            f"--checkpoint {folder} holds a checkpoint already; add --resume to carry on "
            "from it, or choose another folder"
        )
    path = Path(args.data) if args.data is not None else None
    x, y = deduplicate(*load_wine_quality(path))
    rng = np.random.default_rng(seed)  # draws the split, then everything train_wine draws
    x_train, y_train, x_test, y_test = train_test_split(x, y, test_fraction=0.2, rng=rng)
    out = Path(args.out)
    _check_out(out, path)
    run = train_wine(
        x_train,
        y_train,
        task=task,
        rng=rng,
        epochs=args.epochs,
        batch_size=args.batch_size,
        progress=False if args.quiet else None,  # None: a terminal's bar
        checkpoint=folder,
        resume=folder if args.resume else None,
        compiled=args.compiled,
    )
    if run.history.interrupted:  # fit returned what it had: the command stops here
        raise KeyboardInterrupt
    quality = predict_quality(run.model, x_test)
    test = evaluate(y_test, quality)
    # The white wines' 3..9, widened to every score the data holds (all within 0..10).
    classes = range(min(QUALITIES[0], int(y.min())), max(QUALITIES[-1], int(y.max())) + 1)
    counts = confusion_matrix(y_test, quality_classes(quality, classes), classes)
    metrics = {
        "task": task,
        "data": "packaged winequality-white.csv" if path is None else str(path),
        "seed": seed,
        "network": repr(run.model),
        "columns": {"train": x_train.shape[1], "test": x_test.shape[1]},
        "epochs": {"run": run.history.epochs, "kept": run.history.best_epoch},
        "test": test,
        "confusion": {"classes": list(classes), "counts": counts.tolist()},
    }
    text = json.dumps(metrics, indent=2) + "\n"
    plots: dict[str, Callable[[Path], object]] = {
        "history.png": lambda path: plot_history(run.history, path),
        "network.png": lambda path: plot_network(run.net, path),
    }
    saved: list[str] = []
    failed: list[str] = []

    def fill(folder: str) -> None:  # a fresh folder, renamed to out when complete
        # What the run is for comes first: a plot that fails does not take it along.
        save(Path(folder, "network.npz"), run.model)
        write_atomically(Path(folder, "metrics.json"), lambda f: f.write(text.encode("utf-8")))
        saved.extend(["network.npz", "metrics.json"])
        for name, draw in plots.items():
            try:
                draw(Path(folder, name))
                saved.append(name)
            except Exception as error:  # reported below, in one line
                failed.append(f"{name}: {error}")

    replace_folder(out, fill)
    _report(task, run, test, counts, x_test.shape[1], classes)
    if failed:
        raise _Incomplete(f"saved to {out}: {', '.join(saved)}; but not {'; '.join(failed)}")
    print(f"saved to {out}: {', '.join(saved)}")


_OUTPUTS = ("network.npz", "metrics.json", "history.png", "network.png")
"""What ``train-wine`` writes into its --out folder, which it replaces as a whole."""


class _Incomplete(Exception):
    """A command did part of its work (the rest is named in the message)."""


def _check_out(out: Path, data: Path | None) -> None:
    """Before training: ``out`` can be replaced (absent, or a previous run's folder) and
    does not hold ``data``."""
    if out.exists() or out.is_symlink():
        if not out.is_dir() or out.is_symlink():
            raise ValueError(f"--out {out}: not a folder; choose another --out")
        for entry in out.iterdir():
            with contextlib.suppress(OSError):
                if data is not None and entry.samefile(data):
                    raise ValueError(
                        f"--out {out} holds the --data file {data}: the folder is replaced "
                        "as a whole, so choose another --out"
                    )
        other = sorted(
            entry.name
            for entry in out.iterdir()
            if entry.name not in _OUTPUTS or not entry.is_file() or entry.is_symlink()
        )
        if other:
            raise ValueError(
                f"--out {out}: holds {other[0]!r}, which is not a file of a train-wine run; "
                "the folder is replaced as a whole, so choose another --out"
            )
    out.parent.mkdir(parents=True, exist_ok=True)


# --- parsing -----------------------------------------------------------------------------


class _UsageError(Exception):
    """A bad command line; argparse's message."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors raised, to be reported in one line by `main`."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _count(minimum: int) -> Callable[[str], int]:
    """An argparse type: an int of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}")
        return value

    return parse


def _parser() -> _Parser:
    parser = _Parser(
        prog="typednet",
        usage="%(prog)s [-h] [--version] COMMAND ...",
        description="typednet: a static-typed neural-network library on NumPy.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=(
            f"typednet {__version__} (Python {platform.python_version()}, NumPy {np.__version__})"
        ),
        help="print typednet's version, with Python's and NumPy's, and exit",
    )
    # (No metavar: argparse would then wrap the listing of a long command's help.)
    commands = parser.add_subparsers(
        title="commands", dest="COMMAND", required=True, prog="typednet"
    )
    demo = commands.add_parser(
        "demo",
        help="the course's forward pass, then its training run",
        description=(
            "Print the course's 5-3-5-4 network's forward pass layer by layer, then train "
            "it with plain gradient descent (learning rate 0.01, 10 000 epochs), printing "
            "the loss every 1000 epochs and the final predictions beside the targets."
        ),
    )
    demo.set_defaults(run=_demo)

    wine = commands.add_parser(
        "train-wine",
        help="train on the UCI wine data and report test metrics",
        description=(
            "Deduplicate the data, split it 80/20 by columns with default_rng(SEED), "
            "standardize on the training columns, train with Adam and early stopping on "
            "10% of the training columns, then report the test MSE, mean absolute "
            "deviation, accuracy within ±0.5 and ±1.0, and the confusion matrix. Saves into "
            "DIR: network.npz (raw features in, quality or score probabilities out) and "
            "metrics.json first, then history.png and network.png. Needs matplotlib "
            "(typednet[plot]), checked before training."
        ),
    )
    wine.add_argument(
        "--data",
        metavar="PATH",
        help="a UCI winequality CSV: a regular file or a pipe, qualities 0..10 (default: "
        "the white wines that ship with typednet)",
    )
    wine.add_argument(
        "--task",
        choices=("regress", "classify"),
        default="regress",
        help="regress: 11-64-32-1 with MSE (default); classify: 11-15-15-15-11 softmax "
        "over the scores 0..10 with cross-entropy",
    )
    wine.add_argument(
        "--epochs",
        type=_count(1),
        default=EPOCHS,
        help=f"the most epochs (default {EPOCHS})",
    )
    wine.add_argument(
        "--out",
        default="typednet-wine",
        metavar="DIR",
        help="where to save (default typednet-wine): a new folder, or one of an earlier "
        "run, which is replaced as a whole when this run completes",
    )
    wine.add_argument(
        "--seed", type=_count(0), default=42, help="split and training seed (default 42)"
    )
    wine.add_argument(
        "--batch-size",
        type=_count(1),
        default=BATCH_SIZE,
        help=f"training columns per Adam step (default {BATCH_SIZE})",
    )
    wine.add_argument(
        "--quiet", action="store_true", help="no progress bar (by default, one only on a terminal)"
    )
    wine.add_argument(
        "--checkpoint",
        metavar="DIR",
        help="after each epoch, write a checkpoint of the run into DIR (created if "
        "missing), atomically: a run killed at any moment resumes from the last one",
    )
    wine.add_argument(
        "--resume",
        action="store_true",
        help="carry on from the checkpoint in --checkpoint DIR, to the same result as a run "
        "never stopped (the same command line); without a checkpoint there yet, start anew",
    )
    wine.add_argument(
        "--compiled",
        action="store_true",
        help="train with fit's compiled loop, several times faster at small batches "
        "(needs numba and scipy: pip install 'typednet[fast]'); float64 agrees with the default "
        "to 1e-12",
    )
    wine.set_defaults(run=_train_wine)

    show = commands.add_parser(
        "info",
        help="describe a network saved by typednet.io.save",
        description=(
            "Print a saved network's architecture, parameter count and dtype, then one "
            "line per layer. The file is checked as tn.load checks it."
        ),
    )
    show.add_argument("path", metavar="PATH", help="the .npz file tn.save wrote")
    show.set_defaults(run=_info)

    export = commands.add_parser(
        "export",
        help="write a saved network as an ONNX model",
        description=(
            "Write the network saved in NET (by typednet.io.save) as an ONNX model with "
            "input x and output y in the network's dtype. Needs the extra typednet[onnx]."
        ),
    )
    export.add_argument("net", metavar="NET.npz", help="the network, as tn.save wrote it")
    export.add_argument(
        "model",
        metavar="MODEL.onnx",
        help="where to write: replaced atomically if it is a regular file; - writes to "
        "standard output (a pipe or a file, not a terminal)",
    )
    export.add_argument(
        "--layout",
        choices=("rows", "columns"),
        default="rows",
        help="rows: x is (batch, features), the ONNX convention (default); columns: "
        "(features, batch), as typednet lays out a batch",
    )
    export.set_defaults(run=_export)

    predict = commands.add_parser(
        "predict",
        help="a saved network's predictions for a CSV file's samples",
        description=(
            "Predict every sample of DATA: one sample per row (a header line is allowed), "
            "read in blocks so memory stays bounded. Writes one row per sample to PRED: "
            "the outputs, or for a softmax network the class index then each class's "
            "probability. PRED is replaced atomically."
        ),
    )
    predict.add_argument("net", metavar="NET.npz", help="the network, as tn.save wrote it")
    predict.add_argument(
        "data",
        metavar="DATA.csv",
        help="the samples: UTF-8 CSV, a regular file or a pipe",
    )
    predict.add_argument(
        "--out",
        required=True,
        metavar="PRED.csv",
        help="where to write: replaced atomically if it is a regular file; - writes to "
        "standard output",
    )
    predict.add_argument(
        "--header",
        choices=("auto", "yes", "no"),
        default="auto",
        help="whether DATA's first line is a header; auto (default): when none of its "
        "cells is a number (0,1,2,..., pandas' header for unnamed columns, is refused: "
        "say yes or no)",
    )
    predict.add_argument(
        "--columns",
        action="store_true",
        help="the course's layout: one row per feature, one column per sample (no header), "
        "and the predictions likewise; read whole",
    )
    predict.set_defaults(run=_predict)
    return parser


def _fail(message: str) -> None:
    print("typednet: error: " + " ".join(message.splitlines()), file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 on success, 1 when the command failed on its input (a
        missing or malformed file), 2 for a bad command line, 130 when interrupted
        (Ctrl-C). Every failure is one line on stderr.
    """
    try:
        if threading.current_thread() is threading.main_thread():
            # Ctrl-C raises KeyboardInterrupt from here on (the launcher, `typednet_cli`,
            # handles it during start-up).
            signal.signal(signal.SIGINT, signal.default_int_handler)
        # NumPy's floating-point warnings are silenced: typednet's own checks turn a
        # non-finite loss, param or statistic into the one-line error below, so the
        # warning would only print first. Any other RuntimeWarning becomes that error.
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            parser = _parser()
            if not (sys.argv[1:] if argv is None else argv):  # bare `typednet`
                parser.print_help()
                return 0
            args = parser.parse_args(argv)
            run: Callable[[argparse.Namespace], None] = args.run
            run(args)
    except SystemExit as done:  # --help printed the usage
        return done.code if isinstance(done.code, int) else 0
    except _UsageError as error:
        _fail(str(error))
        return 2
    except BrokenPipeError:  # the reader went away (`typednet demo | head`): not an error
        # As Python's docs advise: point stdout at devnull so the exit flush is quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (ValueError, OSError, ShapeError, ImportError, RuntimeWarning, _Incomplete) as error:
        _fail(str(error))
        return 1
    except MemoryError as error:
        _fail(f"out of memory: {error}" if str(error) else "out of memory")
        return 1
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
