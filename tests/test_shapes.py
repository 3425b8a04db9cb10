import re

import numpy as np
import pytest

import typednet as tn
from typednet.shapes import _check_array


def test_dim_records_its_size() -> None:
    class Hidden(tn.Dim, size=7): ...

    assert Hidden.size == 7
    assert issubclass(Hidden, tn.Dim)


@pytest.mark.parametrize("size", [0, -3, 2.5, True, "3"])
def test_dim_rejects_a_bad_size(size: object) -> None:
    with pytest.raises(ValueError, match=r"Dim Bad: size must be a positive int, got"):

        class Bad(tn.Dim, size=size): ...  # type: ignore[arg-type]  # the bad size is the test


def test_dim_is_not_instantiated() -> None:
    class Hidden(tn.Dim, size=3): ...

    with pytest.raises(TypeError, match=r"Hidden is a size, not a value: use Hidden.size"):
        Hidden()


def test_shape_error_is_a_type_error() -> None:
    assert issubclass(tn.ShapeError, TypeError)


def _check(a: object) -> None:
    _check_array(a, "where", ("next", "prev"), (3, 5), name="w")


@pytest.mark.parametrize(
    ("a", "message"),
    [
        (
            np.zeros((5, 3)),
            "where: expected (next, prev) = (3, 5), got shape (5, 3) float64; did you pass w.T?",
        ),
        (np.zeros((3, 4)), "where: expected (next, prev) = (3, 5), got shape (3, 4) float64"),
        (
            np.zeros(15),
            "where: expected (next, prev) = (3, 5), got a 1-D array of shape (15,) float64",
        ),
        (
            np.zeros((3, 5), dtype=np.int64),
            "where: expected a floating dtype, got int64; pass w.astype(np.float64)",
        ),
        (
            [[1.0]],
            "where: expected (next, prev) = (3, 5), got a list, not a NumPy array; "
            "convert it with np.asarray(...)",
        ),
        (3.0, "where: expected (next, prev) = (3, 5), got a float, not a NumPy array"),
    ],
)
def test_check_array_messages(a: object, message: str) -> None:
    with pytest.raises(tn.ShapeError, match=f"^{re.escape(message)}$"):
        _check(a)


def test_check_array_never_prints_values() -> None:
    secret = np.full((5, 3), 123.456)
    with pytest.raises(tn.ShapeError) as info:
        _check(secret)
    assert "123" not in str(info.value)


def test_check_array_dtype_must_match_when_given() -> None:
    with pytest.raises(
        tn.ShapeError,
        match=re.escape(
            "where: expected dtype float64 (the network's), got float32; "
            "pass w.astype(np.float64) or build the network in float32"
        ),
    ):
        _check_array(
            np.zeros((3, 5), np.float32),
            "where",
            ("next", "prev"),
            (3, 5),
            name="w",
            dtype=np.dtype(np.float64),
        )


def test_no_checks_is_scoped_and_restored() -> None:
    assert tn.checks_enabled()
    with tn.no_checks():
        assert not tn.checks_enabled()
        with tn.no_checks():
            assert not tn.checks_enabled()
        assert not tn.checks_enabled()
    assert tn.checks_enabled()


def test_no_checks_restores_after_an_exception() -> None:
    with pytest.raises(RuntimeError), tn.no_checks():
        raise RuntimeError
    assert tn.checks_enabled()
