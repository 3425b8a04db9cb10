"""The reference any speed work must keep: Adam training against plain NumPy.

Issue 23 allows the training step to be made faster (fewer passes, buffers reused, a
fused update) only while float64 runs agree to 1e-12 relative after 100 steps with a
plain-NumPy re-derivation written from the formulas (below: textbook Adam, per array,
with the bias-corrected m_hat and v_hat), and while the same seed gives the same bits
from run to run.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

import typednet as tn

Arr = tn.Matrix
SIZES = (12, 24, 16, 5)
STEPS = 100
BATCH = 16
N = 200  # 12 full batches and one of 8 per epoch


def _data() -> tuple[Arr, Arr]:
    rng = np.random.default_rng(7)
    x: Arr = rng.normal(size=(SIZES[0], N))
    labels = rng.integers(0, SIZES[-1], N)
    y: Arr = np.eye(SIZES[-1])[labels].T.copy()
    return x, y


def _net(dtype: type[np.floating[Any]] = np.float64) -> tn.Network[int, int]:
    rng = np.random.default_rng(3)
    acts = [tn.relu, tn.relu, tn.softmax]
    pairs = zip(SIZES, SIZES[1:], acts, strict=False)
    return tn.Network(tuple(tn.dense(rng, p, n, a, dtype=dtype) for p, n, a in pairs))


def _plain_adam(
    params: list[Arr], x: Arr, y: Arr, orders: list[npt.NDArray[np.intp]], steps: int
) -> list[Arr]:
    """``steps`` Adam steps (lr 1e-3, torch's defaults), batches taken in ``orders``."""
    ps = [p.copy() for p in params]
    ms = [np.zeros_like(p) for p in ps]
    vs = [np.zeros_like(p) for p in ps]
    lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-8
    t = 0
    for order in orders:
        for k in range(0, N, BATCH):
            if t == steps:
                return ps
            cols = order[k : k + BATCH]
            xb, yb = x[:, cols], y[:, cols]
            hs = [xb]
            for w, b in zip(ps[0:-2:2], ps[1:-2:2], strict=True):
                hs.append(np.maximum(w @ hs[-1] + b, 0.0))
            z = ps[-2] @ hs[-1] + ps[-1]
            e = np.exp(z - z.max(axis=0, keepdims=True))
            p = e / e.sum(axis=0, keepdims=True)
            delta = (p - yb) / xb.shape[1]  # d mean cross-entropy / d logits
            grads: list[Arr] = []
            for layer in range(len(ps) // 2 - 1, -1, -1):
                grads = [delta @ hs[layer].T, delta.sum(axis=1, keepdims=True), *grads]
                if layer:
                    delta = (ps[2 * layer].T @ delta) * (hs[layer] > 0)
            t += 1
            for i, g in enumerate(grads):
                ms[i] = b1 * ms[i] + (1 - b1) * g
                vs[i] = b2 * vs[i] + (1 - b2) * g * g
                m_hat = ms[i] / (1 - b1**t)
                v_hat = vs[i] / (1 - b2**t)
                ps[i] = ps[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
    return ps


def _train_steps(net: tn.Network[int, int], x: Arr, y: Arr) -> tn.Network[int, int]:
    """``STEPS`` `train_step` calls (checks on) in `fit`'s order: 100 is not whole epochs."""
    rng = np.random.default_rng(0)
    opt = tn.adam(1e-3)
    state = opt.init(net)
    t = 0
    while True:
        order = rng.permutation(N)
        for k in range(0, N, BATCH):
            if t == STEPS:
                return net
            cols = order[k : k + BATCH]
            net, state, _ = tn.train_step(
                net, state, x[:, cols], y[:, cols], loss=tn.cross_entropy, optimizer=opt
            )
            t += 1


def _orders() -> list[npt.NDArray[np.intp]]:
    rng = np.random.default_rng(0)
    return [rng.permutation(N) for _ in range(-(-STEPS // -(-N // BATCH)))]


def test_100_adam_steps_agree_with_plain_numpy_to_1e_12() -> None:
    x, y = _data()
    net = _net()
    want = _plain_adam(list(net.params), x, y, _orders(), STEPS)
    got = _train_steps(net, x, y)
    moved = max(float(np.max(np.abs(g - p))) for g, p in zip(got.params, net.params, strict=True))
    assert moved > 1e-2  # the params did move: 100 steps of about lr each
    for g, w in zip(got.params, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-15)


# fit(compiled=True), the numba loop, is held to the same reference: 8 epochs are 104 steps.
@pytest.mark.parametrize(("compiled", "epochs"), [(False, 2), (True, 8)])
def test_fit_matches_the_same_steps_and_gives_the_same_bits_run_to_run(
    compiled: bool, epochs: int
) -> None:
    x, y = _data()
    net = _net()
    steps_per_epoch = -(-N // BATCH)
    runs = [
        tn.fit(
            net,
            x,
            y,
            loss=tn.cross_entropy,
            optimizer=tn.adam(1e-3),
            epochs=epochs,
            batch_size=BATCH,
            rng=np.random.default_rng(0),
            progress=False,
            compiled=compiled,
        )
        for _ in range(2)
    ]
    (a, history_a), (b, history_b) = runs
    for p, q in zip(a.params, b.params, strict=True):
        assert np.array_equal(p, q)
    assert history_a.train_loss == history_b.train_loss
    assert history_a.state is not None and history_a.state.count == epochs * steps_per_epoch
    rng = np.random.default_rng(0)  # fit's order: one permutation per epoch
    orders = [rng.permutation(N) for _ in range(epochs)]
    want = _plain_adam(list(net.params), x, y, orders, epochs * steps_per_epoch)
    for g, w in zip(a.params, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_same_seed_gives_the_same_bits_in_each_dtype(
    dtype: type[np.floating[Any]], compiled: bool
) -> None:
    x, y = _data()
    net = _net(dtype)
    xs, ys = x.astype(dtype), y.astype(dtype)
    first, second = (
        tn.fit(
            net,
            xs,
            ys,
            loss=tn.cross_entropy,
            optimizer=tn.adam(1e-3),
            epochs=1,
            batch_size=BATCH,
            rng=np.random.default_rng(5),
            progress=False,
            compiled=compiled,
        )[0]
        for _ in range(2)
    )
    assert all(p.dtype == dtype for p in first.params)
    for p, q in zip(first.params, second.params, strict=True):
        assert p.tobytes() == q.tobytes()


def _loop(
    net0: tn.Network[int, int],
    gather: Callable[[npt.NDArray[np.intp]], tuple[Arr, Arr]],
    n: int,
    batch: int,
) -> tn.Network[int, int]:
    """Two epochs of `train_step` in `fit`'s order (seed 4), batches from ``gather``."""
    opt = tn.adam(1e-2)
    net, state = net0, opt.init(net0)
    rng = np.random.default_rng(4)
    for _ in range(2):
        order = rng.permutation(n)
        for k in range(0, n, batch):
            xb, yb = gather(order[k : k + batch])
            net, state, _ = tn.train_step(net, state, xb, yb, loss=tn.cross_entropy, optimizer=opt)
    return net


@pytest.mark.parametrize("batch", [128, 300, 1000])
@pytest.mark.parametrize("layout", ["C", "F", "memmap"])
def test_fit_on_a_set_larger_than_the_caches(layout: str, batch: int, tmp_path: Path) -> None:
    """Above 2 MiB, `fit` gathers the batches of a C-ordered set (a memmap too) with
    np.take, four batches at once, each handed out as a view with C-ordered rows: the
    bits of a train_step loop on batches taken one at a time, and within 1e-12 of one on
    ``x[:, cols]`` (an F-ordered batch: the products round differently). Any other set
    is indexed as before: the same bits as ``x[:, cols]``. Batches of 128 make two
    chunks, the second short (3 full batches and one of 104); 300, one chunk of the
    whole set with a short last batch; 1000, one batch an epoch."""
    rng = np.random.default_rng(11)
    features, n = 300, 1000  # 2.4 MB of float64: above the threshold
    x: Arr = rng.normal(size=(features, n))
    assert x.nbytes > 1 << 21
    y: Arr = np.eye(3)[rng.integers(0, 3, n)].T.copy()
    plain = x.copy()
    if layout == "F":
        x = np.asfortranarray(x)
    elif layout == "memmap":
        mapped = np.memmap(tmp_path / "x.f64", dtype=np.float64, mode="w+", shape=x.shape)
        mapped[...] = x
        mapped.flush()
        x = np.memmap(tmp_path / "x.f64", dtype=np.float64, mode="r", shape=x.shape)
    net0 = tn.Network(
        (
            tn.dense(np.random.default_rng(2), features, 8, tn.relu),
            tn.dense(np.random.default_rng(3), 8, 3, tn.softmax),
        )
    )
    got, _ = tn.fit(
        net0, x, y, loss=tn.cross_entropy, optimizer=tn.adam(1e-2), epochs=2, batch_size=batch,
        rng=np.random.default_rng(4), progress=False,
    )  # fmt: skip
    indexed = _loop(net0, lambda cols: (plain[:, cols], y[:, cols]), n, batch)
    taken = _loop(net0, lambda cols: (np.take(plain, cols, axis=1), y[:, cols]), n, batch)
    same = indexed if layout == "F" else taken
    for p, q, r in zip(got.params, same.params, indexed.params, strict=True):
        assert p.tobytes() == q.tobytes()
        np.testing.assert_allclose(p, r, rtol=1e-12, atol=1e-15)
    assert not np.array_equal(got.params[0], net0.params[0])  # it trained
