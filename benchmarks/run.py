"""Run typednet's benchmarks: peers side by side in one process, ratios printed.

    python benchmarks/run.py [--quick] [--only NAME] [--threads N] [--cpu-time] [--profile]

Each benchmark times its peers interleaved (round-robin, after a warm-up), prints a
Markdown table of medians and ratios to its baseline, then each target with PASS or
FAIL. Thread pools keep the libraries' defaults unless ``--threads N`` pins them all
(numpy's and scipy's BLAS through threadpoolctl, torch through ``set_num_threads``);
the threads each peer used are printed either way. ``--cpu-time`` times samples in
the process's CPU seconds, which leave out the time other jobs on a shared machine
take (use it with ``--threads 1``). ``--profile`` prints a cProfile of
typednet's `fit` on the digits benchmark instead. Failed targets are listed at the end
(the exit status stays 0: a slow noisy run is a finding, not a crash).
"""

import argparse
import os
import sys
import time
from collections.abc import Callable

from compiled_benches import (
    compiled_adam_f32,
    compiled_adam_f64,
    compiled_gather_f32,
    compiled_gather_f64,
    compiled_step_mnist_f32,
    compiled_step_mnist_f32_b256,
    compiled_step_mnist_f64,
    compiled_step_mnist_f64_b256,
)
from forward_benches import forward_mnist_f32, forward_mnist_f64, forward_tutorial
from harness import Budget, Result, render, use_cpu_time
from jax_benches import epoch_digits_f32, epoch_digits_f64, epoch_mnist_f32, epoch_mnist_f64
from machine import facts, pin_threads
from train_benches import (
    profile_fit,
    step_phases,
    step_phases_mnist_f32,
    train_digits_epoch,
    train_step_mnist_f32,
    train_step_mnist_f32_b256,
    train_step_mnist_f64,
    train_step_mnist_f64_b256,
)
from training_extras import adamw_torch, loss_checks

BENCHMARKS: dict[str, Callable[[Budget], Result]] = {
    "forward_tutorial": forward_tutorial,
    "forward_mnist_f32": forward_mnist_f32,
    "forward_mnist_f64": forward_mnist_f64,
    "train_digits_epoch": train_digits_epoch,
    "epoch_digits_f32": epoch_digits_f32,
    "epoch_digits_f64": epoch_digits_f64,
    "epoch_mnist_f32": epoch_mnist_f32,
    "epoch_mnist_f64": epoch_mnist_f64,
    "train_step_mnist_f32": train_step_mnist_f32,
    "train_step_mnist_f64": train_step_mnist_f64,
    "train_step_mnist_f32_b256": train_step_mnist_f32_b256,
    "train_step_mnist_f64_b256": train_step_mnist_f64_b256,
    "compiled_step_mnist_f32": compiled_step_mnist_f32,
    "compiled_step_mnist_f64": compiled_step_mnist_f64,
    "compiled_step_mnist_f32_b256": compiled_step_mnist_f32_b256,
    "compiled_step_mnist_f64_b256": compiled_step_mnist_f64_b256,
    "compiled_adam_f32": compiled_adam_f32,
    "compiled_adam_f64": compiled_adam_f64,
    "compiled_gather_f32": compiled_gather_f32,
    "compiled_gather_f64": compiled_gather_f64,
    "step_phases": step_phases,
    "step_phases_mnist_f32": step_phases_mnist_f32,
    "loss_checks": loss_checks,
    "adamw_torch": adamw_torch,
}

FULL = Budget(repeats=61, min_repeats=7, warmup=2, sample_seconds=0.01, max_seconds=40)
QUICK = Budget(repeats=7, min_repeats=3, warmup=1, sample_seconds=0.005, max_seconds=5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few short samples: a smoke run")
    parser.add_argument(
        "--only", choices=sorted(BENCHMARKS), nargs="+", help="run these benchmarks only"
    )
    parser.add_argument("--threads", type=int, help="pin every thread pool to N threads")
    parser.add_argument(
        "--cpu-time", action="store_true", help="time in process CPU seconds (with --threads 1)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile typednet's fit only")
    args = parser.parse_args(argv)
    if args.threads is not None:
        pin_threads(args.threads)
    if args.cpu_time:
        use_cpu_time()
    if args.profile:
        print(profile_fit())
        return 0
    budget = QUICK if args.quick else FULL
    names = args.only or list(BENCHMARKS)
    command = " ".join(["python", "benchmarks/run.py", *sys.argv[1:]])
    print(f"## Machine\n\n{chr(10).join(facts())}\n- command: `{command}`\n", flush=True)
    failed: list[str] = []
    start = time.perf_counter()
    for name in names:
        result = BENCHMARKS[name](budget)
        load = os.getloadavg()[0]
        print(f"{render(result)}\n1-minute load average after it: {load:.2f}\n", flush=True)
        failed += [f"{name}: {t.text}" for t, _, ok in result.verdicts() if not ok]
    print(f"total time: {time.perf_counter() - start:.0f} s")
    if failed:
        print("FAILED targets:\n" + "\n".join(f"- {f}" for f in failed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
