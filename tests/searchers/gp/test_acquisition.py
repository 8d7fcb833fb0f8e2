"""Expected improvement against its closed form; independent Thompson sampling."""
from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from mfbench.searchers.gp.acquisition import expected_improvement, independent_thompson  # noqa: E402


def _ei_by_hand(mean: float, std: float, best: float, jitter: float) -> float:
    u = (best - mean - jitter) / std
    cdf = 0.5 * (1.0 + math.erf(u / math.sqrt(2.0)))
    pdf = math.exp(-0.5 * u * u) / math.sqrt(2.0 * math.pi)
    return std * (u * cdf + pdf)


def test_expected_improvement_closed_form() -> None:
    means = torch.tensor([[0.0], [1.0], [-0.5], [3.0]], dtype=torch.float64)
    stds = torch.tensor([1.0, 0.5, 2.0, 0.1], dtype=torch.float64)
    best = torch.tensor([0.2], dtype=torch.float64)
    values = expected_improvement(means, stds, best, jitter=0.01)
    for i in range(4):
        expected = _ei_by_hand(float(means[i, 0]), float(stds[i]), 0.2, 0.01)
        assert float(values[i]) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    # worked example: mean = best, no jitter, std 1: EI = phi(0) = 1/sqrt(2 pi)
    at_best = expected_improvement(torch.zeros(1, 1, dtype=torch.float64), torch.ones(1, dtype=torch.float64),
                                   torch.zeros(1, dtype=torch.float64), jitter=0.0)
    assert float(at_best[0]) == pytest.approx(1.0 / math.sqrt(2.0 * math.pi), rel=1e-14)


def test_expected_improvement_averages_fantasy_columns() -> None:
    means = torch.tensor([[0.0, 1.0, -1.0]], dtype=torch.float64)
    stds = torch.tensor([0.7], dtype=torch.float64)
    best = torch.tensor([0.5, 0.0, 0.1], dtype=torch.float64)
    value = float(expected_improvement(means, stds, best, jitter=0.0)[0])
    expected = np.mean([_ei_by_hand(m, 0.7, b, 0.0) for m, b in zip([0.0, 1.0, -1.0], [0.5, 0.0, 0.1])])
    assert value == pytest.approx(expected, rel=1e-12)


def test_expected_improvement_gradient_is_phi_of_u() -> None:
    mean = torch.tensor([[0.3]], dtype=torch.float64, requires_grad=True)
    std = torch.tensor([0.8], dtype=torch.float64, requires_grad=True)
    expected_improvement(mean, std, torch.tensor([0.1], dtype=torch.float64), jitter=0.0).sum().backward()
    u = (0.1 - 0.3) / 0.8
    assert float(mean.grad[0, 0]) == pytest.approx(-0.5 * (1 + math.erf(u / math.sqrt(2))), rel=1e-10)  # -Phi(u)
    assert float(std.grad[0]) == pytest.approx(math.exp(-0.5 * u * u) / math.sqrt(2 * math.pi), rel=1e-10)  # phi(u)


def test_independent_thompson_draws_marginals() -> None:
    means = np.array([[0.0, 2.0], [5.0, 5.0]])
    stds = np.array([1.0, 0.0])
    rng = np.random.default_rng(3)
    scores = independent_thompson(means, stds, rng)
    draws = np.random.default_rng(3).normal(means, stds[:, None])
    np.testing.assert_array_equal(scores, draws.mean(axis=1))
    assert scores[1] == 5.0


def test_acquisition_level_is_the_largest_supported() -> None:
    from mfbench.searchers.gp.acquisition import acquisition_level

    assert acquisition_level({1: 10, 3: 4, 9: 2}, 3) == 3
    assert acquisition_level({3: 2, 1: 1}, 3) == 1  # none supported: the smallest observed level


def test_score_candidates() -> None:
    from mfbench.searchers.gp.acquisition import score_candidates

    means = torch.tensor([[0.0, 0.1], [1.0, 1.1]], dtype=torch.float64)
    stds = torch.tensor([0.5, 0.2], dtype=torch.float64)
    best = torch.tensor([0.2, 0.3], dtype=torch.float64)
    np.testing.assert_array_equal(score_candidates("acq_func", means, stds, best, 0.01, np.random.default_rng(0)),
                                  -expected_improvement(means, stds, best, 0.01).numpy())
    thompson = score_candidates("thompson_indep", means, stds, best, 0.01, np.random.default_rng(3))
    np.testing.assert_array_equal(thompson, independent_thompson(means.numpy(), stds.numpy(),
                                                                 np.random.default_rng(3)))
