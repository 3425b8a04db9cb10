import re

import numpy as np
import pytest

import typednet as tn
from typednet import _store
from typednet.apps.tutorial import build


class Features(tn.Dim, size=5): ...


class Hidden1(tn.Dim, size=3): ...


class Other(tn.Dim, size=3): ...


def _dense(prev: int, nxt: int, dtype: type = np.float64) -> tn.Dense:
    return tn.Dense(w=np.ones((nxt, prev), dtype), b=np.zeros((nxt, 1), dtype), activation=tn.relu)


def test_tutorial_network_sizes_count_and_repr() -> None:
    net, _, _ = build()
    assert net.sizes == (5, 3, 5, 4)
    assert (net.in_size, net.out_size) == (5, 4)
    # 3*5 + 3 + 5*3 + 5 + 4*5 + 4 weights and biases.
    assert net.param_count == 62
    assert repr(net) == "Network 5 → 3 (leaky_relu 0.1) → 5 (sigmoid) → 4 (sigmoid), 62 params"
    assert [p.shape for p in net.params] == [(3, 5), (3, 1), (5, 3), (5, 1), (4, 5), (4, 1)]


def test_network_from_a_runtime_sequence() -> None:
    layers = [_dense(2, 4), _dense(4, 1)]
    net: tn.Network = tn.Network(layers)  # type: ignore[arg-type]  # a list is accepted too
    assert isinstance(net.layers, tuple)
    assert net.sizes == (2, 4, 1)


def test_layers_that_do_not_chain() -> None:
    with pytest.raises(
        tn.ShapeError,
        match=re.escape(
            "layer 2 weights w: expected (next, prev) = (2, 4) to take layer 1's 4 outputs, "
            "got shape (2, 3) (prev = 3)"
        ),
    ):
        tn.network(_dense(5, 4)).then(_dense(3, 2))


def test_a_transposed_layer_in_a_chain_suggests_T() -> None:
    with pytest.raises(tn.ShapeError, match=r"got shape \(4, 2\) \(prev = 2\); did you pass w.T\?"):
        tn.Network((_dense(5, 4), _dense(2, 4)))


def test_typed_dims_must_agree_even_with_equal_sizes() -> None:
    first = tn.Dense(
        w=np.ones((3, 5)), b=np.zeros((3, 1)), activation=tn.relu, dims=(Features, Hidden1)
    )
    second = tn.Dense(
        w=np.ones((3, 3)), b=np.zeros((3, 1)), activation=tn.relu, dims=(Other, Other)
    )
    with pytest.raises(
        tn.ShapeError,
        match=re.escape("to take layer 1's Hidden1 3 outputs, got shape (3, 3) (prev = Other 3)"),
    ):
        tn.Network((first, second))


def test_mixed_dtypes_are_refused() -> None:
    with pytest.raises(
        tn.ShapeError,
        match=re.escape("layer 2: params are float32 but layer 1's are float64; build every layer"),
    ):
        tn.Network((_dense(5, 4), _dense(4, 2, np.float32)))


def test_layer_norm_and_activation_layers_chain() -> None:
    net = tn.network(_dense(5, 3)).then(tn.layer_norm(3)).then(tn.relu).then(_dense(3, 2))
    assert net.sizes == (5, 3, 2)
    assert repr(net) == "Network 5 → 3 (relu) → layer_norm → relu → 2 (relu), 32 params"
    with pytest.raises(
        tn.ShapeError, match=re.escape("layer 2: takes 4 values per column, but layer 1 gives 3")
    ):
        tn.network(_dense(5, 3)).then(tn.layer_norm(4))


def test_bad_layer_sequences() -> None:
    with pytest.raises(ValueError, match=r"a network needs at least one Dense or LayerNorm layer"):
        tn.Network((tn.relu,))
    with pytest.raises(
        TypeError,
        match=r"layer 2: expected a Layer \(Dense, LayerNorm, Dropout, ...\) or an Activation, got str",
    ):
        tn.Network((_dense(2, 2), "relu"))  # type: ignore[arg-type]  # the wrong kind is the test
    with pytest.raises(
        TypeError, match=r"Network\(layers\): expected a sequence of layers, got Dense"
    ):
        tn.Network(_dense(2, 2))  # type: ignore[arg-type]  # one layer, not a tuple, is the test


def test_network_is_frozen() -> None:
    net = tn.network(_dense(2, 2))
    with pytest.raises(AttributeError):
        net.layers = ()  # type: ignore[misc]  # assigning a frozen field is the test


def test_rebuilding_on_a_new_column_keeps_the_architecture() -> None:
    net, _, _ = build()
    doubled = _store.rebuild(net, 2 * _store.column(net))
    assert repr(doubled) == repr(net)
    for a, b in zip(doubled.params, net.params, strict=True):
        np.testing.assert_array_equal(a, 2 * b)
        assert not a.flags.writeable
    tripled = _store.from_params(net, [3 * p for p in net.params])
    np.testing.assert_array_equal(tripled.params[0], 3 * net.params[0])
