"""Random search with the median stopping rule: a method written outside mfbench.

Every trial is started towards the maximum fidelity. At each *rung* (the fidelities
``grace_period * 2**k``) a trial's loss is compared with the losses other trials reported at
that rung; once ``min_samples`` of them are there, a trial worse than their median is stopped
(the median stopping rule of Golovin et al., "Google Vizier", KDD 2017, here applied at rungs).

Run it from this folder (docs/writing-a-method.md):

    python -m mfbench.check --config-dir conf method=my_method
    python -m mfbench --config-dir conf method=my_method benchmark=hartmann3
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from mfbench.problem import Problem
from mfbench.schedulers.base import Decision, Scheduler, TrialStatus, TrialSuggestion
from mfbench.searchers.base import Searcher
from mfbench.searchers.random import RandomSearcher
from mfbench.space import Config


class MedianStopping(Scheduler):
    """Start the searcher's proposals; stop a trial that is worse than the median at a rung.

    Args:
        problem: the run's problem (space, fidelities, workers, seed), given by mfbench.
        grace_period: the first rung, a fidelity of the benchmark; no trial stops before it.
        min_samples: losses a rung needs (from other trials) before it stops anyone.
        searcher: factory ``problem -> Searcher`` for new configurations (default: random).
    """

    def __init__(self, problem: Problem, grace_period: int = 1, min_samples: int = 3,
                 searcher: Callable[..., Searcher] | None = None) -> None:
        super().__init__(problem)
        fidelities = [int(f) for f in problem.fidelities]
        if grace_period not in fidelities:
            # a ValueError from the constructor is shown as a one-line config error
            raise ValueError(f"method.grace_period={grace_period} is not a fidelity of the benchmark "
                             f"({fidelities[0]}..{fidelities[-1]})")
        if min_samples < 1:
            raise ValueError(f"method.min_samples must be >= 1, got {min_samples}")
        self.rungs: set[int] = set()  # grace_period, 2 * grace_period, 4 * ..., below max_t
        level = grace_period
        while level < problem.max_fidelity:
            if level in fidelities:
                self.rungs.add(level)
            level *= 2
        self.min_samples = min_samples
        # the searcher draws from its own stream, problem.rng("searcher.RandomSearcher"): it proposes
        # each configuration at most once and returns None once a finite space is exhausted
        self.searcher = (searcher or RandomSearcher)(problem=problem)
        self.configs: dict[int, Config] = {}
        self.losses: dict[int, dict[int, float]] = {rung: {} for rung in self.rungs}  # rung -> trial -> loss

    def suggest(self, trial_id: int) -> TrialSuggestion | None:
        config = self.searcher.suggest()
        if config is None:  # the space is exhausted: no work ever again
            return None
        self.configs[trial_id] = config
        self.searcher.register_pending(trial_id, config, self.problem.max_fidelity)
        return TrialSuggestion.start(config, self.problem.max_fidelity)

    def on_result(self, trial_id: int, fidelity: int, metric: float) -> Decision:
        loss = self.problem.to_loss(metric)  # the metric as a loss to minimise, whatever the mode
        if fidelity >= self.problem.max_fidelity:
            self.searcher.observe(trial_id, self.configs[trial_id], fidelity, loss)
            return Decision.STOP  # the decision at the maximum fidelity
        if fidelity not in self.rungs:
            return Decision.CONTINUE  # on_result is called at every fidelity, not only at rungs
        self.searcher.observe(trial_id, self.configs[trial_id], fidelity, loss)
        others = list(self.losses[fidelity].values())
        self.losses[fidelity][trial_id] = loss
        if len(others) >= self.min_samples and loss > float(np.median(others)):
            return Decision.STOP
        return Decision.CONTINUE

    def on_trial_end(self, trial_id: int, status: TrialStatus) -> None:
        if status is not TrialStatus.COMPLETED:  # stopped early: it will not report max_t
            self.searcher.remove_pending(trial_id)

    def describe(self) -> dict[str, Any]:
        return {"scheduler": "median_stopping", "rungs": sorted(self.rungs), "min_samples": self.min_samples,
                **self.searcher.describe()}
