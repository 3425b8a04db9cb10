"""typednet.dask against the in-memory functions, on a LocalCluster of 2 worker processes.

Every test reaches only 127.0.0.1. The in-memory functions (`tn.forward`,
`tn.value_and_grad`, `tn.fit`) are the oracles: the distributed ones must give their
results, within the stated tolerances.
"""

# distributed's Client methods return a sync-or-async union (a coroutine under an
# asynchronous client) and dask infers from_array's chunks as str from its default:
# pyright's strict reading of these tests' synchronous calls is wrong, mypy checks them.
# pyright: reportArgumentType=false, reportAttributeAccessIssue=false
# pyright: reportIndexIssue=false, reportOptionalMemberAccess=false

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypedDict

import dask.array as da
import dask.config
import numpy as np
import pytest
from distributed import Client, LocalCluster

import typednet as tn
import typednet.dask as tnd


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    # LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
    # no dashboard); its HTTP server on a free loopback port, not 8787.
    with tnd.local_cluster(n_workers=2) as cluster, Client(cluster, set_as_default=False) as c:
        yield c


def _net(seed: int = 0, dtype: type = np.float64) -> tn.Network:
    rng = np.random.default_rng(seed)
    return tn.network(tn.dense(rng, 3, 16, tn.tanh, dtype=dtype)).then(
        tn.dense(rng, 16, 1, tn.identity, dtype=dtype)
    )


def _data(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(3, n))
    y = np.sin(x[:1]) + 0.5 * x[1:2] * x[2:3]
    return x, y


def _chunked(a: np.ndarray, columns: int) -> da.Array:
    chunked: da.Array = da.from_array(a, chunks=(a.shape[0], columns))
    return chunked


def _max_rel(a: tn.Network[Any, Any], b: tn.Network[Any, Any]) -> float:
    return max(
        float(np.max(np.abs(p - q)) / max(np.max(np.abs(q)), 1e-300))
        for p, q in zip(a.params, b.params, strict=True)
    )


# --- forward -----------------------------------------------------------------------------


def test_forward_is_lazy_keeps_the_chunks_and_equals_the_in_memory_forward(
    client: Client,
) -> None:
    net = _net()
    x, _ = _data(500)
    X = _chunked(x, 70)
    y_hat = tnd.forward(net, X)
    assert isinstance(y_hat, da.Array)
    assert y_hat.shape == (1, 500)
    assert y_hat.chunks == ((1,), X.chunks[1])
    got = client.compute(y_hat).result()
    # Chunk by chunk, the same kernel on the same columns: bit for bit.
    by_chunk = np.concatenate(
        [tn.forward(net, x[:, s : s + 70]) for s in range(0, 500, 70)], axis=1
    )
    assert np.array_equal(got, by_chunk)
    np.testing.assert_allclose(got, tn.forward(net, x), rtol=1e-13, atol=0)


def test_forward_graph_holds_the_network_once_not_once_per_chunk() -> None:
    net = _net()
    X = _chunked(_data(500)[0], 50)
    graph = dict(tnd.forward(net, X).__dask_graph__())
    # 10 input chunks, 10 output chunks and one key for the network.
    assert len(graph) == 10 + 10 + 1


@pytest.mark.parametrize(
    "x",
    [
        np.zeros((5, 3)),  # samples as rows
        np.zeros((3, 5), np.float32),  # the wrong dtype
        np.zeros(3),  # 1-D
    ],
)
def test_forward_checks_the_metadata_with_tn_forwards_messages(x: np.ndarray) -> None:
    net = _net()
    with pytest.raises(tn.ShapeError) as expected:
        tn.forward(net, x)
    X = da.from_array(x)
    with pytest.raises(tn.ShapeError, match=f"^{re.escape(str(expected.value))}$"):
        tnd.forward(net, X)


def test_forward_rejects_a_numpy_array_and_unknown_chunk_sizes() -> None:
    net = _net()
    x = _data(10)[0]
    with pytest.raises(TypeError, match=r"X must be a Dask array, got ndarray; wrap a NumPy"):
        tnd.forward(net, x)  # type: ignore[arg-type]  # the run-time check under test
    X = _chunked(x, 5)
    unknown = X[:, X[0] > 0]
    with pytest.raises(ValueError, match=r"X has unknown chunk sizes .*compute_chunk_sizes"):
        tnd.forward(net, unknown)


# --- value_and_grad ----------------------------------------------------------------------


@pytest.mark.parametrize("penalty", [None, tn.l2(0.01)])
def test_value_and_grad_equals_the_in_memory_one(
    client: Client, penalty: tn.Penalty | None
) -> None:
    net = _net()
    x, y = _data(333)
    value, grads = tnd.value_and_grad(
        net, _chunked(x, 40), _chunked(y, 25), tn.mse, penalty=penalty, client=client
    )
    ref_value, ref_grads = tn.value_and_grad(net, x, y, tn.mse, penalty=penalty)
    assert value == pytest.approx(ref_value, rel=1e-10)
    assert _max_rel(grads, ref_grads) < 1e-10
    assert all(not p.flags.writeable for p in grads.params)


def test_value_and_grad_checks_targets_as_tn_value_and_grad(client: Client) -> None:
    net = _net()
    x, y = _data(20)
    with pytest.raises(tn.ShapeError) as expected:
        tn.value_and_grad(net, x, y[:, :10], tn.mse)
    with pytest.raises(tn.ShapeError, match=f"^{re.escape(str(expected.value))}$"):
        tnd.value_and_grad(net, _chunked(x, 5), _chunked(y[:, :10], 5), tn.mse, client=client)


def _classifier(seed: int = 0) -> tn.Network:
    rng = np.random.default_rng(seed)
    return tn.network(tn.dense(rng, 3, 4, tn.tanh)).then(tn.dense(rng, 4, 1, tn.sigmoid))


def _with_dropout() -> tn.Network:
    rng = np.random.default_rng(0)
    return tn.Network(
        (tn.dense(rng, 3, 4, tn.relu), tn.dropout(0.5), tn.dense(rng, 4, 1, tn.identity))
    )


def test_value_and_grad_checks_the_values_as_tn_value_and_grad(client: Client) -> None:
    """It took NaN, labels outside [0, 1], outputs the loss cannot take, and trained
    through a dropout layer as if it were not there."""
    x, y = _data(20)
    y01 = (y > 0).astype(np.float64)
    x[2, 13] = np.nan

    def call(net: tn.Network, x: np.ndarray, y: np.ndarray, loss: tn.Loss) -> object:
        return tnd.value_and_grad(net, _chunked(x, 5), _chunked(y, 5), loss, client=client)

    with pytest.raises(
        ValueError,
        match=r"^value_and_grad \(columns 10:15\): x contains NaN or inf; training needs finite data$",
    ):
        call(_net(), x, y, tn.mse)
    x[2, 13] = 0.0
    with pytest.raises(
        ValueError,
        match=r"^value_and_grad \(columns 5:10\): binary_cross_entropy: y_true must be labels or "
        r"probabilities in \[0, 1\], but y_true\[0, 2\] is outside$",
    ):
        call(_classifier(), x, np.where(np.arange(20) == 7, 2.0, y01), tn.binary_cross_entropy)
    with pytest.raises(
        ValueError,
        match=r"^value_and_grad \(columns \d+:\d+\): binary_cross_entropy: y_pred must be "
        r"probabilities in \[0, 1\], but y_pred\[0, \d\] is outside; use a sigmoid",
    ):
        call(_net(), x * 100, y01, tn.binary_cross_entropy)  # an identity output: logits
    with pytest.raises(
        ValueError,
        match=r"^typednet\.dask\.value_and_grad: layer 2 \(dropout 0\.5\) draws random masks in "
        r"training, which typednet\.dask\.value_and_grad does not support; use "
        r"typednet\.dask\.fit or tn\.value_and_grad$",
    ):
        call(_with_dropout(), x, y, tn.mse)


# --- fit ---------------------------------------------------------------------------------


def test_exact_fit_equals_tn_fit(client: Client) -> None:
    x, y = _data(240)
    xv, yv = _data(40, seed=2)
    kwargs = {
        "loss": tn.mse,
        "optimizer": tn.adam(0.01),
        "epochs": 3,
        "batch_size": 32,
        "penalty": tn.l2(1e-3),
        "metric": tn.mae,
        "validation": (xv, yv),
        "progress": False,
    }
    ref, ref_history = tn.fit(_net(), x, y, rng=np.random.default_rng(7), **kwargs)  # type: ignore[call-overload]
    net, history = tnd.fit(
        _net(),
        _chunked(x, 50),
        _chunked(y, 50),
        rng=np.random.default_rng(7),
        client=client,
        **kwargs,  # type: ignore[arg-type]
    )
    assert _max_rel(net, ref) < 1e-9
    np.testing.assert_allclose(history.train_loss, ref_history.train_loss, rtol=1e-9)
    np.testing.assert_allclose(history.val_loss, ref_history.val_loss, rtol=1e-9)
    np.testing.assert_allclose(history.train_metric, ref_history.train_metric, rtol=1e-9)
    np.testing.assert_allclose(history.val_metric, ref_history.val_metric, rtol=1e-9)
    assert history.metric_name == ref_history.metric_name == "mae"


def test_exact_fit_stops_early_as_tn_fit_with_chunked_validation(client: Client) -> None:
    x, y = _data(120)
    xv, yv = _data(30, seed=2)
    kwargs = {
        "loss": tn.mse,
        "optimizer": tn.sgd(0.5),
        "epochs": 30,
        "batch_size": 40,
        "patience": 2,
        "progress": False,
    }
    ref, ref_history = tn.fit(
        _net(),
        x,
        y,
        rng=np.random.default_rng(3),
        validation=(xv, yv),
        **kwargs,  # type: ignore[call-overload]
    )
    net, history = tnd.fit(
        _net(),
        _chunked(x, 30),
        _chunked(y, 30),
        rng=np.random.default_rng(3),
        validation=(_chunked(xv, 10), _chunked(yv, 10)),
        client=client,
        **kwargs,  # type: ignore[arg-type]
    )
    assert ref_history.best_epoch is not None and ref_history.epochs < 30  # it did stop
    assert history.best_epoch == ref_history.best_epoch
    assert history.epochs == ref_history.epochs
    np.testing.assert_allclose(history.val_loss, ref_history.val_loss, rtol=1e-9)
    assert _max_rel(net, ref) < 1e-9


def test_local_sgd_on_one_shard_is_plain_fit(client: Client) -> None:
    """One chunk is one shard: k local steps and an average of one are tn.fit's steps."""
    x, y = _data(100)
    kwargs = {"loss": tn.mse, "optimizer": tn.adam(0.01), "epochs": 2, "batch_size": 16}
    ref, ref_history = tn.fit(_net(), x, y, rng=np.random.default_rng(5), progress=False, **kwargs)  # type: ignore[call-overload]
    net, history = tnd.fit(
        _net(), _chunked(x, 100), _chunked(y, 100), rng=np.random.default_rng(5),
        sync_every=3, client=client, progress=False, **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip
    assert _max_rel(net, ref) < 1e-12
    np.testing.assert_allclose(history.train_loss, ref_history.train_loss, rtol=1e-12)


def test_local_sgd_averages_what_each_shard_learned(client: Client) -> None:
    """Two shards, plain SGD, one round per epoch: re-derived with tn.train_step."""
    x, y = _data(64)
    opt = tn.sgd(0.1)
    net, history = tnd.fit(
        _net(), _chunked(x, 32), _chunked(y, 32), loss=tn.mse, optimizer=opt, epochs=2,
        batch_size=8, rng=np.random.default_rng(9), sync_every=4, client=client, progress=False,
    )  # fmt: skip
    rng = np.random.default_rng(9)
    ref = _net()
    total = []
    for _ in range(2):
        shards = [rng.permutation(np.arange(0, 32)), rng.permutation(np.arange(32, 64))]
        learned, epoch_total = [], 0.0
        for order in shards:
            local, state = ref, opt.init(ref)
            for j in range(4):
                cols = order[j * 8 : (j + 1) * 8]
                local, state, value = tn.train_step(
                    local, state, x[:, cols], y[:, cols], loss=tn.mse, optimizer=opt
                )
                epoch_total += value * 8
            learned.append(local)
        ref = tn.Network(
            tuple(
                tn.Dense(w=(a.w + b.w) / 2, b=(a.b + b.b) / 2, activation=a.activation)  # type: ignore[union-attr]
                for a, b in zip(learned[0].layers, learned[1].layers, strict=True)
            )
        )
        total.append(epoch_total / 64)
    assert _max_rel(net, ref) < 1e-12
    np.testing.assert_allclose(history.train_loss, total, rtol=1e-12)


# --- dropout -------------------------------------------------------------------------------


def _dropout_fit(
    client: Client, seed: int, sync_every: int | None = None
) -> tuple[tn.Network, tn.History]:
    x, y = _data(100)
    return tnd.fit(
        _with_dropout(), _chunked(x, 25), _chunked(y, 25), loss=tn.mse,
        optimizer=tn.adam(0.01), epochs=3, batch_size=16, rng=np.random.default_rng(seed),
        sync_every=sync_every, client=client, progress=False,
    )  # fmt: skip


@pytest.mark.parametrize("sync_every", [None, 2])
def test_a_dropout_fit_is_the_same_bits_for_a_seed_and_differs_between_seeds(
    client: Client, sync_every: int | None
) -> None:
    a, history_a = _dropout_fit(client, 4, sync_every)
    b, history_b = _dropout_fit(client, 4, sync_every)
    c, history_c = _dropout_fit(client, 5, sync_every)
    assert all(np.array_equal(p, q) for p, q in zip(a.params, b.params, strict=True))
    assert history_a.train_loss == history_b.train_loss
    assert not any(np.array_equal(p, q) for p, q in zip(a.params, c.params, strict=True))
    assert history_a.train_loss != history_c.train_loss


def test_a_dropout_fit_draws_the_same_masks_on_one_worker_as_on_two(client: Client) -> None:
    """Exact mode keys the masks by step and chunk, not by worker: one worker (every chunk
    in one task) gives two workers' result up to the order of the sums."""
    two, history_two = _dropout_fit(client, 4)
    with tnd.local_cluster(n_workers=1) as cluster, Client(cluster, set_as_default=False) as one:
        x, y = _data(100)
        net, history = tnd.fit(
            _with_dropout(), _chunked(x, 25), _chunked(y, 25), loss=tn.mse,
            optimizer=tn.adam(0.01), epochs=3, batch_size=16, rng=np.random.default_rng(4),
            client=one, progress=False,
        )  # fmt: skip
    assert _max_rel(net, two) < 1e-12
    np.testing.assert_allclose(history.train_loss, history_two.train_loss, rtol=1e-12)
    without, _ = tnd.fit(
        _with_dropout(), _chunked(x, 25), _chunked(y, 25), loss=tn.mse,
        optimizer=tn.adam(0.01), epochs=3, batch_size=16, rng=np.random.default_rng(4),
        client=client, progress=False, sync_every=100,
    )  # fmt: skip
    assert _max_rel(without, two) > 1e-3  # local SGD: other batches and masks


def _hand_steps() -> dict[tuple[int, ...], tuple[list[np.ndarray], float]]:
    """1 -> 3 (identity) -> dropout 0.5 -> 1 (identity), one column, mse, one SGD step
    of 0.1: for each of the 8 masks, the params after the step and the loss, by hand."""
    w1, b1 = np.array([[1.0], [2.0], [-1.0]]), np.array([[0.5], [0.0], [0.25]])
    w2, b2 = np.array([[1.0, -2.0, 3.0]]), np.array([[0.1]])
    x, y = 2.0, 1.0
    steps = {}
    for bits in np.ndindex(2, 2, 2):
        kept = np.array(bits, dtype=float).reshape(3, 1) * 2.0  # 1 / (1 - 0.5)
        h = w1 * x + b1
        d = kept * h
        y_hat = float((w2 @ d)[0, 0] + b2[0, 0])
        slope = 2.0 * (y_hat - y)  # d mse / d y_hat for one value
        g_w2, g_b2 = slope * d.T, np.array([[slope]])
        g_h = w2.T * slope * kept
        g_w1, g_b1 = g_h * x, g_h
        params = [w1 - 0.1 * g_w1, b1 - 0.1 * g_b1, w2 - 0.1 * g_w2, b2 - 0.1 * g_b2]
        steps[bits] = (params, (y_hat - y) ** 2)
    return steps


@pytest.mark.parametrize("sync_every", [None, 1])
def test_a_dropout_step_is_a_hand_computed_step_with_some_mask_that_drops(
    client: Client, sync_every: int | None
) -> None:
    net = tn.Network(
        (
            tn.Dense(w=np.array([[1.0], [2.0], [-1.0]]), b=np.array([[0.5], [0.0], [0.25]]),
                     activation=tn.identity),
            tn.dropout(0.5),
            tn.Dense(w=np.array([[1.0, -2.0, 3.0]]), b=np.array([[0.1]]), activation=tn.identity),
        )
    )  # fmt: skip
    steps = _hand_steps()
    seen = set()
    for seed in range(8):
        trained, history = tnd.fit(
            net, _chunked(np.array([[2.0]]), 1), _chunked(np.array([[1.0]]), 1), loss=tn.mse,
            optimizer=tn.sgd(0.1), epochs=1, batch_size=1, rng=np.random.default_rng(seed),
            sync_every=sync_every, client=client, progress=False,
        )  # fmt: skip
        matches = [
            bits
            for bits, (params, value) in steps.items()
            if all(
                np.allclose(p, q, rtol=1e-14, atol=0)
                for p, q in zip(trained.params, params, strict=True)
            )
            and history.train_loss[0] == pytest.approx(value, rel=1e-14)
        ]
        assert len(matches) == 1
        seen.add(matches[0])
    assert len(seen) >= 3  # the masks change with the seed
    assert any(0 in bits for bits in seen)  # and they drop


# --- streamed (out-of-core) fit --------------------------------------------------------------


def test_a_streamed_fit_takes_train_steps_chunk_by_chunk(client: Client) -> None:
    """Re-derived with tn.train_step: each epoch draws the chunks' order, then each
    chunk's column order when its turn comes; batches stay inside a chunk."""
    x, y = _data(130)
    xv, yv = _data(45, seed=2)
    opt = tn.adam(0.01)
    net, history = tnd.fit(
        _net(), _chunked(x, 40), _chunked(y, 40), loss=tn.mse, optimizer=opt, epochs=2,
        batch_size=16, rng=np.random.default_rng(3), metric=tn.mae,
        validation=(_chunked(xv, 20), _chunked(yv, 20)), client=client, progress=False,
        stream=True,
    )  # fmt: skip
    rng = np.random.default_rng(3)
    ref, state = _net(), opt.init(_net())
    starts = [0, 40, 80, 120, 130]
    losses = []
    for _ in range(2):
        total = 0.0
        for chunk in rng.permutation(4):
            order = starts[chunk] + rng.permutation(starts[chunk + 1] - starts[chunk])
            for first in range(0, order.size, 16):
                cols = order[first : first + 16]
                ref, state, value = tn.train_step(
                    ref, state, x[:, cols], y[:, cols], loss=tn.mse, optimizer=opt
                )
                total += value * cols.size
        losses.append(total / 130)
    assert _max_rel(net, ref) < 1e-12
    np.testing.assert_allclose(history.train_loss, losses, rtol=1e-12)
    # The last epoch's evaluations, by chunks on the workers, against NumPy at once.
    assert history.train_metric[-1] == pytest.approx(
        np.mean(np.abs(y - tn.forward(ref, x))), rel=1e-12
    )
    assert history.val_loss[-1] == pytest.approx(
        np.mean((yv - tn.forward(ref, xv)) ** 2), rel=1e-12
    )


def test_a_streamed_fit_with_dropout_is_the_same_bits_for_a_seed(client: Client) -> None:
    x, y = _data(100)

    def run(seed: int) -> tn.Network:
        net, _ = tnd.fit(
            _with_dropout(), _chunked(x, 25), _chunked(y, 25), loss=tn.mse,
            optimizer=tn.adam(0.01), epochs=2, batch_size=10, rng=np.random.default_rng(seed),
            client=client, progress=False, stream=True,
        )  # fmt: skip
        return net

    a, b, c = run(1), run(1), run(2)
    assert all(np.array_equal(p, q) for p, q in zip(a.params, b.params, strict=True))
    assert not any(np.array_equal(p, q) for p, q in zip(a.params, c.params, strict=True))


def test_a_streamed_fit_checks_each_chunk_and_its_settings(client: Client) -> None:
    x, y = _data(20)
    x[0, 17] = np.nan

    def fit(**kwargs: object) -> object:
        return tnd.fit(
            _net(), _chunked(x, 5), _chunked(y, 5), loss=tn.mse, optimizer=tn.sgd(0.1),
            epochs=1, batch_size=4, rng=np.random.default_rng(0), client=client,
            progress=False, **kwargs,  # type: ignore[arg-type]
        )  # fmt: skip

    with pytest.raises(
        ValueError, match=r"^fit \(columns 15:20\): x contains NaN or inf; training needs finite"
    ):
        fit(stream=True)
    with pytest.raises(
        ValueError, match=r"^fit: stream=True takes exact steps only; leave sync_every=None$"
    ):
        fit(stream=True, sync_every=2)
    with pytest.raises(TypeError, match=r"^fit: stream must be True or False, got str$"):
        fit(stream="yes")


def test_a_streamed_fit_trains_and_predicts_on_data_larger_than_a_workers_memory() -> None:
    """One worker of 200 MiB with spilling off (over 95 % of it the nanny kills it), a
    lazily generated training set of 326 MB: fit and predict run to the end, and the
    worker's peak resident memory stays under its limit."""
    limit = 200 * 2**20
    off = {"distributed.worker.memory.target": False, "distributed.worker.memory.spill": False}
    features, n = 50, 800_000
    X = da.random.RandomState(0).uniform(-1, 1, size=(features, n), chunks=(features, 20_000))
    w = np.linspace(-1.0, 1.0, features).reshape(1, features)
    Y = da.dot(w, X) + 0.5
    assert X.nbytes + Y.nbytes > 1.5 * limit
    net = tn.network(
        tn.Dense(w=np.zeros((1, features)), b=np.zeros((1, 1)), activation=tn.identity)
    )
    with (
        dask.config.set(off),
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None, memory_limit=limit,
        ) as cluster,
        Client(cluster, set_as_default=False) as small,
    ):  # fmt: skip
        trained, history = tnd.fit(
            net, X, Y, loss=tn.mse, optimizer=tn.sgd(0.5), epochs=1, batch_size=20_000,
            rng=np.random.default_rng(0), client=small, progress=False, stream=True,
        )  # fmt: skip
        y_hat = tnd.forward(trained, X)
        error = float(small.compute(da.mean((y_hat - Y) ** 2)).result())
        # The worker's peak resident memory, from the kernel: VmHWM, its own memory's
        # high-water mark (getrusage's ru_maxrss would include the RSS of the process
        # that spawned it, carried over the exec).
        (status,) = small.run(Path("/proc/self/status").read_text).values()
    # It learned (the zero network's loss is mean(Y**2), about 6) and predicted every
    # column (a mean over all of them).
    assert error < history.train_loss[0] / 4 < 1.0
    (peak,) = (int(line.split()[1]) * 1024 for line in status.splitlines() if "VmHWM" in line)
    assert peak < limit


@pytest.mark.parametrize("stream", [False, True])
def test_a_dropout_fit_resumed_from_its_checkpoint_is_the_same_bits(
    client: Client, tmp_path: Path, stream: bool
) -> None:
    """Each epoch's masks are keyed by a number drawn from rng, whose state the
    checkpoint keeps: 2 epochs, then 2 more from the checkpoint, are 4 epochs."""
    x, y = _data(100)

    def run(epochs: int, seed: int = 6, **kwargs: object) -> tuple[tn.Network, tn.History]:
        return tnd.fit(
            _with_dropout(), _chunked(x, 25), _chunked(y, 25), loss=tn.mse,
            optimizer=tn.adam(0.01), epochs=epochs, batch_size=10,
            rng=np.random.default_rng(seed), client=client, progress=False, stream=stream,
            **kwargs,  # type: ignore[arg-type]
        )  # fmt: skip

    want, want_history = run(4)
    run(2, checkpoint=tmp_path / "run")
    # Another seed: the rng's state comes from the checkpoint.
    net, history = run(4, 99, checkpoint=tmp_path / "run", resume=tmp_path / "run")
    assert all(p.tobytes() == q.tobytes() for p, q in zip(net.params, want.params, strict=True))
    assert history.train_loss == want_history.train_loss


def test_a_diverging_fit_stops_naming_the_same_epoch_and_step_as_tn_fit(
    client: Client,
) -> None:
    x, y = _data(64)
    kwargs = {
        "loss": tn.mse,
        "optimizer": tn.sgd(1e10),
        "epochs": 50,
        "batch_size": 16,
        "progress": False,
    }
    with np.errstate(all="ignore"):
        with pytest.raises(ValueError, match=r"^fit: epoch 1, step \d+ of 4 ") as expected:
            tn.fit(_net(), x, y * 1e150, rng=np.random.default_rng(0), **kwargs)  # type: ignore[call-overload]
        message = re.escape(str(expected.value))
        with pytest.raises(ValueError, match=f"^{message}$"):
            tnd.fit(
                _net(), _chunked(x, 16), _chunked(y * 1e150, 16),
                rng=np.random.default_rng(0), client=client, **kwargs,  # type: ignore[arg-type]
            )  # fmt: skip


def test_fit_checks_the_data_as_tn_fit_and_rejects_bad_settings(client: Client) -> None:
    x, y = _data(20)
    y01 = (y > 0).astype(np.float64)

    def fit(net: tn.Network, x: np.ndarray, y: np.ndarray, loss: tn.Loss = tn.mse) -> object:
        return tnd.fit(
            net, _chunked(x, 5), _chunked(y, 5), loss=loss, optimizer=tn.sgd(0.1), epochs=1,
            batch_size=4, rng=np.random.default_rng(0), client=client, progress=False,
        )  # fmt: skip

    x[1, 13] = np.inf
    with pytest.raises(
        ValueError, match=r"^fit \(columns 10:15\): x contains NaN or inf; training needs finite"
    ):
        fit(_net(), x, y)
    x[1, 13] = 0.0
    with pytest.raises(
        ValueError,
        match=r"^fit \(columns 15:20\): binary_cross_entropy: y_true must be labels or "
        r"probabilities in \[0, 1\], but y_true\[0, 4\] is outside$",
    ):
        fit(_classifier(), x, np.where(np.arange(20) == 19, -1.0, y01), tn.binary_cross_entropy)
    with pytest.raises(ValueError, match=r"^fit: binary_cross_entropy: y_pred must be") as expected:
        tn.fit(_net(), x * 100, y01, loss=tn.binary_cross_entropy, optimizer=tn.sgd(0.1),
               epochs=1, batch_size=4, rng=np.random.default_rng(0), progress=False)  # fmt: skip
    with pytest.raises(ValueError, match=f"^{re.escape(str(expected.value))}$"):
        fit(_net(), x * 100, y01, tn.binary_cross_entropy)  # its message, word for word
    with pytest.raises(ValueError, match=r"^fit: sync_every must be a positive int, got 0$"):
        tnd.fit(
            _net(), _chunked(x, 5), _chunked(y, 5), loss=tn.mse, optimizer=tn.sgd(0.1),
            epochs=1, batch_size=4, rng=np.random.default_rng(0), sync_every=0, client=client,
        )  # fmt: skip


# --- clients and faults ------------------------------------------------------------------


def test_an_unreachable_scheduler_is_a_connection_error_naming_it() -> None:
    with socket.socket() as s:  # a loopback port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    start = time.monotonic()
    with pytest.raises(
        ConnectionError,
        match=f"^typednet.dask: no Dask scheduler answered at {re.escape(address)} within 0.5 s",
    ):
        tnd.connect(address, timeout=0.5)
    assert time.monotonic() - start < 10


def test_a_scheduler_address_goes_through_connect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tnd, "CONNECT_TIMEOUT", 0.5)
    x, y = _data(8)
    with pytest.raises(ConnectionError, match=r"at tcp://127\.0\.0\.1:1 within 0\.5 s"):
        tnd.value_and_grad(
            _net(), _chunked(x, 4), _chunked(y, 4), tn.mse, client="tcp://127.0.0.1:1"
        )


@pytest.mark.parametrize("make", [_net, _with_dropout], ids=["plain", "dropout"])
def test_a_worker_killed_during_fit_changes_nothing(
    client: Client, make: Callable[[], tn.Network]
) -> None:
    x, y = _data(600)
    X, Y = _chunked(x, 50), _chunked(y, 50)
    kwargs = {
        "loss": tn.mse,
        "optimizer": tn.adam(0.01),
        "epochs": 3,
        "batch_size": 20,
        "progress": False,
    }
    ref, _ = tnd.fit(make(), X, Y, rng=np.random.default_rng(4), client=client, **kwargs)  # type: ignore[arg-type]
    pids = client.run(os.getpid)
    victim = sorted(pids)[0]
    killed = threading.Event()

    def kill_once_steps_run() -> None:
        # 90 steps of at least a task's round trip (~10 ms on idle cores): still running.
        time.sleep(0.3)
        os.kill(pids[victim], signal.SIGKILL)
        killed.set()

    killer = threading.Thread(target=kill_once_steps_run)
    killer.start()
    net, _ = tnd.fit(make(), X, Y, rng=np.random.default_rng(4), client=client, **kwargs)  # type: ignore[arg-type]
    done_during_fit = killed.is_set()
    killer.join()
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the worker
    assert done_during_fit  # the kill landed before fit returned
    assert pids[victim] not in client.run(os.getpid).values()
    assert _max_rel(net, ref) == 0.0


def test_without_a_client_a_call_starts_a_loopback_cluster_and_closes_it(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[LocalCluster] = []
    make = tnd.local_cluster

    def recorded() -> LocalCluster:
        cluster = make(n_workers=1)
        started.append(cluster)
        return cluster

    monkeypatch.setattr(tnd, "local_cluster", recorded)
    net = _net()
    x, y = _data(30)
    X, Y = _chunked(x, 10), _chunked(y, 10)
    value, _ = tnd.value_and_grad(net, X, Y, tn.mse)
    assert value == pytest.approx(tn.mse(y, tn.forward(net, x)), rel=1e-12)
    (cluster,) = started
    assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
    assert all(w.startswith("tcp://127.0.0.1:") for w in cluster.scheduler_info["workers"])
    assert cluster.status.name == "closed"
    # With a default client (set by `Client(...)`), that client is used: no new cluster.
    with Client(client.scheduler_info()["address"]):
        tnd.value_and_grad(net, X, Y, tn.mse)
    assert len(started) == 1


def test_large_params_are_sent_once_per_step_with_the_same_result(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    x, y = _data(90)
    kwargs = {"loss": tn.mse, "optimizer": tn.adam(0.01), "epochs": 1, "batch_size": 30}
    inline, _ = tnd.fit(
        _net(), _chunked(x, 30), _chunked(y, 30), rng=np.random.default_rng(2),
        client=client, progress=False, **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip
    monkeypatch.setattr(tnd, "_INLINE_BYTES", 0)
    for sync_every in (None, 2):
        sent, _ = tnd.fit(
            _net(), _chunked(x, 30), _chunked(y, 30), rng=np.random.default_rng(2),
            client=client, progress=False, sync_every=sync_every, **kwargs,  # type: ignore[arg-type]
        )  # fmt: skip
        if sync_every is None:
            assert _max_rel(sent, inline) == 0.0


def test_importing_typednet_does_not_import_dask() -> None:
    import subprocess
    import sys

    code = "import sys, typednet; print('dask' in sys.modules, 'distributed' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_the_in_memory_functions_point_a_dask_array_to_typednet_dask() -> None:
    x = da.ones((3, 8), chunks=(3, 4))
    with pytest.raises(
        tn.ShapeError,
        match=r"^forward input x: expected \(features, batch\) = \(3, batch\), got a Array, "
        r"not a NumPy array; for a Dask array use typednet\.dask \(forward, value_and_grad, fit\)$",
    ):
        tn.forward(_net(), x)


def test_typednet_itself_imports_without_dask_and_typednet_dask_says_what_to_install() -> None:
    code = (
        "import sys; sys.modules['dask'] = None  # as if not installed\n"
        "import typednet as tn; print(tn.forward.__name__)\n"
        "import typednet.dask\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.stdout == "forward\n"
    assert "ImportError: typednet.dask needs dask and distributed 2026.1.1 or newer" in done.stderr
    assert "pip install 'typednet[dask]'" in done.stderr


def test_a_network_of_residual_blocks_runs_and_fits_as_in_memory(client: Client) -> None:
    rng = np.random.default_rng(0)
    block = tn.network(tn.dense(rng, 3, 6, tn.tanh)).then(tn.dense(rng, 6, 3, tn.identity))
    net = tn.Network([tn.residual(block), tn.dense(rng, 3, 1, tn.identity)])
    x, y = _data(120)
    got = client.compute(tnd.forward(net, _chunked(x, 50))).result()
    np.testing.assert_allclose(got, tn.forward(net, x), rtol=1e-13)
    kwargs: dict[str, Any] = {"loss": tn.mse, "optimizer": tn.adam(0.01), "epochs": 2,
                              "batch_size": 32, "progress": False}  # fmt: skip
    ref, _ = tn.fit(net, x, y, rng=np.random.default_rng(7), **kwargs)
    fitted, _ = tnd.fit(
        net, _chunked(x, 50), _chunked(y, 50), rng=np.random.default_rng(7), client=client, **kwargs
    )
    assert _max_rel(fitted, ref) < 1e-9


# --- named inputs (tn.inputs) -----------------------------------------------------------


class _Sample(TypedDict):
    numeric: tn.Inputs
    colour: tn.Ids


def _named_net(seed: int = 0) -> tn.Network[_Sample, int]:
    rng = np.random.default_rng(seed)
    first = tn.inputs(
        _Sample,
        None,
        numeric=tn.network(tn.dense(rng, 3, 4, tn.tanh)),
        colour=tn.network(tn.embedding(rng, 5, 2)),
    )
    return tn.network(first).then(tn.dense(rng, 6, 1, tn.identity))


def _named_data(n: int, seed: int = 1) -> tuple[_Sample, np.ndarray]:
    rng = np.random.default_rng(seed)
    numeric = rng.normal(size=(3, n))
    colour = rng.integers(0, 5, size=(1, n))
    y = np.sin(numeric[:1]) + np.array([[0.5, -1.0, 0.0, 1.0, 2.0]])[:, colour[0]]
    return _Sample(numeric=numeric, colour=colour), y


def _named_chunked(x: _Sample, columns: int) -> dict[str, da.Array]:
    return {"numeric": _chunked(x["numeric"], columns), "colour": _chunked(x["colour"], columns)}


def test_a_network_over_named_inputs_runs_forward_on_a_mapping_of_dask_arrays(
    client: Client,
) -> None:
    net = _named_net()
    x, _ = _named_data(230)
    X = _named_chunked(x, 70)
    y_hat = tnd.forward(net, X)
    assert y_hat.shape == (1, 230) and y_hat.chunks == ((1,), (70, 70, 70, 20))
    got = client.compute(y_hat).result()
    by_chunk = np.concatenate(
        [
            tn.forward(net, _Sample(numeric=x["numeric"][:, s : s + 70], colour=x["colour"][:, s : s + 70]))
            for s in range(0, 230, 70)
        ],
        axis=1,
    )  # fmt: skip
    assert np.array_equal(got, by_chunk)  # the same kernel on the same columns
    np.testing.assert_allclose(got, tn.forward(net, x), rtol=1e-13, atol=0)
    # 2 x 4 input chunks, the 4 output chunks and one key for the network.
    assert len(dict(y_hat.__dask_graph__())) == 2 * 4 + 4 + 1


def test_named_dask_inputs_are_checked_by_name_and_must_be_chunked_alike() -> None:
    net = _named_net()
    x, _ = _named_data(100)
    # The names, shapes and dtypes from the metadata, with tn.forward's messages.
    wrong = {"numeric": x["numeric"], "color": x["colour"]}
    with pytest.raises(tn.ShapeError) as expected:
        tn.forward(net, wrong)  # type: ignore[misc]  # the run-time check under test
    with pytest.raises(tn.ShapeError, match=f"^{re.escape(str(expected.value))}$"):
        tnd.forward(net, {name: _chunked(a, 50) for name, a in wrong.items()})
    with pytest.raises(tn.ShapeError, match=r"expected a mapping of the named inputs 'numeric'"):
        tnd.forward(net, _chunked(x["numeric"], 50))
    with pytest.raises(TypeError, match=r"X\['colour'\] must be a Dask array, got ndarray"):
        tnd.forward(net, {"numeric": _chunked(x["numeric"], 50), "colour": x["colour"]})  # type: ignore[dict-item]
    skewed = {"numeric": _chunked(x["numeric"], 50), "colour": _chunked(x["colour"], 30)}
    with pytest.raises(
        tn.ShapeError,
        match=re.escape(
            "typednet.dask.forward input X['colour']: column chunks (30, 30, 30, 10) differ "
            "from X['numeric']'s (50, 50); every input must be chunked alike along the "
            "columns: pass X['colour'].rechunk({1: X['numeric'].chunks[1]})"
        ),
    ):
        tnd.forward(net, skewed)
    many = {"numeric": _chunked(x["numeric"], 10), "colour": _chunked(x["colour"], 50)}
    with pytest.raises(
        tn.ShapeError,
        match=re.escape("(50, 50) differ from X['numeric']'s (10, 10, 10, ... 10; 10 chunks)"),
    ):
        tnd.value_and_grad(net, many, _chunked(np.zeros((1, 100)), 10), tn.mse)


def test_value_and_grad_over_named_inputs_equals_the_in_memory_one(client: Client) -> None:
    net = _named_net()
    x, y = _named_data(333)
    value, grads = tnd.value_and_grad(
        net, _named_chunked(x, 40), _chunked(y, 25), tn.mse, penalty=tn.l2(0.01), client=client
    )
    ref_value, ref_grads = tn.value_and_grad(net, x, y, tn.mse, penalty=tn.l2(0.01))
    assert value == pytest.approx(ref_value, rel=1e-12)
    assert _max_rel(grads, ref_grads) < 1e-12


def test_an_exact_fit_over_named_inputs_equals_tn_fit(client: Client) -> None:
    x, y = _named_data(240)
    xv, yv = _named_data(40, seed=2)
    kwargs: dict[str, Any] = {"loss": tn.mse, "optimizer": tn.adam(0.01), "epochs": 3,
                              "batch_size": 32, "penalty": tn.l2(1e-3), "metric": tn.mae,
                              "progress": False}  # fmt: skip
    ref, ref_history = tn.fit(
        _named_net(), x, y, rng=np.random.default_rng(7), validation=(xv, yv), **kwargs
    )
    # In-memory named validation data, evaluated on the client as tn.fit does.
    net, history = tnd.fit(
        _named_net(), _named_chunked(x, 50), _chunked(y, 50), rng=np.random.default_rng(7),
        client=client, validation=(xv, yv), **kwargs,
    )  # fmt: skip
    assert _max_rel(net, ref) < 1e-9
    np.testing.assert_allclose(history.train_loss, ref_history.train_loss, rtol=1e-9)
    np.testing.assert_allclose(history.val_loss, ref_history.val_loss, rtol=1e-9)
    np.testing.assert_allclose(history.train_metric, ref_history.train_metric, rtol=1e-9)
    # Dask validation data, evaluated by chunks on the workers.
    chunked, chunked_history = tnd.fit(
        _named_net(), _named_chunked(x, 50), _chunked(y, 50), rng=np.random.default_rng(7),
        client=client, validation=(_named_chunked(xv, 15), _chunked(yv, 15)), **kwargs,
    )  # fmt: skip
    assert _max_rel(chunked, ref) < 1e-9
    np.testing.assert_allclose(chunked_history.val_loss, ref_history.val_loss, rtol=1e-9)
    np.testing.assert_allclose(chunked_history.val_metric, ref_history.val_metric, rtol=1e-9)


def test_a_local_sgd_fit_over_named_inputs_on_one_shard_is_plain_fit(client: Client) -> None:
    x, y = _named_data(100)
    kwargs: dict[str, Any] = {"loss": tn.mse, "optimizer": tn.adam(0.01), "epochs": 2,
                              "batch_size": 16, "progress": False}  # fmt: skip
    ref, ref_history = tn.fit(_named_net(), x, y, rng=np.random.default_rng(5), **kwargs)
    net, history = tnd.fit(
        _named_net(), _named_chunked(x, 100), _chunked(y, 100), rng=np.random.default_rng(5),
        sync_every=3, client=client, **kwargs,
    )  # fmt: skip
    assert _max_rel(net, ref) < 1e-12
    np.testing.assert_allclose(history.train_loss, ref_history.train_loss, rtol=1e-12)


def test_a_streamed_fit_over_named_inputs_takes_train_steps_chunk_by_chunk(
    client: Client,
) -> None:
    """Re-derived with tn.train_step on the in-memory mapping, as for one array."""
    x, y = _named_data(130)
    xv, yv = _named_data(45, seed=2)
    opt = tn.adam(0.01)
    net, history = tnd.fit(
        _named_net(), _named_chunked(x, 40), _chunked(y, 40), loss=tn.mse, optimizer=opt,
        epochs=2, batch_size=16, rng=np.random.default_rng(3), metric=tn.mae,
        validation=(_named_chunked(xv, 20), _chunked(yv, 20)), client=client,
        progress=False, stream=True,
    )  # fmt: skip
    rng = np.random.default_rng(3)
    ref, state = _named_net(), opt.init(_named_net())
    starts = [0, 40, 80, 120, 130]
    losses = []
    for _ in range(2):
        total = 0.0
        for chunk in rng.permutation(4):
            order = starts[chunk] + rng.permutation(starts[chunk + 1] - starts[chunk])
            for first in range(0, order.size, 16):
                cols = order[first : first + 16]
                batch = _Sample(numeric=x["numeric"][:, cols], colour=x["colour"][:, cols])
                ref, state, value = tn.train_step(
                    ref, state, batch, y[:, cols], loss=tn.mse, optimizer=opt
                )
                total += value * cols.size
        losses.append(total / 130)
    assert _max_rel(net, ref) < 1e-12
    np.testing.assert_allclose(history.train_loss, losses, rtol=1e-12)
    assert history.train_metric[-1] == pytest.approx(
        np.mean(np.abs(y - tn.forward(ref, x))), rel=1e-12
    )
    assert history.val_loss[-1] == pytest.approx(
        np.mean((yv - tn.forward(ref, xv)) ** 2), rel=1e-12
    )


def test_a_dropout_fit_over_named_inputs_is_the_same_bits_for_a_seed(client: Client) -> None:
    def run(seed: int) -> tuple[tn.Network[_Sample, int], tn.History]:
        rng = np.random.default_rng(0)
        first = tn.inputs(
            _Sample,
            None,
            numeric=tn.network(tn.dense(rng, 3, 4, tn.tanh)).then(tn.dropout(0.5)),
            colour=tn.network(tn.embedding(rng, 5, 2)),
        )
        net = tn.network(first).then(tn.dense(rng, 6, 1, tn.identity))
        x, y = _named_data(120)
        return tnd.fit(
            net, _named_chunked(x, 50), _chunked(y, 50), loss=tn.mse, optimizer=tn.adam(0.01),
            epochs=2, batch_size=32, rng=np.random.default_rng(seed), client=client,
            progress=False,
        )  # fmt: skip

    a, history_a = run(4)
    b, history_b = run(4)
    c, history_c = run(5)
    assert not all(np.array_equal(p, q) for p, q in zip(a.params, c.params, strict=True))
    assert all(np.array_equal(p, q) for p, q in zip(a.params, b.params, strict=True))
    assert history_a.train_loss == history_b.train_loss
    assert history_a.train_loss != history_c.train_loss
