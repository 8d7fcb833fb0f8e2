"""ASHA's optional searcher hooks: configure_levels and bracket_distribution (used by Hyper-Tune)."""
from __future__ import annotations

import numpy as np
import pytest

from mfbench.schedulers.asha import ASHA
from mfbench.schedulers.base import Decision
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


class _RecordingSearcher(_HookedSearcher):
    """Bracket 2 for every trial, and a record of what the searcher is told."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        self.observed: list[tuple[int, int, float]] = []

    def observe(self, trial_id, config, fidelity, loss):  # type: ignore[no-untyped-def]
        self.observed.append((trial_id, fidelity, loss))


@pytest.mark.parametrize("kind", ["stopping", "promotion"])
def test_results_below_the_brackets_first_rung_are_observed_but_not_judged(kind: str) -> None:
    # Syne Tune's searcher_data="rungs": every rung-level result reaches the searcher,
    # whatever the trial's bracket; only the bracket's own rungs decide (Hyper-Tune ranks
    # the levels on these results, the GP models them).
    scheduler = ASHA(_problem(), type=kind, brackets=4, searcher=_RecordingSearcher)
    searcher = scheduler.searcher
    for trial_id in range(3):
        assert scheduler.suggest(trial_id) is not None and scheduler.trials[trial_id].bracket == 2  # first rung 9
    for fidelity in range(1, 9):  # levels 1 and 3 are rungs below bracket 2's first (9)
        for trial_id in range(3):
            assert scheduler.on_result(trial_id, fidelity, 0.5 + 0.1 * trial_id) is Decision.CONTINUE
    assert [(t, r) for t, r, _ in searcher.observed] == [(0, 1), (1, 1), (2, 1), (0, 3), (1, 3), (2, 3)]
    assert all(trial_id not in rung.trial_ids for rung in scheduler.rungs[:2] for trial_id in range(3))
    decision = scheduler.on_result(0, 9, 0.5)  # bracket 2's first rung: judged (and observed)
    assert decision is (Decision.PAUSE if kind == "promotion" else Decision.CONTINUE)
    assert searcher.observed[-1] == (0, 9, 0.5) and 0 in scheduler.rungs[2].trial_ids
