"""What a residual block costs in training over its block alone (issue 17: "no more than
its block plus one add"), before and after a change, in one run, interleaved.

    python benchmarks/residual_cost.py [--base REV] [--rounds 9] [--keep-heap]

Two networks of the same layers train side by side: the chain ``in → block → out`` and
``in → residual(block) → out``, the block being two Dense layers ``width → width (relu)
→ width (identity)``. The residual computes exactly the chain's products plus
``x + block(x)`` in the forward pass and the skip's gradient added to the block's in the
backward pass: "its block plus one add". Each workload times `tn.train_step` (checks off,
as in `fit`'s loop) on one batch, the chain and the residual alternately, and the two
adds alone (``np.add`` of two (width, batch) arrays into a new one, twice).

The typednet of ``--base`` (a git revision) and the one in this working tree each run
in a fresh process, alternately, for ``--rounds`` rounds; every process pins BLAS to one
thread and times in process CPU seconds. Printed per workload and side: the medians over
rounds of the per-process medians of the chain's step, the residual's step, their ratio,
the residual's extra time and what the two adds alone take.

``--keep-heap`` sets glibc's ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_``
high in the timed processes, so that freed arrays stay in the heap instead of going back
to the system and being faulted in again at the next step: at width 256 the residual's
one more live (width, batch) array per step is enough to tip the default allocator into
that, and this option shows what is left once it does not.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from before_after import ROOT, _export  # a sibling script

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

results = {}
for width, batch, inner in ((64, 32, 400), (256, 256, 40)):
    rng = np.random.default_rng(0)
    first = tn.dense(rng, 16, width, tn.relu)
    inside = tn.dense(rng, width, width, tn.relu)
    back = tn.dense(rng, width, width, tn.identity)
    last = tn.dense(rng, width, 1, tn.identity)
    chain = tn.network(first).then(inside).then(back).then(last)
    residual = tn.network(first).then(tn.residual(tn.network(inside).then(back))).then(last)
    x, y = rng.random((16, batch)), rng.random((1, batch))
    opt = tn.sgd(1e-3)

    def stepper(net):
        state = opt.init(net)
        return lambda: tn.train_step(net, state, x, y, loss=tn.mse, optimizer=opt)

    a, b = rng.random((width, batch)), rng.random((width, batch))
    times = {"chain": [], "residual": []}
    with tn.no_checks():
        for k in range(7):  # interleaved, the order alternating
            order = ("chain", "residual") if k % 2 == 0 else ("residual", "chain")
            for name in order:
                net = chain if name == "chain" else residual
                times[name].append(median_seconds(stepper(net), 5, inner))
    adds = median_seconds(lambda: (np.add(a, b), np.add(a, b)), 7, 20 * inner)
    key = f"width {width}, batch {batch}"
    results[key] = {
        "chain": 1e6 * statistics.median(times["chain"]),
        "residual": 1e6 * statistics.median(times["residual"]),
        "adds": 1e6 * adds,
    }
print(json.dumps(results))
""".replace("import json, time", "import json, statistics, time")


def _run(src: Path, keep_heap: bool) -> dict[str, dict[str, float]]:
    heap = {"MALLOC_MMAP_THRESHOLD_": str(2**26), "MALLOC_TRIM_THRESHOLD_": str(2**28)}
    env = {
        **os.environ,
        **(heap if keep_heap else {}),
        "PYTHONPATH": str(src),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", WORKLOAD], env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, dict[str, float]] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="HEAD~1", help="the revision to compare with")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--keep-heap", action="store_true", help="glibc keeps freed memory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        sides = {"before": _export(args.base, Path(folder)), "after": ROOT / "src"}
        runs: dict[str, list[dict[str, dict[str, float]]]] = {side: [] for side in sides}
        for _ in range(args.rounds):
            for side, src in sides.items():
                runs[side].append(_run(src, args.keep_heap))
    base = subprocess.run(
        ["git", "rev-parse", "--short", args.base], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    heap = "; freed memory kept in the heap" if args.keep_heap else ""
    print(
        f"before: {base}; after: this working tree; {args.rounds} rounds, one thread, "
        f"CPU time{heap}"
    )
    print("train_step µs (medians); extra = residual - chain; adds = the two np.add alone\n")
    print("| workload | side | chain | residual | residual / chain | extra | adds |")
    print("|---|---|---|---|---|---|---|")
    for workload in runs["before"][0]:
        for side, results in runs.items():
            chain, residual, adds = (
                statistics.median(r[workload][k] for r in results)
                for k in ("chain", "residual", "adds")
            )
            print(
                f"| {workload} | {side} | {chain:.1f} | {residual:.1f} | "
                f"{residual / chain:.3f} | {residual - chain:.1f} | {adds:.1f} |"
            )


if __name__ == "__main__":
    main()
