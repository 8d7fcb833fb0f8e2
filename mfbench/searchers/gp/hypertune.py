"""Hyper-Tune: level weights from ranking losses, ensemble prediction, bracket distribution.

Reference-methods.md §6 (Syne Tune 0.13 ``hypertune_ranking_losses`` and
``HyperTuneModelMixin.fit_distributions``). With ``levels = rung_levels + [max_t]``:

* a level is *supported* if it has at least :data:`MIN_SUPPORT` observations; ``L`` is the
  largest number such that ``levels[L - 1]`` is supported (``L >= 2`` is needed);
* ``D`` is the data at ``levels[L - 1]``; for each lower level ``r_j``, joint posterior
  samples of ``f(., r_j)`` at D's configurations give ranking losses (fraction of
  discordant pairs); the top level's losses come from K-fold cross-validation;
* ``theta_j`` is the fraction of samples in which level ``j`` attains the smallest loss
  (ties count for all); the ensemble predictive distribution is
  ``mu = sum theta_r mu_r``, ``sigma^2 = sum theta_r^2 sigma_r^2`` over ``theta_r > 0.01``;
* the bracket distribution is ``w_k ∝ theta_k / r_k`` over the first brackets.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover  (the numpy helpers here must not import torch)
    import torch

    from mfbench.searchers.gp.models import GPModel
    from mfbench.searchers.gp.posterior import BlockPosterior, GPPosterior

#: observations a level needs to be supported
MIN_SUPPORT = 6
#: ensemble weights at or below this are dropped
MIN_WEIGHT = 0.01


def ranking_losses(targets: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """Fraction of discordant pairs between ``targets`` and each sample column.

    Args:
        targets: observed values, shape ``(k,)``, ``k >= 2``.
        samples: function samples at the same points, shape ``(k, S)``.

    Returns:
        shape ``(S,)``: ``2 / (k (k - 1)) * #{j < l: (y_j < y_l) XOR (f_j < f_l)}``.
    """
    k = len(targets)
    upper = np.triu(np.ones((k, k), dtype=bool), 1)
    y_less = (targets[:, None] < targets[None, :])[upper]  # (P,)
    f_less = (samples[:, None, :] < samples[None, :, :])[upper]  # (P, S)
    return np.logical_xor(f_less, y_less[:, None]).sum(axis=0) * (2.0 / (k * (k - 1)))


def fold_sizes(num_data: int) -> np.ndarray:
    """Sizes of the ``K = min(n // 2, 5)`` cross-validation folds (the last ones one larger)."""
    num_folds = min(num_data // 2, 5)
    low = num_data // num_folds
    sizes = np.full(num_folds, low)
    sizes[num_folds - num_data + low * num_folds :] += 1
    return sizes


def num_supported_levels(levels: list[int], counts: dict[int, int]) -> int:
    """``L``: 1 + position of the highest level with >= :data:`MIN_SUPPORT` observations (1 if none above the first)."""
    for position in range(len(levels) - 1, 0, -1):
        if counts.get(levels[position], 0) >= MIN_SUPPORT:
            return position + 1
    return 1


def level_weights(losses: np.ndarray) -> np.ndarray:
    """``theta``: per level (rows), the fraction of samples (columns) where it has the minimal loss."""
    wins = (losses == losses.min(axis=0, keepdims=True)).sum(axis=1).astype(np.float64)
    return wins / wins.sum()


def ensemble_distribution(levels: list[int], theta: np.ndarray) -> dict[int, float]:
    """The sparse ensemble ``{level: theta}`` over ``levels[:len(theta)]`` with ``theta > 0.01``."""
    return {int(r): float(t) for r, t in zip(levels, theta) if t > MIN_WEIGHT}


def bracket_weights(levels: list[int], theta: np.ndarray, num_brackets: int) -> np.ndarray:
    """``w_k ∝ theta_k / r_k`` over the first ``min(num_brackets, len(theta))`` levels."""
    weights = theta * np.array([1.0 / r for r in levels[: len(theta)]])
    weights = weights[:num_brackets]
    total = weights.sum()
    if total > 1e-14:
        return weights / total
    weights = np.zeros_like(weights)
    weights[0] = 1.0
    return weights


def combine_bracket_distribution(default: np.ndarray, head: np.ndarray | None) -> np.ndarray:
    """The default distribution with its head replaced by ``head`` scaled to the head's mass."""
    if head is None:
        return default
    if len(head) >= len(default):
        return head[: len(default)] / head[: len(default)].sum()
    combined = default.copy()
    combined[: len(head)] = head * default[: len(head)].sum()
    return combined


def _extended(x: "torch.Tensor", level: int) -> "torch.Tensor":
    import torch

    return torch.cat([x, torch.full((len(x), 1), float(level), dtype=x.dtype)], dim=1)


def hypertune_losses(
    model: "GPModel",
    posterior: "BlockPosterior | GPPosterior",
    x_top: "torch.Tensor",
    y_top: "torch.Tensor",
    levels: list[int],
    num_levels: int,
    num_samples: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Sampled ranking losses, shape ``(num_levels, num_samples)``.

    Args:
        model: the fitted model.
        posterior: its posterior on all observed data (one target column).
        x_top: encoded configurations of the data at ``levels[num_levels - 1]``, ``(k, d)``.
        y_top: their (normalised) targets, ``(k,)``, ``k >= 6``.
        levels: ``rung_levels + [max_t]``.
        num_levels: ``L >= 2``.
        num_samples: samples per level (reference 50).
        rng: source of the normal draws.
    """
    import torch

    from mfbench.searchers.gp.posterior import GPPosterior

    losses = np.zeros((num_levels, num_samples))
    targets = y_top.numpy()
    for j, level in enumerate(levels[: num_levels - 1]):
        samples = posterior.sample_joint(_extended(x_top, level), num_samples, rng)[:, 0, :]
        losses[j] = ranking_losses(targets, samples.numpy())
    top = levels[num_levels - 1]
    start = 0
    total = np.zeros(num_samples)
    sizes = fold_sizes(len(x_top))
    for size in sizes:
        end = start + int(size)
        train = torch.cat([torch.arange(0, start), torch.arange(end, len(x_top))])
        fold = GPPosterior(model, _extended(x_top[train], top), y_top[train])
        samples = fold.sample_joint(_extended(x_top[start:end], top), num_samples, rng)[:, 0, :]
        total += ranking_losses(targets[start:end], samples.numpy())
        start = end
    losses[num_levels - 1] = total / len(sizes)
    return losses
