"""Acquisition functions: expected improvement (averaged over fantasies) and independent Thompson.

Both work on predictive means of shape ``(n, m)`` (``m`` fantasy columns) and standard
deviations ``(n,)``, for minimisation (reference ``EIAcquisitionFunction`` and
``IndependentThompsonSampling``, docs/methods/model_based.md). :func:`score_candidates`
ranks the random candidates with one of them, and :func:`acquisition_level` is MOBSTER's
choice of the level the acquisition is computed at.
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import torch

#: standard deviations are floored at this value before dividing (reference value)
MIN_STD = 1e-10


def expected_improvement(means: torch.Tensor, stds: torch.Tensor, best: torch.Tensor, jitter: float) -> torch.Tensor:
    """Expected improvement below ``best - jitter``, averaged over the fantasy columns.

    ``u = (best - mean - jitter) / std`` and ``EI = std (u Phi(u) + phi(u))``.

    Args:
        means: shape ``(n, m)``.
        stds: shape ``(n,)``.
        best: incumbent per column, shape ``(m,)``.
        jitter: the margin ``xi`` (same units as the means).

    Returns:
        shape ``(n,)`` (differentiable in ``means`` and ``stds``).
    """
    stds = stds.clamp_min(MIN_STD).unsqueeze(-1)
    u = (best.unsqueeze(0) - means - jitter) / stds
    cdf = 0.5 * torch.special.erfc(-u / math.sqrt(2.0))
    pdf = torch.exp(-0.5 * u * u) / math.sqrt(2.0 * math.pi)
    return (stds * (u * cdf + pdf)).mean(dim=-1)


def independent_thompson(means: np.ndarray, stds: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw from each marginal ``N(mean, std^2)`` per column, averaged: shape ``(n,)``.

    Lower is better. ``means`` is ``(n, m)``, ``stds`` is ``(n,)``.
    """
    draws = rng.normal(means, stds[:, None])
    return draws.mean(axis=1)


def score_candidates(
    scoring: str,
    means: torch.Tensor,
    stds: torch.Tensor,
    best: torch.Tensor,
    jitter: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Scores of the candidates, shape ``(n,)``, lower is better.

    Args:
        scoring: ``"acq_func"`` (minus the expected improvement) or else (the searcher's
            ``"thompson_indep"``) one independent draw per candidate and column, averaged
            (draws from ``rng``).
        means: predictive means, shape ``(n, m)``.
        stds: predictive standard deviations, shape ``(n,)``.
        best: incumbent per column, shape ``(m,)`` (``"acq_func"`` only).
        jitter: EI's margin ``xi``, same units as the means (``"acq_func"`` only).
        rng: source of the Thompson draws (``"thompson_indep"`` only).
    """
    if scoring == "acq_func":
        return -expected_improvement(means, stds, best, jitter).numpy()
    return independent_thompson(means.numpy(), stds.numpy(), rng)


def acquisition_level(counts: Mapping[int, int], threshold: int) -> int:
    """MOBSTER's acquisition level: the largest level with at least ``threshold``
    observations, else the smallest observed level.

    Args:
        counts: number of observations per level (at least one level).
        threshold: the searcher's ``resource_acq_threshold``.
    """
    supported = [r for r, c in counts.items() if c >= threshold]
    return max(supported) if supported else min(counts)
