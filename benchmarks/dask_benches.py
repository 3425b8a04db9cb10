"""typednet.dask measured: the figures of RESULTS.md's Dask section and docs/scaling.md.

    python benchmarks/dask_benches.py [--quick] [--gb 1.0] [--dir /tmp/typednet-dask-bench]

Needs only the dask extra (`make test` installs it); a separate command from `make
bench`, whose peers run interleaved in one process, which a cluster does not fit. Prints
Markdown tables:

1. the model's constants: a task round trip, compute per column, bytes per step;
2. bounded memory: `tn.forward` on a memory-mapped input with and without ``batch_size``
   (tracemalloc peak and peak RSS, each in a fresh process);
3. forward throughput on a memory-mapped .npy file of ``--gb`` GB: one process
   (`tn.forward(batch_size=...)`) against `typednet.dask.forward` with 1 and 2 workers;
4. exact-mode step time against batch size: one process (`tn.fit`), 1 and 2 workers;
5. local SGD against exact mode on the UCI white wine data: epoch time and final loss.

The input file is written under ``--dir`` and deleted at the end.
"""

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import dask
import dask.array as da
import numpy as np
from distributed import Client

import typednet as tn
import typednet.dask as tnd

FEATURES = 32


class NpyColumns:
    """A .npy file's (features, n) array, opened memory-mapped on each read.

    Pickles as its path, so Dask ships the path to the workers, not the data (a pickled
    np.memmap would carry every byte).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        a = np.load(path, mmap_mode="r")
        self.shape, self.dtype, self.ndim = a.shape, a.dtype, a.ndim

    def __getitem__(self, key: Any) -> np.ndarray:
        return np.asarray(np.load(self.path, mmap_mode="r")[key])


def network(sizes: tuple[int, ...], seed: int = 0) -> tn.Network:
    rng = np.random.default_rng(seed)
    layers = [tn.dense(rng, a, b, tn.tanh) for a, b in itertools.pairwise(sizes[:-1])]
    layers.append(tn.dense(rng, sizes[-2], sizes[-1], tn.identity))
    return tn.Network(tuple(layers))


def write_input(path: Path, n: int, block: int = 1 << 18) -> None:
    """A (FEATURES, n) float64 .npy file of normal draws, written block by block."""
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(FEATURES, n))
    rng = np.random.default_rng(0)
    for start in range(0, n, block):
        stop = min(start + block, n)
        out[:, start:stop] = rng.standard_normal((FEATURES, stop - start))
    out.flush()
    del out


def cluster(workers: int) -> tuple[Any, Client]:
    c = tnd.local_cluster(n_workers=workers)
    return c, Client(c, set_as_default=False)


def close(pair: tuple[Any, Client]) -> None:
    pair[1].close()
    pair[0].close()


# --- 1. constants -------------------------------------------------------------------------


def constants(net: tn.Network, quick: bool) -> dict[str, float]:
    pair = cluster(2)
    client = pair[1]
    try:
        client.submit(int, 0, pure=False).result()
        times = []
        for _ in range(20 if quick else 100):
            start = time.perf_counter()
            client.submit(int, 0, pure=False).result()
            times.append(time.perf_counter() - start)
        round_trip = statistics.median(times)
        many = []
        for _ in range(20 if quick else 100):
            start = time.perf_counter()
            client.gather([client.submit(int, i, pure=False) for i in range(16)])
            many.append(time.perf_counter() - start)
        per_task = (statistics.median(many) - round_trip) / 15
    finally:
        close(pair)
    x = np.random.default_rng(1).normal(size=(FEATURES, 8192))
    y = np.random.default_rng(2).normal(size=(1, 8192))
    per = []
    for _ in range(3 if quick else 9):
        start = time.perf_counter()
        tn.value_and_grad(net, x, y, tn.mse)
        per.append((time.perf_counter() - start) / 8192)
    params = net.param_count * 8
    print("\n## 1. The model's constants\n")
    print(f"Measured at {load()}.\n")
    print("| quantity | value |\n|---|---|")
    print(
        f"| r: task round trip (submit + result, 2-worker LocalCluster), median | {round_trip * 1e3:.2f} ms |"
    )
    print(
        f"| c: gradient compute per column, {sizes_label(net)}, batch 8192, one process, best of runs | {min(per) * 1e6:.2f} µs |"
    )
    print(
        f"| s: each extra task in one step (16 tasks gathered at once vs 1), median | {per_task * 1e3:.2f} ms |"
    )
    print(f"| params (= one gradient), float64 | {params / 1e3:.1f} kB |")
    print(
        f"| bytes per exact step, per worker holding columns | params out {params / 1e3:.1f} kB"
        f" + gradient back {params / 1e3:.1f} kB |"
    )
    return {
        "round_trip": round_trip,
        "per_task": per_task,
        "per_column": min(per),
        "params": params,
    }


def load() -> str:
    """The machine's 1-minute load average: other processes share the cores."""
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def sizes_label(net: tn.Network) -> str:
    return "-".join(str(s) for s in net.sizes)


# --- 2. bounded memory --------------------------------------------------------------------

_MEMORY = """
import json, resource, sys, tracemalloc
import numpy as np
import typednet as tn
sys.path.insert(0, {here!r})
from dask_benches import network
x = np.load({path!r}, mmap_mode="r")[:, :{n}]
net = network({sizes!r})
batch = {batch}
tracemalloc.start()
y = tn.forward(net, x, batch_size=batch)
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({{"peak": peak, "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "out": y.nbytes}}))
"""


def memory(path: Path, n: int, sizes: tuple[int, ...], block: int) -> None:
    rows = []
    for batch in (None, block):
        code = _MEMORY.format(
            here=str(Path(__file__).parent), path=str(path), n=n, sizes=sizes, batch=batch
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        rows.append((batch, json.loads(done.stdout)))
    input_mb = FEATURES * n * 8 / 1e6
    widest = max(sizes)
    one_block = 3 * widest * block * 8
    print(f"\n## 2. Bounded memory: tn.forward on a memory-mapped {input_mb:.0f} MB input\n")
    print(f"Measured at {load()}.\n")
    print(
        f"Network {'-'.join(map(str, sizes))}, {n} columns; output {rows[0][1]['out'] / 1e6:.1f} MB;"
    )
    print(
        f"one block of {block} columns: {one_block / 1e6:.1f} MB of activations (3 x widest x block x 8 B).\n"
    )
    print(
        "| batch_size | tracemalloc peak | / (1.2 x output + one block) | peak RSS (includes the mapped input pages read) |"
    )
    print("|---|---|---|---|")
    for batch, r in rows:
        bound = 1.2 * r["out"] + one_block
        print(
            f"| {batch} | {r['peak'] / 1e6:.1f} MB | {r['peak'] / bound:.2f} | {r['rss'] / 1e6:.0f} MB |"
        )


# --- 3. forward throughput ----------------------------------------------------------------


def forward_throughput(path: Path, sizes: tuple[int, ...], chunk: int, block: int) -> None:
    net = network(sizes)
    lazy = NpyColumns(path)
    n = lazy.shape[1]
    gb = FEATURES * n * 8 / 1e9
    rows = []
    x = np.load(path, mmap_mode="r")
    tn.forward(net, np.asarray(x[:, :block]))
    start = time.perf_counter()
    tn.forward(net, x, batch_size=block)
    rows.append((f"one process, tn.forward(batch_size={block})", time.perf_counter() - start))
    for workers in (1, 2):
        pair = cluster(workers)
        try:
            X = da.from_array(lazy, chunks=(FEATURES, chunk))
            pair[1].compute(tnd.forward(net, X[:, :chunk])).result()  # warm the workers
            start = time.perf_counter()
            pair[1].compute(tnd.forward(net, X)).result()
            rows.append(
                (f"typednet.dask.forward, {workers} worker(s)", time.perf_counter() - start)
            )
        finally:
            close(pair)
    print(f"\n## 3. Forward throughput, {sizes_label(net)}, a {gb:.2f} GB memory-mapped input\n")
    print(f"Measured at {load()}.\n")
    print(f"{n} columns of {FEATURES} float64; Dask chunks of {chunk} columns; the output is")
    print("gathered into the calling process in every case.\n")
    print("| run | seconds | columns/s | input GB/s | vs one process |\n|---|---|---|---|---|")
    base = rows[0][1]
    for label, seconds in rows:
        print(
            f"| {label} | {seconds:.2f} | {n / seconds:.3g} | {gb / seconds:.2f} | {base / seconds:.2f}x |"
        )


# --- 4. exact-mode step time --------------------------------------------------------------


def step_times(sizes: tuple[int, ...], batches: list[int], steps: int) -> None:
    net = network(sizes)
    rng = np.random.default_rng(3)
    rows: dict[int, dict[str, float]] = {b: {} for b in batches}
    for b in batches:
        n = b * steps
        x = rng.normal(size=(FEATURES, n))
        y = rng.normal(size=(1, n))
        kw = {"loss": tn.mse, "optimizer": tn.adam(1e-3), "batch_size": b, "progress": False}
        rows[b]["one process"] = per_step(
            lambda e, x=x, y=y, kw=kw: tn.fit(
                net, x, y, epochs=e, rng=np.random.default_rng(0), **kw
            ),
            steps,
        )
        for workers in (1, 2):
            pair = cluster(workers)
            try:
                X = da.from_array(x, chunks=(FEATURES, max(n // 4, 1)))
                Y = da.from_array(y, chunks=(1, max(n // 4, 1)))
                rows[b][f"{workers} worker(s)"] = per_step(
                    lambda e, X=X, Y=Y, kw=kw, c=pair[1]: tnd.fit(
                        net, X, Y, epochs=e, rng=np.random.default_rng(0), client=c, **kw
                    ),
                    steps,
                )
            finally:
                close(pair)
    print(f"\n## 4. Exact-mode step time against batch size, {sizes_label(net)}, Adam\n")
    print(f"Measured at {load()}.\n")
    print("Per step: (best of 3 runs of 3 epochs - best of 3 runs of 1 epoch) / (2 x 8 steps),")
    print("so data placement and start-up are left out. The workers run one BLAS thread each;")
    print("the single process keeps NumPy's default (2 threads here).\n")
    print("| batch | one process | 1 worker | 2 workers | 2 workers vs 1 |\n|---|---|---|---|---|")
    for b in batches:
        r = rows[b]
        print(
            f"| {b} | {r['one process'] * 1e3:.1f} ms | {r['1 worker(s)'] * 1e3:.1f} ms "
            f"| {r['2 worker(s)'] * 1e3:.1f} ms | {r['1 worker(s)'] / r['2 worker(s)']:.2f}x |"
        )


def per_step(run: Any, steps: int, repeats: int = 3) -> float:
    """(best time of 3 epochs - best time of 1 epoch) / (2 x steps): the best of a few
    runs, since other processes share the machine's cores."""

    def best(epochs: int) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run(epochs)
            times.append(time.perf_counter() - start)
        return min(times)

    return (best(3) - best(1)) / (2 * steps)


# --- 5. local SGD on the wine data --------------------------------------------------------


def local_sgd(path: Path | None, epochs: int) -> None:
    x, y = tn.deduplicate(*tn.load_wine_quality(path))
    x_tr, y_tr, x_te, y_te = tn.train_test_split(
        x, y, test_fraction=0.2, rng=np.random.default_rng(42)
    )
    scaler = tn.standardize(x_tr)
    x_tr, x_te = scaler.apply(x_tr), scaler.apply(x_te)
    offset = float(y_tr.mean())
    y_tr, y_te = y_tr - offset, y_te - offset
    net = network((x.shape[0], 64, 1))
    kw = {
        "loss": tn.mse,
        "optimizer": tn.adam(1e-3),
        "epochs": epochs,
        "batch_size": 64,
        "progress": False,
    }
    rows = []
    start = time.perf_counter()
    trained, history = tn.fit(net, x_tr, y_tr, rng=np.random.default_rng(0), **kw)  # type: ignore[arg-type]
    rows.append(("tn.fit, one process", time.perf_counter() - start, history, trained))
    pair = cluster(2)
    try:
        half = (x_tr.shape[1] + 1) // 2
        X = da.from_array(x_tr, chunks=(x_tr.shape[0], half))
        Y = da.from_array(y_tr, chunks=(1, half))
        for label, k in (("exact", None), ("local SGD, k=4", 4), ("local SGD, k=16", 16)):
            start = time.perf_counter()
            trained, history = tnd.fit(
                net,
                X,
                Y,
                rng=np.random.default_rng(0),
                client=pair[1],
                sync_every=k,
                **kw,  # type: ignore[arg-type]
            )
            rows.append(
                (
                    f"typednet.dask, 2 workers, {label}",
                    time.perf_counter() - start,
                    history,
                    trained,
                )
            )
    finally:
        close(pair)
    print(f"\n## 5. Local SGD against exact mode: UCI white wine, {sizes_label(net)}\n")
    print(f"Measured at {load()}.\n")
    print(f"{x_tr.shape[1]} training columns (deduplicated, standardized, quality centred),")
    print(
        f"{x_te.shape[1]} test columns; Adam 1e-3, batch 64 (per worker in local SGD), {epochs} epochs.\n"
    )
    print("| run | seconds per epoch | final train loss | test MSE |\n|---|---|---|---|")
    for label, seconds, history, trained in rows:
        test = tn.mse(y_te, tn.forward(trained, x_te))
        print(f"| {label} | {seconds / epochs:.3f} | {history.train_loss[-1]:.4f} | {test:.4f} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--gb", type=float, default=1.0, help="size of the memory-mapped input")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/typednet-dask-bench"))
    parser.add_argument(
        "--data", type=Path, default=None, help="a winequality CSV (default: the packaged white)"
    )
    args = parser.parse_args(argv)
    gb = 0.05 if args.quick else args.gb
    sizes = (FEATURES, 128, 128, 1)
    print(f"# typednet.dask benchmarks{' (quick)' if args.quick else ''}\n")
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, dask {dask.__version__}")
    args.dir.mkdir(parents=True, exist_ok=True)
    path = args.dir / "x.npy"
    try:
        n = int(gb * 1e9 / (FEATURES * 8))
        write_input(path, n)
        constants(network(sizes), args.quick)
        memory(path, min(n, 2_000_000), (FEATURES, 64, 64, 1), 65536)
        forward_throughput(path, sizes, chunk=1 << 18 if not args.quick else 1 << 15, block=65536)
        batches = [64, 256, 1024, 4096] if args.quick else [64, 256, 1024, 4096, 16384]
        step_times(sizes, batches, steps=8)
        local_sgd(args.data, epochs=2 if args.quick else 10)
    finally:
        shutil.rmtree(args.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
