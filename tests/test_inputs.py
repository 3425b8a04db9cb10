"""`tn.inputs` (`NamedInputs`): a network over named inputs, numeric columns and an id.

References are independent: the forward pass re-derived in plain NumPy from the params,
gradients by central differences, onnxruntime for the export, `fit` against the same steps taken by
hand over a hand-shuffled order, and a plain network over the same numbers.
"""

import io
import json
import os
import pickle
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any, Literal, TypedDict

import numpy as np
import onnxruntime
import pytest

import typednet as tn
from tests.archives import archive
from typednet import _store


class Numeric(tn.Dim, size=3): ...


class Hidden(tn.Dim, size=4): ...


class Colours(tn.Dim, size=3): ...


class Width(tn.Dim, size=2): ...


class Joined(tn.Dim, size=6): ...


class Output(tn.Dim, size=1): ...


class Wine(TypedDict):
    numeric: tn.Inputs
    colour: tn.Ids


def _net(seed: int = 0, dtype: Any = np.float64) -> tn.Network[Wine, Output]:
    """inputs(numeric → 4 (tanh) | colour → embedding 2) → residual(6 (tanh)) → 1."""
    rng = np.random.default_rng(seed)
    first = tn.inputs(
        Wine,
        Joined,
        numeric=tn.network(tn.dense(rng, Numeric, Hidden, tn.tanh, dtype=dtype)),
        colour=tn.network(tn.embedding(rng, Colours, Width, dtype=dtype)),
    )
    block = tn.network(tn.dense(rng, Joined, Joined, tn.tanh, dtype=dtype))
    return (
        tn.network(first)
        .then(tn.residual(block))
        .then(tn.dense(rng, Joined, Output, tn.identity, dtype=dtype))
    )


def _data(n: int = 10, seed: int = 1, dtype: Any = np.float64) -> tuple[Wine, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = Wine(
        numeric=rng.normal(size=(3, n)).astype(dtype),
        colour=rng.integers(0, 3, size=(1, n)),
    )
    return x, rng.normal(size=(1, n)).astype(dtype)


def _by_hand(net: tn.Network[Any, Any], x: Wine) -> np.ndarray:
    w1, b1, table, w2, b2, w3, b3 = net.params
    joined = np.vstack([np.tanh(w1 @ x["numeric"] + b1), table[:, x["colour"][0]]])
    h = joined + np.tanh(w2 @ joined + b2)
    out: np.ndarray = w3 @ h + b3
    return out


def _central_differences(net: tn.Network[Any, Any], x: Wine, y: np.ndarray) -> list[np.ndarray]:
    h = 1e-6

    def loss(params: list[np.ndarray]) -> float:
        return float(np.mean((_by_hand(_store.from_params(net, params), x) - y) ** 2))

    out = []
    for k, p in enumerate(net.params):
        numeric = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            up, down = [q.copy() for q in net.params], [q.copy() for q in net.params]
            up[k][idx] += h
            down[k][idx] -= h
            numeric[idx] = (loss(up) - loss(down)) / (2 * h)
        out.append(numeric)
    return out


# --- the maths -------------------------------------------------------------------------------


def test_forward_is_the_branches_stacked_then_the_rest() -> None:
    net, (x, _) = _net(), _data()
    np.testing.assert_allclose(tn.forward(net, x), _by_hand(net, x), rtol=1e-13, atol=1e-15)
    blocks = tn.forward(net, x, batch_size=3)
    np.testing.assert_allclose(blocks, _by_hand(net, x), rtol=1e-13, atol=1e-15)


def test_a_plain_dict_and_any_mapping_work_like_the_typed_dict() -> None:
    net, (x, _) = _net(), _data()
    from types import MappingProxyType

    want = _by_hand(net, x)
    # Not the network's TypedDict, so the checkers refuse them; at run time any mapping is taken.
    plain: Any = dict(x)
    proxy: Any = MappingProxyType(dict(x))
    np.testing.assert_allclose(tn.forward(net, plain), want, rtol=1e-13)
    np.testing.assert_allclose(tn.forward(net, proxy), want, rtol=1e-13)


def test_gradients_match_central_differences() -> None:
    net, (x, y) = _net(), _data()
    value, grads = tn.value_and_grad(net, x, y, tn.mse)
    assert value == pytest.approx(float(np.mean((_by_hand(net, x) - y) ** 2)), rel=1e-13)
    for got, want in zip(grads.params, _central_differences(net, x, y), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
    again = tn.grad(net, x, y, tn.mse)
    for a, b in zip(again.params, grads.params, strict=True):
        np.testing.assert_array_equal(a, b)


def test_repeated_ids_collect_their_gradients() -> None:
    net = _net()
    x = Wine(numeric=np.zeros((3, 4)), colour=np.array([[2, 2, 2, 0]]))
    y = np.zeros((1, 4))
    _, grads = tn.value_and_grad(net, x, y, tn.mse)
    table_grad = grads.params[2]
    assert not table_grad[:, 1].any()  # colour 1 never appears
    per_column = [
        tn.value_and_grad(net, Wine(numeric=np.zeros((3, 1)), colour=x["colour"][:, [j]]),
                          y[:, [j]], tn.mse)[1].params[2] / 4
        for j in range(4)
    ]  # fmt: skip
    np.testing.assert_allclose(table_grad, sum(per_column), rtol=1e-12)


# --- training --------------------------------------------------------------------------------


def test_fit_is_the_same_steps_over_a_hand_shuffled_order() -> None:
    net, (x, y) = _net(), _data(n=10)
    val_x, val_y = _data(n=5, seed=7)
    opt = tn.adam(0.05)
    trained, history = tn.fit(net, x, y, loss=tn.mse, optimizer=opt, epochs=3, batch_size=4,
                              rng=np.random.default_rng(3), validation=(val_x, val_y),
                              progress=False)  # fmt: skip
    order_rng = np.random.default_rng(3)
    state, by_hand, losses = opt.init(net), net, []
    for _ in range(3):
        order = order_rng.permutation(10)
        total = 0.0
        for k in range(0, 10, 4):
            cols = order[k : k + 4]
            batch = Wine(numeric=x["numeric"][:, cols], colour=x["colour"][:, cols])
            by_hand, state, value = tn.train_step(by_hand, state, batch, y[:, cols],
                                                  loss=tn.mse, optimizer=opt)  # fmt: skip
            total += value * cols.size
        losses.append(total / 10)
    for a, b in zip(trained.params, by_hand.params, strict=True):
        np.testing.assert_array_equal(a, b)
    assert history.train_loss == pytest.approx(losses, rel=1e-12)
    val = float(np.mean((_by_hand(trained, val_x) - val_y) ** 2))
    assert history.val_loss[-1] == pytest.approx(val, rel=1e-12)


def test_fit_with_a_fixed_seed_is_reproducible_bit_for_bit() -> None:
    (x, y), opt = _data(n=12), tn.sgd(0.1)
    runs = [
        tn.fit(_net(), x, y, loss=tn.mse, optimizer=opt, epochs=4, batch_size=5,
               rng=np.random.default_rng(9), progress=False)[0]
        for _ in range(2)
    ]  # fmt: skip
    for a, b in zip(runs[0].params, runs[1].params, strict=True):
        np.testing.assert_array_equal(a, b)


def test_one_named_input_trains_exactly_like_the_plain_network() -> None:
    class Only(TypedDict):
        x: tn.Inputs

    rng = np.random.default_rng(0)
    dense = tn.dense(rng, 3, 1, tn.identity)
    plain = tn.network(dense)
    named = tn.network(tn.inputs(Only, None, x=tn.network(dense)))
    x, y = rng.normal(size=(3, 9)), rng.normal(size=(1, 9))
    kw: dict[str, Any] = {"loss": tn.mse, "optimizer": tn.adam(0.1), "epochs": 3,
                          "batch_size": 4, "progress": False}  # fmt: skip
    a, ha = tn.fit(plain, x, y, rng=np.random.default_rng(5), **kw)
    b, hb = tn.fit(named, Only(x=x), y, rng=np.random.default_rng(5), **kw)
    np.testing.assert_array_equal(a.params[0], b.params[0])
    assert ha.train_loss == hb.train_loss


def test_float32_end_to_end() -> None:
    net, (x, y) = _net(dtype=np.float32), _data(dtype=np.float32)
    trained, _ = tn.fit(net, x, y, loss=tn.mse, optimizer=tn.adam(0.01), epochs=2, batch_size=4,
                        rng=np.random.default_rng(0), progress=False)  # fmt: skip
    assert tn.forward(trained, x).dtype == np.float32


# --- saving, pickling, summary ---------------------------------------------------------------


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    net, (x, _) = _net(), _data()
    path = tmp_path / "net.npz"
    tn.save(path, net)
    loaded = tn.load(path)
    typed: tn.Network[Wine, Output] = tn.load(path, like=net)
    np.testing.assert_array_equal(tn.forward(typed, x), tn.forward(net, x))
    # Loaded without like=, a Network[int, int]: its inputs are checked at run time only.
    np.testing.assert_array_equal(tn.forward(loaded, dict(x)), tn.forward(net, x))  # type: ignore[misc]
    assert repr(loaded) == repr(net)
    assert repr(typed.layers[0]) == repr(net.layers[0])
    assert "Joined 6" in repr(typed.layers[0])


def test_load_like_a_network_over_other_names_is_refused(tmp_path: Path) -> None:
    class Renamed(TypedDict):
        numeric: tn.Inputs
        shade: tn.Ids

    rng = np.random.default_rng(0)
    other = tn.network(tn.inputs(
        Renamed, Joined,
        numeric=tn.network(tn.dense(rng, Numeric, Hidden, tn.tanh)),
        shade=tn.network(tn.embedding(rng, Colours, Width)),
    )).then(tn.residual(tn.network(tn.dense(rng, Joined, Joined, tn.tanh)))).then(
        tn.dense(rng, Joined, Output, tn.identity))  # fmt: skip
    path = tmp_path / "net.npz"
    tn.save(path, _net())
    with pytest.raises(
        ValueError,
        match=r"net\.npz: layer 1 inputs: the file has numeric: \[dense Numeric 3 → Hidden 4, tanh\] colour: \[.*\], like= has numeric: \[.*\] shade: \[",
    ):
        tn.load(path, like=other)


def test_pickle_round_trip() -> None:
    net, (x, _) = _net(), _data()
    again = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(tn.forward(again, x), tn.forward(net, x))
    assert again.layers[0].out is Joined


def test_summary_and_repr_show_each_input() -> None:
    net = _net()
    assert repr(net.layers[0]) == (
        "NamedInputs(numeric Numeric 3, colour ids → Joined 6: [4 (tanh)] "
        "[2 (embedding of 3)], 22 params)"
    )
    lines = tn.summary(net).splitlines()
    assert lines[1].split() == ["1", "named_inputs", "(Joined", "6,", "4)", "22"]
    assert lines[2].split() == [
        "numeric.1",
        "dense",
        "(tanh)",
        "(Hidden",
        "4,",
        "Numeric",
        "3)",
        "16",
    ]
    assert lines[3].split()[:2] == ["colour.1", "embedding"]
    first = net.layers[0]
    assert isinstance(first, tn.NamedInputs)
    assert first.param_names == ("numeric.1.w", "numeric.1.b", "colour.1.table")
    assert first.names == ("numeric", "colour")


# --- hostile inputs ----------------------------------------------------------------------------


def _x() -> Any:  # mangled by the tests, so not a Wine for the checkers
    x, _ = _data()
    return dict(x)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda x: x["numeric"], r"forward input x: expected a mapping of the named inputs 'numeric', 'colour' \(the network starts with tn\.inputs\), got one array \(shape \(3, 10\) float64\); pass \{'numeric': \.\.\., 'colour': \.\.\.\}"),
        (lambda x: [x["numeric"], x["colour"]], r"got a list; pass"),
        (lambda x: np.zeros((4, 10)), r"forward input x: expected a mapping .* got one array \(shape \(4, 10\) float64\)"),
        (lambda x: {"numeric": x["numeric"]}, r"forward input x: expected the named inputs 'numeric', 'colour', got missing 'colour'$"),
        (lambda x: {**x, "extra": x["colour"]}, r"got unexpected 'extra'$"),
        (lambda x: {"numeric": x["numeric"], "color": x["colour"]}, r"got missing 'colour' and unexpected 'color'; did you mean 'colour' for 'color'\?"),
        (lambda x: {"numeric": x["numeric"], 3: x["colour"]}, r"got missing 'colour' and unexpected 3"),
        (lambda x: {"numeric": x["colour"], "colour": x["numeric"]}, r"forward input x\['numeric'\]: expected a floating dtype, got int64; pass x\['numeric'\]\.astype\(np\.float64\)"),
        (lambda x: {**x, "colour": x["colour"].astype(float)}, r"forward input x\['colour'\]: expected integer ids of shape \(1, batch\) for layer 1 \(2 \(embedding of 3\)\), got dtype float64; pass x\['colour'\]\.astype\(np\.int64\)"),
        (lambda x: {**x, "colour": x["colour"][0]}, r"x\['colour'\]: expected integer ids .*got shape \(10,\) int64; pass x\['colour'\]\.reshape\(1, -1\)"),
        (lambda x: {**x, "numeric": x["numeric"].T}, r"forward input x\['numeric'\]: expected \(features, batch\) = \(3, batch\), got shape \(10, 3\) float64; samples are columns: pass x\['numeric'\]\.T"),
        (lambda x: {**x, "numeric": x["numeric"].astype(np.float32)}, r"x\['numeric'\].*float32"),
        (lambda x: {**x, "colour": x["colour"][:, :7]}, r"forward input x\['colour'\]: has 7 columns but x\['numeric'\] has 10; every input holds the same samples, one column each"),
        (lambda x: {**x, "numeric": np.ma.masked_array(x["numeric"])}, r"x\['numeric'\].*masked array"),
    ],
)  # fmt: skip
def test_a_bad_mapping_is_a_shape_error_naming_the_input(change: Any, message: str) -> None:
    with pytest.raises(tn.ShapeError, match=message):
        tn.forward(_net(), change(_x()))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda x: {**x, "colour": np.array([[0, 1, 3, 0, 0, 0, 0, 0, 0, 0]])}, r"forward input x\['colour'\]: the id in column 2 is ≥ 3; ids must lie in \[0, 3\) \(the embedding's Colours categories\)"),
        (lambda x: {**x, "colour": np.array([[0, -1, 0, 0, 0, 0, 0, 0, 0, 0]])}, r"x\['colour'\]: the id in column 1 is negative"),
        (lambda x: {"numeric": np.zeros((3, 0)), "colour": np.zeros((1, 0), dtype=int)}, r"forward: the batch is empty \(x\['numeric'\] has 0 columns\)"),
    ],
)  # fmt: skip
def test_bad_values_are_a_value_error_naming_the_input(change: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        tn.forward(_net(), change(_x()))


def test_training_refuses_nan_naming_the_input() -> None:
    x, y = _x(), _data()[1]
    x["numeric"] = x["numeric"].copy()
    x["numeric"][1, 4] = np.nan
    with pytest.raises(
        ValueError,
        match=r"value_and_grad: x\['numeric'\] contains NaN or inf; training needs finite data",
    ):
        tn.value_and_grad(_net(), x, y, tn.mse)  # fmt: skip
    with pytest.raises(ValueError, match=r"fit: x\['numeric'\] contains NaN or inf"):
        tn.fit(_net(), x, y, loss=tn.mse, optimizer=tn.sgd(0.1), epochs=1, batch_size=4,
               rng=np.random.default_rng(0))  # fmt: skip


def test_fit_refuses_targets_of_another_length_and_bad_validation_inputs() -> None:
    x, y = _data()
    with pytest.raises(tn.ShapeError, match=r"fit: x has 10 columns \(samples\) but y has 9"):
        tn.fit(_net(), x, y[:, :9], loss=tn.mse, optimizer=tn.sgd(0.1), epochs=1, batch_size=4,
               rng=np.random.default_rng(0))  # fmt: skip
    bad_val: Any = {"numeric": x["numeric"]}
    with pytest.raises(
        tn.ShapeError,
        match=r"fit validation input x: expected the named inputs 'numeric', 'colour', got missing 'colour'",
    ):
        tn.fit(_net(), x, y, loss=tn.mse, optimizer=tn.sgd(0.1), epochs=1, batch_size=4,
               rng=np.random.default_rng(0), validation=(bad_val, y))  # fmt: skip
    with pytest.raises(
        tn.ShapeError,
        match=r"train_step target y: expected \(outputs, batch\) = \(1, 10\), got shape \(1, 9\)",
    ):
        net = _net()
        tn.train_step(net, tn.sgd(0.1).init(net), x, y[:, :9], loss=tn.mse, optimizer=tn.sgd(0.1))  # fmt: skip


# --- construction ------------------------------------------------------------------------------


def test_the_spec_must_name_the_branches() -> None:
    rng = np.random.default_rng(0)
    numeric = tn.network(tn.dense(rng, Numeric, Hidden, tn.tanh))
    with pytest.raises(ValueError, match=re.escape(
        "inputs: Wine's keys are 'numeric', 'colour' but the branches are named 'numeric'; "
        "no branch for 'colour'"
    )):  # fmt: skip
        tn.inputs(Wine, None, numeric=numeric)
    with pytest.raises(
        TypeError,
        match=r"inputs: spec must be a TypedDict class naming the inputs, got <class 'dict'>",
    ):
        tn.inputs(dict, None, numeric=numeric)  # fmt: skip


def test_the_out_dim_must_be_the_sum_of_the_branches() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(tn.ShapeError, match=re.escape(
        "NamedInputs(out Hidden 4): the inputs' branches give 4 (numeric) + 2 (colour) = 6 "
        "values per column, but Hidden has size 4; declare a Dim of size 6"
    )):  # fmt: skip
        tn.inputs(Wine, Hidden, numeric=tn.network(tn.dense(rng, Numeric, Hidden, tn.tanh)),
                  colour=tn.network(tn.embedding(rng, Colours, Width)))  # fmt: skip


def test_named_inputs_stand_first_and_outside_any_block() -> None:
    first = _net().layers[0]
    assert isinstance(first, tn.NamedInputs)
    rng = np.random.default_rng(0)
    with pytest.raises(
        tn.ShapeError,
        match=r"layer 2 \(NamedInputs, inputs\(.*\)\) takes named inputs, so it must be a network's first layer, outside any block",
    ):
        tn.Network([tn.dense(rng, 6, 6, tn.relu), first])  # fmt: skip
    with pytest.raises(tn.ShapeError, match=r"layer 1 branch\.1\.1 .*takes named inputs"):
        tn.Network([tn.parallel(tn.Network([first]))])
    with pytest.raises(
        tn.ShapeError, match=r"NamedInputs input 'inner': a branch cannot itself take named inputs"
    ):
        tn.NamedInputs((("inner", tn.Network([first])),))


def test_branches_are_checked() -> None:
    rng = np.random.default_rng(0)
    one = tn.network(tn.dense(rng, 2, 2, tn.relu))
    with pytest.raises(
        TypeError,
        match=r"NamedInputs: branches must be a non-empty mapping of names to Networks, got tuple",
    ):
        tn.NamedInputs(())
    with pytest.raises(
        ValueError,
        match=r"NamedInputs input 1: its name must be an identifier string, got 'not a name'",
    ):
        tn.NamedInputs((("not a name", one),))
    with pytest.raises(ValueError, match=r"NamedInputs input 'a': named twice"):
        tn.NamedInputs((("a", one), ("a", one)))
    with pytest.raises(
        TypeError, match=r"NamedInputs input 'a': expected a typednet Network, got Dense"
    ):
        tn.NamedInputs((("a", tn.dense(rng, 2, 2, tn.relu)),))  # type: ignore[arg-type]  # a layer, not a network: refused at run time
    narrow = tn.network(tn.dense(rng, 2, 2, tn.relu, dtype=np.float32))
    with pytest.raises(
        tn.ShapeError,
        match=r"NamedInputs input 'b': params are float32 but those of input 'a' are float64; build every branch with the same dtype",
    ):
        tn.NamedInputs({"a": one, "b": narrow})  # type: ignore[arg-type]  # a mapping is taken too
    with pytest.raises(
        ValueError, match=r"NamedInputs input 'a': layer 2 \(batch_norm\) keeps running statistics"
    ):
        tn.NamedInputs((("a", one.then(tn.batch_norm(2))),))


# --- ONNX ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["rows", "columns"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_onnx_has_one_graph_input_per_name(layout: Literal["rows", "columns"], dtype: Any) -> None:
    net, (x, _) = _net(dtype=dtype), _data(dtype=dtype)
    model = tn.to_onnx(net, layout=layout)
    float_type = 11 if dtype == np.float64 else 1  # onnx.TensorProto.DOUBLE / FLOAT
    declared = [
        (i.name, i.type.tensor_type.elem_type,
         [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim])
        for i in model.graph.input
    ]  # fmt: skip
    rows = layout == "rows"
    assert declared == [
        ("numeric", float_type, ["batch", 3] if rows else [3, "batch"]),
        ("colour", 7, ["batch", 1] if rows else [1, "batch"]),  # int64
    ]
    session = onnxruntime.InferenceSession(model.SerializeToString())
    feed = {
        "numeric": x["numeric"].T if rows else x["numeric"],
        "colour": (x["colour"].T if rows else x["colour"]).astype(np.int64),
    }
    out = np.asarray(session.run(None, feed)[0])
    want = _by_hand(net, x)
    tolerance = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(out.T if rows else out, want, rtol=tolerance, atol=tolerance)


def test_onnx_refuses_an_input_named_like_the_output() -> None:
    class Clash(TypedDict):
        y: tn.Inputs

    rng = np.random.default_rng(0)
    net = tn.network(tn.inputs(Clash, None, y=tn.network(tn.dense(rng, 2, 1, tn.identity))))
    with pytest.raises(ValueError, match=re.escape(
        "to_onnx: layer 1 (named_inputs): the name 'y' is taken in the graph (y is the output)"
    )):  # fmt: skip
        tn.to_onnx(net)


def _tampered(tmp_path: Path, change: Any) -> Path:
    """A saved `_net()` whose metadata's first layer ``change`` rewrote, members kept."""
    saved = tmp_path / "net.npz"
    tn.save(saved, _net())
    with zipfile.ZipFile(saved) as zf:
        members = {name: zf.read(name) for name in zf.namelist() if name != "__typednet__.npy"}
        raw = np.load(io.BytesIO(zf.read("__typednet__.npy")))
    meta = json.loads(raw.tobytes())
    change(meta["layers"][0])
    return archive(tmp_path / "tampered.npz", members, meta)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda spec: spec["inputs"][0].update(name="../evil"), r"layer 1 input 1 name: expected an identifier, got '\.\./evil'"),
        (lambda spec: spec["inputs"][1].update(name="numeric"), r"layer 1 input 2 name: 'numeric' is named twice"),
        (lambda spec: spec.update(inputs=[]), r"layer 1 inputs: expected a non-empty list, got a list"),
        (lambda spec: spec.update(inputs="numeric"), r"layer 1 inputs: expected a non-empty list, got 'numeric'"),
        (lambda spec: spec["inputs"][0].pop("layers"), r"layer 1 input 1: missing 'layers'"),
        (lambda spec: spec.update(out=["Joined", 0]), r"layer 1 out: expected a positive integer, got 0"),
    ],
)  # fmt: skip
def test_a_tampered_file_is_refused_naming_the_input(
    tmp_path: Path, change: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        tn.load(_tampered(tmp_path, change))


def test_a_branch_with_dropout_needs_rng_and_draws_from_it() -> None:
    class Only(TypedDict):
        numeric: tn.Inputs

    rng = np.random.default_rng(0)
    branch = tn.network(tn.dense(rng, 3, 4, tn.relu)).then(tn.dropout(0.5))
    net = tn.network(tn.inputs(Only, None, numeric=branch)).then(tn.dense(rng, 4, 1, tn.identity))
    x, y = Only(numeric=rng.normal(size=(3, 8))), rng.normal(size=(1, 8))
    with pytest.raises(
        TypeError,
        match=r"value_and_grad: layer 1 \(inputs\(numeric: 4 \(relu\) → dropout 0\.5\)\) draws random masks in training, so rng= must be np.random.default_rng\(seed\); none was given",
    ):
        tn.value_and_grad(net, x, y, tn.mse)  # fmt: skip
    runs = [tn.value_and_grad(net, x, y, tn.mse, rng=np.random.default_rng(4)) for _ in range(2)]
    assert runs[0][0] == runs[1][0]
    # At inference the dropout passes its input through: the plain chain's output.
    w1, b1, w2, b2 = net.params
    np.testing.assert_allclose(
        tn.forward(net, x), w2 @ np.maximum(w1 @ x["numeric"] + b1, 0) + b2, rtol=1e-13
    )


def test_typednet_predict_refuses_a_network_over_named_inputs_in_one_line(tmp_path: Path) -> None:
    saved, data = tmp_path / "net.npz", tmp_path / "data.csv"
    tn.save(saved, _net())
    data.write_text("a,b,c,d\n1,2,3,0\n", encoding="utf-8")  # as many values as in_size
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    run = subprocess.run(
        [sys.executable, "-m", "typednet", "predict", str(saved), str(data),
         "--out", str(tmp_path / "out.csv")],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        "typednet: error: forward input x: expected a mapping of the named inputs 'numeric', "
        "'colour' (the network starts with tn.inputs), got one array (shape (4, 1) float64); "
        "pass {'numeric': ..., 'colour': ...}"
    ]
    assert not (tmp_path / "out.csv").exists()
