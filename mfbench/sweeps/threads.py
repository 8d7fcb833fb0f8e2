"""Limit torch / OpenMP / BLAS threads to the CPUs a job was given.

Without a limit every process of a sweep starts one thread per core of the node, so k jobs on
one node oversubscribe it k times. The environment variables take effect for libraries loaded
after the call (numpy's BLAS, torch); torch's intra-op pool is also resized if torch is
already imported.
"""
from __future__ import annotations

import os
import sys
from typing import Mapping, MutableMapping

#: thread-count variables of the common OpenMP / BLAS runtimes
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS")


def allocated_cpus(env: Mapping[str, str] | None = None) -> int | None:
    """CPUs given to this job: ``SLURM_CPUS_PER_TASK`` (or ``MFBENCH_CPUS``), else None."""
    env = os.environ if env is None else env
    for name in ("MFBENCH_CPUS", "SLURM_CPUS_PER_TASK"):
        value = env.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return None


def limit_threads(cpus: int, env: MutableMapping[str, str] | None = None, force: bool = False) -> dict[str, str]:
    """Set the thread variables to ``cpus`` (keeping values already set unless ``force``).

    Args:
        cpus: the number of CPUs of the job (>= 1).
        env: the environment to change (default: ``os.environ``).
        force: also replace values that are already set.

    Returns:
        The variables that were set, with their values.
    """
    if cpus < 1:
        raise ValueError(f"cpus must be >= 1, got {cpus}")
    env = os.environ if env is None else env
    changed = {}
    for name in THREAD_VARIABLES:
        if force or not env.get(name):
            env[name] = str(cpus)
            changed[name] = str(cpus)
    env["MFBENCH_CPUS"] = str(cpus)
    if env is os.environ and "torch" in sys.modules:
        torch = sys.modules["torch"]
        if torch.get_num_threads() != cpus:
            torch.set_num_threads(cpus)
    return changed


def limit_threads_to_allocation() -> int | None:
    """Limit threads to :func:`allocated_cpus` if the process runs in an allocation.

    Returns:
        The limit applied, or None outside an allocation (nothing is changed then).
    """
    cpus = allocated_cpus()
    if cpus is not None:
        limit_threads(cpus)
    return cpus
