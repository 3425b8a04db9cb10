import re
import sys
import types
from typing import ClassVar

import numpy as np
import numpy.typing as npt
import pytest

import typednet as tn
from typednet.apps import tutorial
from typednet.optim import adam, sgd
from typednet.train import _shows, fit, train_step

Arr = npt.NDArray[np.float64]


def _regression(rng: np.random.Generator, n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    x = rng.normal(size=(3, n))
    y = np.sin(x[:1]) + 0.5 * x[1:2] * x[2:3]
    return x, y


def _net(seed: int = 0) -> tn.Network:
    rng = np.random.default_rng(seed)
    return tn.network(tn.dense(rng, 3, 16, tn.tanh)).then(tn.dense(rng, 16, 1, tn.identity))


def test_course_training_matches_a_plain_numpy_rederivation() -> None:
    """The course's 10 000 SGD epochs, re-derived by hand: loss and params to 1e-12."""
    np.random.seed(42)
    x = np.random.randint(1, 100, size=(5, 1)) / 100
    y = np.random.randint(1, 100, size=(4, 1)) / 100
    # Declared types: the loop reassigns them, and inferring them through NumPy's
    # operator overloads takes pyright minutes.
    w1: Arr = np.random.random((3, 5))
    w2: Arr = np.random.random((5, 3))
    w3: Arr = np.random.random((4, 5))
    b1: Arr = np.zeros((3, 1))
    b2: Arr = np.zeros((5, 1))
    b3: Arr = np.zeros((4, 1))

    def sig(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return 1 / (1 + np.exp(-z))

    for _ in range(10_000):
        in1 = w1 @ x + b1
        out1 = np.where(in1 > 0, in1, 0.1 * in1)
        out2 = sig(w2 @ out1 + b2)
        y_hat = sig(w3 @ out2 + b3)
        d3 = 2 * (y_hat - y) / y.size * y_hat * (1 - y_hat)
        d2 = (w3.T @ d3) * out2 * (1 - out2)
        d1 = (w2.T @ d2) * np.where(in1 > 0, 1.0, 0.1)
        grads: list[Arr] = [d1 @ x.T, d1, d2 @ out1.T, d2, d3 @ out2.T, d3]  # all before any update
        stepped: list[Arr] = [
            p - 0.01 * g for p, g in zip((w1, b1, w2, b2, w3, b3), grads, strict=True)
        ]
        w1, b1, w2, b2, w3, b3 = stepped
    final = np.mean(
        (y - sig(w3 @ sig(w2 @ np.where((h := w1 @ x + b1) > 0, h, 0.1 * h) + b2) + b3)) ** 2
    )

    net, losses = tutorial.train()
    assert abs(losses[-1][1] - final) <= 1e-12
    for got, want in zip(net.params, (w1, b1, w2, b2, w3, b3), strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert [epoch for epoch, _ in losses] == list(range(0, 10_001, 1_000))


def test_tutorial_example_prints_the_loss_every_1000_epochs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    final = tutorial.print_backprop()
    out = capsys.readouterr().out
    assert out.count("loss ") == 11
    assert "epoch  10000: loss" in out
    assert "y_hat       y" in out
    assert final < 1e-5


def test_train_step_is_one_hand_computed_sgd_step() -> None:
    # y_hat = 2 * 1 + 0.5 = 2.5, y = 1: loss 2.25, dL/dy_hat = 3, so dw = 3, db = 3.
    net = tn.network(tn.Dense(w=np.array([[2.0]]), b=np.array([[0.5]]), activation=tn.identity))
    opt = sgd(0.1)
    before = [p.copy() for p in net.params]
    new, state, value = train_step(
        net, opt.init(net), np.array([[1.0]]), np.array([[1.0]]), loss=tn.mse, optimizer=opt
    )
    assert value == 2.25
    np.testing.assert_allclose(new.params[0], [[1.7]], rtol=1e-15)
    np.testing.assert_allclose(new.params[1], [[0.2]], rtol=1e-15)
    assert state.count == 1
    for p, q in zip(net.params, before, strict=True):
        np.testing.assert_array_equal(p, q)  # pure: the old params are unchanged


def test_fit_learns_and_records_history(rng: np.random.Generator) -> None:
    x, y = _regression(rng)
    xv, yv = _regression(np.random.default_rng(1), 50)
    start = tn.mse(y, tn.forward(_net(), x))
    net, history = fit(
        _net(),
        x,
        y,
        loss=tn.mse,
        optimizer=adam(0.01),
        epochs=30,
        batch_size=16,
        rng=np.random.default_rng(2),
        validation=(xv, yv),
        metric=tn.mae,
        progress=False,
    )
    assert history.epochs == 30
    assert len(history.val_loss) == len(history.train_metric) == len(history.val_metric) == 30
    assert history.metric_name == "mae"
    assert history.train_loss[-1] < 0.2 * start
    assert history.val_loss[-1] == pytest.approx(tn.mse(yv, tn.forward(net, xv)), rel=1e-12)
    assert history.val_metric[-1] == pytest.approx(tn.mae(yv, tn.forward(net, xv)), rel=1e-12)
    assert history.best_epoch is None


def test_fit_train_loss_is_the_mean_over_the_epochs_columns(rng: np.random.Generator) -> None:
    # With learning rate ~0 the params barely move: the epoch mean is the full-data loss.
    x, y = _regression(rng, 37)
    net = _net()
    _, history = fit(
        net,
        x,
        y,
        loss=tn.mse,
        optimizer=sgd(1e-300),
        epochs=1,
        batch_size=10,
        rng=np.random.default_rng(0),
        progress=False,
    )
    assert history.train_loss[0] == pytest.approx(tn.mse(y, tn.forward(net, x)), rel=1e-12)


def test_fit_is_reproducible_with_the_same_seed(rng: np.random.Generator) -> None:
    x, y = _regression(rng)
    runs = [
        fit(
            _net(),
            x,
            y,
            loss=tn.mse,
            optimizer=adam(0.01),
            epochs=3,
            batch_size=32,
            rng=np.random.default_rng(7),
            progress=False,
        )
        for _ in range(2)
    ]
    for a, b in zip(runs[0][0].params, runs[1][0].params, strict=True):
        np.testing.assert_array_equal(a, b)
    assert runs[0][1] == runs[1][1]
    other, _ = fit(
        _net(),
        x,
        y,
        loss=tn.mse,
        optimizer=adam(0.01),
        epochs=3,
        batch_size=32,
        rng=np.random.default_rng(8),
        progress=False,
    )
    assert not np.array_equal(other.params[0], runs[0][0].params[0])


def test_early_stopping_restores_the_best_params(rng: np.random.Generator) -> None:
    x, y = _regression(rng, 40)
    # Validation data unlike the training data: its loss soon rises, and fit stops.
    xv, yv = x[:, :20], -5.0 * y[:, :20]
    net, history = fit(
        _net(),
        x,
        y,
        loss=tn.mse,
        optimizer=adam(0.05),
        epochs=200,
        batch_size=8,
        rng=np.random.default_rng(3),
        validation=(xv, yv),
        patience=3,
        progress=False,
    )
    assert history.best_epoch is not None
    assert history.epochs == history.best_epoch + 3
    assert min(history.val_loss) == history.val_loss[history.best_epoch - 1]
    assert tn.mse(yv, tn.forward(net, xv)) == pytest.approx(min(history.val_loss), rel=1e-12)


def test_a_diverging_run_stops_with_the_epoch_and_step(rng: np.random.Generator) -> None:
    x, y = _regression(rng, 64)
    with (
        np.errstate(all="ignore"),
        pytest.raises(
            ValueError,
            match=r"^fit: (the loss became (inf|nan) at epoch \d+, step \d+ of 4; |epoch \d+, "
            r"step \d+ of 4 would give non-finite params .*: )try a smaller",
        ),
    ):
        fit(
            _net(),
            x,
            y * 1e150,
            loss=tn.mse,
            optimizer=sgd(1e10),
            epochs=50,
            batch_size=16,
            rng=np.random.default_rng(0),
            progress=False,
        )


def test_progress_bar_shows_the_running_loss(
    rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    x, y = _regression(rng, 32)
    fit(_net(), x, y, loss=tn.mse, optimizer=adam(), epochs=2, batch_size=8, rng=rng, progress=True)
    assert "loss=" in capsys.readouterr().err
    fit(
        _net(), x, y, loss=tn.mse, optimizer=adam(), epochs=2, batch_size=8, rng=rng, progress=False
    )
    assert capsys.readouterr().err == ""


def test_progress_by_default_only_where_someone_watches(
    rng: np.random.Generator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log file or CI gets no bar unless asked; a terminal gets one."""
    x, y = _regression(rng, 32)

    def run() -> str:
        fit(_net(), x, y, loss=tn.mse, optimizer=adam(), epochs=2, batch_size=8, rng=rng)
        return capsys.readouterr().err

    assert run() == ""  # stderr is captured: not a terminal
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert "loss=" in run()


def test_progress_by_default_in_a_jupyter_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    class Shell:
        config: ClassVar[dict[str, object]] = {"IPKernelApp": {}}

    class Terminal:
        config: ClassVar[dict[str, object]] = {"TerminalIPythonApp": {}}

    ipython = types.ModuleType("IPython")
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    for shell, shows in [(Shell(), True), (Terminal(), False), (None, False)]:
        ipython.get_ipython = lambda shell=shell: shell  # type: ignore[attr-defined]  # a stand-in module
        assert _shows(None) is shows
    assert _shows(False) is False


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"epochs": 0}, ValueError, "fit: epochs must be a positive int, got 0"),
        ({"batch_size": 2.5}, ValueError, "fit: batch_size must be a positive int, got 2.5"),
        (
            {"patience": 2},
            ValueError,
            "fit: patience (early stopping) needs validation=(x_val, y_val)",
        ),
        (
            {"rng": 42},
            TypeError,
            "fit: rng must be np.random.default_rng(seed) or np.random.RandomState(seed), got int",
        ),
        (
            {"validation": (np.zeros((3, 4)),)},
            TypeError,
            "fit: validation must be (x_val, y_val) or (x_val, y_val, sample_weight_val)",
        ),
        (
            {"validation": (np.zeros((3, 4)), np.zeros((1, 5)))},
            tn.ShapeError,
            "fit validation: x has 4 columns (samples) but y has 5; samples are columns in both",
        ),
    ],
)
def test_fit_settings_errors(kwargs: dict[str, object], error: type, message: str) -> None:
    x, y = np.zeros((3, 10)), np.zeros((1, 10))
    settings: dict[str, object] = {
        "loss": tn.mse,
        "optimizer": sgd(0.1),
        "epochs": 1,
        "batch_size": 4,
        "rng": np.random.default_rng(0),
        "progress": False,
    }
    with pytest.raises(error, match=f"^{re.escape(message)}"):
        fit(_net(), x, y, **{**settings, **kwargs})  # type: ignore[call-overload]  # bad settings are the test


def test_fit_data_errors() -> None:
    opt = sgd(0.1)
    kw = {"loss": tn.mse, "optimizer": opt, "epochs": 1, "batch_size": 4, "progress": False}
    with pytest.raises(
        tn.ShapeError, match=re.escape("fit: x has 10 columns (samples) but y has 9")
    ):
        fit(_net(), np.zeros((3, 10)), np.zeros((1, 9)), rng=np.random.default_rng(), **kw)  # type: ignore[call-overload]  # kwargs dict
    with pytest.raises(
        tn.ShapeError,
        match=re.escape("fit input x: expected (features, batch) = (3, batch), got shape (10, 3)"),
    ):
        fit(_net(), np.zeros((10, 3)), np.zeros((1, 10)), rng=np.random.default_rng(), **kw)  # type: ignore[call-overload]  # kwargs dict
    x = np.zeros((3, 10))
    x[1, 4] = np.nan
    with pytest.raises(ValueError, match=re.escape("fit: x contains NaN or inf")):
        fit(_net(), x, np.zeros((1, 10)), rng=np.random.default_rng(), **kw)  # type: ignore[call-overload]  # kwargs dict


# --- resuming and callbacks --------------------------------------------------------------


def _same(a: tn.Network, b: tn.Network) -> bool:
    return all(np.array_equal(p, q) for p, q in zip(a.params, b.params, strict=True))


@pytest.mark.parametrize(
    "optimizer",
    [adam(0.01), tn.adamw(tn.schedules.cosine_decay(0.01, steps=50)), tn.momentum(0.01)],
    ids=["adam", "adamw with a schedule", "momentum"],
)
def test_five_plus_five_epochs_are_ten_bit_for_bit(optimizer: tn.Optimizer) -> None:
    x, y = _regression(np.random.default_rng(1), 50)
    kw = {"loss": tn.mse, "optimizer": optimizer, "batch_size": 16, "progress": False}
    rng = np.random.default_rng(7)
    whole, h10 = fit(_net(), x, y, epochs=10, rng=rng, **kw)  # type: ignore[call-overload]
    rng = np.random.default_rng(7)  # the same rng object carried through both halves
    half, h5 = fit(_net(), x, y, epochs=5, rng=rng, **kw)  # type: ignore[call-overload]
    assert h5.state is not None and h5.state.count == 5 * 4  # 4 batches of at most 16
    again, h5b = fit(half, x, y, epochs=5, rng=rng, state=h5.state, **kw)  # type: ignore[call-overload]
    assert _same(again, whole)
    assert h5.train_loss + h5b.train_loss == h10.train_loss
    assert h10.state is not None and h5b.state is not None
    assert h5b.state.count == h10.state.count == 40
    for a, b in zip(h5b.state.slots, h10.state.slots, strict=True):
        assert _same(a, b)
    # Without the state, the second half starts the optimizer afresh: not the same run.
    rng = np.random.default_rng(7)
    half, _ = fit(_net(), x, y, epochs=5, rng=rng, **kw)  # type: ignore[call-overload]
    fresh, _ = fit(half, x, y, epochs=5, rng=rng, **kw)  # type: ignore[call-overload]
    assert not _same(fresh, whole)


def test_early_stopping_returns_the_best_epochs_state(rng: np.random.Generator) -> None:
    x, y = _regression(rng, 40)
    xv, yv = x[:, :20], -5.0 * y[:, :20]
    _, history = fit(
        _net(),
        x,
        y,
        loss=tn.mse,
        optimizer=adam(0.05),
        epochs=200,
        batch_size=8,
        rng=np.random.default_rng(3),
        validation=(xv, yv),
        patience=3,
        progress=False,
    )
    assert history.best_epoch is not None and history.state is not None
    assert history.state.count == history.best_epoch * 5  # 5 steps of 8 per epoch


def test_callbacks_see_every_epoch_and_can_stop(rng: np.random.Generator) -> None:
    x, y = _regression(rng, 40)
    seen: list[tn.Epoch] = []
    counts: list[int] = []

    def record(e: tn.Epoch) -> None:
        seen.append(e)

    def stop_at_3(e: tn.Epoch) -> bool:
        counts.append(e.state.count)
        return e.epoch == 3

    net, history = fit(
        _net(),
        x,
        y,
        loss=tn.mse,
        optimizer=adam(0.01),
        epochs=10,
        batch_size=20,
        rng=rng,
        validation=(x, y),
        metric=tn.mae,
        callbacks=[stop_at_3, record],
        progress=False,
    )
    assert [e.epoch for e in seen] == [1, 2, 3] and history.epochs == 3
    assert counts == [2, 4, 6]
    assert [e.train_loss for e in seen] == list(history.train_loss)
    assert [e.val_loss for e in seen] == list(history.val_loss)
    assert [e.train_metric for e in seen] == list(history.train_metric)
    assert [e.val_metric for e in seen] == list(history.val_metric)
    assert seen[-1].net is net and seen[-1].state is history.state


def test_callback_record_without_validation_or_metric(rng: np.random.Generator) -> None:
    x, y = _regression(rng, 10)
    seen: list[tn.Epoch] = []
    fit(
        _net(),
        x,
        y,
        loss=tn.mse,
        optimizer=adam(0.01),
        epochs=2,
        batch_size=10,
        rng=rng,
        callbacks=[seen.append],
        progress=False,
    )
    assert [(e.val_loss, e.train_metric, e.val_metric) for e in seen] == [(None, None, None)] * 2


def test_a_logging_callback_prints_each_epoch(
    rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    x, y = _regression(rng, 10)

    def log(e: tn.Epoch) -> None:
        print(f"epoch {e.epoch}: loss {e.train_loss:.3f}")

    _, history = fit(
        _net(),
        x,
        y,
        loss=tn.mse,
        optimizer=adam(0.01),
        epochs=3,
        batch_size=5,
        rng=rng,
        callbacks=[log],
        progress=False,
    )
    assert capsys.readouterr().out.splitlines() == [
        f"epoch {i + 1}: loss {loss:.3f}" for i, loss in enumerate(history.train_loss)
    ]


def test_resume_errors(rng: np.random.Generator) -> None:
    x, y = _regression(rng, 10)
    kw = {"loss": tn.mse, "epochs": 1, "batch_size": 5, "rng": rng, "progress": False}
    other = tn.network(tn.dense(rng, 3, 4, tn.tanh)).then(tn.dense(rng, 4, 1, tn.identity))
    with pytest.raises(
        TypeError,
        match=r"^fit: state must be an OptState \(e\.g\. a previous run's history\.state\), got dict$",
    ):
        fit(_net(), x, y, optimizer=adam(), state={}, **kw)  # type: ignore[call-overload]
    with pytest.raises(
        tn.ShapeError,
        match=r"^adam update: state m param 1 \(layer 1 w\): expected shape \(16, 3\) like params, got \(4, 3\)$",
    ):
        fit(_net(), x, y, optimizer=adam(), state=adam().init(other), **kw)  # type: ignore[call-overload]
    with pytest.raises(tn.ShapeError, match=r"^adam update: state has 1 slots, adam keeps 2"):
        fit(_net(), x, y, optimizer=adam(), state=tn.momentum(0.1).init(_net()), **kw)  # type: ignore[call-overload]
    with pytest.raises(
        TypeError, match=r"^fit: callbacks must be a list of functions taking an Epoch record$"
    ):
        fit(_net(), x, y, optimizer=adam(), callbacks=[1], **kw)  # type: ignore[call-overload]


def test_fit_refuses_a_probability_loss_on_raw_outputs(rng: np.random.Generator) -> None:
    x = rng.normal(size=(3, 30))
    y = np.eye(2)[(x[0] > 0).astype(int)].T.copy()
    logits = tn.network(tn.dense(rng, 3, 2, tn.identity))
    with pytest.raises(
        ValueError,
        match=r"^fit: cross_entropy: y_pred must be probabilities in \[0, 1\], but y_pred\[\d+, \d+\] is outside; use a softmax output layer, or tn\.softmax_cross_entropy on the raw outputs of an identity output layer \(logits\)$",
    ):
        fit(
            logits,
            x,
            y,
            loss=tn.cross_entropy,
            optimizer=adam(),
            epochs=1,
            batch_size=10,
            rng=rng,
            progress=False,
        )
    with pytest.raises(
        ValueError,
        match=r"^fit: binary_cross_entropy: y_pred must be probabilities in \[0, 1\].*use a sigmoid output layer, or tn\.sigmoid_binary_cross_entropy",
    ):
        fit(
            logits,
            x,
            y,
            loss=tn.binary_cross_entropy,
            optimizer=adam(),
            epochs=1,
            batch_size=10,
            rng=rng,
            progress=False,
        )
    # The logits form on the same network trains: to better than chance.
    net, _ = fit(
        logits,
        x,
        y,
        loss=tn.softmax_cross_entropy,
        optimizer=adam(0.05),
        epochs=30,
        batch_size=10,
        rng=rng,
        progress=False,
    )
    predicted = tn.softmax(tn.forward(net, x)).argmax(axis=0)
    assert np.mean(predicted == y.argmax(axis=0)) > 0.9
