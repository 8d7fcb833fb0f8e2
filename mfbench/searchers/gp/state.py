"""What a GP searcher knows: observed losses per (trial, level), pending evaluations, failures.

Pure numpy bookkeeping, no torch. The model data is built from this state: every
observation is one extended input ``[x, r]`` (encoded configuration, fidelity level) with
its loss (:meth:`SearchState.extended_inputs`); pending evaluations become fantasies.
Which observations the model sees, and how they are normalised, is
:mod:`mfbench.searchers.gp.training_data`'s business.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np


@dataclass
class SearchState:
    """Observations and pending evaluations of a GP searcher.

    Attributes:
        encoded: encoded configuration of each trial, ``{trial_id: (d,) array}``.
        observed: ``{trial_id: {level: loss}}`` (finite losses only).
        pending: ``{trial_id: level}``: the level each running trial will report next.
        failed: trials whose evaluation failed (their configurations are never proposed
            again, and they carry no data).
        version: increases with every change of ``observed`` (used to skip refits).
        num_observations: number of ``(trial, level)`` observations.
    """

    encoded: dict[int, np.ndarray] = field(default_factory=dict)
    observed: dict[int, dict[int, float]] = field(default_factory=dict)
    pending: dict[int, int] = field(default_factory=dict)
    failed: set[int] = field(default_factory=set)
    version: int = 0
    num_observations: int = 0
    _sorted: list[tuple[int, int, float]] = field(default_factory=list, repr=False)

    def observe(self, trial_id: int, encoded: np.ndarray, level: int, loss: float) -> None:
        """Record ``loss`` at ``level``; a non-finite loss marks the trial failed."""
        self.encoded[trial_id] = encoded
        if self.pending.get(trial_id) == level:
            del self.pending[trial_id]
        if not np.isfinite(loss):
            self.failed.add(trial_id)
            return
        levels = self.observed.setdefault(trial_id, {})
        entry = (trial_id, int(level), float(loss))
        position = bisect.bisect_left(self._sorted, (trial_id, int(level)))
        if int(level) in levels:  # a new value for a known observation replaces it
            self._sorted[position] = entry
        else:
            self._sorted.insert(position, entry)
            self.num_observations += 1
        levels[int(level)] = float(loss)
        self.version += 1

    def add_pending(self, trial_id: int, encoded: np.ndarray, level: int) -> None:
        self.encoded[trial_id] = encoded
        if int(level) not in self.observed.get(trial_id, {}):
            self.pending[trial_id] = int(level)

    def remove_pending(self, trial_id: int) -> None:
        self.pending.pop(trial_id, None)

    def observations(self) -> list[tuple[int, int, float]]:
        """All ``(trial_id, level, loss)``, sorted by trial then level (a fixed order; a copy)."""
        return list(self._sorted)

    def level_counts(self) -> dict[int, int]:
        """Number of observations per level."""
        counts: dict[int, int] = {}
        for levels in self.observed.values():
            for r in levels:
                counts[r] = counts.get(r, 0) + 1
        return counts

    def pending_list(self) -> list[tuple[int, int]]:
        """All ``(trial_id, level)`` pending, sorted by trial."""
        return sorted(self.pending.items())

    def levels(self) -> set[int]:
        """The levels with an observation or a pending evaluation."""
        return {r for levels in self.observed.values() for r in levels} | set(self.pending.values())

    def encoded_configs(self, trial_ids: Sequence[int], dim: int) -> np.ndarray:
        """Encoded configurations of ``trial_ids``, shape ``(len(trial_ids), dim)``."""
        return np.asarray([self.encoded[t] for t in trial_ids], dtype=np.float64).reshape(len(trial_ids), dim)

    def extended_inputs(self, pairs: Sequence[tuple[int, int]], dim: int) -> np.ndarray:
        """Extended inputs ``[x, r]`` of ``(trial_id, level)`` pairs, shape ``(len(pairs), dim + 1)``."""
        out = np.empty((len(pairs), dim + 1), dtype=np.float64)
        if pairs:
            out[:, :-1] = [self.encoded[t] for t, _ in pairs]
            out[:, -1] = [r for _, r in pairs]
        return out
