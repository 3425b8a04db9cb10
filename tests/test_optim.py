"""Tests for typednet.optim: one table of all nine optimizers drives the shared checks.

The expected updates are worked out by hand below from PyTorch's documented formulas,
for one scalar weight w whose gradients are G = (1, -2, 0.5). The hyper-parameters are
picked so the numbers stay simple, with eps large where it matters, so that where eps
goes is pinned too.
"""

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import typednet as tn
from typednet import _store
from typednet.network import Network
from typednet.optim import (
    Optimizer,
    OptState,
    adadelta,
    adagrad,
    adam,
    adamax,
    amsgrad,
    apply_updates,
    momentum,
    nesterov,
    rmsprop,
    sgd,
)
from typednet.shapes import Matrix, ShapeError

G = (1.0, -2.0, 0.5)


@dataclasses.dataclass(frozen=True)
class Case:
    factory: Callable[..., Optimizer]
    kwargs: dict[str, float]
    hand: tuple[float, float, float]  # the updates of w for the gradients G

    def make(self) -> Optimizer:
        return self.factory(**self.kwargs)


CASES = {
    # -lr g
    "sgd": Case(sgd, {"learning_rate": 0.1}, (-0.1, 0.2, -0.05)),
    # v = 0.5 v + g: 1, -1.5, -0.25; update -0.1 v
    "momentum": Case(momentum, {"learning_rate": 0.1, "beta": 0.5}, (-0.1, 0.15, 0.025)),
    # v as above; g + 0.5 v: 1.5, -2.75, 0.375; update -0.1 (g + 0.5 v)
    "nesterov": Case(nesterov, {"learning_rate": 0.1, "beta": 0.5}, (-0.15, 0.275, -0.0375)),
    # s = s + g²: 1, 5, 5.25; update -0.1 g / (sqrt(s) + 1)
    "adagrad": Case(
        adagrad,
        {"learning_rate": 0.1, "eps": 1.0},
        (-0.1 / 2, 0.2 / (math.sqrt(5) + 1), -0.05 / (math.sqrt(5.25) + 1)),
    ),
    # v = 0.75 v + 0.25 g²: 0.25, 1.1875, 0.953125; update -0.1 g / (sqrt(v) + 0.5)
    "rmsprop": Case(
        rmsprop,
        {"learning_rate": 0.1, "decay": 0.75, "eps": 0.5},
        (-0.1, 0.2 / (math.sqrt(1.1875) + 0.5), -0.05 / (math.sqrt(0.953125) + 0.5)),
    ),
    # v = 0.5 v + 0.5 g²: 0.5, 2.25, 1.25. delta = sqrt(u + 1/4) / sqrt(v + 1/4) g:
    # 0.5 / sqrt(0.75); sqrt(5/12) / sqrt(2.5) (-2) = -2 sqrt(1/6); sqrt(2/3) / sqrt(1.5) 0.5
    # = 1/3. u = 0.5 u + 0.5 delta²: 1/6, 5/12, ...; update -delta (lr 1)
    "adadelta": Case(
        adadelta,
        {"learning_rate": 1.0, "rho": 0.5, "eps": 0.25},
        (-0.5 / math.sqrt(0.75), 2 * math.sqrt(1 / 6), -1 / 3),
    ),
    # m = 0.5 m + 0.5 g: 0.5, -0.75, -0.125; m_hat = m / (1 - 0.5^t): 1, -1, -1/7.
    # v = 0.75 v + 0.25 g²: 1/4, 19/16, 61/64; v_hat = v / (1 - 0.75^t): 1, 19/7, 61/37.
    # update -0.1 m_hat / (sqrt(v_hat) + 0.5)
    "adam": Case(
        adam,
        {"learning_rate": 0.1, "b1": 0.5, "b2": 0.75, "eps": 0.5},
        (-0.1 / 1.5, 0.1 / (math.sqrt(19 / 7) + 0.5), 0.1 / 7 / (math.sqrt(61 / 37) + 0.5)),
    ),
    # as adam, but v_max = max(v_max, v): 1/4, 19/16, 19/16; at t = 3 v_max_hat = 76/37
    "amsgrad": Case(
        amsgrad,
        {"learning_rate": 0.1, "b1": 0.5, "b2": 0.75, "eps": 0.5},
        (-0.1 / 1.5, 0.1 / (math.sqrt(19 / 7) + 0.5), 0.1 / 7 / (math.sqrt(76 / 37) + 0.5)),
    ),
    # m as adam; u = max(0.75 u, |g| + 0.5): 1.5, max(1.125, 2.5) = 2.5, max(1.875, 1) =
    # 1.875; update -0.1 / (1 - 0.5^t) m / u: -0.2 (0.5 / 1.5), 0.1 / 0.75 (0.75 / 2.5),
    # 0.1 / 0.875 (0.125 / 1.875) = 4 / 525
    "adamax": Case(
        adamax,
        {"learning_rate": 0.1, "b1": 0.5, "b2": 0.75, "eps": 0.5},
        (-1 / 15, 0.04, 4 / 525),
    ),
}

ALL = pytest.mark.parametrize("name", list(CASES))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def _scalar_net(w: float, b: float) -> Network[int, int]:
    """A 1 -> 1 dense network: params are a 1x1 weight and a 1x1 bias."""
    return tn.network(tn.Dense(w=np.array([[w]]), b=np.array([[b]]), activation=tn.identity))


def _small_net(rng: np.random.Generator, dtype: type[np.floating[Any]]) -> Network[int, int]:
    """3 -> 4 -> layer norm -> 2: dense and layer-norm params, in ``dtype``."""
    layers = (
        tn.dense(rng, 3, 4, tn.relu, dtype=dtype),
        tn.layer_norm(4, dtype=dtype),
        tn.dense(rng, 4, 2, tn.identity, dtype=dtype),
    )
    return Network(layers)


def _like(net: Network[int, int], arrays: list[Matrix]) -> Network[int, int]:
    """A network of net's architecture holding copies of ``arrays`` (in any float dtype)."""
    return _store.from_params(net, arrays)


def _random_like(rng: np.random.Generator, net: Network[int, int]) -> Network[int, int]:
    return _like(net, [rng.normal(size=p.shape).astype(p.dtype) for p in net.params])


def _steps(
    opt: Optimizer, net: Network[int, int], grads: list[Network[int, int]]
) -> tuple[list[Network[int, int]], OptState[int, int]]:
    state = opt.init(net)
    updates = []
    for g in grads:
        u, state = opt.update(g, state, net)
        updates.append(u)
    return updates, state


# --- the maths ---------------------------------------------------------------------------


@ALL
def test_first_three_updates_match_the_hand_computed_values(name: str) -> None:
    case = CASES[name]
    net = _scalar_net(0.3, -0.2)
    # b's gradients are -G: every rule is odd in g, so b's updates are minus w's.
    grads = [_scalar_net(g, -g) for g in G]
    updates, state = _steps(case.make(), net, grads)
    got_w = [u.params[0].item() for u in updates]
    got_b = [u.params[1].item() for u in updates]
    assert got_w == pytest.approx(case.hand, rel=1e-12)
    assert got_b == pytest.approx([-h for h in case.hand], rel=1e-12)
    assert state.count == 3
    moved = apply_updates(apply_updates(apply_updates(net, updates[0]), updates[1]), updates[2])
    assert moved.params[0].item() == pytest.approx(0.3 + sum(case.hand), rel=1e-12)


@ALL
def test_decreases_a_convex_quadratic(name: str, rng: np.random.Generator) -> None:
    # loss = 0.5 * sum((params - target)²), whose gradient is params - target.
    net = _small_net(rng, np.float64)
    target = _random_like(rng, net)

    def loss(n: Network[int, int]) -> float:
        return sum(
            0.5 * float(((p - t) ** 2).sum()) for p, t in zip(n.params, target.params, strict=True)
        )

    opt = CASES[name].make()
    state = opt.init(net)
    start = loss(net)
    for _ in range(100):
        grads = _like(net, [p - t for p, t in zip(net.params, target.params, strict=True)])
        updates, state = opt.update(grads, state, net)
        net = apply_updates(net, updates)
    assert loss(net) < 0.5 * start


def test_apply_updates_adds_array_by_array() -> None:
    net = _scalar_net(0.3, -0.2)
    moved = apply_updates(net, _scalar_net(0.25, 1.0))
    assert [p.item() for p in moved.params] == pytest.approx([0.55, 0.8])
    layer = moved.layers[0]
    assert isinstance(layer, tn.Dense) and layer.activation is tn.identity


# --- invariants --------------------------------------------------------------------------


@ALL
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_and_shapes_kept(
    name: str, dtype: type[np.floating[Any]], rng: np.random.Generator
) -> None:
    case = CASES[name]
    # NumPy float64 hyper-parameters must not promote float32 arrays.
    opt = case.factory(**{k: np.float64(v) for k, v in case.kwargs.items()})
    net = _small_net(rng, dtype)
    updates, state = _steps(opt, net, [_random_like(rng, net) for _ in range(3)])
    moved = apply_updates(net, updates[-1])
    for out in (*updates, *state.slots, moved):
        assert [type(la) for la in out.layers] == [type(la) for la in net.layers]
        assert [p.shape for p in out.params] == [p.shape for p in net.params]
        assert {p.dtype for p in out.params} == {np.dtype(dtype)}
    assert len(state.slots) == len(opt.slot_names)


@ALL
def test_inputs_not_mutated_and_outputs_fresh_and_read_only(
    name: str, rng: np.random.Generator
) -> None:
    opt = CASES[name].make()
    net = _small_net(rng, np.float64)
    _, state = _steps(opt, net, [_random_like(rng, net) for _ in range(2)])
    grads = _random_like(rng, net)
    inputs = [*net.params, *grads.params, *(p for s in state.slots for p in s.params)]
    before = [a.copy() for a in inputs]

    updates, new_state = opt.update(grads, state, net)
    moved = apply_updates(net, updates)

    assert all(np.array_equal(a, b) for a, b in zip(inputs, before, strict=True))
    assert state.count == 2 and new_state.count == 3
    outputs = [*updates.params, *moved.params, *(p for s in new_state.slots for p in s.params)]
    for out in outputs:
        assert not out.flags.writeable
        assert not any(np.shares_memory(out, a) for a in inputs)
    with pytest.raises(ValueError, match="read-only"):
        updates.params[0][0, 0] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        new_state.count = 0  # type: ignore[misc]


@ALL
def test_init_is_zero_slots_at_count_zero(name: str, rng: np.random.Generator) -> None:
    opt = CASES[name].make()
    net = _small_net(rng, np.float32)
    state = opt.init(net)
    assert state.count == 0
    for slot in state.slots:
        for s, p in zip(slot.params, net.params, strict=True):
            assert s.shape == p.shape and s.dtype == p.dtype and not s.any()
            assert not s.flags.writeable


@ALL
def test_name_and_hyperparameters(name: str) -> None:
    case = CASES[name]
    opt = case.make()
    assert opt.name == name
    assert dict(opt.hyperparameters) == case.kwargs
    # The repr is the factory call that rebuilds it.
    again = eval(repr(opt), {name: case.factory})
    assert isinstance(again, Optimizer) and again.hyperparameters == opt.hyperparameters


def test_defaults_are_pytorchs() -> None:
    # From the torch.optim documentation.
    assert dict(adagrad().hyperparameters) == {"learning_rate": 0.01, "eps": 1e-10}
    assert dict(rmsprop().hyperparameters) == {"learning_rate": 0.01, "decay": 0.99, "eps": 1e-8}
    assert dict(adadelta().hyperparameters) == {"learning_rate": 1.0, "rho": 0.9, "eps": 1e-6}
    adam_like = {"b1": 0.9, "b2": 0.999, "eps": 1e-8}
    assert dict(adam().hyperparameters) == {"learning_rate": 1e-3, **adam_like}
    assert dict(amsgrad().hyperparameters) == {"learning_rate": 1e-3, **adam_like}
    assert dict(adamax().hyperparameters) == {"learning_rate": 2e-3, **adam_like}
    assert dict(momentum(0.1).hyperparameters)["beta"] == 0.9
    assert dict(nesterov(0.1).hyperparameters)["beta"] == 0.9


# --- bad hyper-parameters ----------------------------------------------------------------

BAD = [
    (name, param, value)
    for name, case in CASES.items()
    for param in case.kwargs
    for value in (
        (0.0, -0.1, math.nan, math.inf, True, "0.1")
        if param in ("learning_rate", "eps")
        else (-0.1, 1.0, math.nan)
    )
]


@pytest.mark.parametrize(("name", "param", "value"), BAD)
def test_bad_hyperparameter_is_a_value_error_naming_it(
    name: str, param: str, value: object
) -> None:
    case = CASES[name]
    want = "a finite number > 0" if param in ("learning_rate", "eps") else r"a number in \[0, 1\)"
    with pytest.raises(ValueError, match=rf"^{name}: {param} must be {want}, got "):
        case.factory(**{**case.kwargs, param: value})


def test_bad_hyperparameter_message_shows_the_value() -> None:
    with pytest.raises(ValueError, match=r"^adam: b2 must be a number in \[0, 1\), got 1\.0$"):
        adam(b2=1.0)
    with pytest.raises(
        ValueError, match=r"^sgd: learning_rate must be a finite number > 0, got -1$"
    ):
        sgd(-1)


# --- structure mismatches ----------------------------------------------------------------


def _two_layer(rng: np.random.Generator) -> Network[int, int]:
    """4 -> 3 -> 5: params w1 (3, 4), b1 (3, 1), w2 (5, 3), b2 (5, 1)."""
    return Network((tn.dense(rng, 4, 3, tn.relu), tn.dense(rng, 3, 5, tn.identity)))


@ALL
def test_grads_of_another_network_are_a_shape_error_naming_the_param(
    name: str, rng: np.random.Generator
) -> None:
    opt = CASES[name].make()
    net = _two_layer(rng)  # 4 -> 3 -> 5
    grads = tn.grad(
        Network((tn.dense(rng, 4, 3, tn.relu), tn.dense(rng, 3, 6, tn.identity))),
        np.ones((4, 2)),
        np.ones((6, 2)),
        tn.mse,
    )
    with pytest.raises(
        ShapeError,
        match=rf"^{name} update: grads param 3 \(layer 2 w\): "
        r"expected shape \(5, 3\) like params, got \(6, 3\)$",
    ):
        opt.update(grads, opt.init(net), net)


def test_layer_numbers_count_bare_activations(rng: np.random.Generator) -> None:
    net: Network[int, int] = Network(
        (tn.dense(rng, 4, 3, tn.identity), tn.relu, tn.dense(rng, 3, 5, tn.identity))
    )
    grads: Network[int, int] = Network(
        (tn.dense(rng, 4, 3, tn.identity), tn.relu, tn.dense(rng, 3, 6, tn.identity))
    )
    with pytest.raises(ShapeError, match=r"grads param 3 \(layer 3 w\): expected shape \(5, 3\)"):
        adam().update(grads, adam().init(net), net)


def test_layer_norm_params_are_named(rng: np.random.Generator) -> None:
    net: Network[int, int] = Network((tn.layer_norm(3), tn.dense(rng, 3, 2, tn.identity)))
    grads: Network[int, int] = Network((tn.layer_norm(4), tn.dense(rng, 4, 2, tn.identity)))
    with pytest.raises(
        ShapeError,
        match=r"^rmsprop update: grads param 1 \(layer 1 gain\): "
        r"expected shape \(3, 1\) like params, got \(4, 1\)$",
    ):
        rmsprop().update(grads, rmsprop().init(net), net)


def test_grads_dtype_mismatch(rng: np.random.Generator) -> None:
    net = _two_layer(rng)
    grads = _like(net, [p.astype(np.float32) for p in net.params])
    with pytest.raises(
        ShapeError,
        match=r"^sgd update: grads param 1 \(layer 1 w\): "
        r"expected dtype float64 like params, got float32$",
    ):
        sgd(0.1).update(grads, sgd(0.1).init(net), net)


def test_grads_of_another_architecture(rng: np.random.Generator) -> None:
    net = _two_layer(rng)
    shorter = tn.network(tn.dense(rng, 4, 3, tn.relu))
    with pytest.raises(
        ShapeError,
        match=r"^adam update: grads: expected 2 layers with params like params, got 1; "
        "is it for another network\\?$",
    ):
        adam().update(shorter, adam().init(net), net)
    with_norm: Network[int, int] = Network(
        (tn.dense(rng, 4, 3, tn.relu), tn.layer_norm(3), tn.dense(rng, 3, 5, tn.identity))
    )
    all_dense: Network[int, int] = Network(
        (tn.dense(rng, 4, 3, tn.relu), tn.dense(rng, 3, 3, tn.relu), tn.dense(rng, 3, 5, tn.relu))
    )
    with pytest.raises(
        ShapeError,
        match=r"^adam update: grads: layer 2: expected a LayerNorm like params, got a Dense$",
    ):
        adam().update(all_dense, adam().init(with_norm), with_norm)


def test_grads_not_a_network(rng: np.random.Generator) -> None:
    net = _two_layer(rng)
    with pytest.raises(
        ShapeError, match=r"^adam update: grads: expected a Network shaped like params, got tuple$"
    ):
        adam().update(net.params, adam().init(net), net)  # type: ignore[arg-type]


def test_state_of_another_network(rng: np.random.Generator) -> None:
    net = _two_layer(rng)
    other = Network((tn.dense(rng, 4, 2, tn.relu), tn.dense(rng, 2, 5, tn.identity)))
    with pytest.raises(
        ShapeError,
        match=r"^adam update: state m param 1 \(layer 1 w\): "
        r"expected shape \(3, 4\) like params, got \(2, 4\)$",
    ):
        adam().update(net, adam().init(other), net)


def test_state_of_another_optimizer(rng: np.random.Generator) -> None:
    net = _two_layer(rng)
    with pytest.raises(
        ShapeError,
        match=r"^adam update: state has 1 slots, adam keeps 2 \(m, v\); "
        r"is it another optimizer's state\?",
    ):
        adam().update(net, momentum(0.1).init(net), net)
    with pytest.raises(TypeError, match=r"^adam update: state must be an OptState, got tuple"):
        adam().update(net, (), net)  # type: ignore[arg-type]


def test_params_and_init_must_be_networks(rng: np.random.Generator) -> None:
    net = _two_layer(rng)
    with pytest.raises(TypeError, match=r"^adam init: expected a Network, got tuple$"):
        adam().init(net.params)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^adam update: params must be a Network, got tuple$"):
        adam().update(net, adam().init(net), net.params)  # type: ignore[arg-type]


def test_apply_updates_mismatch(rng: np.random.Generator) -> None:
    net = _two_layer(rng)  # 4 -> 3 -> 5
    other = Network((tn.dense(rng, 4, 2, tn.relu), tn.dense(rng, 2, 5, tn.identity)))
    with pytest.raises(
        ShapeError,
        match=r"^apply_updates: updates param 1 \(layer 1 w\): "
        r"expected shape \(3, 4\) like params, got \(2, 4\)$",
    ):
        apply_updates(net, other)


def test_no_checks_skips_the_structure_check(rng: np.random.Generator) -> None:
    net = _two_layer(rng)
    grads = _like(net, [p.astype(np.float32) for p in net.params])
    with tn.no_checks():
        updates, _ = sgd(0.5).update(grads, sgd(0.5).init(net), net)
    # Unchecked: the float32 gradient passes through instead of raising a ShapeError.
    assert updates.params[0].dtype == np.float32
    assert np.allclose(updates.params[0], -0.5 * net.params[0], rtol=1e-6)


# --- adamw: Adam with decoupled weight decay ---------------------------------------------


def _adamw_by_hand(
    w: float, grads: tuple[float, ...], lr: float, b1: float, b2: float, eps: float, wd: float
) -> list[float]:
    """PyTorch's AdamW algorithm for one scalar, in plain floats: the weights after each step."""
    m = v = 0.0
    out = []
    for t, g in enumerate(grads, 1):
        w *= 1 - lr * wd  # the decay, before and apart from the gradient step
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        w -= lr * m_hat / (math.sqrt(v_hat) + eps)
        out.append(w)
    return out


def test_adamw_first_three_steps_match_pytorchs_algorithm() -> None:
    # b's gradients are -G and b starts at -w: adamw stays odd, so b is minus w throughout.
    hyper = {"learning_rate": 0.1, "b1": 0.5, "b2": 0.75, "eps": 0.5, "weight_decay": 0.5}
    opt = tn.adamw(**hyper)
    net = _scalar_net(2.0, -2.0)
    state = opt.init(net)
    got = []
    for g in G:
        updates, state = opt.update(_scalar_net(g, -g), state, net)
        net = apply_updates(net, updates)
        got.append((net.params[0].item(), net.params[1].item()))
    want = _adamw_by_hand(2.0, G, 0.1, 0.5, 0.75, 0.5, 0.5)
    # By hand for step 1: w = 2 * (1 - 0.05) - 0.1 * 1 / (1 + 0.5) = 1.9 - 1/15.
    assert want[0] == pytest.approx(1.9 - 1 / 15, rel=1e-15)
    assert [w for w, _ in got] == pytest.approx(want, rel=1e-12)
    assert [b for _, b in got] == pytest.approx([-w for w in want], rel=1e-12)
    assert dict(opt.hyperparameters) == hyper and opt.slot_names == ("m", "v")


def test_adamw_without_decay_is_adam(rng: np.random.Generator) -> None:
    net = _small_net(rng, np.float32)
    grads = [_random_like(rng, net) for _ in range(3)]
    ours, _ = _steps(tn.adamw(0.01, weight_decay=0.0), net, grads)
    theirs, _ = _steps(adam(0.01), net, grads)
    for a, b in zip(ours, theirs, strict=True):
        assert all(np.array_equal(p, q) for p, q in zip(a.params, b.params, strict=True))
        assert {p.dtype for p in a.params} == {np.dtype(np.float32)}


def test_adamw_defaults_and_bad_weight_decay() -> None:
    # torch.optim.AdamW's defaults.
    assert dict(tn.adamw().hyperparameters) == {
        "learning_rate": 1e-3,
        "b1": 0.9,
        "b2": 0.999,
        "eps": 1e-8,
        "weight_decay": 1e-2,
    }
    for bad in (-0.1, math.nan, "0.1"):
        with pytest.raises(
            ValueError, match=rf"^adamw: weight_decay must be a finite number >= 0, got {bad!r}$"
        ):
            tn.adamw(weight_decay=bad)  # type: ignore[arg-type]  # "0.1" is under test
