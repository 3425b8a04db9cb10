from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import typednet as tn
from typednet import _store
from typednet.regularization import Penalty, l1, l2

W1 = np.array([[1.0, -2.0], [0.5, 0.0]])
B1 = np.array([[3.0], [-1.0]])
W2 = np.array([[-4.0, 0.25]])
B2 = np.array([[2.0]])


def _net(dtype: type[np.floating] = np.float64) -> tn.Network:
    """Dense 2 → 2 (tanh), LayerNorm 2, bare relu, Dense 2 → 1, with hand-picked params."""
    return tn.Network(
        (
            tn.Dense(w=W1.astype(dtype), b=B1.astype(dtype), activation=tn.tanh),
            tn.LayerNorm(
                gain=np.array([[3.0], [-5.0]], dtype), shift=np.array([[7.0], [1.0]], dtype)
            ),
            tn.relu,
            tn.Dense(w=W2.astype(dtype), b=B2.astype(dtype), activation=tn.identity),
        )
    )


# Hand sums: |w| = 3.5 + 4.25 = 7.75, w² = 5.25 + 16.0625 = 21.3125,
# |b| = 4 + 2 = 6, b² = 10 + 4 = 14. LayerNorm gain and shift never count.
@pytest.mark.parametrize(
    ("penalty", "expected"),
    [
        (l1(0.5), 0.5 * 7.75),
        (l1(0.5, include_bias=True), 0.5 * (7.75 + 6)),
        (l2(0.5), 0.5 * 21.3125),
        (l2(0.5, include_bias=True), 0.5 * (21.3125 + 14)),
        (l2(0.0, include_bias=True), 0.0),
    ],
    ids=["l1", "l1+bias", "l2", "l2+bias", "lam0"],
)
def test_value_against_hand_computed(penalty: Penalty, expected: float) -> None:
    value = penalty.value(_net())
    assert isinstance(value, float)
    assert value == pytest.approx(expected, abs=1e-15)


def test_gradients_against_hand_computed() -> None:
    zero_ln = (np.zeros((2, 1)), np.zeros((2, 1)))
    sign_w1 = np.array([[1.0, -1.0], [1.0, 0.0]])  # sign(0) = 0: the subgradient at a kink
    cases = [
        (l1(0.5), (0.5 * sign_w1, np.zeros((2, 1)), *zero_ln, np.array([[-0.5, 0.5]]), [[0.0]])),
        (
            l1(0.5, include_bias=True),
            (0.5 * sign_w1, [[0.5], [-0.5]], *zero_ln, [[-0.5, 0.5]], [[0.5]]),
        ),
        (l2(0.5), (W1, np.zeros((2, 1)), *zero_ln, W2, [[0.0]])),
        (l2(0.5, include_bias=True), (W1, B1, *zero_ln, W2, B2)),
    ]
    for penalty, expected in cases:
        got = penalty.gradient(_net()).params
        assert len(got) == len(expected)
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_array_equal(g, np.asarray(e, dtype=np.float64))


@settings(max_examples=30, deadline=None)
@given(
    kind=st.sampled_from([l1, l2]),
    lam=st.floats(0.01, 10.0),
    include_bias=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_gradient_matches_central_differences(
    kind: Callable[..., Penalty], lam: float, include_bias: bool, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    penalty = kind(lam, include_bias=include_bias)
    net = _store.from_params(_net(), [rng.normal(size=p.shape) for p in _net().params])
    analytic = penalty.gradient(net).params
    h = 1e-6
    for k, p in enumerate(net.params):
        numeric = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            values = []
            for step in (h, -h):
                q = p.copy()
                q[idx] += step
                params = list(net.params)
                params[k] = q
                values.append(penalty.value(_store.from_params(net, params)))
            numeric[idx] = (values[0] - values[1]) / (2 * h)
        scale = max(1.0, float(np.abs(numeric).max()))
        assert np.abs(analytic[k] - numeric).max() < 1e-6 * scale


def test_gradient_is_shaped_like_the_network_read_only_and_keeps_float32() -> None:
    net = _net(np.float32)
    before = [p.copy() for p in net.params]
    for penalty in (l1(0.1), l2(0.1, include_bias=True)):
        grads = penalty.gradient(net)
        assert [g.shape for g in grads.params] == [p.shape for p in net.params]
        assert all(g.dtype == np.float32 for g in grads.params)
        assert not any(g.flags.writeable for g in grads.params)
        assert [type(la) for la in grads.layers] == [type(la) for la in net.layers]
        assert isinstance(penalty.value(net), float)
    for p, b in zip(net.params, before, strict=True):
        np.testing.assert_array_equal(p, b)


def test_record_is_frozen_stable_and_compares_by_value() -> None:
    assert l2(0.1) == Penalty("l2", 0.1)
    assert l1(1, include_bias=True) == Penalty("l1", 1.0, True)
    assert isinstance(l1(1).lam, float)
    assert l1(0.1) != l2(0.1)
    assert repr(l2(0.25)) == "Penalty(name='l2', lam=0.25, include_bias=False)"
    with pytest.raises(AttributeError):
        l2(0.1).lam = 1.0  # type: ignore[misc]  # frozen: the assignment must fail


@pytest.mark.parametrize("lam", [-0.1, float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("factory", [l1, l2])
def test_bad_lam_is_a_value_error(factory: Callable[..., Penalty], lam: float) -> None:
    name = "l1" if factory is l1 else "l2"
    with pytest.raises(
        ValueError, match=rf"^{name}: lam must be a finite number >= 0, got -?(nan|inf|-0\.1)$"
    ):
        factory(lam)


def test_lam_of_a_wrong_type_and_an_unknown_name() -> None:
    with pytest.raises(ValueError, match=r"^l2: lam must be a finite number >= 0, got '0.1'$"):
        l2("0.1")  # type: ignore[arg-type]  # the run-time check is under test
    with pytest.raises(ValueError, match=r"^l1: lam must be a finite number >= 0, got True$"):
        l1(True)
    # NumPy scalars are numbers like any other at run time (mypy wants a float).
    assert l2(np.float32(0.5)).lam == 0.5  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^unknown penalty 'l3'; known: \['l1', 'l2'\]$"):
        Penalty("l3", 0.1)
