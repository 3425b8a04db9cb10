"""What `tn.fit` holds in memory beyond its data, as the data grows (issue 23, part 3).

A 64-128-64-10 float64 network (tanh, identity output, mse) trains one epoch at batch
256 (Adam) on n = 10^4, 10^5 and 10^6 columns of 64 features, in six settings: plain;
with a metric (``tn.mae``, a `Loss`, on the training set after the epoch); with a metric
that is a plain function (``mean_abs``, the same value); with validation data
(the training set itself, so that the data does not grow); with both; and plain on an
``np.memmap`` training set (a file of 64 x n float64 opened read-only).

Each (setting, n) runs in a fresh process. The data is made first; then, around the
`fit` call alone:

- tracemalloc's peak: every NumPy array `fit` allocates (params, optimizer state, the
  batch workspace, the checks' and the evaluation's temporaries), none of the data;
- the peak resident memory (VmHWM, reset to the current RSS just before `fit` through
  /proc/self/clear_refs) minus the resident memory before `fit`;
- for the memmap, the peak of anonymous resident memory (RssAnon, sampled every 2 ms):
  what `fit` itself holds, without the file's pages in the page cache, which the kernel
  maps in as they are read and counts in VmHWM (they are the data).

Run (Linux): ``PYTHONPATH=src .venv/bin/python benchmarks/fit_memory.py``; with
``--src PATH`` the children import typednet from PATH instead (e.g. another worktree's
``src``, to measure before and after). With ``--times``: what the blocks cost in time,
the check and the evaluation by blocks against at once, at 200 000 columns.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

SIZES = (10_000, 100_000, 1_000_000)
SETTINGS = ("plain", "metric", "metric function", "validation", "metric+validation", "memmap")


def _status(field: str) -> int:
    """A field of /proc/self/status, in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def mean_abs(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """``tn.mae`` as a plain function, which `fit` cannot split into blocks."""
    return float(np.mean(np.abs(y_pred - y_true)))


def child(setting: str, n: int, folder: str) -> dict[str, float]:
    """Run in a fresh process: one fit, measured."""
    import tracemalloc

    import typednet as tn

    rng = np.random.default_rng(0)
    if setting == "memmap":
        path = os.path.join(folder, f"x{n}.f64")
        made = np.memmap(path, dtype=np.float64, mode="w+", shape=(64, n))
        for start in range(0, n, 65_536):  # written in blocks: no copy of the set here
            made[:, start : start + 65_536] = rng.standard_normal((64, min(65_536, n - start)))
        made.flush()
        del made
        x = np.memmap(path, dtype=np.float64, mode="r", shape=(64, n))
        y = np.empty((10, n))
        for start in range(0, n, 65_536):
            y[:, start : start + 65_536] = np.tanh(x[:10, start : start + 65_536])
        os.posix_fadvise(os.open(path, os.O_RDONLY), 0, 0, os.POSIX_FADV_DONTNEED)
    else:
        x = rng.standard_normal((64, n))
        y = np.tanh(x[:10])
    net = tn.network(tn.dense(rng, 64, 128, tn.tanh))
    net = net.then(tn.dense(rng, 128, 64, tn.tanh)).then(tn.dense(rng, 64, 10, tn.identity))
    kwargs: dict[str, object] = {}
    if setting == "metric function":
        kwargs["metric"] = mean_abs  # a function, not a Loss: given all the predictions
    elif "metric" in setting:
        kwargs["metric"] = tn.mae
    if "validation" in setting:
        kwargs["validation"] = (x, y)
    data = x.nbytes + y.nbytes

    peak_anon = [_status("RssAnon")]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak_anon[0] = max(peak_anon[0], _status("RssAnon"))
            time.sleep(0.002)

    anon_before = _status("RssAnon")
    rss_before = _status("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # VmHWM := VmRSS
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    tracemalloc.start()
    started = time.perf_counter()
    tn.fit(
        net, x, y, loss=tn.mse, optimizer=tn.adam(1e-3), epochs=1, batch_size=256,
        rng=np.random.default_rng(1), progress=False, **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip
    seconds = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    done.set()
    sampler.join()
    return {
        "data": data,
        "traced": traced,
        "rss": _status("VmHWM") - rss_before,
        "anon": peak_anon[0] - anon_before,
        "seconds": seconds,
    }


def times() -> None:
    """What the blocks cost in time: the whole-set check and the evaluation at 200 000
    columns, by blocks and at once, interleaved, medians of 9 rounds."""
    import statistics

    import typednet as tn
    from typednet import _kernels, train

    rng = np.random.default_rng(0)
    n = 200_000
    x, y = rng.standard_normal((64, n)), rng.standard_normal((10, n))
    net = tn.network(tn.dense(rng, 64, 128, tn.tanh))
    net = net.then(tn.dense(rng, 128, 64, tn.tanh)).then(tn.dense(rng, 64, 10, tn.identity))

    def at_once_check() -> None:
        for a in (x, y):
            bool(np.isfinite(a).all())

    def at_once_evaluate() -> None:
        old = train._EVAL_COLUMNS
        train._EVAL_COLUMNS = n
        try:
            train._evaluate(net, x, y, tn.mse, tn.mae)
        finally:
            train._EVAL_COLUMNS = old

    calls = {
        "check, at once": at_once_check,
        "check, by blocks": lambda: _kernels.check_finite_data(x, y, "fit"),
        "evaluate (loss + mae), at once": at_once_evaluate,
        "evaluate (loss + mae), by blocks": lambda: train._evaluate(net, x, y, tn.mse, tn.mae),
    }
    seconds: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(9):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            seconds[name].append(time.perf_counter() - started)
    print(f"64 x {n} float64 (x), 10 x {n} (y), 64-128-64-10 tanh; medians of 9 rounds")
    for name, values in seconds.items():
        print(f"  {name:34s} {statistics.median(values) * 1e3:8.1f} ms")


def _mb(b: float) -> str:
    return f"{b / 1e6:8.1f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--src", help="import typednet from this folder in the children")
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES, help="values of n")
    parser.add_argument("--settings", nargs="+", default=SETTINGS, choices=SETTINGS)
    parser.add_argument("--times", action="store_true", help="time the blocks instead")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.times:
        times()
        return
    if args.child:
        setting, n, folder = args.child
        print(json.dumps(child(setting, int(n), folder)))
        return
    env = dict(os.environ)
    if args.src:
        env["PYTHONPATH"] = os.path.abspath(args.src)
    import typednet

    where = args.src or os.path.dirname(os.path.dirname(typednet.__file__))
    print(f"typednet from {where}; fit extra memory (MB) around one epoch, batch 256")
    print(f"{'setting':18s} {'n':>9s} {'data':>8s} {'traced':>8s} {'d peak RSS':>10s}"
          f" {'d RssAnon':>9s} {'s':>6s}")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        for setting in args.settings:
            for n in args.sizes:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", setting, str(n), folder],
                    env=env, capture_output=True, text=True, check=False,
                )  # fmt: skip
                if out.returncode != 0:
                    raise SystemExit(f"{setting} n={n} failed:\n{out.stderr}")
                r = json.loads(out.stdout.strip().splitlines()[-1])
                print(
                    f"{setting:18s} {n:9d} {_mb(r['data'])} {_mb(r['traced'])} "
                    f"{_mb(r['rss']):>10s} {_mb(r['anon']):>9s} {r['seconds']:6.1f}"
                )
                for name in os.listdir(folder):
                    os.remove(os.path.join(folder, name))


if __name__ == "__main__":
    main()
