"""The compiled loop's training step against its matrix products alone (issue 23).

``fit(compiled=True)`` runs an epoch's steps in one numba loop (`typednet._compiled`).
Its time per step is measured here as one call of that loop over ``STEPS`` batches,
divided by ``STEPS``: the gather of each batch, the forward pass, the loss, the backward
pass and Adam, as in an epoch of `fit`, without the epoch's own work (the shuffle, the
History). The limit is `train_benches.gemm_only_step`: the step's eight products alone,
into preallocated outputs, by NumPy's BLAS.
"""

from collections.abc import Callable
from typing import Any

import numpy as np
from forward_benches import MNIST_SIZES, classifier
from harness import Budget, Peer, Result, Target, calibrated, interleave
from machine import numpy_threads_label, scipy_threads_label
from train_benches import LEARNING_RATE, SEED, gemm_only_step

import typednet as tn
from typednet import _compiled

STEPS = 8  # batches per call of the loop
GEMM_SHARE = 0.95  # issue 23: a step at >= 95 % of its products' rate


def _bench(budget: Budget, dtype: type[np.floating[Any]], batch: int) -> Result:
    rng = np.random.default_rng(SEED)
    net = classifier(rng, MNIST_SIZES, dtype)
    n = STEPS * batch
    x = rng.random((MNIST_SIZES[0], n)).astype(dtype)
    y = np.eye(MNIST_SIZES[-1], dtype=dtype)[rng.integers(0, MNIST_SIZES[-1], n)].T.copy()
    opt = tn.adam(LEARNING_RATE)
    kernel = _compiled.plan(net, x, tn.cross_entropy, opt, None, False)
    order = rng.permutation(n)
    trained = (net, opt.init(net))

    def steps() -> object:
        return _compiled.run_steps(kernel, trained, x, y, order, batch, 0, STEPS)

    def per_step(sampler: Callable[[], float]) -> Callable[[], float]:
        return lambda: sampler() / STEPS

    done = _compiled.run_steps(kernel, trained, x, y, order, batch, 0, STEPS)
    if not (done.values.size == STEPS and done.values[-1] < done.values[0]):
        raise AssertionError(f"the compiled loop is not learning: losses {done.values}")
    budget_s = budget.sample_seconds
    peers = [
        Peer(
            "gemm_only",
            calibrated(gemm_only_step(list(net.params[0::2]), x[:, :batch]), budget_s),
            numpy_threads_label(),
            "the step's 8 products alone, into preallocated outputs (the limit)",
        ),
        Peer(
            "typednet_compiled",
            per_step(calibrated(steps, budget_s)),
            scipy_threads_label(),
            f"`fit(compiled=True)`'s loop: {STEPS} steps a call (gather, forward, loss, "
            "backward, Adam), per step",
        ),
    ]
    name = np.dtype(dtype).name
    return Result(
        name=f"compiled_step_mnist_{'f32' if dtype == np.float32 else 'f64'}"
        + ("" if batch == 1024 else f"_b{batch}"),
        what=f"One training step of 784-256-128-10 (relu, softmax + cross-entropy, Adam 1e-3), "
        f"{name}, batch {batch}, by the compiled loop; time per step",
        baseline="gemm_only",
        peers=peers,
        samples=interleave(peers, budget),
        targets=(
            Target(
                f"compiled step ≥ {GEMM_SHARE:.0%} of the GEMM-only rate",
                "typednet_compiled",
                "gemm_only",
                1 / GEMM_SHARE,
            ),
        ),
        items=batch,
        notes=[
            f"losses of the first call's {STEPS} steps: {done.values[0]:.4f} → "
            f"{done.values[-1]:.4f}"
        ],
    )


def compiled_step_mnist_f32(budget: Budget) -> Result:
    return _bench(budget, np.float32, 1024)


def compiled_step_mnist_f64(budget: Budget) -> Result:
    return _bench(budget, np.float64, 1024)


def compiled_step_mnist_f32_b256(budget: Budget) -> Result:
    return _bench(budget, np.float32, 256)


def compiled_step_mnist_f64_b256(budget: Budget) -> Result:
    return _bench(budget, np.float64, 256)
