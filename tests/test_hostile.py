"""Issue 11: the README's promises under hostile arrays and numeric overflow.

Each test reproduces one failure the adversarial pass found (the item number is in its
name) and pins the error that replaces it. The expected numbers are hand-computed.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import typednet as tn

LEAKY = tn.leaky_relu(0.1)


def _net(dtype: Any = np.float64, first: tn.Activation = tn.tanh) -> tn.Network:
    rng = np.random.default_rng(0)
    return tn.network(tn.dense(rng, 2, 3, first, dtype=dtype)).then(
        tn.dense(rng, 3, 1, tn.identity, dtype=dtype)
    )


def _batch(n: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.normal(size=(2, n)), rng.normal(size=(1, n))


def _same(a: tn.Network, b: tn.Network) -> bool:
    return all(np.array_equal(p, q) for p, q in zip(a.params, b.params, strict=True))


# --- 1. np.matrix: * is a matrix product --------------------------------------------------

MATRIX = r"ndarray subclass that changes NumPy's arithmetic \(np.matrix makes \* a matrix product\); pass np.asarray"


def test_1_np_matrix_is_refused_by_losses_instead_of_a_wrong_number() -> None:
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = np.array([[0.0, 1.0], [5.0, 0.0]])
    # Hand-computed: the differences are 1, 1, -2, 4; their squares' mean is 22 / 4.
    assert tn.mse(a, b) == 5.5
    with pytest.raises(
        tn.ShapeError, match=rf"^mse: y_pred: got a numpy.matrix, an {MATRIX}\(y_pred\)$"
    ):
        tn.mse(a.view(np.matrix), b.view(np.matrix))


@pytest.mark.parametrize("where", ["grad", "value_and_grad", "train_step", "fit", "forward"])
def test_1_np_matrix_inputs_are_refused_everywhere(where: str) -> None:
    net = _net()
    x, y = _batch()
    mx: Any = x.view(np.matrix)
    opt = tn.sgd(0.1)
    calls: dict[str, Callable[[], object]] = {
        "grad": lambda: tn.grad(net, mx, y, tn.mse),
        "value_and_grad": lambda: tn.value_and_grad(net, mx, y, tn.mse),
        "train_step": lambda: tn.train_step(
            net, opt.init(net), mx, y, loss=tn.mse, optimizer=opt
        ),
        "fit": lambda: tn.fit(
            net, mx, y, loss=tn.mse, optimizer=opt, epochs=1, batch_size=2,
            rng=np.random.default_rng(0), progress=False,
        ),
        "forward": lambda: tn.forward(net, mx),
    }  # fmt: skip
    with pytest.raises(
        tn.ShapeError, match=rf"^{where} input x: got a numpy.matrix, an {MATRIX}\(x\)$"
    ):
        calls[where]()


def test_1_np_matrix_params_are_refused() -> None:
    with pytest.raises(
        tn.ShapeError, match=rf"^Dense weights w: got a numpy.matrix, an {MATRIX}\(w\)$"
    ):
        tn.Dense(w=np.ones((1, 2)).view(np.matrix), b=np.zeros((1, 1)), activation=tn.relu)


def test_1_memmap_and_subclasses_that_keep_the_arithmetic_still_work(tmp_path: Path) -> None:
    net = _net()
    x, y = _batch(6)
    mm = np.memmap(tmp_path / "x.dat", dtype=np.float64, mode="w+", shape=x.shape)
    mm[...] = x
    mm.flush()
    mx = np.memmap(tmp_path / "x.dat", dtype=np.float64, mode="r", shape=x.shape)

    class Tagged(np.ndarray):  # a subclass that changes nothing about the arithmetic
        pass

    for a in (mx, x.view(Tagged)):
        assert np.array_equal(tn.forward(net, a), tn.forward(net, x))
        assert _same(tn.grad(net, a, y, tn.mse), tn.grad(net, x, y, tn.mse))
    trained, _ = tn.fit(
        net, mx, y, loss=tn.mse, optimizer=tn.sgd(0.1), epochs=2, batch_size=3,
        rng=np.random.default_rng(0), progress=False,
    )  # fmt: skip
    again, _ = tn.fit(
        net, x, y, loss=tn.mse, optimizer=tn.sgd(0.1), epochs=2, batch_size=3,
        rng=np.random.default_rng(0), progress=False,
    )  # fmt: skip
    assert _same(trained, again)
    layer = tn.Dense(w=mx[:, :1].T.copy().view(Tagged), b=np.zeros((1, 1)), activation=tn.relu)
    assert type(layer.w) is np.ndarray


# --- 2. masked arrays hide NaN and inf ----------------------------------------------------

MASKED = r"got a masked array \(MaskedArray\), which would hide its masked values from typednet's checks; pass"


def test_2_masked_params_are_refused() -> None:
    w = np.ma.masked_invalid(np.array([[np.nan, 1.0]]))
    with pytest.raises(tn.ShapeError, match=rf"^Dense weights w: {MASKED} w.filled\(value\)"):
        tn.Dense(w=w, b=np.zeros((1, 1)), activation=tn.relu)
    gain = np.ma.masked_invalid(np.array([[np.inf], [1.0]]))
    with pytest.raises(tn.ShapeError, match=rf"^LayerNorm gain: {MASKED} gain.filled\(value\)"):
        tn.LayerNorm(gain=gain, shift=np.zeros((2, 1)))


def test_2_a_masked_input_gets_typednets_error_not_numpys() -> None:
    x = np.ma.masked_invalid(np.array([[1.0, np.nan], [2.0, 3.0]]))
    with pytest.raises(tn.ShapeError, match=rf"^forward input x: {MASKED} x.filled\(value\)"):
        tn.forward(_net(), x)


# --- 3. non-finite params and data --------------------------------------------------------

NON_FINITE = r"would give non-finite params \(NaN or inf\), first in {}; nothing is returned and the network passed in is unchanged"


def test_3_train_step_refuses_to_return_overflowed_params() -> None:
    net = _net()
    x, y = _batch()
    opt = tn.sgd(1e308)
    state = opt.init(net)
    before = [p.copy() for p in net.params]
    with (
        np.errstate(over="ignore"),
        pytest.raises(
            ValueError, match=rf"^train_step \(optimizer step 1\) {NON_FINITE.format('layer 1 w')}"
        ),
    ):
        tn.train_step(net, state, x, y * 1e10, loss=tn.mse, optimizer=opt)
    assert all(np.array_equal(p, q) for p, q in zip(net.params, before, strict=True))


def test_3_apply_updates_names_the_first_param_that_overflows() -> None:
    big = np.full((1, 1), 1e308)
    params = tn.Network((
        tn.Dense(w=np.ones((3, 2)), b=np.zeros((3, 1)), activation=tn.relu),
        tn.Dense(w=np.ones((1, 3)), b=big, activation=tn.identity),
    ))  # fmt: skip
    # Only layer 2's bias overflows: 1e308 + 1e308 is inf in float64.
    with (
        np.errstate(over="ignore"),
        pytest.raises(ValueError, match=rf"^apply_updates {NON_FINITE.format('layer 2 b')}"),
    ):
        tn.apply_updates(params, params)
    assert params.params[3][0, 0] == 1e308


def test_3_an_optimizer_update_names_the_step() -> None:
    net = _net()
    opt = tn.sgd(1e308)
    grads = tn.Network(tuple(
        tn.Dense(w=np.full_like(layer.w, 10.0), b=np.zeros_like(layer.b), activation=layer.activation)
        for layer in net.layers if isinstance(layer, tn.Dense)
    ))  # fmt: skip
    state = opt.init(net)
    _, state = opt.update(tn.grad(net, *_batch(), tn.mse), state, net)
    with (
        np.errstate(over="ignore"),
        pytest.raises(
            ValueError, match=rf"^sgd update \(step 2\) {NON_FINITE.format('layer 1 w')}"
        ),
    ):
        opt.update(grads, state, net)


def test_3_fit_stops_on_overflowing_params_in_the_first_epoch() -> None:
    x, y = _batch(8)
    with (
        np.errstate(over="ignore", invalid="ignore"),
        pytest.raises(
            ValueError, match=rf"^fit: epoch 1, step 1 of 2 {NON_FINITE.format('layer 1 w')}"
        ),
    ):
        tn.fit(
            _net(), x, y * 1e10, loss=tn.mse, optimizer=tn.sgd(1e308), epochs=1,
            batch_size=4, rng=np.random.default_rng(0), progress=False,
        )  # fmt: skip


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("which", ["x", "y"])
@pytest.mark.parametrize("where", ["grad", "value_and_grad", "train_step"])
def test_3_non_finite_training_data_is_a_value_error(bad: float, which: str, where: str) -> None:
    net = _net()
    x, y = _batch()
    (x if which == "x" else y)[0, 1] = bad
    opt = tn.adam()
    calls: dict[str, Callable[[], object]] = {
        "grad": lambda: tn.grad(net, x, y, tn.mse),
        "value_and_grad": lambda: tn.value_and_grad(net, x, y, tn.mse),
        "train_step": lambda: tn.train_step(net, opt.init(net), x, y, loss=tn.mse, optimizer=opt),
    }
    with pytest.raises(
        ValueError, match=rf"^{where}: {which} contains NaN or inf; training needs finite data$"
    ):
        calls[where]()


# --- 4. float16: refused everywhere with one message --------------------------------------

F16 = r"expected float32 or float64, got float16; typednet computes in float32 or float64 only \(float16 is not supported\)"


def test_4_float16_is_refused_by_the_builders_the_layers_and_the_losses() -> None:
    with pytest.raises(tn.ShapeError, match=rf"^dense: {F16}; pass dtype=np.float32$"):
        tn.dense(np.random.default_rng(0), 2, 3, tn.relu, dtype=np.float16)
    with pytest.raises(tn.ShapeError, match=rf"^layer_norm: {F16}; pass dtype=np.float32$"):
        tn.layer_norm(3, dtype=np.float16)
    with pytest.raises(tn.ShapeError, match=rf"^Dense bias b: {F16}; pass b.astype\(np.float32\)$"):
        tn.Dense(w=np.ones((1, 2), np.float16), b=np.zeros((1, 1), np.float16), activation=tn.relu)
    with pytest.raises(
        tn.ShapeError, match=rf"^forward input x: {F16}; pass x.astype\(np.float32\)$"
    ):
        tn.forward(_net(np.float32), np.ones((2, 3), np.float16))
    with pytest.raises(
        tn.ShapeError, match=rf"^mse: y_pred: {F16}; pass y_pred.astype\(np.float32\)$"
    ):
        tn.mse(np.ones((1, 3), np.float16), np.ones((1, 3), np.float16))


def test_4_a_float16_file_is_refused(tmp_path: Path) -> None:
    import json

    meta = {
        "format": "typednet", "version": 1, "dtype": "float16",
        "layers": [{"kind": "dense", "activation": {"name": "relu", "param": None},
                    "dims": None, "shape": [1, 2]}],
    }  # fmt: skip
    raw = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    path = tmp_path / "half.npz"
    np.savez(
        path,
        __typednet__=raw,
        layer1_w=np.ones((1, 2), np.float16),
        layer1_b=np.zeros((1, 1), np.float16),
    )
    with pytest.raises(
        ValueError, match=rf"half.npz: metadata dtype: {F16}; the file cannot be used$"
    ):
        tn.load(path)


def test_4_float32_adaptive_optimizers_keep_zero_gradients_finite() -> None:
    # What float16 got wrong: adam's eps (1e-8) underflows to 0 in float16, so 0 / 0.
    net = _net(np.float32)
    zero = tn.Network(tuple(
        tn.Dense(w=np.zeros_like(layer.w), b=np.zeros_like(layer.b), activation=layer.activation)
        for layer in net.layers if isinstance(layer, tn.Dense)
    ))  # fmt: skip
    for opt in (tn.adam(), tn.rmsprop(), tn.adagrad(), tn.amsgrad(), tn.adadelta()):
        updates, _ = opt.update(zero, opt.init(net), net)
        assert all(np.array_equal(u, np.zeros_like(u)) for u in updates.params), opt


# --- 5. train_step checks its state and optimizer -----------------------------------------


def test_5_another_networks_state_of_the_same_param_count_is_refused() -> None:
    net = _net()  # 2 -> 3 -> 1: 13 params
    rng = np.random.default_rng(0)
    other = tn.network(tn.dense(rng, 1, 4, tn.tanh)).then(tn.dense(rng, 4, 1, tn.identity))
    assert other.param_count == net.param_count
    opt = tn.adam()
    with pytest.raises(
        tn.ShapeError,
        match=r"^train_step: state m param 1 \(layer 1 w\): expected shape \(3, 2\) like params, got \(4, 1\)$",
    ):
        tn.train_step(net, opt.init(other), *_batch(), loss=tn.mse, optimizer=opt)


def test_5_another_optimizers_state_is_refused() -> None:
    net = _net()
    with pytest.raises(
        tn.ShapeError,
        match=r"^train_step: state has 0 slots, adam keeps 2 \(m, v\); is it another optimizer's state\?",
    ):
        tn.train_step(net, tn.sgd(0.1).init(net), *_batch(), loss=tn.mse, optimizer=tn.adam())


def test_5_a_missing_state_or_an_optimizer_name_is_a_type_error() -> None:
    net = _net()
    x, y = _batch()
    with pytest.raises(
        TypeError,
        match=r"^train_step: state must be an OptState, got NoneType; make it with adam\(...\).init\(params\)$",
    ):
        tn.train_step(net, None, x, y, loss=tn.mse, optimizer=tn.adam())  # type: ignore[call-overload]  # the wrong argument is the test
    with pytest.raises(
        TypeError,
        match=r"^train_step: optimizer must be a typednet Optimizer such as tn.adam\(1e-3\), got str$",
    ):
        tn.train_step(net, tn.adam().init(net), x, y, loss=tn.mse, optimizer="adam")  # type: ignore[call-overload]  # the wrong argument is the test
    with pytest.raises(
        TypeError,
        match=r"^fit: optimizer must be a typednet Optimizer such as tn.adam\(1e-3\), got str$",
    ):
        tn.fit(
            net,
            x,
            y,
            loss=tn.mse,
            optimizer="adam",  # type: ignore[call-overload]  # the wrong argument is the test
            epochs=1,
            batch_size=2,
            rng=np.random.default_rng(0),
        )


# --- 6. zero-size layers ------------------------------------------------------------------

EMPTY = r"every size must be at least 1 \(no zero-size layers\)"


def test_6_zero_size_params_are_refused() -> None:
    with pytest.raises(
        tn.ShapeError,
        match=rf"^Dense bias b: expected \(next, 1\) = \(next, 1\), got shape \(0, 1\) float64; {EMPTY}$",
    ):
        tn.Dense(w=np.zeros((0, 3)), b=np.zeros((0, 1)), activation=tn.relu)
    with pytest.raises(
        tn.ShapeError,
        match=rf"^Dense weights w: expected \(next, prev\) = \(next, prev\), got shape \(2, 0\) float64; {EMPTY}$",
    ):
        tn.Dense(w=np.zeros((2, 0)), b=np.zeros((2, 1)), activation=tn.relu)
    with pytest.raises(
        tn.ShapeError, match=rf"^LayerNorm gain: .* got shape \(0, 1\) float64; {EMPTY}$"
    ):
        tn.LayerNorm(gain=np.zeros((0, 1)), shift=np.zeros((0, 1)))


def test_6_losses_on_empty_outputs_are_refused() -> None:
    with pytest.raises(
        tn.ShapeError,
        match=rf"^mse: y_pred: expected \(outputs, batch\) = \(outputs, batch\), got shape \(0, 3\) float64; {EMPTY}$",
    ):
        tn.mse(np.zeros((0, 3)), np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"^cross_entropy: the batch is empty"):
        tn.cross_entropy(np.zeros((2, 0)), np.zeros((2, 0)))


# --- 14. fit and an infinite validation loss ----------------------------------------------


def test_14_an_infinite_validation_loss_stops_fit_naming_the_epoch() -> None:
    x, y = _batch(8)
    x_val = np.full((2, 4), 1e200)  # finite, but the squared error overflows
    with (
        np.errstate(over="ignore", invalid="ignore"),
        pytest.raises(
            ValueError, match=r"^fit: the validation loss became inf at epoch 1; try a smaller"
        ),
    ):
        tn.fit(
            _net(first=tn.identity), x, y, loss=tn.mse, optimizer=tn.adam(), epochs=3, batch_size=4,
            rng=np.random.default_rng(0), validation=(x_val, np.zeros((1, 4))), patience=2,
            progress=False,
        )  # fmt: skip


def test_3_an_overflowing_gradient_is_a_value_error_naming_the_param() -> None:
    # Finite data: x = 1e308 makes layer 1's output 2e308 = inf, the sigmoid maps it to
    # 1 and the clipped loss stays finite, but d loss / d w2 = delta @ inf.T is not.
    net = tn.Network((
        tn.Dense(w=np.ones((1, 2)), b=np.zeros((1, 1)), activation=tn.identity),
        tn.Dense(w=np.ones((1, 1)), b=np.zeros((1, 1)), activation=tn.sigmoid),
    ))  # fmt: skip
    x = np.full((2, 4), 1e308)
    with (
        np.errstate(over="ignore", invalid="ignore"),
        pytest.raises(
            ValueError,
            match=r"^grad would give non-finite gradients \(NaN or inf\), first in layer 2 w; an overflow",
        ),
    ):
        tn.grad(net, x, np.zeros((1, 4)), tn.binary_cross_entropy)
    net = _net()
    x = np.full((2, 4), 1.0)
    y = np.full((1, 4), 1e200)  # (y_hat - y)^2 overflows
    with (
        np.errstate(over="ignore", invalid="ignore"),
        pytest.raises(
            ValueError,
            match=r"^value_and_grad: the loss is inf \(an overflow\); check the data's and the params' scale$",
        ),
    ):
        tn.value_and_grad(net, x, y, tn.mse)


def test_1_2_label_arrays_refuse_matrices_and_masks_too() -> None:
    labels = np.array([[0, 1, 1]])
    with pytest.raises(
        tn.ShapeError, match=rf"^one_hot labels: got a numpy.matrix, an {MATRIX}\(labels\)$"
    ):
        tn.one_hot(labels.view(np.matrix), [0, 1])
    masked = np.ma.masked_array(labels, mask=[[False, True, False]])
    with pytest.raises(
        tn.ShapeError, match=rf"^confusion_matrix pred_labels: {MASKED} pred_labels.filled\(value\)"
    ):
        tn.confusion_matrix(labels, masked, [0, 1])


# --- issue 24, item 3: no silent wrong number ----------------------------------------------


@pytest.mark.parametrize(
    ("output", "loss"),
    [(tn.sigmoid, tn.binary_cross_entropy), (tn.identity, tn.sigmoid_binary_cross_entropy)],
    ids=["probabilities", "logits"],
)
def test_24_3_labels_outside_0_1_are_refused_before_training(
    output: tn.Activation, loss: tn.Loss
) -> None:
    """They trained silently, to a loss that fell below zero."""
    rng = np.random.default_rng(0)
    net = tn.network(tn.dense(rng, 2, 1, output))
    x, y = rng.normal(size=(2, 8)), np.full((1, 8), 2.0)
    with pytest.raises(
        ValueError,
        match=rf"^fit: {loss.name}: y_true must be labels or probabilities in \[0, 1\], "
        r"but y_true\[0, 0\] is outside$",
    ):
        tn.fit(net, x, y, loss=loss, optimizer=tn.adam(0.1), epochs=50, batch_size=8,
               rng=rng, progress=False)  # fmt: skip
