"""The fast paths give the same bits as the plain formulas, and change nothing they are given.

Speed-ups (in-place activations at inference, the losses' and optimizers' quick checks,
the cached pieces of a training step) may not change a result: each test here compares
with a plain NumPy re-derivation, bit for bit, or checks that a mismatch is still caught.
"""

from collections.abc import Callable

import numpy as np
import pytest

import typednet as tn
from tests.helpers import ACTIVATIONS

DTYPES = [np.float32, np.float64]


def _same_bits(a: tn.Matrix, b: tn.Matrix) -> bool:
    """Equal values, dtypes and signs of zero: the bytes agree."""
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
def test_overwrite_gives_the_bits_of_the_plain_call(
    activation: tn.Activation, dtype: type[np.floating], rng: np.random.Generator
) -> None:
    # Wide values reach sigmoid's clipping and softmax's shift; exact zeros, relu's kink.
    pre = (rng.standard_normal((50, 70)) * 40.0).astype(dtype)  # large enough to overwrite
    pre[0, :3] = 0.0
    want = activation(pre)
    scratch = pre.copy()
    got = activation.overwrite(scratch)
    assert _same_bits(got, want)
    if activation.fn_inplace is not None:
        assert got is scratch  # no new array


REFERENCES: dict[str, Callable[[tn.Matrix], tn.Matrix]] = {
    "relu": lambda z: np.maximum(z, 0.0),
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "softmax": lambda z: np.exp(z - z.max(axis=0)) / np.exp(z - z.max(axis=0)).sum(axis=0),
    "leaky_relu": lambda z: np.where(z > 0, z, np.asarray(0.1, z.dtype) * z),
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
@pytest.mark.parametrize("dtype", DTYPES)
def test_forward_matches_plain_numpy_bit_for_bit(
    name: str, dtype: type[np.floating], rng: np.random.Generator
) -> None:
    activation = {a.name: a for a in ACTIVATIONS}[name]
    w1 = rng.standard_normal((6, 4)).astype(dtype)
    b1 = rng.standard_normal((6, 1)).astype(dtype)
    w2 = rng.standard_normal((3, 6)).astype(dtype)
    b2 = rng.standard_normal((3, 1)).astype(dtype)
    net = tn.network(tn.Dense(w=w1, b=b1, activation=tn.relu)).then(
        tn.Dense(w=w2, b=b2, activation=activation)
    )
    x = rng.standard_normal((4, 9)).astype(dtype)
    x_before = x.copy()
    want = REFERENCES[name](w2 @ np.maximum(w1 @ x + b1, 0.0) + b2).astype(dtype)
    got = tn.forward(net, x)
    assert _same_bits(got, want)
    assert _same_bits(x, x_before)  # the input is never written over
    assert _same_bits(net.params[0], w1)
    trace = tn.forward_trace(net, x)  # training keeps pre and post apart
    assert _same_bits(trace.pre[1], w2 @ trace.post[0] + b2)
    assert _same_bits(trace.y_hat, want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_losses_give_the_plain_formulas_bits(
    dtype: type[np.floating], rng: np.random.Generator
) -> None:
    p = rng.random((4, 6)).astype(dtype)
    p /= p.sum(axis=0)
    y = np.eye(4, dtype=dtype)[:, rng.integers(0, 4, 6)]
    eps = np.finfo(dtype).eps
    assert tn.mse(y, p) == float(np.mean((p - y) ** 2))
    assert tn.cross_entropy(y, p) == float(-np.sum(y * np.log(np.clip(p, eps, 1 - eps))) / 6)


@pytest.mark.parametrize(
    ("y_true", "message"),
    [
        (
            np.zeros((4, 6), np.float32),
            r"mse: y_true: expected dtype float64 \(y_pred's\), got float32",
        ),
        (np.zeros((4, 5)), r"mse: y_true: expected \(outputs, batch\) = \(4, 6\)"),
        (np.zeros((6, 4)), r"did you pass y_true.T\?"),
        (np.zeros(24), r"got a 1-D array"),
    ],
)
def test_the_loss_fast_path_still_refuses_a_mismatch(y_true: object, message: str) -> None:
    with pytest.raises(tn.ShapeError, match=message):
        tn.mse(y_true, np.zeros((4, 6)))  # type: ignore[arg-type]  # the point of the test


def test_the_loss_fast_path_still_refuses_an_empty_batch() -> None:
    with pytest.raises(ValueError, match=r"mse: the batch is empty \(y_pred has shape \(4, 0\)\)"):
        tn.mse(np.zeros((4, 0)), np.zeros((4, 0)))


def test_optimizer_checks_take_an_equal_architecture_built_apart() -> None:
    def build(dtype: type[np.floating]) -> tn.Network[int, int]:
        gen = np.random.default_rng(0)
        return tn.network(tn.dense(gen, 3, 2, tn.relu, dtype=dtype))

    net, twin, narrow = build(np.float64), build(np.float64), build(np.float32)
    opt = tn.adam(0.1)
    updates, _ = opt.update(twin, opt.init(net), net)  # no shared layout: compared in full
    assert _same_bits(tn.apply_updates(net, updates).params[0], net.params[0] + updates.params[0])
    with pytest.raises(tn.ShapeError, match=r"adam update: grads param 1 \(layer 1 w\): expected"):
        opt.update(narrow, opt.init(net), net)
