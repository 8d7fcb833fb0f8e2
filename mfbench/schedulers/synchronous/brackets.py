"""Brackets of synchronous Hyperband: the geometric bracket table and job assignment.

A *bracket* is a list of rungs ``(level, size)`` with increasing levels and decreasing
sizes; every rung has ``size`` *slots*. Only the lowest unfinished rung of a bracket
(its *current* rung) hands out slots. A slot is *free*, *pending* (handed out, no
result yet) or *occupied* (it holds a trial id and its loss). A rung is complete when
all its slots are occupied; in synchronous Hyperband the best ``size`` trials of the
completed rung are then written into the slots of the next rung (they will be resumed).

The :class:`BracketManager` implements the job assignment of docs/methods/synchronous.md
(Syne Tune 0.13.0 ``SynchronousHyperbandBracketManager``): brackets get consecutive
ids, bracket ``id`` uses the rungs of offset ``id % num_brackets``; a job goes to the
*primary* bracket (lowest active id) if its current rung has a free slot, else to the
next active bracket that has one, else to a newly created bracket. So a free worker is
never left idle while configurations can still be drawn.

Losses are metrics to minimise (``Problem.to_loss``); a failed trial has loss ``+inf``
and is ranked after every finite loss.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class RungSpec:
    """A rung of a bracket: ``size`` slots at resource ``level``."""

    level: int
    size: int


@dataclass
class Slot:
    """A slot handed out for a job: bracket, rung, level, position, and the trial.

    ``trial_id`` is None for a slot that needs a new configuration (the scheduler sets
    it when it starts one), and the id of the trial to resume for a promotion slot.
    """

    bracket_id: int
    rung_index: int
    level: int
    slot_index: int
    trial_id: int | None


def geometric_bracket_rungs(
    grace_period: int, max_t: int, reduction_factor: float, num_brackets: int | None = None
) -> list[list[RungSpec]]:
    """The bracket table of synchronous Hyperband (Syne Tune ``geometric``).

    ``s_max`` is the smallest ``s`` with ``r_min * eta^s >= max_t``. Bracket ``b`` has
    ``s_max - b`` rungs below ``max_t`` at levels ``round(r_min * eta^(k + b))`` with
    sizes ``ceil(pre * eta^(s_max - b - k))``, ``pre = (s_max + 1) / (s_max - b + 1)``,
    plus a final rung of ``ceil(pre)`` slots at ``max_t``. For ``(1, 200, 3)`` bracket 0
    is ``1:243, 3:81, 9:27, 27:9, 81:3, 200:1`` (level:size).

    Args:
        grace_period: lowest level ``r_min`` (>= 1, < ``max_t``).
        max_t: highest level (the maximum fidelity).
        reduction_factor: ``eta`` (>= 2).
        num_brackets: number of brackets (None: the maximum ``s_max + 1``; 1 gives
            synchronous successive halving); larger values are capped at ``s_max + 1``.

    Returns:
        one list of rungs per bracket, lowest level first.
    """
    if not (isinstance(grace_period, int) or float(grace_period).is_integer()) or grace_period < 1:
        raise ValueError(f"grace_period must be a positive integer, got {grace_period}")
    if grace_period >= max_t:
        raise ValueError(f"grace_period ({grace_period}) must be smaller than the maximum fidelity ({max_t})")
    if reduction_factor < 2:
        raise ValueError(f"reduction_factor must be >= 2 for synchronous Hyperband, got {reduction_factor}")
    if num_brackets is not None and num_brackets < 1:
        raise ValueError(f"brackets must be >= 1 (or null for the maximum), got {num_brackets}")
    s_max = 0
    while grace_period * reduction_factor**s_max < max_t:
        s_max += 1
    num_brackets = s_max + 1 if num_brackets is None else min(int(num_brackets), s_max + 1)
    table = []
    for bracket in range(num_brackets):
        num_lower = s_max - bracket
        pre = (s_max + 1) / (num_lower + 1)
        rungs = [
            RungSpec(
                level=int(round(grace_period * reduction_factor ** (k + bracket))),
                size=int(math.ceil(pre * reduction_factor ** (num_lower - k))),
            )
            for k in range(num_lower)
        ]
        rungs.append(RungSpec(level=int(max_t), size=int(math.ceil(pre))))
        table.append(rungs)
    return table


def top_list(entries: Sequence[tuple[int, float]], n: int) -> list[int]:
    """Ids of the ``n`` best ``(trial_id, loss)`` entries, best first.

    Sorting is stable, so ties (and failed trials, loss ``+inf``) keep slot order.
    """
    return [trial_id for trial_id, _ in sorted(entries, key=lambda entry: entry[1])[:n]]


class Bracket:
    """One bracket: its rungs, their slots, and which rung is current.

    Args:
        rungs: the bracket's rungs, lowest level first.
        promote: write the top trials of a completed rung into the next rung's slots
            (synchronous Hyperband); False leaves them empty (DEHB fills them itself).
    """

    def __init__(self, rungs: Sequence[RungSpec], promote: bool = True) -> None:
        levels = [r.level for r in rungs]
        sizes = [r.size for r in rungs]
        if not rungs or any(b <= a for a, b in zip(levels, levels[1:])) or any(s < 1 for s in sizes):
            raise ValueError(f"a bracket needs increasing levels and positive sizes, got {list(rungs)}")
        self.levels = levels
        self.sizes = sizes
        self.promote = promote
        self.trial_ids: list[list[int | None]] = [[None] * size for size in sizes]
        self.losses: list[list[float | None]] = [[None] * size for size in sizes]
        self.current_rung = 0
        self._next_free = 0  # slots [0, _next_free) of the current rung are handed out
        self._pending = 0  # handed out without a result yet

    @property
    def num_rungs(self) -> int:
        return len(self.levels)

    @property
    def is_complete(self) -> bool:
        return self.current_rung >= self.num_rungs

    @property
    def num_pending(self) -> int:
        """Slots of the current rung handed out and waiting for their result."""
        return 0 if self.is_complete else self._pending

    @property
    def has_free_slot(self) -> bool:
        return not self.is_complete and self._next_free < self.sizes[self.current_rung]

    def next_free_slot(self, bracket_id: int) -> Slot | None:
        """Hand out the next free slot of the current rung (None if there is none)."""
        if not self.has_free_slot:
            return None
        k, i = self.current_rung, self._next_free
        self._next_free += 1
        self._pending += 1
        return Slot(bracket_id, k, self.levels[k], i, self.trial_ids[k][i])

    def unassign(self, slot: Slot) -> None:
        """Give back the slot handed out last (its job could not be started)."""
        if slot.rung_index != self.current_rung or slot.slot_index != self._next_free - 1:
            raise ValueError(f"only the slot handed out last can be given back, not {slot}")
        self._next_free -= 1
        self._pending -= 1

    def on_result(self, slot: Slot, trial_id: int, loss: float) -> bool:
        """Occupy a pending slot with ``(trial_id, loss)``; True if the rung completed.

        On completion the bracket moves to its next rung (promoting, if enabled).
        """
        k, i = slot.rung_index, slot.slot_index
        if k != self.current_rung or not 0 <= i < self._next_free or self.losses[k][i] is not None:
            raise ValueError(f"slot {slot} is not pending in this bracket")
        self.trial_ids[k][i] = trial_id
        self.losses[k][i] = float(loss)
        self._pending -= 1
        return self._advance_if_complete()

    def truncate_current_rung(self) -> bool:
        """Drop the free slots of the current rung (no configuration can fill them).

        The rung keeps the ``m`` slots handed out so far; later rungs shrink in
        proportion, ``size_j <- min(size_j, max(1, ceil(size_j * m / size)))``, and
        never exceed the rung below. With ``m = 0`` the bracket ends. Returns True
        if the current rung completed (or the bracket ended) by this.
        """
        if self.is_complete:
            return False
        k, m = self.current_rung, self._next_free
        if m == self.sizes[k]:
            return False
        if m == 0:
            self.current_rung = self.num_rungs
            return True
        nominal = self.sizes[k]
        self.sizes[k] = m
        self.trial_ids[k] = self.trial_ids[k][:m]
        self.losses[k] = self.losses[k][:m]
        for j in range(k + 1, self.num_rungs):
            size = min(self.sizes[j], self.sizes[j - 1], max(1, math.ceil(self.sizes[j] * m / nominal)))
            self.sizes[j] = size
            self.trial_ids[j] = self.trial_ids[j][:size]
            self.losses[j] = self.losses[j][:size]
        return self._advance_if_complete()

    def rung_entries(self, rung_index: int) -> list[tuple[int, float]]:
        """The occupied slots ``(trial_id, loss)`` of a rung, in slot order."""
        return [
            (t, loss)
            for t, loss in zip(self.trial_ids[rung_index], self.losses[rung_index])
            if t is not None and loss is not None
        ]

    def _advance_if_complete(self) -> bool:
        k = self.current_rung
        if self._next_free < self.sizes[k] or self._pending > 0:
            return False
        self.current_rung += 1
        self._next_free = 0
        self._pending = 0
        if self.promote and not self.is_complete:
            size = self.sizes[k + 1]
            top = top_list(self.rung_entries(k), size)
            self.sizes[k + 1] = len(top)
            self.trial_ids[k + 1] = list(top)
            self.losses[k + 1] = [None] * len(top)
            if not top:  # nothing to promote (cannot happen with a non-empty rung)
                self.current_rung = self.num_rungs
        return True


class BracketManager:
    """All brackets of a run and the primary / secondary job assignment.

    Args:
        bracket_rungs: rungs of the bracket offsets, e.g. :func:`geometric_bracket_rungs`.
        promote: see :class:`Bracket`.
    """

    def __init__(self, bracket_rungs: Sequence[Sequence[RungSpec]], promote: bool = True) -> None:
        if not bracket_rungs:
            raise ValueError("need at least one bracket")
        self.bracket_rungs = [list(rungs) for rungs in bracket_rungs]
        self.promote = promote
        self.brackets: list[Bracket] = []
        self.offsets: list[int] = []
        self.primary = 0  # lowest id of an active bracket (== len(brackets): none active)
        self._create_bracket()

    @property
    def num_offsets(self) -> int:
        return len(self.bracket_rungs)

    def _create_bracket(self) -> int:
        bracket_id = len(self.brackets)
        offset = bracket_id % self.num_offsets
        self.offsets.append(offset)
        self.brackets.append(Bracket(self.bracket_rungs[offset], promote=self.promote))
        return bracket_id

    def active_ids(self) -> list[int]:
        """Ids of brackets not complete yet, lowest (primary) first."""
        return [b for b in range(self.primary, len(self.brackets)) if not self.brackets[b].is_complete]

    @property
    def num_pending(self) -> int:
        """Jobs handed out and waiting for their result, over all brackets."""
        return sum(self.brackets[b].num_pending for b in self.active_ids())

    def next_job(self, allow_new_bracket: bool = True) -> Slot | None:
        """The slot for the next job (primary bracket first, then later ones, then a new one).

        Returns None only if no active bracket has a free slot and no new bracket may
        be created (``allow_new_bracket=False``, e.g. once the space is exhausted).
        """
        for bracket_id in self.active_ids():
            slot = self.brackets[bracket_id].next_free_slot(bracket_id)
            if slot is not None:
                return slot
        if not allow_new_bracket:
            return None
        bracket_id = self._create_bracket()
        slot = self.brackets[bracket_id].next_free_slot(bracket_id)
        assert slot is not None  # a new bracket always has a free slot
        return slot

    def unassign(self, slot: Slot) -> None:
        """Give back the slot just handed out by :meth:`next_job`."""
        self.brackets[slot.bracket_id].unassign(slot)

    def on_result(self, slot: Slot, trial_id: int, loss: float) -> bool:
        """Record the result of a job; True if it completed its rung."""
        completed = self.brackets[slot.bracket_id].on_result(slot, trial_id, loss)
        self._advance_primary()
        return completed

    def truncate(self, bracket_id: int) -> bool:
        """Drop the free slots of a bracket's current rung (see :meth:`Bracket.truncate_current_rung`)."""
        changed = self.brackets[bracket_id].truncate_current_rung()
        self._advance_primary()
        return changed

    def _advance_primary(self) -> None:
        while self.primary < len(self.brackets) and self.brackets[self.primary].is_complete:
            self.primary += 1
