"""The course's forward pass (5 → 3 → 5 → 4), written with typednet's typed layers.

Run: python examples/tutorial_forward.py
"""

import numpy as np

import typednet as tn


class Features(tn.Dim, size=5): ...


class Hidden1(tn.Dim, size=3): ...


class Hidden2(tn.Dim, size=5): ...


class Output(tn.Dim, size=4): ...


def main() -> float:
    # The course's draws, in its order: x, then y, then the weights, from seed 42.
    rng = np.random.RandomState(42)
    x: tn.Matrix = rng.randint(1, 100, size=(5, 1)) / 100
    y: tn.Matrix = rng.randint(1, 100, size=(4, 1)) / 100
    uniform = tn.init.uniform(0.0, 1.0)  # the course's np.random.random

    net: tn.Network[Features, Output] = (
        tn.network(tn.dense(rng, Features, Hidden1, tn.leaky_relu(0.1), init=uniform))
        .then(tn.dense(rng, Hidden1, Hidden2, tn.sigmoid, init=uniform))
        .then(tn.dense(rng, Hidden2, Output, tn.sigmoid, init=uniform))
    )
    print(net)

    trace = tn.forward_trace(net, x)
    names = ["in_hidden_1", "out_hidden_1", "in_hidden_2", "out_hidden_2", "in_output", "y_hat"]
    values = [v for pair in zip(trace.pre, trace.post, strict=True) for v in pair]
    with np.printoptions(precision=8, suppress=True):
        print(f"x {x.shape}:\n{x}")
        for name, value in zip(names, values, strict=True):
            print(f"{name} {value.shape}:\n{value}")
        print(f"y {y.shape}:\n{y}")
    loss = tn.mse(y, trace.y_hat)
    print(f"loss (mse) = {loss!r}")
    return loss


if __name__ == "__main__":
    main()
