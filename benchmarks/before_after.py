"""A chain network's speed before and after a change, in one run, interleaved.

    python benchmarks/before_after.py [--base REV] [--rounds 9]

The typednet of ``--base`` (a git revision, exported with ``git archive``) and the one
in this working tree each run the same workloads in a fresh process, alternately, for
``--rounds`` rounds; every process pins BLAS to one thread and times in process CPU
seconds. Printed: the median over rounds of each side's per-process median, and the
ratio after / before (below 1: faster now). The workloads are plain chains, the networks
every existing user has: the course's one-column forward with checks on, a batch-1024
forward of 784-256-128-10, an epoch of the digits-shaped 64-128-64-10 network at
batch 32 with Adam, and a float32 epoch of 784-256-128-10 on 8192 columns at batch 1024.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WORKLOAD = r"""
import json, time
import numpy as np
import typednet as tn

def median_seconds(call, repeats, inner):
    call()
    samples = []
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(inner):
            call()
        samples.append((time.process_time() - start) / inner)
    samples.sort()
    return samples[len(samples) // 2]

rng = np.random.default_rng(0)
course = tn.network(tn.dense(rng, 5, 3, tn.leaky_relu(0.1))).then(
    tn.dense(rng, 3, 5, tn.sigmoid)).then(tn.dense(rng, 5, 4, tn.sigmoid))
column = rng.random((5, 1))
mnist = tn.network(tn.dense(rng, 784, 256, tn.relu)).then(
    tn.dense(rng, 256, 128, tn.relu)).then(tn.dense(rng, 128, 10, tn.softmax))
batch = rng.random((784, 1024))
digits = tn.network(tn.dense(rng, 64, 128, tn.relu)).then(
    tn.dense(rng, 128, 64, tn.relu)).then(tn.dense(rng, 64, 10, tn.softmax))
x = rng.random((64, 1437))
y = np.eye(10)[rng.integers(0, 10, 1437)].T.copy()

x784 = rng.random((784, 8192)).astype(np.float32)
y784 = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 8192)].T.copy()
mnist32 = tn.network(tn.dense(rng, 784, 256, tn.relu, dtype=np.float32)).then(
    tn.dense(rng, 256, 128, tn.relu, dtype=np.float32)).then(
    tn.dense(rng, 128, 10, tn.softmax, dtype=np.float32))

def epoch_mnist():
    tn.fit(mnist32, x784, y784, loss=tn.cross_entropy, optimizer=tn.adam(1e-3), epochs=1,
           batch_size=1024, rng=np.random.default_rng(1), progress=False)

def epoch():
    tn.fit(digits, x, y, loss=tn.cross_entropy, optimizer=tn.adam(1e-3), epochs=1,
           batch_size=32, rng=np.random.default_rng(1), progress=False)

print(json.dumps({
    "course forward, one column (us)":
        1e6 * median_seconds(lambda: tn.forward(course, column), 15, 2000),
    "forward 784-256-128-10, batch 1024 (ms)":
        1e3 * median_seconds(lambda: tn.forward(mnist, batch), 15, 5),
    "fit epoch 64-128-64-10, batch 32, Adam (ms)": 1e3 * median_seconds(epoch, 9, 1),
    "fit epoch 784-256-128-10 f32, 8192 columns, batch 1024, Adam (ms)":
        1e3 * median_seconds(epoch_mnist, 5, 1),
}))
"""


def _export(rev: str, into: Path) -> Path:
    """``src/`` of revision ``rev``, written under ``into``."""
    archive = subprocess.run(
        ["git", "archive", rev, "src"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tempfile.TemporaryFile() as f:
        f.write(archive)
        f.seek(0)
        with tarfile.open(fileobj=f) as tar:
            tar.extractall(into, filter="data")
    return into / "src"


def _run(src: Path) -> dict[str, float]:
    env = {
        **os.environ,
        "PYTHONPATH": str(src),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", WORKLOAD], env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="HEAD~1", help="the revision to compare with")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        before_src = _export(args.base, Path(folder))
        sides = {"before": before_src, "after": ROOT / "src"}
        runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
        for _ in range(args.rounds):
            for side, src in sides.items():
                runs[side].append(_run(src))
    base = subprocess.run(
        ["git", "rev-parse", "--short", args.base], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    print(f"before: {base}; after: this working tree; {args.rounds} rounds, one thread, CPU time\n")
    print("| workload | before | after | after / before |")
    print("|---|---|---|---|")
    for name in runs["before"][0]:
        b = statistics.median(r[name] for r in runs["before"])
        a = statistics.median(r[name] for r in runs["after"])
        print(f"| {name} | {b:.3g} | {a:.3g} | {a / b:.3f} |")


if __name__ == "__main__":
    main()
