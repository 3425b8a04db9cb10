import re
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import typednet as tn
from typednet import _store
from typednet._kernels import value_and_flat_grad
from typednet.apps.tutorial import build
from typednet.grad import grad, value_and_grad
from typednet.regularization import Penalty, l1, l2

from .helpers import ACTIVATIONS

KINKED = {"relu", "leaky_relu", "elu", "selu"}  # derivatives jump (or bend sharply) at 0
H = 1e-6  # central-difference step, float64

# Each loss with the output layers it is checked with: None is a Dense with any activation.
# "fused" heads take the stable (y_hat - y) / n path; "bare" heads put the output
# activation in a layer of its own, after an identity Dense, so the loss's own gradient
# flows through the activation's vjp.
_Head = list[tuple[str, tn.Activation]] | None
LOSS_CASES: dict[str, tuple[tn.Loss, _Head]] = {
    "mse": (tn.mse, None),
    "mae": (tn.mae, None),
    "bce_fused": (tn.binary_cross_entropy, [("dense", tn.sigmoid)]),
    "bce_bare": (tn.binary_cross_entropy, [("dense", tn.identity), ("act", tn.sigmoid)]),
    "ce_fused": (tn.cross_entropy, [("dense", tn.softmax)]),
    "ce_bare": (tn.cross_entropy, [("dense", tn.identity), ("act", tn.softmax)]),
    "sbce_logits": (tn.sigmoid_binary_cross_entropy, [("dense", tn.identity)]),
    "sce_logits": (tn.softmax_cross_entropy, [("dense", tn.identity)]),
}


PENALTIES: st.SearchStrategy[Penalty | None] = st.one_of(
    st.none(),
    st.builds(
        lambda f, lam, b: f(lam, include_bias=b),
        st.sampled_from([l1, l2]),
        st.floats(0.01, 1.0),
        st.booleans(),
    ),
)


class Case(NamedTuple):
    net: tn.Network
    x: np.ndarray
    y: np.ndarray
    loss: tn.Loss
    penalty: Penalty | None


@st.composite
def cases(
    draw: st.DrawFn,
    *,
    activation: tn.Activation | None = None,
    loss_name: str | None = None,
    kind: str | None = None,
    penalties: st.SearchStrategy[Penalty | None] = PENALTIES,
) -> Case:
    """A random network (1-5 layers of 1-8 nodes), a batch of 1-6 columns and targets.

    ``activation``, ``loss_name`` and ``kind`` force one hidden Dense activation, the
    loss (with its output layers, see LOSS_CASES) and one hidden layer kind; the penalty
    is drawn from ``penalties``.
    """
    acts = st.sampled_from(ACTIVATIONS)
    spec: list[tuple[str, tn.Activation]] = [
        (k, draw(acts))
        for k in draw(st.lists(st.sampled_from(["dense", "norm", "act"]), max_size=2))
    ]
    for forced in (
        (kind, draw(acts)) if kind else None,
        ("dense", activation) if activation else None,
    ):
        if forced is not None:
            spec.insert(draw(st.integers(0, len(spec))), forced)
    loss_name = loss_name or draw(st.sampled_from(sorted(LOSS_CASES)))
    loss, head = LOSS_CASES[loss_name]
    spec += head if head is not None else [("dense", draw(acts))]
    penalty = draw(penalties)

    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    size = draw(st.integers(1, 8))
    features, batch = size, draw(st.integers(1, 6))
    layers: list[tn.Dense | tn.LayerNorm | tn.Activation] = []
    for k, act in spec:
        if k == "dense":
            n = draw(st.integers(1, 8))
            w = rng.normal(0.0, 1.5 / np.sqrt(size), (n, size))
            layers.append(tn.Dense(w=w, b=rng.normal(0.0, 0.5, (n, 1)), activation=act))
            size = n
        elif k == "norm":
            gain, shift = rng.normal(1.0, 0.5, (size, 1)), rng.normal(0.0, 0.5, (size, 1))
            layers.append(tn.LayerNorm(gain=gain, shift=shift))
        else:
            layers.append(act)
    net: tn.Network = tn.Network(tuple(layers))
    x = rng.normal(size=(features, batch))
    if loss in (tn.cross_entropy, tn.softmax_cross_entropy):
        # One-hot columns, or soft labels: every target the loss takes.
        y = np.eye(size)[:, rng.integers(0, size, batch)]
        if draw(st.booleans()):
            y = rng.dirichlet(np.ones(size), batch).T
    elif loss in (tn.binary_cross_entropy, tn.sigmoid_binary_cross_entropy):
        y = rng.random((size, batch))  # soft labels in [0, 1]
    else:
        y = rng.normal(size=(size, batch))
    _assume_well_conditioned(Case(net, x, y, loss, penalty))
    return Case(net, x, y, loss, penalty)


def _assume_well_conditioned(case: Case) -> None:
    """Reject the rare draws too close to a kink, or too ill-conditioned, to difference.

    A step of H must not cross a kink, and the float64 reference must not lose its
    digits (as in 1 - y_hat for a saturated sigmoid under binary cross-entropy).
    """
    trace = tn.forward_trace(case.net, case.x)
    inputs = (case.x, *trace.post[:-1])
    for layer, h, pre in zip(case.net.layers, inputs, trace.pre, strict=True):
        act = layer.activation if isinstance(layer, tn.Dense) else layer
        if isinstance(act, tn.Activation) and act.name in KINKED:
            assume(np.abs(pre).min() > 1e-4)
        if isinstance(layer, tn.LayerNorm) and layer.in_size > 1:
            assume(h.var(axis=0).min() > 1e-3)  # well away from a singular normalization
    if case.loss is tn.binary_cross_entropy:
        assume(np.minimum(trace.y_hat, 1 - trace.y_hat).min() > 1e-3)
    if case.loss is tn.mae:
        assume(np.abs(trace.y_hat - case.y).min() > 1e-4)
    if case.penalty is not None and case.penalty.name == "l1":
        assume(min(np.abs(p).min() for p in case.net.params) > 1e-4)


def _numeric(case: Case) -> list[np.ndarray]:
    """Central differences of loss(y, forward(net, x)) + penalty, one param at a time."""

    def value(params: list[np.ndarray]) -> float:
        net = _store.from_params(case.net, params)
        extra = case.penalty.value(net) if case.penalty is not None else 0.0
        return case.loss(case.y, tn.forward(net, case.x)) + extra

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


def _assert_matches_finite_differences(case: Case) -> None:
    got = grad(case.net, case.x, case.y, case.loss, penalty=case.penalty).params
    numeric = _numeric(case)
    assert [g.shape for g in got] == [p.shape for p in case.net.params]
    # Relative to the largest entry of the whole gradient, floored at 1e-3 so that an
    # all-but-vanishing gradient is held to an absolute 1e-9.
    scale = max(1e-3, max(float(np.abs(n).max()) for n in numeric))
    err = max(float(np.abs(g - n).max()) for g, n in zip(got, numeric, strict=True))
    assert err < 1e-6 * scale, f"relative error {err / scale:.2e}"


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=str)
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_every_activation_matches_finite_differences(
    activation: tn.Activation, data: st.DataObject
) -> None:
    _assert_matches_finite_differences(data.draw(cases(activation=activation)))


@pytest.mark.parametrize("loss_name", sorted(LOSS_CASES))
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_every_loss_matches_finite_differences(loss_name: str, data: st.DataObject) -> None:
    _assert_matches_finite_differences(data.draw(cases(loss_name=loss_name)))


@pytest.mark.parametrize("kind", ["dense", "norm", "act"])
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_every_layer_kind_matches_finite_differences(kind: str, data: st.DataObject) -> None:
    _assert_matches_finite_differences(data.draw(cases(kind=kind)))


@pytest.mark.parametrize(
    "penalty", [l1(0.3), l1(0.3, include_bias=True), l2(0.3), l2(0.3, include_bias=True)], ids=repr
)
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_penalties_match_finite_differences(penalty: Penalty, data: st.DataObject) -> None:
    _assert_matches_finite_differences(data.draw(cases(penalties=st.just(penalty))))


@settings(max_examples=30, deadline=None)
@given(cases())
def test_random_networks_match_finite_differences(case: Case) -> None:
    _assert_matches_finite_differences(case)


def test_tutorial_network_against_plain_numpy_backprop() -> None:
    net, x, y = build()
    w1, b1, w2, b2, w3, b3 = net.params
    # The course's forward pass, then its backward pass written out by hand.
    in_hidden_1 = w1 @ x + b1
    out_hidden_1 = np.where(in_hidden_1 > 0, in_hidden_1, 0.1 * in_hidden_1)
    in_hidden_2 = w2 @ out_hidden_1 + b2
    out_hidden_2 = 1 / (1 + np.exp(-in_hidden_2))
    in_output = w3 @ out_hidden_2 + b3
    y_hat = 1 / (1 + np.exp(-in_output))
    d_y_hat = 2 * (y_hat - y) / y.size  # d mean((y_hat - y)**2) / d y_hat
    delta_3 = d_y_hat * y_hat * (1 - y_hat)
    delta_2 = (w3.T @ delta_3) * out_hidden_2 * (1 - out_hidden_2)
    delta_1 = (w2.T @ delta_2) * np.where(in_hidden_1 > 0, 1.0, 0.1)
    expected = [
        delta_1 @ x.T,
        delta_1,
        delta_2 @ out_hidden_1.T,
        delta_2,
        delta_3 @ out_hidden_2.T,
        delta_3,
    ]
    value, grads = value_and_grad(net, x, y, tn.mse)
    assert value == pytest.approx(float(np.mean((y_hat - y) ** 2)), rel=1e-12)
    assert [g.shape for g in grads.params] == [(3, 5), (3, 1), (5, 3), (5, 1), (4, 5), (4, 1)]
    for g, e in zip(grads.params, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-15)


def _mixed_net(rng: np.random.Generator, head: list[tn.Dense | tn.Activation]) -> tn.Network:
    return tn.Network(
        (
            tn.dense(rng, 4, 6, tn.tanh),
            tn.layer_norm(6),
            tn.softplus,
            tn.Dense(w=rng.normal(size=(3, 6)), b=rng.normal(size=(3, 1)), activation=tn.sigmoid),
            *head,
        )
    )


@pytest.mark.parametrize("loss_name", sorted(LOSS_CASES))
@pytest.mark.parametrize("penalty", [None, l2(0.1, include_bias=True)], ids=["none", "l2"])
def test_batch_gradient_is_the_mean_of_the_columns_gradients(
    rng: np.random.Generator, loss_name: str, penalty: Penalty | None
) -> None:
    loss, head = LOSS_CASES[loss_name]
    head_layers = [
        tn.Dense(w=rng.normal(size=(3, 3)), b=rng.normal(size=(3, 1)), activation=a)
        if k == "dense"
        else a
        for k, a in (head or [("dense", tn.identity)])
    ]
    net = _mixed_net(rng, head_layers)
    x = rng.normal(size=(4, 5))
    one_hot = loss in (tn.cross_entropy, tn.softmax_cross_entropy)
    y = np.eye(3)[:, [0, 2, 1, 1, 0]] if one_hot else rng.random((3, 5))
    batch = grad(net, x, y, loss, penalty=penalty).params
    columns = [grad(net, x[:, [c]], y[:, [c]], loss, penalty=penalty).params for c in range(5)]
    for k, g in enumerate(batch):
        mean = np.mean([col[k] for col in columns], axis=0)
        np.testing.assert_allclose(g, mean, rtol=1e-12, atol=1e-12)


def test_value_is_the_loss_plus_the_penalty_and_the_penalty_ignores_the_batch(
    rng: np.random.Generator,
) -> None:
    net = _mixed_net(rng, [])
    penalty = l1(0.2)
    for batch in (1, 5):
        x, y = rng.normal(size=(4, batch)), rng.random((3, batch))
        value, grads = value_and_grad(net, x, y, tn.mse, penalty=penalty)
        plain_value, plain = value_and_grad(net, x, y, tn.mse)
        assert plain_value == tn.mse(y, tn.forward(net, x))
        assert value == pytest.approx(plain_value + penalty.value(net), rel=1e-15)
        for g, p, extra in zip(
            grads.params, plain.params, penalty.gradient(net).params, strict=True
        ):
            np.testing.assert_allclose(g, p + extra, rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize(
    ("activation", "loss"),
    [(tn.softmax, tn.cross_entropy), (tn.sigmoid, tn.binary_cross_entropy)],
    ids=["softmax+cross_entropy", "sigmoid+bce"],
)
def test_fused_output_gradient_stays_exact_when_the_output_saturates(
    activation: tn.Activation, loss: tn.Loss
) -> None:
    # Pre-activations of ±800: the probabilities round to exactly 0 and 1, where the
    # loss's own gradient (divided by p) is wrong; the fused one is (y_hat - y) / n.
    w = np.array([[800.0, 0.0], [-800.0, 0.0], [0.0, 0.0]])
    net = tn.network(tn.Dense(w=w, b=np.zeros((3, 1)), activation=activation))
    x = np.array([[1.0, -1.0], [0.5, 2.0]])
    y = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
    y_hat = tn.forward(net, x)
    n = y.shape[1] if loss is tn.cross_entropy else y.size
    delta = (y_hat - y) / n
    dw, db = grad(net, x, y, loss).params
    assert np.isfinite(dw).all()
    np.testing.assert_allclose(dw, delta @ x.T, rtol=1e-15, atol=0)
    np.testing.assert_allclose(db, delta.sum(axis=1, keepdims=True), rtol=1e-15, atol=0)


def test_float32_in_float32_out_and_close_to_float64(rng: np.random.Generator) -> None:
    net64 = _mixed_net(rng, [tn.softmax])
    x64 = rng.normal(size=(4, 6))
    y64 = np.eye(3)[:, [0, 1, 2, 0, 1, 2]]
    net32 = _store.rebuild(net64, _store.column(net64).astype(np.float32))
    x32, y32 = x64.astype(np.float32), y64.astype(np.float32)
    for loss in (tn.cross_entropy, tn.mse, tn.mae, tn.binary_cross_entropy):
        for penalty in (None, l1(0.1, include_bias=True), l2(0.1)):
            value, g32 = value_and_grad(net32, x32, y32, loss, penalty=penalty)
            g64 = grad(net64, x64, y64, loss, penalty=penalty)
            assert isinstance(value, float)
            assert all(g.dtype == np.float32 for g in g32.params)
            for a, b in zip(g32.params, g64.params, strict=True):
                np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


def test_inputs_and_params_untouched_gradients_read_only_and_shaped_like_the_net(
    rng: np.random.Generator,
) -> None:
    net = _mixed_net(rng, [tn.softmax])
    x, y = rng.normal(size=(4, 3)), np.eye(3)
    before = [a.copy() for a in (x, y, *net.params)]
    grads = grad(net, x, y, tn.cross_entropy, penalty=l2(0.5, include_bias=True))
    for a, b in zip((x, y, *net.params), before, strict=True):
        np.testing.assert_array_equal(a, b)
    assert x.flags.writeable and y.flags.writeable
    assert not any(p.flags.writeable for p in net.params)
    assert not any(g.flags.writeable for g in grads.params)
    assert [g.shape for g in grads.params] == [p.shape for p in net.params]
    assert [type(la) for la in grads.layers] == [type(la) for la in net.layers]
    assert not any(np.shares_memory(g, a) for g in grads.params for a in (x, y, *net.params))


def test_unchecked_kernel_and_no_checks_agree_with_the_checked_call(
    rng: np.random.Generator,
) -> None:
    net = _mixed_net(rng, [])
    x, y = rng.normal(size=(4, 2)), rng.random((3, 2))
    value, grads = value_and_grad(net, x, y, tn.mse, penalty=l1(0.1))
    kernel_value, column, same = value_and_flat_grad(net, x, y, tn.mse, l1(0.1), None)
    assert same is net  # no layer keeps a training state
    kernel = _store.rebuild(net, column)
    with tn.no_checks():
        unchecked = grad(net, x, y, tn.mse, penalty=l1(0.1))
    assert kernel_value == value
    for a, b, c in zip(grads.params, kernel.params, unchecked.params, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


# --- error messages ---------------------------------------------------------------------

NET, X, Y = build()  # 5 features → 4 outputs, one column


def _batch(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.ones((5, n)), np.ones((4, n))


@pytest.mark.parametrize("fn", [grad, value_and_grad], ids=["grad", "value_and_grad"])
@pytest.mark.parametrize(
    ("y", "message"),
    [
        (
            np.ones((4, 31)),
            "target y: expected (outputs, batch) = (4, 32), got shape (4, 31) float64; "
            "y needs the network's outputs as rows and one column per column of x",
        ),
        (
            np.ones((3, 32)),
            "target y: expected (outputs, batch) = (4, 32), got shape (3, 32) float64; "
            "y needs the network's outputs as rows and one column per column of x",
        ),
        (
            np.ones((32, 4)),
            "target y: expected (outputs, batch) = (4, 32), got shape (32, 4) float64; "
            "did you pass y.T?",
        ),
        (
            np.ones(128),
            "target y: expected (outputs, batch) = (4, 32), got a 1-D array of shape (128,) "
            "float64; a target is a column of 4 outputs: pass y.reshape(4, -1)",
        ),
        (
            np.ones((4, 32), dtype=np.int64),
            "target y: expected a floating dtype, got int64; pass y.astype(np.float64)",
        ),
        (
            np.ones((4, 32), dtype=np.float32),
            "target y: expected dtype float64 (the network's), got float32; "
            "pass y.astype(np.float64) or build the network in float32",
        ),
        (
            [[1.0] * 32] * 4,
            "target y: expected (outputs, batch) = (4, 32), got a list, not a NumPy array; "
            "convert it with np.asarray(...)",
        ),
    ],
    ids=["batch", "outputs", "transposed", "1-D", "int", "float32", "list"],
)
def test_bad_targets_are_shape_errors(fn: Callable[..., object], y: object, message: str) -> None:
    x = np.ones((5, 32))
    with pytest.raises(tn.ShapeError, match=f"^{re.escape(f'{fn.__name__} {message}')}$"):
        fn(NET, x, y, tn.mse)


def test_bad_inputs_are_checked_as_forward_checks_them() -> None:
    with pytest.raises(
        tn.ShapeError,
        match=re.escape(
            "grad input x: expected (features, batch) = (5, batch), got shape (3, 5) float64; "
            "samples are columns: pass x.T"
        ),
    ):
        grad(NET, np.ones((3, 5)), np.ones((4, 3)), tn.mse)
    with pytest.raises(
        ValueError, match=r"^value_and_grad: the batch is empty \(x has 0 columns\)$"
    ):
        value_and_grad(NET, np.ones((5, 0)), np.ones((4, 0)), tn.mse)


def test_loss_and_penalty_of_the_wrong_kind_are_type_errors() -> None:
    with pytest.raises(
        TypeError, match=r"^grad: loss must be a typednet Loss such as tn.mse, got function$"
    ):
        grad(NET, X, Y, lambda y, p: float(np.mean((y - p) ** 2)))  # type: ignore[call-overload]  # run-time check under test
    with pytest.raises(
        TypeError,
        match=r"^value_and_grad: penalty must be None or a Penalty from l1\(lam\) or l2\(lam\), "
        r"got float$",
    ):
        value_and_grad(NET, X, Y, tn.mse, penalty=0.1)  # type: ignore[call-overload]  # likewise


def test_cross_entropy_on_an_identity_output_is_refused_by_every_checked_step() -> None:
    """The logits trap: an identity output under cross_entropy would train to nonsense."""
    net = tn.network(tn.Dense(w=np.array([[2.0], [-3.0]]), b=np.zeros((2, 1)),
                              activation=tn.identity))  # fmt: skip
    x, y = np.ones((1, 3)), np.eye(2)[:, [0, 1, 0]]
    pattern = (
        r": cross_entropy: y_pred must be probabilities in \[0, 1\], but y_pred\[0, 0\] is "
        r"outside; use a softmax output layer, or tn\.softmax_cross_entropy on the raw outputs"
    )
    with pytest.raises(ValueError, match="^value_and_grad" + pattern):
        value_and_grad(net, x, y, tn.cross_entropy)
    with pytest.raises(ValueError, match="^grad" + pattern):
        grad(net, x, y, tn.cross_entropy)
    opt = tn.sgd(0.1)
    with pytest.raises(ValueError, match="^train_step" + pattern):
        tn.train_step(net, opt.init(net), x, y, loss=tn.cross_entropy, optimizer=opt)
    value, _ = value_and_grad(net, x, y, tn.softmax_cross_entropy)  # the logits form
    assert np.isfinite(value)


def test_the_fused_cross_entropy_refuses_targets_whose_columns_do_not_sum_to_1() -> None:
    """Its (y_hat - y) / batch is the gradient only for columns of y that sum to 1: with
    0.9 it was 3.7e-2 off the finite difference (an identity Dense then a softmax layer
    got it right). Such targets are refused by every checked call, fit included."""
    rng = np.random.default_rng(0)
    net = tn.network(tn.dense(rng, 2, 3, tn.softmax))
    x = rng.normal(size=(2, 4))
    y = np.eye(3)[:, [0, 1, 2, 0]] * [1.0, 0.9, 1.0, 1.0]
    pattern = (
        r": cross_entropy: each column of y_true must sum to 1 \(within 1e-06 in float64\), "
        r"but column 1 sums to 0\.9; targets are one-hot columns or soft labels"
    )
    with pytest.raises(ValueError, match="^value_and_grad" + pattern):
        value_and_grad(net, x, y, tn.cross_entropy)
    with pytest.raises(ValueError, match="^grad" + pattern):
        grad(net, x, y, tn.cross_entropy)
    opt = tn.sgd(0.1)
    with pytest.raises(ValueError, match="^train_step" + pattern):
        tn.train_step(net, opt.init(net), x, y, loss=tn.cross_entropy, optimizer=opt)
    with pytest.raises(ValueError, match="^fit" + pattern):
        tn.fit(net, x, y, loss=tn.cross_entropy, optimizer=opt, epochs=1, batch_size=2,
               rng=rng, progress=False)  # fmt: skip
    with pytest.raises(ValueError, match="^fit validation" + pattern):
        tn.fit(net, x, np.eye(3)[:, [0, 1, 2, 0]], loss=tn.cross_entropy, optimizer=opt,
               epochs=1, batch_size=2, rng=rng, validation=(x, y), progress=False)  # fmt: skip


def test_layer_norm_gradients_at_inputs_too_large_to_square() -> None:
    """Scaling the first layer's weights by s = 1e200 scales the LayerNorm's input by s
    (its squares overflow float64): the loss is unchanged (eps is negligible either
    way), so the gradients of the first layer's weights and bias (whose step moves the
    input by 1 / s of as much, relatively) are divided by s and every other one kept."""
    rng = np.random.default_rng(0)
    w1, w2 = rng.normal(size=(4, 3)), rng.normal(size=(2, 4))
    x, y = rng.normal(size=(3, 5)), rng.normal(size=(2, 5))

    def net(s: float, eps: float) -> tn.Network:
        first = tn.Dense(w=w1 * s, b=np.zeros((4, 1)), activation=tn.identity)
        norm = tn.LayerNorm(gain=np.full((4, 1), 1.5), shift=np.full((4, 1), 0.1), eps=eps)
        return tn.Network((first, norm, tn.Dense(w=w2, b=np.zeros((2, 1)), activation=tn.tanh)))

    value, grads = value_and_grad(net(1e200, 1e-5), x, y, tn.mse)
    want_value, want = value_and_grad(net(1.0, 1e-300), x, y, tn.mse)
    assert value == pytest.approx(want_value, rel=1e-12)
    for k, (got, expected) in enumerate(zip(grads.params, want.params, strict=True)):
        scaled = got * 1e200 if k < 2 else got
        np.testing.assert_allclose(scaled, expected, rtol=1e-9, atol=1e-12)
