"""A reproducible, fast context for GP computations: one thread, deterministic, seeded.

Every model-based proposal of the GP searcher runs inside :func:`torch_session`, so that
results are bit-identical for a seed whatever else the process does with torch, and the
process's settings (torch threads, determinism flag, global torch random state, BLAS
threads) are restored afterwards. Single-threaded BLAS matters for speed too: SciPy's
L-BFGS-B calls OpenBLAS for tiny vectors, and a multi-threaded OpenBLAS makes each
iteration ~25x slower on a busy machine. The GP code draws its random numbers from
numpy generators seeded by the run; the torch seed only guards library-internal draws.
"""
from __future__ import annotations

import contextlib
import ctypes
import functools
import sys
import time
from typing import Any, Iterator

#: glibc ``mallopt`` parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: blocks up to this size come from the heap and are reused once freed
MMAP_THRESHOLD_BYTES = 32 * 2**20
#: free memory kept at the top of the heap before it is handed back to the system
TRIM_THRESHOLD_BYTES = 256 * 2**20


def load_model_stack() -> float:
    """Import what model-based proposals use (torch, gpytorch, SciPy's optimiser, the GP
    modules) and inspect the BLAS libraries; return the seconds this took.

    The searcher calls it when it is built, before the simulation starts (so it is never
    counted, or charged, as decision time), and reports the time (``import_seconds`` in its
    description): a one-off cost per process, about as large as all the model-based
    decisions of a short run, that a comparison of in-run times may want to tell apart.
    Nearly 0 when everything was imported before.
    """
    started = time.perf_counter()
    import scipy.optimize  # noqa: F401
    import torch  # noqa: F401

    from mfbench.searchers.gp import acquisition, candidates, fit, posterior  # noqa: F401

    _thread_controller()
    keep_freed_memory()
    return time.perf_counter() - started


def _glibc_function(name: str) -> Any:
    """The C function ``name`` of glibc (``libc.so.6``), or None where there is none (not
    Linux, or another C library such as musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return getattr(ctypes.CDLL("libc.so.6"), name)
    except (OSError, AttributeError):
        return None


@functools.lru_cache(maxsize=1)
def keep_freed_memory() -> bool:
    """Let glibc's allocator reuse freed blocks of up to :data:`MMAP_THRESHOLD_BYTES` instead of
    handing them back to the system; True if it was set (glibc), False elsewhere (no change).

    A model-based proposal allocates and frees dozens of temporaries of ``n x n`` and ``n x m``
    doubles (about 2 MB at 500 observations). By default glibc serves blocks that large with
    ``mmap`` or trims them off the heap when freed, so every temporary costs fresh pages from
    the kernel (page faults, zeroing): measured here, more than the arithmetic on them
    (a 500 x 500 Matern matrix: 2.5 ms with fresh pages, 1.0 ms reusing the heap). Values
    are unaffected; a process keeps up to :data:`TRIM_THRESHOLD_BYTES` of freed memory. The
    same as setting ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` before start.
    """
    mallopt = _glibc_function("mallopt")
    if mallopt is None:
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))


@functools.lru_cache(maxsize=1)
def _malloc_trim() -> Any:
    """glibc's ``malloc_trim``, or None where there is none (not Linux, not glibc)."""
    trim = _glibc_function("malloc_trim")
    if trim is None:
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_freed_memory() -> bool:
    """Hand the freed memory the allocator keeps (:func:`keep_freed_memory`) back to the
    system; True if glibc released some.

    The searcher calls it after each cold refit of the hyperparameters (several starts from
    the initial values): its many criterion evaluations leave the heap at its largest, and
    what the next proposals need is far less. Released there, a GP run's peak resident
    memory drops by about 10-15 % for the joint model (``benchmarks/gp_memory.py``), while
    freed blocks are still reused within a fit and a proposal, where that saves time.
    Releasing after every fit saved no more memory and cost about 5 % CPU (the pages
    are faulted in again). Values are unaffected.
    """
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False


@functools.lru_cache(maxsize=1)
def _thread_controller() -> Any:
    import scipy.optimize  # noqa: F401  (load SciPy's BLAS before inspecting the loaded libraries)
    import torch  # noqa: F401
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _set_deterministic(mode: bool) -> None:
    """``torch.use_deterministic_algorithms(mode)`` without importing TorchInductor.

    The public function also sets an inductor flag, which imports ``torch._inductor``
    and ``torch._dynamo`` (seconds per process); we never compile, so only the core flag
    is set when torch exposes it.
    """
    import torch

    setter = getattr(torch._C, "_set_deterministic_algorithms", None)
    if setter is None:  # pragma: no cover  (other torch versions)
        torch.use_deterministic_algorithms(mode)
    else:
        setter(mode)


@contextlib.contextmanager
def torch_session(seed: int, num_threads: int = 1) -> Iterator[None]:
    """Run the enclosed block with ``num_threads`` threads, deterministic kernels and ``seed``.

    Args:
        seed: value for ``torch.manual_seed`` inside the block (the global torch random
            state is forked, so the caller's is untouched).
        num_threads: torch intra-op and BLAS threads during the block (1 makes
            reductions run in a fixed order, hence bit-reproducible).
    """
    import torch

    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    validate = torch.distributions.Distribution._validate_args
    torch.set_num_threads(num_threads)
    _set_deterministic(True)
    torch.distributions.Distribution.set_default_validate_args(False)  # priors' log_prob: no argument checks
    try:
        with _thread_controller().limit(limits=num_threads, user_api="blas"):
            with torch.random.fork_rng(devices=[]):
                torch.random.default_generator.manual_seed(seed)  # CPU only (torch.manual_seed probes devices)
                yield
    finally:
        torch.set_num_threads(threads)
        _set_deterministic(deterministic)
        torch.distributions.Distribution.set_default_validate_args(validate)
