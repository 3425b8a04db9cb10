"""The course's training run (5.2), written with typednet's public API.

The 5.1 network (5 → 3 → 5 → 4: leaky ReLU 0.1, sigmoid, sigmoid) learns its one sample
by plain gradient descent: learning rate 0.01, 10 000 epochs, the mean squared error.
Each epoch computes every gradient first (`tn.value_and_grad`) and only then updates
the weights (`tn.apply_updates`), as the course does.

Run: python examples/tutorial_backprop.py
"""

import numpy as np

import typednet as tn


class Features(tn.Dim, size=5): ...


class Hidden1(tn.Dim, size=3): ...


class Hidden2(tn.Dim, size=5): ...


class Output(tn.Dim, size=4): ...


def main(epochs: int = 10_000, learning_rate: float = 0.01) -> float:
    """Train, printing the loss every 1 000 epochs and y_hat next to y; return the loss."""
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

    optimizer = tn.sgd(learning_rate)  # update = -learning_rate * gradient
    state = optimizer.init(net)
    for epoch in range(epochs):
        loss, grads = tn.value_and_grad(net, x, y, tn.mse)  # every gradient first...
        updates, state = optimizer.update(grads, state, net)
        net = tn.apply_updates(net, updates)  # ...then every weight, at once
        if epoch % 1_000 == 0:
            print(f"epoch {epoch:>6}: loss {loss:.10f}")

    y_hat = tn.forward(net, x)
    loss = tn.mse(y, y_hat)
    print(f"epoch {epochs:>6}: loss {loss:.10f}")
    print("\ny_hat       y")
    for predicted, target in zip(y_hat[:, 0], y[:, 0], strict=True):
        print(f"{predicted:.6f}  {target:.6f}")
    return loss


if __name__ == "__main__":
    main()
