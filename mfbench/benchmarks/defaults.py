"""The default experiment size of the bring-your-own benchmarks (``benchmark=table``, ``benchmark=function``).

A user's benchmark comes with no tuned budget, so one is derived from its own training
times: :data:`BUDGET_FULL_TRAININGS` full-fidelity trainings, enough for a multi-fidelity
method to get past its first brackets.
"""
from __future__ import annotations

import numpy as np

from mfbench.errors import ConfigError

#: without an explicit budget, a run gets this many full-fidelity training times (median)
BUDGET_FULL_TRAININGS = 20
DEFAULT_N_WORKERS = 4


def default_budget(full_fidelity_elapsed: np.ndarray, where: str) -> float:
    """``BUDGET_FULL_TRAININGS`` times the median elapsed time at the largest fidelity (seconds)."""
    values = np.asarray(full_fidelity_elapsed, dtype=np.float64)
    values = values[np.isfinite(values)]
    median = float(np.median(values)) if len(values) else 0.0
    if not median > 0:
        raise ConfigError(f"{where}: cannot derive a default budget (the median elapsed time at the largest fidelity "
                          "is not positive); set benchmark.max_wallclock_time=SECONDS")
    return float(np.ceil(BUDGET_FULL_TRAININGS * median))
