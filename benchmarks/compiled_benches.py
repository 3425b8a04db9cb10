"""The compiled loop's training step against its matrix products alone (issue 23).

``fit(compiled=True)`` runs an epoch's steps in one numba loop (`typednet._compiled`).
Its time per step is measured here two ways, each as one call of that loop divided by
its steps:

- ``typednet_compiled``: as in an epoch of `fit` on this set (a C-ordered one above
  2 MiB): one call gathers a chunk of shuffled batches in one pass over the set
  (`_columns.gathered` says how many), then runs their steps: forward pass, loss,
  backward pass and Adam;
- ``compiled_ready``: the same call on batches already in order, side by side, each
  read where it lies: the step on a ready batch, as `train_step` is timed in
  `train_benches`.

The limit is `train_benches.gemm_only_step`: the step's eight products alone, into
preallocated outputs, by NumPy's BLAS.

With more than one BLAS thread, three peers say where the second thread's time goes:
``gemm_only_1t`` and ``compiled_ready_1t`` are the same calls on one thread, and
``adam_floor`` is Adam's floor on one core (``sqrt_div`` below, over the step's params).
The notes give the step's time beyond its products with each thread count (the
products run on every thread, the rest of the step on the calling one), and Adam's floor
as a share of the products on every thread: a part of the step no loop on one core can
remove.

``compiled_adam_*`` times the loop's Adam pass over the network's 235 146 params against
what no Adam step can skip: a square root and a division per param (``sqrt_div``, the
baseline), and a plain copy of the params (memory's share). ``compiled_gather_*`` times
the gather of a chunk of eight shuffled batches of 1024 from a C-ordered 784 x 8192 set
against copying the same columns in order.
"""

from collections.abc import Callable
from typing import Any

import numba
import numpy as np
import threadpoolctl
from forward_benches import MNIST_SIZES, classifier
from harness import Budget, Peer, Result, Target, calibrated, duration, interleave, within
from machine import blas_threads, compiled_threads_label, numpy_threads_label
from train_benches import LEARNING_RATE, SEED, gemm_only_step

import typednet as tn
from typednet import _columns, _compiled

STEPS = 8  # batches per call of the loop
GEMM_SHARE = 0.95  # issue 23: a step at >= 95 % of its products' rate


def compiled_loop(
    net: tn.Network[int, int], x: tn.Matrix, y: tn.Matrix, batch: int
) -> tuple[Callable[[], _compiled.Steps], int]:
    """A call of `fit(compiled=True)`'s loop over every batch of ``x`` in order, each a
    ready batch as the other peers' steps are given (Adam, softmax + cross-entropy,
    always from ``net``), and how many steps it takes."""
    opt = tn.adam(LEARNING_RATE)
    kernel = _compiled.plan(net, x, tn.cross_entropy, opt, None, False)
    order = np.arange(x.shape[1])
    trained = (net, opt.init(net))
    steps = -(-x.shape[1] // batch)
    return (lambda: _compiled.run_steps(kernel, trained, x, y, order, batch, 0, steps)), steps


def _suffix(dtype: type[np.floating[Any]]) -> str:
    return "f32" if dtype == np.float32 else "f64"


def per_step(sampler: Callable[[], float], steps: int) -> Callable[[], float]:
    """A sampler of ``steps`` steps a call, as seconds per step."""
    return lambda: sampler() / steps


def _bench(budget: Budget, dtype: type[np.floating[Any]], batch: int) -> Result:
    rng = np.random.default_rng(SEED)
    net = classifier(rng, MNIST_SIZES, dtype)
    n = STEPS * batch
    x = rng.random((MNIST_SIZES[0], n)).astype(dtype)
    y = np.eye(MNIST_SIZES[-1], dtype=dtype)[rng.integers(0, MNIST_SIZES[-1], n)].T.copy()
    loop, steps = compiled_loop(net, x, y, batch)
    done = loop()
    if not (done.values.size == steps and done.values[-1] < done.values[0]):
        raise AssertionError(f"the compiled loop is not learning: losses {done.values}")
    chunk = _columns.gathered(x, batch)
    opt = tn.adam(LEARNING_RATE)
    kernel = _compiled.plan(net, x, tn.cross_entropy, opt, None, False)
    trained = (net, opt.init(net))
    order = np.random.default_rng(SEED).permutation(n)
    ready = np.arange(chunk * batch)

    def chunked() -> object:  # one call of fit's epoch: a chunk gathered, its steps
        return _compiled.run_steps(kernel, trained, x, y, order, batch, 0, chunk, chunked=True)

    def in_order() -> object:
        return _compiled.run_steps(kernel, trained, x, y, ready, batch, 0, chunk)

    budget_s = budget.sample_seconds
    blas = compiled_threads_label()
    products = gemm_only_step(list(net.params[0::2]), x[:, :batch])
    peers = [
        Peer(
            "gemm_only",
            calibrated(products, budget_s),
            numpy_threads_label(),
            "the step's 8 products alone, into preallocated outputs (the limit)",
        ),
        Peer(
            "typednet_compiled",
            per_step(calibrated(chunked, budget_s), chunk),
            blas,
            f"`fit(compiled=True)`'s epoch, per step: {chunk} shuffled batches gathered "
            "in one pass, then their steps (forward, loss, backward, Adam), one call",
        ),
        Peer(
            "compiled_ready",
            per_step(calibrated(in_order, budget_s), chunk),
            blas,
            "the same call on batches in order (a ready batch per step), per step",
        ),
    ]
    threads = blas_threads()
    if threads > 1:
        peers += _one_thread(products, in_order, chunk, net, budget_s)
    result = Result(
        name=f"compiled_step_mnist_{_suffix(dtype)}" + ("" if batch == 1024 else f"_b{batch}"),
        what=f"One training step of 784-256-128-10 (relu, softmax + cross-entropy, Adam 1e-3), "
        f"{np.dtype(dtype).name}, batch {batch}, by the compiled loop; time per step",
        baseline="gemm_only",
        peers=peers,
        samples=interleave(peers, budget),
        targets=(
            Target(
                f"compiled step on a ready batch ≥ {GEMM_SHARE:.0%} of the GEMM-only rate",
                "compiled_ready",
                "gemm_only",
                1 / GEMM_SHARE,
            ),
            Target(
                f"compiled step in an epoch, its gather included, ≥ {GEMM_SHARE:.0%} of the "
                "GEMM-only rate",
                "typednet_compiled",
                "gemm_only",
                1 / GEMM_SHARE,
            ),
        ),
        items=batch,
        notes=[
            f"losses of the first call's {steps} steps: {done.values[0]:.4f} → "
            f"{done.values[-1]:.4f}"
        ],
    )
    if threads > 1:
        result.notes.extend(_amdahl(result, threads))
    return result


def _one_thread(
    products: Callable[[], object],
    in_order: Callable[[], object],
    chunk: int,
    net: tn.Network[int, int],
    budget_s: float,
) -> list[Peer]:
    """The peers timed on one BLAS thread (calibrated there too), and Adam's floor."""
    one = lambda: threadpoolctl.threadpool_limits(1)  # noqa: E731
    floor = _floor(np.concatenate([p.ravel() for p in net.params]))
    with one():
        return [
            Peer(
                "gemm_only_1t",
                within(one, calibrated(products, budget_s)),
                "numpy BLAS: 1",
                "`gemm_only` on one thread",
            ),
            Peer(
                "compiled_ready_1t",
                within(one, per_step(calibrated(in_order, budget_s), chunk)),
                "numpy BLAS: 1",
                "`compiled_ready` on one thread",
            ),
            Peer(
                "adam_floor",
                calibrated(floor, budget_s),
                "one thread",
                "a square root and a division per param of the step, one compiled pass: "
                "Adam's floor",
            ),
        ]


def _amdahl(result: Result, threads: int) -> list[str]:
    """What the notes say of the second thread: which part of the step it speeds up, and
    Adam's floor on one core as a share of the products on every thread."""
    med = result.median
    gemm, gemm_1 = med("gemm_only"), med("gemm_only_1t")
    rest, rest_1 = med("compiled_ready") - gemm, med("compiled_ready_1t") - gemm_1
    floor = med("adam_floor")
    return [
        f"products: {duration(gemm_1)} on one thread, {duration(gemm)} on {threads} "
        f"({gemm_1 / gemm:.2f}x faster); the step beyond them (`compiled_ready` minus "
        f"`gemm_only`): {duration(rest_1)} on one thread, {duration(rest)} on {threads}",
        f"Adam's floor on one core ({duration(floor)}) alone is {floor / gemm:.1%} of the "
        f"products on {threads} threads; a step at {GEMM_SHARE:.0%} of their rate allows "
        f"{1 / GEMM_SHARE - 1:.1%} for everything else it does",
    ]


def compiled_step_mnist_f32(budget: Budget) -> Result:
    return _bench(budget, np.float32, 1024)


def compiled_step_mnist_f64(budget: Budget) -> Result:
    return _bench(budget, np.float64, 1024)


def compiled_step_mnist_f32_b256(budget: Budget) -> Result:
    return _bench(budget, np.float32, 256)


def compiled_step_mnist_f64_b256(budget: Budget) -> Result:
    return _bench(budget, np.float64, 256)


def _sqrt_div(m: tn.Matrix, v: tn.Matrix, out: tn.Matrix, e: float) -> None:
    """Adam's unavoidable arithmetic: ``m / (sqrt(v) + e)``, one pass (compiled below)."""
    for i in range(out.shape[0]):
        out[i] = m[i] / (np.sqrt(v[i]) + e)


def _floor(p: tn.Matrix) -> Callable[[], object]:
    """`_sqrt_div` compiled, over m and v of ``p``'s size and dtype (v > 0)."""
    m, v, out = p / 1e3, np.full_like(p, 1e-6), np.empty_like(p)
    _compiled.blas()  # the kernel compiled (or loaded from the disk cache)
    floor = numba.njit(error_model="numpy", nogil=True)(_sqrt_div)
    eps = p.dtype.type(1e-8)
    return lambda: floor(m, v, out, eps)


def _adam(budget: Budget, dtype: type[np.floating[Any]]) -> Result:
    rng = np.random.default_rng(SEED)
    size = sum(p.size for p in classifier(rng, MNIST_SIZES, dtype).params)
    p, g = rng.normal(size=size).astype(dtype), rng.normal(size=size).astype(dtype) / 1e3
    m, v, out = np.zeros_like(p), np.full_like(p, 1e-6), np.empty_like(p)
    floor = _floor(p)

    def adam() -> object:
        return _compiled._step_params(1, g, p, out, m, v, 1e-3, 5, 0.0, 0.9, 0.999, 1e-8)

    budget_s = budget.sample_seconds
    peers = [
        Peer(
            "sqrt_div",
            calibrated(floor, budget_s),
            "one thread",
            "m / (sqrt(v) + eps) per param, one compiled pass: what an Adam step cannot skip",
        ),
        Peer(
            "adam_pass",
            calibrated(adam, budget_s),
            "one thread",
            "the compiled loop's Adam: m, v, the update, the add, the finiteness flag",
        ),
        Peer("copy", calibrated(lambda: np.copyto(out, p), budget_s), "one thread", "p copied"),
    ]
    return Result(
        name=f"compiled_adam_{_suffix(dtype)}",
        what=f"The compiled loop's Adam pass over 784-256-128-10's {size:,} params, "
        f"{np.dtype(dtype).name}: its floor is a square root and a division per param",
        baseline="sqrt_div",
        peers=peers,
        samples=interleave(peers, budget),
        items=size,
    )


def compiled_adam_f32(budget: Budget) -> Result:
    return _adam(budget, np.float32)


def compiled_adam_f64(budget: Budget) -> Result:
    return _adam(budget, np.float64)


def _gather(budget: Budget, dtype: type[np.floating[Any]]) -> Result:
    rng = np.random.default_rng(SEED)
    batch, n = 1024, STEPS * 1024
    x = rng.random((MNIST_SIZES[0], n)).astype(dtype)
    count = _columns.gathered(x, batch)  # the batches fit gathers at once from this set
    chunk = np.empty((count, x.shape[0], batch), dtype)
    order = rng.permutation(n)
    in_order = x[:, : count * batch].reshape(x.shape[0], count, batch).transpose(1, 0, 2)
    _compiled.blas()  # the kernel compiled (or loaded from the disk cache)
    budget_s = budget.sample_seconds
    peers = [
        Peer(
            "copy",
            calibrated(lambda: np.copyto(chunk, in_order), budget_s),
            "one thread",
            "the chunk's columns copied in order (row by row, strided)",
        ),
        Peer(
            "gather",
            calibrated(lambda: _compiled._gather_chunk(x, order, 0, chunk), budget_s),
            "one thread",
            "the compiled loop's gather of the same number of shuffled columns",
        ),
    ]
    return Result(
        name=f"compiled_gather_{_suffix(dtype)}",
        what=f"{count} shuffled batches of {batch} gathered from a C-ordered "
        f"{x.shape[0]} x {n} set ({chunk.nbytes / 2**20:.1f} MiB), {np.dtype(dtype).name}",
        baseline="copy",
        peers=peers,
        samples=interleave(peers, budget),
        items=count * batch,
    )


def compiled_gather_f32(budget: Budget) -> Result:
    return _gather(budget, np.float32)


def compiled_gather_f64(budget: Budget) -> Result:
    return _gather(budget, np.float64)
