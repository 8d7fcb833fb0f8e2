"""BoTorch multi-fidelity BO with discrete fidelities: ``method=botorch_mfmes`` (docs/methods/botorch_mf.md).

When a worker is free the method chooses a *(configuration, fidelity level)* pair that
maximises BoTorch's cost-aware multi-fidelity max-value entropy
(:class:`~mfbench.searchers.botorch_mf.MultiFidelityMES`) under a
``SingleTaskMultiFidelityGP`` fitted on every result observed so far at the levels; the
trial runs to that level and pauses there. A later decision may choose a paused trial's
configuration again at a higher level: the trial is then *resumed* from its checkpoint
(it is the same trial, so no configuration is evaluated twice, and the cost is the
increment). A trial at the maximum fidelity is stopped.

* **Levels**: ``min_fidelity * reduction_factor**k`` below the maximum, and the maximum
  (the geometric rungs of the benchmark's fidelity), or the ``levels`` given.
* **Initial design**: the first ``num_init_random`` trials (and every trial while no result
  has arrived) are uniform unseen configurations at the lowest level.
* **Candidates**: ``num_candidates`` unseen configurations (on a table: unseen rows drawn
  without replacement; elsewhere uniform draws plus ``num_local_candidates`` Gaussian
  perturbations of the best configurations' encodings), each at every level, plus the
  ``num_resume_candidates`` paused trials with the best predicted target-fidelity value, at
  every level above their checkpoint.
* **Data**: each trial contributes its results at the levels (the epochs in between add
  little but cost cubic time); above ``max_observations`` a random subset is kept, each
  trial's highest result first. Hyperparameters are refitted every ``refit_every``
  decisions (warm-started), the data are updated at every decision.
* **Random numbers**: all from ``problem.rng("botorch")``; the BoTorch computations run
  single-threaded and deterministic in a torch session seeded from it, so a run is
  bit-identical for a seed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Sequence

import numpy as np

from mfbench.problem import Problem
from mfbench.schedulers.base import Decision, Scheduler, TrialStatus, TrialSuggestion
from mfbench.searchers.botorch_mf import MFMESOptions, MultiFidelityMES, UnseenConfigurations
from mfbench.space import Config

#: std of the Gaussian perturbation of an incumbent's encoding (local candidates, infinite spaces)
_LOCAL_STD = 0.1
#: incumbents local candidates are drawn around
_LOCAL_CENTRES = 5


@dataclass
class _Trial:
    """One trial: its configuration, encoding, the level it runs / ran to, and what it reported."""

    config: Config
    encoded: np.ndarray  # (d,)
    milestone: int  # the level the current (or last) segment runs to
    running: bool = True
    checkpoint: int = 0  # the highest fidelity reported
    losses: dict[int, float] | None = None  # level -> loss

    def __post_init__(self) -> None:
        self.losses = {} if self.losses is None else self.losses


def geometric_levels(min_fidelity: int, max_fidelity: int, reduction_factor: float,
                     fidelities: np.ndarray) -> list[int]:
    """``min_fidelity * reduction_factor**k`` below ``max_fidelity`` (rounded up to a
    reportable fidelity), and ``max_fidelity``; ascending, without repeats."""
    levels: set[int] = {int(max_fidelity)}
    value = float(min_fidelity)
    while value < max_fidelity:
        index = int(np.searchsorted(fidelities, value - 1e-9))
        levels.add(int(fidelities[min(index, len(fidelities) - 1)]))
        value *= reduction_factor
    return sorted(levels)


class BoTorchMFMES(Scheduler):
    """Multi-fidelity BO with BoTorch: cost-aware MF-MES over (configuration, level).

    Args:
        problem: the run's problem.
        reduction_factor: ratio of consecutive fidelity levels (ignored with ``levels``).
        levels: the fidelity levels to choose from (reportable fidelities; the maximum
            fidelity is added); ``None``: geometric levels.
        num_init_random: trials started at random at the lowest level before the model.
        num_candidates: unseen configurations scored per decision (each at every level).
        num_local_candidates: on a space without a table, extra candidates perturbed
            around the best configurations (counted within ``num_candidates``).
        num_resume_candidates: paused trials scored per decision (those with the best
            predicted value at the target fidelity).
        max_observations: cap on the results the model is fitted on.
        refit_every: refit the GP hyperparameters every this many model decisions.
        fidelity_role, linear_truncated, fixed_cost, num_fantasies, num_mv_samples,
        num_y_samples, fit_maxiter, batch_size: see
            :class:`~mfbench.searchers.botorch_mf.MFMESOptions`.
    """

    def __init__(
        self,
        problem: Problem,
        reduction_factor: float = 3.0,
        levels: Sequence[int] | None = None,
        num_init_random: int = 8,
        num_candidates: int = 64,
        num_local_candidates: int = 32,
        num_resume_candidates: int = 32,
        max_observations: int = 200,
        refit_every: int = 25,
        fidelity_role: Literal["iteration", "data"] = "iteration",
        linear_truncated: bool = True,
        fixed_cost: float = 0.05,
        num_fantasies: int = 0,
        num_mv_samples: int = 10,
        num_y_samples: int = 32,
        fit_maxiter: int = 50,
        batch_size: int = 256,
    ) -> None:
        super().__init__(problem)
        if levels is None:
            if not reduction_factor > 1:
                raise ValueError(f"reduction_factor must be > 1, got {reduction_factor}")
            self.levels = geometric_levels(problem.min_fidelity, problem.max_fidelity, reduction_factor,
                                           problem.fidelities)
        else:
            given = sorted({int(level) for level in levels} | {problem.max_fidelity})
            unknown = [level for level in given if level not in set(problem.fidelities.tolist())]
            if unknown:
                raise ValueError(f"levels {unknown} are not fidelities of the benchmark "
                                 f"({problem.min_fidelity}..{problem.max_fidelity}); give reportable fidelities")
            self.levels = given
        for key, value, low in (("num_init_random", num_init_random, 0), ("num_candidates", num_candidates, 1),
                                ("num_local_candidates", num_local_candidates, 0),
                                ("num_resume_candidates", num_resume_candidates, 0),
                                ("max_observations", max_observations, 2), ("refit_every", refit_every, 1)):
            if int(value) < low:
                raise ValueError(f"{key} must be >= {low}, got {value}")
        self.reduction_factor = float(reduction_factor)
        self.num_init_random = int(num_init_random)
        self.num_candidates = int(num_candidates)
        self.num_local_candidates = min(int(num_local_candidates), self.num_candidates)
        self.num_resume_candidates = int(num_resume_candidates)
        self.max_observations = int(max_observations)
        self.refit_every = int(refit_every)
        self.options = MFMESOptions(
            fidelity_role=fidelity_role, linear_truncated=linear_truncated, fixed_cost=float(fixed_cost),
            num_fantasies=int(num_fantasies), num_mv_samples=int(num_mv_samples), num_y_samples=int(num_y_samples),
            fit_maxiter=int(fit_maxiter), batch_size=int(batch_size),
        )
        self.space = problem.config_space
        self.rng = problem.rng("botorch")
        self._torch_seed = int(self.rng.integers(2**31 - 1))
        self.unseen = UnseenConfigurations(problem, self.rng)
        self.model = MultiFidelityMES(self.space.encoded_dim, self.options)
        self.trials: dict[int, _Trial] = {}
        self._level_set = set(self.levels)
        self.last_model_failure: str | None = None
        self.stats = {"decisions": 0, "model_decisions": 0, "starts": 0, "resumes": 0, "model_failures": 0}

    # ------------------------------------------------------------ scheduler API
    def suggest(self, trial_id: int) -> TrialSuggestion | None:
        self.stats["decisions"] += 1
        choice = None
        if self.stats["starts"] >= self.num_init_random and self._num_results() > 0:
            choice = self._model_choice()
        if choice is None:
            config = self.unseen.suggest()
            choice = (config, self.levels[0]) if config is not None else None
        if choice is None:
            # no unseen configuration, and the model proposes nothing: resume the paused trial
            # at the lowest missing level, else wait for the running ones, else the end
            paused = [t for t in sorted(self.trials) if not self.trials[t].running
                      and self.trials[t].checkpoint < self.problem.max_fidelity]
            if paused:
                choice = (paused[0], self._next_level(self.trials[paused[0]].checkpoint))
            elif any(t.running for t in self.trials.values()):
                return TrialSuggestion.wait()
            else:
                return None
        what, level = choice
        if isinstance(what, int):  # a paused trial, resumed from its checkpoint
            trial = self.trials[what]
            trial.milestone, trial.running = level, True
            self.stats["resumes"] += 1
            return TrialSuggestion.resume(what, level)
        if not self.unseen.is_seen(what):
            self.unseen.mark_seen(what)
        self.trials[trial_id] = _Trial(what, self.space.encode(what), level)
        self.stats["starts"] += 1
        return TrialSuggestion.start(what, level)

    def on_result(self, trial_id: int, fidelity: int, metric: float) -> Decision:
        trial = self.trials[trial_id]
        trial.checkpoint = int(fidelity)
        if fidelity in self._level_set or fidelity >= trial.milestone:
            trial.losses[int(fidelity)] = self.problem.to_loss(metric)
        if fidelity >= self.problem.max_fidelity:
            return Decision.STOP
        # the milestone ends the segment (paused: it may be chosen again at a higher level)
        return Decision.PAUSE if fidelity >= trial.milestone else Decision.CONTINUE

    def on_trial_end(self, trial_id: int, status: TrialStatus) -> None:
        self.trials[trial_id].running = False

    def describe(self) -> dict[str, Any]:
        return {"scheduler": "botorch_mfmes", "levels": self.levels, "fixed_cost": self.options.fixed_cost,
                "num_candidates": self.num_candidates, "refit_every": self.refit_every,
                "max_observations": self.max_observations, "stats": {**self.stats, "fits": self.model.num_fits},
                "last_model_failure": self.last_model_failure}

    # ---------------------------------------------------------------- helpers
    def _num_results(self) -> int:
        return sum(len(t.losses) for t in self.trials.values())

    def _next_level(self, checkpoint: int) -> int:
        return next(level for level in self.levels if level > checkpoint)

    def _training_data(self) -> tuple[np.ndarray, np.ndarray]:
        """Inputs ``(n, d + 1)`` (fidelity normalised, last) and losses ``(n,)``, at most ``max_observations``."""
        top: list[tuple[int, int]] = []
        rest: list[tuple[int, int]] = []
        for trial_id in sorted(self.trials):
            levels = sorted(self.trials[trial_id].losses)
            if levels:
                top.append((trial_id, levels[-1]))
                rest += [(trial_id, level) for level in levels[:-1]]
        if len(top) + len(rest) > self.max_observations:
            # each trial's highest result is kept first (it is the most informative about the
            # target), the others are subsampled uniformly; the order stays canonical
            if len(top) >= self.max_observations:
                keep = np.sort(self.rng.choice(len(top), size=self.max_observations, replace=False))
                top, rest = [top[i] for i in keep], []
            else:
                keep = np.sort(self.rng.choice(len(rest), size=self.max_observations - len(top), replace=False))
                rest = [rest[i] for i in keep]
        pairs = top + rest
        inputs = np.array([np.append(self.trials[t].encoded, level / self.problem.max_fidelity)
                           for t, level in pairs])
        losses = np.array([self.trials[t].losses[level] for t, level in pairs])
        return inputs, losses

    def _new_candidates(self) -> list[Config]:
        """Unseen configurations to score (table rows, or random and local draws)."""
        rows = self.unseen.unseen_rows()
        if rows is not None:
            chosen = rows[np.sort(self.rng.choice(len(rows), size=min(self.num_candidates, len(rows)),
                                                  replace=False))] if len(rows) else rows
            return [self.space.config_at(int(row)) for row in chosen]
        found: dict[tuple, Config] = {}

        def add(config: Config) -> None:
            key = self.space.key(config)
            if key not in found and not self.unseen.is_seen(config) and self.space.contains(config):
                found[key] = config

        best = self._incumbents()
        if best:
            for _ in range(self.num_local_candidates):
                centre = best[int(self.rng.integers(len(best)))]
                noisy = np.clip(centre + self.rng.normal(0.0, _LOCAL_STD, size=centre.shape), 0.0, 1.0)
                add(self.space.decode(noisy))
        for _ in range(3 * self.num_candidates):  # rejection sampling of unseen configurations
            if len(found) >= self.num_candidates:
                break
            add(self.space.sample(self.rng))
        return list(found.values())

    def _incumbents(self) -> list[np.ndarray]:
        """Encodings of the configurations with the best loss at their highest level."""
        scored = [(t.losses[max(t.losses)], -max(t.losses), trial_id) for trial_id, t in self.trials.items() if t.losses]
        return [self.trials[trial_id].encoded for _, _, trial_id in sorted(scored)[:_LOCAL_CENTRES]]

    def _model_choice(self) -> tuple[Config | int, int] | None:
        """The best (configuration or paused trial id, level) under the model, or None."""
        from mfbench.searchers.gp.runtime import torch_session

        self.stats["model_decisions"] += 1
        refit = (self.stats["model_decisions"] - 1) % self.refit_every == 0
        with torch_session(self._torch_seed + self.stats["decisions"]):
            try:
                return self._score_and_choose(refit)
            except (ArithmeticError, RuntimeError, ValueError) as error:  # e.g. a non-PSD covariance
                self.stats["model_failures"] += 1
                self.last_model_failure = f"{type(error).__name__}: {error}"
                return None

    def _score_and_choose(self, refit: bool) -> tuple[Config | int, int] | None:
        inputs, losses = self._training_data()
        self.model.condition(inputs, losses, refit)
        new = self._new_candidates()
        paused = [t for t in sorted(self.trials) if not self.trials[t].running
                  and self.trials[t].checkpoint < self.problem.max_fidelity]
        if len(paused) > self.num_resume_candidates:
            means = self.model.target_mean(np.array([self.trials[t].encoded for t in paused]))
            order = np.argsort(-means, kind="stable")[: self.num_resume_candidates]
            paused = [paused[i] for i in sorted(order)]
        whats: list[Config | int] = []
        chosen_levels: list[int] = []
        rows: list[np.ndarray] = []
        increments: list[float] = []
        top = float(self.problem.max_fidelity)
        for config in new:
            encoded = self.space.encode(config)
            for level in self.levels:
                whats.append(config)
                chosen_levels.append(level)
                rows.append(np.append(encoded, level / top))
                increments.append(level / top)
        for trial_id in paused:
            trial = self.trials[trial_id]
            for level in self.levels:
                if level > trial.checkpoint:
                    whats.append(trial_id)
                    chosen_levels.append(level)
                    rows.append(np.append(trial.encoded, level / top))
                    increments.append((level - trial.checkpoint) / top)
        if not rows:
            return None
        running = [t for t in self.trials.values() if t.running]
        pending = np.array([np.append(t.encoded, t.milestone / top) for t in running]).reshape(-1, inputs.shape[1])
        scores = self.model.score(np.array(rows), np.array(increments), pending)
        best = int(np.argmax(np.where(np.isfinite(scores), scores, -np.inf)))
        return whats[best], chosen_levels[best]
