"""Ranks, Friedman, Nemenyi: hand computations and the worked example of Demšar (JMLR 2006)."""
from __future__ import annotations

import numpy as np
import pytest

from mfbench.analysis.stats import (
    cliques,
    critical_difference,
    friedman,
    friedman_from_average_ranks,
    nemenyi_pvalues,
    nemenyi_q,
    rank_rows,
)

# Demšar 2006, Section 3.2.2 / Table 6: four C4.5 variants on N = 14 data sets.
# Published average ranks (C4.5, C4.5+m, C4.5+cf, C4.5+m+cf) = rank sums 44, 28, 40.5, 27.5 over 14.
DEMSAR_RANKS = np.array([44.0, 28.0, 40.5, 27.5]) / 14


def test_rank_rows_with_ties():
    values = np.array([[0.1, 0.3, 0.3, 0.5],
                       [2.0, 2.0, 2.0, 1.0],
                       [7.0, 7.0, 7.0, 7.0]])
    np.testing.assert_allclose(rank_rows(values, "min"), [[1, 2.5, 2.5, 4], [3, 3, 3, 1], [2.5, 2.5, 2.5, 2.5]])
    # larger is better: the order flips, ties stay averaged
    np.testing.assert_allclose(rank_rows(values, "max"), [[4, 2.5, 2.5, 1], [2, 2, 2, 4], [2.5, 2.5, 2.5, 2.5]])


def test_average_ranks_with_ties_over_blocks():
    values = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 3.0], [3.0, 2.0, 2.0]])
    # ranks: (1,2,3), (1.5,1.5,3), (3,1.5,1.5) -> averages (5.5/3, 5/3, 7.5/3)
    ranks = rank_rows(values)
    np.testing.assert_allclose(ranks.mean(axis=0), [5.5 / 3, 5 / 3, 7.5 / 3])
    assert ranks.sum(axis=1) == pytest.approx([6, 6, 6])


def test_rank_rows_rejects_nan():
    with pytest.raises(ValueError, match="NaN"):
        rank_rows(np.array([[1.0, np.nan]]))


def test_friedman_on_demsar_example():
    result = friedman_from_average_ranks(DEMSAR_RANKS, 14)
    assert result.chi2 == pytest.approx(9.28, abs=0.01)  # "chi2_F = 9.28"
    assert result.f_stat == pytest.approx(3.69, abs=0.01)  # "F_F = 3.69"
    assert result.df == (3, 39)
    # "F(3, 39) critical value at alpha = 0.05 is 2.85, so we reject the null hypothesis"
    assert result.p_f < 0.05


def test_friedman_equals_scipy_without_ties():
    from scipy.stats import friedmanchisquare

    values = np.random.default_rng(3).normal(size=(12, 5))
    ours = friedman(rank_rows(values))
    theirs = friedmanchisquare(*values.T)
    assert ours.chi2 == pytest.approx(theirs.statistic)
    assert ours.p_chi2 == pytest.approx(theirs.pvalue)


def test_friedman_hand_computed_with_perfect_agreement():
    # N = 3 blocks all ranking (1, 2, 3): chi2 = 12*3/(3*4) * (1+4+9 - 12) = 6 = N(k-1); F infinite.
    result = friedman(np.tile([1.0, 2.0, 3.0], (3, 1)))
    assert result.chi2 == pytest.approx(6.0)
    assert result.f_stat == float("inf") and result.p_f == 0.0


@pytest.mark.parametrize("alpha, table", [
    # Demšar 2006, Table 5(a): critical values q_alpha for the two-tailed Nemenyi test, k = 2..10
    (0.05, [1.960, 2.343, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164]),
    (0.10, [1.645, 2.052, 2.291, 2.459, 2.589, 2.693, 2.780, 2.855, 2.920]),
])
def test_nemenyi_q_matches_demsar_table(alpha, table):
    computed = [nemenyi_q(k, alpha) for k in range(2, 11)]
    np.testing.assert_allclose(computed, table, atol=2e-3)


def test_critical_difference_on_demsar_example():
    # "CD = 2.569 * sqrt(4*5 / (6*14)) = 1.25" and at alpha = 0.10, CD = 1.12
    assert critical_difference(4, 14, 0.05) == pytest.approx(1.25, abs=0.005)
    assert critical_difference(4, 14, 0.10) == pytest.approx(1.12, abs=0.005)
    # C4.5 vs C4.5+m+cf: 3.143 - 1.964 = 1.179, significant at 0.10 but not at 0.05
    p = nemenyi_pvalues(DEMSAR_RANKS, 14)
    assert 0.05 < p[0, 3] < 0.10
    assert p[0, 3] == p[3, 0] and p[1, 1] == 1.0


def test_cliques():
    assert cliques(np.array([1.0, 1.5, 2.6, 3.0]), 1.0) == [[0, 1], [2, 3]]
    # overlapping groups; (1,2) is inside (0,1,2) and not repeated
    assert cliques(np.array([1.0, 1.5, 1.9, 2.6]), 1.0) == [[0, 1, 2], [2, 3]]
    # unordered input: indices refer to the input order
    assert cliques(np.array([3.0, 1.0, 1.2]), 0.5) == [[1, 2]]
    assert cliques(np.array([1.0, 2.0, 3.0]), 0.5) == []
    # Demšar: with CD = 1.25, all four C4.5 variants are within one group
    assert cliques(DEMSAR_RANKS, 1.25) == [[3, 1, 2, 0]]


@pytest.mark.parametrize("call, match", [
    (lambda: friedman(np.ones((1, 3))), "2 blocks"),
    (lambda: nemenyi_q(1), "2 methods"),
    (lambda: nemenyi_q(3, alpha=1.5), "alpha"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
