"""Issue 23 items 5 and 6: what each check costs per call, and how a step's cost grows.

    python benchmarks/growth.py [--threads N] [--cpu-time] [--quick]

1. **How cost grows.** One Adam training step (relu, softmax + cross-entropy, float32)
   in µs per sample, against the batch size on 784-256-128-10 and against the hidden
   width W on 64-W-W-10 at batch 256, for typednet (`train_step`, checks on), the
   hand-written NumPy step, torch, JAX (a jitted step on device arrays, waited for),
   ``fit(compiled=True)``'s loop (``compiled``: 8 steps a call, per step) and the step's 8
   matrix products alone (``gemm_only``: the limit). A sparse grid, so the
   run finishes in a few minutes: batch 1, 4, 16, 64, 256, 1024, 4096 and width 32,
   128, 512, 2048.
2. **The fixed cost of a step**: a 2-2-2-2 network at batch 1, where only per-call
   overhead is left.
3. **Cost of safety.** Each check a checked `train_step` runs, timed per call beside
   the step without checks (``tn.no_checks()``) at each batch size, on the same
   784-256-128-10 network: the shape checks, the NaN/inf scan of x and y, the targets'
   check (one-hot columns or distributions), the predictions' check (distributions),
   the optimizer and state checks, and the params' NaN/inf scan after the step (which
   `fit` and `no_checks` keep: it guards what is returned). Last column: the checked
   step over the unchecked one, paired per round.

Every cell times its peers interleaved (harness.interleave); figures are medians.
"""

import argparse
import sys
from collections.abc import Callable
from typing import Any

import handwritten
import jax.numpy as jnp
import numpy as np
import torch
import torch_peers
from compiled_benches import compiled_loop, per_step
from forward_benches import classifier
from harness import Budget, Peer, calibrated, clock_name, interleave, use_cpu_time, within
from jax_peers import JaxClassifier
from machine import facts, pin_threads
from train_benches import gemm_only_step

import typednet as tn
from typednet import _kernels
from typednet.optim import adam
from typednet.train import _check_optimizer, train_step

Array = np.ndarray[Any, Any]
LR = 1e-3
BATCHES = (1, 4, 16, 64, 256, 1024, 4096)
WIDTHS = (32, 128, 512, 2048)
CELL = Budget(repeats=9, min_repeats=3, warmup=1, sample_seconds=0.02, max_seconds=3)
QUICK = Budget(repeats=3, min_repeats=2, warmup=1, sample_seconds=0.005, max_seconds=1)


def _batch(sizes: tuple[int, ...], n: int, dtype: type[np.floating[Any]]) -> tuple[Array, Array]:
    rng = np.random.default_rng(1)
    x = rng.random((sizes[0], n)).astype(dtype)
    y = np.eye(sizes[-1], dtype=dtype)[rng.integers(0, sizes[-1], n)].T.copy()
    return x, y


def step_peers(sizes: tuple[int, ...], n: int, budget: Budget) -> dict[str, float]:
    """µs per sample of one training step, per peer, at batch ``n``."""
    dtype = np.float32
    net0 = classifier(np.random.default_rng(0), sizes, dtype)
    x, y = _batch(sizes, n, dtype)
    opt = adam(LR)
    carry: list[Any] = [net0, opt.init(net0)]

    def typednet_step() -> object:
        carry[0], carry[1], value = train_step(
            carry[0], carry[1], x, y, loss=tn.cross_entropy, optimizer=opt
        )
        return value

    numpy_model = handwritten.AdamMLP(net0.params, LR)
    torch_model = torch_peers.Classifier(net0, LR)
    x_rows = torch_peers.rows(x)
    labels_t = torch.from_numpy(np.argmax(y, axis=0).astype(np.int64))
    jax_model = JaxClassifier(net0, LR)
    jax_carry: list[Any] = list(jax_model.init())
    x_dev, y_dev = jnp.asarray(x), jnp.asarray(y)

    def jax_step() -> object:
        jax_carry[0], jax_carry[1], value = jax_model.step_fn(*jax_carry, x_dev, y_dev)
        return value.block_until_ready()

    # fit(compiled=True)'s loop, over 8 ready batches a call (its own cost is per call, not
    # per step, as in an epoch): the same batch's columns repeated, taken in order.
    x8, y8 = np.tile(x, 8), np.tile(y, 8)
    loop, steps = compiled_loop(net0, x8, y8, n)
    s = budget.sample_seconds
    peers = [
        Peer("typednet", calibrated(typednet_step, s), ""),
        Peer("numpy", calibrated(lambda: numpy_model.step(x, y), s), ""),
        Peer("torch", calibrated(lambda: torch_model.step(x_rows, labels_t), s), ""),
        Peer("jax", calibrated(jax_step, s), ""),
        Peer("gemm_only", calibrated(gemm_only_step(list(net0.params[0::2]), x), s), ""),
        Peer("compiled", per_step(calibrated(loop, s), steps), ""),
    ]
    samples = interleave(peers, budget)
    out = {name: float(np.median(v)) * 1e6 / n for name, v in samples.items()}
    out["typednet/jax"] = _paired(samples["typednet"], samples["jax"])
    out["typednet/gemm"] = _paired(samples["typednet"], samples["gemm_only"])
    out["compiled/jax"] = _paired(samples["compiled"], samples["jax"])
    out["compiled/gemm"] = _paired(samples["compiled"], samples["gemm_only"])
    return out


def _paired(a: list[float], b: list[float]) -> float:
    return float(np.median([p / q for p, q in zip(a, b, strict=True)]))


def growth_tables(budget: Budget) -> str:
    cols = ["typednet", "compiled", "numpy", "torch", "jax", "gemm_only"]
    ratios = ["typednet/jax", "typednet/gemm", "compiled/jax", "compiled/gemm"]
    head = "| {} | " + " | ".join(cols) + " | " + " | ".join(ratios) + " |"
    rule = "|---" * (len(cols) + len(ratios) + 1) + "|"
    lines = [
        "#### µs per sample of one Adam step against the batch size (784-256-128-10, float32)",
        "",
        head.format("batch"),
        rule,
    ]

    def row(label: str, r: dict[str, float]) -> str:
        cells = [f"{r[c]:.3g}" for c in cols]
        return f"| {label} | " + " | ".join(cells + [f"{r[k]:.2f}x" for k in ratios]) + " |"

    for n in BATCHES:
        lines.append(row(str(n), step_peers((784, 256, 128, 10), n, budget)))
        print(lines[-1], file=sys.stderr, flush=True)
    lines += [
        "",
        "#### µs per sample of one Adam step against the width W (64-W-W-10, batch 256, float32)",
        "",
        head.format("W"),
        rule,
    ]
    for w in WIDTHS:
        lines.append(row(str(w), step_peers((64, w, w, 10), 256, budget)))
        print(lines[-1], file=sys.stderr, flush=True)
    return "\n".join(lines) + "\n"


def check_costs(n: int, budget: Budget) -> dict[str, float]:
    """µs per call of each check `train_step` runs, and of the step with and without."""
    sizes = (784, 256, 128, 10)
    net = classifier(np.random.default_rng(0), sizes, np.float32)
    x, y = _batch(sizes, n, np.float32)
    opt = adam(LR)
    state = opt.init(net)
    loss = tn.cross_entropy
    y_hat = _kernels.forward(net, x)
    flat = _kernels.value_and_flat_grad(net, x, y, loss, None, None)[1]
    assert loss.check_fn is not None and loss.check_target_fn is not None
    check_fn, check_target_fn = loss.check_fn, loss.check_target_fn

    def step() -> object:
        return train_step(net, state, x, y, loss=loss, optimizer=opt)

    def shapes() -> None:  # check_batch less check_values, and the columns check
        _kernels.check_input(net, x, "train_step")
        _kernels.check_columns(net, x.shape[1], "train_step")

    def optimizer_checks() -> None:
        _check_optimizer(opt, "train_step")
        opt._check_state(state, net, "train_step")

    s = budget.sample_seconds
    checks: list[tuple[str, Callable[[], object]]] = [
        ("shapes (x, y, layers)", shapes),
        ("NaN/inf scan of x and y", lambda: _kernels.check_finite_data(x, y, "train_step")),
        ("targets: distributions", lambda: check_target_fn("train_step", y)),
        ("predictions: distributions", lambda: check_fn("train_step", y_hat)),
        ("optimizer and its state", optimizer_checks),
        ("params NaN/inf after the step", lambda: np.isfinite(flat).all()),
    ]
    peers = [
        Peer("step, checks off", within(tn.no_checks, calibrated(step, s)), ""),
        Peer("step, checks on", calibrated(step, s), ""),
        *(Peer(name, calibrated(fn, s), "") for name, fn in checks),
    ]
    samples = interleave(peers, budget)
    out = {name: float(np.median(v)) * 1e6 for name, v in samples.items()}
    out["on/off"] = _paired(samples["step, checks on"], samples["step, checks off"])
    return out


def safety_table(budget: Budget) -> str:
    rows = [check_costs(n, budget) for n in (1, 32, 256, 1024, 4096)]
    names = [k for k in rows[0] if k != "on/off"]
    lines = [
        "#### µs per call of each check of a checked `train_step` (784-256-128-10, float32)",
        "",
        "| per call | " + " | ".join(f"batch {n}" for n in (1, 32, 256, 1024, 4096)) + " |",
        "|---" * 6 + "|",
    ]
    for name in names:
        lines.append(f"| {name} | " + " | ".join(f"{r[name]:.3g}" for r in rows) + " |")
    lines.append(
        "| **checked step / unchecked step** | "
        + " | ".join(f"{r['on/off']:.3f}x" for r in rows)
        + " |"
    )
    return "\n".join(lines) + "\n"


def floor_table(budget: Budget) -> str:
    """The fixed cost of one step: a 2-2-2-2 network at batch 1 (float64), where the
    arithmetic is nil and what is left is per-call overhead (Python, NumPy's dispatch,
    the checks; for JAX, dispatching the compiled step and waiting for it)."""
    sizes = (2, 2, 2, 2)
    net = classifier(np.random.default_rng(0), sizes, np.float64)
    x, y = _batch(sizes, 1, np.float64)
    opt = adam(LR)
    carry: list[Any] = [net, opt.init(net)]

    def step() -> object:
        carry[0], carry[1], value = train_step(
            carry[0], carry[1], x, y, loss=tn.cross_entropy, optimizer=opt
        )
        return value

    model = handwritten.AdamMLP(net.params, LR)
    jax_model = JaxClassifier(net, LR)
    jax_carry: list[Any] = list(jax_model.init())
    x_dev, y_dev = jnp.asarray(x), jnp.asarray(y)

    def jax_step() -> object:
        jax_carry[0], jax_carry[1], value = jax_model.step_fn(*jax_carry, x_dev, y_dev)
        return value.block_until_ready()

    x64, y64 = np.tile(x, 64), np.tile(y, 64)
    loop, steps = compiled_loop(net, x64, y64, 1)  # 64 steps of one column a call
    s = budget.sample_seconds
    peers = [
        Peer(
            "typednet `fit(compiled=True)`'s loop, per step",
            per_step(calibrated(loop, s), steps),
            "",
        ),
        Peer("typednet `train_step`, checks on", calibrated(step, s), ""),
        Peer("typednet `train_step`, `no_checks()`", within(tn.no_checks, calibrated(step, s)), ""),
        Peer("hand-written NumPy step", calibrated(lambda: model.step(x, y), s), ""),
        Peer("JAX jitted step (dispatch and wait)", calibrated(jax_step, s), ""),
    ]
    samples = interleave(peers, budget)
    lines = [
        "#### The fixed cost of a step: 2-2-2-2 at batch 1, float64 (µs per step)",
        "",
        "| peer | µs |",
        "|---|---|",
    ]
    lines += [f"| {name} | {float(np.median(v)) * 1e6:.1f} |" for name, v in samples.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, help="pin every thread pool to N threads")
    parser.add_argument("--cpu-time", action="store_true", help="time in process CPU seconds")
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--only", choices=("growth", "safety", "floor"))
    args = parser.parse_args(argv)
    if args.threads is not None:
        pin_threads(args.threads)
    if args.cpu_time:
        use_cpu_time()
    budget = QUICK if args.quick else CELL
    command = " ".join(["python", "benchmarks/growth.py", *sys.argv[1:]])
    print(f"## Machine\n\n{chr(10).join(facts())}\n- command: `{command}`\n", flush=True)
    print(f"Medians of up to {budget.repeats} interleaved samples per cell ({clock_name()}).\n")
    if args.only in (None, "floor"):
        print(floor_table(budget), flush=True)
    if args.only in (None, "growth"):
        print(growth_tables(budget), flush=True)
    if args.only in (None, "safety"):
        print(safety_table(budget), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
