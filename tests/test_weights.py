"""Sample weights in the losses, metrics, value_and_grad, train_step and fit.

The references are independent of the code under test: a hand-computed weighted loss
and gradient, each loss re-derived per sample in plain NumPy, central differences of
that re-derivation, and duplication (integer weights against repeated columns).
"""

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import typednet as tn
from typednet import _store

from .test_grad import LOSS_CASES, Case, cases

Array = np.ndarray[Any, np.dtype[np.float64]]
H = 1e-6  # central-difference step, float64


def _sigmoid(z: Array) -> Array:
    return np.asarray(1.0 / (1.0 + np.exp(-z)))


def _log_softmax(z: Array) -> Array:
    shifted = z - z.max(axis=0)
    return np.asarray(shifted - np.log(np.exp(shifted).sum(axis=0)))


# Each loss's per-sample value l_j, re-derived in plain NumPy from its docstring.
PER_SAMPLE: dict[str, Callable[[Array, Array], Array]] = {
    "mse": lambda y, p: ((p - y) ** 2).mean(axis=0),
    "mae": lambda y, p: np.abs(p - y).mean(axis=0),
    "binary_cross_entropy": lambda y, p: -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(axis=0),
    "cross_entropy": lambda y, p: -(y * np.log(p)).sum(axis=0),
    "softmax_cross_entropy": lambda y, z: -(y * _log_softmax(z)).sum(axis=0),
    "sigmoid_binary_cross_entropy": lambda y, z: (
        -(y * np.log(_sigmoid(z)) + (1 - y) * np.log(1 - _sigmoid(z))).mean(axis=0)
    ),
}


def _reference(loss: tn.Loss, y: Array, p: Array, w: Array) -> float:
    """sum(w_j l_j) / sum(w_j), in plain NumPy."""
    return float((w.ravel() * PER_SAMPLE[loss.name](y, p)).sum() / w.sum())


def _one_weight() -> tn.Network:
    return tn.network(tn.Dense(w=np.array([[2.0]]), b=np.zeros((1, 1)), activation=tn.identity))


# --- the definition, by hand ------------------------------------------------------------


def test_weighted_mse_loss_and_gradient_by_hand() -> None:
    # y_hat = 2x = (2, 4, 6) against y = 1: errors (1, 3, 5), squared (1, 9, 25).
    net, x, y = _one_weight(), np.array([[1.0, 2.0, 3.0]]), np.ones((1, 3))
    w = np.array([1.0, 2.0, 0.0])
    value, grads = tn.value_and_grad(net, x, y, tn.mse, sample_weight=w)
    assert value == pytest.approx((1 * 1 + 2 * 9 + 0 * 25) / 3)  # 19 / 3
    # d/dw: sum_j w_j 2 e_j x_j / 3 = (1*2*1*1 + 2*2*3*2) / 3; d/db: (1*2*1 + 2*2*3) / 3
    dw, db = grads.params
    np.testing.assert_allclose(dw, [[26 / 3]], rtol=1e-15)
    np.testing.assert_allclose(db, [[14 / 3]], rtol=1e-15)
    assert tn.mse(y, 2 * x, sample_weight=w) == pytest.approx(19 / 3)
    np.testing.assert_allclose(
        tn.mse.gradient(y, 2 * x, sample_weight=w), [[2 * 1 * 1 / 3, 2 * 2 * 3 / 3, 0.0]]
    )


def test_weighted_cross_entropy_on_a_two_layer_net_re_derived_by_hand(
    rng: np.random.Generator,
) -> None:
    w1, b1 = rng.normal(size=(3, 2)), rng.normal(size=(3, 1))
    w2, b2 = rng.normal(size=(2, 3)), rng.normal(size=(2, 1))
    net = tn.network(tn.Dense(w=w1, b=b1, activation=tn.tanh)).then(
        tn.Dense(w=w2, b=b2, activation=tn.softmax)
    )
    x, y = rng.normal(size=(2, 4)), np.eye(2)[:, [0, 1, 1, 0]]
    weights = np.array([[0.5, 3.0, 0.0, 1.5]])
    # Backpropagation written out: the output error of a softmax under cross-entropy is
    # p - y per column; the weighted mean scales column j by w_j / sum(w).
    h = np.tanh(w1 @ x + b1)
    z = w2 @ h + b2
    p = np.exp(z) / np.exp(z).sum(axis=0)
    share = weights / weights.sum()
    delta2 = (p - y) * share
    delta1 = (w2.T @ delta2) * (1 - h**2)
    expected = (
        delta1 @ x.T,
        delta1.sum(axis=1, keepdims=True),
        delta2 @ h.T,
        delta2.sum(axis=1, keepdims=True),
    )
    value, grads = tn.value_and_grad(net, x, y, tn.cross_entropy, sample_weight=weights)
    assert value == pytest.approx(float((share * -(y * np.log(p)).sum(axis=0)).sum()), rel=1e-14)
    for got, want in zip(grads.params, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("loss_name", sorted(PER_SAMPLE))
def test_every_loss_weighs_its_per_sample_values_as_re_derived(
    loss_name: str, rng: np.random.Generator
) -> None:
    loss = {loss.name: loss for loss, _ in LOSS_CASES.values()}[loss_name]
    y = np.eye(3)[:, rng.integers(0, 3, 6)] if "cross" in loss_name else rng.random((3, 6))
    p = rng.dirichlet(np.ones(3), 6).T if loss is tn.cross_entropy else rng.random((3, 6))
    w: Array = rng.random(6) * 3
    assert loss(y, p, sample_weight=w) == pytest.approx(_reference(loss, y, p, w), rel=1e-13)
    # All weights 1 (or all equal): the plain loss.
    assert loss(y, p, sample_weight=np.full((1, 6), 7)) == pytest.approx(loss(y, p), rel=1e-14)


def test_every_typednet_loss_has_a_per_sample_form_whose_mean_is_its_value(
    rng: np.random.Generator,
) -> None:
    y = np.eye(4)[:, rng.integers(0, 4, 7)]
    p = rng.dirichlet(np.ones(4), 7).T
    for loss in {loss for loss, _ in LOSS_CASES.values()}:
        assert loss.sample_fn is not None, loss.name
        per_sample = loss.sample_fn(y, p)
        assert per_sample.shape == (1, 7), loss.name
        assert float(per_sample.mean()) == pytest.approx(loss(y, p), rel=1e-14), loss.name


# --- gradients: central differences of the re-derived weighted loss ----------------------


def _numeric(case: Case, w: Array) -> list[tn.Matrix]:
    def value(params: list[tn.Matrix]) -> float:
        net = _store.from_params(case.net, params)
        extra = case.penalty.value(net) if case.penalty is not None else 0.0
        return _reference(case.loss, case.y, tn.forward(net, case.x), w) + extra

    params = [p.copy() for p in case.net.params]
    out = []
    for p in params:
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            original = p[idx]
            p[idx] = original + H
            up = value(params)
            p[idx] = original - H
            down = value(params)
            p[idx] = original
            g[idx] = (up - down) / (2 * H)
        out.append(g)
    return out


@pytest.mark.parametrize("loss_name", sorted(LOSS_CASES))
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_weighted_gradients_match_finite_differences(loss_name: str, data: st.DataObject) -> None:
    case = data.draw(cases(loss_name=loss_name))
    batch = case.x.shape[1]
    w = np.asarray(data.draw(st.lists(st.floats(0.0, 4.0), min_size=batch, max_size=batch)))
    if not w.any():
        w[0] = 1.0
    value, grads = tn.value_and_grad(
        case.net, case.x, case.y, case.loss, penalty=case.penalty, sample_weight=w
    )
    extra = case.penalty.value(case.net) if case.penalty is not None else 0.0
    assert value == pytest.approx(
        _reference(case.loss, case.y, tn.forward(case.net, case.x), w) + extra, rel=1e-12
    )
    numeric = _numeric(case, w)
    scale = max(1e-3, max(float(np.abs(n).max()) for n in numeric))
    err = max(float(np.abs(g - n).max()) for g, n in zip(grads.params, numeric, strict=True))
    assert err < 1e-6 * scale, f"relative error {err / scale:.2e}"


# --- duplication: integer weights are repeated columns ---------------------------------


@pytest.mark.parametrize("loss_name", sorted(LOSS_CASES))
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_integer_weights_give_the_value_and_gradient_of_repeated_columns(
    loss_name: str, data: st.DataObject
) -> None:
    case = data.draw(cases(loss_name=loss_name))
    batch = case.x.shape[1]
    counts = np.asarray(data.draw(st.lists(st.integers(0, 3), min_size=batch, max_size=batch)))
    if not counts.any():
        counts[-1] = 2
    repeated = np.repeat(np.arange(batch), counts)
    weighted = tn.value_and_grad(
        case.net, case.x, case.y, case.loss, penalty=case.penalty, sample_weight=counts
    )
    plain = tn.value_and_grad(
        case.net, case.x[:, repeated], case.y[:, repeated], case.loss, penalty=case.penalty
    )
    assert weighted[0] == pytest.approx(plain[0], rel=1e-12, abs=1e-15)
    for got, want in zip(weighted[1].params, plain[1].params, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)


def test_float32_weights_keep_float32_and_agree_with_float64(rng: np.random.Generator) -> None:
    net = tn.network(tn.dense(rng, 4, 5, tn.tanh)).then(tn.dense(rng, 5, 3, tn.softmax))
    x, y = rng.normal(size=(4, 9)), np.eye(3)[:, rng.integers(0, 3, 9)]
    counts = rng.integers(0, 4, 9)
    net32 = _store.from_params(net, [p.astype(np.float32) for p in net.params])
    v32, g32 = tn.value_and_grad(
        net32, x.astype(np.float32), y.astype(np.float32), tn.cross_entropy, sample_weight=counts
    )
    v64, g64 = tn.value_and_grad(net, x, y, tn.cross_entropy, sample_weight=counts)
    assert all(g.dtype == np.float32 for g in g32.params)
    assert v32 == pytest.approx(v64, rel=1e-5)
    for a, b in zip(g32.params, g64.params, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_the_penalty_is_added_once_unweighted(rng: np.random.Generator) -> None:
    net = tn.network(tn.dense(rng, 3, 2, tn.identity))
    x, y = rng.normal(size=(3, 5)), rng.normal(size=(2, 5))
    w = np.array([1.0, 4.0, 0.0, 2.0, 1.0])
    with_penalty, _ = tn.value_and_grad(net, x, y, tn.mse, penalty=tn.l2(0.3), sample_weight=w)
    without, _ = tn.value_and_grad(net, x, y, tn.mse, sample_weight=w)
    assert with_penalty - without == pytest.approx(tn.l2(0.3).value(net), rel=1e-12)
    doubled, _ = tn.value_and_grad(net, x, y, tn.mse, penalty=tn.l2(0.3), sample_weight=2 * w)
    assert doubled == pytest.approx(with_penalty, rel=1e-14)  # only the weights' ratios count


def test_grad_train_step_and_no_checks_agree_and_nothing_is_written(
    rng: np.random.Generator,
) -> None:
    net = tn.network(tn.dense(rng, 3, 4, tn.tanh)).then(tn.dense(rng, 4, 1, tn.identity))
    x, y = rng.normal(size=(3, 6)), rng.normal(size=(1, 6))
    w = np.array([[1, 0, 2, 5, 1, 1]])
    kept = w.copy()
    value, grads = tn.value_and_grad(net, x, y, tn.mse, sample_weight=w)
    np.testing.assert_array_equal(
        _store.column(tn.grad(net, x, y, tn.mse, sample_weight=w.ravel())), _store.column(grads)
    )
    with tn.no_checks():
        unchecked = tn.value_and_grad(net, x, y, tn.mse, sample_weight=w)
    assert unchecked[0] == value
    np.testing.assert_array_equal(_store.column(unchecked[1]), _store.column(grads))
    opt = tn.sgd(0.5)
    stepped, _, step_value = tn.train_step(
        net, opt.init(net), x, y, loss=tn.mse, optimizer=opt, sample_weight=w
    )
    assert step_value == value
    np.testing.assert_allclose(
        _store.column(stepped), _store.column(net) - 0.5 * _store.column(grads), rtol=1e-15
    )
    np.testing.assert_array_equal(w, kept)


# --- fit -------------------------------------------------------------------------------


def _fit(
    net: tn.Network, x: Array, y: Array, rng_seed: int = 0, **kwargs: Any
) -> tuple[tn.Network, tn.History]:
    settings_: dict[str, Any] = {
        "loss": tn.mse,
        "optimizer": tn.adam(0.05),
        "epochs": 20,
        "batch_size": 1000,
        "rng": np.random.default_rng(rng_seed),
        "progress": False,
    }
    return tn.fit(net, x, y, **(settings_ | kwargs))


def test_full_batch_fit_with_integer_weights_is_fit_on_repeated_columns(
    rng: np.random.Generator,
) -> None:
    net = tn.network(tn.dense(rng, 3, 6, tn.tanh)).then(tn.dense(rng, 6, 3, tn.softmax))
    x, y = rng.normal(size=(3, 30)), np.eye(3)[:, rng.integers(0, 3, 30)]
    x_val, y_val = rng.normal(size=(3, 10)), np.eye(3)[:, rng.integers(0, 3, 10)]
    counts, counts_val = rng.integers(0, 4, 30), rng.integers(1, 4, 10)
    rep, rep_val = np.repeat(np.arange(30), counts), np.repeat(np.arange(10), counts_val)
    common: dict[str, Any] = {"loss": tn.cross_entropy, "metric": tn.accuracy}
    weighted, h_w = _fit(
        net, x, y, sample_weight=counts, validation=(x_val, y_val, counts_val), **common
    )
    repeated, h_r = _fit(
        net, x[:, rep], y[:, rep], validation=(x_val[:, rep_val], y_val[:, rep_val]), **common
    )
    np.testing.assert_allclose(
        _store.column(weighted), _store.column(repeated), rtol=1e-9, atol=1e-12
    )
    for a, b in (
        (h_w.train_loss, h_r.train_loss),
        (h_w.val_loss, h_r.val_loss),
        (h_w.train_metric, h_r.train_metric),
        (h_w.val_metric, h_r.val_metric),
    ):
        np.testing.assert_allclose(a, b, rtol=1e-9)


def test_mini_batch_fit_normalises_each_batch_by_its_own_weights(
    rng: np.random.Generator,
) -> None:
    # fit's promise: each step is train_step on its batch with that batch's weights, in
    # the order rng.permutation draws; train_loss is the epoch's weighted mean.
    net = tn.network(tn.dense(rng, 2, 3, tn.tanh)).then(tn.dense(rng, 3, 1, tn.identity))
    x, y = rng.normal(size=(2, 10)), rng.normal(size=(1, 10))
    w = np.array([0.0, 0.0, 0.0, 1.0, 2.0, 0.5, 3.0, 0.0, 1.0, 4.0])
    opt = tn.momentum(0.1)
    fitted, history = _fit(net, x, y, optimizer=opt, epochs=2, batch_size=3, sample_weight=w)
    order_rng = np.random.default_rng(0)
    state, by_hand = opt.init(net), net
    losses, zero_batches = [], 0
    for _ in range(2):
        total = 0.0
        order = order_rng.permutation(10)
        for k in range(0, 10, 3):
            cols = order[k : k + 3]
            if w[cols].any():
                by_hand, state, value = tn.train_step(
                    by_hand, state, x[:, cols], y[:, cols], loss=tn.mse, optimizer=opt,
                    sample_weight=w[cols],
                )  # fmt: skip
                total += value * w[cols].sum()
            else:  # a batch of zero weights: loss and gradient 0, the step still taken
                zero_batches += 1
                zero = _store.from_params(by_hand, [np.zeros_like(p) for p in by_hand.params])
                updates, state = opt.update(zero, state, by_hand)
                by_hand = tn.apply_updates(by_hand, updates)
        losses.append(total / w.sum())
    np.testing.assert_array_equal(_store.column(fitted), _store.column(by_hand))
    np.testing.assert_allclose(history.train_loss, losses, rtol=1e-14)
    assert history.state is not None and history.state.count == state.count == 8
    assert zero_batches > 0  # the seed draws one: the case is exercised


def test_a_batch_of_zero_weights_has_zero_loss_and_moves_nothing_under_sgd(
    rng: np.random.Generator,
) -> None:
    net = tn.network(tn.dense(rng, 2, 1, tn.identity))
    x, y = rng.normal(size=(2, 4)), rng.normal(size=(1, 4))
    w = np.array([0.0, 0.0, 1.0, 1.0])
    # One full batch: zero weights are columns left out.
    fitted, _ = _fit(net, x, y, optimizer=tn.sgd(0.1), epochs=1, batch_size=4, sample_weight=w)
    kept, _ = _fit(net, x[:, 2:], y[:, 2:], optimizer=tn.sgd(0.1), epochs=1, batch_size=4)
    np.testing.assert_allclose(_store.column(fitted), _store.column(kept), rtol=1e-14)
    zero = np.zeros(2)
    with tn.no_checks():  # inside fit's loop a batch may be all zero; unchecked, it is 0
        value, grads = tn.value_and_grad(net, x[:, :2], y[:, :2], tn.mse, sample_weight=zero)
    assert value == 0.0 and not _store.column(grads).any()


def test_a_metric_without_sample_weight_is_refused_with_weights(rng: np.random.Generator) -> None:
    net = tn.network(tn.dense(rng, 2, 1, tn.identity))
    x, y = rng.normal(size=(2, 4)), rng.normal(size=(1, 4))

    def plain(y_true: Array, y_pred: Array) -> float:
        return float(np.mean(y_pred))

    with pytest.raises(
        TypeError,
        match=re.escape(
            "fit: with sample weights the metric is called as metric(y_true, y_pred, "
            "sample_weight=w), but plain takes no sample_weight; use tn.accuracy, tn.mad or "
            "a Loss, or add the keyword"
        ),
    ):
        _fit(net, x, y, metric=plain, sample_weight=np.ones(4))
    _fit(net, x, y, metric=plain)  # unweighted: any metric
    _, history = _fit(net, x, y, metric=tn.mae, validation=(x, y, np.arange(4)), epochs=1)
    assert len(history.val_metric) == 1


# --- metrics ---------------------------------------------------------------------------


def test_weighted_metrics_are_weighted_means_and_match_repeated_columns() -> None:
    y = np.eye(3)[:, [0, 1, 2, 1, 0]]
    p = np.eye(3)[:, [0, 2, 2, 1, 1]] * 0.8 + 0.1  # right: columns 0, 2 and 3
    w = np.array([2, 1, 0, 3, 4])
    assert tn.accuracy(y, p, sample_weight=w) == pytest.approx((2 + 0 + 3) / 10)
    rep = np.repeat(np.arange(5), w)
    assert tn.accuracy(y, p, sample_weight=w) == pytest.approx(tn.accuracy(y[:, rep], p[:, rep]))
    quality, guess = np.array([[5.0, 6.0, 7.0]]), np.array([[5.4, 7.0, 7.0]])
    ww = np.array([[1.0, 3.0, 0.0]])
    assert tn.mad(quality, guess, sample_weight=ww) == pytest.approx((0.4 + 3.0) / 4)
    assert tn.within(quality, guess, 0.5, sample_weight=ww) == pytest.approx(1 / 4)


# --- bad weights: one message each -----------------------------------------------------

_NET = tn.network(tn.Dense(w=np.ones((1, 2)), b=np.zeros((1, 1)), activation=tn.identity))
_X, _Y = np.ones((2, 4)), np.ones((1, 4))
_WANT = "expected (batch,) = (4,) or (1, batch) = (1, 4), one weight per column of x"


@pytest.mark.parametrize(
    ("w", "error", "message"),
    [
        (np.ones((4, 1)), tn.ShapeError, f"value_and_grad sample_weight: {_WANT}, got shape (4, 1) float64; samples are columns: pass sample_weight.reshape(1, -1)"),
        (np.ones(5), tn.ShapeError, f"value_and_grad sample_weight: {_WANT}, got shape (5,) float64; x has 4 columns (samples)"),
        (np.ones((2, 2)), tn.ShapeError, f"value_and_grad sample_weight: {_WANT}, got shape (2, 2) float64"),
        (np.ones((1, 4, 1)), tn.ShapeError, f"value_and_grad sample_weight: {_WANT}, got shape (1, 4, 1) float64"),
        ([1.0, 1.0, 1.0, 1.0], tn.ShapeError, f"value_and_grad sample_weight: {_WANT}, got a list, not a NumPy array; convert it with np.asarray(...)"),
        (np.ones(4, dtype=bool), tn.ShapeError, "value_and_grad sample_weight: expected integer or floating weights, got dtype bool; pass sample_weight.astype(np.float64)"),
        (np.ones(4, dtype=complex), tn.ShapeError, "value_and_grad sample_weight: expected integer or floating weights, got dtype complex128"),
        (np.ma.ones(4), tn.ShapeError, "value_and_grad sample_weight: got a masked array"),
        (np.array([1.0, np.nan, 1.0, 1.0]), ValueError, "value_and_grad: sample_weight contains NaN or inf; weights must be finite"),
        (np.array([1.0, 1.0, np.inf, 1.0]), ValueError, "value_and_grad: sample_weight contains NaN or inf"),
        (np.array([1, 1, 1, -2]), ValueError, "value_and_grad: sample_weight must be >= 0, but the weight of column 3 is negative"),
        (np.zeros(4), ValueError, "value_and_grad: sample_weight is all zero; at least one sample needs a weight > 0"),
    ],
)  # fmt: skip
def test_bad_weights_are_refused_by_name(w: object, error: type, message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        tn.value_and_grad(_NET, _X, _Y, tn.mse, sample_weight=w)  # type: ignore[call-overload]  # bad on purpose


def test_weights_too_large_for_float32_are_refused() -> None:
    net = _store.from_params(_NET, [p.astype(np.float32) for p in _NET.params])
    with pytest.raises(
        ValueError, match=re.escape("grad: sample_weight holds a weight too large for float32")
    ):
        tn.grad(
            net,
            _X.astype(np.float32),
            _Y.astype(np.float32),
            tn.mse,
            sample_weight=np.full(4, 1e300),
        )


def test_every_entry_point_checks_its_weights() -> None:
    opt = tn.sgd(0.1)
    bad = np.array([1.0, -1.0, 1.0, 1.0])
    negative = "sample_weight must be >= 0, but the weight of column 1 is negative"
    calls: list[tuple[str, Callable[[], object]]] = [
        ("grad", lambda: tn.grad(_NET, _X, _Y, tn.mse, sample_weight=bad)),
        ("train_step", lambda: tn.train_step(_NET, opt.init(_NET), _X, _Y, loss=tn.mse, optimizer=opt, sample_weight=bad)),
        ("fit", lambda: _fit(_NET, _X, _Y, sample_weight=bad)),
        ("fit validation", lambda: _fit(_NET, _X, _Y, validation=(_X, _Y, bad))),
        ("mse", lambda: tn.mse(_Y, _Y, sample_weight=bad)),
        ("mse.gradient", lambda: tn.mse.gradient(_Y, _Y, sample_weight=bad)),
        ("accuracy", lambda: tn.accuracy(_Y, _Y, sample_weight=bad)),
        ("mad", lambda: tn.mad(_Y, _Y, sample_weight=bad)),
        ("within", lambda: tn.within(_Y, _Y, 0.5, sample_weight=bad)),
    ]  # fmt: skip
    for where, call in calls:
        with pytest.raises(ValueError, match=re.escape(f"{where}: {negative}")):
            call()
    with pytest.raises(
        tn.ShapeError,
        match=re.escape(
            "fit validation sample_weight: expected (batch,) = (2,) or (1, batch) = (1, 2), one weight per column of x_val, got shape (4,) float64"
        ),
    ):
        _fit(_NET, _X, _Y, validation=(_X[:, :2], _Y[:, :2], np.ones(4)))
    with pytest.raises(
        TypeError,
        match=re.escape(
            "fit: validation must be (x_val, y_val) or (x_val, y_val, sample_weight_val)"
        ),
    ):
        _fit(_NET, _X, _Y, validation=(_X, _Y, np.ones(4), np.ones(4)))


def test_a_loss_without_a_per_sample_form_cannot_take_weights() -> None:
    plain = tn.Loss(
        "half_mse", lambda y, p: float(np.mean((p - y) ** 2) / 2), lambda y, p: (p - y) / p.size
    )
    message = (
        "loss 'half_mse' has no per-sample form, so it cannot take sample_weight; give it "
        "one: Loss(name, value_fn, grad_fn, sample_fn=...)"
    )
    with pytest.raises(TypeError, match=re.escape(f"value_and_grad: {message}")):
        tn.value_and_grad(_NET, _X, _Y, plain, sample_weight=np.ones(4))
    with pytest.raises(TypeError, match=re.escape(f"half_mse: {message}")):
        plain(_Y, _Y, sample_weight=np.ones(4))
    assert tn.value_and_grad(_NET, _X, _Y, plain)[0] == pytest.approx(0.5)  # unweighted: fine
    given = tn.Loss(
        "half_mse", plain.value_fn, plain.grad_fn,
        sample_fn=lambda y, p: ((p - y) ** 2).mean(axis=0, keepdims=True) / 2,
    )  # fmt: skip
    y = np.array([[1.0, 0.0, 0.0, 0.0]])  # errors 1, 2, 2, 2: only the first column weighs
    value, _ = tn.value_and_grad(_NET, _X, y, given, sample_weight=np.array([1, 0, 0, 0]))
    assert value == pytest.approx(0.5)
