"""Issue 23: whole training epochs against JAX + optax, and beside PyTorch, scikit-learn
and hand-written NumPy.

Two networks, each in float32 and float64, Adam 1e-3, relu hidden layers, softmax +
cross-entropy:

- the digits network 64-128-64-10 at batch 32, on the first 1437 columns of
  scikit-learn's standardized digits (the size of an 80 % training split: 44 batches of
  32 and one of 29);
- 784-256-128-10 at batch 1024 on 8192 MNIST-shaped random columns (values in [0, 1),
  labels from a random linear teacher, so there is something to learn): 8 steps.

typednet (`fit`, which checks its data once and every step's params), the hand-written
NumPy loop, torch, and JAX (`jax_scan`: the epoch under one ``jit`` with ``lax.scan``;
`jax_step`: a Python loop of jitted steps) start from the same weights and walk the
same shuffled order (``np.random.default_rng(0).permutation(n)``, which is what `fit`
draws), so after the epoch their params must agree: that is checked. scikit-learn uses
its own init and shuffle. Every peer's loss on the whole set must fall.
"""

import warnings
from collections.abc import Callable
from typing import Any

import handwritten
import jax.numpy as jnp
import numpy as np
import torch
import torch_peers
from forward_benches import classifier
from harness import Budget, Peer, Result, Target, clock, interleave
from jax_peers import JaxClassifier, flat
from machine import (
    compiled_threads_label,
    numpy_threads_label,
    torch_threads_label,
    xla_threads_label,
)
from sklearn.datasets import load_digits  # type: ignore[import-untyped]  # no py.typed
from sklearn.exceptions import ConvergenceWarning  # type: ignore[import-untyped]  # no py.typed
from sklearn.neural_network import MLPClassifier  # type: ignore[import-untyped]  # no py.typed

import typednet as tn
from typednet.optim import adam
from typednet.train import fit

Array = np.ndarray[Any, Any]
LEARNING_RATE = 1e-3
SEED = 0
DIGITS_SIZES = (64, 128, 64, 10)
DIGITS_COLUMNS = 1437
DIGITS_BATCH = 32
MNIST_SIZES = (784, 256, 128, 10)
MNIST_COLUMNS = 8192
MNIST_BATCH = 1024

TARGET = "typednet `fit` at least as fast as JAX's compiled epoch"

# (seconds, params in typednet's order, or None where not comparable)
Run = tuple[float, list[Array] | None]


def digits(dtype: type[np.floating[Any]]) -> tuple[Array, Array, Array]:
    """The first 1437 standardized digits as columns (64, 1437), one-hot (10, 1437), labels."""
    data = load_digits()
    rows = data.data.astype(np.float64)
    std = rows.std(axis=0)
    rows = (rows - rows.mean(axis=0)) / np.where(std > 0, std, 1.0)
    labels = data.target.astype(np.intp)[:DIGITS_COLUMNS]
    x = np.ascontiguousarray(rows[:DIGITS_COLUMNS].T, dtype=dtype)
    return x, np.eye(10, dtype=dtype)[labels].T.copy(), labels


def mnist_like(dtype: type[np.floating[Any]]) -> tuple[Array, Array, Array]:
    """8192 random columns in [0, 1) of 784 values; labels from a random linear teacher."""
    rng = np.random.default_rng(SEED + 1)
    x = rng.random((MNIST_SIZES[0], MNIST_COLUMNS))
    teacher = rng.normal(size=(MNIST_SIZES[-1], MNIST_SIZES[0]))
    labels = np.argmax(teacher @ (x - 0.5), axis=0).astype(np.intp)
    y = np.eye(MNIST_SIZES[-1], dtype=dtype)[labels].T.copy()
    return x.astype(dtype), y, labels


def _mean_loss(params: list[Array], x: Array, y: Array) -> float:
    """Cross-entropy of the hand-written forward pass: the same yardstick for every peer."""
    p = handwritten.mlp_forward([a.astype(np.float64) for a in params], x.astype(np.float64))
    return float(-np.sum(y * np.log(np.clip(p, 1e-300, 1.0))) / x.shape[1])


def epoch_bench(
    name: str,
    sizes: tuple[int, ...],
    data: tuple[Array, Array, Array],
    batch: int,
    budget: Budget,
) -> Result:
    """One shuffled epoch of each peer, interleaved; baseline: JAX's compiled epoch."""
    x, y, labels = data
    dtype = x.dtype.type
    n = x.shape[1]
    net0 = classifier(np.random.default_rng(SEED), sizes, dtype)
    x_rows, labels_t = torch_peers.rows(x), torch.from_numpy(labels.astype(np.int64))
    rows = np.ascontiguousarray(x.T)
    jax_model = JaxClassifier(net0, LEARNING_RATE)
    x_dev, y_dev = jnp.asarray(x), jnp.asarray(y)  # the data a JAX user holds on the device

    def order() -> Array:
        return np.random.default_rng(SEED).permutation(n)

    def typednet_fit() -> Run:
        start = clock()
        net, _ = fit(
            net0, x, y, loss=tn.cross_entropy, optimizer=adam(LEARNING_RATE), epochs=1,
            batch_size=batch, rng=np.random.default_rng(SEED), progress=False,
        )  # fmt: skip
        return clock() - start, list(net.params)

    def typednet_compiled() -> Run:
        start = clock()
        net, _ = fit(
            net0, x, y, loss=tn.cross_entropy, optimizer=adam(LEARNING_RATE), epochs=1,
            batch_size=batch, rng=np.random.default_rng(SEED), progress=False, compiled=True,
        )  # fmt: skip
        return clock() - start, list(net.params)

    def numpy_loop() -> Run:
        model = handwritten.AdamMLP(net0.params, LEARNING_RATE)
        start = clock()
        idx = order()
        for k in range(0, n, batch):
            cols = idx[k : k + batch]
            model.step(x[:, cols], y[:, cols])
        return clock() - start, model.params

    def torch_loop() -> Run:
        model = torch_peers.Classifier(net0, LEARNING_RATE)
        start = clock()
        model.epoch(x_rows, labels_t, torch.from_numpy(order()), batch)
        return clock() - start, model.params()

    def jax_scan() -> Run:
        start = clock()
        params = jax_model.epoch(x_dev, y_dev, order(), batch)
        return clock() - start, flat(params)

    def jax_step() -> Run:
        start = clock()
        params = jax_model.step_loop(x, y, order(), batch)
        return clock() - start, flat(params)

    def sklearn_fit() -> Run:
        model = MLPClassifier(
            hidden_layer_sizes=sizes[1:-1], solver="adam", batch_size=batch,
            learning_rate_init=LEARNING_RATE, max_iter=1, shuffle=True, random_state=SEED,
            alpha=0.0,
        )  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = clock()
            model.fit(rows, labels)
            seconds = clock() - start
        ws = [np.asarray(w).T for w in model.coefs_]
        bs = [np.asarray(b).reshape(-1, 1) for b in model.intercepts_]
        return seconds, [a for pair in zip(ws, bs, strict=True) for a in pair]

    np_threads = numpy_threads_label()
    runs: list[tuple[str, Callable[[], Run], str, str]] = [
        ("jax_scan", jax_scan, xla_threads_label(), "the epoch under one `jit`, `lax.scan`"),
        ("jax_step", jax_step, xla_threads_label(), "a Python loop of a jitted step"),
        ("typednet_fit", typednet_fit, np_threads, "`fit(epochs=1)`, checks on"),
        ("typednet_compiled", typednet_compiled, compiled_threads_label(), "`fit(compiled=True)`"),
        ("numpy", numpy_loop, np_threads, "hand-written forward, backprop, Adam"),
        ("torch", torch_loop, torch_threads_label(), "nn.Sequential + CrossEntropyLoss + Adam"),
        ("sklearn", sklearn_fit, np_threads, "MLPClassifier(max_iter=1): own init and shuffle"),
    ]
    last: dict[str, Run] = {}

    def recording(run: Callable[[], Run], key: str) -> Callable[[], float]:
        def sample() -> float:
            last[key] = run()
            return last[key][0]

        return sample

    for _, run, _, _ in runs:  # compile and warm every peer once, outside the rounds
        run()
    peers = [Peer(key, recording(run, key), th, note) for key, run, th, note in runs]
    samples = interleave(peers, budget)
    notes = _checks(last, list(net0.params), x, y, dtype)
    return Result(
        name=name,
        what=f"One shuffled epoch ({n} columns, {-(-n // batch)} steps of {batch}) of "
        f"{'-'.join(map(str, sizes))} (relu, softmax + cross-entropy, Adam 1e-3, "
        f"{np.dtype(dtype).name}); time per epoch",
        baseline="jax_scan",
        peers=peers,
        samples=samples,
        targets=(
            Target(TARGET, "typednet_fit", "jax_scan", 1.0),
            Target(f"{TARGET}, compiled=True", "typednet_compiled", "jax_scan", 1.0),
        ),
        items=n,
        notes=notes,
    )


def _checks(
    last: dict[str, Run], start: list[Array], x: Array, y: Array, dtype: type[np.floating[Any]]
) -> list[str]:
    """Every peer's loss fell; the peers sharing init and order end at the same params."""
    before = _mean_loss(start, x, y)
    after = {key: _mean_loss(p, x, y) for key, (_, p) in last.items() if p is not None}
    for key, value in after.items():
        if not value < before:
            raise AssertionError(f"{key} did not learn: loss {before:.4f} -> {value:.4f}")
    reference = last["typednet_fit"][1]
    assert reference is not None
    tol = 1e-6 if dtype == np.float64 else 1e-3
    diffs: list[str] = []
    for key, (_, params) in last.items():
        if params is None or key in ("typednet_fit", "sklearn"):
            continue
        diff = max(float(np.max(np.abs(p - q))) for p, q in zip(params, reference, strict=True))
        if diff > tol:
            raise AssertionError(f"{key} ended {diff:.3g} away from typednet_fit's params")
        diffs.append(f"{key} {diff:.1e}")
    shown = ", ".join(f"{key} {value:.4f}" for key, value in after.items())
    return [
        f"loss on the whole set (one NumPy yardstick): {before:.4f} before, after: {shown}",
        f"same init and order, max |param difference| from typednet_fit's: {', '.join(diffs)}",
    ]


def epoch_digits_f32(budget: Budget) -> Result:
    return epoch_bench("epoch_digits_f32", DIGITS_SIZES, digits(np.float32), DIGITS_BATCH, budget)


def epoch_digits_f64(budget: Budget) -> Result:
    return epoch_bench("epoch_digits_f64", DIGITS_SIZES, digits(np.float64), DIGITS_BATCH, budget)


def epoch_mnist_f32(budget: Budget) -> Result:
    return epoch_bench("epoch_mnist_f32", MNIST_SIZES, mnist_like(np.float32), MNIST_BATCH, budget)


def epoch_mnist_f64(budget: Budget) -> Result:
    return epoch_bench("epoch_mnist_f64", MNIST_SIZES, mnist_like(np.float64), MNIST_BATCH, budget)
