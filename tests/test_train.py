import re

import numpy as np
import numpy.typing as npt
import pytest

import typednet as tn
from typednet.apps import tutorial
from typednet.optim import adam, sgd
from typednet.train import fit, train_step


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
    w1, w2, w3 = np.random.random((3, 5)), np.random.random((5, 3)), np.random.random((4, 5))
    b1, b2, b3 = np.zeros((3, 1)), np.zeros((5, 1)), np.zeros((4, 1))

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
        grads = [d1 @ x.T, d1, d2 @ out1.T, d2, d3 @ out2.T, d3]  # all before any update
        w1, b1, w2, b2, w3, b3 = (
            p - 0.01 * g for p, g in zip((w1, b1, w2, b2, w3, b3), grads, strict=True)
        )
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
    fit(_net(), x, y, loss=tn.mse, optimizer=adam(), epochs=2, batch_size=8, rng=rng)
    assert "loss=" in capsys.readouterr().err
    fit(
        _net(), x, y, loss=tn.mse, optimizer=adam(), epochs=2, batch_size=8, rng=rng, progress=False
    )
    assert capsys.readouterr().err == ""


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
            "fit: validation must be a pair (x_val, y_val)",
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
        fit(_net(), x, y, **{**settings, **kwargs})  # type: ignore[arg-type]  # bad settings are the test


def test_fit_data_errors() -> None:
    opt = sgd(0.1)
    kw = {"loss": tn.mse, "optimizer": opt, "epochs": 1, "batch_size": 4, "progress": False}
    with pytest.raises(
        tn.ShapeError, match=re.escape("fit: x has 10 columns (samples) but y has 9")
    ):
        fit(_net(), np.zeros((3, 10)), np.zeros((1, 9)), rng=np.random.default_rng(), **kw)  # type: ignore[arg-type]  # kwargs dict
    with pytest.raises(
        tn.ShapeError,
        match=re.escape("fit input x: expected (features, batch) = (3, batch), got shape (10, 3)"),
    ):
        fit(_net(), np.zeros((10, 3)), np.zeros((1, 10)), rng=np.random.default_rng(), **kw)  # type: ignore[arg-type]  # kwargs dict
    x = np.zeros((3, 10))
    x[1, 4] = np.nan
    with pytest.raises(ValueError, match=re.escape("fit: x contains NaN or inf")):
        fit(_net(), x, np.zeros((1, 10)), rng=np.random.default_rng(), **kw)  # type: ignore[arg-type]  # kwargs dict
