"""IQM weights and the bootstrap band, against hand computations."""
from __future__ import annotations

import numpy as np
import pytest

from mfbench.analysis import iqm as iqm_module
from mfbench.analysis.iqm import bootstrap_moments, iqm, iqm_bootstrap_sd, iqm_weights, trimmed_weights


@pytest.mark.parametrize("n, expected", [
    (1, [1.0]),
    (2, [0.5, 0.5]),
    # sorted values cover [0,1/3], [1/3,2/3], [2/3,1]; keep [1/4,3/4]: 1/12, 1/3, 1/12 -> x2
    (3, [1 / 6, 2 / 3, 1 / 6]),
    (4, [0.0, 0.5, 0.5, 0.0]),
    # [0.2,0.4] keeps 0.15, [0.4,0.6] 0.2, [0.6,0.8] 0.15 -> / 0.5
    (5, [0.0, 0.3, 0.4, 0.3, 0.0]),
    (8, [0, 0, 0.25, 0.25, 0.25, 0.25, 0, 0]),
])
def test_iqm_weights(n, expected):
    np.testing.assert_allclose(iqm_weights(n), expected, atol=1e-12)


def test_iqm_values():
    assert iqm(np.array([8.0, 1, 7, 2, 6, 3, 5, 4])) == pytest.approx(4.5)  # mean of 3,4,5,6
    assert iqm(np.array([0.0, 1.0, 2.0])) == pytest.approx(1.0)
    assert iqm(np.array([10.0, 0.0, 1.0, 2.0, 3.0])) == pytest.approx(0.3 * 1 + 0.4 * 2 + 0.3 * 3)
    # along an axis: columns are independent
    # (4, 5, 9): 4/6 + 5*2/3 + 9/6 = 5.5
    np.testing.assert_allclose(iqm(np.array([[0.0, 4.0], [1.0, 5.0], [2.0, 9.0]]), axis=0), [1.0, 5.5])


def test_trimmed_weights_of_a_resample():
    # counts (2, 1, 0) on sorted (x1, x2, x3): drop 0.75 from the left -> (1.25, 1, 0),
    # then 0.75 from the right -> (1.25, 0.25, 0); times 2/3.
    np.testing.assert_allclose(trimmed_weights(np.array([[2.0, 1.0, 0.0]])), [[1.25 * 2 / 3, 0.25 * 2 / 3, 0.0]])


def test_exact_bootstrap_variance_two_seeds():
    # Resamples of (0, 1): (0,0) p=1/4 -> IQM 0, (0,1) p=1/2 -> 0.5, (1,1) p=1/4 -> 1.
    # Var = 0.5*0.25 + 0.25*1 - 0.5^2 = 1/8.
    sd = iqm_bootstrap_sd(np.array([[0.0], [1.0]]))
    assert sd[0] ** 2 == pytest.approx(1 / 8)


def test_exact_bootstrap_variance_three_seeds():
    # All 10 count vectors of 3 draws from (0, 1, 2), hand-trimmed (see test above):
    # (3,0,0)->0 (0,3,0)->1 (0,0,3)->2 each p=1/27; (2,1,0)->1/6 (2,0,1)->1/3 (1,2,0)->5/6
    # (0,2,1)->7/6 (1,0,2)->5/3 (0,1,2)->11/6 each p=3/27; (1,1,1)->1 p=6/27.
    # E = 1, E[v^2] = (5 + 3*300/36 + 6)/27 = 4/3, Var = 1/3.
    sd = iqm_bootstrap_sd(np.array([[0.0], [1.0], [2.0]]))
    assert sd[0] ** 2 == pytest.approx(1 / 3)
    first, second = bootstrap_moments(3)
    assert first.sum() == pytest.approx(1.0)  # each resample's weights sum to 1


def test_bootstrap_is_shift_invariant_and_zero_for_constant_values():
    x = np.array([[1.0, 5.0], [4.0, 5.0], [2.0, 5.0], [8.0, 5.0]])
    sd = iqm_bootstrap_sd(x)
    assert sd[1] == pytest.approx(0.0, abs=1e-7)
    np.testing.assert_allclose(iqm_bootstrap_sd(x + 100.0), sd, rtol=1e-6)


def test_monte_carlo_bootstrap_is_deterministic_and_close_to_exact(monkeypatch):
    x = np.array([[0.0], [1.0], [2.0]])
    monkeypatch.setattr(iqm_module, "EXACT_MAX", 0)
    bootstrap_moments.cache_clear()
    try:
        first = iqm_bootstrap_sd(x)
        bootstrap_moments.cache_clear()
        second = iqm_bootstrap_sd(x)
    finally:
        bootstrap_moments.cache_clear()
    assert first[0] == second[0]  # fixed seed
    assert first[0] ** 2 == pytest.approx(1 / 3, rel=0.1)


def test_iqm_needs_a_value():
    with pytest.raises(ValueError, match="at least one"):
        iqm_weights(0)
