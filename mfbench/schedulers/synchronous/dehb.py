"""DEHB: differential evolution over the rung-wise populations of synchronous Hyperband.

Behaviour as docs/methods/synchronous.md (Syne Tune 0.13.0
``GeometricDifferentialEvolutionHyperbandScheduler``):

* brackets: bracket offset ``s`` has the rungs ``rungs_first_bracket[s:]`` of the first
  geometric Hyperband bracket (a rung's size depends only on its level); bracket ids
  cycle over the offsets and jobs are assigned as in synchronous Hyperband;
* bracket 0 is plain successive halving: its lowest rung gets the midpoint and then
  uniform draws in the encoded space ("random_encoded"), and each higher-rung slot ``i``
  resumes the ``i``-th best trial of the rung below from its checkpoint;
* in later brackets every slot gets a *new* trial (started from scratch, stopped at the
  slot's level). Its configuration is a rand/1 mutant of three parents crossed over
  with the *target*, the trial of the *parent slot* (same level and index in the most
  recent earlier bracket holding that level; a random existing trial if there is
  none). Parents come from a pool the size of the current rung: parent-slot trials
  for a lowest rung, the top list of the rung below otherwise; a pool under 3 is
  extended by every trial that reached this level, then the other levels (top-down).
  A lowest-rung slot without any parent slot draws uniformly instead;
* selection: when the new trial reaches its level its loss is compared with the
  target's loss *at that level*; the target keeps the slot on ties.

Documented differences to the reference: the target is fixed when the offspring is
made (the reference looks it up again, drawing a new random trial when there is no
parent slot) and compared at the slot's level (the reference compares with the
target's latest metric, possibly at another level; with no loss at this level the
selection is skipped, as the reference does for a pending target); a configuration
that stays a duplicate after 50 tries (25 DE, 25 uniform) is replaced by a uniformly
drawn unseen one instead of failing the slot; on a finite table that is not a full
grid, a decoded configuration is replaced by the nearest table row in the encoding.
Once a finite space is exhausted, rungs that need new configurations are shrunk to
the trials they have, as in :mod:`mfbench.schedulers.synchronous.hyperband`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from mfbench.schedulers.base import Decision, Scheduler, TrialStatus, TrialSuggestion
from mfbench.problem import Problem
from mfbench.schedulers.synchronous.brackets import BracketManager, RungSpec, Slot, geometric_bracket_rungs, top_list
from mfbench.schedulers.synchronous.differential_evolution import binomial_crossover, offspring_wins, rand1_mutation
from mfbench.schedulers.hyperband_math import check_levels_are_fidelities
from mfbench.searchers.random import RandomSearcher
from mfbench.space import Config

#: tries for a configuration not proposed before: the first half by DE, then uniform draws
MAX_RETRIES = 50


class DEHBBracketManager(BracketManager):
    """Brackets of DEHB (no automatic promotion) with parent slots and top lists.

    Args:
        rungs_first_bracket: the rungs of bracket offset 0.
        num_brackets: number of offsets (bracket ``s`` uses ``rungs_first_bracket[s:]``).
    """

    def __init__(self, rungs_first_bracket: Sequence[RungSpec], num_brackets: int) -> None:
        if not 1 <= num_brackets <= len(rungs_first_bracket):
            raise ValueError(f"brackets must be in [1, {len(rungs_first_bracket)}], got {num_brackets}")
        self._holders: dict[int, list[tuple[int, int]]] = {}  # level -> [(bracket_id, rung_index)]
        self._top_cache: dict[tuple[int, int], list[int]] = {}
        super().__init__([list(rungs_first_bracket[s:]) for s in range(num_brackets)], promote=False)

    def _create_bracket(self) -> int:
        bracket_id = super()._create_bracket()
        for k, level in enumerate(self.brackets[bracket_id].levels):
            self._holders.setdefault(level, []).append((bracket_id, k))
        return bracket_id

    def size_of_current_rung(self, bracket_id: int) -> int:
        bracket = self.brackets[bracket_id]
        return bracket.sizes[bracket.current_rung]

    def trial_id_from_parent_slot(self, bracket_id: int, level: int, slot_index: int) -> int | None:
        """Trial in slot ``slot_index`` at ``level`` of the most recent earlier bracket
        where that slot is occupied (None if there is none)."""
        for other, k in reversed(self._holders.get(level, [])):
            if other >= bracket_id:
                continue
            bracket = self.brackets[other]
            if slot_index < len(bracket.trial_ids[k]):
                trial_id = bracket.trial_ids[k][slot_index]
                if trial_id is not None:
                    return trial_id
        return None

    def top_of_previous_rung(self, bracket_id: int, position: int) -> int | None:
        """The ``position``-th best trial of the rung below the current one (cached)."""
        bracket = self.brackets[bracket_id]
        k = bracket.current_rung
        key = (bracket_id, k)
        top = self._top_cache.get(key)
        if top is None:
            top = top_list(bracket.rung_entries(k - 1), bracket.sizes[k])
            self._top_cache[key] = top
        return top[position] if position < len(top) else None


@dataclass
class _Trial:
    encoded: np.ndarray
    config: Config
    losses: dict[int, float] = field(default_factory=dict)


@dataclass
class _Job:
    slot: Slot
    target: int | None  # selection target (None: the trial takes the slot)


class DEHB(Scheduler):
    """Differential Evolution Hyperband.

    Args:
        problem: the run's problem.
        brackets: number of bracket offsets (None: the maximum).
        grace_period: lowest rung level ``r_min``.
        reduction_factor: ``eta``.
        mutation_factor: ``F`` of the rand/1 mutation, in ``(0, 1]``.
        crossover_probability: ``p`` of the binomial crossover, in ``(0, 1)``.
        support_pause_resume: bracket 0 resumes promoted trials from their checkpoint
            (False: it starts them again from scratch under a new trial id).
    """

    def __init__(
        self,
        problem: Problem,
        brackets: int | None = None,
        grace_period: int = 1,
        reduction_factor: float = 3,
        mutation_factor: float = 0.5,
        crossover_probability: float = 0.5,
        support_pause_resume: bool = True,
    ) -> None:
        super().__init__(problem)
        if not 0 < mutation_factor <= 1:
            raise ValueError(f"mutation_factor must be in (0, 1], got {mutation_factor}")
        if not 0 < crossover_probability < 1:
            raise ValueError(f"crossover_probability must be in (0, 1), got {crossover_probability}")
        first = geometric_bracket_rungs(grace_period, problem.max_fidelity, reduction_factor, 1)[0]
        check_levels_are_fidelities({r.level for r in first}, problem.fidelities, grace_period, reduction_factor)
        num_brackets = len(first) if brackets is None else min(int(brackets), len(first))
        if num_brackets < 1:
            raise ValueError(f"brackets must be >= 1 (or null for the maximum), got {brackets}")
        self.rungs_first_bracket = first
        self.manager = DEHBBracketManager(first, num_brackets)
        self.mutation_factor = float(mutation_factor)
        self.crossover_probability = float(crossover_probability)
        self.support_pause_resume = support_pause_resume
        self.space = problem.config_space
        self.groups = self.space.categorical_groups()
        self.rng = problem.rng("scheduler.dehb")
        self._unseen = RandomSearcher(problem=problem, points_to_evaluate=[])  # duplicate bookkeeping
        self._midpoint_pending = True
        self.trials: dict[int, _Trial] = {}
        self._pending: dict[int, _Job] = {}
        self._level_pool: dict[int, list[int]] = {r.level: [] for r in first}
        self.exhausted = False
        self.num_selection_skipped = 0

    # ------------------------------------------------------------------ API
    def suggest(self, trial_id: int) -> TrialSuggestion | None:
        while True:
            slot = self.manager.next_job(allow_new_bracket=not self.exhausted)
            if slot is None:
                return TrialSuggestion.wait() if self.manager.num_pending > 0 else None
            suggestion = self._job_for(slot, trial_id)
            if suggestion is not None:
                return suggestion
            self.manager.unassign(slot)
            self._on_exhausted()

    def on_result(self, trial_id: int, fidelity: int, metric: float) -> Decision:
        job = self._pending.get(trial_id)
        if job is None:
            return Decision.STOP
        level = job.slot.level
        if fidelity < level:
            return Decision.CONTINUE
        del self._pending[trial_id]
        self._record(trial_id, job, self.problem.to_loss(metric))
        if self.support_pause_resume and job.slot.bracket_id == 0 and level < self.problem.max_fidelity:
            return Decision.PAUSE
        return Decision.STOP

    def on_trial_end(self, trial_id: int, status: TrialStatus) -> None:
        job = self._pending.pop(trial_id, None)
        if job is not None:  # ended before reaching its slot's level: counts as failed
            self._record(trial_id, job, math.inf)

    def describe(self) -> dict[str, Any]:
        return {
            "scheduler": "dehb",
            "bracket_rungs": [[[r.level, r.size] for r in rungs] for rungs in self.manager.bracket_rungs],
            "mutation_factor": self.mutation_factor,
            "crossover_probability": self.crossover_probability,
            "support_pause_resume": self.support_pause_resume,
            "num_selection_skipped": self.num_selection_skipped,
        }

    # ----------------------------------------------------------- proposals
    def _job_for(self, slot: Slot, trial_id: int) -> TrialSuggestion | None:
        """The suggestion for ``slot`` (None: a new configuration is needed but none is left)."""
        b, k = slot.bracket_id, slot.rung_index
        if b == 0 and k > 0:  # successive halving in the first bracket
            promoted = self.manager.top_of_previous_rung(0, slot.slot_index)
            if promoted is not None:
                if self.support_pause_resume:
                    self._pending[promoted] = _Job(slot, target=None)
                    return TrialSuggestion.resume(promoted, slot.level)
                info = self.trials[promoted]
                return self._start(trial_id, slot, info.encoded, info.config, target=None)
        if self._unseen.exhausted:
            return None
        target: int | None = None
        use_de = b > 0
        if b > 0 and k == 0:
            target = self.manager.trial_id_from_parent_slot(b, slot.level, slot.slot_index)
            use_de = target is not None
        elif b > 0:
            target = self.manager.trial_id_from_parent_slot(b, slot.level, slot.slot_index)
            if target is None:
                target = self._random_trial()
        for attempt in range(MAX_RETRIES):
            if use_de and attempt < MAX_RETRIES // 2:
                encoded = self._de_offspring(slot, target)  # type: ignore[arg-type]
                if encoded is None:  # too few trials for three parents
                    use_de = False
                    encoded = self._random_encoded()
            else:
                encoded = self._random_encoded()
            encoded, config = self._realise(encoded)
            if not self._unseen.is_seen(config):
                return self._start(trial_id, slot, encoded, config, target)
        config = self._unseen.sample_unseen()
        if config is None:
            return None
        return self._start(trial_id, slot, self.space.encode(config), config, target)

    def _random_encoded(self) -> np.ndarray:
        """The midpoint first, then uniform draws in the encoded space."""
        if self._midpoint_pending:
            self._midpoint_pending = False
            return self.space.encode(self.space.midpoint())
        return self.rng.random(self.space.encoded_dim)

    def _random_trial(self) -> int:
        ids = list(self.trials)
        return ids[int(self.rng.integers(len(ids)))]

    def _de_offspring(self, slot: Slot, target: int) -> np.ndarray | None:
        parents = self._parents(slot)
        if parents is None:
            return None
        x_a, x_b, x_c = (self.trials[p].encoded for p in parents)
        mutant = rand1_mutation(x_a, x_b, x_c, self.mutation_factor, self.rng)
        return binomial_crossover(mutant, self.trials[target].encoded, self.groups, self.crossover_probability, self.rng)

    def _parents(self, slot: Slot) -> list[int] | None:
        """Three parents drawn without replacement from the slot's pool (None if under 3)."""
        b, level = slot.bracket_id, slot.level
        size = self.manager.size_of_current_rung(b)
        extra: list[int] = []
        if size < 3:
            extra = list(self._level_pool[level])
            for r in reversed(self.rungs_first_bracket):
                if size + len(extra) >= 3:
                    break
                if r.level != level:
                    extra += self._level_pool[r.level]
            if size + len(extra) < 3:
                return None
        parents = []
        for position in self.rng.choice(size + len(extra), 3, replace=False):
            position = int(position)
            parent: int | None
            if position >= size:
                parent = extra[position - size]
            elif slot.rung_index == 0:
                parent = self.manager.trial_id_from_parent_slot(b, level, position)
            else:
                parent = self.manager.top_of_previous_rung(b, position)
            parents.append(parent if parent is not None else self._random_trial())
        return parents

    def _realise(self, encoded: np.ndarray) -> tuple[np.ndarray, Config]:
        """Decode; on a table, a non-row becomes the nearest row (whose encoding is kept)."""
        config = self.space.decode(encoded)
        if self.space.table is None or self.space.has_row(config):  # decoded: names and values are legal
            return encoded, config
        _, row = self.space.derived("encoded_table_tree", self._build_table_tree).query(encoded)
        config = self.space.config_at(int(row))
        return self.space.encode(config), config

    def _build_table_tree(self) -> Any:
        """A k-d tree over the table's encoding, built once per space (shared by a process's runs)."""
        from scipy.spatial import cKDTree

        return cKDTree(self.space.encode_table())

    def _start(self, trial_id: int, slot: Slot, encoded: np.ndarray, config: Config, target: int | None) -> TrialSuggestion:
        self.trials[trial_id] = _Trial(np.asarray(encoded, dtype=np.float64), config)
        if not self._unseen.is_seen(config):
            self._unseen.mark_seen(config)
        self._pending[trial_id] = _Job(slot, target)
        return TrialSuggestion.start(config, slot.level)

    # ------------------------------------------------------------- results
    def _record(self, trial_id: int, job: _Job, loss: float) -> None:
        level = job.slot.level
        self.trials[trial_id].losses[level] = loss
        self._level_pool[level].append(trial_id)
        winner = trial_id
        if job.target is not None:
            target_loss = self.trials[job.target].losses.get(level)
            if target_loss is None:
                self.num_selection_skipped += 1
            elif not offspring_wins(loss, target_loss):
                winner = job.target
        self.manager.on_result(job.slot, winner, self.trials[winner].losses[level])

    def _on_exhausted(self) -> None:
        """No new configuration is left: shrink every rung that would need one."""
        self.exhausted = True
        for bracket_id in self.manager.active_ids():
            if bracket_id > 0 or self.manager.brackets[bracket_id].current_rung == 0:
                self.manager.truncate(bracket_id)
