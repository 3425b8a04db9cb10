"""The course's forward pass written by hand, as the course does, with typed matrices.

Every step is a `tn.Mat` expression whose dims the checkers infer: ``w1 @ x + b1`` is a
``Mat[Hidden1, One]``, so ``x @ w1``, ``w1.T @ x``, ``w2 @ x`` or ``w1 @ x + b2`` are
type errors in mypy and pyright (see typings/fail/typed_maths.py), not silent numbers.

Run: python examples/tutorial_typed.py
"""

from typing import Any

import numpy as np

import typednet as tn


class Features(tn.Dim, size=5): ...


class Hidden1(tn.Dim, size=3): ...


class Hidden2(tn.Dim, size=5): ...


class Output(tn.Dim, size=4): ...


def main() -> float:
    # The course's draws, in its order: x, then y, then the weights, from seed 42.
    rng = np.random.RandomState(42)
    x = tn.mat(rng.randint(1, 100, size=(5, 1)) / 100, Features, tn.One)
    y = tn.mat(rng.randint(1, 100, size=(4, 1)) / 100, Output, tn.One)
    w1 = tn.mat(rng.random((3, 5)), Hidden1, Features)  # (next, prev)
    w2 = tn.mat(rng.random((5, 3)), Hidden2, Hidden1)
    w3 = tn.mat(rng.random((4, 5)), Output, Hidden2)
    b1 = tn.mat(np.zeros((3, 1)), Hidden1, tn.One)  # (next, 1)
    b2 = tn.mat(np.zeros((5, 1)), Hidden2, tn.One)
    b3 = tn.mat(np.zeros((4, 1)), Output, tn.One)

    in_hidden_1 = w1 @ x + b1  # Mat[Hidden1, One]
    out_hidden_1 = tn.leaky_relu(0.1)(in_hidden_1)
    in_hidden_2 = w2 @ out_hidden_1 + b2  # Mat[Hidden2, One]
    out_hidden_2 = tn.sigmoid(in_hidden_2)
    in_output = w3 @ out_hidden_2 + b3  # Mat[Output, One]
    y_hat = tn.sigmoid(in_output)

    steps: dict[str, tn.Mat[Any, Any]] = {
        "x": x,
        "in_hidden_1": in_hidden_1,
        "out_hidden_1": out_hidden_1,
        "in_hidden_2": in_hidden_2,
        "out_hidden_2": out_hidden_2,
        "in_output": in_output,
        "y_hat": y_hat,
        "y": y,
    }
    with np.printoptions(precision=8, suppress=True):
        for name, value in steps.items():
            print(f"{name} {value!r}:\n{value.array}")
    loss = tn.mse(y.array, y_hat.array)
    print(f"loss (mse) = {loss!r}")

    # The same layers as typed params: Dense.of takes its dims from the matrices.
    net: tn.Network[Features, Output] = (
        tn.network(tn.Dense.of(w1, b1, tn.leaky_relu(0.1)))
        .then(tn.Dense.of(w2, b2, tn.sigmoid))
        .then(tn.Dense.of(w3, b3, tn.sigmoid))
    )
    print(f"{net}: loss {tn.mse(y.array, tn.forward(net, x.array))!r}")
    return loss


if __name__ == "__main__":
    main()
