import re

import numpy as np
import pytest

import typednet as tn
from typednet.apps.tutorial import Features, Hidden1, build


def test_tutorial_weights_come_from_the_seeded_stream() -> None:
    # The course: np.random.seed(42); x, y from randint; then w1, w2, w3 from random().
    np.random.seed(42)
    np.random.randint(1, 100, size=(5, 1))
    np.random.randint(1, 100, size=(4, 1))
    expected = [np.random.random((3, 5)), np.random.random((5, 3)), np.random.random((4, 5))]
    net, _, _ = build()
    for layer, w in zip(net.layers, expected, strict=True):
        assert isinstance(layer, tn.Dense)
        np.testing.assert_array_equal(layer.w, w)
        np.testing.assert_array_equal(layer.b, np.zeros((w.shape[0], 1)))


def test_dense_with_dims_and_ints() -> None:
    rng = np.random.default_rng(0)
    typed = tn.dense(rng, Features, Hidden1, tn.relu)
    assert typed.dims == (Features, Hidden1)
    assert typed.w.shape == (3, 5)
    plain = tn.dense(rng, 5, 3, tn.relu)
    assert plain.dims is None
    assert plain.b.shape == (3, 1)


@pytest.mark.parametrize(
    ("init", "low", "high"),
    [
        (tn.init.uniform(-0.5, 0.5), -0.5, 0.5),
        (tn.init.glorot_uniform(), -np.sqrt(6 / (400 + 300)), np.sqrt(6 / (400 + 300))),
        (tn.init.he_uniform(), -np.sqrt(6 / 400), np.sqrt(6 / 400)),
    ],
)
def test_uniform_initializers_fill_their_range(
    init: tn.init.Initializer, low: float, high: float
) -> None:
    w = init(np.random.default_rng(1), 300, 400)
    assert w.shape == (300, 400)
    assert low <= w.min() < low + 0.01 * (high - low)
    assert high - 0.01 * (high - low) < w.max() < high
    assert abs(w.mean() - (low + high) / 2) < 0.01 * (high - low)


@pytest.mark.parametrize(
    ("init", "std"),
    [
        (tn.init.normal(0.05), 0.05),
        (tn.init.glorot_normal(), np.sqrt(2 / 700)),
        (tn.init.he_normal(), np.sqrt(2 / 400)),
        (tn.init.lecun_normal(), np.sqrt(1 / 400)),
    ],
)
def test_normal_initializers_have_their_std(init: tn.init.Initializer, std: float) -> None:
    w = init(np.random.default_rng(2), 300, 400)
    assert w.std() == pytest.approx(std, rel=0.01)
    assert abs(w.mean()) < 0.01 * std


@pytest.mark.parametrize(
    ("activation", "expected"),
    [
        (tn.relu, tn.init.he_normal()),
        (tn.leaky_relu(0.1), tn.init.he_normal()),
        (tn.elu(1.0), tn.init.he_normal()),
        (tn.selu, tn.init.lecun_normal()),
        (tn.sigmoid, tn.init.glorot_uniform()),
        (tn.tanh, tn.init.glorot_uniform()),
        (tn.softmax, tn.init.glorot_uniform()),
    ],
    ids=str,
)
def test_default_initializer_follows_the_activation(
    activation: tn.Activation, expected: tn.init.Initializer
) -> None:
    layer = tn.dense(np.random.default_rng(3), 6, 4, activation)
    np.testing.assert_array_equal(layer.w, expected(np.random.default_rng(3), 4, 6))


def test_float32_holds_the_float64_draws_rounded() -> None:
    w64 = tn.dense(np.random.default_rng(4), 6, 4, tn.tanh).w
    w32 = tn.dense(np.random.default_rng(4), 6, 4, tn.tanh, dtype=np.float32).w
    assert w32.dtype == np.float32
    np.testing.assert_array_equal(w32, w64.astype(np.float32))


def test_same_seed_same_layer_and_generator_or_randomstate() -> None:
    a = tn.dense(np.random.default_rng(5), 3, 2, tn.relu).w
    b = tn.dense(np.random.default_rng(5), 3, 2, tn.relu).w
    np.testing.assert_array_equal(a, b)
    c = tn.dense(np.random.RandomState(5), 3, 2, tn.relu).w
    assert c.shape == (2, 3)


def test_dense_errors() -> None:
    with pytest.raises(
        TypeError, match=re.escape("dense: rng must be np.random.default_rng(seed)")
    ):
        tn.dense(42, 3, 2, tn.relu)  # type: ignore[call-overload]  # a seed is not an rng
    with pytest.raises(
        ValueError, match=r"dense prev: expected a positive int or a Dim subclass, got 0"
    ):
        tn.dense(np.random.default_rng(), 0, 2, tn.relu)
    with pytest.raises(
        TypeError, match=r"dense: dtype must be floating \(float32 or float64\), got int64"
    ):
        tn.dense(np.random.default_rng(), 3, 2, tn.relu, dtype=np.int64)


def test_layer_norm_builder() -> None:
    norm = tn.layer_norm(Hidden1, eps=1e-3, dtype=np.float32)
    assert norm.dim is Hidden1
    assert norm.gain.dtype == np.float32
    np.testing.assert_array_equal(norm.gain, np.ones((3, 1)))
    np.testing.assert_array_equal(norm.shift, np.zeros((3, 1)))
    assert norm.eps == 1e-3
