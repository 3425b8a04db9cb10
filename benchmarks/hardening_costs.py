"""What issue 11's checks cost on the training hot path.

- Every training step checks the new params once: ``np.isfinite(flat).all()`` on the
  flat column (17 226 params for the digits network 64-128-64-10).
- `grad`, `value_and_grad` and `train_step` (checks on) scan x and y for NaN or inf on
  every call: ``np.isfinite(a).all()`` on each; `fit` scans its data once.

Each check is timed interleaved with the step it guards (median of the rounds), and
reported as a share of that step. Run: ``.venv/bin/python benchmarks/hardening_costs.py``.
"""

import itertools

import numpy as np
from harness import Budget, Peer, calibrated, interleave

import typednet as tn

BUDGET = Budget(repeats=31, min_repeats=11, warmup=2, sample_seconds=0.05, max_seconds=20)


def _network(sizes: tuple[int, ...], dtype: type[np.floating]) -> tn.Network:
    rng = np.random.default_rng(0)
    layers = [
        tn.dense(rng, a, b, tn.relu if k < len(sizes) - 2 else tn.softmax, dtype=dtype)
        for k, (a, b) in enumerate(itertools.pairwise(sizes))
    ]
    return tn.Network(tuple(layers))


def _case(name: str, sizes: tuple[int, ...], batch: int, dtype: type[np.floating]) -> None:
    net = _network(sizes, dtype)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(sizes[0], batch)).astype(dtype)
    y = np.eye(sizes[-1], batch, dtype=dtype)
    opt = tn.adam()
    state = opt.init(net)
    flat = np.concatenate([p.reshape(-1, 1) for p in net.params])

    def step() -> object:
        with tn.no_checks():
            return tn.train_step(net, state, x, y, loss=tn.cross_entropy, optimizer=opt)

    peers = [
        Peer("train_step (no_checks)", calibrated(step, BUDGET.sample_seconds), "default"),
        Peer("params check", calibrated(lambda: np.isfinite(flat).all(), 0.01), "default"),
        Peer(
            "data check (x and y)",
            calibrated(lambda: np.isfinite(x).all() and np.isfinite(y).all(), 0.01),
            "default",
        ),
    ]
    samples = interleave(peers, BUDGET)
    medians = {name: float(np.median(values)) for name, values in samples.items()}
    base = medians["train_step (no_checks)"]
    print(f"{name}: {net.param_count} params, batch {batch}, {np.dtype(dtype).name}")
    for peer, seconds in medians.items():
        share = "" if peer == "train_step (no_checks)" else f"  ({seconds / base:.1%} of the step)"
        print(f"  {peer:24s} {seconds * 1e6:9.1f} µs{share}")


if __name__ == "__main__":
    _case("digits", (64, 128, 64, 10), 32, np.float64)
    _case("mnist", (784, 256, 128, 10), 1024, np.float32)
