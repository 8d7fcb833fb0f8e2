"""Rank statistics for comparing ``k`` methods on ``N`` blocks (Demšar, JMLR 2006).

A block is one (benchmark, seed): every method has one value in it. Ranks are taken
within each block (1 = best, ties get the average rank), the Friedman test checks
whether the average ranks differ, and the Nemenyi post-hoc test calls two methods
different when their average ranks differ by at least the critical difference
``CD = q_alpha * sqrt(k (k + 1) / (6 N))``, where ``q_alpha`` is the studentized range
quantile for ``k`` groups and infinite degrees of freedom divided by ``sqrt(2)``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def rank_rows(values: np.ndarray, mode: str = "min") -> np.ndarray:
    """Ranks within each row (1 = best; ties share the average rank).

    Args:
        values: shape ``(N, k)``, no NaN.
        mode: ``"min"`` (smaller is better) or ``"max"`` (larger is better).

    Returns:
        Shape ``(N, k)``.
    """
    from scipy.stats import rankdata

    values = np.asarray(values, dtype=np.float64)
    if np.isnan(values).any():
        raise ValueError("cannot rank NaN values; drop the blocks where a method has no value")
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    return rankdata(values if mode == "min" else -values, method="average", axis=1)


@dataclass(frozen=True)
class FriedmanResult:
    """The Friedman test on average ranks (Demšar 2006, eqs. 1-2).

    Attributes:
        n_blocks: ``N``; n_methods: ``k``.
        average_ranks: shape ``(k,)``.
        chi2: Friedman statistic ``12N/(k(k+1)) [sum_j R_j^2 - k(k+1)^2/4]`` (no tie correction).
        p_chi2: its p-value (chi-square with ``k-1`` degrees of freedom).
        f_stat: Iman-Davenport statistic ``(N-1) chi2 / (N(k-1) - chi2)`` (inf when all blocks agree).
        p_f: its p-value (F with ``k-1`` and ``(k-1)(N-1)`` degrees of freedom).
    """

    n_blocks: int
    n_methods: int
    average_ranks: np.ndarray
    chi2: float
    p_chi2: float
    f_stat: float
    p_f: float

    @property
    def df(self) -> tuple[int, int]:
        """Degrees of freedom of the Iman-Davenport F statistic."""
        k, n = self.n_methods, self.n_blocks
        return k - 1, (k - 1) * (n - 1)


def friedman(ranks: np.ndarray) -> FriedmanResult:
    """Friedman and Iman-Davenport tests from within-block ranks of shape ``(N, k)``."""
    ranks = np.asarray(ranks, dtype=np.float64)
    if ranks.ndim != 2:
        raise ValueError(f"ranks must have shape (blocks, methods), got {ranks.shape}")
    return friedman_from_average_ranks(ranks.mean(axis=0), ranks.shape[0])


def friedman_from_average_ranks(average_ranks: np.ndarray, n_blocks: int) -> FriedmanResult:
    """Friedman and Iman-Davenport tests from the ``k`` average ranks over ``n_blocks`` blocks."""
    from scipy.stats import chi2 as chi2_dist
    from scipy.stats import f as f_dist

    average = np.asarray(average_ranks, dtype=np.float64)
    n, k = int(n_blocks), len(average)
    if n < 2 or k < 2:
        raise ValueError(f"the Friedman test needs >= 2 blocks and >= 2 methods, got N={n}, k={k}")
    chi2 = 12.0 * n / (k * (k + 1)) * (float(np.sum(average**2)) - k * (k + 1) ** 2 / 4.0)
    chi2 = max(chi2, 0.0)
    denominator = n * (k - 1) - chi2
    f_stat = (n - 1) * chi2 / denominator if denominator > 1e-9 * n * k else math.inf
    p_f = float(f_dist.sf(f_stat, k - 1, (k - 1) * (n - 1))) if math.isfinite(f_stat) else 0.0
    return FriedmanResult(n, k, average, chi2, float(chi2_dist.sf(chi2, k - 1)), f_stat, p_f)


def nemenyi_q(k: int, alpha: float = 0.05) -> float:
    """``q_alpha`` of the Nemenyi test for ``k`` methods (Demšar 2006, Table 5a)."""
    from scipy.stats import studentized_range

    if k < 2:
        raise ValueError(f"the Nemenyi test needs >= 2 methods, got {k}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    return float(studentized_range.ppf(1.0 - alpha, k, np.inf)) / math.sqrt(2.0)


def critical_difference(k: int, n_blocks: int, alpha: float = 0.05) -> float:
    """Nemenyi critical difference of average ranks for ``k`` methods on ``n_blocks`` blocks."""
    if n_blocks < 1:
        raise ValueError(f"need at least one block, got {n_blocks}")
    return nemenyi_q(k, alpha) * math.sqrt(k * (k + 1) / (6.0 * n_blocks))


def blocks_for_a_difference(k: int, alpha: float = 0.05) -> int:
    """Fewest blocks at which the Nemenyi critical difference is below ``k - 1``.

    ``k - 1`` is the largest possible difference of average ranks (one method first and
    another last in every block); with fewer blocks no pair can be declared different,
    whatever the results: ``CD < k - 1  <=>  N > q_alpha^2 k (k + 1) / (6 (k - 1)^2)``.
    """
    q = nemenyi_q(k, alpha)
    return math.floor(q * q * k * (k + 1) / (6.0 * (k - 1) ** 2)) + 1


def nemenyi_pvalues(average_ranks: np.ndarray, n_blocks: int) -> np.ndarray:
    """Pairwise Nemenyi p-values, shape ``(k, k)`` (1 on the diagonal).

    ``p_ij = P(studentized range > sqrt(2) |R_i - R_j| / sqrt(k(k+1)/(6N)))``.
    """
    from scipy.stats import studentized_range

    ranks = np.asarray(average_ranks, dtype=np.float64)
    k = len(ranks)
    scale = math.sqrt(k * (k + 1) / (6.0 * n_blocks))
    z = np.abs(ranks[:, None] - ranks[None, :]) / scale
    p = studentized_range.sf(z * math.sqrt(2.0), k, np.inf)
    np.fill_diagonal(p, 1.0)
    return np.clip(p, 0.0, 1.0)


def cliques(average_ranks: np.ndarray, cd: float) -> list[list[int]]:
    """Maximal groups of methods whose average ranks all lie within less than ``cd``.

    Returns lists of method indices (ordered by rank) with at least two members; these
    are the bars of a critical-difference diagram.
    """
    ranks = np.asarray(average_ranks, dtype=np.float64)
    order = np.argsort(ranks, kind="stable")
    groups: list[list[int]] = []
    last_end = -1
    for i in range(len(order)):
        j = i
        while j + 1 < len(order) and ranks[order[j + 1]] - ranks[order[i]] < cd:
            j += 1
        if j > i and j > last_end:
            groups.append([int(x) for x in order[i:j + 1]])
            last_end = j
    return groups
