"""Values a simulation cannot be right with: infinite objectives and negative elapsed times.

NaN is the convention for a failed evaluation (the methods see it as the worst result, the
analysis reports it), so it is allowed in every objective but the elapsed time (checked in
:mod:`mfbench.blackbox.long_table.elapsed_time`). An infinite value is not a convention: a
best result of ``-inf`` or a training time of ``inf`` (which would hold a worker until the
budget ends) would make every figure of the run meaningless, so the table is refused.
"""
from __future__ import annotations

import numpy as np

from mfbench.blackbox.long_table.curves import CurveNames
from mfbench.blackbox.long_table.spec import LongTableSpec, TableError


def check_values(evaluations: np.ndarray, spec: LongTableSpec, fidelity_values: np.ndarray,
                 names: CurveNames) -> None:
    """Refuse infinite objective values and negative cumulative elapsed times.

    Args:
        evaluations: ``(N, S, F, O)`` over ``spec.objective_names`` (a derived time column, if
            any, is not filled yet and not checked).
        fidelity_values: ``(F,)``.
    """
    for k, name in enumerate(spec.objectives):
        column = evaluations[..., spec.objective_names.index(name)]
        infinite = np.isinf(column)
        if np.any(infinite):
            c, s, f = np.argwhere(infinite)[0]
            raise TableError(
                f"objective {name!r} is {column[c, s, f]:g} for {names(c, s)} at {spec.fidelity}={fidelity_values[f]}"
                f" ({int(infinite.sum())} infinite cell(s) in all). Infinite values cannot be ranked or averaged: "
                f"write NaN for a failed evaluation (the methods treat it as the worst result) or drop the rows")
    if spec.elapsed_time is not None and not spec.elapsed_time_is_per_epoch:
        column = evaluations[..., spec.objective_names.index(spec.elapsed_time)]
        negative = column < 0
        if np.any(negative):
            c, s, f = np.argwhere(negative)[0]
            raise TableError(
                f"elapsed time {spec.elapsed_time!r} is negative ({column[c, s, f]:g}) for {names(c, s)} at "
                f"{spec.fidelity}={fidelity_values[f]} ({int(negative.sum())} negative cell(s) in all): it must be "
                "the total seconds since the start of training, >= 0")
