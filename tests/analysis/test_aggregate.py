"""Aligning runs on one time axis and summarising over seeds, against hand computations.

The toy runs (see conftest): method A has seeds 0-2 on different time grids, method B
lacks seed 2. A's curves start at t=2 (the latest first result) on the grid 2,3,4,5,6:
seed 0 -> 5,4,4,4,4; seed 1 -> 3,3,1,1,1; seed 2 -> 2,2,2,2,2 (its two results at t=2
count as one step to 2).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from mfbench.analysis.aggregate import aggregate, align, step_values, summarize
from mfbench.analysis.load import load_results


def curve(curves, setup):
    return curves.table[curves.table["setup"] == setup]


def test_step_values_forward_fill():
    got = step_values(np.array([1.0, 2.0, 2.0, 4.0]), np.array([5.0, 4.0, 3.0, 1.0]), np.array([0.5, 1, 2, 3, 5]))
    np.testing.assert_array_equal(got, [np.nan, 5, 3, 3, 1])


def test_align_window_and_extend():
    times = [np.array([1.0, 2.0]), np.array([1.0, 5.0])]
    values = [np.array([4.0, 2.0]), np.array([6.0, 1.0])]
    grid, matrix = align(times, values, ends=[4.0, 6.0])
    np.testing.assert_array_equal(grid, [1, 2, 4])
    np.testing.assert_array_equal(matrix, [[4, 2, 2], [6, 6, 6]])
    grid, matrix = align(times, values, ends=[4.0, 6.0], extend=True)
    np.testing.assert_array_equal(grid, [1, 2, 4, 5, 6])
    np.testing.assert_array_equal(matrix, [[4, 2, 2, 2, 2], [6, 6, 6, 1, 1]])
    grid, _ = align([np.array([5.0]), np.array([1.0])], [np.array([1.0]), np.array([1.0])], ends=[6.0, 3.0])
    assert grid.size == 0  # the second run ended before the first had a result


def test_mean_with_standard_error(toy_runs):
    curves = aggregate(load_results(toy_runs), statistic="mean")
    a = curve(curves, "A")
    np.testing.assert_array_equal(a["time"], [2, 3, 4, 5, 6])
    np.testing.assert_allclose(a["center"], [10 / 3, 3, 7 / 3, 7 / 3, 7 / 3])
    # t=2: (5,3,2) variance 7/3 -> SE sqrt(7/9); t=3: (4,3,2) variance 1 -> SE 1/sqrt(3)
    se = np.array([math.sqrt(7 / 9), 1 / math.sqrt(3), math.sqrt(7 / 9), math.sqrt(7 / 9), math.sqrt(7 / 9)])
    np.testing.assert_allclose(a["upper"] - a["center"], se)
    np.testing.assert_allclose(a["center"] - a["lower"], se)
    assert (a["n_seeds"] == 3).all()
    b = curve(curves, "B")  # seeds 0 and 1 only: 4,2,2,2 and 6,6,5,5 on 1,2,3,6
    np.testing.assert_array_equal(b["time"], [1, 2, 3, 6])
    np.testing.assert_allclose(b["center"], [5, 4, 3.5, 3.5])
    assert (b["n_seeds"] == 2).all()


def test_median_with_quartiles(toy_runs):
    a = curve(aggregate(load_results(toy_runs), statistic="median"), "A")
    # t=2: (2,3,5) -> 3, quartiles 2.5, 4; t=3: (2,3,4) -> 3 (2.5, 3.5); t=4: (1,2,4) -> 2 (1.5, 3)
    np.testing.assert_allclose(a["center"][:3], [3, 3, 2])
    np.testing.assert_allclose(a["lower"][:3], [2.5, 2.5, 1.5])
    np.testing.assert_allclose(a["upper"][:3], [4, 3.5, 3])


def test_iqm_with_bootstrap_band(toy_runs):
    a = curve(aggregate(load_results(toy_runs), statistic="iqm"), "A")
    # weights (1/6, 2/3, 1/6) on sorted values: t=2 (2,3,5) -> 19/6; t=3 (2,3,4) -> 3; t=4 (1,2,4) -> 13/6
    np.testing.assert_allclose(a["center"][:3], [19 / 6, 3, 13 / 6])
    # t=3: sorted values (2,3,4) = (0,1,2) + 2, whose exact bootstrap variance is 1/3
    half = (a["upper"] - a["center"]).to_numpy()
    assert half[1] == pytest.approx(1.96 * math.sqrt(1 / 3))
    np.testing.assert_allclose(a["center"] - a["lower"], half)


def test_summarize_single_seed_has_no_band():
    for statistic in ("iqm", "mean", "median"):
        center, lower, upper = summarize(np.array([[1.0, 2.0]]), statistic)
        np.testing.assert_array_equal(center, [1, 2])
        np.testing.assert_array_equal(lower, center)
        np.testing.assert_array_equal(upper, center)
    with pytest.raises(ValueError, match="unknown statistic"):
        summarize(np.ones((2, 2)), "mode")


def test_curve_start_and_missing_seed_are_reported(toy_runs):
    curves = aggregate(load_results(toy_runs))
    start = [f.message for f in curves.report.findings if f.topic == "curve-start"]
    assert start == ["toy: curves start where every seed has a result: A 2 s; B 1 s."]


def test_unequal_lengths_end_early_or_extend(tmp_path, run_factory):
    root = tmp_path / "exp"
    run_factory(root, "toy", "C", 0, [1, 2], [4, 2], budget=6, simulated_time=4)
    run_factory(root, "toy", "C", 1, [1, 5], [6, 1], budget=6, simulated_time=6)
    results = load_results(root)
    short = aggregate(results, statistic="mean")
    np.testing.assert_array_equal(curve(short, "C")["time"], [1, 2, 4])
    np.testing.assert_allclose(curve(short, "C")["center"], [5, 4, 4])
    warning = [f for f in short.report.warnings if f.topic == "unequal-length"]
    assert len(warning) == 1 and "seeds [0]" in warning[0].message and "--extend" in warning[0].message
    extended = aggregate(results, statistic="mean", extend=True)
    np.testing.assert_array_equal(curve(extended, "C")["time"], [1, 2, 4, 5, 6])
    np.testing.assert_allclose(curve(extended, "C")["center"], [5, 4, 4, 1.5, 1.5])
    assert "carried forward" in [f for f in extended.report.warnings if f.topic == "unequal-length"][0].message


def test_runs_without_values_are_left_out(tmp_path, run_factory):
    root = tmp_path / "exp"
    run_factory(root, "toy", "A", 0, [1, 2], [3, 1])
    run_factory(root, "toy", "A", 1, [1, 2], [np.nan, np.nan])
    a = curve(aggregate(load_results(root), statistic="mean"), "A")
    assert (a["n_seeds"] == 1).all()
    np.testing.assert_allclose(a["center"], [3, 1, 1])  # grid 1, 2 and the end at the budget 10


def test_regret_against_table(toy_runs, run_factory, tmp_path):
    root = tmp_path / "regret"
    table = {"best_in_table": 0.5, "global_optimum": 0.25}
    run_factory(root, "toy", "A", 0, [1, 3], [5, 4], budget=6, blackbox=table)
    run_factory(root, "toy", "A", 1, [1, 2], [3, 1], budget=6, blackbox=table)
    results = load_results(root)
    curves = aggregate(results, statistic="mean", regret="table")
    assert curves.references == {"toy": 0.5}
    np.testing.assert_allclose(curve(curves, "A")["center"], [(4.5 + 2.5) / 2, (4.5 + 0.5) / 2, (3.5 + 0.5) / 2, 2])
    assert aggregate(results, regret="optimum").references == {"toy": 0.25}
    assert aggregate(results, regret="observed").references == {"toy": 1.0}
    with pytest.raises(ValueError, match="--regret observed"):
        aggregate(load_results(toy_runs), regret="table")


def test_regret_reference_lowered_when_runs_beat_the_table(tmp_path, run_factory):
    root = tmp_path / "exp"
    run_factory(root, "toy", "A", 0, [1, 2], [3, 1], blackbox={"best_in_table": 1.5})
    curves = aggregate(load_results(root), regret="table")
    assert curves.references == {"toy": 1.0}
    assert (curve(curves, "A")["center"] >= 0).all()
    assert any(f.topic == "regret" and "better than" in f.message for f in curves.report.warnings)


def test_mode_max_curves_and_regret(tmp_path, run_factory):
    root = tmp_path / "exp"
    run_factory(root, "acc", "A", 0, [1, 2, 3], [0.5, 0.9, 0.7], mode="max", metric="accuracy",
                blackbox={"best_in_table": 1.0}, budget=3)
    run_factory(root, "acc", "A", 1, [1, 2, 3], [0.6, 0.6, 0.8], mode="max", metric="accuracy",
                blackbox={"best_in_table": 1.0}, budget=3)
    results = load_results(root)
    a = curve(aggregate(results, statistic="mean"), "A")
    np.testing.assert_allclose(a["center"], [0.55, 0.75, 0.85])  # running maxima (0.5,0.9,0.9), (0.6,0.6,0.8)
    r = curve(aggregate(results, statistic="mean", regret="table"), "A")
    np.testing.assert_allclose(r["center"], [0.45, 0.25, 0.15])
