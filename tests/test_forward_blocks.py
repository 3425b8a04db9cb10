"""`tn.forward(net, x, batch_size=...)`: column blocks, the same result, bounded memory."""

import itertools
import tracemalloc

import numpy as np
import pytest

import typednet as tn


def _net(sizes: tuple[int, ...], dtype: type = np.float64) -> tn.Network:
    rng = np.random.default_rng(0)
    acts = [tn.leaky_relu(0.1), tn.sigmoid, tn.tanh, tn.relu]
    layers = [
        tn.dense(rng, a, b, acts[i % len(acts)], dtype=dtype)
        for i, (a, b) in enumerate(itertools.pairwise(sizes))
    ]
    return tn.Network(tuple(layers))


@pytest.mark.parametrize("sizes", [(5, 3, 5, 4), (8, 64, 64, 2), (3, 16, 1)])
@pytest.mark.parametrize("batch_size", [64, 256, 4096])
def test_blocks_of_a_multiple_of_64_columns_give_the_same_bits(
    sizes: tuple[int, ...], batch_size: int
) -> None:
    net = _net(sizes)
    x = np.random.default_rng(1).normal(size=(sizes[0], 1000))
    assert np.array_equal(tn.forward(net, x, batch_size=batch_size), tn.forward(net, x))


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-13), (np.float32, 1e-5)])
@pytest.mark.parametrize("batch_size", [1, 7, 100])
def test_any_block_width_gives_the_same_result_up_to_rounding(
    dtype: type, rtol: float, batch_size: int
) -> None:
    net = _net((8, 64, 64, 2), dtype)
    x: np.ndarray = np.random.default_rng(2).normal(size=(8, 500)).astype(dtype)
    got = tn.forward(net, x, batch_size=batch_size)
    assert got.dtype == dtype and got.shape == (2, 500)
    # Reference: a plain loop over the columns, one at a time.
    by_column = np.concatenate([tn.forward(net, x[:, j : j + 1]) for j in range(500)], axis=1)
    np.testing.assert_allclose(got, by_column, rtol=rtol, atol=rtol)  # outputs are O(1)


def test_memory_peaks_at_the_output_plus_one_block() -> None:
    net = _net((8, 64, 64, 2))
    n, block = 50_000, 1024
    x = np.random.default_rng(3).normal(size=(8, n))
    out_bytes = 2 * n * 8
    one_block = 3 * 64 * block * 8  # a layer's pre and post, and the next layer's input
    bound = 1.2 * out_bytes + one_block

    def peak(batch_size: int | None) -> int:
        tracemalloc.start()
        try:
            tn.forward(net, x, batch_size=batch_size)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    assert peak(block) < bound
    assert peak(None) > 10 * bound  # the whole batch at once: the test can tell


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, True, "8"])
def test_batch_size_must_be_a_positive_int(batch_size: object) -> None:
    net = _net((3, 16, 1))
    with pytest.raises(ValueError, match=r"^forward: batch_size must be a positive int, got "):
        tn.forward(net, np.ones((3, 4)), batch_size=batch_size)  # type: ignore[call-overload]


def test_the_input_is_checked_first() -> None:
    net = _net((3, 16, 1))
    with pytest.raises(tn.ShapeError, match=r"samples are columns: pass x.T"):
        tn.forward(net, np.ones((4, 3)), batch_size=2)
