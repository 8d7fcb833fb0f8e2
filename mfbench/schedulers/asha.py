"""Asynchronous successive halving / Hyperband (ASHA), stopping and promotion variants.

Behaviour as docs/methods/asha.md (Syne Tune 0.13.0 ``HyperbandScheduler``) with one
rung system shared by all brackets:

* *stopping*: a trial runs to ``max_t``; when it reports at a rung level of its bracket
  for the first time, it goes on only if its loss is within the rung's quantile
  ``q_j = r_j / r_{j+1}`` of all losses recorded there (itself included);
* *promotion*: a trial runs to its next milestone and pauses there; a free worker first
  resumes the best not-yet-promoted paused trial of the highest rung whose loss is within
  that rung's quantile, and only otherwise starts a new configuration.

A new trial draws its bracket ``s`` from :func:`default_bracket_distribution`; bracket
``s`` skips the ``s`` lowest rungs: its results there are not judged, but the searcher
observes them, as it observes every rung-level (and ``max_t``) result.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal

import numpy as np

from mfbench.schedulers.base import Decision, Scheduler, TrialStatus, TrialSuggestion
from mfbench.problem import Problem
from mfbench.schedulers.hyperband_math import (check_levels_are_fidelities, default_bracket_distribution,
                                              promotion_quantiles, successive_halving_rung_levels)
from mfbench.schedulers.rungs import Rung
from mfbench.searchers.base import Searcher
from mfbench.searchers.random import RandomSearcher
from mfbench.space import Config


@dataclass
class _Trial:
    config: Config
    bracket: int
    milestone: int


class ASHA(Scheduler):
    """Asynchronous Hyperband.

    Args:
        problem: the run's problem.
        type: ``"stopping"`` or ``"promotion"``.
        brackets: number of brackets (``1`` = ASHA; capped at the number of rungs + 1).
        grace_period: lowest rung level ``r_min``.
        reduction_factor: ``eta``.
        searcher: factory ``problem -> Searcher`` for new configurations (default random).
    """

    def __init__(
        self,
        problem: Problem,
        type: Literal["stopping", "promotion"] = "stopping",
        brackets: int = 1,
        grace_period: int = 1,
        reduction_factor: float = 3,
        searcher: Callable[..., Searcher] | None = None,
    ) -> None:
        super().__init__(problem)
        if type not in ("stopping", "promotion"):
            raise ValueError(f"method.type must be 'stopping' or 'promotion', got {type!r}")
        if brackets < 1:
            raise ValueError(f"method.brackets must be >= 1, got {brackets}")
        max_t = problem.max_fidelity
        self.type = type
        self.rung_levels = successive_halving_rung_levels(grace_period, reduction_factor, max_t)
        check_levels_are_fidelities(set(self.rung_levels), problem.fidelities, grace_period, reduction_factor)
        quantiles = promotion_quantiles(self.rung_levels, max_t)
        self.rungs = [Rung(level, q) for level, q in zip(self.rung_levels, quantiles)]
        self._rung_of_level = {rung.level: rung for rung in self.rungs}
        self.bracket_probabilities = default_bracket_distribution(self.rung_levels, max_t, brackets)
        self._bracket_cdf = np.cumsum(self.bracket_probabilities)
        self.rng = problem.rng("scheduler.asha")
        self.searcher = (searcher or RandomSearcher)(problem=problem)
        # optional searcher hook: the levels it will observe data at, and the brackets
        configure_levels = getattr(self.searcher, "configure_levels", None)
        if callable(configure_levels):
            configure_levels(self._levels(), len(self.bracket_probabilities))
        self.trials: dict[int, _Trial] = {}

    # ----------------------------------------------------------------- helpers
    def _levels(self) -> list[int]:
        return self.rung_levels + [self.problem.max_fidelity]

    def _next_milestone(self, fidelity: int) -> int:
        return next(level for level in self._levels() if level > fidelity)

    def _sample_bracket(self) -> int:
        probabilities = self.bracket_probabilities
        # optional searcher hook: a model-based bracket distribution (Hyper-Tune)
        adapt = getattr(self.searcher, "bracket_distribution", None)
        if callable(adapt):
            probabilities = adapt(probabilities)
        if len(probabilities) == 1:
            return 0
        # inverse-CDF draw: the same distribution as rng.choice(p=...), without its per-call overhead
        cdf = self._bracket_cdf if probabilities is self.bracket_probabilities else np.cumsum(probabilities)
        return int(min(np.searchsorted(cdf, self.rng.random() * cdf[-1], side="right"), len(cdf) - 1))

    # ------------------------------------------------------------------ API
    def suggest(self, trial_id: int) -> TrialSuggestion | None:
        if self.type == "promotion":
            for rung in reversed(self.rungs):
                promoted = rung.pop_promotable()
                if promoted is not None:
                    trial = self.trials[promoted]
                    trial.milestone = self._next_milestone(rung.level)
                    self.searcher.register_pending(promoted, trial.config, trial.milestone)
                    return TrialSuggestion.resume(promoted, trial.milestone)
        bracket = self._sample_bracket()
        config = self.searcher.suggest()
        if config is None:
            return None
        if self.type == "promotion":
            milestone = self._levels()[bracket]
        else:
            milestone = self.problem.max_fidelity
        self.trials[trial_id] = _Trial(config, bracket, milestone)
        first_milestone = self._levels()[bracket]
        self.searcher.register_pending(trial_id, config, first_milestone)
        return TrialSuggestion.start(config, milestone)

    def on_result(self, trial_id: int, fidelity: int, metric: float) -> Decision:
        trial = self.trials[trial_id]
        loss = self.problem.to_loss(metric)
        max_t = self.problem.max_fidelity
        if fidelity >= max_t:
            self.searcher.observe(trial_id, trial.config, fidelity, loss)
            return Decision.STOP
        rung = self._rung_of_level.get(fidelity)
        if rung is None or trial_id in rung.trial_ids:
            return Decision.CONTINUE
        self.searcher.observe(trial_id, trial.config, fidelity, loss)
        if fidelity < self._levels()[trial.bracket]:
            # Below its bracket's first rung a trial is not judged, but its result is data:
            # the searcher learns from every rung-level result, whatever the bracket (the
            # reference's searcher_data="rungs"; Hyper-Tune ranks the levels on it).
            return Decision.CONTINUE
        if self.type == "promotion":
            rung.add(trial_id, loss)
            return Decision.PAUSE
        rung.add(trial_id, loss)
        cutoff = rung.cutoff()
        if cutoff is None or loss <= cutoff:
            self.searcher.register_pending(trial_id, trial.config, self._next_milestone(fidelity))
            return Decision.CONTINUE
        return Decision.STOP

    def on_trial_end(self, trial_id: int, status: TrialStatus) -> None:
        if status is not TrialStatus.COMPLETED:
            self.searcher.remove_pending(trial_id)

    def describe(self) -> dict[str, Any]:
        return {
            "scheduler": f"asha_{self.type}",
            "rung_levels": self.rung_levels,
            "bracket_probabilities": [round(float(p), 6) for p in self.bracket_probabilities],
            **self.searcher.describe(),
        }
