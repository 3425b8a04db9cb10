"""`BatchNorm[D]` against an independent NumPy re-derivation of torch.nn.BatchNorm1d.

The reference below is written from BatchNorm1d's documentation, in its own layout
(rows are samples): training normalizes with the batch's mean and biased variance;
the running statistics move by ``(1 - momentum) * running + momentum * batch_stat``
with the UNBIASED variance; inference uses the running statistics. Its gradients are
the textbook ones, themselves checked against central differences of the reference.
"""

import copy
import pickle
import re
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

import typednet as tn
from typednet import _store

F64 = npt.NDArray[np.floating[Any]]


def _close(got: F64, want: F64) -> None:
    """Equal to 1e-12, relative or absolute."""
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# --- the reference: rows are samples, as in torch ------------------------------------------


def ref_train(X: F64, gamma: F64, beta: F64, eps: float = 1e-5) -> F64:
    """BatchNorm1d.train() forward: X (n, d); gamma, beta (d,)."""
    mu = X.sum(axis=0) / X.shape[0]
    var = np.square(X - mu).sum(axis=0) / X.shape[0]  # biased, for normalizing
    out: F64 = gamma * (X - mu) / np.sqrt(var + eps) + beta
    return out


def ref_eval(X: F64, gamma: F64, beta: F64, mean: F64, var: F64, eps: float = 1e-5) -> F64:
    """BatchNorm1d.eval() forward, with the running statistics."""
    out: F64 = gamma * (X - mean) / np.sqrt(var + eps) + beta
    return out


def ref_running(X: F64, mean: F64, var: F64, momentum: float = 0.1) -> tuple[F64, F64]:
    """The running statistics after one training batch X (n, d)."""
    n = X.shape[0]
    mu = X.sum(axis=0) / n
    unbiased = np.square(X - mu).sum(axis=0) / (n - 1)
    return (1 - momentum) * mean + momentum * mu, (1 - momentum) * var + momentum * unbiased


def ref_backward(X: F64, gamma: F64, dY: F64, eps: float = 1e-5) -> tuple[F64, F64, F64]:
    """(dX, dgamma, dbeta) of the training forward for upstream dY (n, d)."""
    n = X.shape[0]
    mu = X.mean(axis=0)
    inv = 1 / np.sqrt(np.square(X - mu).mean(axis=0) + eps)
    xhat = (X - mu) * inv
    dgamma = (dY * xhat).sum(axis=0)
    dbeta = dY.sum(axis=0)
    dX = gamma * inv / n * (n * dY - dbeta - xhat * dgamma)
    return dX, dgamma, dbeta


def _layer(rng: np.random.Generator, d: int, **kw: Any) -> tn.BatchNorm[int]:
    return tn.BatchNorm(
        gamma=rng.normal(1, 0.3, (d, 1)),
        beta=rng.normal(0, 0.3, (d, 1)),
        running_mean=rng.normal(0, 0.5, (d, 1)),
        running_var=rng.uniform(0.5, 2.0, (d, 1)),
        **kw,
    )


def test_the_reference_gradient_matches_central_differences(rng: np.random.Generator) -> None:
    X, gamma, beta, dY = (
        rng.normal(size=(6, 3)),
        *rng.normal(size=(2, 3)),
        rng.normal(size=(6, 3)),
    )
    dX, dgamma, dbeta = ref_backward(X, gamma, dY)
    h = 1e-6

    def numeric(f: Any, a: F64) -> F64:
        out = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            up, down = a.copy(), a.copy()
            up[idx] += h
            down[idx] -= h
            out[idx] = ((f(up) - f(down)) * dY).sum() / (2 * h)
        return out

    np.testing.assert_allclose(dX, numeric(lambda a: ref_train(a, gamma, beta), X), atol=1e-8)
    np.testing.assert_allclose(dgamma, numeric(lambda g: ref_train(X, g, beta), gamma), atol=1e-8)
    np.testing.assert_allclose(dbeta, numeric(lambda b: ref_train(X, gamma, b), beta), atol=1e-8)


# --- forward in both modes -----------------------------------------------------------------


def test_forward_is_inference_with_the_running_statistics(rng: np.random.Generator) -> None:
    layer = _layer(rng, 4)
    x = rng.normal(2, 3, (4, 7))
    gamma, beta, mean, var = (
        a[:, 0] for a in (layer.gamma, layer.beta, layer.running_mean, layer.running_var)
    )
    want = ref_eval(x.T, gamma, beta, mean, var).T
    _close(tn.forward(tn.network(layer), x), want)
    # One column is fine at inference: its output does not depend on the others.
    _close(tn.forward(tn.network(layer), x[:, :1]), want[:, :1])


def test_training_mode_normalizes_with_the_batch_statistics(rng: np.random.Generator) -> None:
    layer = _layer(rng, 4, eps=1e-3)
    x = rng.normal(2, 3, (4, 7))
    want = ref_train(x.T, layer.gamma[:, 0], layer.beta[:, 0], eps=1e-3).T
    got = tn.forward_trace(tn.network(layer), x).y_hat
    _close(got, want)


def test_gradients_match_the_reference(rng: np.random.Generator) -> None:
    """Dense(identity) -> BatchNorm -> mse: the Dense's gradient carries the BatchNorm's
    gradient with respect to its input."""
    d, p, n = 3, 4, 8
    dense = tn.Dense(w=rng.normal(size=(d, p)), b=rng.normal(size=(d, 1)), activation=tn.identity)
    bn = _layer(rng, d)
    net = tn.network(dense).then(bn)
    x, y = rng.normal(size=(p, n)), rng.normal(size=(d, n))
    value, grads = tn.value_and_grad(net, x, y, tn.mse)

    H = (dense.w @ x + dense.b).T  # the BatchNorm's input, rows
    Y = ref_train(H, bn.gamma[:, 0], bn.beta[:, 0])
    assert value == pytest.approx(((Y - y.T) ** 2).mean(), rel=1e-12)
    dY = 2 * (Y - y.T) / Y.size
    dH, dgamma, dbeta = ref_backward(H, bn.gamma[:, 0], dY)
    gw, gb, ggamma, gbeta = grads.params
    _close(gw, dH.T @ x.T)
    _close(gb[:, 0], dH.sum(axis=0))
    _close(ggamma[:, 0], dgamma)
    _close(gbeta[:, 0], dbeta)
    # grad is pure: it reports gradients, the statistics stay where they were.
    assert isinstance(grads.layers[1], tn.BatchNorm)
    np.testing.assert_array_equal(grads.layers[1].running_var, bn.running_var)


# --- running statistics: a value returned by the training step -----------------------------


def test_running_statistics_after_several_train_steps(rng: np.random.Generator) -> None:
    d = 3
    bn = _layer(rng, d, momentum=0.3)
    net = tn.network(bn).then(tn.dense(rng, d, 2, tn.identity))
    opt = tn.sgd(0.1)
    state = opt.init(net)
    mean, var = bn.running_mean[:, 0], bn.running_var[:, 0]
    before = net
    for n in (5, 2, 9, 4):  # batches of several sizes, 2 columns the least
        x, y = rng.normal(1.5, 2.0, (d, n)), rng.normal(size=(2, n))
        net, state, _ = tn.train_step(net, state, x, y, loss=tn.mse, optimizer=opt)
        mean, var = ref_running(x.T, mean, var, momentum=0.3)
    got = net.layers[0]
    assert isinstance(got, tn.BatchNorm)
    _close(got.running_mean[:, 0], mean)
    _close(got.running_var[:, 0], var)
    assert not got.running_mean.flags.writeable and not got.running_var.flags.writeable
    # The network passed in is a value: unchanged.
    np.testing.assert_array_equal(before.layers[0].running_mean, bn.running_mean)  # type: ignore[union-attr]  # a BatchNorm
    # The statistics are not params: the optimizer's state and the params hold gamma, beta.
    assert net.param_count == 2 * d + 2 * d + 2
    assert _store.layout(net).slices[:2] == ((0, 3, (3, 1)), (3, 6, (3, 1)))


def test_the_statistics_after_a_step_follow_the_layers_input(rng: np.random.Generator) -> None:
    """After a Dense: the statistics are the ones of the Dense's output at the step's params."""
    dense = tn.dense(rng, 4, 3, tn.relu)
    net = tn.network(dense).then(tn.batch_norm(3)).then(tn.dense(rng, 3, 1, tn.identity))
    x, y = rng.normal(size=(4, 6)), rng.normal(size=(1, 6))
    opt = tn.adam(1e-2)
    stepped, _, _ = tn.train_step(net, opt.init(net), x, y, loss=tn.mse, optimizer=opt)
    H = np.maximum(dense.w @ x + dense.b, 0).T
    mean, var = ref_running(H, np.zeros(3), np.ones(3))
    got = stepped.layers[1]
    assert isinstance(got, tn.BatchNorm)
    _close(got.running_mean[:, 0], mean)
    _close(got.running_var[:, 0], var)


def test_fit_reduces_the_loss_and_returns_the_statistics(rng: np.random.Generator) -> None:
    class Inputs(tn.Dim, size=2): ...

    class Hidden(tn.Dim, size=8): ...

    class Output(tn.Dim, size=1): ...

    x = rng.normal(3.0, 4.0, (2, 200))  # far from standardized: what BatchNorm is for
    y = np.sin(x[:1] / 4) + 0.1 * x[1:]
    net = (
        tn.network(tn.dense(rng, Inputs, Hidden, tn.tanh))
        .then(tn.batch_norm(Hidden))
        .then(tn.dense(rng, Hidden, Output, tn.identity))
    )
    before = tn.mse(y, tn.forward(net, x))
    trained, history = tn.fit(
        net, x, y, loss=tn.mse, optimizer=tn.adam(1e-2), epochs=30, batch_size=20,
        rng=np.random.default_rng(0), progress=False,
    )  # fmt: skip
    assert history.train_loss[-1] < history.train_loss[0] / 5
    assert tn.mse(y, tn.forward(trained, x)) < before / 5  # inference, running statistics
    bn = trained.layers[1]
    assert isinstance(bn, tn.BatchNorm)
    assert not np.array_equal(bn.running_var, np.ones((8, 1)))


def test_a_batch_of_one_column_is_refused_in_training(rng: np.random.Generator) -> None:
    net = tn.network(tn.dense(rng, 2, 3, tn.relu)).then(tn.batch_norm(3))
    x, y = rng.normal(size=(2, 1)), rng.normal(size=(3, 1))
    message = "layer 2 (batch_norm) needs at least 2 columns per batch in training, but x has 1"
    for call in (
        lambda: tn.grad(net, x, y, tn.mse),
        lambda: tn.value_and_grad(net, x, y, tn.mse),
        lambda: tn.forward_trace(net, x),
        lambda: tn.train_step(net, tn.sgd(0.1).init(net), x, y, loss=tn.mse,
                              optimizer=tn.sgd(0.1)),
        lambda: tn.fit(net, x, y, loss=tn.mse, optimizer=tn.sgd(0.1), epochs=1, batch_size=4,
                       rng=rng, progress=False),
    ):  # fmt: skip
        with pytest.raises(ValueError, match=re.escape(message)):
            call()
    x, y = rng.normal(size=(2, 11)), rng.normal(size=(3, 11))
    with pytest.raises(
        ValueError,
        match=re.escape(
            "fit: layer 2 (batch_norm) needs at least 2 columns per batch in training, but "
            "the last batch of each epoch (n = 11, batch_size = 5) has 1"
        ),
    ):
        tn.fit(net, x, y, loss=tn.mse, optimizer=tn.sgd(0.1), epochs=1, batch_size=5,
               rng=rng, progress=False)  # fmt: skip
    # 11 columns in batches of 10 and 1 would be refused too; 4 and 3 are fine. So is a
    # single validation column: validation is inference.
    tn.fit(net, x, y, loss=tn.mse, optimizer=tn.sgd(0.1), epochs=1, batch_size=4, rng=rng,
           progress=False, validation=(x[:, :1], y[:, :1]))  # fmt: skip


# --- inputs of any finite scale -----------------------------------------------------------


def test_training_mode_does_not_overflow_on_huge_inputs(rng: np.random.Generator) -> None:
    """BatchNorm is scale-free: x * 1e200 normalizes as x does with eps / 1e400 (0)."""
    layer = _layer(rng, 3)
    x0 = rng.normal(size=(3, 8))
    want = ref_train(x0.T, layer.gamma[:, 0], layer.beta[:, 0], eps=0.0).T
    net = tn.network(layer)
    _close(tn.forward_trace(net, x0 * 1e200).y_hat, want)
    # The gradients too: d loss / d gamma is the same at x0 * 1e200 and at x0 (eps 0).
    y = rng.normal(size=(3, 8))
    huge = tn.grad(net, x0 * 1e200, y, tn.mse).params
    H = ref_train(x0.T, layer.gamma[:, 0], layer.beta[:, 0], eps=0.0)
    dgamma = ref_backward(x0.T, layer.gamma[:, 0], 2 * (H - y.T) / H.size, eps=0.0)[1]
    _close(huge[0][:, 0], dgamma)


def test_running_variance_of_large_inputs_is_exact_or_refused(rng: np.random.Generator) -> None:
    """Squares past 1e154 overflow though the variance may not: the statistics are
    computed scaled; a variance beyond float64 is a ValueError, not an inf kept."""
    net = tn.network(tn.batch_norm(2)).then(tn.dense(rng, 2, 1, tn.identity))
    x0 = rng.normal(size=(2, 8))
    y = rng.normal(size=(1, 8))
    opt = tn.sgd(0.1)
    scale = 5e153  # squares of x overflow; the variance (about 2.5e307 at most) does not
    stepped, _, _ = tn.train_step(net, opt.init(net), x0 * scale, y, loss=tn.mse, optimizer=opt)
    bn = stepped.layers[0]
    assert isinstance(bn, tn.BatchNorm)
    mean, var = ref_running(x0.T, np.zeros(2), np.ones(2))
    _close(bn.running_mean[:, 0] / scale, mean)
    # 0.9 * 1 + 0.1 * (the unbiased variance of x0 * scale = scale**2 times x0's)
    np.testing.assert_allclose(bn.running_var[:, 0], 0.9 + (var - 0.9) * scale**2, rtol=1e-12)
    with pytest.raises(
        ValueError,
        match=r"^train_step \(optimizer step 1\): layer 1 \(batch_norm\): BatchNorm "
        r"running_var: a training batch's variance overflows float64; scale the inputs down$",
    ):
        tn.train_step(net, opt.init(net), x0 * 1e200, y, loss=tn.mse, optimizer=opt)
    with pytest.raises(
        ValueError, match=r"^fit: epoch 1, step 1 of 1: layer 1 \(batch_norm\): BatchNorm "
    ):
        tn.fit(net, x0 * 1e200, y, loss=tn.mse, optimizer=opt, epochs=1, batch_size=8,
               rng=rng, progress=False)  # fmt: skip


# --- construction --------------------------------------------------------------------------


@pytest.mark.parametrize("momentum", [0.0, -0.1, 1.5, float("nan"), float("inf"), True, "0.1"])
def test_momentum_must_be_in_0_1(momentum: Any) -> None:
    with pytest.raises(
        ValueError, match=r"batch_norm|BatchNorm: momentum must be a number in \(0, 1\]"
    ):
        tn.batch_norm(3, momentum=momentum)


def test_momentum_1_keeps_only_the_last_batch(rng: np.random.Generator) -> None:
    net = tn.network(tn.batch_norm(2, momentum=1))
    x = rng.normal(size=(2, 5))
    stepped, _, _ = tn.train_step(net, tn.sgd(0.1).init(net), x, x, loss=tn.mse,
                                  optimizer=tn.sgd(0.1))  # fmt: skip
    bn = stepped.layers[0]
    assert isinstance(bn, tn.BatchNorm) and bn.momentum == 1.0
    _close(bn.running_var[:, 0], x.var(axis=1, ddof=1))


@pytest.mark.parametrize(
    ("eps", "dtype", "message"),
    [
        (0.0, np.float64, r"eps must be a finite number > 0, got 0.0"),
        (-1e-5, np.float64, r"eps must be a finite number > 0, got -1e-05"),
        (float("inf"), np.float64, r"eps must be a finite number > 0, got inf"),
        (1e-50, np.float32, r"eps must stay a finite number > 0 in float32, got 1e-50, which rounds to 0.0"),
        (1e300, np.float32, r"eps must stay a finite number > 0 in float32, got 1e\+300, which rounds to inf"),
    ],
)  # fmt: skip
def test_eps_must_be_positive_and_finite_in_the_dtype(
    eps: float, dtype: type[np.floating[Any]], message: str
) -> None:
    with pytest.raises(ValueError, match=r"BatchNorm: " + message):
        tn.batch_norm(3, eps=eps, dtype=dtype)


def test_running_statistics_are_checked_on_construction() -> None:
    ones, zeros = np.ones((2, 1)), np.zeros((2, 1))
    with pytest.raises(
        ValueError, match=r"BatchNorm running_var: a variance must be >= 0, got negative values"
    ):
        tn.BatchNorm(gamma=ones, beta=zeros, running_mean=zeros, running_var=-ones)  # fmt: skip
    with pytest.raises(ValueError, match=r"BatchNorm running_mean: .*NaN or inf"):
        tn.BatchNorm(gamma=ones, beta=zeros, running_mean=ones * np.nan, running_var=ones)
    with pytest.raises(ValueError, match=r"BatchNorm running_var: .*NaN or inf"):
        tn.BatchNorm(gamma=ones, beta=zeros, running_mean=zeros, running_var=ones * np.inf)
    with pytest.raises(
        tn.ShapeError,
        match=r"BatchNorm running_var: expected \(d, 1\) = \(2, 1\), got shape \(1, 2\)",
    ):
        tn.BatchNorm(gamma=ones, beta=zeros, running_mean=zeros, running_var=ones.T)
    with pytest.raises(tn.ShapeError, match=r"BatchNorm running_mean: .*float32"):
        tn.BatchNorm(
            gamma=ones, beta=zeros, running_mean=zeros.astype(np.float32), running_var=ones
        )


def test_the_arrays_are_copied_and_read_only() -> None:
    mean = np.zeros((2, 1))
    bn = tn.BatchNorm(
        gamma=np.ones((2, 1)), beta=mean, running_mean=mean, running_var=np.ones((2, 1))
    )
    mean[0, 0] = 5.0
    assert bn.running_mean[0, 0] == 0.0
    with pytest.raises(ValueError, match="read-only"):
        bn.running_mean[0, 0] = 1.0


def test_typed_dims_and_repr() -> None:
    class Hidden(tn.Dim, size=3): ...

    bn = tn.batch_norm(Hidden, momentum=0.2, dtype=np.float32)
    assert repr(bn) == "BatchNorm(Hidden 3, momentum=0.2, eps=1e-05, float32)"
    assert bn.label() == "batch_norm" and bn.dim_names() == ("Hidden", "Hidden")
    rng = np.random.default_rng(0)
    with pytest.raises(
        tn.ShapeError, match=r"layer 2: takes Hidden 3 values per column, but layer 1 gives 4"
    ):
        tn.Network((tn.dense(rng, 2, 4, tn.relu, dtype=np.float32), bn))  # fmt: skip


# --- saving, pickling, copying -------------------------------------------------------------


def _trained(rng: np.random.Generator) -> tn.Network[Any, Any]:
    """A network whose BatchNorm holds statistics other than the initial ones."""
    net = tn.network(tn.dense(rng, 3, 4, tn.relu)).then(tn.batch_norm(4, momentum=0.25, eps=1e-3))
    net = net.then(tn.dense(rng, 4, 2, tn.identity))
    x, y = rng.normal(size=(3, 10)), rng.normal(size=(2, 10))
    opt = tn.sgd(0.1)
    state = opt.init(net)
    for _ in range(3):
        net, state, _ = tn.train_step(net, state, x, y, loss=tn.mse, optimizer=opt)
    return net


def _same_statistics(a: tn.Network[Any, Any], b: tn.Network[Any, Any]) -> None:
    la, lb = a.layers[1], b.layers[1]
    assert isinstance(la, tn.BatchNorm) and isinstance(lb, tn.BatchNorm)
    np.testing.assert_array_equal(la.running_mean, lb.running_mean)
    np.testing.assert_array_equal(la.running_var, lb.running_var)
    assert (la.momentum, la.eps) == (lb.momentum, lb.eps)
    x = np.random.default_rng(9).normal(size=(3, 5)).astype(a.dtype)
    np.testing.assert_array_equal(tn.forward(a, x), tn.forward(b, x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_save_and_load_keep_the_statistics(tmp_path: Path, dtype: type[np.floating[Any]]) -> None:
    net = _trained(np.random.default_rng(0))
    if dtype is np.float32:
        net = tn.Network([_cast(layer, np.float32) for layer in net.layers])
    tn.save(tmp_path / "net.npz", net)
    _same_statistics(tn.load(tmp_path / "net.npz"), net)
    # like= compares the architecture, not the statistics: a fresh network will do.
    fresh = _trained(np.random.default_rng(1))
    if dtype is np.float32:
        fresh = tn.Network([_cast(layer, np.float32) for layer in fresh.layers])
    _same_statistics(tn.load(tmp_path / "net.npz", like=fresh), net)
    assert "layer 2: batch_norm 4, momentum 0.25, eps 0.001" in tn.io.info(tmp_path / "net.npz")


def _cast(layer: tn.layers.AnyLayer, dtype: type[np.floating[Any]]) -> tn.layers.AnyLayer:
    if isinstance(layer, tn.Dense):
        return tn.Dense(
            w=layer.w.astype(dtype), b=layer.b.astype(dtype), activation=layer.activation
        )
    assert isinstance(layer, tn.BatchNorm)
    return tn.BatchNorm(
        gamma=layer.gamma.astype(dtype), beta=layer.beta.astype(dtype),
        running_mean=layer.running_mean.astype(dtype), running_var=layer.running_var.astype(dtype),
        momentum=layer.momentum, eps=layer.eps,
    )  # fmt: skip


def test_like_with_another_momentum_is_refused(tmp_path: Path) -> None:
    net = _trained(np.random.default_rng(0))
    tn.save(tmp_path / "net.npz", net)
    other = tn.Network([*net.layers[:1], tn.batch_norm(4, eps=1e-3), *net.layers[2:]])
    with pytest.raises(ValueError, match=r"layer 2 momentum: the file has 0.25, like= has 0.1"):
        tn.load(tmp_path / "net.npz", like=other)


def test_a_file_with_a_negative_running_variance_is_refused(tmp_path: Path) -> None:
    import json
    import zipfile

    tn.save(tmp_path / "net.npz", _trained(np.random.default_rng(0)))
    with zipfile.ZipFile(tmp_path / "net.npz") as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    meta = json.loads(np.load(tmp_path / "net.npz")["__typednet__"].tobytes())
    for key, value, message in (
        ("running_var", [1.0, -1.0, 1.0, 1.0], "a variance must be >= 0"),
        ("running_var", [1.0, 1.0], r"running_var: expected 4 numbers, got 2"),
        ("running_mean", "zeros", r"running_mean: expected a list of 4 numbers, got 'zeros'"),
    ):
        meta["layers"][1][key] = value
        import io

        buffer = io.BytesIO()
        np.save(buffer, np.frombuffer(json.dumps(meta).encode(), np.uint8))
        members["__typednet__.npy"] = buffer.getvalue()
        with zipfile.ZipFile(tmp_path / "bad.npz", "w") as zf:
            for name, data in members.items():
                zf.writestr(name, data)
        with pytest.raises(ValueError, match=message):
            tn.load(tmp_path / "bad.npz")
        meta = json.loads(np.load(tmp_path / "net.npz")["__typednet__"].tobytes())


def test_pickle_and_deepcopy_keep_the_statistics() -> None:
    net = _trained(np.random.default_rng(0))
    _same_statistics(pickle.loads(pickle.dumps(net)), net)
    _same_statistics(copy.deepcopy(net), net)
    _same_statistics(copy.copy(net), net)


def test_typednet_dask_refuses_to_train_it() -> None:
    """Chunks' batch statistics are not the batch's: refused, not silently wrong."""
    import dask.array as da

    import typednet.dask as tnd

    net = _trained(np.random.default_rng(0))
    X, Y = da.from_array(np.ones((3, 4))), da.from_array(np.ones((2, 4)))
    message = (
        r"^typednet\.dask\.{}: layer 2 \(batch_norm\) learns statistics over the whole batch "
        r"in training, which typednet\.dask does not support; train this network with tn\.fit "
        r"\(typednet\.dask\.forward runs it\)$"
    )
    with pytest.raises(ValueError, match=message.format("value_and_grad")):
        tnd.value_and_grad(net, X, Y, tn.mse)
    with pytest.raises(ValueError, match=message.format("fit")):
        tnd.fit(net, X, Y, loss=tn.mse, optimizer=tn.sgd(0.1), epochs=1, batch_size=2,
                rng=np.random.default_rng(0))  # fmt: skip


def test_a_block_refuses_a_batch_norm_whose_statistics_it_would_not_update() -> None:
    # train_step updates the network's own BatchNorm layers; one inside a residual or a
    # parallel branch would keep its first statistics forever, silently.
    rng = np.random.default_rng(0)
    inner = tn.network(tn.dense(rng, 3, 3, tn.relu)).then(tn.batch_norm(3))
    with pytest.raises(
        ValueError,
        match=r"^Residual\(3 → 3\): layer 2 \(batch_norm\) keeps running statistics, which "
        r"training does not update inside a block yet; put it before or after the block$",
    ):
        tn.residual(inner)
    with pytest.raises(ValueError, match=r"^Parallel branch 2: layer 2 \(batch_norm\) keeps"):
        tn.parallel(tn.network(tn.dense(rng, 3, 2, tn.relu)), inner)
    square = tn.network(tn.dense(rng, 3, 2, tn.relu))
    with pytest.raises(ValueError, match=r"^Residual\(3 → 2\) shortcut: a batch_norm keeps"):
        tn.residual(square, shortcut=tn.batch_norm(3))  # (its sizes would be refused next)
