"""The simulator's clock in a table: check its elapsed time, derive a cumulative one if asked.

The simulator charges a trial the cumulative training seconds at each fidelity, so the
elapsed-time objective must be present on every row and never decrease along a curve. A
table may instead hold the seconds of each step (``elapsed_time_is_per_epoch``: summed along
the curve) or no time at all (``cost_per_fidelity``: seconds per unit of fidelity); both
fill the derived objective ``cumulative_name``.
"""
from __future__ import annotations

import numpy as np

from mfbench.blackbox.long_table.curves import CurveNames
from mfbench.blackbox.long_table.spec import LongTableSpec, TableError


def with_cumulative_time(evaluations: np.ndarray, spec: LongTableSpec, fidelity_values: np.ndarray,
                         names: CurveNames) -> np.ndarray:
    """Check elapsed time never decreases; fill the derived cumulative time, if any.

    Args:
        evaluations: ``(N, S, F, O)`` over ``spec.objective_names`` (the derived column unfilled).

    Returns ``evaluations`` (upcast to float64 if a derived time is not exactly a float32).
    """
    derived = _derived_time(evaluations, spec, fidelity_values, names)
    if derived is None:
        return evaluations
    if evaluations.dtype != np.float64 and not np.array_equal(derived.astype(evaluations.dtype), derived):
        evaluations = evaluations.astype(np.float64)
    evaluations[..., spec.objective_names.index(spec.cumulative_name)] = derived
    return evaluations


def _derived_time(evaluations: np.ndarray, spec: LongTableSpec, fidelity_values: np.ndarray,
                  names: CurveNames) -> np.ndarray | None:
    """The cumulative time to fill in ``(N, S, F)``, or None when the table's column is already it (checked)."""
    if spec.cost_per_fidelity is not None:
        return np.broadcast_to(spec.cost_per_fidelity * fidelity_values.astype(np.float64), evaluations.shape[:3])
    if spec.elapsed_time is None:
        return None
    column = evaluations[..., spec.objective_names.index(spec.elapsed_time)]
    if np.any(np.isnan(column)):
        c, s, k = np.argwhere(np.isnan(column))[0]
        raise TableError(f"elapsed-time column {spec.elapsed_time!r} is empty for {names(c, s)} at "
                         f"{spec.fidelity}={fidelity_values[k]}; the simulator needs a training time for every row")
    if spec.elapsed_time_is_per_epoch:
        if np.any(column < 0):
            c, s, k = np.argwhere(column < 0)[0]
            raise TableError(f"per-epoch time {spec.elapsed_time!r} is negative ({column[c, s, k]:g}) for "
                             f"{names(c, s)} at {spec.fidelity}={fidelity_values[k]}: the elapsed time would decrease")
        return np.cumsum(column, axis=-1, dtype=np.float64)
    decreasing = np.diff(column, axis=-1) < 0
    if np.any(decreasing):
        c, s, k = np.argwhere(decreasing)[0]
        raise TableError(
            f"elapsed time {spec.elapsed_time!r} decreases along the curve of {names(c, s)}: {column[c, s, k]:g} "
            f"at {spec.fidelity}={fidelity_values[k]}, then {column[c, s, k + 1]:g} at {spec.fidelity}="
            f"{fidelity_values[k + 1]}. It must be cumulative (total seconds since the start of training); "
            "if it holds the seconds of each epoch, set benchmark.elapsed_time_is_per_epoch=true"
        )
    return None
