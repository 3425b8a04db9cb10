"""Does a compiled, fused Adam pay? typednet's NumPy update against one-loop kernels.

    python benchmarks/fused_adam.py [--threads N]

Issue 23 item 4 allows a compiled path (numba, an optional extra) only where a
benchmark shows it pays. This times one Adam step plus the add to the params, over the
flat param column, on the digits network's 17 226 float64 params and the MNIST-shaped
network's 235 146 float32 params:

- ``typednet``: what `train_step` and `fit` run after the gradient (the NumPy rule,
  the add, the NaN/inf scan of the new params, one `Network` built);
- ``numpy_rule``: the same NumPy passes alone (no check, no Network);
- ``numba``: one compiled loop doing m, v, the update, the add and the finiteness test
  into fresh arrays (``@njit(fastmath=False)``, so the same operations in the same order);
- ``numba_parallel``: the same loop with ``prange`` (numba's threads);
- ``numexpr``: the rule as numexpr expressions (its own threads);
- ``jax``: ``optax.adam`` update and ``optax.apply_updates``, jitted, on one flat array.

numba and numexpr are not typednet dependencies: install them into a bench venv to run
this (``pip install numba numexpr``). The numba results are checked against typednet's
to 1e-12 relative (float64) or 1e-6 (float32).
"""

import argparse
import sys
import time
from typing import Any

import internals
import jax
import jax.numpy as jnp
import jax_peers  # noqa: F401  # enables x64 before any array is made
import numba
import numexpr  # type: ignore[import-untyped]  # no py.typed
import numpy as np
import optax  # type: ignore[import-untyped]  # no py.typed
from forward_benches import classifier
from harness import Budget, Peer, Result, calibrated, interleave, render, use_cpu_time
from machine import facts, numpy_threads_label, pin_threads

import typednet as tn
from typednet.optim import adam

BUDGET = Budget(repeats=21, min_repeats=7, warmup=2, sample_seconds=0.02, max_seconds=15)
B1, B2, EPS, LR = 0.9, 0.999, 1e-8, 1e-3


def _compiled(parallel: bool) -> Any:
    loop = numba.prange if parallel else range

    @numba.njit(parallel=parallel, fastmath=False, cache=False)
    def step(p: Any, g: Any, m: Any, v: Any, a1: Any, a2: Any, c: Any, e: Any) -> Any:
        # a1 = 1 - b1, a2 = 1 - b2, c = lr sqrt(1 - b2^t) / (1 - b1^t), e = eps sqrt(1 - b2^t):
        # scalars of the params' dtype, so float32 stays float32 as in NumPy.
        new_m = np.empty_like(m)
        new_v = np.empty_like(v)
        new_p = np.empty_like(p)
        bad = 0
        for i in loop(p.shape[0]):
            gi = g[i]
            mi = (gi - m[i]) * a1 + m[i]
            vi = (gi * gi - v[i]) * a2 + v[i]
            u = (mi * -c) / (np.sqrt(vi) + e) + p[i]
            new_m[i] = mi
            new_v[i] = vi
            new_p[i] = u
            bad += u - u != 0.0  # NaN or inf: u - u is NaN
        return new_p, new_m, new_v, bad == 0

    return step


@numba.njit(fastmath=False, cache=False)
def _serial_kernel(p: Any, g: Any, m: Any, v: Any, a1: Any, a2: Any, c: Any, e: Any) -> Any:
    """The loop of `_compiled` without the NaN/inf count, so LLVM vectorizes it; the
    finiteness test is NumPy's own pass after it. No threads: safe from any thread."""
    new_m = np.empty_like(m)
    new_v = np.empty_like(v)
    new_p = np.empty_like(p)
    for i in range(p.shape[0]):
        gi = g[i]
        mi = (gi - m[i]) * a1 + m[i]
        vi = (gi * gi - v[i]) * a2 + v[i]
        new_m[i] = mi
        new_v[i] = vi
        new_p[i] = (mi * -c) / (np.sqrt(vi) + e) + p[i]
    return new_p, new_m, new_v


def _serial(p: Any, g: Any, m: Any, v: Any, *consts: Any) -> Any:
    new_p, new_m, new_v = _serial_kernel(p, g, m, v, *consts)
    return new_p, new_m, new_v, bool(np.isfinite(new_p).all())


def case(name: str, sizes: tuple[int, ...], dtype: type[np.floating[Any]]) -> Result:
    net = classifier(np.random.default_rng(0), sizes, dtype)
    rng = np.random.default_rng(1)
    x = rng.random((sizes[0], 256)).astype(dtype)
    y = np.eye(sizes[-1], dtype=dtype)[rng.integers(0, sizes[-1], 256)].T.copy()
    opt = adam(LR)
    state0 = opt.init(net)
    _, g_col = internals.value_and_flat_grad(net, x, y, tn.cross_entropy)
    net1, state = internals.update_and_apply(opt, g_col, state0, net)  # step 1 done
    _, g_col = internals.value_and_flat_grad(net1, x, y, tn.cross_entropy)
    p = internals.column(net1).reshape(-1)
    g = g_col.reshape(-1)
    m, v = (c.reshape(-1) for c in state.columns)
    t = 2
    serial, parallel = _compiled(False), _compiled(True)

    def numpy_rule() -> object:
        return opt.rule(g_col, state.columns, t)

    root = float(np.sqrt(1.0 - B2**t))
    c, e = LR * root / (1.0 - B1**t), EPS * root
    consts = tuple(dtype(k) for k in (1.0 - B1, 1.0 - B2, c, e))
    local = {"g": g, "m": m, "v": v, "p": p}

    def with_numexpr() -> object:
        new_m = numexpr.evaluate("m + (g - m) * a", local_dict={**local, "a": dtype(1 - B1)})
        new_v = numexpr.evaluate("v + (g * g - v) * a", local_dict={**local, "a": dtype(1 - B2)})
        new_p = numexpr.evaluate(
            "p - c * nm / (sqrt(nv) + e)",
            local_dict={"p": p, "nm": new_m, "nv": new_v, "c": dtype(c), "e": dtype(e)},
        )
        return new_p, new_m, new_v, np.isfinite(new_p).all()

    jopt = optax.adam(LR)
    jp, jg = jnp.asarray(p), jnp.asarray(g)
    jstate = jopt.init(jp)

    @jax.jit
    def jax_step(params: jax.Array, grads: jax.Array, s: Any) -> Any:
        updates, s = jopt.update(grads, s, params)
        new = optax.apply_updates(params, updates)
        return new, s, jnp.isfinite(new).all()

    def run_jax() -> object:
        new, _, ok = jax_step(jp, jg, jstate)
        return new.block_until_ready(), ok

    # The compiled kernels agree with typednet's step.
    want = internals.column(internals.update_and_apply(opt, g_col, state, net1)[0]).reshape(-1)
    tol = 1e-12 if dtype == np.float64 else 1e-6
    notes = []
    for label, fn in (("numba", serial), ("numba_parallel", parallel), ("numba_vec", _serial)):
        start = time.perf_counter()
        got = fn(p, g, m, v, *consts)[0]
        compile_s = time.perf_counter() - start
        w64 = want.astype(np.float64)
        err = float(np.max(np.abs(got - w64) / np.maximum(np.abs(w64), 1e-300)))
        if not err <= tol:
            raise AssertionError(f"{label} differs from typednet by {err:.3g} relative")
        notes.append(f"{label}: first call (compile) {compile_s:.2f} s; max relative "
                     f"difference from typednet's params {err:.1e}")  # fmt: skip
    s = BUDGET.sample_seconds
    th = numpy_threads_label()
    peers = [
        Peer(
            "typednet",
            calibrated(lambda: internals.update_and_apply(opt, g_col, state, net1), s),
            th,
            "rule + add + NaN/inf scan + Network",
        ),
        Peer("numpy_rule", calibrated(numpy_rule, s), th, "the NumPy passes alone"),
        Peer("numba", calibrated(lambda: serial(p, g, m, v, *consts), s), "1", "one loop"),
        Peer(
            "numba_parallel",
            calibrated(lambda: parallel(p, g, m, v, *consts), s),
            f"numba: {numba.get_num_threads()}",
            "prange",
        ),
        Peer(
            "numba_vec",
            calibrated(lambda: _serial(p, g, m, v, *consts), s),
            "1",
            "one loop, vectorized; then np.isfinite(new).all()",
        ),
        Peer("numexpr", calibrated(with_numexpr, s), f"numexpr: {numexpr.get_num_threads()}", ""),
        Peer("jax", calibrated(run_jax, s), "XLA", "optax.adam + apply_updates, jitted"),
    ]
    return Result(
        name=name,
        what=f"One Adam step and the add over {p.size:,} {np.dtype(dtype).name} params "
        f"({'-'.join(map(str, sizes))}); time per call",
        baseline="typednet",
        peers=peers,
        samples=interleave(peers, BUDGET),
        notes=notes,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int)
    parser.add_argument("--cpu-time", action="store_true")
    args = parser.parse_args()
    if args.cpu_time:
        use_cpu_time()
    if args.threads is not None:
        pin_threads(args.threads)
        numba.set_num_threads(args.threads)
        numexpr.set_num_threads(args.threads)
    print("\n".join(facts()) + f"\n- numba {numba.__version__}, numexpr {numexpr.__version__}\n")
    print(render(case("adam_digits_f64", (64, 128, 64, 10), np.float64)))
    print(render(case("adam_mnist_f32", (784, 256, 128, 10), np.float32)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
