"""DEHB, the authors' package (``dehb``), as an mfbench method, driven through its ask/tell API.

Mapping (docs/third-party.md#dehb):

* DEHB is built in this process with ``n_workers=1`` (so it starts no Dask cluster) and asked
  once per free worker; jobs asked and not told yet are DEHB's *pending* jobs, so n workers are
  n outstanding asks, and DEHB opens a new bracket when every active bracket waits for results
  (its own asynchronous rule). Its seed and the ConfigSpace's seed are drawn from
  ``problem.rng("dehb_official")``; its log file goes to a temporary directory and its log
  messages are disabled; it never saves checkpoints (``save_freq="end"``, only used by its
  ``run()``, which is not called);
* the space: :func:`to_configspace` (categorical -> ``CategoricalHyperparameter``, integer /
  float -> ``UniformInteger`` / ``UniformFloat`` with the same bounds and log flag);
* DEHB's fidelities are ``max * eta^-k`` (floats); a job at fidelity ``b`` runs up to the
  smallest of the benchmark's fidelities ``>= b`` (:func:`fidelity_level`) and is told the
  value at that level as a loss (``problem.to_loss``: DEHB minimises, NaN -> ``inf``);
* one mfbench trial per *configuration*: a new configuration starts a trial that runs to the
  job's level and then pauses (``STOP`` at the maximum fidelity). When DEHB asks for a
  configuration it has evaluated before (its promotions in the first Hyperband iteration, or a
  DE offspring that decodes onto a seen configuration), the job is served by that trial: told
  at once from the values it already reported, or by resuming it from its checkpoint up to the
  new level (after it pauses, if it is running). DEHB thus sees the values it asked for; only
  the simulated time differs from a run that retrains promoted configurations from scratch;
* a configuration off the benchmark's table is replaced by the nearest unseen one
  (:class:`ProposalFilter`), and DEHB's record of the job is set to the replacement's vector, so
  its populations hold what was evaluated.
"""
from __future__ import annotations

import importlib.metadata
import math
import tempfile
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mfbench.errors import ConfigError
from mfbench.problem import Problem
from mfbench.schedulers.base import Decision, Scheduler, TrialStatus, TrialSuggestion
from mfbench.schedulers.external import configspace
from mfbench.schedulers.external.base import ProposalFilter, clip_to_bounds, require
from mfbench.space import Config, ConfigSpace

#: asks in one ``suggest`` call that DEHB may answer from values already known before the
#: adapter gives up for now (a worker idles or the run ends): DEHB re-asking only evaluated
#: configurations happens once a finite space is (nearly) exhausted
MAX_ASKS_PER_SUGGEST = 500

_METHOD = "dehb_official"


def to_configspace(space: ConfigSpace, seed: int) -> Any:
    """Our hyperparameters as a seeded ``ConfigSpace.ConfigurationSpace``
    (:func:`mfbench.schedulers.external.configspace.to_configspace`; ConfigSpace orders them
    by name, and so do DEHB's vectors)."""
    return configspace.to_configspace(space, seed, "dehb", _METHOD)


from_configspace = configspace.from_configuration


def fidelity_level(fidelities: np.ndarray, budget: float) -> int:
    """The smallest of the benchmark's fidelities ``>= budget`` (the largest if none is).

    ``fidelities`` has shape ``(F,)``, sorted; ``budget`` is one of DEHB's ``max * eta^-k``.
    A relative tolerance of 1e-9 absorbs DEHB's floating-point powers (``200 / 3^2 * 9``).
    """
    index = int(np.searchsorted(fidelities, budget * (1 - 1e-9), side="left"))
    return int(fidelities[min(index, len(fidelities) - 1)])


@dataclass
class _Trial:
    """What the adapter knows of one mfbench trial (one configuration)."""

    config: Config
    milestone: int  # the level its current or last segment runs to
    losses: dict[int, float] = field(default_factory=dict)  # fidelity -> loss reported
    running: bool = True
    ended: bool = False  # stopped, completed or failed: it cannot be resumed
    jobs: list[tuple[dict[str, Any], int]] = field(default_factory=list)  # DEHB jobs (job_info, level) it answers

    @property
    def reached(self) -> int:
        return max(self.losses, default=0)


class DEHBOfficialScheduler(Scheduler):
    """The authors' DEHB (``pip install 'mfbench[dehb]'``), asked and told asynchronously.

    Args:
        problem: the run's problem.
        grace_period: DEHB's ``min_fidelity`` (None: the benchmark's lowest fidelity). DEHB
            anchors its fidelities at the maximum (``max * eta^-k`` down to ``>= min``), so a
            value below the lowest fidelity is allowed: 0.8 gives 6 rungs on NB201 (0.82, 2.47,
            ... 200, run to 1, 3, 8, 23, 67, 200), like our ``dehb``'s 1, 3, 9, 27, 81, 200.
        reduction_factor: DEHB's ``eta``.
        mutation_factor: DE's ``mutation_factor`` (``F`` of rand/1).
        crossover_probability: DE's ``crossover_prob`` (binomial crossover).
        strategy: DE's mutation/crossover strategy (DEHB's default ``rand1_bin``).
        boundary_fix_type: how DE repairs a vector outside ``[0, 1]`` (``random`` or ``clip``).
    """

    def __init__(
        self,
        problem: Problem,
        grace_period: float | None = None,
        reduction_factor: float = 3,
        mutation_factor: float = 0.5,
        crossover_probability: float = 0.5,
        strategy: str = "rand1_bin",
        boundary_fix_type: str = "random",
    ) -> None:
        super().__init__(problem)
        dehb = require("dehb", "dehb", _METHOD)
        loguru = require("loguru", "dehb", _METHOD)
        min_fidelity = problem.min_fidelity if grace_period is None else float(grace_period)
        if not 0 < min_fidelity < problem.max_fidelity:
            raise ConfigError(
                f"method.grace_period ({min_fidelity}) must be positive and below the maximum fidelity "
                f"({problem.max_fidelity}); use null for the benchmark's lowest fidelity ({problem.min_fidelity})"
            )
        if reduction_factor <= 1:
            raise ConfigError(f"method.reduction_factor must be > 1, got {reduction_factor}")
        self.version = importlib.metadata.version("dehb")
        rng = problem.rng(_METHOD)
        seed, cs_seed = (int(s) for s in rng.integers(0, 2**31 - 1, size=2))
        self.seed, self.cs_seed = seed, cs_seed  # DEHB's and the ConfigSpace's (tests rebuild DEHB from them)
        # DEHB logs through loguru (0.1.1 also points its stdout sink at INFO on import): keep it quiet
        loguru.logger.disable("dehb")
        # its log file goes to output_path; a temporary directory, removed with this scheduler
        self._tmp = tempfile.TemporaryDirectory(prefix="mfbench-dehb-")
        first_handler = _next_loguru_handler_id(loguru.logger)
        with warnings.catch_warnings():  # ConfigSpace 1.x deprecates calls DEHB 0.1.x makes
            warnings.simplefilter("ignore", DeprecationWarning)
            self.dehb = dehb.DEHB(
                cs=to_configspace(problem.config_space, cs_seed),
                min_fidelity=min_fidelity,
                max_fidelity=problem.max_fidelity,
                eta=reduction_factor,
                mutation_factor=mutation_factor,
                crossover_prob=crossover_probability,
                strategy=strategy,
                boundary_fix_type=boundary_fix_type,
                seed=seed,
                n_workers=1,  # ask/tell: the simulator's workers, no Dask cluster
                save_freq="end",  # only run() saves at its end; run() is never called
                output_path=self._tmp.name,
                log_level="WARNING",
            )
        # remove the log-file handler DEHB added (one per instance; runs of a sweep share a process)
        for handler_id in range(first_handler, _next_loguru_handler_id(loguru.logger)):
            try:
                loguru.logger.remove(handler_id)
            except ValueError:
                pass
        for de in self.dehb.de.values():
            de.vector_to_configspace = _InBoundsDecoder(de, problem.config_space)
        # 0.1.2 renamed it with a leading underscore
        self._clean_brackets = getattr(self.dehb, "_clean_inactive_brackets", None) or self.dehb.clean_inactive_brackets
        self.min_fidelity = min_fidelity
        self.reduction_factor = float(reduction_factor)
        self.dehb_fidelities = [float(b) for b in self.dehb.fidelities]
        self.levels = [fidelity_level(problem.fidelities, b) for b in self.dehb_fidelities]
        self.space = problem.config_space
        self.filter = ProposalFilter(problem)
        self.trials: dict[int, _Trial] = {}
        self._trial_of: dict[tuple, int] = {}  # configuration key -> its trial
        self._to_resume: list[int] = []  # paused trials with DEHB jobs above their checkpoint
        self.asks = 0
        self.answered_from_known = 0  # jobs told at once from values a trial already reported
        self.resumed_jobs = 0  # jobs served by resuming a paused trial
        self.waited_on_running = 0  # jobs for a configuration whose trial was running (served later)
        self.replaced = 0  # off-table proposals replaced by the nearest unseen configuration
        self.gave_up = 0  # suggest calls that hit MAX_ASKS_PER_SUGGEST

    # ------------------------------------------------------------------ API
    def suggest(self, trial_id: int) -> TrialSuggestion | None:
        resume = self._pop_resume()
        if resume is not None:
            return resume
        for _ in range(MAX_ASKS_PER_SUGGEST):
            if self.filter.exhausted and not self._anything_to_learn():
                break
            suggestion = self._serve(self._ask(), trial_id)
            if suggestion is not None:
                return suggestion
        else:
            self.gave_up += 1
        # nothing new to run now: idle while others run, end once nothing runs any more
        return TrialSuggestion.wait() if any(t.running for t in self.trials.values()) else None

    def on_result(self, trial_id: int, fidelity: int, metric: float) -> Decision:
        trial = self.trials[trial_id]
        loss = self.problem.to_loss(metric)
        trial.losses[int(fidelity)] = loss
        waiting = []
        for job, level in trial.jobs:
            if level == fidelity:
                self._tell(job, loss, level)
            else:
                waiting.append((job, level))
        trial.jobs = waiting
        if fidelity >= self.problem.max_fidelity:
            return Decision.STOP
        if fidelity >= trial.milestone:
            # pause, not stop: DEHB may ask for this configuration at a higher fidelity
            return Decision.PAUSE
        return Decision.CONTINUE

    def on_trial_end(self, trial_id: int, status: TrialStatus) -> None:
        trial = self.trials[trial_id]
        trial.running = False
        if status == TrialStatus.PAUSED:
            if any(level > trial.reached for _, level in trial.jobs):
                self._to_resume.append(trial_id)
            return
        trial.ended = True
        for job, level in trial.jobs:  # failed before their level: the worst value
            self._tell(job, math.inf, level)
        trial.jobs = []

    def describe(self) -> dict[str, Any]:
        return {
            "scheduler": _METHOD,
            "library": "dehb",
            "library_version": self.version,
            "dehb_fidelities": self.dehb_fidelities,
            "levels": self.levels,
            "asks": self.asks,
            "answered_from_known": self.answered_from_known,
            "resumed_jobs": self.resumed_jobs,
            "waited_on_running": self.waited_on_running,
            "replaced_proposals": self.replaced,
            "gave_up": self.gave_up,
        }

    # ------------------------------------------------------------ helpers
    def _ask(self) -> dict[str, Any]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            job = self.dehb.ask()
        self.asks += 1
        return job

    def _tell(self, job: dict[str, Any], loss: float, level: int) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            # cost: the level in fidelity units (DEHB only records it)
            self.dehb.tell(job, {"fitness": float(loss), "cost": float(level)})
        # DEHB's run() drops finished brackets in every loop; tell() does not, and ask() scans
        # all brackets, so without this every ask gets slower as brackets accumulate. A
        # finished bracket is never chosen again, so dropping it changes no decision.
        self._clean_brackets()

    def _serve(self, job: dict[str, Any], trial_id: int) -> TrialSuggestion | None:
        """Work for DEHB's ``job``: a new trial, a resume, or None (told at once / waits on a running trial)."""
        level = fidelity_level(self.problem.fidelities, float(job["fidelity"]))
        config = from_configspace(self.space, job["config"])
        if not self.space.contains(config):
            # off the table: the nearest unseen configuration, or the nearest seen one once
            # none is left (DEHB then learns that configuration's values)
            replacement = self.filter.legalise(config)
            config = replacement if replacement is not None else self._nearest_in_table(config)
            self.replaced += 1
            self._record_replacement(job, config)
        known = self._trial_of.get(self.space.key(config))
        if known is None:
            self.filter.mark(config)
            self.trials[trial_id] = _Trial(config=config, milestone=level, jobs=[(job, level)])
            self._trial_of[self.space.key(config)] = trial_id
            return TrialSuggestion.start(config, level)
        trial = self.trials[known]
        if level in trial.losses:
            self.answered_from_known += 1
            self._tell(job, trial.losses[level], level)
            return None
        if trial.ended:  # failed below this level
            self._tell(job, math.inf, level)
            return None
        trial.jobs.append((job, level))
        if trial.running:  # served when it reaches the level, or resumed once it pauses
            self.waited_on_running += 1
            return None
        self.resumed_jobs += 1
        if known in self._to_resume:
            self._to_resume.remove(known)
        return self._resume(known)

    def _resume(self, trial_id: int) -> TrialSuggestion:
        trial = self.trials[trial_id]
        trial.milestone = max(level for _, level in trial.jobs)
        trial.running = True
        return TrialSuggestion.resume(trial_id, trial.milestone)

    def _pop_resume(self) -> TrialSuggestion | None:
        while self._to_resume:
            trial_id = self._to_resume.pop(0)
            trial = self.trials[trial_id]
            if not trial.running and not trial.ended and trial.jobs:
                self.resumed_jobs += len(trial.jobs)
                return self._resume(trial_id)
        return None

    def _anything_to_learn(self) -> bool:
        # an exhausted space still has work while a paused trial is below the maximum fidelity
        return any(not t.ended and t.reached < self.problem.max_fidelity for t in self.trials.values())

    def _nearest_in_table(self, config: Config) -> Config:
        """The configuration of the (finite) space nearest to ``config`` in our encoding, seen or not."""
        target = self.space.encode(clip_to_bounds(self.space, config))
        if self.space.table is not None:
            distances = ((self.space.encode_table() - target) ** 2).sum(axis=1)
            return self.space.config_at(int(np.argmin(distances)))
        candidates = self.space.enumerate()
        distances = ((self.space.encode_many(candidates) - target) ** 2).sum(axis=1)
        return candidates[int(np.argmin(distances))]

    def _record_replacement(self, job: dict[str, Any], config: Config) -> None:
        """Make DEHB record ``config`` (what is evaluated) for ``job`` instead of its own proposal.

        DEHB's ``tell`` takes the job's vector from its config repository (by ``config_id``), so
        the replacement's vector is written there.
        """
        require("ConfigSpace", "dehb", _METHOD)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            vector = self.dehb.configspace_to_vector(configspace.to_configuration(self.dehb.cs, self.space, config))
        self.dehb.config_repository.configs[job["config_id"]].config = np.asarray(vector, dtype=float)


class _InBoundsDecoder:
    """DEHB's ``vector_to_configspace`` of one DE instance, kept in the hyperparameters' bounds.

    DEHB maps a log-scaled coordinate ``v`` as ``exp(log(lower) + v * (log(upper) -
    log(lower)))``, which for ``v = 1`` can round past ``upper`` (``0.10000000000000006`` for
    ``[0.001, 0.1]``); ConfigSpace then refuses the configuration and ``ask()`` raises. DE
    reaches ``v = 1`` exactly whenever a parent sits on the bound (a table row at the bound,
    ``boundary_fix_type=clip``). Every vector DEHB decodes legally is decoded by DEHB itself,
    unchanged; only a refused one is decoded again here with DEHB's formulas and the values
    clipped into their bounds.
    """

    def __init__(self, de: Any, space: ConfigSpace) -> None:
        self.decode = de.vector_to_configspace  # DEHB's own (a bound method)
        self.cs = de.cs
        self.space = space

    def __call__(self, vector: np.ndarray) -> Any:
        from ConfigSpace.exceptions import IllegalValueError

        try:
            return self.decode(vector)
        except IllegalValueError:
            pass
        values: dict[str, Any] = {}
        for i, name in enumerate(self.cs.get_hyperparameter_names()):
            hp = self.cs[name]
            if hasattr(hp, "choices"):
                values[name] = hp.choices[int(np.where((vector[i] < np.arange(0, 1, 1 / len(hp.choices))) == False)[0][-1])]  # noqa: E712 - DEHB's rule
            elif not hasattr(hp, "lower"):  # Constant
                values[name] = hp.default_value
            else:
                if hp.log:
                    value = np.exp(np.log(hp.lower) + vector[i] * (np.log(hp.upper) - np.log(hp.lower)))
                else:
                    value = hp.lower + (hp.upper - hp.lower) * vector[i]
                value = int(np.round(value)) if isinstance(hp.lower, (int, np.integer)) else float(value)
                values[name] = min(max(value, hp.lower), hp.upper)
        return configspace.to_configuration(self.cs, self.space, from_configspace(self.space, values))


def _next_loguru_handler_id(logger: Any) -> int:
    """The id loguru gives the next handler (ids only grow), found by adding and removing a no-op sink."""
    handler_id = logger.add(lambda message: None)
    logger.remove(handler_id)
    return handler_id + 1
