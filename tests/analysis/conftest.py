"""Hand-made finished runs in the on-disk result format, for the analysis tests."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pytest


def make_run(root: Path, benchmark: str, method: str, seed: int, times: Sequence[float], values: Sequence[float],
             mode: str = "min", metric: str = "loss", budget: float | None = 10.0,
             simulated_time: float | None = None, blackbox: dict[str, Any] | None = None,
             real_seconds: float = 1.0, done: bool = True, experiment: str = "exp") -> Path:
    """Write one run to ``root/benchmark/method/seed_<seed>`` the way mfbench.results.store does."""
    from mfbench.results.store import RunDirectory

    n = len(times)
    times_arr = np.asarray(times, dtype=np.float64)
    columns = {
        "trial_id": np.arange(n, dtype=np.int64), "worker": np.zeros(n, dtype=np.int64),
        "table_seed": np.zeros(n, dtype=np.int64), "epoch": np.ones(n, dtype=np.int64),
        metric: np.asarray(values, dtype=np.float64), "other": np.zeros(n), "sim_time": times_arr,
        "decision": ["continue"] * n, "config_x": np.linspace(0, 1, n),
    }
    metadata = {
        "method": method, "benchmark": benchmark, "seed": seed, "experiment": experiment, "metric": metric,
        "mode": mode, "fidelity_attr": "epoch", "max_fidelity": 1, "n_workers": 1,
        "blackbox": blackbox or {"kind": "tabular"},
        "stopping": {"max_wallclock_time": budget}, "stop_reason": "max_wallclock_time",
        "simulated_time": simulated_time if simulated_time is not None else (budget or float(times_arr.max())),
        "num_results": n, "real_time": {"seconds": real_seconds},
    }
    path = root / benchmark / method / f"seed_{seed}"
    RunDirectory(path).write(columns, metadata)
    if not done:
        (path / "DONE").unlink()
    return path


@pytest.fixture
def toy_runs(tmp_path: Path) -> Path:
    """Benchmark ``toy`` (min, budget 6 s): method A with seeds 0-2, method B with seeds 0-1.

    A seed 0: t=(1,3,5) loss=(5,4,6)  -> running best (5,4,4)
    A seed 1: t=(2,4)   loss=(3,1)    -> (3,1)
    A seed 2: t=(2,2,5) loss=(7,2,9)  -> (7,2,2); two results at t=2, the later one counts
    B seed 0: t=(1,2)   loss=(4,2)    -> (4,2)
    B seed 1: t=(1,3)   loss=(6,5)    -> (6,5)
    """
    root = tmp_path / "exp"
    make_run(root, "toy", "A", 0, [1, 3, 5], [5, 4, 6], budget=6, real_seconds=1.0)
    make_run(root, "toy", "A", 1, [2, 4], [3, 1], budget=6, real_seconds=2.0)
    make_run(root, "toy", "A", 2, [2, 2, 5], [7, 2, 9], budget=6, real_seconds=3.0)
    make_run(root, "toy", "B", 0, [1, 2], [4, 2], budget=6, real_seconds=0.5)
    make_run(root, "toy", "B", 1, [1, 3], [6, 5], budget=6, real_seconds=0.5)
    return root


@pytest.fixture
def run_factory():
    """:func:`make_run` as a fixture, so test modules need no import from conftest."""
    return make_run
