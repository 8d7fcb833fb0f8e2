"""ASHA's optional searcher hooks: configure_levels and bracket_distribution (used by Hyper-Tune)."""
from __future__ import annotations

import numpy as np

from mfbench.schedulers.asha import ASHA
from mfbench.problem import Problem
from mfbench.searchers.random import RandomSearcher
from mfbench.space import ConfigSpace, Float


class _HookedSearcher(RandomSearcher):
    """A random searcher that records the levels and puts all bracket mass on bracket 2."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        self.configured: list[tuple[list[int], int]] = []
        self.defaults: list[np.ndarray] = []

    def configure_levels(self, levels, num_brackets):  # type: ignore[no-untyped-def]
        self.configured.append((list(levels), num_brackets))

    def bracket_distribution(self, default):  # type: ignore[no-untyped-def]
        self.defaults.append(default)
        return np.array([0.0, 0.0, 1.0, 0.0])


def _problem() -> Problem:
    space = ConfigSpace((Float("x", 0.0, 1.0),))
    return Problem(space, np.arange(1, 101), "loss", "min", n_workers=2, seed=0)


def test_asha_calls_the_hooks_and_uses_the_searchers_bracket_distribution() -> None:
    scheduler = ASHA(_problem(), type="promotion", brackets=4, searcher=_HookedSearcher)
    searcher = scheduler.searcher
    assert searcher.configured == [([1, 3, 9, 27, 81, 100], 4)]
    for trial_id in range(5):
        suggestion = scheduler.suggest(trial_id)
        assert suggestion is not None and suggestion.milestone == 9  # bracket 2 starts at levels[2]
    np.testing.assert_allclose(searcher.defaults[0], scheduler.bracket_probabilities)


def test_asha_without_hooks_keeps_its_default_distribution() -> None:
    scheduler = ASHA(_problem(), type="promotion", brackets=4)
    milestones = {scheduler.suggest(t).milestone for t in range(40)}  # type: ignore[union-attr]
    assert milestones <= {1, 3, 9, 27} and 1 in milestones
