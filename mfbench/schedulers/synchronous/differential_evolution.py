"""The differential-evolution operators of DEHB, on encoded configurations in ``[0, 1]^D``.

Pure functions of their inputs and a random generator, as docs/methods/synchronous.md
(Syne Tune 0.13.0 ``DifferentialEvolutionHyperbandScheduler``):

* :func:`rand1_mutation`: ``x_a + F (x_b - x_c)``; components leaving ``[0, 1]`` are
  redrawn uniformly;
* :func:`binomial_crossover`: per *hyperparameter* (all encoded dimensions of one
  hyperparameter, e.g. a one-hot block, move together) take the mutant's value with
  probability ``p``, else the target's; if no hyperparameter was taken, one drawn
  uniformly is;
* :func:`offspring_wins`: selection, ties go to the target.
"""
from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np


class UniformSource(Protocol):
    """The part of ``numpy.random.Generator`` the operators use (tests pass fixed draws)."""

    def random(self, size: int) -> np.ndarray: ...

    def integers(self, high: int) -> int: ...


def rand1_mutation(x_a: np.ndarray, x_b: np.ndarray, x_c: np.ndarray, factor: float, rng: UniformSource) -> np.ndarray:
    """The rand/1 mutant ``x_a + factor * (x_b - x_c)``, shape ``(D,)``.

    Components outside ``[0, 1]`` are replaced, in index order, by ``rng.random(n)``.
    """
    mutant = np.asarray(x_a, dtype=np.float64) + factor * (np.asarray(x_b, dtype=np.float64) - np.asarray(x_c, dtype=np.float64))
    outside = np.flatnonzero((mutant < 0.0) | (mutant > 1.0))
    if len(outside):
        mutant[outside] = rng.random(len(outside))
    return mutant


def binomial_crossover(
    mutant: np.ndarray, target: np.ndarray, groups: Sequence[slice], probability: float, rng: UniformSource
) -> np.ndarray:
    """Offspring mixing ``mutant`` and ``target`` hyperparameter by hyperparameter.

    Args:
        mutant, target: encoded configurations, shape ``(D,)``.
        groups: the encoded slice of each hyperparameter (``ConfigSpace.categorical_groups``).
        probability: chance that a hyperparameter comes from the mutant.
        rng: draws ``random(num_hps)`` for the mask, then ``integers(num_hps)`` if the
            mask is empty.
    """
    take = rng.random(len(groups)) < probability
    if not take.any():
        take[int(rng.integers(len(groups)))] = True
    offspring = np.array(target, dtype=np.float64, copy=True)
    for group, from_mutant in zip(groups, take):
        if from_mutant:
            offspring[group] = mutant[group]
    return offspring


def offspring_wins(offspring_loss: float, target_loss: float) -> bool:
    """Selection on losses: the offspring replaces the target only if strictly better."""
    return offspring_loss < target_loss
