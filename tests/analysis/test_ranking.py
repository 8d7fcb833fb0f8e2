"""Ranks over (benchmark, seed) blocks, over time and at the end, on hand-made runs."""
from __future__ import annotations

import math

import numpy as np
import pytest

from mfbench.analysis.load import load_results
from mfbench.analysis.ranking import rank_analysis
from mfbench.analysis.stats import nemenyi_q


@pytest.fixture
def ranked(tmp_path, run_factory):
    """b1 (min) and b2 (max), seeds 0-1, methods A, B, C, all with budget 10.

    Final values and ranks (1 = best, ties averaged):
      b1 seed 0: A 1 (5 until t=5), B 2, C 2  -> 1, 2.5, 2.5   (before t=5: 3, 1.5, 1.5)
      b1 seed 1: A 3, B 1, C 2                -> 3, 1, 2
      b2 seed 0: A .9, B .5, C .7 (max)       -> 1, 3, 2
      b2 seed 1: A .8, B .8, C .9 (max)       -> 2.5, 2.5, 1
    Also: D runs on b1 only; b2 seed 2 has A and B but not C.
    """
    root = tmp_path / "exp"
    run_factory(root, "b1", "A", 0, [1, 5], [5, 1])
    for method, seed, value in [("B", 0, 2), ("C", 0, 2), ("A", 1, 3), ("B", 1, 1), ("C", 1, 2), ("D", 0, 0)]:
        run_factory(root, "b1", method, seed, [1], [value])
    for method, seed, value in [("A", 0, .9), ("B", 0, .5), ("C", 0, .7), ("A", 1, .8), ("B", 1, .8), ("C", 1, .9),
                                ("A", 2, .1), ("B", 2, .2)]:
        run_factory(root, "b2", method, seed, [1], [value], mode="max", metric="acc")
    return rank_analysis(load_results(root))


def test_final_ranks_and_blocks(ranked):
    assert ranked.setups == ["A", "B", "C"]
    assert list(zip(ranked.blocks["benchmark"], ranked.blocks["seed"])) == [("b1", 0), ("b1", 1), ("b2", 0),
                                                                           ("b2", 1)]
    np.testing.assert_allclose(ranked.final_ranks, [[1, 2.5, 2.5], [3, 1, 2], [1, 3, 2], [2.5, 2.5, 1]])
    np.testing.assert_allclose(ranked.average_ranks, [7.5 / 4, 9 / 4, 7.5 / 4])
    np.testing.assert_allclose(ranked.final_values[2], [0.9, 0.5, 0.7])


def test_left_out_methods_and_blocks_are_reported(ranked):
    messages = [f.message for f in ranked.report.warnings]
    assert any("['D']" in m and "b1" in m for m in messages)
    assert any("b2 seed 2" in m and "['C']" in m for m in messages)


def test_ranks_over_time(ranked):
    overall = ranked.over_time[ranked.over_time["scope"] == "all"]
    fractions = np.sort(overall["fraction"].unique())
    assert fractions[0] == pytest.approx(0.1)  # first results at t=1 of a budget of 10
    assert fractions[-1] == 1.0
    first = overall[overall["fraction"] == fractions[0]].set_index("setup")["average_rank"]
    np.testing.assert_allclose(first[["A", "B", "C"]], [9.5 / 4, 8 / 4, 6.5 / 4])  # before A improves at t=5
    last = overall[overall["fraction"] == 1.0].set_index("setup")["average_rank"]
    np.testing.assert_allclose(last[["A", "B", "C"]], ranked.average_ranks)
    per_b2 = ranked.over_time[(ranked.over_time["scope"] == "b2") & (ranked.over_time["fraction"] == 1.0)]
    np.testing.assert_allclose(per_b2.set_index("setup")["average_rank"][["A", "B", "C"]], [1.75, 2.75, 1.5])
    assert set(ranked.over_time["n_blocks"]) == {4, 2}


def test_friedman_and_nemenyi(ranked):
    # chi2 = 12*4/(3*4) * (1.875^2 + 2.25^2 + 1.875^2 - 3*4^2/4) = 4 * 0.09375
    assert ranked.friedman.chi2 == pytest.approx(0.375)
    assert ranked.cd == pytest.approx(nemenyi_q(3, 0.05) * math.sqrt(3 * 4 / (6 * 4)))
    assert ranked.cliques == [[0, 2, 1]]
    stats = ranked.to_dict()
    assert stats["n_blocks"] == 4 and stats["average_ranks"]["B"] == pytest.approx(2.25)
    assert stats["friedman"]["df"] == 2 and stats["nemenyi"]["not_significantly_different"] == [["A", "C", "B"]]


def test_too_few_blocks_or_methods(tmp_path, run_factory):
    root = tmp_path / "one"
    run_factory(root, "b1", "A", 0, [1], [1])
    run_factory(root, "b1", "B", 0, [1], [2])
    single = rank_analysis(load_results(root))
    np.testing.assert_allclose(single.final_ranks, [[1, 2]])
    assert single.friedman is None and single.cd is None
    assert any("one block" in f.message for f in single.report.warnings)
    root = tmp_path / "alone"
    run_factory(root, "b1", "A", 0, [1], [1])
    alone = rank_analysis(load_results(root))
    assert alone.over_time.empty and alone.cd is None


def test_blocks_for_a_difference():
    from mfbench.analysis.stats import blocks_for_a_difference, critical_difference

    # from the returned number of blocks on, CD < k - 1 (the largest possible rank difference); one block fewer, not
    for k in (2, 3, 5, 10):
        needed = blocks_for_a_difference(k)
        assert critical_difference(k, needed) < k - 1
        assert needed == 1 or critical_difference(k, needed - 1) >= k - 1
    assert blocks_for_a_difference(3) == 3 and blocks_for_a_difference(5) == 3


def test_power_notes_in_the_report(tmp_path, run_factory):
    from mfbench.analysis.ranking import power_notes

    root = tmp_path / "two"
    for seed in (0, 1):
        for method, value in zip("ABC", (1, 2, 3)):
            run_factory(root, "b", method, seed, [1], [value])
    two = rank_analysis(load_results(root))  # k = 3, N = 2: CD 2.34 > 2 = k - 1
    notes = power_notes(two)
    assert len(notes) == 2 and "no pair can be declared different" in notes[0] and "at least 3 blocks" in notes[0]
    assert "little power" in notes[1]
    assert [f.message for f in two.report.warnings if f.topic == "power"] == notes
