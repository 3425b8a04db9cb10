"""The JAX + optax peers: the training loop a user of Equinox or Flax writes.

Built from a typednet network so both start from the same weights, and fed the same
columns in the same order. JAX keeps typednet's conventions here (samples are columns,
weights (next, prev), biases (next, 1)), so the arrays copy over as they are and the
maths is the same: relu hidden layers, softmax + cross-entropy averaged over the batch
(as ``log_softmax`` on the logits, which is what a JAX user writes), ``optax.adam``
(bias-corrected, eps added to ``sqrt(v_hat)``, as `typednet.optim.adam` and torch).

Two loops, both compiled with ``jax.jit``:

- `JaxClassifier.epoch`: the whole epoch under one ``jit``: the columns gathered in the
  epoch's order, then ``lax.scan`` over the full batches and one more step for a last,
  shorter batch (a scan needs batches of one shape).
- `JaxClassifier.step`: one compiled step, called from Python for each batch, the batch
  gathered in NumPy (the loop of a user with a NumPy data loader).

``jax_enable_x64`` is on (set when this module is imported), so float64 trains in
float64; float32 arrays stay float32.
"""

from collections.abc import Callable
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np
import optax  # type: ignore[import-untyped]  # no py.typed marker in 0.2.8

import typednet as tn

Params = tuple[tuple[jax.Array, jax.Array], ...]

# jax.config.update and jax.block_until_ready are unannotated: typed here once.
_config_update = cast(Callable[[str, bool], None], jax.config.update)
wait = cast(Callable[[Params], Params], jax.block_until_ready)
_config_update("jax_enable_x64", True)


def params_of(net: tn.Network[Any, Any]) -> Params:
    """``net``'s Dense (w, b) pairs as JAX arrays, same dtype."""
    ws, bs = net.params[0::2], net.params[1::2]
    return tuple((jnp.asarray(w), jnp.asarray(b)) for w, b in zip(ws, bs, strict=True))


def _loss(params: Params, x: jax.Array, y: jax.Array) -> jax.Array:
    """Mean cross-entropy of the softmax of the logits; ``y`` one-hot columns."""
    h = x
    for w, b in params[:-1]:
        h = jax.nn.relu(w @ h + b)
    w, b = params[-1]
    log_p = jax.nn.log_softmax(w @ h + b, axis=0)
    return -jnp.sum(y * log_p) / x.shape[1]


class JaxClassifier:
    """``optax.adam`` on `_loss`: a jitted step, and a whole epoch under one jit."""

    def __init__(self, net: tn.Network[Any, Any], learning_rate: float = 1e-3) -> None:
        self.params0 = params_of(net)
        self.optimizer: Any = optax.adam(learning_rate)
        self.step_fn = jax.jit(self._step)
        self.epoch_fn = jax.jit(self._epoch, static_argnames="batch")

    def init(self) -> tuple[Params, Any]:
        """The starting params (the network's) and a fresh Adam state."""
        return self.params0, self.optimizer.init(self.params0)

    def _step(
        self, params: Params, state: Any, x: jax.Array, y: jax.Array
    ) -> tuple[Params, Any, jax.Array]:
        value, grads = jax.value_and_grad(_loss)(params, x, y)
        updates, state = self.optimizer.update(grads, state, params)
        new: Params = optax.apply_updates(params, updates)
        return new, state, value

    def _epoch(
        self, params: Params, state: Any, x: jax.Array, y: jax.Array, order: jax.Array, batch: int
    ) -> tuple[Params, Any]:
        n = order.shape[0]
        full = n // batch
        xs, ys = x[:, order], y[:, order]

        def batches(a: jax.Array) -> jax.Array:  # (rows, full * batch) -> (full, rows, batch)
            return a[:, : full * batch].reshape(a.shape[0], full, batch).transpose(1, 0, 2)

        def body(carry: tuple[Params, Any], xy: tuple[jax.Array, jax.Array]) -> Any:
            p, s, value = self._step(*carry, *xy)
            return (p, s), value

        (params, state), _ = jax.lax.scan(body, (params, state), (batches(xs), batches(ys)))
        if n % batch:
            params, state, _ = self._step(
                params, state, xs[:, full * batch :], ys[:, full * batch :]
            )
        return params, state

    def epoch(self, x: jax.Array, y: jax.Array, order: np.ndarray[Any, Any], batch: int) -> Params:
        """One epoch in ``order`` from the starting params, compiled whole; waits for it."""
        params, state = self.init()
        params, _ = self.epoch_fn(params, state, x, y, jnp.asarray(order), batch=batch)
        return wait(params)

    def step_loop(
        self,
        x: np.ndarray[Any, Any],
        y: np.ndarray[Any, Any],
        order: np.ndarray[Any, Any],
        batch: int,
    ) -> Params:
        """The same epoch as a Python loop of jitted steps on NumPy batches; waits for it."""
        params, state = self.init()
        idx = np.asarray(order)
        for k in range(0, len(idx), batch):
            cols = idx[k : k + batch]
            params, state, _ = self.step_fn(params, state, x[:, cols], y[:, cols])
        return wait(params)


def flat(params: Params) -> list[np.ndarray[Any, Any]]:
    """The params in typednet's order (w1, b1, w2, ...), as NumPy arrays."""
    return [np.asarray(a) for pair in params for a in pair]
