"""`fit`'s compiled epoch (``fit(..., compiled=True)``): a chain of Dense layers trained
by one numba-compiled loop over many steps.

At small batches a NumPy training step is mostly the cost of calling NumPy: dozens of
calls a step, each a few microseconds, and Adam's dozen passes over the params. Here a
whole run of steps is one call: the batch is gathered, the forward pass, the loss, the
backward pass and the optimizer's step are loops compiled by numba, with no worker
threads of its own. The matrix products are calls of NumPy's own BLAS (its threads
included), each layer's bias added by its product; the elementwise work is fused, in
place where it can be; Adam is one vectorized pass. The maths are those of the NumPy
path, operation by operation (only the products and the sums over a batch round in
another order), so float64 agrees with it to 1e-12 relative after 100 steps (tested),
and the same seed gives the same bits from run to run.

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

import ctypes
import functools
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
Address = np.uint64  # where an array's data lies, as the kernel passes it to BLAS

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
    """numba (and scipy, whose BLAS the products fall back on when NumPy's does not
    export them: see `_bind_blas`)."""
    try:
        if _numpy_gemm() is None:
            importlib.import_module("scipy.linalg.cython_blas")
        return importlib.import_module("numba")
    except ImportError as error:
        raise ImportError(
            "fit: compiled=True needs numba and scipy, optional dependencies: "
            "pip install 'typednet[fast]'"
        ) from error


# --- the matrix products: NumPy's own BLAS ----------------------------------------------------

# CBLAS's constants: row-major storage, an operand as it is, an operand transposed.
_ROW_MAJOR, _N, _T = 101, 111, 112
# Where NumPy's wheels keep CBLAS's ?gemm with 64-bit sizes (OpenBLAS built for SciPy and
# NumPy, its symbols renamed; then OpenBLAS's own ILP64 name).
_NUMPY_GEMM = ("scipy_cblas_{}gemm64_", "cblas_{}gemm64_")


@functools.cache
def _numpy_gemm() -> tuple[int, int] | None:
    """The addresses of CBLAS's sgemm and dgemm with 64-bit sizes in the BLAS NumPy is
    linked with (looked up once, from NumPy's core module, which loaded it), or None."""
    try:
        core = ctypes.CDLL(importlib.import_module("numpy._core._multiarray_umath").__file__)
    except OSError:  # a platform where an extension module cannot be opened again
        return None
    for name in _NUMPY_GEMM:
        try:
            found = [getattr(core, name.format(kind)) for kind in "sd"]
        except AttributeError:
            continue
        return cast(tuple[int, int], tuple(ctypes.cast(f, ctypes.c_void_p).value for f in found))
    return None


def _unbound(*args: object) -> None:
    raise RuntimeError("typednet._compiled: the BLAS products are bound by _compiled()")


# The products the kernel calls, declared by `_compiled` (numba's external functions).
_sgemm: Callable[..., None] = _unbound
_dgemm: Callable[..., None] = _unbound
_xxgemm: Callable[..., None] = _unbound

_blas: list[str] = []  # which BLAS the kernel's products call: "numpy" or "scipy"


def blas() -> str:
    """Which BLAS the compiled loop's products call in this process: "numpy" (NumPy's,
    its thread pool and `threadpoolctl` limits shared with NumPy's products) or "scipy"
    (where NumPy's BLAS does not export CBLAS with 64-bit sizes)."""
    _compiled()
    return _blas[0]


def _bind_blas(numba: Any) -> str:
    """Point ``typednet_sgemm`` and ``typednet_dgemm``, the symbols the kernel's products
    call (CBLAS's ``?gemm`` with 64-bit sizes), at NumPy's BLAS, or, where NumPy's does
    not export them, at adapters over scipy's BLAS (which numba's own products call);
    say which. Bound by name in each process before the kernel is compiled or loaded
    from the disk cache, so a cached kernel calls whichever this process has."""
    binding: Any = importlib.import_module("llvmlite.binding")  # numba's own dependency
    t = numba.types
    found, which = _numpy_gemm(), "numpy"
    if found is None:
        adapters = [
            numba.cfunc(_gemm_type(t, f), cache=True)(_scipy_gemm) for f in (t.float32, t.float64)
        ]
        found, which = (adapters[0].address, adapters[1].address), "scipy"
    for kind, address in zip("sd", found, strict=True):
        binding.add_symbol(f"typednet_{kind}gemm", address)
    return which


def _gemm_type(t: Any, dtype: Any) -> Any:
    """CBLAS's ?gemm for ``dtype``: sizes in 64 bits, pointers as addresses."""
    size, ptr = t.int64, t.voidptr
    return t.void(t.intc, t.intc, t.intc, size, size, size, dtype, ptr, size, ptr, size,
                  dtype, ptr, size)  # fmt: skip


def _xxgemm_type(t: Any) -> Any:
    """numba's ``numba_xxgemm``: BLAS's Fortran ?gemm, its scalars by address."""
    size, ptr, flag = t.intp, t.voidptr, t.int8
    return t.int32(flag, flag, flag, size, size, size, ptr, ptr, size, ptr, size, ptr, ptr, size)


def _scipy_gemm(
    order: int, ta: int, tb: int, m: int, n: int, k: int, alpha: float, a: int, lda: int,
    b: int, ldb: int, beta: float, c: int, ldc: int,
) -> None:  # fmt: skip
    """CBLAS's row-major ?gemm over numba's ``numba_xxgemm`` (scipy's BLAS,
    column-major): the product transposed, its operands swapped. (Compiled as a C
    callback, once for each dtype: ``alpha`` has the matrices' dtype.)"""
    scalars = np.array([alpha, beta])
    kind = _F_SINGLE if scalars.itemsize == 4 else _F_DOUBLE
    _xxgemm(kind, _F_T if tb == _T else _F_N, _F_T if ta == _T else _F_N, n, m, k,
            scalars.ctypes.data, b, ldb, a, lda, _address(scalars, 1), c, ldc)  # fmt: skip


# numba_xxgemm's (BLAS's Fortran) flags: single, double; transposed, as it is.
_F_SINGLE, _F_DOUBLE, _F_T, _F_N = ord("s"), ord("d"), ord("t"), ord("n")


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
            numba = _numba()
            t = numba.types
            module = globals()
            module["_sgemm"] = t.ExternalFunction("typednet_sgemm", _gemm_type(t, t.float32))
            module["_dgemm"] = t.ExternalFunction("typednet_dgemm", _gemm_type(t, t.float64))
            module["_xxgemm"] = t.ExternalFunction("numba_xxgemm", _xxgemm_type(t))
            jit = numba.njit(cache=True, error_model="numpy", nogil=True)
            module["_address"] = jit(_address)
            _blas.append(_bind_blas(numba))
            names = (
                "_gemm",
                "_batch_in_place",
                "_gather",
                "_gather_chunk",
                "_view",
                "_fill_rows",
                "_in_place",
                "_activate",
                "_vjp",
                "_loss_delta",
                "_step_params",
                "_steps",
            )
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
    set, every batch's columns touch every cache line of a row). Over 1-D views of a row
    and of each batch's row, which numba compiles to a tighter loop than indexing the 2-D
    and 3-D arrays (1.4 to 1.6 times faster at 784 x 8192, measured)."""
    count, rows, cols = out.shape
    picks = order[start : start + count * cols]
    for i in range(rows):
        row = a[i]
        for k in range(count):
            to, base = out[k, i], k * cols
            for j in range(cols):
                to[j] = row[picks[base + j]]


def _view(buffer: Array, rows: int, cols: int) -> Array:
    """The first rows x cols values of a flat ``buffer`` as a C-ordered matrix."""
    return buffer[: rows * cols].reshape((rows, cols))


def _address(a: Array, offset: int) -> Address:
    """The address of element ``offset`` of ``a`` (counted in elements, as if flat)."""
    return a.ctypes.data + np.uint64(offset * a.itemsize)


def _gemm(
    ta: int, tb: int, m: int, n: int, k: int, a: Address, lda: int, b: Address, ldb: int,
    beta: float, c: Address, ldc: int, single: bool,
) -> None:  # fmt: skip
    """``c = op(a) @ op(b) + beta * c``, row-major matrices given by address and leading
    dimension, op a transpose where ``ta``/``tb`` is `_T`: BLAS's sgemm or dgemm."""
    if single:
        _sgemm(_ROW_MAJOR, ta, tb, m, n, k, np.float32(1.0), a, lda, b, ldb,
               np.float32(beta), c, ldc)  # fmt: skip
    else:
        _dgemm(_ROW_MAJOR, ta, tb, m, n, k, 1.0, a, lda, b, ldb, beta, c, ldc)


def _batch_in_place(x: Array, order: Array, start: int, cols: int) -> tuple[Address, int, int]:
    """Columns ``order[start:start + cols]`` of ``x`` as BLAS reads them where they lie:
    (address, leading dimension, `_N` or `_T`), when they are consecutive and x has a unit
    stride (C- or F-ordered rows or columns); else a leading dimension of 0 (gather them)."""
    first = order[start]
    none = (np.uint64(0), 0, _N)
    for j in range(1, cols):
        if order[start + j] != first + j:
            return none
    size = x.itemsize
    s0, s1 = x.strides
    if s1 == size and s0 % size == 0 and s0 >= x.shape[1] * size:  # a row is contiguous
        return _address(x, first), s0 // size, _N
    if s0 == size and s1 % size == 0 and s1 >= x.shape[0] * size:  # a column is
        return _address(x, 0) + np.uint64(first * s1), s1 // size, _T
    return none


def _fill_rows(out: Array, b: Array) -> None:
    """Each row of ``out`` set to its entry of ``b`` (a layer's bias, which its product
    then adds to: BLAS's ``beta = 1``)."""
    rows, cols = out.shape
    for r in range(rows):
        value = b[r]
        for j in range(cols):
            out[r, j] = value


def _in_place(code: int, leak: float) -> bool:
    """Whether an activation may overwrite its pre-activation: its derivative needs only
    its output (for relu and leaky ReLU with leak >= 0, output > 0 exactly where z > 0).
    Not softmax (a column's max and sum) or a leaky ReLU with a negative leak."""
    return code != _SOFTMAX and not (code == _LEAKY and leak < 0)


def _activate(code: int, leak: float, pre: Array, post: Array) -> None:
    """The activation of ``pre`` (bias added) into ``post`` (which may be ``pre``: see
    `_in_place`), as `typednet.activations` computes it. Each is one branch-free pass
    over ``post`` alone (a copy of ``pre`` first unless it is ``pre``), which LLVM
    vectorizes (over two arrays that overlap it would not); softmax goes row by row."""
    rows, cols = pre.shape
    dt = pre.dtype.type
    zero, one, a = dt(0.0), dt(1.0), dt(leak)
    if code == _SOFTMAX:  # per column, shifted by its max; row by row, contiguous
        top = pre[0].copy()
        for i in range(1, rows):
            for j in range(cols):
                top[j] = max(top[j], pre[i, j])
        total = np.zeros(cols, pre.dtype)
        for i in range(rows):
            for j in range(cols):
                post[i, j] = np.exp(pre[i, j] - top[j])
                total[j] += post[i, j]
        for i in range(rows):
            for j in range(cols):
                post[i, j] /= total[j]
        return
    s = post.reshape(post.size)  # a flat view of a C-ordered array
    if post.ctypes.data != pre.ctypes.data:
        s[:] = pre.reshape(pre.size)
    if code == _RELU:
        for e in range(s.size):
            s[e] = max(s[e], zero)
    elif code == _LEAKY and 0 <= leak <= 1:
        for e in range(s.size):
            s[e] = max(s[e], a * s[e])
    elif code == _LEAKY:
        for e in range(s.size):
            s[e] = s[e] if s[e] > zero else a * s[e]
    elif code == _SIGMOID:
        limit = dt(-math.floor(math.log(np.finfo(pre.dtype).max)))
        for e in range(s.size):
            s[e] = one / (np.exp(-max(s[e], limit)) + one)
    elif code == _TANH:
        for e in range(s.size):
            s[e] = np.tanh(s[e])


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
                    if y[i, j] != 0:  # else a term of -0.0 (q >= eps): the same sum
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
    param is finite. The check is made in the update's own loop, as each value is
    written: a second pass over ``out`` cost Adam a tenth of its time (float32, 235 146
    params: 77.7 against 69.0 µs, with 64.6 µs for a square root and a division alone)."""
    dt = p.dtype.type
    # |u| <= the largest finite value is false for NaN and for inf: an OR of flags,
    # which LLVM vectorizes (a sum or an early exit it would not).
    big = np.finfo(out.dtype).max
    bad = False
    if optimizer == _SGD:
        c = dt(-lr)
        for i in range(p.shape[0]):
            u = g[i] * c + p[i]
            out[i] = u
            bad |= not abs(u) <= big
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
            u = (mi * c) / (np.sqrt(vi) + e) - d * p[i] + p[i]
            out[i] = u
            bad |= not abs(u) <= big
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
    Returns (steps run, status, whether the params ended in ``spare``). A batch of
    consecutive columns of x is read where it lies (`_batch_in_place`); else, with
    ``chunked``, the call's whole batches of x are gathered first, in one pass over x
    (`_gather_chunk`), or each step gathers its own.

    The products are BLAS calls on addresses (`_gemm`): a layer's bias is written into
    its output before its product adds to it, an activation overwrites its
    pre-activation where it can (`_in_place`), and the bias's gradient is the product
    ``delta @ ones``. Every matrix a step needs is allocated once per call, flat, and
    viewed at the batch's width (`_view`): a C-ordered matrix for any batch, the last
    one included. (A fresh array per product costs page faults at every step once it is
    larger than malloc keeps at hand.)"""
    n = order.shape[0]
    count: int = layers.shape[0]
    dtype = p.dtype
    single = p.itemsize == 4
    ones = np.ones(batch_size, dtype)
    g = np.empty_like(p)
    widest = layers[:, 0].max()  # a delta has a layer's rows
    xs = np.empty(x.shape[0] * batch_size, dtype)
    ys = np.empty(y.shape[0] * batch_size, dtype)
    pres = [np.empty(layers[i, 0] * batch_size, dtype) for i in range(count)]
    posts = [
        pres[i] if _in_place(layers[i, 2], leaks[i]) else np.empty(layers[i, 0] * batch_size, dtype)
        for i in range(count)
    ]
    deltas = [np.empty(widest * batch_size, dtype) for _ in range(2)]
    swapped = False
    whole = min(steps, n // batch_size - first) if chunked else 0
    chunk = np.empty((whole, x.shape[0], batch_size), dtype)
    _gather_chunk(x, order, first * batch_size, chunk)
    for k in range(steps):
        start = (first + k) * batch_size
        cols = min(batch_size, n - start)
        xp, xld, xt = _batch_in_place(x, order, start, cols)
        if xld == 0:
            if k < whole:
                xb = chunk[k]
            else:
                xb = _view(xs, x.shape[0], cols)
                _gather(x, order, start, xb)
            xp, xld, xt = _address(xb, 0), cols, _N
        yb = _view(ys, y.shape[0], cols)
        _gather(y, order, start, yb)
        at = 0
        hp, hld, ht = xp, xld, xt
        for i in range(count):
            rows, ins, code = layers[i, 0], layers[i, 1], layers[i, 2]
            pre = _view(pres[i], rows, cols)
            _fill_rows(pre, p[at + rows * ins : at + rows * ins + rows])
            _gemm(_N, ht, rows, cols, ins, _address(p, at), ins, hp, hld, 1.0,
                  _address(pre, 0), cols, single)  # fmt: skip
            _activate(code, float(leaks[i]), pre, _view(posts[i], rows, cols))
            hp, hld, ht = _address(posts[i], 0), cols, _N
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
            if i == 0:
                hp, hld, ht = xp, xld, xt
            else:
                hp, hld, ht = _address(posts[i - 1], 0), cols, _N
            d = _address(delta, 0)
            # delta @ h.T, then the bias's delta @ ones (typednet's Dense sums the batch)
            _gemm(_N, _T if ht == _N else _N, rows, ins, cols, d, cols, hp, hld, 0.0,
                  _address(g, at), ins, single)  # fmt: skip
            _gemm(_N, _N, rows, 1, cols, d, cols, _address(ones, 0), 1, 0.0,
                  _address(g, at + rows * ins), 1, single)  # fmt: skip
            if i > 0:
                down = _view(deltas[(count - i) % 2], ins, cols)
                _gemm(_T, _N, ins, cols, rows, _address(p, at), ins, d, cols, 0.0,
                      _address(down, 0), cols, single)  # fmt: skip
                below = layers[i - 1, 2], float(leaks[i - 1])
                _vjp(*below, _view(pres[i - 1], ins, cols), _view(posts[i - 1], ins, cols), down)
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
