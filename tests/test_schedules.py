"""Tests for typednet.schedules: each schedule against values worked out by hand, and
schedules driving every optimizer's learning rate."""

import math
import pickle

import numpy as np
import pytest

import typednet as tn
from typednet import schedules
from typednet.optim import adam, sgd


def _values(s: schedules.Schedule, steps: range) -> list[float]:
    return [s(t) for t in steps]


def test_constant() -> None:
    assert _values(schedules.constant(0.25), range(3)) == [0.25, 0.25, 0.25]
    assert schedules.constant(0.0)(7) == 0.0  # a zero rate is allowed: it pauses training


def test_exponential_decay_smooth_and_staircase() -> None:
    # 0.8 * 0.5 ** (t / 2): 0.8, 0.8 / sqrt(2), 0.4, 0.4 / sqrt(2), 0.2
    smooth = schedules.exponential_decay(0.8, rate=0.5, every=2)
    want = [0.8, 0.8 / math.sqrt(2), 0.4, 0.4 / math.sqrt(2), 0.2]
    assert _values(smooth, range(5)) == pytest.approx(want, rel=1e-15)
    stairs = schedules.exponential_decay(0.8, rate=0.5, every=2, staircase=True)
    assert _values(stairs, range(5)) == [0.8, 0.8, 0.4, 0.4, 0.2]
    assert _values(schedules.exponential_decay(1.0, rate=0.9), range(3)) == pytest.approx(
        [1.0, 0.9, 0.81], rel=1e-15
    )


def test_step_decay_is_pytorchs_step_lr() -> None:
    # StepLR(step_size=3, gamma=0.1) from lr 1: 1, 1, 1, 0.1, 0.1, 0.1, 0.01
    s = schedules.step_decay(1.0, factor=0.1, every=3)
    assert _values(s, range(7)) == pytest.approx([1, 1, 1, 0.1, 0.1, 0.1, 0.01], rel=1e-15)


def test_cosine_decay() -> None:
    # final + (initial - final) (1 + cos(pi t / 4)) / 2 with initial 1, final 0.2:
    # t = 0: 1; t = 1: 0.2 + 0.8 (1 + sqrt(2)/2) / 2; t = 2: 0.6; t = 3: 0.2 + 0.8 (1 -
    # sqrt(2)/2) / 2; from t = 4 on: 0.2.
    s = schedules.cosine_decay(1.0, steps=4, final=0.2)
    r = math.sqrt(2) / 2
    want = [1.0, 0.2 + 0.4 * (1 + r), 0.6, 0.2 + 0.4 * (1 - r), 0.2, 0.2, 0.2]
    assert _values(s, range(7)) == pytest.approx(want, rel=1e-15)


def test_warmup_ramps_linearly_then_hands_over() -> None:
    # From 0.1 up to then(0) = 1 over 3 steps: 0.1, 0.4, 0.7; then the decay from its step 0.
    s = schedules.warmup(3, then=schedules.step_decay(1.0, factor=0.5, every=2), start=0.1)
    assert _values(s, range(8)) == pytest.approx([0.1, 0.4, 0.7, 1, 1, 0.5, 0.5, 0.25], rel=1e-15)
    assert _values(schedules.warmup(2, then=0.5), range(4)) == [0.0, 0.25, 0.5, 0.5]


def test_join_restarts_each_schedule_at_its_boundary() -> None:
    s = schedules.join(
        (0.5, schedules.cosine_decay(1.0, steps=2), schedules.exponential_decay(0.1, rate=0.5)),
        boundaries=(2, 5),
    )
    assert _values(s, range(8)) == pytest.approx(
        [0.5, 0.5, 1.0, 0.5, 0.0, 0.1, 0.05, 0.025], rel=1e-15
    )


def test_schedules_compare_print_and_pickle() -> None:
    s = schedules.warmup(10, then=schedules.cosine_decay(1e-3, steps=100))
    assert pickle.loads(pickle.dumps(s)) == s
    assert repr(s) == (
        "warmup(steps=10, then=cosine_decay(initial=0.001, steps=100, final=0.0), start=0.0)"
    )


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (
            lambda: schedules.constant(-1.0),
            r"^constant: value must be a finite number >= 0, got -1\.0$",
        ),
        (
            lambda: schedules.constant(math.nan),
            r"^constant: value must be a finite number >= 0, got nan$",
        ),
        (
            lambda: schedules.exponential_decay(0.0, rate=0.5),
            r"^exponential_decay: initial must be a finite number > 0, got 0\.0$",
        ),
        (
            lambda: schedules.exponential_decay(1.0, rate=0.5, every=0),
            r"^exponential_decay: every must be a positive int, got 0$",
        ),
        (
            lambda: schedules.step_decay(1.0, factor=math.inf, every=2),
            r"^step_decay: factor must be a finite number > 0, got inf$",
        ),
        (
            lambda: schedules.cosine_decay(1.0, steps=2.5),  # type: ignore[arg-type]  # under test
            r"^cosine_decay: steps must be a positive int, got 2\.5$",
        ),
        (
            lambda: schedules.warmup(True, then=1.0),
            r"^warmup: steps must be a positive int, got True$",
        ),
        (
            lambda: schedules.join((1.0,), boundaries=()),
            r"^join: needs two or more schedules and one boundary fewer, got 1 schedules and 0 boundaries$",
        ),
        (
            lambda: schedules.join((1.0, 2.0, 3.0), boundaries=(4, 4)),
            r"^join: boundaries must increase, got \(4, 4\)$",
        ),
    ],
)
def test_bad_settings_are_value_errors(make: object, match: str) -> None:
    assert callable(make)
    with pytest.raises(ValueError, match=match):
        make()


def test_a_schedule_must_be_callable_or_a_number() -> None:
    with pytest.raises(
        TypeError,
        match=r"^warmup: then must be a number or a schedule \(a function of the step\), got str$",
    ):
        schedules.warmup(2, then="0.1")  # type: ignore[arg-type]  # the error under test


# --- schedules in optimizers --------------------------------------------------------------


def _one_weight(w: float) -> tn.Network:
    return tn.network(tn.Dense(w=np.array([[w]]), b=np.zeros((1, 1)), activation=tn.identity))


def test_sgd_follows_the_schedule_step_by_step() -> None:
    # Gradient 1 on w at every step: the updates are minus the rates 1, 0.5, 0.25.
    opt = sgd(schedules.exponential_decay(1.0, rate=0.5))
    net = _one_weight(0.0)
    state = opt.init(net)
    got = []
    for _ in range(3):
        updates, state = opt.update(_one_weight(1.0), state, net)
        got.append(updates.params[0].item())
    assert got == [-1.0, -0.5, -0.25]
    assert dict(opt.hyperparameters)["learning_rate"] == schedules.exponential_decay(1.0, rate=0.5)


@pytest.mark.parametrize(
    "factory",
    [
        tn.sgd,
        tn.momentum,
        tn.nesterov,
        tn.adagrad,
        tn.rmsprop,
        tn.adadelta,
        tn.adam,
        tn.amsgrad,
        tn.adamax,
        tn.adamw,
    ],
    ids=lambda f: f.__name__,
)
def test_every_optimizer_takes_a_schedule_equal_to_its_float(factory: object) -> None:
    """A constant schedule gives the float's updates exactly; a doubled rate doubles them
    (every rule is linear in lr, with its state independent of lr)."""
    assert callable(factory)
    rng = np.random.default_rng(0)

    def dense() -> tn.Network:
        w, b = rng.normal(size=(2, 3)), rng.normal(size=(2, 1))
        return tn.network(tn.Dense(w=w, b=b, activation=tn.tanh))

    net, grads = dense(), [dense() for _ in range(3)]

    def run(lr: object) -> list[np.ndarray]:
        opt = factory(lr)
        assert isinstance(opt, tn.Optimizer)
        state, out = opt.init(net), []
        for g in grads:
            updates, state = opt.update(g, state, net)
            out.append(np.concatenate([p.ravel() for p in updates.params]))
        return out

    plain, scheduled = run(0.1), run(schedules.constant(0.1))
    assert all(np.array_equal(a, b) for a, b in zip(plain, scheduled, strict=True))
    doubled = run(schedules.join((0.1, 0.2), boundaries=(2,)))
    np.testing.assert_array_equal(doubled[:2], plain[:2])
    np.testing.assert_allclose(doubled[2], 2 * plain[2], rtol=1e-14)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -1e-3])
def test_a_bad_rate_stops_training_naming_the_step(bad: float) -> None:
    opt = adam(schedules.join((1e-3, schedules.constant(0.0)), boundaries=(3,)))
    broken = adam(lambda step: 1e-3 if step < 3 else bad)
    net = _one_weight(0.5)
    x, y = np.ones((1, 4)), np.zeros((1, 4))
    tn.fit(
        net,
        x,
        y,
        loss=tn.mse,
        optimizer=opt,
        epochs=5,
        batch_size=4,
        rng=np.random.default_rng(0),
        progress=False,
    )  # a zero rate is fine
    with pytest.raises(
        ValueError,
        match=rf"^adam: the learning-rate schedule gave {bad!r} at step 3 \(counted from 0\); "
        r"a learning rate must be a finite number >= 0$",
    ):
        tn.fit(
            net,
            x,
            y,
            loss=tn.mse,
            optimizer=broken,
            epochs=5,
            batch_size=4,
            rng=np.random.default_rng(0),
            progress=False,
        )


@pytest.mark.parametrize(
    ("schedule", "step", "match"),
    [
        (
            schedules.exponential_decay(1.0, rate=10.0),
            400,  # 10.0 ** 400 raised Python's OverflowError
            r"^exponential_decay: the rate 1 \* 10 \*\* \(step / 1\) overflows at step 400$",
        ),
        (
            schedules.exponential_decay(0.5, rate=10.0, every=2, staircase=True),
            10**400,  # too large a step even for step / every
            r"^exponential_decay: the rate 0\.5 \* 10 \*\* \(step // 2\) overflows at step 1000",
        ),
        (
            schedules.exponential_decay(1e300, rate=1.5),
            100,  # 1.5 ** 100 is finite, 1e300 times it is not
            r"^exponential_decay: the rate 1e\+300 \* 1\.5 \*\* \(step / 1\) overflows at step 100$",
        ),
        (
            schedules.step_decay(0.1, factor=10.0, every=3),
            1200,
            r"^step_decay: the rate 0\.1 \* 10 \*\* \(step // 3\) overflows at step 1200$",
        ),
    ],
    ids=["exponential", "staircase at a huge step", "initial too large", "step_decay"],
)
def test_a_schedule_that_overflows_is_a_value_error_naming_the_step(
    schedule: schedules.Schedule, step: int, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        schedule(step)


def test_a_decay_past_the_smallest_float_is_zero_and_a_factor_of_1_stays() -> None:
    assert schedules.exponential_decay(1.0, rate=0.5)(10**400) == 0.0
    assert schedules.step_decay(1.0, factor=0.5, every=1)(10**400) == 0.0
    assert schedules.step_decay(0.3, factor=1.0, every=1)(10**400) == 0.3


def test_a_users_schedule_that_overflows_stops_training_naming_the_step() -> None:
    net = _one_weight(0.5)
    x, y = np.ones((1, 4)), np.zeros((1, 4))
    with pytest.raises(
        ValueError,
        match=r"^sgd: the learning-rate schedule failed at step 2 \(counted from 0\): "
        r"\(34, 'Numerical result out of range'\)$",
    ):
        tn.fit(net, x, y, loss=tn.mse, optimizer=sgd(lambda step: 1e-3 * 10.0 ** (400 * (step // 2))),
               epochs=5, batch_size=4, rng=np.random.default_rng(0), progress=False)  # fmt: skip
