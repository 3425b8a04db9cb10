"""Training benchmarks: one epoch on scikit-learn's digits, one MNIST-sized step in float32.

typednet, the hand-written NumPy loop and torch start from the same weights (torch's
are copied from typednet's network) and walk the data in the same shuffled order, so
after the epoch their params must agree: that is checked, and each peer's training
accuracy is printed, so no peer is fast because it skipped work.
"""

import cProfile
import io
import pstats
import warnings
from collections.abc import Callable
from typing import Any

import handwritten
import internals
import numpy as np
import numpy.typing as npt
import torch
import torch_peers
from forward_benches import (
    GEMM_SHARE,
    MNIST_BATCH,
    MNIST_SIZES,
    TORCH_SHARE,
    classifier,
)
from forward_benches import gemm_only as forward_gemms
from harness import Budget, Peer, Result, Sampler, Target, calibrated, clock, interleave
from machine import numpy_threads_label, torch_threads_label
from sklearn.datasets import load_digits  # type: ignore[import-untyped]  # no py.typed
from sklearn.exceptions import ConvergenceWarning  # type: ignore[import-untyped]  # no py.typed
from sklearn.neural_network import MLPClassifier  # type: ignore[import-untyped]  # no py.typed

import typednet as tn
from typednet.optim import adam
from typednet.train import fit, train_step

Labels = npt.NDArray[np.intp]
BATCH = 32
LEARNING_RATE = 1e-3
SEED = 0
SPEEDUP = 1.15  # the targets: fit and train_step at least this much faster than NumPy ...
COMPOSED = 1.15  # ... and the composed public loop within this factor of train_step

# One timed epoch: (seconds, the trained model's predicted labels on the training set,
# its params in typednet's order, or None where the model is not comparable).
Epoch = tuple[float, Labels, list[tn.Matrix] | None]


def _digits() -> tuple[tn.Matrix, tn.Matrix, Labels]:
    """Standardized digits as columns (64, 1797), one-hot targets (10, 1797), labels."""
    data = load_digits()
    rows: tn.Matrix = data.data.astype(np.float64)
    std = rows.std(axis=0)
    rows = (rows - rows.mean(axis=0)) / np.where(std > 0, std, 1.0)
    labels: Labels = data.target.astype(np.intp)
    one_hot: tn.Matrix = np.eye(10)[labels].T
    return rows.T, one_hot, labels


def _argmax(p: tn.Matrix) -> Labels:
    labels: Labels = p.argmax(axis=0).astype(np.intp)
    return labels


def _recording(run: Callable[[], Epoch], last: dict[str, Epoch], name: str) -> Sampler:
    """A sampler for ``run`` that keeps its latest trained model for the checks."""

    def sample() -> float:
        last[name] = run()
        return last[name][0]

    return sample


def train_digits_epoch(budget: Budget) -> Result:
    """One shuffled epoch of a 64-128-64-10 classifier on digits, batch 32, Adam 1e-3."""
    x, y, labels = _digits()
    n = x.shape[1]
    net0 = classifier(np.random.default_rng(SEED), (64, 128, 64, 10), np.float64)
    x_rows, labels_t = torch_peers.rows(x), torch.from_numpy(labels.astype(np.int64))
    rows = x.T

    def typednet_fit() -> Epoch:
        rng = np.random.default_rng(SEED)
        opt = adam(LEARNING_RATE)
        start = clock()
        net, _ = fit(
            net0, x, y, loss=tn.cross_entropy, optimizer=opt, epochs=1, batch_size=BATCH,
            rng=rng, progress=False,
        )  # fmt: skip
        seconds = clock() - start
        return seconds, _argmax(tn.forward(net, x)), list(net.params)

    def typednet_train_step() -> Epoch:
        rng = np.random.default_rng(SEED)
        start = clock()
        opt = adam(LEARNING_RATE)
        net, state = net0, opt.init(net0)
        order = rng.permutation(n)
        for k in range(0, n, BATCH):
            cols = order[k : k + BATCH]
            net, state, _ = train_step(
                net, state, x[:, cols], y[:, cols], loss=tn.cross_entropy, optimizer=opt
            )
        seconds = clock() - start
        return seconds, _argmax(tn.forward(net, x)), list(net.params)

    def typednet_composed() -> Epoch:
        rng = np.random.default_rng(SEED)
        start = clock()
        opt = adam(LEARNING_RATE)
        net, state = net0, opt.init(net0)
        order = rng.permutation(n)
        for k in range(0, n, BATCH):
            cols = order[k : k + BATCH]
            _, grads = tn.value_and_grad(net, x[:, cols], y[:, cols], tn.cross_entropy)
            updates, state = opt.update(grads, state, net)
            net = tn.apply_updates(net, updates)
        seconds = clock() - start
        return seconds, _argmax(tn.forward(net, x)), list(net.params)

    def numpy_loop() -> Epoch:
        rng = np.random.default_rng(SEED)
        model = handwritten.AdamMLP(net0.params, LEARNING_RATE)
        start = clock()
        order = rng.permutation(n)
        for k in range(0, n, BATCH):
            cols = order[k : k + BATCH]
            model.step(x[:, cols], y[:, cols])
        seconds = clock() - start
        return seconds, _argmax(model.predict(x)), model.params

    def torch_loop() -> Epoch:
        rng = np.random.default_rng(SEED)
        model = torch_peers.Classifier(net0, LEARNING_RATE)
        start = clock()
        order = torch.from_numpy(rng.permutation(n))
        model.epoch(x_rows, labels_t, order, BATCH)
        seconds = clock() - start
        return seconds, model.predict(x_rows).numpy().astype(np.intp), model.params()

    def sklearn_fit() -> Epoch:
        model = MLPClassifier(
            hidden_layer_sizes=(128, 64), solver="adam", batch_size=BATCH,
            learning_rate_init=LEARNING_RATE, max_iter=1, shuffle=True, random_state=SEED,
            alpha=0.0,
        )  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = clock()
            model.fit(rows, labels)
            seconds = clock() - start
        predicted: Labels = model.predict(rows).astype(np.intp)
        return seconds, predicted, None

    np_threads = numpy_threads_label()
    runs: list[tuple[str, Callable[[], Epoch], str, str]] = [
        ("typednet_fit", typednet_fit, np_threads, "`fit(epochs=1)`: validates once"),
        ("typednet_train_step", typednet_train_step, np_threads, "`train_step` loop, checks on"),
        (
            "typednet_composed",
            typednet_composed,
            np_threads,
            "`value_and_grad`, `opt.update`, `apply_updates` loop, checks on",
        ),
        ("numpy", numpy_loop, np_threads, "hand-written forward, backprop, Adam"),
        (
            "torch",
            torch_loop,
            torch_threads_label(),
            "nn.Sequential + CrossEntropyLoss on logits + optim.Adam, float64",
        ),
        (
            "sklearn",
            sklearn_fit,
            np_threads,
            "MLPClassifier(max_iter=1).fit; own init and shuffle",
        ),
    ]
    last: dict[str, Epoch] = {}
    peers = [Peer(name, _recording(run, last, name), th, note) for name, run, th, note in runs]
    samples = interleave(peers, budget)
    notes = _epoch_checks(last, labels)
    return Result(
        name="train_digits_epoch",
        what=f"One shuffled epoch ({n} samples, {-(-n // BATCH)} steps of {BATCH}) of a "
        "64-128-64-10 classifier (relu, relu, softmax + cross-entropy, Adam 1e-3, float64) "
        "on scikit-learn's standardized digits; time per epoch",
        baseline="numpy",
        peers=peers,
        samples=samples,
        targets=(
            Target(
                f"typednet ≥ {SPEEDUP}x faster than the NumPy loop (fit)",
                "typednet_fit",
                "numpy",
                1 / SPEEDUP,
            ),
            Target(
                f"typednet ≥ {SPEEDUP}x faster than the NumPy loop (train_step loop)",
                "typednet_train_step",
                "numpy",
                1 / SPEEDUP,
            ),
            Target(
                f"composed public loop within {COMPOSED}x of the train_step loop",
                "typednet_composed",
                "typednet_train_step",
                COMPOSED,
            ),
            Target("typednet ≥ 2.5x faster than torch (fit)", "typednet_fit", "torch", 0.4),
            Target("typednet ≥ 1.5x faster than sklearn (fit)", "typednet_fit", "sklearn", 1 / 1.5),
            Target(
                "typednet ≥ 2.5x faster than torch (train_step loop)",
                "typednet_train_step",
                "torch",
                0.4,
            ),
            Target(
                "typednet ≥ 1.5x faster than sklearn (train_step loop)",
                "typednet_train_step",
                "sklearn",
                1 / 1.5,
            ),
        ),
        notes=notes,
    )


def _epoch_checks(last: dict[str, Epoch], labels: Labels) -> list[str]:
    """Every peer learned; the peers that share init and order end at the same params."""
    accuracy = {name: float(np.mean(epoch[1] == labels)) for name, epoch in last.items()}
    for name, acc in accuracy.items():
        if acc < 0.5:
            raise AssertionError(f"{name} did not learn: training accuracy {acc:.3f} after 1 epoch")
    reference = last["typednet_fit"][2]
    assert reference is not None
    diffs: list[str] = []
    for name, (_, _, params) in last.items():
        if params is None or name == "typednet_fit":
            continue
        diff = max(float(np.max(np.abs(p - q))) for p, q in zip(params, reference, strict=True))
        if diff > 1e-6:
            raise AssertionError(f"{name} ended {diff:.3g} away from typednet_fit's params")
        diffs.append(f"{name} {diff:.1e}")
    shown = ", ".join(f"{name} {acc:.3f}" for name, acc in accuracy.items())
    return [
        f"training-set accuracy after the epoch (chance is 0.1): {shown}",
        "same init and order, same params after the epoch: max |difference| from "
        f"typednet_fit's: {', '.join(diffs)}; sklearn uses its own init and shuffle",
    ]


def _mnist_batch(
    rng: np.random.Generator, dtype: type[np.floating[Any]], batch: int = MNIST_BATCH
) -> tuple[tn.Matrix, tn.Matrix, Labels]:
    x = rng.random((MNIST_SIZES[0], batch)).astype(dtype)
    labels: Labels = rng.integers(0, MNIST_SIZES[-1], batch).astype(np.intp)
    y: tn.Matrix = np.eye(MNIST_SIZES[-1], dtype=dtype)[labels].T
    return x, y, labels


def gemm_only_step(weights: list[tn.Matrix], x: tn.Matrix) -> Callable[[], object]:
    """A training step's matrix products alone, each into a preallocated output.

    Forward ``h_k = w_k @ h_(k-1)``; backward, per layer, the weight gradient
    ``delta_k @ h_(k-1).T`` and (except for the first layer) the delta passed down
    ``w_k.T @ delta_k``: 3 + 3 + 2 products for three layers. No bias, activation, loss,
    bias gradient or optimizer: the limit the rest of a step is measured against.
    """
    n = x.shape[1]
    hs = [x, *(np.empty((w.shape[0], n), x.dtype) for w in weights)]
    deltas = [np.empty((w.shape[0], n), x.dtype) for w in weights]
    deltas[-1][...] = 1.0 / n
    grads = [np.empty_like(w) for w in weights]

    def run() -> object:
        for k, w in enumerate(weights):
            np.matmul(w, hs[k], out=hs[k + 1])
        for k in range(len(weights) - 1, -1, -1):
            np.matmul(deltas[k], hs[k].T, out=grads[k])
            if k:
                np.matmul(weights[k].T, deltas[k], out=deltas[k - 1])
        return grads

    return run


def train_step_mnist_f32(budget: Budget) -> Result:
    """The MNIST-sized training step in float32."""
    return _mnist_step(budget, np.float32)


def train_step_mnist_f64(budget: Budget) -> Result:
    """The MNIST-sized training step in float64."""
    return _mnist_step(budget, np.float64)


def train_step_mnist_f32_b256(budget: Budget) -> Result:
    """The MNIST-sized training step in float32 at batch 256 (issue 23's second batch)."""
    return _mnist_step(budget, np.float32, 256)


def train_step_mnist_f64_b256(budget: Budget) -> Result:
    """The MNIST-sized training step in float64 at batch 256."""
    return _mnist_step(budget, np.float64, 256)


def _mnist_step(budget: Budget, dtype: type[np.floating[Any]], batch: int = MNIST_BATCH) -> Result:
    """One Adam step of 784-256-128-10 (relu, relu, softmax + cross-entropy)."""
    rng = np.random.default_rng(SEED)
    net0 = classifier(rng, MNIST_SIZES, dtype)
    x, y, labels = _mnist_batch(rng, dtype, batch)
    x_rows, labels_t = torch_peers.rows(x), torch.from_numpy(labels.astype(np.int64))
    opt = adam(LEARNING_RATE)
    net, state = net0, opt.init(net0)

    def typednet_step() -> float:
        nonlocal net, state
        net, state, value = train_step(net, state, x, y, loss=tn.cross_entropy, optimizer=opt)
        return value

    numpy_model = handwritten.AdamMLP(net0.params, LEARNING_RATE)
    torch_model = torch_peers.Classifier(net0, LEARNING_RATE)
    steps: dict[str, Callable[[], float]] = {
        "typednet": typednet_step,
        "numpy": lambda: numpy_model.step(x, y),
        "torch": lambda: torch_model.step(x_rows, labels_t),
    }
    first = {name: step() for name, step in steps.items()}  # from the same params
    for name, value in first.items():
        if not np.isclose(value, first["numpy"], rtol=1e-4):
            raise AssertionError(f"{name}'s loss {value} differs from numpy's {first['numpy']}")
    budget_s = budget.sample_seconds
    peers = [
        Peer("numpy", calibrated(steps["numpy"], budget_s), numpy_threads_label(), "hand-written"),
        Peer(
            "typednet",
            calibrated(steps["typednet"], budget_s),
            numpy_threads_label(),
            "`train_step`, checks on",
        ),
        Peer(
            "torch",
            calibrated(steps["torch"], budget_s),
            torch_threads_label(),
            f"CrossEntropyLoss on logits + optim.Adam, {np.dtype(dtype).name}",
        ),
        Peer(
            "gemm_only",
            calibrated(gemm_only_step(list(net0.params[0::2]), x), budget_s),
            numpy_threads_label(),
            "the step's 8 products alone (3 forward, 3 weight gradients, 2 deltas), "
            "into preallocated outputs (the limit)",
        ),
    ]
    samples = interleave(peers, budget)
    after = {name: step() for name, step in steps.items()}
    for name, value in after.items():
        if not value < first[name]:
            raise AssertionError(f"{name} is not learning: loss {first[name]} -> {value}")
    shown = ", ".join(f"{name} {first[name]:.4f} → {after[name]:.4f}" for name in steps)
    return Result(
        name=f"train_step_mnist_{'f32' if dtype == np.float32 else 'f64'}"
        + ("" if batch == MNIST_BATCH else f"_b{batch}"),
        what="One training step (forward, cross-entropy, backward, Adam 1e-3) of "
        f"784-256-128-10 (relu, relu, softmax), {np.dtype(dtype).name}, batch of {batch} "
        "random samples; time per step",
        baseline="numpy",
        peers=peers,
        samples=samples,
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
        items=batch,
        notes=[
            "loss at the first step (same params and batch for all), then after each peer's "
            f"own timed steps (how many differs: samples are calibrated per peer): {shown}"
        ],
    )


def step_phases(budget: Budget) -> Result:
    """Where one typednet step spends its time, on the digits shapes (batch 32)."""
    x, y, _ = _digits()
    x, y = np.ascontiguousarray(x[:, :BATCH]), np.ascontiguousarray(y[:, :BATCH])
    net = classifier(np.random.default_rng(SEED), (64, 128, 64, 10), np.float64)
    opt = adam(LEARNING_RATE)
    state = opt.init(net)
    loss = tn.cross_entropy
    _, flat_grads = internals.value_and_flat_grad(net, x, y, loss)
    grads = internals.rebuild(net, flat_grads)
    updates, _ = opt.update(grads, state, net)
    model = handwritten.AdamMLP(net.params, LEARNING_RATE)
    flat = [np.concatenate([p.ravel() for p in net.params])]
    flat_g = [np.concatenate([g.ravel() for g in grads.params])]
    flat_m, flat_v = [np.zeros_like(flat[0])], [np.zeros_like(flat[0])]

    def unchecked_update() -> object:
        with tn.no_checks():
            return opt.update(grads, state, net)

    phases: list[tuple[str, Callable[[], object], str]] = [
        (
            "train_step",
            lambda: train_step(net, state, x, y, loss=loss, optimizer=opt),
            "the whole step, checked (= check + value_and_grad + the fused update and apply)",
        ),
        ("check", lambda: internals.check_batch(net, x, y, loss), "train_step's input checks"),
        ("trace", lambda: internals.trace(net, x), "forward keeping pre/post (in the gradient)"),
        (
            "flat_grad",
            lambda: internals.value_and_flat_grad(net, x, y, loss),
            "kernel: trace + loss + backward into one flat column (what a step runs)",
        ),
        (
            "value_and_grad",
            lambda: tn.value_and_grad(net, x, y, loss),
            "public, checks on: the kernel + the grads Network",
        ),
        (
            "update",
            lambda: opt.update(grads, state, net),
            "Adam, checks on: one flat column, 1 Network built (the updates)",
        ),
        ("update_unchecked", unchecked_update, "the same inside `tn.no_checks()`"),
        (
            "update_and_apply",
            lambda: internals.update_and_apply(opt, flat_grads, state, net),
            "what train_step and fit run: Adam and the add, unchecked, 1 Network built",
        ),
        (
            "apply_updates",
            lambda: tn.apply_updates(net, updates),
            "params + updates, checks on: 1 add, 1 Network built",
        ),
        (
            "rebuild",
            lambda: internals.rebuild(net, internals.column(net).copy()),
            "one `Network` on a new column",
        ),
        ("numpy_step", lambda: model.step(x, y), "the hand-written NumPy step, for scale"),
        (
            "numpy_flat_adam",
            lambda: handwritten.adam_update(flat, flat_g, flat_m, flat_v, 1, LEARNING_RATE),
            f"its Adam + apply on ONE flat array of all {flat[0].size:,} params "
            "(the floor for typednet's update_and_apply)",
        ),
    ]
    peers = [
        Peer(name, calibrated(fn, budget.sample_seconds), numpy_threads_label(), note)
        for name, fn, note in phases
    ]
    return Result(
        name="step_phases",
        what=f"Where one typednet `train_step` of 64-128-64-10 at batch {BATCH} (the digits "
        "step, float64) spends its time; time per call, ratio = share of the whole step",
        baseline="train_step",
        peers=peers,
        samples=interleave(peers, budget),
    )


def step_phases_mnist_f32(budget: Budget) -> Result:
    """Where the MNIST-sized float32 step spends what its products do not."""
    rng = np.random.default_rng(SEED)
    net = classifier(rng, MNIST_SIZES, np.float32)
    x, y, _ = _mnist_batch(rng, np.float32)
    opt = adam(LEARNING_RATE)
    state = opt.init(net)
    loss = tn.cross_entropy
    _, flat_grads = internals.value_and_flat_grad(net, x, y, loss)
    weights = list(net.params[0::2])
    phases: list[tuple[str, Callable[[], object], str]] = [
        (
            "train_step",
            lambda: train_step(net, state, x, y, loss=loss, optimizer=opt),
            "the whole step, checked",
        ),
        (
            "gemm_only",
            gemm_only_step(weights, x),
            "its 8 matrix products alone, into preallocated outputs",
        ),
        ("forward_gemms", forward_gemms(weights, x), "the 3 forward products alone"),
        ("trace", lambda: internals.trace(net, x), "forward keeping pre/post"),
        (
            "flat_grad",
            lambda: internals.value_and_flat_grad(net, x, y, loss),
            "trace + loss + backward into one flat column",
        ),
        (
            "update_and_apply",
            lambda: internals.update_and_apply(opt, flat_grads, state, net),
            f"Adam and the add on {flat_grads.size:,} params, 1 Network built",
        ),
    ]
    peers = [
        Peer(name, calibrated(fn, budget.sample_seconds), numpy_threads_label(), note)
        for name, fn, note in phases
    ]
    return Result(
        name="step_phases_mnist_f32",
        what="Where one typednet `train_step` of 784-256-128-10 at batch 1024 (float32) "
        "spends its time; time per call, ratio = share of the whole step",
        baseline="train_step",
        peers=peers,
        samples=interleave(peers, budget),
    )


def profile_fit(epochs: int = 5, top: int = 20) -> str:
    """cProfile of typednet's `fit` on the digits benchmark: functions by their own time."""
    x, y, _ = _digits()
    net0 = classifier(np.random.default_rng(SEED), (64, 128, 64, 10), np.float64)
    profiler = cProfile.Profile()
    profiler.enable()
    fit(
        net0, x, y, loss=tn.cross_entropy, optimizer=adam(LEARNING_RATE), epochs=epochs,
        batch_size=BATCH, rng=np.random.default_rng(SEED), progress=False,
    )  # fmt: skip
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()
