"""Random search: every trial runs to the maximum fidelity (the reference's FIFOScheduler with its random searcher)."""
from __future__ import annotations

from typing import Any, Callable

from mfbench.schedulers.base import Decision, Scheduler, TrialStatus, TrialSuggestion
from mfbench.problem import Problem
from mfbench.searchers.base import Searcher
from mfbench.searchers.random import RandomSearcher


class RandomSearch(Scheduler):
    """Starts searcher proposals and lets them run to the maximum fidelity.

    Args:
        problem: the run's problem.
        searcher: factory ``problem -> Searcher`` (default: random search).
    """

    def __init__(self, problem: Problem, searcher: Callable[..., Searcher] | None = None) -> None:
        super().__init__(problem)
        self.searcher = (searcher or RandomSearcher)(problem=problem)
        self._configs: dict[int, dict[str, Any]] = {}

    def suggest(self, trial_id: int) -> TrialSuggestion | None:
        config = self.searcher.suggest()
        if config is None:
            return None
        self._configs[trial_id] = config
        self.searcher.register_pending(trial_id, config, self.problem.max_fidelity)
        return TrialSuggestion.start(config, self.problem.max_fidelity)

    def on_result(self, trial_id: int, fidelity: int, metric: float) -> Decision:
        if fidelity >= self.problem.max_fidelity:
            self.searcher.observe(trial_id, self._configs[trial_id], fidelity, self.problem.to_loss(metric))
            return Decision.STOP
        return Decision.CONTINUE

    def on_trial_end(self, trial_id: int, status: TrialStatus) -> None:
        if status is not TrialStatus.COMPLETED:
            self.searcher.remove_pending(trial_id)

    def describe(self) -> dict[str, Any]:
        return {"scheduler": "fifo", **self.searcher.describe()}
