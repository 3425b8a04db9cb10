"""fit(..., compiled=True): the numba loop against the NumPy path, its reference.

The NumPy path is the reference (issue 23): float64 runs must agree with it to 1e-12
relative, over random chains, losses and optimizers (hypothesis), and the same seed must
give the same bits. Everything the compiled loop does not train is refused by name, and
its failures read as the NumPy path's, word for word.
"""

import concurrent.futures
import ctypes
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict, cast

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import typednet as tn
from typednet import _columns, _compiled, train

Arr = tn.Matrix

HIDDEN = [tn.identity, tn.relu, tn.leaky_relu(0.1), tn.leaky_relu(-0.5), tn.sigmoid, tn.tanh]
# (loss, output activation, targets of n columns from an rng)
OUTPUTS: list[tuple[tn.Loss, tn.Activation, Callable[[np.random.Generator, int, int], Arr]]] = [
    (tn.mse, tn.identity, lambda r, k, n: r.normal(size=(k, n))),
    (tn.mse, tn.sigmoid, lambda r, k, n: r.random((k, n))),
    (tn.mse, tn.leaky_relu(0.1), lambda r, k, n: r.normal(size=(k, n))),
    (tn.cross_entropy, tn.softmax, lambda r, k, n: np.eye(k)[r.integers(0, k, n)].T.copy()),
    (tn.softmax_cross_entropy, tn.identity, lambda r, k, n: np.eye(k)[r.integers(0, k, n)].T.copy()),
    (tn.binary_cross_entropy, tn.sigmoid, lambda r, k, n: r.integers(0, 2, (k, n)).astype(float)),
]  # fmt: skip
OPTIMIZERS: list[Callable[[], tn.Optimizer]] = [
    lambda: tn.sgd(0.05),
    lambda: tn.adam(1e-2),
    lambda: tn.adamw(1e-2, weight_decay=0.1),
    lambda: tn.adam(tn.schedules.exponential_decay(1e-2, 0.9, 3)),
]


class Fit(TypedDict, total=False):
    """fit's settings in these tests (the rest is passed by name)."""

    loss: tn.Loss
    optimizer: tn.Optimizer
    epochs: int
    batch_size: int
    penalty: tn.Penalty
    sample_weight: Arr


class Run(TypedDict):
    """The same, for runs of several lengths."""

    loss: tn.Loss
    optimizer: tn.Optimizer
    batch_size: int


def _chain(
    rng: np.random.Generator, sizes: list[int], acts: list[tn.Activation], dtype: Any
) -> tn.Network[int, int]:
    pairs = zip(sizes[:-1], sizes[1:], acts, strict=True)
    return tn.Network(tuple(tn.dense(rng, p, n, a, dtype=dtype) for p, n, a in pairs))


def _both(net: tn.Network[int, int], x: Arr, y: Arr, kw: Fit) -> tuple[Any, Any]:
    """The same fit by the NumPy path and by the compiled loop."""
    runs = [
        tn.fit(net, x, y, rng=np.random.default_rng(1), progress=False, compiled=c, **kw)
        for c in (False, True)
    ]
    return runs[0], runs[1]


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 9), min_size=2, max_size=4),
    hidden=st.lists(st.sampled_from(range(len(HIDDEN))), min_size=3, max_size=3),
    output=st.sampled_from(range(len(OUTPUTS))),
    optimizer=st.sampled_from(range(len(OPTIMIZERS))),
    n=st.integers(1, 40),
    batch=st.integers(1, 45),
    epochs=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_float64_agrees_with_the_numpy_path_to_1e_12(
    sizes: list[int], hidden: list[int], output: int, optimizer: int, n: int, batch: int,
    epochs: int, seed: int,
) -> None:  # fmt: skip
    loss, out, targets = OUTPUTS[output]
    if loss is not tn.mse:
        sizes[-1] = max(sizes[-1], 2)  # a distribution of at least two classes
    rng = np.random.default_rng(seed)
    acts = [HIDDEN[h] for h in hidden[: len(sizes) - 2]] + [out]
    net = _chain(rng, sizes, acts, np.float64)
    x = rng.normal(size=(sizes[0], n))
    y = targets(rng, sizes[-1], n)
    kw = Fit(loss=loss, optimizer=OPTIMIZERS[optimizer](), epochs=epochs, batch_size=batch)
    (want, history_want), (got, history_got) = _both(net, x, y, kw)
    assert history_got.state is not None and history_want.state is not None
    assert history_got.state.count == history_want.state.count == epochs * -(-n // batch)
    for g, w in zip(got.params, want.params, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)
    for g, w in zip(history_got.state.columns, history_want.state.columns, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(history_got.train_loss, history_want.train_loss, rtol=1e-12)


@pytest.mark.parametrize("output", range(len(OUTPUTS)))
def test_float32_trains_in_float32_close_to_the_numpy_path(output: int) -> None:
    loss, out, targets = OUTPUTS[output]
    rng = np.random.default_rng(4)
    net = _chain(rng, [6, 8, 7, 3], [tn.relu, tn.tanh, out], np.float32)
    x = rng.normal(size=(6, 50)).astype(np.float32)
    y = targets(rng, 3, 50).astype(np.float32)
    kw = Fit(loss=loss, optimizer=tn.adam(1e-2), epochs=2, batch_size=8)
    (want, history_want), (got, history_got) = _both(net, x, y, kw)
    assert all(p.dtype == np.float32 for p in got.params)
    for g, w in zip(got.params, want.params, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(history_got.train_loss, history_want.train_loss, rtol=1e-5)


def _course() -> tuple[tn.Network[int, int], Arr, Arr]:
    rng = np.random.default_rng(0)
    net = _chain(rng, [5, 3, 5, 4], [tn.leaky_relu(0.1), tn.sigmoid, tn.sigmoid], np.float64)
    return net, rng.normal(size=(5, 30)), rng.random((4, 30))


@pytest.mark.parametrize("layout", ["F", "memmap", "view", "read-only"])
def test_any_layout_of_x_gives_the_bits_of_a_c_ordered_one(layout: str, tmp_path: Path) -> None:
    """The loop reads each batch's columns by index: the set is never copied, and its
    layout does not change a bit (y's neither: a strided view, or read-only)."""
    net, x, y = _course()
    other_y = y
    if layout == "F":
        other: Arr = np.asfortranarray(x)
    elif layout == "memmap":
        np.save(tmp_path / "x.npy", x)
        other = np.load(tmp_path / "x.npy", mmap_mode="r")  # read-only, as np.load maps it
    elif layout == "view":
        wide = np.zeros((5, 60))
        wide[:, ::2] = x
        other = wide[:, ::2]
        tall = np.zeros((8, 30))
        tall[::2] = y
        other_y = tall[::2]
    else:
        other, other_y = x.copy(), y.copy()
        other.setflags(write=False)
        other_y.setflags(write=False)
    kw = Fit(loss=tn.mse, optimizer=tn.adam(1e-2), epochs=2, batch_size=7)
    a = tn.fit(net, x, y, rng=np.random.default_rng(0), progress=False, compiled=True, **kw)[0]
    b = tn.fit(
        net, other, other_y, rng=np.random.default_rng(0), progress=False, compiled=True, **kw
    )[0]
    assert all(p.tobytes() == q.tobytes() for p, q in zip(a.params, b.params, strict=True))


def test_a_large_c_ordered_set_is_gathered_by_chunks_to_the_same_bits() -> None:
    """From a C-ordered set above 2 MiB the loop is given chunks of eight batches, each
    gathered in one pass (as the NumPy path's batches): the same bits as reading the
    same set in place (Fortran-ordered), and within 1e-12 of the NumPy path."""
    rng = np.random.default_rng(6)
    net = _chain(rng, [64, 16, 3], [tn.tanh, tn.identity], np.float64)
    x = rng.normal(size=(64, 5000))  # 2.56 MB
    y = rng.normal(size=(3, 5000))
    assert _columns.gathered(x, 64) == 8 and not _columns.gathered(np.asfortranarray(x), 64)
    kw = Fit(loss=tn.mse, optimizer=tn.adam(1e-3), epochs=2, batch_size=64)
    chunked = tn.fit(net, x, y, rng=np.random.default_rng(0), progress=False, compiled=True, **kw)[
        0
    ]
    in_place = tn.fit(
        net,
        np.asfortranarray(x),
        y,
        rng=np.random.default_rng(0),
        progress=False,
        compiled=True,
        **kw,
    )[0]
    numpy_path = tn.fit(net, x, y, rng=np.random.default_rng(0), progress=False, **kw)[0]
    for a, b, c in zip(chunked.params, in_place.params, numpy_path.params, strict=True):
        assert a.tobytes() == b.tobytes()
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("batch", [1, 4, 7])
def test_batches_of_consecutive_columns_are_read_where_they_lie(batch: int) -> None:
    """A batch of consecutive columns is read by BLAS in place, from a C-ordered set
    (rows of stride n) or an F-ordered one (transposed): the bits of a set whose columns
    must be gathered (a strided view), and within 1e-12 of `train_step` on each batch."""
    net, x, y = _course()  # 30 columns: batches of 7 end with a batch of 2
    wide = np.zeros((x.shape[0], 2 * x.shape[1]))
    wide[:, ::2] = x
    opt = tn.adam(1e-2)
    kernel = _compiled.plan(net, x, tn.mse, opt, None, False)
    order = np.arange(x.shape[1])
    steps = -(-x.shape[1] // batch)

    def run(inputs: Arr) -> _compiled.Steps:
        return _compiled.run_steps(kernel, (net, opt.init(net)), inputs, y, order, batch, 0, steps)

    gathered = run(wide[:, ::2])
    # where BLAS reads batch 1 (columns batch to 2 batch - 1): address, leading dimension
    at = _compiled._batch_in_place
    size = x.itemsize
    assert at(x, order, batch, batch) == (np.uint64(x.ctypes.data + batch * size), 30, _compiled._N)
    f = np.asfortranarray(x)
    assert at(f, order, batch, batch) == (
        np.uint64(f.ctypes.data + batch * 5 * size),
        5,
        _compiled._T,
    )
    assert at(wide[:, ::2], order, batch, batch)[1] == 0  # a stride of 2: gathered
    assert at(x, order[::-1].copy(), 0, batch)[1] == (0 if batch > 1 else 30)
    for inputs in (x, np.asfortranarray(x)):
        done = run(inputs)
        got = done.trained[0].params
        assert all(
            p.tobytes() == q.tobytes() for p, q in zip(got, gathered.trained[0].params, strict=True)
        )
        assert done.values.tobytes() == gathered.values.tobytes()
    want, state = net, opt.init(net)
    for k in range(steps):
        cols = slice(k * batch, (k + 1) * batch)
        want, state, _ = tn.train_step(
            want, state, x[:, cols], y[:, cols], loss=tn.mse, optimizer=opt
        )
    for g, w in zip(gathered.trained[0].params, want.params, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-15)


def test_resuming_a_checkpoint_gives_the_bits_of_an_unbroken_run(tmp_path: Path) -> None:
    net, x, y = _course()
    kw = Run(loss=tn.mse, optimizer=tn.adam(1e-2), batch_size=4)
    whole, history = tn.fit(
        net, x, y, epochs=4, rng=np.random.default_rng(3), progress=False, compiled=True, **kw
    )
    rng = np.random.default_rng(3)
    tn.fit(
        net,
        x,
        y,
        epochs=2,
        rng=rng,
        checkpoint=tmp_path / "run",
        progress=False,
        compiled=True,
        **kw,
    )
    resumed, history_resumed = tn.fit(
        net, x, y, epochs=4, rng=np.random.default_rng(99), resume=tmp_path / "run",
        checkpoint=tmp_path / "run", progress=False, compiled=True, **kw,
    )  # fmt: skip
    assert all(
        p.tobytes() == q.tobytes() for p, q in zip(whole.params, resumed.params, strict=True)
    )
    assert history_resumed.train_loss == history.train_loss


def test_ctrl_c_between_runs_of_steps_returns_the_last_run_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ctrl-C lands between calls of the loop (it cannot stop compiled code): fit
    returns the params and state after the last call, agreeing with as many NumPy steps."""
    net, x, y = _course()
    monkeypatch.setattr(train, "_COMPILED_COLUMNS", 8)  # two steps of 4 columns a call
    calls: list[int] = []
    run_steps = _compiled.run_steps

    def interrupted(*args: Any, **kwargs: Any) -> _compiled.Steps:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return run_steps(*args, **kwargs)

    monkeypatch.setattr(_compiled, "run_steps", interrupted)
    kw = Run(loss=tn.mse, optimizer=tn.adam(1e-2), batch_size=4)
    got, history = tn.fit(
        net, x, y, epochs=3, rng=np.random.default_rng(2), progress=False, compiled=True, **kw
    )
    assert history.interrupted and history.epochs == 0
    assert history.state is not None and history.state.count == 4
    # The oracle: four train_step calls in fit's order.
    order = np.random.default_rng(2).permutation(30)
    want, state = net, tn.adam(1e-2).init(net)
    for k in range(4):
        cols = order[4 * k : 4 * k + 4]
        want, state, _ = tn.train_step(
            want, state, x[:, cols], y[:, cols], loss=tn.mse, optimizer=tn.adam(1e-2)
        )
    for g, w in zip(got.params, want.params, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-15)


def test_threads_training_at_once_get_what_each_gets_alone() -> None:
    """The loop releases the GIL and keeps its workspace per call: nothing is shared
    between threads, so fits running at once give the bits of each run alone."""
    net, x, y = _course()
    kw = Fit(loss=tn.mse, optimizer=tn.adam(1e-2), epochs=20, batch_size=3)

    def train(seed: int) -> tn.Network[int, int]:
        rng = np.random.default_rng(seed)
        return tn.fit(net, x, y, rng=rng, progress=False, compiled=True, **kw)[0]

    alone = [train(seed) for seed in range(4)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(train, range(4)))
    for a, b in zip(alone, together, strict=True):
        assert all(p.tobytes() == q.tobytes() for p, q in zip(a.params, b.params, strict=True))
    assert alone[0].params[0].tobytes() != alone[1].params[0].tobytes()  # seeds differ


def _error(net: tn.Network[int, int], x: Arr, y: Arr, compiled: bool, kw: Fit) -> str:
    # NumPy warns of the overflow on its way (the compiled loop does not): not the point here
    with np.errstate(all="ignore"), pytest.raises(ValueError) as info:
        tn.fit(net, x, y, rng=np.random.default_rng(0), progress=False, compiled=compiled, **kw)
    return str(info.value)


def test_params_that_overflow_stop_it_with_the_numpy_paths_message() -> None:
    net, x, y = _course()
    net = _chain(np.random.default_rng(0), [5, 4], [tn.identity], np.float64)
    kw = Fit(loss=tn.mse, optimizer=tn.sgd(1e308), epochs=3, batch_size=4)
    message = _error(net, x * 1e3, y, True, kw)
    assert message == _error(net, x * 1e3, y, False, kw)
    assert message == (
        "fit: epoch 1, step 1 of 8 would give non-finite params (NaN or inf), first in layer "
        "1 w; nothing is returned and the network passed in is unchanged: try a smaller "
        "learning rate or check the data's scale"
    )


def test_a_loss_that_overflows_stops_it_with_the_numpy_paths_message() -> None:
    net, x, y = _course()
    kw = Fit(loss=tn.mse, optimizer=tn.sgd(1e-300), epochs=2, batch_size=4)
    big = np.full_like(y, 1e200)
    message = _error(net, x, big, True, kw)
    assert message == _error(net, x, big, False, kw)
    assert message == (
        "fit: the loss became inf at epoch 1, step 1 of 8; try a smaller learning rate or "
        "check the data's scale"
    )


def test_a_failing_schedule_stops_it_with_the_numpy_paths_message() -> None:
    net, x, y = _course()

    def schedule(step: int) -> float:
        return 1e-3 if step < 5 else float("nan")

    kw = Fit(loss=tn.mse, optimizer=tn.adam(schedule), epochs=2, batch_size=4)
    message = _error(net, x, y, True, kw)
    assert message == _error(net, x, y, False, kw)
    assert message.startswith("adam: the learning-rate schedule gave nan at step 5")


REFUSED = (
    "fit: compiled=True trains chains of tn.Dense layers with identity, relu, leaky_relu, "
    "sigmoid or tanh (softmax last, with cross_entropy), on one input array, with mse, "
    "cross_entropy, softmax_cross_entropy or binary_cross_entropy (after a sigmoid), and "
    "sgd, adam or adamw; no penalty or sample weights; "
)


def _refusal(net: tn.Network[Any, Any], x: object, y: Arr, **kw: Any) -> str:
    settings = Fit(loss=tn.mse, optimizer=tn.adam(), epochs=1, batch_size=4)
    settings.update(cast(Fit, kw))
    fit = cast(Callable[..., object], tn.fit)  # x of any kind, to be refused
    with pytest.raises(ValueError) as info:
        fit(net, x, y, rng=np.random.default_rng(0), progress=False, compiled=True, **settings)
    return str(info.value)


def test_what_it_does_not_train_is_refused_by_name() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(3, 8)), rng.normal(size=(2, 8))
    dense = _chain(rng, [3, 4, 2], [tn.relu, tn.identity], np.float64)
    dropout = tn.Network(
        (tn.dense(rng, 3, 4, tn.relu), tn.dropout(0.5), tn.dense(rng, 4, 2, tn.identity))
    )
    softplus = _chain(rng, [3, 4, 2], [tn.softplus, tn.identity], np.float64)
    soft_hidden = _chain(rng, [3, 4, 2], [tn.softmax, tn.identity], np.float64)
    soft_out = _chain(rng, [3, 2], [tn.softmax], np.float64)
    labels = np.eye(2)[[0, 1, 0, 1, 0, 1, 0, 1]].T.copy()
    cases = [
        (_refusal(dropout, x, y), "layer 2 is a Dropout"),
        (_refusal(softplus, x, y), "layer 1's activation is softplus"),
        (_refusal(soft_hidden, x, y), "layer 1's activation is softmax"),
        (_refusal(soft_out, x, labels), "mse with the output activation softmax"),
        (
            _refusal(dense, x, labels, loss=tn.sigmoid_binary_cross_entropy),
            "sigmoid_binary_cross_entropy with the output activation identity",
        ),
        (_refusal(dense, x, y, loss=tn.mae), "mae with the output activation identity"),
        (_refusal(dense, x, y, optimizer=tn.momentum(0.1)), "the optimizer is momentum"),
        (_refusal(dense, x, y, penalty=tn.l2(0.1)), "got a penalty"),
        (_refusal(dense, x, y, sample_weight=np.ones(8)), "got sample weights"),
    ]
    for message, why in cases:
        assert message == REFUSED + why


def test_named_inputs_are_refused() -> None:
    class Only(TypedDict):
        x: tn.Inputs

    rng = np.random.default_rng(0)
    named = tn.network(tn.inputs(Only, None, x=tn.network(tn.dense(rng, 3, 1, tn.identity))))
    x, y = rng.normal(size=(3, 8)), rng.normal(size=(1, 8))
    assert _refusal(named, Only(x=x), y) == REFUSED + "x is a dict (named inputs?)"


def test_an_activation_of_ones_own_is_refused() -> None:
    rng = np.random.default_rng(0)
    mine = tn.Activation("mine", None, lambda z: z, lambda z, s, g: g)
    net = _chain(rng, [3, 2], [mine], np.float64)
    assert _refusal(net, rng.normal(size=(3, 8)), rng.normal(size=(2, 8))) == (
        REFUSED + "layer 1's activation is mine"
    )


def test_compiled_must_be_a_bool() -> None:
    net, x, y = _course()
    with pytest.raises(TypeError, match=r"^fit: compiled must be True or False, got str$"):
        tn.fit(net, x, y, loss=tn.mse, optimizer=tn.adam(), epochs=1, batch_size=4,
               rng=np.random.default_rng(0), compiled="yes")  # type: ignore[call-overload]  # fmt: skip


def test_without_numba_it_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    net, x, y = _course()
    monkeypatch.setitem(sys.modules, "numba", None)  # `import numba` now fails
    with pytest.raises(ImportError) as info:
        tn.fit(net, x, y, loss=tn.mse, optimizer=tn.adam(), epochs=1, batch_size=4,
               rng=np.random.default_rng(0), compiled=True)  # fmt: skip
    assert str(info.value) == (
        "fit: compiled=True needs numba and scipy, optional dependencies: pip install "
        "'typednet[fast]'"
    )


CHILD = textwrap.dedent(
    """
    import numpy as np
    import typednet as tn
    from typednet import _compiled

    rng = np.random.default_rng(0)
    net = tn.Network((tn.dense(rng, 3, 4, tn.relu), tn.dense(rng, 4, 1, tn.identity)))
    tn.fit(net, rng.normal(size=(3, 9)), rng.normal(size=(1, 9)), loss=tn.mse,
           optimizer=tn.adam(), epochs=1, batch_size=4, rng=rng, progress=False, compiled=True)
    stats = _compiled._steps.stats
    print(sum(stats.cache_hits.values()), sum(stats.cache_misses.values()))
    """
)


def test_the_compiled_loop_is_cached_on_disk_for_the_next_process(tmp_path: Path) -> None:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    runs = [
        subprocess.run(
            [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True
        )
        for _ in range(2)
    ]
    assert runs[0].stdout.split() == ["0", "1"]  # compiled, and written to the cache
    assert runs[1].stdout.split() == ["1", "0"]  # loaded from it: not compiled again
    assert any((tmp_path / "cache").rglob("*.nbi"))


FALLBACK = textwrap.dedent(
    """
    import numpy as np
    import typednet as tn
    from typednet import _compiled

    _compiled._numpy_gemm = lambda: None  # as where NumPy's BLAS does not export CBLAS
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        net = tn.Network((tn.dense(rng, 5, 6, tn.relu, dtype=dtype),
                          tn.dense(rng, 6, 3, tn.softmax, dtype=dtype)))
        x = rng.normal(size=(5, 40)).astype(dtype)
        y = np.eye(3, dtype=dtype)[rng.integers(0, 3, 40)].T.copy()
        fits = [tn.fit(net, x, y, loss=tn.cross_entropy, optimizer=tn.adam(1e-2), epochs=3,
                       batch_size=8, rng=np.random.default_rng(1), progress=False,
                       compiled=c)[0] for c in (False, True)]
        print(max(float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-300)))
                  for a, b in zip(*(f.params for f in fits))))
    print(_compiled.blas())
    """
)


def test_without_numpys_cblas_the_products_call_scipys_blas(tmp_path: Path) -> None:
    """Where NumPy's BLAS does not export CBLAS with 64-bit sizes (conda's, Apple's), the
    kernel's products go through adapters over scipy's BLAS (numba's own route), and train
    as the NumPy path does. In a child process: the products are bound once a process."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    run = subprocess.run(
        [sys.executable, "-c", FALLBACK], env=env, capture_output=True, text=True, check=True
    )
    single, double, blas = run.stdout.split()
    assert blas == "scipy"
    assert float(single) < 1e-4 and float(double) < 1e-12


def test_numpys_own_blas_runs_the_products_here() -> None:
    """NumPy's wheels export CBLAS with 64-bit sizes: the products share NumPy's BLAS, its
    threads and its `threadpoolctl` limits (one thread pool, not two)."""
    assert _compiled._numpy_gemm() is not None
    assert _compiled.blas() == "numpy"


def test_numpys_blas_is_not_found_where_it_cannot_be_opened_or_lacks_the_symbols(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The lookup says None (so the products fall back on scipy's BLAS) when NumPy's core
    module cannot be opened again, or exports neither name; it is cached per process."""

    def refuse(*args: object) -> None:
        raise OSError("cannot open")

    try:
        _compiled._numpy_gemm.cache_clear()
        with monkeypatch.context() as patch:
            patch.setattr(ctypes, "CDLL", refuse)  # as _compiled sees it
            assert _compiled._numpy_gemm() is None
        _compiled._numpy_gemm.cache_clear()
        with monkeypatch.context() as patch:
            patch.setattr(_compiled, "_NUMPY_GEMM", ("no_such_{}gemm",))
            assert _compiled._numpy_gemm() is None
    finally:
        _compiled._numpy_gemm.cache_clear()
    found = _compiled._numpy_gemm()
    assert found is not None and _compiled._numpy_gemm() is found  # cached


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("optimizer", [_compiled._SGD, _compiled._ADAM])
def test_the_optimizer_step_flags_one_bad_param_wherever_it_is(
    optimizer: int, dtype: type[np.floating[Any]]
) -> None:
    # the flag is set in the update's vectorized loop: a bad value in its first lanes, in
    # the middle, in the scalar tail (37 params) or overflowing from finite inputs
    _compiled.blas()  # the kernel compiled
    n = 37
    top = float(np.finfo(dtype).max)

    def flag(g: np.ndarray[Any, Any], p: np.ndarray[Any, Any], lr: float) -> bool:
        m, v, out = np.zeros(n, dtype), np.zeros(n, dtype), np.empty(n, dtype)
        with np.errstate(all="ignore"):
            return bool(
                _compiled._step_params(optimizer, g, p, out, m, v, lr, 1, 0.0, 0.9, 0.999, 1e-8)
            )

    ones = np.ones(n, dtype)
    assert flag(ones, ones, 1e-3)
    for at in (0, 17, 36):
        for bad in (np.inf, -np.inf, np.nan):
            g = ones.copy()
            g[at] = bad
            assert not flag(g, ones, 1e-3), (at, bad)
            p = ones.copy()
            p[at] = bad
            assert not flag(ones, p, 1e-3), (at, bad)
        p = ones.copy()
        p[at] = top  # plus an update of about lr = top / 2: beyond the largest float
        assert not flag(-ones, p, top / 2), at
