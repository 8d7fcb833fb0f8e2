"""Hyper-Tune: ranking losses on a tiny case, level weights, bracket weights (by hand)."""
from __future__ import annotations

import numpy as np
import pytest

from mfbench.schedulers.hyperband_math import default_bracket_distribution
from mfbench.searchers.gp.hypertune import (
    bracket_weights,
    combine_bracket_distribution,
    ensemble_distribution,
    fold_sizes,
    level_weights,
    num_supported_levels,
    ranking_losses,
)


def test_ranking_losses_tiny_case() -> None:
    targets = np.array([1.0, 2.0, 3.0])
    samples = np.array([
        [0.0, 3.0, 1.0],
        [1.0, 2.0, 3.0],
        [2.0, 1.0, 2.0],
    ])  # columns: same order (0 discordant), reversed (3 of 3), one swap (pair (2, 3) discordant)
    losses = ranking_losses(targets, samples)
    np.testing.assert_allclose(losses, [0.0, 1.0, 1.0 / 3.0])


def test_ranking_losses_ties_are_not_less() -> None:
    # pairs (y_j < y_l) XOR (f_j < f_l); a tie in f counts as "not less"
    targets = np.array([0.0, 1.0])
    assert ranking_losses(targets, np.array([[1.0], [1.0]]))[0] == 1.0
    assert ranking_losses(np.array([1.0, 1.0]), np.array([[1.0], [1.0]]))[0] == 0.0


def test_fold_sizes() -> None:
    assert fold_sizes(6).tolist() == [2, 2, 2]
    assert fold_sizes(7).tolist() == [2, 2, 3]
    assert fold_sizes(10).tolist() == [2, 2, 2, 2, 2]
    assert fold_sizes(13).tolist() == [2, 2, 3, 3, 3]


def test_num_supported_levels() -> None:
    levels = [1, 3, 9, 27]
    assert num_supported_levels(levels, {1: 40, 3: 12, 9: 5}) == 2
    assert num_supported_levels(levels, {1: 40, 3: 12, 9: 6}) == 3
    assert num_supported_levels(levels, {1: 40, 3: 5}) == 1
    assert num_supported_levels(levels, {1: 40, 3: 2, 27: 6}) == 4  # the highest supported level decides


def test_level_weights_count_ties_for_all() -> None:
    losses = np.array([
        [0.1, 0.5, 0.2, 0.3],
        [0.2, 0.4, 0.2, 0.1],
        [0.3, 0.6, 0.9, 0.1],
    ])
    # column minima: level 0; level 1; levels 0 and 1 (tie); levels 1 and 2 (tie) -> wins 2, 3, 1
    np.testing.assert_allclose(level_weights(losses), [2 / 6, 3 / 6, 1 / 6])


def test_ensemble_distribution_drops_small_weights() -> None:
    assert ensemble_distribution([1, 3, 9, 100], np.array([0.7, 0.295, 0.005])) == {1: 0.7, 3: 0.295}


def test_bracket_weights_by_hand() -> None:
    levels = [1, 3, 9, 27, 81, 200]
    theta = np.array([0.5, 0.3, 0.2])
    # w ∝ theta_k / r_k = [0.5, 0.1, 0.2/9]
    raw = np.array([0.5, 0.1, 0.2 / 9])
    np.testing.assert_allclose(bracket_weights(levels, theta, num_brackets=4), raw / raw.sum())
    np.testing.assert_allclose(bracket_weights(levels, theta, num_brackets=2), raw[:2] / raw[:2].sum())
    np.testing.assert_allclose(bracket_weights(levels, np.zeros(3), num_brackets=4), [1.0, 0.0, 0.0])


def test_bracket_distribution_keeps_the_default_tail() -> None:
    default = default_bracket_distribution([1, 3, 9, 27, 81], 200, 4)
    np.testing.assert_allclose(default, [0.6095, 0.2438, 0.1016, 0.0451], atol=1e-4)
    head = np.array([0.25, 0.75])
    combined = combine_bracket_distribution(default, head)
    mass = default[0] + default[1]
    np.testing.assert_allclose(combined, [0.25 * mass, 0.75 * mass, default[2], default[3]])
    assert combined.sum() == pytest.approx(1.0)
    assert combine_bracket_distribution(default, None) is default
    full = np.array([0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(combine_bracket_distribution(default, full), full)
