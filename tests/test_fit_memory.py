"""`fit`'s memory does not grow with the data beyond the data itself: the whole-set
checks run in blocks of columns (same errors as at once), and so does the per-epoch
evaluation (same values as at once, to the stated tolerance)."""

import re
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import typednet as tn
from typednet import _kernels


def _net(features: int = 3, seed: int = 0) -> tn.Network:
    rng = np.random.default_rng(seed)
    return tn.network(tn.dense(rng, features, 16, tn.tanh)).then(tn.dense(rng, 16, 1, tn.identity))


def _fit(x: np.ndarray, y: np.ndarray, **kwargs: object) -> tuple[tn.Network, tn.History]:
    options: dict[str, object] = {
        "loss": tn.mse,
        "optimizer": tn.sgd(0.01),
        "epochs": 1,
        "batch_size": 4096,
        "rng": np.random.default_rng(0),
        "progress": False,
    }
    options.update(kwargs)
    return tn.fit(_net(x.shape[0]), x, y, **options)  # type: ignore[call-overload,no-any-return]  # options is a dict of mixed settings


# --- the checks ----------------------------------------------------------------------------


@pytest.mark.parametrize("column", [0, 1, 87_380, 87_381, 199_998, 199_999])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_bad_value_anywhere_in_a_large_set_is_the_same_error(column: int, bad: float) -> None:
    """(3, 200 000) is 3 blocks of 87 381 columns: first, boundary and last columns."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(3, 200_000)), rng.normal(size=(1, 200_000))
    x[2, column] = bad
    with pytest.raises(
        ValueError, match=r"^fit: x contains NaN or inf; training needs finite data$"
    ):
        _fit(x, y)
    x[2, column] = 0.0
    y[0, column] = bad
    with pytest.raises(
        ValueError, match=r"^fit: y contains NaN or inf; training needs finite data$"
    ):
        _fit(x, y)
    with pytest.raises(
        ValueError, match=r"^fit validation: y contains NaN or inf; training needs finite data$"
    ):
        _fit(rng.normal(size=(3, 10)), rng.normal(size=(1, 10)), validation=(x, y))


@settings(max_examples=200, deadline=None)
@given(
    rows=st.integers(1, 7),
    n=st.integers(1, 60),
    block=st.integers(1, 40),
    bad=st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from([np.nan, np.inf, -np.inf]))),
)
def test_the_blocked_check_agrees_with_numpy_at_once(
    rows: int, n: int, block: int, bad: list[tuple[int, float]]
) -> None:
    """Any block size, any bad positions (none included): NumPy's own answer."""
    a = np.arange(rows * n, dtype=np.float64).reshape(rows, n)
    for position, value in bad:
        a.flat[position % a.size] = value
    old = _kernels.CHECK_BLOCK
    _kernels.CHECK_BLOCK = block
    try:
        finite = bool(np.isfinite(a).all())
        if finite:
            _kernels.check_finite_data(a, a[:1], "here")
        else:
            with pytest.raises(ValueError, match=r"^here: x contains NaN or inf"):
                _kernels.check_finite_data(a, a[:1], "here")
    finally:
        _kernels.CHECK_BLOCK = old


def _peak(fn: object, *args: object) -> int:
    """Bytes NumPy allocated at the peak of ``fn(*args)``, over what was live before."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fn(*args)  # type: ignore[operator]
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_checks_of_a_large_set_hold_no_copy_of_it(tmp_path: Path) -> None:
    """64 x 100 000 float64 (51 MB): at once, the check held a 6.4 MB boolean copy;
    by blocks it holds one block's (256 kB). The same for a memory-mapped set."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 100_000))
    y = rng.normal(size=(1, 100_000))
    assert _peak(lambda: np.isfinite(x).all()) >= x.size  # the old way, for scale
    assert _peak(_kernels.check_finite_data, x, y, "fit") < 400_000
    path = tmp_path / "x.f64"
    mapped = np.memmap(path, dtype=np.float64, mode="w+", shape=x.shape)
    mapped[:] = x
    mapped.flush()
    readonly = np.memmap(path, dtype=np.float64, mode="r", shape=x.shape)
    assert _peak(_kernels.check_finite_data, readonly, y, "fit") < 400_000
    del mapped, readonly


def test_a_memory_mapped_set_with_a_nan_is_the_same_error(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "x.f64"
    mapped = np.memmap(path, dtype=np.float64, mode="w+", shape=(3, 200_000))
    mapped[:] = rng.normal(size=(3, 200_000))
    mapped[1, 150_000] = np.nan
    mapped.flush()
    x = np.memmap(path, dtype=np.float64, mode="r", shape=(3, 200_000))
    with pytest.raises(ValueError, match=f"^{re.escape('fit: x contains NaN or inf')};"):
        _fit(x, rng.normal(size=(1, 200_000)))
    del mapped, x


# --- the evaluation after each epoch -------------------------------------------------------


def _typed_net(dtype: type) -> tn.Network:
    rng = np.random.default_rng(0)
    return tn.network(tn.dense(rng, 3, 16, tn.tanh, dtype=dtype)).then(
        tn.dense(rng, 16, 1, tn.identity, dtype=dtype)
    )


def _by_hand(net: tn.Network, x: np.ndarray) -> np.ndarray:
    """The 3-16-1 tanh network's output in float64, all columns at once."""
    w1, b1, w2, b2 = (p.astype(np.float64) for p in net.params)
    out: np.ndarray = w2 @ np.tanh(w1 @ x.astype(np.float64) + b1) + b2
    return out


@pytest.mark.parametrize(("dtype", "rtol"), [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_the_evaluation_of_a_large_set_agrees_with_numpy_at_once(dtype: type, rtol: float) -> None:
    """3 blocks and a bit: the validation loss to 1e-12 (float64) of NumPy's mean over
    every column at once; a metric function (a median: no mean over blocks gives it) is
    called once per set and epoch, with every column's prediction; a Loss (tn.mae) as
    metric is taken by blocks like the loss, and agrees as well."""
    rng = np.random.default_rng(0)
    n = 3 * 4096 + 17
    x: np.ndarray = rng.normal(size=(3, 5000)).astype(dtype)
    y: np.ndarray = rng.normal(size=(1, 5000)).astype(dtype)
    xv: np.ndarray = rng.normal(size=(3, n)).astype(dtype)
    yv: np.ndarray = rng.normal(size=(1, n)).astype(dtype)
    shapes: list[tuple[int, ...]] = []
    nets: list[tn.Network] = []

    def median_error(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        shapes.append(y_pred.shape)
        return float(np.median(np.abs(y_true - y_pred)))

    def keep(e: tn.Epoch) -> None:
        nets.append(e.net)

    for metric, reference in ((median_error, np.median), (tn.mae, np.mean)):
        nets.clear()
        _, history = tn.fit(
            _typed_net(dtype), x, y, loss=tn.mse, optimizer=tn.sgd(0.01), epochs=2,
            batch_size=512, rng=np.random.default_rng(0), progress=False,
            validation=(xv, yv), metric=metric, callbacks=[keep],
        )  # fmt: skip
        assert len(nets) == 2
        for k, trained in enumerate(nets):
            for data, loss, score in (
                ((x, y), history.train_loss, history.train_metric),
                ((xv, yv), history.val_loss, history.val_metric),
            ):
                y_hat = _by_hand(trained, data[0])
                target = data[1].astype(np.float64)
                assert score[k] == pytest.approx(reference(np.abs(target - y_hat)), rel=rtol)
                if data[0] is xv:
                    assert loss[k] == pytest.approx(np.mean((target - y_hat) ** 2), rel=rtol)
    assert shapes == [(1, 5000), (1, n)] * 2  # whole sets, once each per epoch


def test_a_set_of_one_block_is_evaluated_at_once_bit_for_bit() -> None:
    """Up to 4096 columns the validation loss is tn.mse of tn.forward, to the bit."""
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(3, 300)), rng.normal(size=(1, 300))
    xv, yv = rng.normal(size=(3, 4096)), rng.normal(size=(1, 4096))
    nets: list[tn.Network] = []

    def keep(e: tn.Epoch) -> None:
        nets.append(e.net)

    _, history = _fit(x, y, epochs=2, batch_size=64, validation=(xv, yv), callbacks=[keep])
    assert list(history.val_loss) == [tn.mse(yv, tn.forward(net, xv)) for net in nets]


def test_a_weighted_set_of_many_blocks_gives_the_weighted_means() -> None:
    """With validation weights, the blocks are weighed by their weights, not their
    columns: the validation loss and a Loss metric equal sum(w l) / sum(w) by hand, a
    block whose weights are all zero included."""
    rng = np.random.default_rng(2)
    n = 2 * 4096 + 5
    x, y = rng.normal(size=(3, 300)), rng.normal(size=(1, 300))
    xv, yv = rng.normal(size=(3, n)), rng.normal(size=(1, n))
    wv = rng.integers(0, 4, size=n).astype(np.float64)
    wv[:4096] = 0.0  # the whole first block
    wv[-1] = 5.0
    nets: list[tn.Network] = []

    def keep(e: tn.Epoch) -> None:
        nets.append(e.net)

    _, history = _fit(
        x, y, epochs=2, batch_size=64, validation=(xv, yv, wv), metric=tn.mae, callbacks=[keep]
    )
    for k, trained in enumerate(nets):
        error = yv - _by_hand(trained, xv)
        assert history.val_loss[k] == pytest.approx(
            np.sum(wv * error[0] ** 2) / np.sum(wv), rel=1e-12
        )
        assert history.val_metric[k] == pytest.approx(
            np.sum(wv * np.abs(error[0])) / np.sum(wv), rel=1e-12
        )


def test_the_evaluation_holds_one_blocks_activations_not_the_sets() -> None:
    """A 64-512-1 network on 40 000 columns: at once, its hidden layer alone took
    164 MB (512 x 40 000 float64); by blocks of 4096 columns, a few blocks' worth."""
    from typednet.train import _evaluate  # the per-epoch evaluation itself

    rng = np.random.default_rng(0)
    net = tn.network(tn.dense(rng, 64, 512, tn.relu)).then(tn.dense(rng, 512, 1, tn.identity))
    x, y = rng.normal(size=(64, 40_000)), rng.normal(size=(1, 40_000))
    hidden = 512 * 40_000 * 8
    block = 512 * 4096 * 8
    with_loss = _peak(_evaluate, net, x, y, tn.mse, None, None)
    with_loss_metric = _peak(_evaluate, net, x, y, tn.mse, tn.mae, None)  # a Loss: by blocks too
    with_function = _peak(_evaluate, net, x, y, tn.mse, tn.mad, None)  # given every prediction
    assert with_loss < 3 * block < hidden / 3
    assert with_loss_metric < 3 * block
    assert with_function < 3 * block + 4 * y.nbytes  # the predictions, mad's temporaries
