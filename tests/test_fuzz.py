"""The fuzz suite (issue 11): random architectures against hostile arrays.

Every public function either returns a result of the right shape and dtype, or raises
`tn.ShapeError`, `ValueError` or `TypeError` whose one-line message shows no array
values. Results are finite whenever they must be:

- the training functions (`grad`, `value_and_grad`, `train_step`, `fit`) and the
  optimizers never return a non-finite value: NaN or inf in the data, and any overflow,
  is a ValueError;
- the inference functions (`forward`, `forward_trace`, the losses, the metrics) do not
  scan values on each call, for speed: their results are finite when their inputs are
  finite and of moderate size.

Hostile arrays: wrong types (lists, scalars, None), NumPy subclasses that change the
arithmetic (np.matrix, masked arrays) and ones that keep it, non-contiguous and Fortran
views, wrong dtypes (ints, bools, complex, objects, float16, the other float), wrong
ranks and sizes, empty batches, zero-size axes, NaN, inf and huge values. The values
are sentinels, so a message that printed them would be caught.

`make test` runs the default profile (40 examples a test, well under a minute);
`make fuzz` runs this module with the ``fuzz`` profile (see tests/conftest.py).
"""

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import typednet as tn

from . import helpers

SENTINELS = (1234.5678, -8765.4321, 31.41592)
"""The values of every hostile array: a message must never show them."""

SHOWN = ("1234.5", "8765.4", "31.41", "1.2345678e", "8.7654321e", "1e+300", "[[")

ERRORS = (tn.ShapeError, ValueError, TypeError)

LOSSES = [
    tn.mse,
    tn.mae,
    tn.binary_cross_entropy,
    tn.cross_entropy,
    tn.softmax_cross_entropy,
    tn.sigmoid_binary_cross_entropy,
]


# --- strategies ------------------------------------------------------------------------------


@st.composite
def networks(draw: st.DrawFn) -> tn.Network:
    """A random chain of 1 to 4 layers of every kind, in float32 or float64."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    size = draw(st.integers(1, 5))
    layers: list[Any] = [
        tn.dense(rng, size, (size := draw(st.integers(1, 5))), tn.tanh, dtype=dtype)
    ]
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["dense", "layer_norm", "dropout", "activation"]))
        if kind == "dense":
            act = draw(st.sampled_from(helpers.ACTIVATIONS))
            layers.append(tn.dense(rng, size, (size := draw(st.integers(1, 5))), act, dtype=dtype))
        elif kind == "layer_norm":
            layers.append(tn.layer_norm(size, dtype=dtype))
        elif kind == "dropout":
            layers.append(tn.dropout(draw(st.sampled_from([0.0, 0.3]))))
        else:
            layers.append(draw(st.sampled_from(helpers.ACTIVATIONS)))
    return tn.Network(tuple(layers))


@dataclass(frozen=True)
class Hostile:
    """A drawn argument and what was done to it."""

    value: Any  # anything: the functions under test must refuse what they cannot use
    clean: bool  # well formed, with moderate finite values
    finite: bool  # no NaN or inf (huge values may still overflow)
    formed: bool = False  # the right type, rank, shape and dtype, whatever the values


class Tagged(np.ndarray):
    """A subclass that keeps NumPy's arithmetic: accepted like a plain array."""


_WRAPPERS = ["plain", "plain", "plain", "matrix", "masked", "strided", "fortran", "tagged", "list"]


@st.composite
def hostile(draw: st.DrawFn, rows: int, cols: int, dtype: Any, allow_clean: bool = True) -> Hostile:
    """An argument where a (rows, cols) array of ``dtype`` is due, often broken."""
    shape_kind = draw(
        st.sampled_from(
            ["right"] * 4 + ["transposed", "1d", "3d", "empty", "zero", "other", "scalar", "none"]
        )
    )
    if shape_kind == "none":
        return Hostile(None, clean=False, finite=True)
    if shape_kind == "scalar":
        return Hostile(SENTINELS[0], clean=False, finite=True)
    shape = {
        "right": (rows, cols),
        "transposed": (cols, rows),
        "1d": (rows,),
        "3d": (rows, cols, 1),
        "empty": (rows, 0),
        "zero": (0, cols),
        "other": (rows + 1, cols),
    }[shape_kind]
    want = np.dtype(dtype)
    kind = draw(
        st.sampled_from(["right"] * 5 + ["other", "float16", "int", "bool", "complex", "object"])
    )
    other = np.float32 if want == np.float64 else np.float64
    chosen = {
        "right": want, "other": other, "float16": np.float16, "int": np.int64,
        "bool": np.bool_, "complex": np.complex128, "object": object,
    }[kind]  # fmt: skip
    a = np.resize(np.array(SENTINELS), shape).astype(np.float64)
    values = draw(st.sampled_from(["sentinels"] * 4 + ["nan", "inf", "huge"]))
    if a.size and values != "sentinels":
        index = draw(st.integers(0, a.size - 1))
        a.flat[index] = {"nan": np.nan, "inf": -np.inf, "huge": 1e300}[values]
    with np.errstate(all="ignore"):
        if chosen is object:
            typed: np.ndarray = a.astype(object)
        elif np.dtype(chosen).kind in "biu":
            typed = np.nan_to_num(a).astype(chosen)
        else:
            typed = a.astype(chosen)
    wrapper = draw(st.sampled_from(_WRAPPERS))
    value: Any = typed
    if wrapper == "matrix" and typed.ndim == 2:
        value = typed.view(np.matrix)
    elif wrapper == "masked":
        value = np.ma.masked_array(typed, mask=np.zeros(typed.shape, bool))
    elif wrapper == "strided" and typed.ndim == 2:
        value = np.repeat(typed, 2, axis=1)[:, ::2]  # a non-contiguous view
    elif wrapper == "fortran":
        value = np.asfortranarray(typed)
    elif wrapper == "tagged":
        value = typed.view(Tagged)
    elif wrapper == "list":
        value = typed.tolist()
    else:
        wrapper = "plain"
    finite = values in ("sentinels", "huge") or kind in ("int", "bool") or a.size == 0
    formed = (  # what was drawn, whatever it was called: (1, 1) transposed is (1, 1)
        type(value) in (np.ndarray, Tagged)
        and np.shape(value) == (rows, cols)
        and np.dtype(chosen) == want
    )
    clean = formed and values == "sentinels"
    assume(allow_clean or not clean)
    return Hostile(value, clean, finite, formed)


# --- the property ----------------------------------------------------------------------------


def _refused_cleanly(error: BaseException) -> None:
    message = str(error)
    assert "\n" not in message, message
    shown = [s for s in SHOWN if s in message]
    assert not shown, f"the message shows array values {shown}: {message}"


def _run(call: Callable[[], object]) -> tuple[object, BaseException | None]:
    """Call, with NumPy's floating-point warnings off (typednet's checks are under test)."""
    with np.errstate(all="ignore"):
        try:
            return call(), None
        except ERRORS as error:
            _refused_cleanly(error)
            return None, error


def _is_batch(a: object, shape: tuple[int, int], dtype: Any, finite: bool) -> bool:
    return (
        isinstance(a, np.ndarray)
        and a.shape == shape
        and a.dtype == dtype
        and (not finite or bool(np.isfinite(a).all()))
    )


def _finite_network(net: object, like: tn.Network) -> bool:
    return (
        isinstance(net, tn.Network)
        and repr(net) == repr(like)
        and all(p.dtype == like.dtype and np.isfinite(p).all() for p in net.params)
    )


# --- forward ---------------------------------------------------------------------------------


@given(data=st.data(), net=networks(), batch=st.integers(1, 4))
def test_forward_returns_right_shaped_outputs_or_refuses(
    data: st.DataObject, net: tn.Network, batch: int
) -> None:
    x = data.draw(hostile(net.in_size, batch, net.dtype))
    for call in (lambda: tn.forward(net, x.value), lambda: tn.forward_trace(net, x.value).y_hat):
        out, error = _run(call)
        if x.clean:
            assert error is None, error
        if error is None:
            assert _is_batch(out, (net.out_size, batch), net.dtype, x.clean), (out, x)


# --- training --------------------------------------------------------------------------------


@given(
    data=st.data(),
    net=networks(),
    batch=st.integers(1, 4),
    loss=st.sampled_from(LOSSES),
    which=st.sampled_from(["x", "y"]),
)
@settings(suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
def test_gradients_are_finite_or_refused(
    data: st.DataObject, net: tn.Network, batch: int, loss: tn.Loss, which: str
) -> None:
    clean_x = np.resize(np.array(SENTINELS) / 1e4, (net.in_size, batch)).astype(net.dtype)
    clean_y = np.full((net.out_size, batch), 0.5, net.dtype)
    drawn = data.draw(
        hostile(*((net.in_size, batch) if which == "x" else (net.out_size, batch)), net.dtype)
    )
    x = drawn.value if which == "x" else clean_x
    y = drawn.value if which == "y" else clean_y
    rng = np.random.default_rng(0)
    for where, call in [
        ("grad", lambda: tn.grad(net, x, y, loss, rng=rng)),
        ("value_and_grad", lambda: tn.value_and_grad(net, x, y, loss, rng=rng)[1]),
    ]:
        grads, error = _run(call)
        if not drawn.finite:  # NaN or inf in the data: refused, by a ValueError if well formed
            assert error is not None
            assert isinstance(error, ValueError) == drawn.formed and where in str(error), error
        if error is None:
            assert _finite_network(grads, net), where


OPTIMIZERS = [
    tn.sgd(0.1),
    tn.adam(),
    tn.adagrad(),
    tn.rmsprop(),
    tn.adadelta(),
    tn.adamax(),
    tn.amsgrad(),
    tn.nesterov(0.1),
]


@given(
    data=st.data(),
    net=networks(),
    batch=st.integers(1, 4),
    loss=st.sampled_from(LOSSES),
    optimizer=st.sampled_from([*OPTIMIZERS, tn.sgd(1e308), tn.momentum(1e300)]),
)
def test_train_step_returns_finite_params_or_refuses(
    data: st.DataObject, net: tn.Network, batch: int, loss: tn.Loss, optimizer: tn.Optimizer
) -> None:
    x = data.draw(hostile(net.in_size, batch, net.dtype))
    y = np.full((net.out_size, batch), 0.5, net.dtype)
    before = [p.copy() for p in net.params]
    state = optimizer.init(net)
    done, error = _run(
        lambda: tn.train_step(
            net, state, x.value, y, loss=loss, optimizer=optimizer, rng=np.random.default_rng(0)
        )
    )
    if not x.finite:
        assert error is not None and isinstance(error, ValueError) == x.formed, error
    if error is None:
        assert isinstance(done, tuple)
        assert _finite_network(done[0], net)
        assert np.isfinite(done[2])
    assert all(np.array_equal(p, q) for p, q in zip(net.params, before, strict=True))


@given(
    data=st.data(),
    net=networks(),
    n=st.integers(1, 6),
    optimizer=st.sampled_from([*OPTIMIZERS, tn.sgd(1e308)]),
    validate=st.booleans(),
)
def test_fit_returns_a_finite_network_or_refuses(
    data: st.DataObject, net: tn.Network, n: int, optimizer: tn.Optimizer, validate: bool
) -> None:
    x = data.draw(hostile(net.in_size, n, net.dtype))
    y = np.full((net.out_size, n), 0.5, net.dtype)
    validation = (x.value, y) if validate else None
    done, error = _run(
        lambda: tn.fit(
            net, np.full((net.in_size, n), 0.1, net.dtype) if validate else x.value, y,
            loss=tn.mse, optimizer=optimizer, epochs=2, batch_size=2,
            rng=np.random.default_rng(0), validation=validation, progress=False,
        )
    )  # fmt: skip
    if not x.finite:
        assert error is not None and isinstance(error, ValueError) == x.formed, error
    if error is None:
        assert isinstance(done, tuple) and _finite_network(done[0], net)
        assert all(np.isfinite(done[1].train_loss)) and all(np.isfinite(done[1].val_loss))


# --- losses, metrics, layers, data -----------------------------------------------------------


@given(
    data=st.data(),
    rows=st.integers(1, 4),
    cols=st.integers(1, 4),
    loss=st.sampled_from(LOSSES),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_losses_return_a_float_or_refuse(
    data: st.DataObject, rows: int, cols: int, loss: tn.Loss, dtype: Any
) -> None:
    y_true = data.draw(hostile(rows, cols, dtype))
    y_pred = np.full((rows, cols), 1.0 / rows, dtype)  # probabilities, columns sum to 1
    calls = [
        (lambda: loss(y_true.value, y_pred), True),
        (lambda: loss(y_pred, y_true.value), False),
    ]
    for call, hostile_is_truth in calls:
        value, error = _run(call)
        # A clean array is refused only by a loss that checks what it is given: the
        # cross-entropies check their targets and, those of probabilities, their
        # predictions (a ValueError, by design).
        checked = loss.check_target_fn if hostile_is_truth else loss.check_fn
        if y_true.clean and checked is None:
            assert error is None, error
        elif error is not None:
            assert isinstance(error, ValueError | TypeError), error
        if error is None:
            assert isinstance(value, float)
            assert np.isfinite(value) or not y_true.clean


@given(data=st.data(), n=st.integers(1, 5), metric=st.sampled_from(["accuracy", "mad", "within"]))
def test_metrics_return_a_float_or_refuse(data: st.DataObject, n: int, metric: str) -> None:
    scores = data.draw(hostile(1, n, np.float64))
    other = np.full((1, n), 5.0)
    calls = {
        "accuracy": lambda: tn.accuracy(other, scores.value),
        "mad": lambda: tn.mad(scores.value, other),
        "within": lambda: tn.within(other, scores.value, 0.5),
    }
    value, error = _run(calls[metric])
    if scores.clean:
        assert error is None, error
    if error is None:
        assert isinstance(value, float)


@given(
    data=st.data(),
    nxt=st.integers(1, 4),
    prev=st.integers(1, 4),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_layers_hold_finite_plain_read_only_arrays_or_refuse(
    data: st.DataObject, nxt: int, prev: int, dtype: Any
) -> None:
    w = data.draw(hostile(nxt, prev, dtype))
    b = data.draw(hostile(nxt, 1, dtype))
    layer, error = _run(lambda: tn.Dense(w=w.value, b=b.value, activation=tn.relu))
    if w.clean and b.clean:
        assert error is None, error
    if error is None:
        assert isinstance(layer, tn.Dense)
        for a in (layer.w, layer.b):
            assert type(a) is np.ndarray and not a.flags.writeable and np.isfinite(a).all()
    norm, error = _run(lambda: tn.LayerNorm(gain=b.value, shift=np.zeros((nxt, 1), dtype)))
    if error is None:
        assert isinstance(norm, tn.LayerNorm) and type(norm.gain) is np.ndarray
        assert np.isfinite(norm.gain).all()


@given(data=st.data(), rows=st.integers(1, 4), n=st.integers(1, 6))
def test_data_helpers_return_right_shapes_or_refuse(data: st.DataObject, rows: int, n: int) -> None:
    x = data.draw(hostile(rows, n, np.float64))
    scaler, error = _run(lambda: tn.standardize(x.value))
    if error is None:
        assert isinstance(scaler, tn.data.Standardizer)
        assert isinstance(x.value, np.ndarray)  # any number of features: its own
        assert _is_batch(scaler.mean, (x.value.shape[0], 1), x.value.dtype, True)
    split, error = _run(
        lambda: tn.train_test_split(
            x.value, np.zeros((1, n)), test_fraction=0.5, rng=np.random.default_rng(0)
        )
    )
    if error is None:
        assert isinstance(split, tuple) and len(split) == 4
        assert split[0].shape[1] + split[2].shape[1] == n


# --- files -----------------------------------------------------------------------------------


@given(net=networks(), seed=st.integers(0, 2**32 - 1), flips=st.integers(1, 8))
def test_a_mutated_file_loads_or_is_refused_in_one_line(
    net: tn.Network, seed: int, flips: int
) -> None:
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "net.npz")
        tn.save(path, net)
        data = bytearray(path.read_bytes())
        for _ in range(flips):
            data[int(rng.integers(len(data)))] = int(rng.integers(256))
        path.write_bytes(bytes(data))
        loaded, error = _run(lambda: tn.load(path))
    if error is None:
        assert isinstance(loaded, tn.Network) and repr(loaded) == repr(net)
        assert all(np.isfinite(p).all() for p in loaded.params)
    else:
        assert isinstance(error, ValueError) and str(error).startswith(str(path)), error
