"""Forward-pass benchmarks: the course's tiny network, and an MNIST-sized one in float32."""

from collections.abc import Callable

import handwritten
import naive_jaxtyping
import numpy as np
import numpy.typing as npt
import torch
import torch_peers
from harness import Budget, Peer, Result, Target, calibrated, interleave, within
from machine import numpy_threads_label, torch_threads_label

import typednet as tn
from typednet._kernels import forward as _forward
from typednet.apps.tutorial import build

MNIST_SIZES = (784, 256, 128, 10)
MNIST_BATCH = 1024


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
    net, x, _ = build()
    w1, b1, w2, b2, w3, b3 = net.params
    model = torch_peers.sequential(net)
    x_row = torch_peers.rows(x)
    fns: dict[str, Callable[[], object]] = {
        "numpy": lambda: handwritten.tutorial_forward(x, w1, b1, w2, b2, w3, b3),
        "typednet": lambda: tn.forward(net, x),
        "typednet_unchecked": lambda: tn.forward(net, x),
        "typednet_kernel": lambda: _forward(net, x),
        "torch": lambda: model(x_row),
        "jaxtyping_everywhere": lambda: naive_jaxtyping.tutorial_forward(x, w1, b1, w2, b2, w3, b3),
    }
    outputs = {name: np.asarray(fn()) for name, fn in fns.items() if name != "torch"}
    outputs["torch"] = _torch_out(model, x_row)
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
            Target("typednet_unchecked ≤ 1.1x numpy", "typednet_unchecked", "numpy", 1.1),
        ),
        notes=[_agreement(outputs, "numpy")],
    )


def forward_mnist_f32(budget: Budget) -> Result:
    """784-256-128-10 (relu, relu, softmax), float32, one batch of 1024 random columns."""
    rng = np.random.default_rng(0)
    net = classifier(rng, MNIST_SIZES, np.float32)
    x = rng.random((MNIST_SIZES[0], MNIST_BATCH), dtype=np.float32)
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
        assert out.dtype == np.float32, f"{name} computed in {out.dtype}"
    budget_s = budget.sample_seconds
    peers = [
        Peer("numpy", calibrated(fns["numpy"], budget_s), numpy_threads_label(), "hand-written"),
        Peer(
            "typednet",
            calibrated(fns["typednet"], budget_s),
            numpy_threads_label(),
            "`tn.forward`, checks on",
        ),
        Peer(
            "torch",
            within(torch.no_grad, calibrated(fns["torch"], budget_s)),
            torch_threads_label(),
            "nn.Sequential float32 under `torch.no_grad()`, rows (1024, 784)",
        ),
    ]
    return Result(
        name="forward_mnist_f32",
        what="784-256-128-10 (relu, relu, softmax), float32, one batch of 1024 random "
        "samples; time per forward call",
        baseline="numpy",
        peers=peers,
        samples=interleave(peers, budget),
        targets=(Target("typednet throughput ≥ torch's", "typednet", "torch", 1.0),),
        items=MNIST_BATCH,
        notes=[_agreement(outputs, "numpy")],
    )
