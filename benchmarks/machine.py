"""What the figures were measured on: cores, versions, BLAS, threads; and the thread pin.

Nothing here changes the environment (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE and the other
variables are only reported); `pin_threads` limits thread pools through their own APIs.
"""

import importlib
import os
import platform
import sys
from importlib.metadata import version
from typing import Any

import numpy as np
import threadpoolctl  # type: ignore[import-untyped]  # ships no py.typed marker
import torch

_ENV = (
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
)


def _numpy_blas_info() -> dict[str, Any] | None:
    """threadpoolctl's record of numpy's BLAS (the first BLAS whose path names numpy)."""
    blas = [info for info in threadpoolctl.threadpool_info() if info.get("user_api") == "blas"]
    ours = [info for info in blas if "numpy" in str(info.get("filepath", ""))]
    return dict((ours or blas)[0]) if blas else None


def blas_threads() -> int:
    """The threads numpy's BLAS runs a matrix product with."""
    info = _numpy_blas_info()
    return int(info["num_threads"]) if info is not None else 1


def torch_threads() -> int:
    """Torch's intra-op threads."""
    return torch.get_num_threads()


def numpy_threads_label() -> str:
    return f"numpy BLAS: {blas_threads()}"


def compiled_threads_label() -> str:
    """The threads of the BLAS that typednet's compiled loop calls: NumPy's, or scipy's
    where NumPy's does not export CBLAS with 64-bit sizes (`typednet._compiled.blas`)."""
    from typednet import _compiled

    if _compiled.blas() == "numpy":
        return numpy_threads_label()
    blas = [info for info in threadpoolctl.threadpool_info() if info.get("user_api") == "blas"]
    ours = [info for info in blas if "scipy" in str(info.get("filepath", ""))]
    return f"scipy BLAS: {ours[0]['num_threads'] if ours else '?'}"


def torch_threads_label() -> str:
    return f"torch intra-op: {torch_threads()}"


def pin_threads(n: int) -> None:
    """Limit every BLAS/OpenMP pool (numpy, scipy, torch's), torch's own pool and XLA's
    to ``n``. scipy's BLAS is loaded first (typednet's compiled loop calls it where
    NumPy's BLAS does not serve it), as threadpoolctl limits only what is loaded."""
    importlib.import_module("scipy.linalg.cython_blas")
    threadpoolctl.threadpool_limits(limits=n)
    torch.set_num_threads(n)
    start_xla(n)


_XLA_THREADS: list[int] = []


def start_xla(threads: int | None = None) -> None:
    """Start JAX's CPU backend now, its thread pool sized to ``threads`` CPUs if given.

    XLA sizes its intra-op pool to the CPUs the process may run on when the backend
    starts; jaxlib 0.10.2 ignores ``XLA_FLAGS="--xla_cpu_multi_thread_eigen=false
    intra_op_parallelism_threads=1"`` (measured: a 2048x2048 product still used 2 CPU
    seconds per wall second). So the process's CPU affinity is narrowed to ``threads``
    CPUs for the start only, then restored: numpy and torch keep every core.
    """
    if _XLA_THREADS:
        if threads is not None and _XLA_THREADS[0] != threads:
            raise RuntimeError("XLA's backend already started with another thread count")
        return
    import jax  # here: starting it sizes its pool

    allowed = os.sched_getaffinity(0)
    try:
        if threads is not None:
            os.sched_setaffinity(0, sorted(allowed)[:threads])
        jax.devices()
        _XLA_THREADS.append(len(os.sched_getaffinity(0)))
    finally:
        os.sched_setaffinity(0, allowed)


def xla_threads_label() -> str:
    start_xla()
    return f"XLA: {_XLA_THREADS[0]}"


def _numpy_blas() -> str:
    info = _numpy_blas_info()
    if info is not None:
        return (
            f"{info['internal_api']} {info['version']} ({info['prefix']}, "
            f"core type {info.get('architecture', '?')}, {info.get('threading_layer', '?')}), "
            f"{info['num_threads']} threads (threadpoolctl)"
        )
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    return f"{blas['name']} {blas['version']} (np.show_config)"


def _torch_parallel() -> str:
    """The thread counts and backend lines of torch's own parallel report."""
    lines = torch.__config__.parallel_info().splitlines()
    return "; ".join(x.strip() for x in lines if "max_threads" in x or "backend" in x)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def facts() -> list[str]:
    """Markdown bullet lines describing the machine and the libraries."""
    cores = len(os.sched_getaffinity(0))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    env = ", ".join(f"{k}={os.environ.get(k, '(unset)')}" for k in _ENV)
    return [
        f"- CPU: {_cpu_model()}; {cores} cores usable (os.cpu_count() = {os.cpu_count()}); "
        f"load average at start: {load}",
        f"- Python {sys.version.split()[0]} on {platform.platform()}",
        f"- numpy {np.__version__}; torch {torch.__version__}; scikit-learn "
        f"{version('scikit-learn')}; jaxtyping {version('jaxtyping')}; beartype "
        f"{version('beartype')}; typednet {version('typednet')}",
        f"- numpy BLAS: {_numpy_blas()}",
        f"- torch: {torch_threads()} intra-op / {torch.get_num_interop_threads()} inter-op "
        f"threads; {_torch_parallel()}",
        f"- environment: {env}",
        *_jax_facts(),
    ]


def _jax_facts() -> list[str]:
    try:
        import jax
    except ImportError:
        return ["- jax: not installed (the `bench` extra installs it)"]
    start_xla()
    return [
        f"- jax {jax.__version__}, jaxlib {version('jaxlib')}, optax {version('optax')}; "
        f"XLA CPU pool sized to {_XLA_THREADS[0]} CPUs at start-up; x64 enabled: "
        f"{getattr(jax.config, 'jax_enable_x64', '?')}"
    ]
