"""The refit schedule alone: when the speed options refit, cold or warm, and how hard."""
from __future__ import annotations

import pytest

from mfbench.searchers.gp.refit import FitPlan, RefitOptions, RefitSchedule


def _run(schedule: RefitSchedule, sizes: list[int]) -> list[tuple[int, bool, int, int]]:
    """Ask the schedule once per data version (one version per size); record what it fits."""
    fits = []
    for version, size in enumerate(sizes, start=1):
        plan = schedule.plan(version, size)
        if plan is not None:
            fits.append((size, plan.warm, plan.num_starts, plan.max_iterations))
            schedule.record(plan)
    return fits


def test_reference_default_refits_cold_on_every_data_change() -> None:
    schedule = RefitSchedule(RefitOptions())
    assert _run(schedule, [3, 4, 200, 201]) == [(3, False, 2, 50), (4, False, 2, 50), (200, False, 2, 50),
                                                 (201, False, 2, 50)]
    assert schedule.plan(4, 201) is None  # same data version: nothing to do


def test_speed_options_schedule() -> None:
    """Below ``opt_skip_init_length`` every change refits; beyond it only after growth; cold when doubled.

    Same options and data sizes as the searcher test ``test_refit_schedule_follows_the_speed_options``.
    """
    options = RefitOptions(opt_maxiter=5, opt_skip_init_length=15, opt_refit_growth=0.5, opt_warmstart=True,
                           opt_warmstart_maxiter=3, opt_cold_refit_growth=2.0)
    fits = _run(RefitSchedule(options), list(range(6, 34, 3)))
    # 6: first (cold); 9, 12: below 15, refit (warm); 15: < 1.5 x 12, skipped; 18: >= 3 x 6,
    # so cold; 21, 24: < 1.5 x 18; 27: warm; 30, 33: < 1.5 x 27.
    assert fits == [(6, False, 2, 5), (9, True, 2, 3), (12, True, 2, 3), (18, False, 2, 5), (27, True, 2, 3)]


def test_skip_period_counts_data_changes_beyond_the_initial_length() -> None:
    schedule = RefitSchedule(RefitOptions(opt_skip_init_length=2, opt_skip_period=3))
    # 1: first fit; from 2 on, the 1st, 4th, 7th change refit
    assert [size for size, *_ in _run(schedule, list(range(1, 10)))] == [1, 2, 5, 8]


def test_warm_fits_without_cold_growth_stay_warm() -> None:
    schedule = RefitSchedule(RefitOptions(opt_skip_init_length=0, opt_warmstart=True, opt_warmstart_nstarts=1))
    assert _run(schedule, [5, 50, 500]) == [(5, False, 2, 50), (50, True, 1, 50), (500, True, 1, 50)]


def test_nothing_is_recorded_until_the_fit_is_made() -> None:
    schedule = RefitSchedule(RefitOptions(opt_warmstart=True))
    first = schedule.plan(1, 10)
    assert first == FitPlan(warm=False, num_starts=2, max_iterations=50, tolerance=1e-6, num_observations=10)
    second = schedule.plan(2, 11)  # the first fit was never recorded: still cold
    assert second is not None and not second.warm


def test_warm_defaults_and_invalid_options() -> None:
    options = RefitOptions(opt_nstarts=4, opt_maxiter=7)
    assert (options.warm_nstarts, options.warm_maxiter) == (4, 7)
    for name, value in [("opt_nstarts", 0), ("opt_maxiter", 0), ("opt_skip_period", 0)]:
        with pytest.raises(ValueError, match=rf"searcher\.{name} must be >= 1, got 0"):
            RefitOptions(**{name: value})
    for name in ("opt_skip_init_length", "opt_refit_growth", "opt_cold_refit_growth"):
        with pytest.raises(ValueError, match=rf"searcher\.{name} must be >= 0, got -1"):
            RefitOptions(**{name: -1})
