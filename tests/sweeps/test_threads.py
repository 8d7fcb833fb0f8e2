from __future__ import annotations

import pytest

from mfbench.sweeps.threads import THREAD_VARIABLES, allocated_cpus, limit_threads


def test_allocated_cpus_reads_slurm_then_mfbench_variable() -> None:
    assert allocated_cpus({}) is None
    assert allocated_cpus({"SLURM_CPUS_PER_TASK": "4"}) == 4
    assert allocated_cpus({"SLURM_CPUS_PER_TASK": "4", "MFBENCH_CPUS": "2"}) == 2
    assert allocated_cpus({"SLURM_CPUS_PER_TASK": "0"}) is None
    assert allocated_cpus({"SLURM_CPUS_PER_TASK": "x"}) is None


def test_limit_threads_keeps_explicit_values_unless_forced() -> None:
    env = {"OMP_NUM_THREADS": "8"}
    changed = limit_threads(2, env)
    assert "OMP_NUM_THREADS" not in changed and env["OMP_NUM_THREADS"] == "8"
    assert all(env[name] == "2" for name in THREAD_VARIABLES if name != "OMP_NUM_THREADS")
    assert env["MFBENCH_CPUS"] == "2"
    limit_threads(3, env, force=True)
    assert all(env[name] == "3" for name in THREAD_VARIABLES)


def test_limit_threads_rejects_zero() -> None:
    with pytest.raises(ValueError, match="cpus must be >= 1"):
        limit_threads(0, {})
