import dataclasses
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import typednet as tn
from typednet.activations import _by_name

from .helpers import ACTIVATIONS

ALL = ACTIVATIONS
ELEMENTWISE = [a for a in ALL if a.elementwise]


def _away_from_kinks(rng: np.random.Generator, shape: tuple[int, int]) -> tn.Matrix:
    """Values in [-3, 3] at least 0.05 from zero, where relu-like kinks sit."""
    z: tn.Matrix = rng.uniform(0.05, 3.0, shape) * rng.choice([-1.0, 1.0], shape)
    return z


@pytest.mark.parametrize("act", ELEMENTWISE, ids=str)
def test_derivative_matches_central_differences(
    act: tn.Activation, rng: np.random.Generator
) -> None:
    z = _away_from_kinks(rng, (4, 3))
    h = 1e-6
    numeric = (act(z + h) - act(z - h)) / (2 * h)
    np.testing.assert_allclose(act.derivative(z), numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("act", ALL, ids=str)
def test_vjp_matches_central_differences(act: tn.Activation, rng: np.random.Generator) -> None:
    z = _away_from_kinks(rng, (4, 3))
    g = rng.normal(size=(4, 3))
    h = 1e-6
    numeric = np.zeros_like(z)
    for i, j in np.ndindex(z.shape):
        e = np.zeros_like(z)
        e[i, j] = h
        numeric[i, j] = np.sum(g * (act(z + e) - act(z - e))) / (2 * h)
    np.testing.assert_allclose(act.vjp(z, act(z), g), numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("act", ALL, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_and_shape_are_kept_and_input_is_not_mutated(
    act: tn.Activation, dtype: type, rng: np.random.Generator
) -> None:
    z: tn.Matrix = rng.normal(size=(3, 5)).astype(dtype)
    before = z.copy()
    post = act(z)
    assert post.dtype == dtype
    assert post.shape == z.shape
    back = act.vjp(z, post, np.ones_like(z))
    assert back.dtype == dtype
    assert back.shape == z.shape
    np.testing.assert_array_equal(z, before)


def test_values_against_hand_computed() -> None:
    z = np.array([[-2.0], [0.0], [1.5]])
    np.testing.assert_array_equal(tn.relu(z), [[0.0], [0.0], [1.5]])
    np.testing.assert_array_equal(tn.leaky_relu(0.1)(z), [[-0.2], [0.0], [1.5]])
    np.testing.assert_allclose(tn.sigmoid(z), 1 / (1 + np.exp([[2.0], [0.0], [-1.5]])))
    np.testing.assert_allclose(tn.softsign(z), [[-2 / 3], [0.0], [1.5 / 2.5]])
    np.testing.assert_allclose(tn.softplus(z), np.log1p(np.exp(z)))
    np.testing.assert_allclose(tn.elu(2.0)(z), [[2 * (np.exp(-2.0) - 1)], [0.0], [1.5]])
    np.testing.assert_allclose(
        tn.selu(z),
        1.0507009873554805 * np.array([[1.6732632423543772 * (np.exp(-2.0) - 1)], [0.0], [1.5]]),
    )


def test_leaky_relu_derivative_is_the_leak_below_zero() -> None:
    z = np.array([[-1.0], [2.0]])
    np.testing.assert_array_equal(tn.leaky_relu(0.1).derivative(z), [[0.1], [1.0]])


def test_sigmoid_is_bit_identical_to_the_tutorial_formula(rng: np.random.Generator) -> None:
    z = rng.normal(scale=10, size=(50, 20))
    np.testing.assert_array_equal(tn.sigmoid(z), 1 / (1 + np.exp(-z)))


def _wide_values(rng: np.random.Generator, dtype: type[np.floating], low: float) -> tn.Matrix:
    """Values of every scale from ``low`` up to the dtype's largest: normal, subnormal
    and huge magnitudes, both zeros, and the extremes themselves."""
    info = np.finfo(dtype)
    top = float(np.log10(info.max))
    magnitudes = 10.0 ** rng.uniform(float(np.log10(info.smallest_subnormal)), top, 4000)
    z = (magnitudes * rng.choice([-1.0, 1.0], 4000)).astype(dtype)
    extremes = [0.0, -0.0, info.tiny, -info.tiny, info.smallest_subnormal, info.max, -info.max]
    z = np.concatenate([z, np.array(extremes, dtype)])
    return z[z >= low].reshape(-1, 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("leak", [0.1, 0.01, 0.3, 1.0, 0.0])
def test_leaky_relu_gives_the_course_formulas_bits(
    dtype: type[np.floating], leak: float, rng: np.random.Generator
) -> None:
    # The course's formula with the leak as a Python float, as a user writes it (NumPy
    # computes it in z's dtype); forward and in place (a layer's scratch array).
    z = _wide_values(rng, dtype, -np.inf)
    want = np.where(z > 0, z, leak * z)
    act = tn.leaky_relu(leak)
    for got in (act(z), act.overwrite(np.repeat(z, 2048 // len(z) + 1, axis=1))[:, :1]):
        assert got.dtype == want.dtype
        assert got.tobytes() == want.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_gives_the_course_formulas_bits_wherever_it_is_finite(
    dtype: type[np.floating], rng: np.random.Generator
) -> None:
    # Down to the largest z whose exp(-z) overflows (the formula warns below it); the
    # constants are Python numbers, as the course writes them.
    low = -float(np.log(np.finfo(dtype).max))
    z = _wide_values(rng, dtype, low)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        want = 1 / (1 + np.exp(-z))
    for got in (tn.sigmoid(z), tn.sigmoid.overwrite(np.repeat(z, 2048 // len(z) + 1, axis=1))):
        assert got.dtype == want.dtype
        assert got[:, :1].tobytes() == want.tobytes()


def test_activations_keep_numpys_promotion_of_an_integer_array() -> None:
    # Not a typednet array (layers hold floats), but the call is public: 0.1 * z is
    # float64 for integers, and the leak is not rounded to an integer.
    z = np.array([[-3], [0], [2]])
    got = tn.leaky_relu(0.1)(z)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, [[-0.30000000000000004], [0.0], [2.0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_never_warns_and_saturates(dtype: type) -> None:
    big = np.finfo(dtype).max
    z: tn.Matrix = np.array([[-big], [-1000.0], [0.0], [1000.0], [big]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = tn.sigmoid(z)
        d = tn.sigmoid.derivative(z)
    assert np.all(np.isfinite(s))
    assert np.all(np.isfinite(d))
    assert s[0, 0] < 1e-30
    assert s[-1, 0] == 1.0
    assert s[2, 0] == 0.5


@given(arrays(np.float64, (4, 3), elements=st.floats(-1e300, 1e300)))
def test_softplus_elu_selu_never_overflow_on_finite_input(z: np.ndarray) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for act in (tn.softplus, tn.elu(1.0), tn.selu, tn.sigmoid, tn.tanh, tn.softsign):
            assert np.all(np.isfinite(act(z)))


def test_softmax_columns_sum_to_one_and_shift_is_stable() -> None:
    z = np.array([[1000.0, 1.0], [1001.0, 2.0], [999.0, 3.0]])
    s = tn.softmax(z)
    np.testing.assert_allclose(s.sum(axis=0), [1.0, 1.0])
    np.testing.assert_allclose(s[:, :1], tn.softmax(z[:, :1] - 1000.0))
    np.testing.assert_allclose(s[:, 1], np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum())


def test_softmax_has_no_elementwise_derivative() -> None:
    with pytest.raises(ValueError, match=r"softmax: the derivative is a Jacobian per column"):
        tn.softmax.derivative(np.zeros((3, 1)))


@pytest.mark.parametrize("act", ALL, ids=str)
def test_rebuilt_by_name(act: tn.Activation) -> None:
    again = _by_name(act.name, act.param)
    assert again == act
    z = np.linspace(-2, 2, 6).reshape(3, 2)
    np.testing.assert_array_equal(again(z), act(z))


def test_by_name_errors() -> None:
    with pytest.raises(ValueError, match=r"unknown activation 'swish'; known: \["):
        _by_name("swish")
    with pytest.raises(ValueError, match=r"activation 'leaky_relu' needs its parameter"):
        _by_name("leaky_relu")


def test_str_names_the_parameter() -> None:
    assert str(tn.leaky_relu(0.1)) == "leaky_relu 0.1"
    assert str(tn.sigmoid) == "sigmoid"


@pytest.mark.parametrize("leak", [0.0, 0.1, 1.0, 2.0, -0.5])
def test_leaky_relu_for_any_leak(leak: float) -> None:
    z = np.array([[-2.0], [-0.0], [0.0], [3.0]])
    expected = np.array([[-2.0 * leak], [0.0], [0.0], [3.0]])
    np.testing.assert_array_equal(tn.leaky_relu(leak)(z), expected)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), True, "0.1"])
def test_parameters_must_be_finite_numbers(bad: object) -> None:
    with pytest.raises(
        ValueError, match=r"^leaky_relu: the parameter must be a finite number, got"
    ):
        tn.leaky_relu(bad)  # type: ignore[arg-type]  # the bad value is the test
    with pytest.raises(ValueError, match=r"^elu: the parameter must be a finite number, got"):
        tn.elu(bad)  # type: ignore[arg-type]  # the bad value is the test


def _cube(z: tn.Matrix) -> tn.Matrix:
    out: tn.Matrix = z**3
    return out


def _cube_vjp(z: tn.Matrix, s: tn.Matrix, g: tn.Matrix) -> tn.Matrix:
    out: tn.Matrix = g * 3 * z**2
    return out


@pytest.mark.parametrize("name", sorted({a.name for a in ALL}))
def test_a_users_activation_may_not_take_the_name_of_typednets_own(name: str) -> None:
    """Known by its name, it became the built-in after save/load, pickle, deepcopy or
    sklearn.clone, and a "sigmoid" or "softmax" output got the built-in's fused gradient."""
    match = (
        rf"^Activation: '{name}' names typednet's own tn\.{name}; give yours a name of its "
        r"own \(saving, pickling, copying and the fused gradients know an activation by its "
        r"name, and would take yours for typednet's\)$"
    )
    with pytest.raises(ValueError, match=match):
        tn.Activation(name, None, _cube, _cube_vjp)
    with pytest.raises(ValueError, match=match):  # nor by replacing a built-in's functions
        dataclasses.replace(_by_name(name, 0.5), fn=_cube, vjp_fn=_cube_vjp)
    assert tn.Activation(f"my_{name}", None, _cube, _cube_vjp).fn is _cube
