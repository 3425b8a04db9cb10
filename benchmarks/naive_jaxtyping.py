"""The naive way to type-check the course's forward pass: jaxtyping on every function.

The plain NumPy code of `handwritten.tutorial_forward`, split into small functions each
decorated ``@jaxtyped(typechecker=beartype)``: every call re-checks every array it
touches, weights included. This is the overhead typednet's "validate once" design avoids.
"""

from typing import Any

import numpy as np
import numpy.typing as npt
from beartype import beartype
from jaxtyping import Float, jaxtyped

Array = npt.NDArray[np.floating[Any]]


@jaxtyped(typechecker=beartype)
def linear(
    w: Float[Array, "next prev"], x: Float[Array, "prev batch"], b: Float[Array, "next 1"]
) -> Float[Array, "next batch"]:
    out: Array = w @ x + b
    return out


@jaxtyped(typechecker=beartype)
def leaky_relu(z: Float[Array, "n batch"]) -> Float[Array, "n batch"]:
    out: Array = np.where(z > 0, z, 0.1 * z)
    return out


@jaxtyped(typechecker=beartype)
def sigmoid(z: Float[Array, "n batch"]) -> Float[Array, "n batch"]:
    out: Array = 1 / (1 + np.exp(-z))
    return out


@jaxtyped(typechecker=beartype)
def tutorial_forward(
    x: Float[Array, "features batch"],
    w1: Float[Array, "hidden1 features"],
    b1: Float[Array, "hidden1 1"],
    w2: Float[Array, "hidden2 hidden1"],
    b2: Float[Array, "hidden2 1"],
    w3: Float[Array, "outputs hidden2"],
    b3: Float[Array, "outputs 1"],
) -> Float[Array, "outputs batch"]:
    """The course's forward pass, every step checked."""
    out_hidden_1 = leaky_relu(linear(w1, x, b1))
    out_hidden_2 = sigmoid(linear(w2, out_hidden_1, b2))
    return sigmoid(linear(w3, out_hidden_2, b3))
