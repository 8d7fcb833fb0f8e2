"""Optuna (samplers + pruners) as an mfbench method, one Optuna trial per mfbench trial.

Mapping (docs/third-party.md#optuna):

* the study lives in memory in this process; its sampler is seeded from
  ``problem.rng("optuna")`` and its name is fixed, since :class:`optuna.pruners.HyperbandPruner`
  assigns brackets by hashing the study name and trial number: a seed then gives
  bit-identical runs;
* a free worker -> ``study.ask(fixed_distributions=...)``: the configuration is sampled
  at ask time from our space mapped by :func:`to_optuna_distributions`; trials still
  running are RUNNING trials of the study (TPE treats them with its constant liar);
* every result -> ``trial.report(value, step=fidelity)``; at the maximum fidelity
  ``study.tell(value)`` and ``STOP``; otherwise ``trial.should_prune()`` -> ``STOP``
  (told as PRUNED) or ``CONTINUE``. Trials never pause: Optuna's pruners stop, they do
  not promote;
* a proposal off the table or already evaluated is told as FAIL (so the sampler ignores
  it), and the nearest unseen configuration (:class:`ProposalFilter`) is enqueued and asked
  for instead, so the study's trials hold exactly what was evaluated.
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Literal

from mfbench.problem import Problem
from mfbench.schedulers.base import Decision, Scheduler, TrialStatus, TrialSuggestion
from mfbench.schedulers.external.base import ProposalFilter, require
from mfbench.space import Categorical, Config, ConfigSpace, Float, Integer

#: the fixed study name: HyperbandPruner hashes it to assign brackets (see module doc)
STUDY_NAME = "mfbench"


def to_optuna_distributions(space: ConfigSpace) -> dict[str, Any]:
    """Our hyperparameters as Optuna distributions, in our order.

    Categorical -> ``CategoricalDistribution`` (same choices, same order), Integer ->
    ``IntDistribution`` and Float -> ``FloatDistribution`` with the same bounds and log flag.
    A table restriction has no Optuna counterpart: :class:`ProposalFilter` enforces it.
    """
    distributions = require("optuna.distributions", "optuna", "optuna_*")
    out: dict[str, Any] = {}
    for hp in space.hyperparameters:
        if isinstance(hp, Categorical):
            out[hp.name] = distributions.CategoricalDistribution(list(hp.choices))
        elif isinstance(hp, Integer):
            out[hp.name] = distributions.IntDistribution(int(hp.lower), int(hp.upper), log=hp.log)
        elif isinstance(hp, Float):
            out[hp.name] = distributions.FloatDistribution(float(hp.lower), float(hp.upper), log=hp.log)
        else:  # pragma: no cover - the space module defines exactly these three
            raise TypeError(f"no Optuna distribution for hyperparameter {hp!r}")
    return out


def from_optuna_params(space: ConfigSpace, params: dict[str, Any]) -> Config:
    """An Optuna trial's params as our configuration (our key order, our value types)."""
    return space.coerce(params)


class OptunaScheduler(Scheduler):
    """An Optuna sampler and pruner, asked and told asynchronously (one Optuna trial per trial).

    Args:
        problem: the run's problem.
        sampler: ``"tpe"`` (``TPESampler``) or ``"random"`` (``RandomSampler``).
        pruner: ``"hyperband"`` (``HyperbandPruner``), ``"successive_halving"``
            (``SuccessiveHalvingPruner``) or ``"none"`` (every trial to the maximum fidelity).
        grace_period: the pruners' ``min_resource`` (None: the lowest fidelity).
        reduction_factor: the pruners' ``reduction_factor`` (eta).
        constant_liar: TPE's constant liar, which treats running trials as bad so that
            parallel workers do not all sample the same region (Optuna's advice for
            parallel optimisation).
        n_startup_trials: TPE's random trials before its model is used.
    """

    def __init__(
        self,
        problem: Problem,
        sampler: Literal["tpe", "random"] = "tpe",
        pruner: Literal["hyperband", "successive_halving", "none"] = "hyperband",
        grace_period: int | None = None,
        reduction_factor: int = 3,
        constant_liar: bool = True,
        n_startup_trials: int = 10,
    ) -> None:
        super().__init__(problem)
        method = f"optuna ({sampler} + {pruner})"
        optuna = require("optuna", "optuna", method)
        self._optuna = optuna
        optuna.logging.set_verbosity(optuna.logging.WARNING)  # one line per trial otherwise
        seed = int(problem.rng("optuna").integers(2**31 - 1))
        if sampler == "tpe":
            with warnings.catch_warnings():  # constant_liar is flagged experimental
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                sampler_obj = optuna.samplers.TPESampler(
                    seed=seed, constant_liar=constant_liar, n_startup_trials=n_startup_trials
                )
        elif sampler == "random":
            sampler_obj = optuna.samplers.RandomSampler(seed=seed)
        else:
            raise ValueError(f"method.sampler must be 'tpe' or 'random', got {sampler!r}")
        min_resource = problem.min_fidelity if grace_period is None else int(grace_period)
        if pruner == "hyperband":
            pruner_obj = optuna.pruners.HyperbandPruner(
                min_resource=min_resource, max_resource=problem.max_fidelity, reduction_factor=reduction_factor
            )
        elif pruner == "successive_halving":
            pruner_obj = optuna.pruners.SuccessiveHalvingPruner(
                min_resource=min_resource, reduction_factor=reduction_factor, min_early_stopping_rate=0
            )
        elif pruner == "none":
            pruner_obj = optuna.pruners.NopPruner()
        else:
            raise ValueError(f"method.pruner must be 'hyperband', 'successive_halving' or 'none', got {pruner!r}")
        self.sampler_name, self.pruner_name = sampler, pruner
        self.study = optuna.create_study(
            study_name=STUDY_NAME,
            direction="minimize" if problem.mode == "min" else "maximize",
            sampler=sampler_obj,
            pruner=pruner_obj,
        )
        self.distributions = to_optuna_distributions(problem.config_space)
        self.filter = ProposalFilter(problem)
        self.trials: dict[int, Any] = {}  # our trial id -> its running optuna.Trial
        self.replaced = 0  # proposals replaced by the nearest unseen configuration

    def _value(self, metric: float) -> float:
        # a failed evaluation (NaN) is the worst value in the study's direction
        if metric != metric:
            return math.inf if self.problem.mode == "min" else -math.inf
        return float(metric)

    def suggest(self, trial_id: int) -> TrialSuggestion | None:
        if self.filter.exhausted:
            return None
        trial = self.study.ask(fixed_distributions=self.distributions)
        proposed = from_optuna_params(self.problem.config_space, trial.params)
        config = self.filter.legalise(proposed)
        if config is None:  # pragma: no cover - exhausted is checked above
            self.study.tell(trial, state=self._optuna.trial.TrialState.FAIL)
            return None
        if config != proposed:
            # tell the study what is evaluated: drop the proposal, ask again with the
            # replacement enqueued (an enqueued trial's params are fixed to it)
            self.study.tell(trial, state=self._optuna.trial.TrialState.FAIL)
            self.study.enqueue_trial(config, skip_if_exists=False)
            trial = self.study.ask(fixed_distributions=self.distributions)
            self.replaced += 1
        self.filter.mark(config)
        self.trials[trial_id] = trial
        # stopping-type: a trial runs to the maximum fidelity unless the pruner stops it
        return TrialSuggestion.start(config, self.problem.max_fidelity)

    def on_result(self, trial_id: int, fidelity: int, metric: float) -> Decision:
        trial = self.trials[trial_id]
        value = self._value(metric)
        if fidelity >= self.problem.max_fidelity:
            self.study.tell(trial, value)
            del self.trials[trial_id]
            return Decision.STOP
        trial.report(value, step=int(fidelity))
        if trial.should_prune():
            # PRUNED: Optuna takes the last reported value as the trial's value
            self.study.tell(trial, state=self._optuna.trial.TrialState.PRUNED)
            del self.trials[trial_id]
            return Decision.STOP
        return Decision.CONTINUE

    def on_trial_end(self, trial_id: int, status: TrialStatus) -> None:
        trial = self.trials.pop(trial_id, None)
        if trial is not None:  # ended without a decision of ours (failed): drop it from the model
            self.study.tell(trial, state=self._optuna.trial.TrialState.FAIL)

    def describe(self) -> dict[str, Any]:
        return {
            "scheduler": f"optuna_{self.sampler_name}_{self.pruner_name}",
            "library": "optuna",
            "library_version": self._optuna.__version__,
            "replaced_proposals": self.replaced,
        }
