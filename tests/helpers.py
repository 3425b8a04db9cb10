"""Tables the tests share: every activation, every layer kind, the course's numbers.

Like optax's table of optimizers under test, one list here drives the shared invariants:
adding an activation or a layer kind adds it to every check that runs over the table.
`Scale` is a layer written outside typednet, as a user would write one, through the
documented `tn.Layer` protocol only. `in_thread` runs a call that might block on a FIFO;
`interrupted_cleanly` is what Ctrl-C at the command line may end in.
"""

import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

import typednet as tn
from typednet.layers import Json

ACTIVATIONS: list[tn.Activation] = [
    tn.identity,
    tn.relu,
    tn.leaky_relu(0.1),
    tn.sigmoid,
    tn.tanh,
    tn.softsign,
    tn.softplus,
    tn.elu(1.0),
    tn.selu,
    tn.softmax,
]
"""One of each activation typednet ships, with the course's leak for leaky ReLU."""

COURSE_LOSS = 0.1059625955371147
"""The course's forward-pass loss (mse of its 5-3-5-4 network), printed by its code."""


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Scale(tn.Layer[int, int]):
    """A per-feature scale, ``post = s * x``, with ``s`` of shape (d, 1): a user's layer."""

    kind = "test_scale"
    param_names = ("s",)

    s: tn.Bias

    def __post_init__(self) -> None:
        if not (isinstance(self.s, np.ndarray) and self.s.ndim == 2 and self.s.shape[1] == 1):
            raise tn.ShapeError("Scale s: expected (d, 1)")
        s = np.array(self.s, dtype=self.s.dtype)
        s.setflags(write=False)
        object.__setattr__(self, "s", s)

    @property
    def in_size(self) -> int:
        return self.s.shape[0]

    @property
    def dtype(self) -> np.dtype[np.floating[Any]]:
        return self.s.dtype

    def apply(self, x: tn.Matrix) -> tn.Matrix:
        out: tn.Matrix = self.s * x
        return out

    def backward(
        self,
        x: tn.Matrix,
        pre: tn.Matrix,
        post: tn.Matrix,
        upstream: tn.Matrix,
        grads: tuple[tn.Matrix, ...],
        *,
        need_input: bool,
    ) -> tn.Matrix | None:
        np.sum(upstream * x, axis=1, keepdims=True, out=grads[0])
        out: tn.Matrix = upstream * self.s
        return out if need_input else None

    def penalized(self, include_bias: bool) -> tuple[bool, ...]:
        return (True,)

    def spec(self) -> dict[str, Json]:
        return {"size": self.in_size}

    @classmethod
    def check_spec(cls, spec: object, where: str) -> dict[str, tuple[int, int]]:
        if not (isinstance(spec, dict) and isinstance(spec.get("size"), int)):
            raise ValueError(f"{where}: expected {{'size': int}}")
        return {"s": (spec["size"], 1)}

    @classmethod
    def from_spec(
        cls,
        spec: Mapping[str, object],
        params: tuple[tn.Matrix, ...],
        like: tn.Layer[Any, Any] | None,
    ) -> "Scale":
        return cls(s=params[0])

    def label(self) -> str:
        return "scale"


def _dense(
    rng: np.random.Generator, p: int, n: int, dt: type[np.floating[Any]], a: tn.Activation
) -> tn.Dense:
    return tn.Dense(
        w=rng.normal(0, 1 / np.sqrt(p), (n, p)).astype(dt),
        b=rng.normal(0, 0.5, (n, 1)).astype(dt),
        activation=a,
    )


# Each layer kind, built for ``size`` features in ``dtype`` from ``rng``.
LayerFactory = Callable[[np.random.Generator, int, type[np.floating[Any]]], tn.Layer[Any, Any]]
LAYERS: dict[str, LayerFactory] = {
    "dense": lambda rng, n, dt: tn.Dense(
        w=rng.normal(0, 1 / np.sqrt(n), (n, n)).astype(dt),
        b=rng.normal(0, 0.5, (n, 1)).astype(dt),
        activation=tn.tanh,
    ),
    "layer_norm": lambda rng, n, dt: tn.LayerNorm(
        gain=rng.normal(1, 0.3, (n, 1)).astype(dt), shift=rng.normal(0, 0.3, (n, 1)).astype(dt)
    ),
    "dropout": lambda rng, n, dt: tn.dropout(0.3),
    "batch_norm": lambda rng, n, dt: tn.BatchNorm(
        gamma=rng.normal(1, 0.3, (n, 1)).astype(dt),
        beta=rng.normal(0, 0.3, (n, 1)).astype(dt),
        running_mean=rng.normal(0, 0.3, (n, 1)).astype(dt),
        running_var=rng.uniform(0.5, 2.0, (n, 1)).astype(dt),
    ),
    "scale": lambda rng, n, dt: Scale(s=rng.normal(1, 0.5, (n, 1)).astype(dt)),
    "residual": lambda rng, n, dt: tn.residual(
        tn.Network([_dense(rng, n, n, dt, tn.tanh), tn.dropout(0.2), tn.layer_norm(n, dtype=dt)])
    ),
    "residual_shortcut": lambda rng, n, dt: tn.residual(
        tn.Network([_dense(rng, n, 3, dt, tn.tanh), tn.relu, _dense(rng, 3, n, dt, tn.identity)]),
        shortcut=_dense(rng, n, n, dt, tn.identity),
    ),
    "parallel": lambda rng, n, dt: tn.parallel(
        tn.Network([tn.take(n, 1, 2), tn.tanh]),
        tn.Network([_dense(rng, n, n - 1, dt, tn.sigmoid), tn.dropout(0.2)]),
    ),
}
"""Every layer kind typednet ships, plus a user's, for the shared invariants. Not
`Embedding`: the table puts each kind between two Dense layers on floating columns, and
an Embedding takes integer ids, so it stands only first (tests/test_embedding.py)."""


def in_thread(call: Callable[[], object]) -> BaseException | None:
    """Run ``call`` in a daemon thread; the exception it raised, or None. A call that
    blocks (a reader waiting on a FIFO) fails the test after 10 s instead of hanging it."""
    result: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
            result.append(None)
        except BaseException as exc:
            result.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=10)
    assert result, "hung (on a FIFO?)"
    return result[0]


INTERRUPTED = "typednet: error: interrupted\n"


def interrupted_cleanly(returncode: int | None, err: str) -> bool:
    """Ctrl-C's outcome at the command line: typednet's one line and exit 130, or, when
    the signal lands before the interpreter has installed its own SIGINT handler (the
    first tenth of a second, longer on a loaded machine), the default action: killed by
    SIGINT with nothing printed, which a shell reports as 130 too. Never a traceback."""
    return (returncode, err) in ((130, INTERRUPTED), (-signal.SIGINT, ""))
