"""Console experience: a progress bar over the simulated budget and the final summary."""
from __future__ import annotations

import math
import sys
from typing import Any, Callable


class SimulatedTimeProgress:
    """A tqdm bar in simulated seconds, updated at most every ``every`` events."""

    def __init__(self, budget: float, enabled: bool, every: int = 500) -> None:
        self._bar = None
        self._every = every
        self._calls = 0
        if enabled and math.isfinite(budget) and sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=round(budget), unit="sim-s", desc="simulating", leave=False, dynamic_ncols=True)

    def __call__(self, now: float) -> None:
        self._calls += 1
        if self._bar is not None and self._calls % self._every == 0:
            self._bar.update(min(round(now), self._bar.total) - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    @property
    def callback(self) -> Callable[[float], None] | None:
        return self if self._bar is not None else None


def format_summary(metadata: dict[str, Any], run_dir: str) -> str:
    """A short human summary of a finished run."""
    best = metadata.get("best") or {}
    real = metadata.get("real_time", {})
    lines = [
        f"mfbench: {metadata['method']} on {metadata['benchmark']} (seed {metadata['seed']}, "
        f"{metadata['n_workers']} workers)",
    ]
    if best:
        lines.append(f"  best {metadata['metric']} ({metadata['mode']}): {best['value']:.6g}  "
                     f"(trial {best['trial_id']} at {metadata['fidelity_attr']} {best['fidelity']})")
        lines.append(f"  best configuration: {best['config']}")
    elif metadata.get("num_results"):  # results came, but no value to rank: every one was NaN (failed)
        lines.append(f"  no best value: all {metadata['num_results']} results were NaN (failed evaluations)")
    else:
        lines.append("  no result was reported within the budget")
    lines.append(
        f"  simulated time: {metadata['simulated_time']:.1f} s of {metadata['stopping']['max_wallclock_time']} s "
        f"(ended by {metadata['stop_reason']}); real time: {real.get('seconds', float('nan')):.2f} s"
    )
    lines.append(f"  trials started: {metadata['num_trials_started']}, completed: "
                 f"{metadata['num_trials_completed']}, results: {metadata['num_results']}")
    if metadata.get("num_nan_results"):  # only when there were any: most benchmarks never fail
        lines.append(f"  NaN {metadata['metric']}: {metadata['num_nan_results']} of {metadata['num_results']} results "
                     f"(failed evaluations, treated as the worst result)")
    lines.append(f"  files: {run_dir}/results.parquet, metadata.json")
    return "\n".join(lines)
