"""What a checkpoint costs: one write, and an epoch of fit with and without them.

    python benchmarks/checkpoint_costs.py [--folder DIR] [--rounds 7]

A checkpoint is written after each epoch (`typednet.checkpoints`): one `tn.save` file
per network (the params, Adam's two slots) and checkpoint.json, each fsynced and
renamed into place, so its cost is mostly the file system's fsync, not the params'
size. Printed, in wall-clock milliseconds (the writes wait on the disk, which CPU time
does not count): the median of ``--rounds`` writes of a checkpoint of the digits-shaped
64-128-64-10 network and of 784-256-128-10, and the median epoch of the digits network
(1437 columns, batch 32, Adam) with a checkpoint after every epoch and without,
interleaved. ``--folder`` (default: the system's temporary folder) picks the disk.
"""

import argparse
import itertools
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import typednet as tn
from typednet import checkpoints


def _net(sizes: tuple[int, ...]) -> tn.Network:
    rng = np.random.default_rng(0)
    pairs = list(itertools.pairwise(sizes))
    net = tn.network(tn.dense(rng, *pairs[0], tn.relu))
    for a, b in pairs[1:]:
        net = net.then(tn.dense(rng, a, b, tn.relu))
    return net


def _write_ms(folder: Path, sizes: tuple[int, ...], rounds: int) -> float:
    net = _net(sizes)
    optimizer = tn.adam(1e-3)
    state = optimizer.init(net)
    settings = checkpoints.settings(1, 1, "mse", optimizer, None, None, False, None, "fit")
    progress: checkpoints.Progress[int, int] = checkpoints.Progress(
        records=(checkpoints.Record(1.0, None, None, None),)
    )
    rng = np.random.default_rng(0)
    samples: list[float] = []
    for _ in range(rounds + 1):
        start = time.perf_counter()
        checkpoints.write(str(folder / "write"), settings, (net, state), progress, rng)
        samples.append(time.perf_counter() - start)
    return 1e3 * statistics.median(samples[1:])


def _epoch_ms(folder: Path, rounds: int) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    digits = _net((64, 128, 64, 10))
    x = rng.random((64, 1437))
    y = np.eye(10)[rng.integers(0, 10, 1437)].T.copy()
    times: dict[bool, list[float]] = {False: [], True: []}
    for k in range(rounds):
        for saving in (False, True):
            where = folder / f"epochs-{k}"
            start = time.perf_counter()
            tn.fit(
                digits, x, y, loss=tn.mse, optimizer=tn.adam(1e-3), epochs=5, batch_size=32,
                rng=np.random.default_rng(1), progress=False,
                checkpoint=str(where) if saving else None,
            )  # fmt: skip
            times[saving].append((time.perf_counter() - start) / 5)
    return 1e3 * statistics.median(times[False]), 1e3 * statistics.median(times[True])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folder", default=None)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.folder) as tmp:
        folder = Path(tmp)
        for sizes in ((64, 128, 64, 10), (784, 256, 128, 10)):
            params = _net(sizes).param_count
            label = "-".join(map(str, sizes))
            ms = _write_ms(folder, sizes, args.rounds)
            print(f"checkpoint of {label} ({params} params, Adam): {ms:.1f} ms")
        plain, saved = _epoch_ms(folder, args.rounds)
        print(f"digits epoch, batch 32, Adam: {plain:.1f} ms; with a checkpoint after it: "
              f"{saved:.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
