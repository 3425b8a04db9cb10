"""`Embedding[V, D]`: integer ids (1, n) to (D, n) columns, checked against plain NumPy.

The references are independent of the layer's code: the forward is plain fancy
indexing and, separately, the one-hot product ``table @ one_hot(ids)`` (a (V, n)
matrix built by hand); the gradient is central differences on the table and the
one-hot product's own gradient ``upstream @ one_hot(ids).T``, with repeated ids.

The kind is not in the shared LAYERS table (tests/helpers.py): that table puts each
kind between two Dense layers on floating columns, and an Embedding takes integer ids,
so it can only stand first.
"""

import copy
import pickle
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import onnxruntime
import pytest

import typednet as tn

Ids = npt.NDArray[np.int64]


class Vocab(tn.Dim, size=5): ...


class Width(tn.Dim, size=3): ...


class Hidden(tn.Dim, size=2): ...


def _x(ids: npt.NDArray[Any]) -> tn.Matrix:
    """Ids as the public functions' input type: they are typed for floating columns, and
    a network starting with an Embedding takes integer ids there (checked at run time)."""
    return cast(tn.Matrix, ids)


def _one_hot(ids: Ids, vocab: int) -> npt.NDArray[np.float64]:
    """The (V, n) one-hot matrix: column j is 1 in row ids[0, j]."""
    out = np.zeros((vocab, ids.shape[1]))
    for j, c in enumerate(ids[0]):
        out[c, j] = 1.0
    return out


def _net(dtype: type[np.floating[Any]] = np.float64) -> tn.Network[Vocab, Hidden]:
    rng = np.random.default_rng(0)
    return tn.network(tn.embedding(rng, Vocab, Width, dtype=dtype)).then(
        tn.dense(rng, Width, Hidden, tn.tanh, dtype=dtype)
    )


# Id 4 three times, id 1 twice, id 3 never.
IDS: Ids = np.array([[4, 1, 4, 0, 2, 1, 4]])


def test_forward_is_fancy_indexing_and_the_one_hot_product() -> None:
    layer = tn.embedding(np.random.default_rng(1), 5, 3)
    got = tn.forward(tn.network(layer), _x(IDS))
    table = layer.table
    want = np.stack([table[:, c] for c in IDS[0]], axis=1)
    assert got.shape == (3, 7) and got.dtype == np.float64
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(got, table @ _one_hot(IDS, 5), rtol=0, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.uint16, np.uint64, np.int64])
def test_any_integer_dtype_is_taken(dtype: type[np.integer[Any]]) -> None:
    net = _net()
    want = tn.forward(net, _x(IDS))
    np.testing.assert_array_equal(tn.forward(net, _x(IDS.astype(dtype))), want)


def test_gradient_is_a_scatter_add_matching_central_differences() -> None:
    net = _net()
    rng = np.random.default_rng(2)
    y = rng.normal(size=(2, 7))
    _, grads = tn.value_and_grad(net, _x(IDS), y, loss=tn.mse)
    g = grads.params[0]
    table, w, b = (p.copy() for p in net.params)
    layers = net.layers

    def loss(t: tn.Matrix) -> float:
        probe = tn.Network([tn.Embedding(table=t), *layers[1:]])
        return float(tn.mse(y, tn.forward(probe, _x(IDS))))

    h = 1e-6
    fd = np.zeros_like(table)
    for i in range(table.shape[0]):
        for c in range(table.shape[1]):
            up, down = table.copy(), table.copy()
            up[i, c] += h
            down[i, c] -= h
            fd[i, c] = (loss(up) - loss(down)) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9)
    assert np.all(g[:, 3] == 0.0)  # an id not in the batch gets no gradient
    assert np.all(g[:, 4] != 0.0)  # id 4, three times
    # The one-hot product's gradient, written independently: d table = delta @ onehot.T,
    # delta = d loss / d (table @ onehot) = w.T @ (d loss / d pre) for the dense tanh.
    pre = w @ (table @ _one_hot(IDS, 5)) + b
    d_post = 2 * (np.tanh(pre) - y) / y.size
    delta = w.T @ (d_post * (1 - np.tanh(pre) ** 2))
    np.testing.assert_allclose(g, delta @ _one_hot(IDS, 5).T, rtol=1e-12, atol=1e-15)


def test_grad_and_train_step_take_ids() -> None:
    net = _net()
    y = np.zeros((2, 7))
    grads = tn.grad(net, _x(IDS), y, tn.mse)
    _, want = tn.value_and_grad(net, _x(IDS), y, loss=tn.mse)
    np.testing.assert_array_equal(grads.params[0], want.params[0])
    opt = tn.sgd(0.5)
    stepped, _, value = tn.train_step(net, opt.init(net), _x(IDS), y, loss=tn.mse, optimizer=opt)
    np.testing.assert_array_equal(stepped.params[0], net.params[0] - 0.5 * want.params[0])
    assert value == pytest.approx(float(tn.mse(y, tn.forward(net, _x(IDS)))))


def test_fit_learns_a_target_per_id() -> None:
    rng = np.random.default_rng(3)
    targets = rng.uniform(-0.8, 0.8, (2, 5))
    ids = rng.integers(0, 5, (1, 200))
    y = targets[:, ids[0]]
    net = _net()
    trained, history = tn.fit(
        net,
        _x(ids),
        y,
        loss=tn.mse,
        optimizer=tn.adam(0.05),
        epochs=60,
        batch_size=16,
        rng=rng,
        validation=(_x(ids[:, :20]), y[:, :20]),
    )
    assert history.train_loss[0] > 0.05
    assert history.train_loss[-1] < 1e-4
    every = np.arange(5).reshape(1, 5)
    np.testing.assert_allclose(tn.forward(trained, _x(every)), targets, atol=0.02)


# --- refusals ------------------------------------------------------------------------------


def test_ids_of_the_wrong_dtype_are_refused_with_a_hint() -> None:
    net = _net()
    for bad, dtype in ((IDS.astype(np.float64), "float64"), (IDS > 2, "bool")):
        with pytest.raises(
            tn.ShapeError,
            match=rf"^forward input x: expected integer ids of shape \(1, batch\) for layer 1 "
            rf"\(3 \(embedding of 5\)\), got dtype {dtype}; pass x.astype\(np.int64\)$",
        ):
            tn.forward(net, _x(bad))


def test_ids_of_the_wrong_shape_are_refused() -> None:
    net = _net()
    with pytest.raises(tn.ShapeError, match=r"got shape \(7,\) int64; pass x.reshape\(1, -1\)$"):
        tn.forward(net, _x(IDS[0]))
    with pytest.raises(tn.ShapeError, match=r"got shape \(7, 1\) int64; pass x.reshape\(1, -1\)$"):
        tn.forward(net, _x(IDS.T))
    with pytest.raises(tn.ShapeError, match=r"for layer 1 .*, got shape \(2, 7\) int64$"):
        tn.forward(net, _x(np.vstack([IDS, IDS])))
    with pytest.raises(tn.ShapeError, match=r"got a list, not a NumPy array$"):
        tn.forward(net, cast(tn.Matrix, [[1, 2]]))
    with pytest.raises(ValueError, match=r"^forward: the batch is empty \(x has 0 columns\)$"):
        tn.forward(net, _x(np.zeros((1, 0), np.int64)))


@pytest.mark.parametrize(
    ("value", "side"), [(-1, "negative"), (5, "≥ 5"), (2**40, "≥ 5"), (-(2**40), "negative")]
)
def test_out_of_range_ids_are_refused_naming_the_first_column(value: int, side: str) -> None:
    net = _net()
    ids = IDS.copy()
    ids[0, 3] = value
    ids[0, 5] = 7
    with pytest.raises(
        ValueError,
        match=rf"^forward input x: the id in column 3 is {side}; ids must lie in \[0, 5\) "
        r"\(the embedding's Vocab categories\)$",
    ):
        tn.forward(net, _x(ids))


def test_out_of_range_ids_are_refused_by_every_entry_point() -> None:
    net = _net()
    ids = IDS.copy()
    ids[0, 0] = -1
    y = np.zeros((2, 7))
    opt = tn.sgd(0.1)
    match = r"input x: the id in column 0 is negative"
    with pytest.raises(ValueError, match=rf"^value_and_grad {match}"):
        tn.value_and_grad(net, _x(ids), y, loss=tn.mse)
    with pytest.raises(ValueError, match=rf"^train_step {match}"):
        tn.train_step(net, opt.init(net), _x(ids), y, loss=tn.mse, optimizer=opt)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=rf"^fit {match}"):
        tn.fit(net, _x(ids), y, loss=tn.mse, optimizer=opt, epochs=1, batch_size=2, rng=rng)
    with pytest.raises(ValueError, match=rf"^fit validation {match}"):
        tn.fit(
            net,
            _x(IDS),
            y,
            loss=tn.mse,
            optimizer=opt,
            epochs=1,
            batch_size=2,
            rng=rng,
            validation=(_x(ids), y),
        )


def test_an_embedding_anywhere_but_first_is_refused() -> None:
    rng = np.random.default_rng(0)
    emb = tn.embedding(rng, 3, 3)
    message = (
        r"takes integer ids, so it must be a network's first layer, outside any block: "
        r"ids come from the network's input and carry no gradient$"
    )
    with pytest.raises(
        tn.ShapeError, match=r"^layer 2 \(Embedding, 3 \(embedding of 3\)\) " + message
    ):
        tn.Network([tn.dense(rng, 3, 3, tn.relu), emb])
    with pytest.raises(tn.ShapeError, match=r"^layer 2 \(Embedding, .*" + message):
        tn.Network([tn.dropout(0.1), emb])
    with pytest.raises(tn.ShapeError, match=r"^layer 1 block.1 \(Embedding, .*" + message):
        tn.Network([tn.residual(tn.Network([emb]), shortcut=tn.dense(rng, 1, 3, tn.identity))])


def test_a_bad_table_or_builder_argument_is_refused() -> None:
    with pytest.raises(
        tn.ShapeError,
        match=r"^Embedding\(Vocab 5 → Width 3\) table: expected \(next, prev\) = \(3, 5\), "
        r"got shape \(5, 3\) float64; did you pass table.T\?$",
    ):
        tn.Embedding(table=np.zeros((5, 3)), dims=(Vocab, Width))
    with pytest.raises(ValueError, match=r"^Embedding table: contains NaN or inf"):
        tn.Embedding(table=np.full((2, 2), np.nan))
    with pytest.raises(TypeError, match=r"^embedding: dtype must be floating .*, got int64$"):
        tn.embedding(np.random.default_rng(0), 5, 3, dtype=np.int64)


# --- init, saving, copies, export ------------------------------------------------------------


def test_builder_draws_a_standard_normal_table_with_dims() -> None:
    layer = tn.embedding(np.random.default_rng(0), Vocab, Width, dtype=np.float32)
    assert layer.table.shape == (3, 5) and layer.dtype == np.float32
    want = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    np.testing.assert_array_equal(layer.table, want)
    assert not layer.table.flags.writeable
    assert repr(layer) == "Embedding(Vocab 5 → Width 3, float32)"
    assert layer.dim_names() == ("Vocab", "Width") and layer.vocab == 5
    big = tn.embedding(np.random.default_rng(0), 1000, 50).table
    assert abs(big.mean()) < 0.01 and abs(big.std() - 1.0) < 0.01


def test_save_load_pickle_and_deepcopy_round_trip(tmp_path: Path) -> None:
    net = _net(np.float32)
    path = tmp_path / "net.npz"
    tn.save(path, net)
    loaded = tn.load(path, like=net)
    plain = tn.load(path)
    copied = copy.deepcopy(net)
    pickled = pickle.loads(pickle.dumps(net))
    for other in (loaded, plain, copied, pickled):
        assert isinstance(other.layers[0], tn.Embedding)
        for a, b in zip(other.params, net.params, strict=True):
            np.testing.assert_array_equal(a, b)
            assert a.dtype == b.dtype
        np.testing.assert_array_equal(tn.forward(other, _x(IDS)), tn.forward(net, _x(IDS)))
    assert cast("tn.Embedding[Any, Any]", loaded.layers[0]).dims == (Vocab, Width)
    assert cast("tn.Embedding[Any, Any]", plain.layers[0]).dims is None
    assert repr(loaded) == repr(net) == "Network 1 → 3 (embedding of 5) → 2 (tanh), 23 params"


def test_load_like_a_network_of_another_vocabulary_is_refused(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "net.npz"
    tn.save(path, tn.network(tn.embedding(rng, 4, 3)))
    with pytest.raises(tn.ShapeError, match=r"shape"):
        tn.load(path, like=tn.network(tn.embedding(rng, 5, 3)))


@pytest.mark.parametrize("layout", ["rows", "columns"])
def test_onnx_export_is_a_gather_matching_forward(layout: str) -> None:
    net = _net()
    model = tn.to_onnx(net, layout="rows" if layout == "rows" else "columns")
    assert "Gather" in [node.op_type for node in model.graph.node]
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    x = IDS if layout == "columns" else np.ascontiguousarray(IDS.T)
    (y,) = session.run(None, {"x": x})
    got = cast("npt.NDArray[np.float64]", y)
    want = tn.forward(net, _x(IDS))
    np.testing.assert_allclose(got if layout == "columns" else got.T, want, rtol=1e-12)
