"""Pickle, copy.deepcopy and joblib round-trip every public kind of typednet object exactly."""

import copy
import dataclasses
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest

import typednet as tn
from typednet import _pickle
from typednet.sklearn import TypedNetClassifier, TypedNetRegressor

from .helpers import LAYERS


class Features(tn.Dim, size=3): ...


class Hidden(tn.Dim, size=4): ...


def _cube(z: tn.Matrix) -> tn.Matrix:
    out: tn.Matrix = z**3
    return out


def _cube_vjp(z: tn.Matrix, s: tn.Matrix, g: tn.Matrix) -> tn.Matrix:
    out: tn.Matrix = g * 3 * z**2
    return out


# A user's own activation, from module-level functions: pickled field by field.
cube = tn.Activation("cube", None, _cube, _cube_vjp)

ACTIVATIONS = [
    tn.identity,
    tn.relu,
    tn.leaky_relu(0.1),
    tn.elu(2.0),
    tn.selu,
    tn.sigmoid,
    tn.tanh,
    tn.softsign,
    tn.softplus,
    tn.softmax,
    cube,
]
LOSSES = [
    tn.mse,
    tn.mae,
    tn.binary_cross_entropy,
    tn.cross_entropy,
    tn.softmax_cross_entropy,
    tn.sigmoid_binary_cross_entropy,
]
OPTIMIZERS = [
    tn.sgd(0.1),
    tn.momentum(0.1, beta=0.5),
    tn.nesterov(0.1, beta=0.5),
    tn.adagrad(0.1, eps=1e-9),
    tn.rmsprop(0.1, decay=0.9),
    tn.adadelta(0.5, rho=0.8),
    tn.adam(0.1, b1=0.8),
    tn.amsgrad(0.1),
    tn.adamax(0.1),
    tn.adamw(
        tn.schedules.warmup(2, then=tn.schedules.cosine_decay(0.1, steps=8)), weight_decay=0.1
    ),
]


def _dumps_loads(obj: object) -> object:
    return pickle.loads(pickle.dumps(obj))


def _joblib(obj: object, tmp_path: Path, mmap_mode: str | None = None) -> object:
    path = tmp_path / "obj.joblib"
    joblib.dump(obj, path)
    loaded: object = joblib.load(path, mmap_mode=mmap_mode)
    return loaded


ROUND_TRIPS: dict[str, Callable[[object, Path], object]] = {
    "pickle": lambda obj, _: _dumps_loads(obj),
    "deepcopy": lambda obj, _: copy.deepcopy(obj),
    "copy": lambda obj, _: copy.copy(obj),
    "joblib": _joblib,
    "joblib-mmap": lambda obj, path: _joblib(obj, path, "r"),
}
round_trips = pytest.mark.parametrize("round_trip", ROUND_TRIPS.values(), ids=list(ROUND_TRIPS))


def _networks() -> list[tn.Network[Any, Any]]:
    rng = np.random.default_rng(1)
    typed: tn.Network[Features, Hidden] = tn.network(
        tn.dense(rng, Features, Hidden, tn.leaky_relu(0.1))
    ).then(tn.layer_norm(Hidden))
    every_kind: tn.Network[int, int] = tn.Network(
        (
            tn.dense(rng, 3, 5, tn.identity),
            tn.layer_norm(5, eps=1e-3),
            tn.relu,
            tn.dropout(0.25),
            tn.dense(rng, 5, 2, tn.softmax),
        )
    )
    single: tn.Network[int, int] = tn.network(tn.dense(rng, 3, 2, cube, dtype=np.float32)).then(
        tn.dense(rng, 2, 1, tn.elu(0.5), dtype=np.float32)
    )
    # The shared table: every layer kind typednet ships, and a user's own (Scale).
    table: tn.Network[int, int] = tn.Network(
        tuple(make(rng, 4, np.float64) for make in LAYERS.values())
    )
    return [typed.then(tn.relu), every_kind, single, table]


def _assert_same_network(got: object, net: tn.Network[Any, Any]) -> None:
    assert isinstance(got, tn.Network)
    assert repr(got) == repr(net)
    assert [type(layer) for layer in got.layers] == [type(layer) for layer in net.layers]
    for a, b in zip(got.params, net.params, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert np.array_equal(a, b)
        assert not a.flags.writeable
    for mine, theirs in zip(got.layers, net.layers, strict=True):
        if isinstance(theirs, tn.Dense):
            assert isinstance(mine, tn.Dense)
            assert mine.dims == theirs.dims and mine.activation == theirs.activation
    x = np.random.default_rng(2).normal(size=(net.in_size, 7)).astype(net.dtype)
    assert np.array_equal(tn.forward(got, x), tn.forward(net, x))


@round_trips
@pytest.mark.parametrize("net", _networks(), ids=repr)
def test_networks_round_trip_exactly_and_stay_read_only_and_typed(
    net: tn.Network[Any, Any], round_trip: Callable[[object, Path], object], tmp_path: Path
) -> None:
    got = round_trip(net, tmp_path)
    _assert_same_network(got, net)
    assert isinstance(got, tn.Network)
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.layers = ()  # type: ignore[misc]  # the point: frozen at run time too
    with pytest.raises(ValueError, match="read-only"):
        got.params[0][0, 0] = 1.0
    # The params still share one column: a training step works on the copy.
    x = np.ones((net.in_size, 2), net.dtype)
    y = tn.forward(net, x) * 0.5
    opt = tn.sgd(0.1)
    stepped, _, _ = tn.train_step(
        got, opt.init(got), x, y, loss=tn.mse, optimizer=opt, rng=np.random.default_rng(0)
    )
    expected, _, _ = tn.train_step(
        net, opt.init(net), x, y, loss=tn.mse, optimizer=opt, rng=np.random.default_rng(0)
    )
    _assert_same_network(stepped, expected)


def test_a_typed_network_keeps_its_dims() -> None:
    net = _networks()[0]
    got = _dumps_loads(net)
    assert isinstance(got, tn.Network)
    first = got.layers[0]
    assert isinstance(first, tn.Dense) and first.dims == (Features, Hidden)
    norm = got.layers[1]
    assert isinstance(norm, tn.LayerNorm) and norm.dim is Hidden


@round_trips
@pytest.mark.parametrize("activation", ACTIVATIONS, ids=str)
def test_activations_round_trip(
    activation: tn.Activation, round_trip: Callable[[object, Path], object], tmp_path: Path
) -> None:
    got = round_trip(activation, tmp_path)
    assert isinstance(got, tn.Activation)
    assert got == activation and str(got) == str(activation)
    z = np.linspace(-3.0, 3.0, 12).reshape(3, 4)
    assert np.array_equal(got(z), activation(z))
    post, upstream = activation(z), np.cos(z)
    assert np.array_equal(got.vjp(z, post, upstream), activation.vjp(z, post, upstream))


def test_the_built_in_activations_and_losses_come_back_as_themselves() -> None:
    for known in (tn.relu, tn.sigmoid, tn.softmax, tn.mse, tn.cross_entropy):
        assert _dumps_loads(known) is known


def test_an_activation_holding_a_lambda_still_fails_as_pickle_does() -> None:
    square = tn.Activation("square", None, lambda z: z * z, lambda z, s, g: 2 * z * g)
    with pytest.raises((pickle.PicklingError, AttributeError), match="lambda"):
        pickle.dumps(square)


@round_trips
@pytest.mark.parametrize("loss", LOSSES, ids=lambda loss: loss.name)
def test_losses_round_trip(
    loss: tn.Loss, round_trip: Callable[[object, Path], object], tmp_path: Path
) -> None:
    got = round_trip(loss, tmp_path)
    assert isinstance(got, tn.Loss) and got.name == loss.name
    y = np.array([[0.0, 1.0], [1.0, 0.0]])
    p = np.array([[0.2, 0.7], [0.8, 0.3]])
    assert got(y, p) == loss(y, p)
    assert np.array_equal(got.gradient(y, p), loss.gradient(y, p))


def _net_and_batch() -> tuple[tn.Network[int, int], tn.Matrix, tn.Matrix]:
    rng = np.random.default_rng(3)
    net: tn.Network[int, int] = tn.network(tn.dense(rng, 3, 4, tn.tanh)).then(
        tn.dense(rng, 4, 2, tn.identity)
    )
    return net, rng.normal(size=(3, 8)), rng.normal(size=(2, 8))


def _steps(
    net: tn.Network[int, int],
    state: tn.OptState[int, int],
    opt: tn.Optimizer,
    x: tn.Matrix,
    y: tn.Matrix,
    n: int,
) -> tuple[tn.Network[int, int], tn.OptState[int, int]]:
    for _ in range(n):
        net, state, _ = tn.train_step(net, state, x, y, loss=tn.mse, optimizer=opt)
    return net, state


@round_trips
@pytest.mark.parametrize("opt", OPTIMIZERS, ids=repr)
def test_optimizers_and_their_states_round_trip(
    opt: tn.Optimizer, round_trip: Callable[[object, Path], object], tmp_path: Path
) -> None:
    net, x, y = _net_and_batch()
    net, state = _steps(net, opt.init(net), opt, x, y, 3)
    got = round_trip((opt, net, state), tmp_path)
    assert isinstance(got, tuple)
    got_opt, got_net, got_state = got
    assert isinstance(got_opt, tn.Optimizer) and isinstance(got_state, tn.OptState)
    assert repr(got_opt) == repr(opt) and got_opt.slot_names == opt.slot_names
    assert got_state.count == state.count == 3
    for mine, theirs in zip(got_state.slots, state.slots, strict=True):
        _assert_same_network(mine, theirs)
    # Training on from the copies is bit for bit training on from the originals.
    expected, _ = _steps(net, state, opt, x, y, 2)
    continued, _ = _steps(got_net, got_state, got_opt, x, y, 2)
    _assert_same_network(continued, expected)


def test_optimizer_state_columns_are_read_only_after_unpickling() -> None:
    net, x, y = _net_and_batch()
    opt = tn.adam(0.1)
    _, state = _steps(net, opt.init(net), opt, x, y, 1)
    got = _dumps_loads(state)
    assert isinstance(got, tn.OptState)
    for slot in got.slots:
        assert not slot.params[0].flags.writeable


@round_trips
def test_history_penalty_and_standardizer_round_trip(
    round_trip: Callable[[object, Path], object], tmp_path: Path
) -> None:
    net, x, y = _net_and_batch()
    _, history = tn.fit(
        net,
        x,
        y,
        loss=tn.mse,
        optimizer=tn.adam(0.1),
        epochs=3,
        batch_size=4,
        rng=np.random.default_rng(0),
        validation=(x, y),
        metric=tn.mae,
        progress=False,
    )
    scaler = tn.standardize(np.array([[1.0, 3.0, 8.0], [5.0, 5.0, 5.0]]))
    penalty = tn.l1(0.5, include_bias=True)
    got = round_trip((history, scaler, penalty), tmp_path)
    assert isinstance(got, tuple)
    got_history, got_scaler, got_penalty = got
    assert got_history == history and got_penalty == penalty
    assert isinstance(got_history, tn.History) and history.state is not None
    assert got_history.state is not None and got_history.state.count == history.state.count
    for got_slot, slot in zip(got_history.state.slots, history.state.slots, strict=True):
        _assert_same_network(got_slot, slot)
    assert isinstance(got_scaler, tn.data.Standardizer)
    for mine, theirs in ((got_scaler.mean, scaler.mean), (got_scaler.std, scaler.std)):
        assert np.array_equal(mine, theirs) and not mine.flags.writeable


def _fitted_estimators() -> list[TypedNetRegressor | TypedNetClassifier]:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(60, 3))
    reg = TypedNetRegressor((5,), epochs=3, batch_size=16, random_state=0)
    clf = TypedNetClassifier(
        (5,), activation=tn.leaky_relu(0.2), dropout=0.2, epochs=3, random_state=0
    )
    return [reg.fit(X, X @ [1.0, -2.0, 0.5]), clf.fit(X, np.where(X[:, 0] > 0, "a", "b"))]


@round_trips
@pytest.mark.parametrize("estimator", _fitted_estimators(), ids=lambda e: type(e).__name__)
def test_fitted_estimators_round_trip_and_train_on_alike(
    estimator: TypedNetRegressor | TypedNetClassifier,
    round_trip: Callable[[object, Path], object],
    tmp_path: Path,
) -> None:
    got = round_trip(estimator, tmp_path)
    assert isinstance(got, type(estimator))
    assert got.get_params() == estimator.get_params()
    _assert_same_network(got.net_, estimator.net_)
    assert got.history_ == estimator.history_
    X = np.random.default_rng(5).normal(size=(20, 3))
    assert np.array_equal(got.predict(X), estimator.predict(X))
    y = estimator.predict(X)
    # The copy and the original continue alike: same optimizer state, same shuffles.
    mine = copy.deepcopy(estimator).partial_fit(X, y)
    _assert_same_network(got.partial_fit(X, y).net_, mine.net_)


def test_a_pickle_of_another_format_is_refused_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    net = _networks()[1]
    monkeypatch.setattr(_pickle, "FORMAT", 0)
    data = pickle.dumps(net)
    monkeypatch.undo()
    with pytest.raises(
        ValueError,
        match=r"unpickling a typednet Dense written by typednet 0\.1\.0 \(pickle format 0\): "
        r"this is typednet 0\.1\.0, which reads pickle format 1 only; load it with typednet "
        r"0\.1\.0 and save it with tn\.save",
    ):
        pickle.loads(data)


class _OldDense:
    """What an older typednet might have pickled: a Dense with a field since renamed."""

    def __reduce__(self) -> tuple[object, ...]:
        fields = {"weights": np.ones((1, 1)), "b": np.zeros((1, 1)), "activation": tn.relu}
        return (_pickle._rebuild, (tn.Dense, _pickle.FORMAT, "0.0.9", fields))


def test_a_pickle_whose_fields_no_longer_fit_is_refused_clearly() -> None:
    with pytest.raises(
        ValueError,
        match=r"unpickling a typednet Dense written by typednet 0\.0\.9: its fields "
        r"\(weights, b, activation\) do not fit this typednet's Dense \(.*'weights'.*\); "
        r"load it with typednet 0\.0\.9 and save it with tn\.save",
    ):
        pickle.loads(pickle.dumps(_OldDense()))


def test_a_layer_that_is_not_a_dataclass_must_say_how_to_pickle_it() -> None:
    with pytest.raises(TypeError, match="cannot pickle int: typednet pickles a dataclass"):
        _pickle.reduce(3)
