"""Synchronous Hyperband and synchronous successive halving (SYNCHB, SYNCSH, BOHB, SyncMOBSTER).

Behaviour as docs/methods/synchronous.md (Syne Tune 0.13.0
``SynchronousGeometricHyperbandScheduler``): geometric brackets cycled by id, the
primary / secondary job assignment of :class:`BracketManager` (a free worker is never
left idle), every trial paused at the level of its slot and, once its rung is complete,
the best ones resumed from their checkpoint into the next rung. New configurations
(only for slots of a bracket's lowest rung) come from the searcher, which is told
``register_pending`` at the slot's level and ``observe`` only with results at slot
levels. A result whose metric is NaN (a failed evaluation) fills its slot with loss
``+inf`` and is ranked last.

**Finite spaces.** When the searcher has no new configuration left (it returns None),
no new bracket is opened and every active bracket whose current rung still needs new
configurations is *shrunk* to the trials it already has (later rungs shrink in
proportion, see :meth:`Bracket.truncate_current_rung`). Brackets already running go
on: their rungs complete and their best trials are still promoted. A free worker with
nothing to do meanwhile waits (:meth:`TrialSuggestion.wait`); once no bracket has a job
running or to hand out, :meth:`suggest` returns None and the run ends. (The reference
instead marks the slot as failed and never schedules again, so its running brackets
never finish.)
"""
from __future__ import annotations

import math
from typing import Any, Callable

from mfbench.schedulers.base import Decision, Scheduler, TrialStatus, TrialSuggestion
from mfbench.schedulers.hyperband_math import check_levels_are_fidelities
from mfbench.problem import Problem
from mfbench.schedulers.synchronous.brackets import BracketManager, Slot, geometric_bracket_rungs
from mfbench.searchers.base import Searcher
from mfbench.searchers.random import RandomSearcher
from mfbench.space import Config


class SynchronousHyperband(Scheduler):
    """Synchronous Hyperband (``brackets=None``) or successive halving (``brackets=1``).

    Args:
        problem: the run's problem.
        brackets: number of bracket offsets cycled through (None: the maximum).
        grace_period: lowest rung level ``r_min``.
        reduction_factor: ``eta``.
        searcher: factory ``problem -> Searcher`` for new configurations (default random;
            BOHB passes the KDE searcher, SyncMOBSTER a GP searcher).
    """

    def __init__(
        self,
        problem: Problem,
        brackets: int | None = None,
        grace_period: int = 1,
        reduction_factor: float = 3,
        searcher: Callable[..., Searcher] | None = None,
    ) -> None:
        super().__init__(problem)
        self.bracket_rungs = geometric_bracket_rungs(grace_period, problem.max_fidelity, reduction_factor, brackets)
        check_levels_are_fidelities({r.level for rungs in self.bracket_rungs for r in rungs}, problem.fidelities,
                                    grace_period, reduction_factor)
        self.manager = BracketManager(self.bracket_rungs, promote=True)
        self.searcher = (searcher or RandomSearcher)(problem=problem)
        self.configs: dict[int, Config] = {}
        self._pending: dict[int, Slot] = {}  # trial id -> the slot it is running for
        self.exhausted = False

    # ------------------------------------------------------------------ API
    def suggest(self, trial_id: int) -> TrialSuggestion | None:
        while True:
            slot = self.manager.next_job(allow_new_bracket=not self.exhausted)
            if slot is None:
                return TrialSuggestion.wait() if self.manager.num_pending > 0 else None
            if slot.trial_id is not None:  # promotion: resume from the checkpoint
                self._pending[slot.trial_id] = slot
                return TrialSuggestion.resume(slot.trial_id, slot.level)
            config = self.searcher.suggest()
            if config is None:
                self.manager.unassign(slot)
                self._on_exhausted()
                continue
            slot.trial_id = trial_id
            self.configs[trial_id] = config
            self._pending[trial_id] = slot
            self.searcher.register_pending(trial_id, config, slot.level)
            return TrialSuggestion.start(config, slot.level)

    def on_result(self, trial_id: int, fidelity: int, metric: float) -> Decision:
        slot = self._pending.get(trial_id)
        if slot is None:
            return Decision.STOP
        if fidelity < slot.level:
            return Decision.CONTINUE
        loss = self.problem.to_loss(metric)
        del self._pending[trial_id]
        self.searcher.observe(trial_id, self.configs[trial_id], fidelity, loss)
        self.manager.on_result(slot, trial_id, loss)
        return Decision.STOP if fidelity >= self.problem.max_fidelity else Decision.PAUSE

    def on_trial_end(self, trial_id: int, status: TrialStatus) -> None:
        if status is not TrialStatus.COMPLETED:
            self.searcher.remove_pending(trial_id)
        slot = self._pending.pop(trial_id, None)
        if slot is not None:  # ended before reaching its slot's level: counts as failed
            self.manager.on_result(slot, trial_id, math.inf)

    def describe(self) -> dict[str, Any]:
        return {
            "scheduler": "synchronous_hyperband",
            "bracket_rungs": [[[r.level, r.size] for r in rungs] for rungs in self.bracket_rungs],
            **self.searcher.describe(),
        }

    # -------------------------------------------------------------- helpers
    def _on_exhausted(self) -> None:
        """No new configuration is left: shrink every rung that would need one."""
        self.exhausted = True
        for bracket_id in self.manager.active_ids():
            if self.manager.brackets[bracket_id].current_rung == 0:
                self.manager.truncate(bracket_id)
