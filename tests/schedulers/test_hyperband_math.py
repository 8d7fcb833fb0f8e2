import numpy as np
import pytest

from mfbench.schedulers.hyperband_math import (
    default_bracket_distribution,
    linear_quantile,
    promotion_quantiles,
    successive_halving_rung_levels,
)


def test_rung_levels_for_nb201_resource():
    assert successive_halving_rung_levels(1, 3, 200) == [1, 3, 9, 27, 81]


def test_rung_level_equal_to_max_t_is_dropped():
    # 1, 3, 9, 27 and then 81 == max_t: max_t itself is never a rung
    assert successive_halving_rung_levels(1, 3, 81) == [1, 3, 9, 27]
    assert successive_halving_rung_levels(2, 2, 16) == [2, 4, 8]


@pytest.mark.parametrize("reduction_factor", [1.5, 1.2, 1.0])
def test_a_reduction_factor_below_two_is_refused_as_by_the_reference(reduction_factor):
    """Below 2, rounding repeats rung levels (1.5: 1, 2, 2, 3, ...): dead rungs, brackets that
    start at one level; Syne Tune 0.13's ASHA requires reduction_factor >= 2."""
    with pytest.raises(ValueError, match=r"method\.reduction_factor >= 2 .*reduction_factor=" + str(reduction_factor)):
        successive_halving_rung_levels(1, reduction_factor, 200)
    assert successive_halving_rung_levels(1, 2.5, 200) == [1, 2, 6, 16, 39, 98]  # distinct from 2 on


def test_promotion_quantiles_top_rung_is_not_one_over_eta():
    q = promotion_quantiles([1, 3, 9, 27, 81], 200)
    assert q[:4] == pytest.approx([1 / 3] * 4)
    assert q[4] == pytest.approx(81 / 200)  # 0.405


def test_bracket_distribution_six_brackets_matches_reference():
    p = default_bracket_distribution([1, 3, 9, 27, 81], 200, 6)
    # p_s ∝ 6 / ((6 - s) r_s): 1, 6/15, 6/36, 6/81, 6/162, 6/200, normalised
    raw = np.array([6 / 6, 6 / (5 * 3), 6 / (4 * 9), 6 / (3 * 27), 6 / (2 * 81), 6 / (1 * 200)])
    np.testing.assert_allclose(p, raw / raw.sum())
    np.testing.assert_allclose(p, [0.5856, 0.2342, 0.0976, 0.0434, 0.0217, 0.0176], atol=1e-4)


def test_bracket_distribution_four_brackets_and_cap():
    np.testing.assert_allclose(default_bracket_distribution([1, 3, 9, 27, 81], 200, 4),
                               [0.6095, 0.2438, 0.1016, 0.0451], atol=1e-4)
    assert len(default_bracket_distribution([1, 3], 9, 10)) == 3  # capped at rungs + 1


@pytest.mark.parametrize("values,q", [([1.0, 2.0, 4.0, 10.0], 1 / 3), ([0.3, 0.1], 0.405), ([5.0, 5.0, 7.0], 0.5)])
def test_linear_quantile_equals_numpy(values, q):
    assert linear_quantile(sorted(values), q) == pytest.approx(np.quantile(values, q, method="linear"))


def test_linear_quantile_with_failed_entries_is_inf_safe():
    assert linear_quantile([0.2, float("inf")], 0.0) == 0.2
    assert linear_quantile([0.2, float("inf")], 0.5) == float("inf")
    assert linear_quantile([float("inf"), float("inf")], 0.5) == float("inf")


def test_invalid_rung_parameters_are_refused():
    with pytest.raises(ValueError, match="reduction_factor"):
        successive_halving_rung_levels(1, 1, 200)
