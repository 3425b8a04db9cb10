"""What `tn.load` and `typednet.io.info` hold in memory, and how long `tn.load` takes.

1. Memory: a network of several MB (784-1024-1024-10 float64, 14.9 MB of params) is
   saved once; each reader then runs alone under tracemalloc, and its peak of traced
   memory is printed beside the params' bytes (NumPy's arrays and Python's bytes are
   both traced; memory a compiled extension allocates itself is not).
2. Time: the 1.9 MB MNIST network (784-256-128-10 float64), `tn.load` against the
   `safetensors` package reading the same arrays (when it is installed: ``pip install
   safetensors``), alone and followed by what a loader must still do with them (build
   and check the layers and the network). Medians of interleaved rounds.

Run: ``.venv/bin/python benchmarks/load_memory.py``.
"""

import itertools
import os
import tempfile
import tracemalloc
from collections.abc import Callable

import numpy as np
from harness import Budget, Peer, calibrated, interleave

import typednet as tn
from typednet.io import info

BUDGET = Budget(repeats=21, min_repeats=9, warmup=2, sample_seconds=0.1, max_seconds=30)


def _network(sizes: tuple[int, ...]) -> tn.Network:
    rng = np.random.default_rng(0)
    return tn.Network(tuple(tn.dense(rng, a, b, tn.relu) for a, b in itertools.pairwise(sizes)))


def _peak(call: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def memory(folder: str) -> None:
    sizes = (784, 1024, 1024, 10)
    net = _network(sizes)
    nbytes = sum(p.nbytes for p in net.params)
    path = os.path.join(folder, "net.npz")
    tn.save(path, net)
    print(f"memory: {'-'.join(map(str, sizes))} float64, {nbytes / 1e6:.2f} MB of params")
    readers: dict[str, Callable[[], object]] = {
        "tn.load": lambda: tn.load(path),
        "tn.load(like=)": lambda: tn.load(path, like=net),
        "typednet.io.info": lambda: info(path),
    }
    for name, call in readers.items():
        peak = _peak(call)
        print(f"  {name:18s} peak {peak / 1e6:6.2f} MB = {peak / nbytes:.2f}x the params")


def time(folder: str) -> None:
    sizes = (784, 256, 128, 10)
    net = _network(sizes)
    nbytes = sum(p.nbytes for p in net.params)
    path = os.path.join(folder, "mnist.npz")
    tn.save(path, net)
    print(f"time: {'-'.join(map(str, sizes))} float64, {nbytes / 1e6:.2f} MB of params")
    peers = [Peer("tn.load", calibrated(lambda: tn.load(path), BUDGET.sample_seconds), "1")]
    try:
        from safetensors.numpy import load_file, save_file
    except ImportError:
        print("  (safetensors is not installed: tn.load alone)")
    else:
        names = [f"layer{i}_{f}" for i in range(1, len(sizes)) for f in ("w", "b")]
        st_path = os.path.join(folder, "mnist.safetensors")
        save_file(dict(zip(names, net.params, strict=True)), st_path, metadata={"typednet": "{}"})

        def build() -> tn.Network:
            arrays = load_file(st_path)
            return tn.Network(
                tuple(
                    tn.Dense(w=arrays[f"layer{i}_w"], b=arrays[f"layer{i}_b"], activation=tn.relu)
                    for i in range(1, len(sizes))
                )
            )

        peers += [
            Peer("safetensors load_file", calibrated(lambda: load_file(st_path), 0.1), "1"),
            Peer("safetensors + build", calibrated(build, BUDGET.sample_seconds), "1"),
        ]
        print(f"  safetensors load_file peak {_peak(lambda: load_file(st_path)) / 1e6:.2f} MB")
        print(f"  safetensors + build   peak {_peak(build) / 1e6:.2f} MB")
    print(f"  tn.load               peak {_peak(lambda: tn.load(path)) / 1e6:.2f} MB")
    samples = interleave(peers, BUDGET)
    base = float(np.median(samples["tn.load"]))
    for name, values in samples.items():
        seconds = float(np.median(values))
        print(f"  {name:22s} {seconds * 1e3:7.3f} ms   tn.load / this: {base / seconds:5.1f}x")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        memory(folder)
        time(folder)


if __name__ == "__main__":
    main()
