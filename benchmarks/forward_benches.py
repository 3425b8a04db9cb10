"""Forward-pass benchmarks: the course's tiny network, and an MNIST-sized one."""

from collections.abc import Callable
from typing import Any

import handwritten
import internals
import naive_jaxtyping
import numpy as np
import numpy.typing as npt
import torch
import torch_peers
from harness import Budget, Peer, Result, Target, calibrated, interleave, within
from machine import numpy_threads_label, torch_threads_label

import typednet as tn
from typednet.apps.tutorial import build

MNIST_SIZES = (784, 256, 128, 10)
MNIST_BATCH = 1024
GEMM_SHARE = 0.95  # the targets: at least 95% of the GEMM-only rate ...
TORCH_SHARE = 0.95  # ... and of PyTorch's throughput


def classifier(
    rng: np.random.Generator, sizes: tuple[int, ...], dtype: npt.DTypeLike
) -> tn.Network[int, int]:
    """Dense layers of ``sizes``: relu on the hidden ones, softmax out; default init."""
    acts = [tn.relu] * (len(sizes) - 2) + [tn.softmax]
    pairs = zip(sizes, sizes[1:], acts, strict=False)
    return tn.Network(tuple(tn.dense(rng, p, n, a, dtype=dtype) for p, n, a in pairs))


def _agreement(outputs: dict[str, tn.Matrix], baseline: str) -> str:
    """A note: the largest difference of each peer's output from the baseline's."""
    want = outputs[baseline]
    diffs = {name: float(np.max(np.abs(out - want))) for name, out in outputs.items()}
    for name, diff in diffs.items():
        if not np.allclose(outputs[name], want, rtol=1e-4, atol=1e-6):
            raise AssertionError(f"{name} disagrees with {baseline}: max |diff| {diff:.3g}")
    shown = ", ".join(f"{name} {diff:.1e}" for name, diff in diffs.items() if name != baseline)
    return f"outputs agree with `{baseline}` (max |difference|: {shown})"


def _torch_out(model: torch.nn.Module, x_rows: torch.Tensor) -> tn.Matrix:
    """A torch peer's output as typednet columns, for the agreement check."""
    with torch.no_grad():
        out: tn.Matrix = model(x_rows).numpy().T
    return out


def forward_tutorial(budget: Budget) -> Result:
    """The course's 5-3-5-4 network on its one (5, 1) column, float64."""
    net, x, y = build()
    w1, b1, w2, b2, w3, b3 = net.params
    model = torch_peers.sequential(net)
    x_row = torch_peers.rows(x)
    fns: dict[str, Callable[[], object]] = {
        "numpy": lambda: handwritten.tutorial_forward(x, w1, b1, w2, b2, w3, b3),
        "typednet": lambda: tn.forward(net, x),
        "typednet_unchecked": lambda: tn.forward(net, x),
        "typednet_kernel": lambda: internals.forward(net, x),
        "torch": lambda: model(x_row),
        "jaxtyping_everywhere": lambda: naive_jaxtyping.tutorial_forward(x, w1, b1, w2, b2, w3, b3),
    }
    outputs = {name: np.asarray(fn()) for name, fn in fns.items() if name != "torch"}
    outputs["torch"] = _torch_out(model, x_row)
    with_loss: dict[str, Callable[[], float]] = {
        "numpy_with_loss": lambda: handwritten.tutorial_mse(
            y, handwritten.tutorial_forward(x, w1, b1, w2, b2, w3, b3)
        ),
        "typednet_with_loss": lambda: tn.mse(y, tn.forward(net, x)),
    }
    losses = {name: fn() for name, fn in with_loss.items()}
    if losses["typednet_with_loss"] != losses["numpy_with_loss"]:
        raise AssertionError(f"the course's loss differs: {losses}")
    budget_s = budget.sample_seconds
    np_threads, torch_threads = numpy_threads_label(), torch_threads_label()
    peers = [
        Peer("numpy", calibrated(fns["numpy"], budget_s), np_threads, "the course's code"),
        Peer("typednet", calibrated(fns["typednet"], budget_s), np_threads, "`tn.forward`"),
        Peer(
            "typednet_unchecked",
            within(tn.no_checks, calibrated(fns["typednet_unchecked"], budget_s)),
            np_threads,
            "`tn.forward` inside `with tn.no_checks():`",
        ),
        Peer(
            "typednet_kernel",
            calibrated(fns["typednet_kernel"], budget_s),
            np_threads,
            "`typednet._kernels.forward` (private kernel)",
        ),
        Peer(
            "torch",
            within(torch.no_grad, calibrated(fns["torch"], budget_s)),
            torch_threads,
            "nn.Sequential float64 under `torch.no_grad()`; the issue expects ~3x",
        ),
        Peer(
            "jaxtyping_everywhere",
            calibrated(fns["jaxtyping_everywhere"], budget_s),
            np_threads,
            "`@jaxtyped(typechecker=beartype)` on each step; the issue expects ~19x",
        ),
        Peer(
            "numpy_with_loss",
            calibrated(with_loss["numpy_with_loss"], budget_s),
            np_threads,
            "the course's forward pass and its mean squared error",
        ),
        Peer(
            "typednet_with_loss",
            calibrated(with_loss["typednet_with_loss"], budget_s),
            np_threads,
            "`tn.mse(y, tn.forward(net, x))`, checks on",
        ),
    ]
    return Result(
        name="forward_tutorial",
        what="The course's 5-3-5-4 network (leaky_relu 0.1, sigmoid, sigmoid) on its one "
        "(5, 1) column, float64; time per forward call",
        baseline="numpy",
        peers=peers,
        samples=interleave(peers, budget),
        targets=(
            Target("typednet ≤ 1.5x numpy", "typednet", "numpy", 1.5),
            Target("single column, checks on: ≤ 1.05x numpy (issue 23)", "typednet", "numpy", 1.05),
            Target("typednet_unchecked ≤ 1.1x numpy", "typednet_unchecked", "numpy", 1.1),
            Target(
                "with its loss, checks on: ≤ 1.2x numpy",
                "typednet_with_loss",
                "numpy_with_loss",
                1.2,
            ),
        ),
        notes=[
            _agreement(outputs, "numpy"),
            f"the loss, both ways: {losses['typednet_with_loss']!r} (the same float)",
        ],
    )


def gemm_only(weights: list[tn.Matrix], x: tn.Matrix) -> Callable[[], object]:
    """The forward pass's matrix products alone, each into a preallocated output.

    The limit the rest of a forward pass is measured against: no bias, no activation,
    no allocation.
    """
    outs = [np.empty((w.shape[0], x.shape[1]), x.dtype) for w in weights]

    def run() -> object:
        h = x
        for w, out in zip(weights, outs, strict=True):
            h = np.matmul(w, h, out=out)
        return h

    return run


def _mnist_forward(budget: Budget, dtype: type[np.floating[Any]]) -> Result:
    """784-256-128-10 (relu, relu, softmax), one batch of 1024 random columns."""
    rng = np.random.default_rng(0)
    net = classifier(rng, MNIST_SIZES, dtype)
    x = rng.random((MNIST_SIZES[0], MNIST_BATCH)).astype(dtype)
    params = net.params
    model = torch_peers.sequential(net)
    x_rows = torch_peers.rows(x)
    fns: dict[str, Callable[[], object]] = {
        "numpy": lambda: handwritten.mlp_forward(params, x),
        "typednet": lambda: tn.forward(net, x),
        "torch": lambda: model(x_rows),
    }
    outputs = {name: np.asarray(fn()) for name, fn in fns.items() if name != "torch"}
    outputs["torch"] = _torch_out(model, x_rows)
    for name, out in outputs.items():
        assert out.dtype == dtype, f"{name} computed in {out.dtype}"
    budget_s = budget.sample_seconds
    np_threads = numpy_threads_label()
    peers = [
        Peer("numpy", calibrated(fns["numpy"], budget_s), np_threads, "hand-written"),
        Peer(
            "typednet", calibrated(fns["typednet"], budget_s), np_threads, "`tn.forward`, checks on"
        ),
        Peer(
            "torch",
            within(torch.no_grad, calibrated(fns["torch"], budget_s)),
            torch_threads_label(),
            f"nn.Sequential {np.dtype(dtype).name} under `torch.no_grad()`, rows (1024, 784)",
        ),
        Peer(
            "gemm_only",
            calibrated(gemm_only(list(params[0::2]), x), budget_s),
            np_threads,
            "the 3 products `w @ h` alone, into preallocated outputs (the limit)",
        ),
    ]
    name = f"forward_mnist_{'f32' if dtype == np.float32 else 'f64'}"
    return Result(
        name=name,
        what=f"784-256-128-10 (relu, relu, softmax), {np.dtype(dtype).name}, one batch of "
        "1024 random samples; time per forward call",
        baseline="numpy",
        peers=peers,
        samples=interleave(peers, budget),
        targets=(
            Target(
                f"typednet ≥ {TORCH_SHARE:.0%} of torch's throughput",
                "typednet",
                "torch",
                1 / TORCH_SHARE,
            ),
            Target(
                f"typednet ≥ {GEMM_SHARE:.0%} of the GEMM-only rate",
                "typednet",
                "gemm_only",
                1 / GEMM_SHARE,
            ),
        ),
        items=MNIST_BATCH,
        notes=[_agreement(outputs, "numpy")],
    )


def forward_mnist_f32(budget: Budget) -> Result:
    """The MNIST-sized forward pass in float32."""
    return _mnist_forward(budget, np.float32)


def forward_mnist_f64(budget: Budget) -> Result:
    """The MNIST-sized forward pass in float64."""
    return _mnist_forward(budget, np.float64)
