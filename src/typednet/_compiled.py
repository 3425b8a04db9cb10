"""`fit`'s compiled epoch (``fit(..., compiled=True)``): a chain of Dense layers trained
by one numba-compiled loop over many steps.

At small batches a NumPy training step is mostly the cost of calling NumPy: dozens of
calls a step, each a few microseconds, and Adam's dozen passes over the params. Here a
whole run of steps is one call: the batch is gathered, the forward pass, the loss, the
backward pass and the optimizer's step are loops compiled by numba (the matrix products
are BLAS calls, the elementwise work is fused, Adam is one vectorized pass), with no
worker threads. The maths are those of the NumPy path, operation by operation, so float64
agrees with it to rounding (1e-12 relative after 100 steps, tested) and the same seed
gives the same bits from run to run.

What it trains: `typednet.Dense` layers only, with identity, relu, leaky_relu, sigmoid or
tanh (softmax as the last layer's, with `cross_entropy`); the losses `mse`,
`cross_entropy` after a softmax, `softmax_cross_entropy`, and `binary_cross_entropy`
after a sigmoid; the optimizers `sgd`, `adam` and `adamw`, schedules included; one input
array, no penalty, no sample weights. `plan` says what else is refused, and why.

numba is imported, and the loop compiled, on first use; the machine code is cached on
disk (numba's ``cache=True``: next to this file, or in numba's user cache), so a later
process loads it instead of compiling it again.

The kernel's functions below are plain Python, type-checked as such; `_compiled` compiles
them. A kernel function calls the others by their module names, which `_compiled` rebinds
to their compiled versions first (numba resolves those names when it compiles).
"""

import importlib
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from . import _store, optim
from .layers import Dense
from .losses import Loss
from .network import Network
from .optim import Optimizer, OptState
from .regularization import Penalty
from .shapes import Matrix

__all__ = ["Kernel", "Steps", "plan", "run_steps"]

Array = npt.NDArray[Any]

# Activation codes. Leaky ReLU's leak is kept beside its code.
_IDENTITY, _RELU, _LEAKY, _SIGMOID, _TANH, _SOFTMAX = 0, 1, 2, 3, 4, 5
_ACTIVATIONS = {"identity": _IDENTITY, "relu": _RELU, "leaky_relu": _LEAKY,
                "sigmoid": _SIGMOID, "tanh": _TANH, "softmax": _SOFTMAX}  # fmt: skip
# Loss codes: the loss with the last layer's activation it is taken after.
_MSE, _CE_SOFTMAX, _SOFTMAX_CE, _BCE_SIGMOID = 0, 1, 2, 3
# Optimizer codes.
_SGD, _ADAM = 0, 1

_SUPPORTED = (
    "compiled=True trains chains of tn.Dense layers with identity, relu, leaky_relu, "
    "sigmoid or tanh (softmax last, with cross_entropy), on one input array, with mse, "
    "cross_entropy, softmax_cross_entropy or binary_cross_entropy (after a sigmoid), and "
    "sgd, adam or adamw; no penalty or sample weights"
)


@dataclass(frozen=True, slots=True)
class Kernel:
    """What the compiled loop needs of a network, a loss and an optimizer: checked once."""

    layers: Array  # (L, 3) int64: rows, columns, activation code of each Dense
    leaks: Array  # (L,) float64: each leaky ReLU's leak (0 elsewhere)
    loss: int
    optimizer: int
    rate: Callable[[int], float]  # step t (from 1) -> learning rate, checked
    weight_decay: float  # adamw's (0 otherwise)
    b1: float
    b2: float
    eps: float


def plan(
    net: Network[Any, Any],
    x: object,
    loss: Loss,
    optimizer: Optimizer,
    penalty: Penalty | None,
    weighted: bool,
) -> Kernel:
    """The kernel's description of this run, or a ValueError naming what the compiled
    loop does not train (and an ImportError without numba)."""
    _numba()  # no numba: say so first, whatever the network
    refuse = f"fit: {_SUPPORTED}"
    if not isinstance(x, np.ndarray):
        raise ValueError(f"{refuse}; x is a {type(x).__name__} (named inputs?)")
    if penalty is not None or weighted:
        raise ValueError(
            f"{refuse}; got {'a penalty' if penalty is not None else 'sample weights'}"
        )
    rows: list[tuple[int, int, int]] = []
    leaks: list[float] = []
    last = len(net.layers) - 1
    for i, layer in enumerate(net.layers):
        if type(layer) is not Dense:
            raise ValueError(f"{refuse}; layer {i + 1} is a {type(layer).__name__}")
        act = layer.activation
        code = _ACTIVATIONS.get(act.name, -1)
        if code < 0 or (code == _SOFTMAX and i != last):  # typednet's own names only
            raise ValueError(f"{refuse}; layer {i + 1}'s activation is {act.name}")
        rows.append((layer.out_size, layer.in_size, code))
        leaks.append(act.param or 0.0)  # leaky_relu's leak: the only param among these
    out = rows[-1][2]
    loss_code = _loss_code(loss.name, out)
    if loss_code < 0:
        raise ValueError(f"{refuse}; {loss.name} with the output activation {_name_of(out)}")
    hyper = dict(optimizer.hyperparameters)
    if optimizer.name not in ("sgd", "adam", "adamw"):
        raise ValueError(f"{refuse}; the optimizer is {optimizer.name}")
    rate = optim._learning_rate(optimizer.name, hyper["learning_rate"])[1]
    return Kernel(
        layers=np.array(rows, dtype=np.int64),
        leaks=np.array(leaks, dtype=np.float64),
        loss=loss_code,
        optimizer=_SGD if optimizer.name == "sgd" else _ADAM,
        rate=rate,
        weight_decay=cast(float, hyper.get("weight_decay", 0.0)),  # numbers: only the
        b1=cast(float, hyper.get("b1", 0.0)),  # learning rate may be a schedule
        b2=cast(float, hyper.get("b2", 0.0)),
        eps=cast(float, hyper.get("eps", 0.0)),
    )


# The losses taken after a given output activation (mse after any but softmax).
_LOSSES = {
    ("cross_entropy", _SOFTMAX): _CE_SOFTMAX,
    ("softmax_cross_entropy", _IDENTITY): _SOFTMAX_CE,
    ("binary_cross_entropy", _SIGMOID): _BCE_SIGMOID,
}


def _loss_code(name: str, out: int) -> int:
    if name == "mse":
        return -1 if out == _SOFTMAX else _MSE
    return _LOSSES.get((name, out), -1)


def _name_of(code: int) -> str:
    return next(name for name, c in _ACTIVATIONS.items() if c == code)


# --- running it -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Steps:
    """What a call of the compiled loop did."""

    trained: tuple[Network[Any, Any], OptState[Any, Any]]  # after the last step taken
    values: Array  # the loss of each step taken
    refused: Matrix | None  # the next step's params, not finite: that step is not taken
    bad_loss: bool  # the last step taken had a loss that is not finite


def run_steps(
    kernel: Kernel,
    trained: tuple[Network[Any, Any], OptState[Any, Any]],
    x: Array,
    y: Array,
    order: Array,
    batch_size: int,
    first: int,
    last: int,
    chunked: bool = False,
) -> Steps:
    """Steps ``first`` to ``last`` (exclusive) of the epoch whose column order is
    ``order``, from ``trained``, stopping at the first step whose params or loss are not
    finite; each step's learning rate comes from ``kernel.rate`` (a schedule's checks
    included) before the first step runs. (After a refused step the optimizer's slots
    hold that step's update: `fit` raises then, so they are never seen.) ``chunked``:
    gather the call's whole batches in one pass over x first (for a set larger than the
    caches: see `_columns.gathered`), into a workspace of that many batches."""
    net, state = trained
    steps = last - first
    t0 = state.count
    rates = np.array([kernel.rate(t0 + k + 1) for k in range(steps)], dtype=np.float64)
    flat = _store.column(net)[:, 0]
    p, spare = flat.copy(), np.empty_like(flat)
    m, v = [column[:, 0].copy() for column in state.columns] or [np.empty(0, flat.dtype)] * 2
    values = np.empty(steps, dtype=np.float64)
    done, status, swapped = _compiled()(
        x, y, order, batch_size, first, steps, p, spare, m, v, kernel.layers, kernel.leaks,
        kernel.loss, kernel.optimizer, rates, kernel.weight_decay, kernel.b1, kernel.b2,
        kernel.eps, t0, values, chunked,
    )  # fmt: skip
    params, other = (spare, p) if swapped else (p, spare)
    taken = done - (status == _REFUSED)
    new_net = _store.rebuild(net, params.reshape(-1, 1))
    slots = tuple(s.reshape(-1, 1) for s in (m, v)[: len(state.columns)])
    for slot in slots:
        slot.setflags(write=False)
    return Steps(
        trained=(new_net, OptState(t0 + taken, slots, new_net)),
        values=values[:taken],
        refused=other.reshape(-1, 1) if status == _REFUSED else None,
        bad_loss=status == _BAD_LOSS,
    )


# The kernel's status: every step taken, a step's params refused, a step's loss not finite.
_DONE, _REFUSED, _BAD_LOSS = 0, 1, 2


def _numba() -> Any:
    """numba, with scipy's BLAS, which its matrix products call (numba alone compiles
    the loop but fails on its first product)."""
    try:
        importlib.import_module("scipy.linalg.cython_blas")
        return importlib.import_module("numba")
    except ImportError as error:
        raise ImportError(
            "fit: compiled=True needs numba and scipy, optional dependencies: "
            "pip install 'typednet[fast]'"
        ) from error


_BUILD = threading.Lock()  # two threads' first calls compile once
_built: list[Callable[..., tuple[int, int, bool]]] = []


def _compiled() -> Callable[..., tuple[int, int, bool]]:
    """The compiled kernel: its functions compiled on the first call in a process (or
    loaded from numba's disk cache).

    ``error_model="numpy"``: a division by zero gives inf or NaN as in NumPy (caught by
    the finiteness checks) instead of raising; it also lets LLVM vectorize the loops.
    No ``fastmath``: every operation rounds as written, as NumPy's do.
    """
    with _BUILD:
        if not _built:
            jit = _numba().njit(cache=True, error_model="numpy", nogil=True)
            names = (
                "_gather",
                "_gather_chunk",
                "_view",
                "_bias_activate",
                "_vjp",
                "_loss_delta",
                "_step_params",
                "_steps",
            )
            module = globals()
            for name in names:
                module[name] = jit(module[name])
            _built.append(module["_steps"])
        return _built[0]


# --- the kernel (compiled by `_compiled`) ---------------------------------------------------


def _gather(a: Array, order: Array, start: int, out: Array) -> None:
    """Columns ``order[start:]`` of ``a`` into ``out`` (as many as it has), row by row."""
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = a[i, order[start + j]]


def _gather_chunk(a: Array, order: Array, start: int, out: Array) -> None:
    """The columns of ``out.shape[0]`` whole batches from ``order[start:]``, batch by
    batch: ``out[k]`` is batch k, a C-ordered (rows, batch) matrix a step uses as it is.
    Row by row of ``a``, so each row is read once for all the batches (from a C-ordered
    set, every batch's columns touch every cache line of a row)."""
    count, rows, cols = out.shape
    for i in range(rows):
        for k in range(count):
            base = start + k * cols
            for j in range(cols):
                out[k, i, j] = a[i, order[base + j]]


def _view(buffer: Array, rows: int, cols: int) -> Array:
    """The first rows x cols values of a flat ``buffer`` as a C-ordered matrix."""
    return buffer[: rows * cols].reshape((rows, cols))


def _bias_activate(code: int, leak: float, b: Array, pre: Array, post: Array) -> None:
    """``pre += b`` (a column), then the activation of ``pre`` into ``post``, as
    `typednet.layers.Dense` and `typednet.activations` compute them: one pass a row, its
    loop free of branches (so LLVM vectorizes what it can)."""
    rows, cols = pre.shape
    dt = pre.dtype.type
    zero, one, a = dt(0.0), dt(1.0), dt(leak)
    limit = dt(-math.floor(math.log(np.finfo(pre.dtype).max)))
    z, s = pre.reshape(pre.size), post.reshape(post.size)  # flat views of C-ordered arrays
    for r in range(rows):
        bias = b[r]
        lo, hi = r * cols, (r + 1) * cols
        if code == _RELU:
            for e in range(lo, hi):
                z[e] += bias
                s[e] = max(z[e], zero)
        elif code == _LEAKY and 0 <= leak <= 1:
            for e in range(lo, hi):
                z[e] += bias
                s[e] = max(z[e], a * z[e])
        elif code == _LEAKY:
            for e in range(lo, hi):
                z[e] += bias
                s[e] = z[e] if z[e] > zero else a * z[e]
        elif code == _SIGMOID:
            for e in range(lo, hi):
                z[e] += bias
                s[e] = one / (np.exp(-max(z[e], limit)) + one)
        elif code == _TANH:
            for e in range(lo, hi):
                z[e] += bias
                s[e] = np.tanh(z[e])
        elif code == _IDENTITY:
            for e in range(lo, hi):
                z[e] += bias
                s[e] = z[e]
        else:  # softmax: post is written below, column by column
            for e in range(lo, hi):
                z[e] += bias
    if code == _SOFTMAX:  # per column, shifted by its max
        for j in range(cols):
            top = pre[0, j]
            for i in range(1, rows):
                top = max(top, pre[i, j])
            for i in range(rows):
                post[i, j] = np.exp(pre[i, j] - top)
        for j in range(cols):
            total = zero
            for i in range(rows):
                total += post[i, j]
            for i in range(rows):
                post[i, j] /= total


def _vjp(code: int, leak: float, pre: Array, post: Array, g: Array) -> None:
    """d loss / d pre from d loss / d post, written over ``g``; a loop per activation."""
    dt = g.dtype.type
    zero, one, a = dt(0.0), dt(1.0), dt(leak)
    z, s, d = pre.reshape(pre.size), post.reshape(post.size), g.reshape(g.size)
    if code == _RELU:  # g * (z > 0)
        for e in range(d.size):
            d[e] = d[e] if z[e] > zero else d[e] * zero
    elif code == _LEAKY:
        for e in range(d.size):
            d[e] = d[e] if z[e] > zero else d[e] * a
    elif code == _SIGMOID:
        for e in range(d.size):
            d[e] = d[e] * s[e] * (one - s[e])
    elif code == _TANH:
        for e in range(d.size):
            d[e] = d[e] * (one - s[e] * s[e])


def _loss_delta(loss: int, pre: Array, post: Array, y: Array, delta: Array) -> float:
    """The batch's loss, and d loss / d the last layer's pre-activation into ``delta``
    (for mse, d loss / d its post-activation), as `typednet.losses` and `typednet.grad`
    compute them."""
    rows, cols = post.shape
    dt = post.dtype.type
    eps = dt(np.finfo(post.dtype).eps)
    one = dt(1.0)
    value = 0.0
    if loss == _MSE:  # (2 / size) (p - y), then the output activation's vjp
        scale = dt(2.0 / post.size)
        for i in range(rows):
            for j in range(cols):
                d = post[i, j] - y[i, j]
                value += d * d
                delta[i, j] = scale * d
        return value / post.size
    if loss in (_CE_SOFTMAX, _BCE_SIGMOID):  # fused: (p - y) / batch or / size
        size = dt(cols if loss == _CE_SOFTMAX else post.size)
        for i in range(rows):
            for j in range(cols):
                p = post[i, j]
                q = min(max(p, eps), one - eps)
                if loss == _CE_SOFTMAX:
                    value -= y[i, j] * np.log(q)
                else:
                    value -= y[i, j] * np.log(q) + (one - y[i, j]) * np.log(one - q)
                delta[i, j] = (p - y[i, j]) / size
        return float(value / size)
    # softmax cross-entropy of logits: log-softmax shifted by each column's max
    for j in range(cols):
        top = pre[0, j]
        for i in range(1, rows):
            top = max(top, pre[i, j])
        total = dt(0.0)
        for i in range(rows):
            total += np.exp(pre[i, j] - top)
        log_total = np.log(total)
        mass = dt(0.0)
        for i in range(rows):
            mass += y[i, j]
        for i in range(rows):
            log_p = (pre[i, j] - top) - log_total
            value -= y[i, j] * log_p
            delta[i, j] = (np.exp(log_p) * mass - y[i, j]) / dt(cols)
    return float(value / cols)


def _step_params(
    optimizer: int,
    g: Array,
    p: Array,
    out: Array,
    m: Array,
    v: Array,
    lr: float,
    t: int,
    decay: float,
    b1: float,
    b2: float,
    eps: float,
) -> bool:
    """One optimizer step from ``p`` into ``out`` (m and v in place): whether every new
    param is finite."""
    dt = p.dtype.type
    if optimizer == _SGD:
        c = dt(-lr)
        for i in range(p.shape[0]):
            out[i] = g[i] * c + p[i]
    else:  # adam (adamw: decay > 0), multiplied through by sqrt(1 - b2^t), as in NumPy
        root = math.sqrt(1.0 - b2**t)
        c = dt(-(lr * root / (1.0 - b1**t)))
        e = dt(eps * root)
        a1, a2, d = dt(1.0 - b1), dt(1.0 - b2), dt(decay * lr)
        for i in range(p.shape[0]):
            gi = g[i]
            mi = (gi - m[i]) * a1 + m[i]
            vi = (gi * gi - v[i]) * a2 + v[i]
            m[i] = mi
            v[i] = vi
            out[i] = (mi * c) / (np.sqrt(vi) + e) - d * p[i] + p[i]
    # |u| <= the largest finite value is false for NaN and for inf: an OR of flags,
    # which LLVM vectorizes (a sum or an early exit it would not).
    big = np.finfo(out.dtype).max
    bad = False
    for i in range(out.shape[0]):
        bad |= not abs(out[i]) <= big
    return not bad


def _steps(
    x: Array,
    y: Array,
    order: Array,
    batch_size: int,
    first: int,
    steps: int,
    p: Array,
    spare: Array,
    m: Array,
    v: Array,
    layers: Array,
    leaks: Array,
    loss: int,
    optimizer: int,
    rates: Array,
    decay: float,
    b1: float,
    b2: float,
    eps: float,
    t0: int,
    values: Array,
    chunked: bool,
) -> tuple[int, int, bool]:
    """``steps`` training steps from batch ``first`` of the epoch; see `run_steps`.
    Returns (steps run, status, whether the params ended in ``spare``). With
    ``chunked``, the call's whole batches of x are gathered first, in one pass over x
    (`_gather_chunk`); else each step gathers its own.

    Every array a step needs is allocated once per call, flat, and viewed at the batch's
    width (`_view`): a C-ordered matrix for any batch, the last one included. (A fresh
    array per product costs page faults at every step once it is larger than malloc
    keeps at hand.)"""
    n = order.shape[0]
    count: int = layers.shape[0]
    dtype = p.dtype
    ones = np.ones(batch_size, dtype)
    g = np.empty_like(p)
    widest = layers[:, 0].max()  # a delta has a layer's rows
    xs = np.empty(x.shape[0] * batch_size, dtype)
    ys = np.empty(y.shape[0] * batch_size, dtype)
    pres = [np.empty(layers[i, 0] * batch_size, dtype) for i in range(count)]
    posts = [np.empty(layers[i, 0] * batch_size, dtype) for i in range(count)]
    deltas = [np.empty(widest * batch_size, dtype) for _ in range(2)]
    swapped = False
    whole = min(steps, n // batch_size - first) if chunked else 0
    chunk = np.empty((whole, x.shape[0], batch_size), dtype)
    _gather_chunk(x, order, first * batch_size, chunk)
    for k in range(steps):
        start = (first + k) * batch_size
        cols = min(batch_size, n - start)
        if k < whole:
            xb = chunk[k]
        else:
            xb = _view(xs, x.shape[0], cols)
            _gather(x, order, start, xb)
        yb = _view(ys, y.shape[0], cols)
        _gather(y, order, start, yb)
        at = 0
        h = xb
        for i in range(count):
            rows, ins, code = layers[i, 0], layers[i, 1], layers[i, 2]
            w = p[at : at + rows * ins].reshape((rows, ins))
            b = p[at + rows * ins : at + rows * ins + rows]
            pre = _view(pres[i], rows, cols)
            np.dot(w, h, pre)
            h = _view(posts[i], rows, cols)
            _bias_activate(code, float(leaks[i]), b, pre, h)
            at += rows * ins + rows
        out = layers[count - 1, 2]
        rows = layers[count - 1, 0]
        delta = _view(deltas[0], rows, cols)
        pre, post = _view(pres[count - 1], rows, cols), _view(posts[count - 1], rows, cols)
        value = _loss_delta(loss, pre, post, yb, delta)
        if loss == _MSE:
            _vjp(out, float(leaks[count - 1]), pre, post, delta)
        for i in range(count - 1, -1, -1):
            rows, ins = layers[i, 0], layers[i, 1]
            at -= rows * ins + rows
            h = xb if i == 0 else _view(posts[i - 1], ins, cols)
            np.dot(delta, h.T, g[at : at + rows * ins].reshape((rows, ins)))
            # The bias's gradient, delta @ ones as typednet's Dense sums the batch (BLAS).
            np.dot(delta, ones[:cols], g[at + rows * ins : at + rows * ins + rows])
            if i > 0:
                w = p[at : at + rows * ins].reshape((rows, ins))
                down = _view(deltas[(count - i) % 2], ins, cols)
                np.dot(w.T, delta, down)
                _vjp(layers[i - 1, 2], float(leaks[i - 1]), _view(pres[i - 1], ins, cols), h, down)
                delta = down
        values[k] = value
        finite = _step_params(
            optimizer, g, p, spare, m, v, rates[k], t0 + k + 1, decay, b1, b2, eps
        )
        if not finite:
            return k + 1, _REFUSED, swapped
        p, spare = spare, p
        swapped = not swapped
        if not np.isfinite(value):
            return k + 1, _BAD_LOSS, swapped
    return steps, _DONE, swapped
