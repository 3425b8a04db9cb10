"""The layer protocol: every layer kind, typednet's and a user's, through every feature.

One table (`helpers.LAYERS`) drives the invariants: dtype and shapes kept, inputs not
mutated, gradients equal to central differences, every optimizer, penalties, save and
load, repr and the diagram. `helpers.Scale` is written outside the package.
"""

import json
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import typednet as tn
from typednet import _store

from .helpers import LAYERS, Scale

OPTIMIZERS = [tn.sgd(0.1), tn.momentum(0.1), tn.nesterov(0.1), tn.adagrad(0.1), tn.rmsprop(0.01),
              tn.adadelta(), tn.adam(0.01), tn.amsgrad(0.01), tn.adamax(0.01)]  # fmt: skip

tn.register_layer(Scale)


def _net(kind: str, dtype: type[np.floating[Any]] = np.float64, seed: int = 0) -> tn.Network:
    """Dense(4 -> 4, tanh), then the layer under test, then Dense(4 -> 2, identity)."""
    rng = np.random.default_rng(seed)
    first = tn.Dense(
        w=rng.normal(0, 0.5, (4, 4)).astype(dtype), b=np.zeros((4, 1), dtype), activation=tn.tanh
    )
    last = tn.Dense(
        w=rng.normal(0, 0.5, (2, 4)).astype(dtype),
        b=rng.normal(0, 0.1, (2, 1)).astype(dtype),
        activation=tn.identity,
    )
    return tn.Network((first, LAYERS[kind](rng, 4, dtype), last))


def _batch(dtype: type[np.floating[Any]] = np.float64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.normal(size=(4, 5)).astype(dtype), rng.normal(size=(2, 5)).astype(dtype)


KINDS = pytest.mark.parametrize("kind", sorted(LAYERS))


@KINDS
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_and_shapes_are_kept_and_inputs_not_mutated(
    kind: str, dtype: type[np.floating[Any]]
) -> None:
    net = _net(kind, dtype)
    x, y = _batch(dtype)
    x0, y0, params0 = x.copy(), y.copy(), [p.copy() for p in net.params]
    y_hat = tn.forward(net, x)
    value, grads = tn.value_and_grad(net, x, y, tn.mse, rng=np.random.default_rng(2))
    assert y_hat.shape == (2, 5) and y_hat.dtype == dtype
    assert isinstance(value, float)
    for g, p in zip(grads.params, net.params, strict=True):
        assert g.shape == p.shape and g.dtype == dtype and not g.flags.writeable
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)
    for p, p0 in zip(net.params, params0, strict=True):
        np.testing.assert_array_equal(p, p0)


@KINDS
@pytest.mark.parametrize("penalty", [None, tn.l1(0.05), tn.l2(0.05, include_bias=True)])
def test_gradient_matches_central_differences(kind: str, penalty: tn.Penalty | None) -> None:
    """With the dropout mask held fixed (the same seed for every evaluation)."""
    net = _net(kind)
    x, y = _batch()
    seed = 3
    grads = tn.grad(net, x, y, tn.mse, penalty=penalty, rng=np.random.default_rng(seed))

    def value(params: list[np.ndarray]) -> float:
        other = _store.from_params(net, params)
        y_hat = tn.forward_trace(other, x, rng=np.random.default_rng(seed)).y_hat
        return tn.mse(y, y_hat) + (penalty.value(other) if penalty is not None else 0.0)

    h = 1e-6
    for k, p in enumerate(net.params):
        numeric = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            values = []
            for step in (h, -h):
                params = [q.copy() for q in net.params]
                params[k][idx] += step
                values.append(value(params))
            numeric[idx] = (values[0] - values[1]) / (2 * h)
        np.testing.assert_allclose(grads.params[k], numeric, rtol=1e-6, atol=1e-8)


@KINDS
def test_every_optimizer_steps_a_network_holding_the_kind(kind: str) -> None:
    net = _net(kind)
    x, y = _batch()
    before = tn.mse(y, tn.forward(net, x))
    for opt in OPTIMIZERS:
        state = opt.init(net)
        trained = net
        for step in range(20):
            trained, state, _ = tn.train_step(
                trained, state, x, y, loss=tn.mse, optimizer=opt, rng=np.random.default_rng(step)
            )
        assert repr(trained) == repr(net)
        assert tn.mse(y, tn.forward(trained, x)) < before, opt.name


@KINDS
def test_penalties_cover_what_the_layer_says(kind: str) -> None:
    net = _net(kind)
    layer = net.layers[1]
    assert isinstance(layer, tn.Layer)
    covered = sum(
        float(np.abs(p).sum())
        for p, on in zip(layer.params, layer.penalized(False), strict=True)
        if on
    )
    first, last = net.layers[0], net.layers[2]
    assert isinstance(first, tn.Dense) and isinstance(last, tn.Dense)
    dense = float(np.abs(first.w).sum() + np.abs(last.w).sum())
    assert tn.l1(1.0).value(net) == pytest.approx(dense + covered, rel=1e-14)


@KINDS
def test_save_and_load_round_trip(kind: str, tmp_path: Path) -> None:
    net = _net(kind)
    tn.save(tmp_path / "net.npz", net)
    for loaded in (tn.load(tmp_path / "net.npz"), tn.load(tmp_path / "net.npz", like=net)):
        assert repr(loaded) == repr(net)
        for a, b in zip(loaded.params, net.params, strict=True):
            np.testing.assert_array_equal(a, b)
        assert type(loaded.layers[1]) is type(net.layers[1])
    assert (
        tn.io.info(tmp_path / "net.npz")
        .splitlines()[2]
        .startswith(
            f"  layer 2: {net.layers[1].kind}"  # type: ignore[union-attr]  # a Layer
        )
    )


@KINDS
def test_repr_and_the_diagram_show_the_layer(kind: str) -> None:
    net = _net(kind)
    layer = net.layers[1]
    assert isinstance(layer, tn.Layer)
    assert repr(net) == f"Network 4 → 4 (tanh) → {layer.label()} → 2 (identity), " + (
        f"{net.param_count} params"
    )
    fig = tn.plot_network(net)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    routing = layer.routing()
    skips = [p for p in fig.axes[0].patches if p.get_gid() == "skip"]
    if routing is not None and routing.join == "add":  # its block in line, an arc per skip
        assert len(skips) == len(routing.chains) - 1
        assert any(label.endswith("+ skip (residual)") for label in labels)
    elif routing is not None:  # branches stacked, then joined into one column
        texts = [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "label"]
        assert "concat\n4" in texts
        assert any(c.get_gid() == "maps" for c in fig.axes[0].collections)
    elif layer.connections() is None:  # noted under the column it transforms
        assert len(labels) == 3 and labels[1].endswith(f"+ {layer.label()}")
    else:  # a column of its own
        assert len(labels) == 4 and labels[2] == "hidden 2\n4\ntanh"
    if routing is None or routing.join != "add":
        assert skips == []


def test_a_file_naming_an_unregistered_kind_is_refused(tmp_path: Path) -> None:
    net = _net("dense")
    path = tmp_path / "net.npz"
    tn.save(path, net)
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    raw = np.load(path)["__typednet__"].tobytes()
    meta = json.loads(raw)
    meta["layers"][1]["kind"] = "os_system"
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.frombuffer(json.dumps(meta).encode(), np.uint8))
    members["__typednet__.npy"] = buffer.getvalue()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "metadata layer 2: 'kind' must be a registered layer kind (batch_norm, dense, "
            "dropout, embedding, layer_norm, named_inputs, parallel, residual, take, test_scale, activation), got "
            "'os_system'; a layer class of your own needs tn.register_layer(cls) before load"
        ),
    ):
        tn.load(path)


def test_register_layer_refuses_what_it_cannot_load() -> None:
    with pytest.raises(TypeError, match=r"^register_layer: expected a Layer subclass, got 3$"):
        tn.register_layer(3)  # type: ignore[type-var]  # not a class on purpose

    class Other(Scale):
        kind = "dense"

    with pytest.raises(ValueError, match=r"^register_layer: kind 'dense' is already "):
        tn.register_layer(Other)


# --- dropout -----------------------------------------------------------------------------


def test_dropout_is_the_identity_at_inference() -> None:
    net = _net("dropout")
    x, _ = _batch()
    without = tn.Network((net.layers[0], net.layers[2]))
    np.testing.assert_array_equal(tn.forward(net, x), tn.forward(without, x))


def test_dropout_mean_over_many_masks_matches_its_input() -> None:
    """Inverted dropout keeps each value's mean: E[mask * x] = x.

    Each output value is x * B / (1 - rate) with B ~ Bernoulli(1 - rate), so its variance
    is x^2 * rate / (1 - rate); over n draws the mean's standard error is that over
    sqrt(n). The tolerance is 5 standard errors (a false failure about 1 in 3.5 million).
    """
    rate, n = 0.3, 200_000
    x = np.array([[1.0], [-2.0], [0.5]])
    _, post = tn.dropout(rate).trace(np.repeat(x, n, axis=1), np.random.default_rng(0))
    se = np.abs(x[:, 0]) * np.sqrt(rate / (1 - rate) / n)
    assert np.all(np.abs(post.mean(axis=1) - x[:, 0]) < 5 * se)
    kept = (post != 0).mean()
    assert abs(kept - (1 - rate)) < 5 * np.sqrt(rate * (1 - rate) / post.size)


def test_dropout_needs_an_rng_in_training_and_names_the_layer() -> None:
    net = _net("dropout")
    x, y = _batch()
    message = re.escape(
        "layer 2 (dropout 0.3) draws random masks in training, so rng= must be "
        "np.random.default_rng(seed); none was given"
    )
    with pytest.raises(TypeError, match="^value_and_grad: " + message):
        tn.value_and_grad(net, x, y, tn.mse)
    with pytest.raises(TypeError, match="^grad: " + message):
        tn.grad(net, x, y, tn.mse)
    opt = tn.sgd(0.1)
    with pytest.raises(TypeError, match="^train_step: " + message):
        tn.train_step(net, opt.init(net), x, y, loss=tn.mse, optimizer=opt)
    no_dropout = _net("dense")
    assert tn.grad(no_dropout, x, y, tn.mse).param_count == no_dropout.param_count


def test_dropout_same_seed_same_result_bit_for_bit() -> None:
    net = _net("dropout")
    x, y = _batch()

    def run(seed: int) -> tn.Network:
        trained, _ = tn.fit(
            net, x, y, loss=tn.mse, optimizer=tn.adam(0.01), epochs=5, batch_size=2,
            rng=np.random.default_rng(seed), progress=False,
        )  # fmt: skip
        return trained

    a, b, c = run(7), run(7), run(8)
    assert all(np.array_equal(p, q) for p, q in zip(a.params, b.params, strict=True))
    assert not all(np.array_equal(p, q) for p, q in zip(a.params, c.params, strict=True))


@pytest.mark.parametrize("rate", [1.0, -0.1, float("nan"), float("inf"), "0.5", None, True])
def test_dropout_rate_must_be_a_number_in_0_1(rate: object) -> None:
    with pytest.raises(ValueError, match=r"^dropout: rate must be a number in \[0, 1\), got "):
        tn.dropout(rate)  # type: ignore[arg-type]  # bad rates on purpose


def test_dropout_rate_survives_save_and_load(tmp_path: Path) -> None:
    net = tn.network(tn.dense(np.random.default_rng(0), 3, 4, tn.relu)).then(tn.dropout(0.25))
    tn.save(tmp_path / "d.npz", net)
    layer = tn.load(tmp_path / "d.npz").layers[1]
    assert isinstance(layer, tn.Dropout) and layer.rate == 0.25
    assert np.float32(0.5) == tn.dropout(np.float32(0.5)).rate  # type: ignore[arg-type]  # NumPy scalars are numbers
