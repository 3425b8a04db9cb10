"""The course's network and data, reproduced exactly: used by ``typednet demo``.

The course seeds NumPy's legacy generator with 42, draws ``x`` (5, 1) and then ``y``
(4, 1) as ``randint(1, 100) / 100``, then ``w1`` (3, 5), ``w2`` (5, 3) and ``w3`` (4, 5)
with ``np.random.random``; biases are zero. Hidden 1 uses leaky ReLU (leak 0.1), hidden
2 and the output sigmoid; the loss is the mean squared error.

The course then trains that network on its one sample with plain gradient descent,
learning rate 0.01, for 10 000 epochs, computing every gradient before any update.
"""

from collections.abc import Callable

import numpy as np

from ..activations import leaky_relu, sigmoid
from ..forward import forward_trace
from ..init import dense, uniform
from ..losses import mse
from ..network import Network, network
from ..optim import sgd
from ..shapes import Dim, Matrix
from ..train import train_step

__all__ = [
    "Features",
    "Hidden1",
    "Hidden2",
    "Output",
    "build",
    "print_backprop",
    "print_forward",
    "train",
]


class Features(Dim, size=5): ...


class Hidden1(Dim, size=3): ...


class Hidden2(Dim, size=5): ...


class Output(Dim, size=4): ...


def build(seed: int = 42) -> tuple[Network[Features, Output], Matrix, Matrix]:
    """The course's network, input ``x`` (5, 1) and target ``y`` (4, 1), in draw order."""
    rng = np.random.RandomState(seed)
    x: Matrix = rng.randint(1, 100, size=(5, 1)) / 100
    y: Matrix = rng.randint(1, 100, size=(4, 1)) / 100
    net = (
        network(dense(rng, Features, Hidden1, leaky_relu(0.1), init=uniform()))
        .then(dense(rng, Hidden1, Hidden2, sigmoid, init=uniform()))
        .then(dense(rng, Hidden2, Output, sigmoid, init=uniform()))
    )
    return net, x, y


def print_forward(echo: Callable[[str], object] = print) -> float:
    """Print every layer of the course's forward pass, with its shape, and the loss.

    Returns the loss, so callers can check it.
    """
    net, x, y = build()
    trace = forward_trace(net, x)
    echo(repr(net))
    rows: list[tuple[str, Matrix]] = [("x", x)]
    for k, (pre, post) in enumerate(zip(trace.pre[:-1], trace.post[:-1], strict=True), 1):
        rows += [(f"in_hidden_{k}", pre), (f"out_hidden_{k}", post)]
    rows += [("in_output", trace.pre[-1]), ("y_hat", trace.y_hat), ("y", y)]
    with np.printoptions(precision=8, suppress=True):
        for name, value in rows:
            echo(f"\n{name} {value.shape}:\n{value}")
    loss = mse(y, trace.y_hat)
    echo(f"\nloss (mse) = {loss!r}")
    return loss


def train(
    epochs: int = 10_000, learning_rate: float = 0.01, every: int = 1_000
) -> tuple[Network[Features, Output], list[tuple[int, float]]]:
    """The course's training run; returns the trained net and ``(epoch, loss)`` pairs.

    A pair is kept before the first step and after every ``every`` epochs; each loss
    is measured before that epoch's step, as the course prints it.
    """
    net, x, y = build()
    optimizer = sgd(learning_rate)
    state = optimizer.init(net)
    losses: list[tuple[int, float]] = []
    for epoch in range(epochs):
        net, state, loss = train_step(net, state, x, y, loss=mse, optimizer=optimizer)
        if epoch % every == 0:
            losses.append((epoch, loss))
    losses.append((epochs, mse(y, forward_trace(net, x).y_hat)))
    return net, losses


def print_backprop(echo: Callable[[str], object] = print) -> float:
    """Run the course's training, printing the loss every 1 000 epochs and y_hat next to y.

    Returns the final loss.
    """
    net, losses = train()
    _, x, y = build()
    for epoch, loss in losses:
        echo(f"epoch {epoch:>6}: loss {loss:.10f}")
    y_hat = forward_trace(net, x).y_hat
    echo("\ny_hat       y")
    for predicted, target in zip(y_hat[:, 0], y[:, 0], strict=True):
        echo(f"{predicted:.6f}  {target:.6f}")
    return losses[-1][1]
