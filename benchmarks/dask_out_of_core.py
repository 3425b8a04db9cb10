"""`typednet.dask.fit(stream=True)` on a training set several times the workers' memory.

A `LocalCluster` of 2 worker processes on 127.0.0.1, each with ``memory_limit`` 256 MiB
and spilling to disk turned off (so the only way to stay under the limit is not to hold
the data; over 95 % of it the nanny kills the worker). The training set is built
lazily: X is ``da.random.RandomState(0).uniform(-1, 1, (32, n))`` in chunks of 50 000
columns (12.8 MB), Y a function of X, 2.1 GB together at n = 8 000 000: 8 times one
worker's limit, 4 times the cluster's. A 32-64-1 network (tanh, Adam, mse) trains for
one epoch at batch 25 000 with the training mae as metric, then predicts every column
(the mean squared error of ``tnd.forward(net, X)`` against Y, computed on the workers).

Measured: each worker's peak resident memory (VmHWM in /proc/self/status, the high-water
mark of the worker's own memory, from the kernel) after each phase, the wall time of each
phase, and whether a worker was restarted (its pid changed).

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/dask_out_of_core.py``
(``--columns`` to change n).
"""

import argparse
import os
import time
from pathlib import Path

import dask.array as da
import dask.config
import numpy as np
from distributed import Client, LocalCluster

import typednet as tn
import typednet.dask as tnd

LIMIT = 256 * 2**20
FEATURES = 32
CHUNK = 50_000


def _peaks(client: Client) -> list[float]:
    """Each worker's peak resident memory so far, MiB: VmHWM, the high-water mark of its
    own memory (getrusage's ru_maxrss would include the RSS of the process that
    spawned it, which the kernel carries over the exec)."""
    statuses: dict[str, str] = client.run(Path("/proc/self/status").read_text)
    return [
        int(line.split()[1]) / 1024
        for _, status in sorted(statuses.items())
        for line in status.splitlines()
        if line.startswith("VmHWM:")
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--columns", type=int, default=8_000_000)
    n = parser.parse_args().columns
    X = da.random.RandomState(0).uniform(-1, 1, size=(FEATURES, n), chunks=(FEATURES, CHUNK))
    w = np.linspace(-1.0, 1.0, FEATURES).reshape(1, FEATURES)
    Y = da.tanh(da.dot(w, X)) + 0.1 * da.sin(3 * X[:1])
    data = X.nbytes + Y.nbytes
    print(
        f"training set: {FEATURES} x {n} float64 + Y = {data / 2**20:.0f} MiB, "
        f"chunks of {CHUNK} columns ({FEATURES * CHUNK * 8 / 2**20:.1f} MiB)"
    )
    print(
        f"cluster: 2 workers x memory_limit {LIMIT / 2**20:.0f} MiB, spilling off: data = "
        f"{data / LIMIT:.1f} x a worker's limit, {data / (2 * LIMIT):.1f} x the cluster's"
    )
    rng = np.random.default_rng(0)
    net = tn.network(tn.dense(rng, FEATURES, 64, tn.tanh)).then(tn.dense(rng, 64, 1, tn.identity))
    off = {"distributed.worker.memory.target": False, "distributed.worker.memory.spill": False}
    with (
        dask.config.set(off),
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None, memory_limit=LIMIT,
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):  # fmt: skip
        pids = client.run(os.getpid)
        print(f"workers at start: peak RSS {_peaks(client)} MiB")
        started = time.perf_counter()
        trained, history = tnd.fit(
            net, X, Y, loss=tn.mse, optimizer=tn.adam(1e-3), epochs=1, batch_size=25_000,
            rng=rng, metric=tn.mae, client=client, progress=False, stream=True,
        )  # fmt: skip
        fitted = time.perf_counter() - started
        print(
            f"fit (checks, 1 epoch of {n // 25_000} steps, metric): {fitted:.0f} s; "
            f"train loss {history.train_loss[0]:.4f}, mae {history.train_metric[0]:.4f}; "
            f"peak RSS {_peaks(client)} MiB"
        )
        started = time.perf_counter()
        y_hat = tnd.forward(trained, X)
        error = float(client.compute(da.mean((y_hat - Y) ** 2)).result())
        predicted = time.perf_counter() - started
        print(
            f"predict (every column, mse against Y): {predicted:.0f} s; mse {error:.4f}; "
            f"peak RSS {_peaks(client)} MiB"
        )
        restarted = pids != client.run(os.getpid)
        print(f"limit {LIMIT / 2**20:.0f} MiB per worker; a worker restarted: {restarted}")


if __name__ == "__main__":
    main()
