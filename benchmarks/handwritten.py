"""The hand-written NumPy peers: the code a course student writes, no library.

Samples are columns, as in the course and in typednet: ``x`` is (features, batch),
weights are (next, prev), biases (next, 1). Nothing here checks a shape.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.floating[Any]]


def tutorial_forward(
    x: Array, w1: Array, b1: Array, w2: Array, b2: Array, w3: Array, b3: Array
) -> Array:
    """The course's own forward pass: leaky ReLU (0.1), sigmoid, sigmoid."""
    in_hidden_1 = w1 @ x + b1
    out_hidden_1 = np.where(in_hidden_1 > 0, in_hidden_1, 0.1 * in_hidden_1)
    in_hidden_2 = w2 @ out_hidden_1 + b2
    out_hidden_2 = 1 / (1 + np.exp(-in_hidden_2))
    in_output = w3 @ out_hidden_2 + b3
    y_hat: Array = 1 / (1 + np.exp(-in_output))
    return y_hat


def tutorial_mse(y: Array, y_hat: Array) -> float:
    """The course's loss: the mean squared error over every element."""
    return float(np.mean((y_hat - y) ** 2))


def _softmax(z: Array) -> Array:
    e = np.exp(z - z.max(axis=0, keepdims=True))
    out: Array = e / e.sum(axis=0, keepdims=True)
    return out


def mlp_forward(params: Sequence[Array], x: Array) -> Array:
    """ReLU on every hidden layer, softmax out; ``params`` is ``(w1, b1, w2, b2, ...)``."""
    h = x
    for w, b in zip(params[0:-2:2], params[1:-2:2], strict=True):
        h = np.maximum(w @ h + b, 0.0)
    return _softmax(params[-2] @ h + params[-1])


class AdamMLP:
    """A ReLU/softmax classifier trained with cross-entropy and Adam, written out by hand.

    The arrays are updated in place, as a student's loop does.
    """

    def __init__(self, params: Sequence[Array], learning_rate: float = 1e-3) -> None:
        self.params = [p.copy() for p in params]
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0
        self.lr = learning_rate

    def predict(self, x: Array) -> Array:
        """Softmax outputs, shape (classes, batch)."""
        return mlp_forward(self.params, x)

    def step(self, x: Array, y: Array) -> float:
        """One Adam step on a batch; returns the loss before it. ``y`` is one-hot columns."""
        ws, bs = self.params[0::2], self.params[1::2]
        hs = [x]
        for w, b in zip(ws[:-1], bs[:-1], strict=True):
            hs.append(np.maximum(w @ hs[-1] + b, 0.0))
        p = _softmax(ws[-1] @ hs[-1] + bs[-1])
        n = x.shape[1]
        loss = float(-np.sum(y * np.log(np.clip(p, 1e-12, 1.0))) / n)
        delta = (p - y) / n
        grads: list[Array] = []
        for k in range(len(ws) - 1, -1, -1):
            grads = [delta @ hs[k].T, delta.sum(axis=1, keepdims=True), *grads]
            if k > 0:
                delta = (ws[k].T @ delta) * (hs[k] > 0)
        self._adam(grads)
        return loss

    def _adam(self, grads: Sequence[Array]) -> None:
        self.t += 1
        adam_update(self.params, grads, self.m, self.v, self.t, self.lr)


def adam_update(
    params: list[Array],
    grads: Sequence[Array],
    m: list[Array],
    v: list[Array],
    t: int,
    lr: float,
    b1: float = 0.9,
    b2: float = 0.999,
) -> None:
    """Adam step ``t`` (1-based), in place on the lists ``params``, ``m`` and ``v``."""
    for i, g in enumerate(grads):
        m[i] = b1 * m[i] + (1 - b1) * g
        v[i] = b2 * v[i] + (1 - b2) * g * g
        m_hat = m[i] / (1 - b1**t)
        v_hat = v[i] / (1 - b2**t)
        params[i] -= lr * m_hat / (np.sqrt(v_hat) + 1e-8)
