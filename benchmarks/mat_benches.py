"""What typed maths costs: the course's forward pass written with `tn.Mat` against bare NumPy.

Three peers compute the same forward pass, interleaved (see harness.py):

- ``numpy``: the course's own code on bare arrays (``handwritten.tutorial_forward``);
- ``numpy_tn_acts``: the same expression on bare arrays with typednet's activations,
  so the difference to ``mat`` is the wrapper alone;
- ``mat``: ``tn.sigmoid(w3 @ tn.sigmoid(w2 @ tn.leaky_relu(0.1)(w1 @ x + b1) + b2) + b3)``
  on `tn.Mat` values: each ``@``, ``+`` and activation checks its operands' sizes and
  returns a new read-only `Mat`.

Run: OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/mat_benches.py [--quick]
(needs only the dev install, no torch; the variable pins NumPy's BLAS to one thread, the
like-for-like setting of RESULTS.md).
"""

import argparse
import os
import platform
import sys
from collections.abc import Callable

import handwritten
import numpy as np
from harness import Budget, Peer, Result, calibrated, interleave, render

import typednet as tn
from typednet.apps.tutorial import Features, Hidden1, Hidden2, Output, build

FULL = Budget(repeats=61, min_repeats=7, warmup=2, sample_seconds=0.01, max_seconds=40.0)
QUICK = Budget(repeats=5, min_repeats=3, warmup=1, sample_seconds=0.002, max_seconds=5.0)


def _blas_threads() -> str:
    """NumPy's BLAS threads as set from outside (``OPENBLAS_NUM_THREADS=1 ...``)."""
    return f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset (default)')}"


def _mat_forward(batch: int, budget: Budget) -> Result:
    """The course's network on ``batch`` columns (its own x when batch is 1)."""
    net, x_course, _ = build()
    w1, b1, w2, b2, w3, b3 = net.params
    x = x_course if batch == 1 else np.random.default_rng(0).random((5, batch))
    leaky = tn.leaky_relu(0.1)
    mw1, mw2, mw3 = (
        tn.mat(w1, Hidden1, Features),
        tn.mat(w2, Hidden2, Hidden1),
        tn.mat(w3, Output, Hidden2),
    )
    mb1, mb2, mb3 = (
        tn.mat(b1, Hidden1, tn.One),
        tn.mat(b2, Hidden2, tn.One),
        tn.mat(b3, Output, tn.One),
    )
    mx = tn.mat(x, Features, tn.Samples)
    fns: dict[str, Callable[[], tn.Matrix]] = {
        "numpy": lambda: handwritten.tutorial_forward(x, w1, b1, w2, b2, w3, b3),
        "numpy_tn_acts": lambda: tn.sigmoid(
            w3 @ tn.sigmoid(w2 @ leaky(w1 @ x + b1) + b2) + b3
        ),
        "mat": lambda: tn.sigmoid(
            mw3 @ tn.sigmoid(mw2 @ leaky(mw1 @ mx + mb1) + mb2) + mb3
        ).array,
    }  # fmt: skip
    want = fns["numpy"]()
    for name, fn in fns.items():
        np.testing.assert_allclose(fn(), want, rtol=1e-15, atol=1e-15, err_msg=name)
    s, threads = budget.sample_seconds, _blas_threads()
    peers = [
        Peer("numpy", calibrated(fns["numpy"], s), threads, "the course's code, bare arrays"),
        Peer(
            "numpy_tn_acts",
            calibrated(fns["numpy_tn_acts"], s),
            threads,
            "the same on bare arrays, typednet's activations",
        ),
        Peer("mat", calibrated(fns["mat"], s), threads, "the same on `tn.Mat` values"),
    ]
    samples = interleave(peers, budget)
    # On a shared, loaded machine the fastest sample is the steadiest estimate of the
    # intrinsic cost (interference only ever adds time): reported beside the medians.
    best = {name: min(times) for name, times in samples.items()}
    shown = ", ".join(
        f"`{name}` {best[name] * 1e6:.1f} µs ({best[name] / best['numpy']:.2f}x)" for name in best
    )
    return Result(
        name=f"mat_forward_batch_{batch}",
        what=f"The course's 5-3-5-4 forward pass by hand on {batch} column(s), float64; "
        "time per forward pass (outputs agree to 1e-15)",
        baseline="numpy",
        peers=peers,
        samples=samples,
        notes=[f"fastest samples: {shown}", "no target: the issue asks for the cost measured"],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few short samples: a smoke run")
    args = parser.parse_args(argv)
    budget = QUICK if args.quick else FULL
    command = " ".join(["python", "benchmarks/mat_benches.py", *sys.argv[1:]])
    machine = f"Python {platform.python_version()}, NumPy {np.__version__}, {os.cpu_count()} CPUs"
    print(f"## Machine\n\n- {machine}\n- command: `{command}`\n", flush=True)
    for batch in (1, 1024):
        result = _mat_forward(batch, budget)
        load = os.getloadavg()[0]
        print(f"{render(result)}\n1-minute load average after it: {load:.2f}\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
