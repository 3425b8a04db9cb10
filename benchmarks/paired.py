"""Before and after a change in ONE process, call block by call block: paired ratios.

    python benchmarks/paired.py [--base REV] [--rounds 41]

`before_after.py` runs each side in its own process, one after the other: on a shared,
loaded machine the load moves between the two processes, and a 5 % change drowns (its
repeat runs of the same code differed by 1.4x here). This script imports both sides
into one process, the working tree's ``typednet`` and ``REV``'s ``src/typednet`` as the
package ``typednet_before`` (exported with ``git archive``: typednet's modules import
each other relatively), and times each workload's block on both sides back to back, in
alternating order, ``--rounds`` times (the first dropped). Printed: each side's median
and the median (and quartiles) of the per-round ratio after / before, so that both
sides always see the same load. BLAS is pinned to one thread; CPU time.

Workloads: the course's one-column forward with checks on (1000 calls), a `fit` epoch
of the digits-shaped 64-128-64-10 network at batch 32 with Adam in float64 and float32,
the 2-2-2-2 network at batch 1 (the per-step fixed cost, 1000 steps), and a float32
epoch of 784-256-128-10 on 8192 columns at batch 1024.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import importlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from before_after import ROOT, _export  # a sibling script

sys.path.insert(0, str(ROOT / "src"))

Work = dict[str, tuple[Callable[[], object], float]]


def _workloads(tn: Any) -> Work:
    """Each workload as (a call, its time unit per CPU second), built with ``tn``."""
    rng = np.random.default_rng(0)
    f32 = np.float32
    course = tn.network(tn.dense(rng, 5, 3, tn.leaky_relu(0.1)))
    course = course.then(tn.dense(rng, 3, 5, tn.sigmoid)).then(tn.dense(rng, 5, 4, tn.sigmoid))
    column = rng.random((5, 1))

    def chain(sizes: tuple[int, ...], dtype: type = np.float64) -> Any:
        acts = [tn.relu] * (len(sizes) - 2) + [tn.softmax]
        layers = [
            tn.dense(rng, p, n, a, dtype=dtype)
            for p, n, a in zip(sizes, sizes[1:], acts, strict=False)
        ]
        net = tn.network(layers[0])
        for layer in layers[1:]:
            net = net.then(layer)
        return net

    def data(rows: int, n: int, outs: int, dtype: type = np.float64) -> tuple[Any, Any]:
        x = rng.random((rows, n)).astype(dtype)
        return x, np.eye(outs, dtype=dtype)[rng.integers(0, outs, n)].T.copy()

    def fit(net: Any, xy: tuple[Any, Any], batch: int) -> Callable[[], object]:
        return lambda: tn.fit(
            net, *xy, loss=tn.cross_entropy, optimizer=tn.adam(1e-3), epochs=1,
            batch_size=batch, rng=np.random.default_rng(1), progress=False,
        )  # fmt: skip

    def forward() -> None:
        for _ in range(1000):
            tn.forward(course, column)

    return {
        "course forward, one column, checked (µs a call)": (forward, 1e3),
        "fit epoch 64-128-64-10 float64, batch 32, Adam (ms)": (
            fit(chain((64, 128, 64, 10)), data(64, 1437, 10), 32),
            1e3,
        ),
        "fit epoch 64-128-64-10 float32, batch 32, Adam (ms)": (
            fit(chain((64, 128, 64, 10), f32), data(64, 1437, 10, f32), 32),
            1e3,
        ),
        "fit step 2-2-2-2, batch 1 (µs a step)": (
            fit(chain((2, 2, 2, 2)), data(2, 1000, 2), 1),
            1e3,
        ),
        "fit epoch 784-256-128-10 float32, 8192 columns, batch 1024, Adam (ms)": (
            fit(chain((784, 256, 128, 10), f32), data(784, 8192, 10, f32), 1024),
            1e3,
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="HEAD~1", help="the revision to compare with")
    parser.add_argument("--rounds", type=int, default=41)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        (_export(args.base, Path(folder)) / "typednet").rename(Path(folder) / "typednet_before")
        sys.path.insert(0, folder)
        sides: dict[str, ModuleType] = {
            "before": importlib.import_module("typednet_before"),
            "after": importlib.import_module("typednet"),
        }
        work = {side: _workloads(tn) for side, tn in sides.items()}
        times: dict[str, dict[str, list[float]]] = {s: {k: [] for k in work[s]} for s in work}
        for r in range(args.rounds):
            order = ("before", "after") if r % 2 == 0 else ("after", "before")
            for name in work["before"]:
                for side in order:
                    call, unit = work[side][name]
                    start = time.process_time()
                    call()
                    times[side][name].append((time.process_time() - start) * unit)
    base = subprocess.run(
        ["git", "rev-parse", "--short", args.base], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    print(f"before: {base}; after: this working tree; {args.rounds} rounds in one process, ")
    print(f"alternating; one thread, CPU time; load {os.getloadavg()[0]:.1f} at the end\n")
    print("| workload | before | after | after / before, paired (quartiles) |")
    print("|---|---|---|---|")
    for name in work["before"]:
        b, a = times["before"][name][1:], times["after"][name][1:]
        q = sorted(x / y for x, y in zip(a, b, strict=True))
        n = len(q)
        print(
            f"| {name} | {statistics.median(b):.3g} | {statistics.median(a):.3g} | "
            f"{statistics.median(q):.3f} ({q[n // 4]:.3f} to {q[3 * n // 4]:.3f}) |"
        )


if __name__ == "__main__":
    main()
