"""What a GP searcher knows: observed losses per (trial, level), pending evaluations, failures.

Pure numpy bookkeeping, no torch. The model data is built from this state: every
observation is one extended input ``[x, r]`` (encoded configuration, fidelity level) with
its loss; pending evaluations become fantasies. :func:`cap_observations` implements the
reference's data cap (``max_size_data_for_model``, ``SubsampleMultiFidelityStateConverter``).
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field

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


def cap_observations(
    data: list[tuple[int, int, float]], max_size: int, rng: np.random.Generator
) -> list[tuple[int, int, float]]:
    """At most ``max_size`` observations, keeping the trials that went furthest.

    Reference ``cap_size_tuning_job_state``: going down from the highest level, all data
    of the trials whose highest level it is is kept while it fits; the group that does
    not fit is subsampled from its lowest level up (dropping whole lower levels while
    they alone exceed the gap). ``data`` must be sorted by trial then level; it is
    returned itself if it is small enough, else the kept observations in that order.
    """
    if len(data) <= max_size:
        return data
    trials = np.fromiter((t for t, _, _ in data), dtype=np.int64, count=len(data))
    levels = np.fromiter((r for _, r, _ in data), dtype=np.int64, count=len(data))
    # the highest level of each observation's trial (data is sorted by trial, then level)
    last = np.r_[trials[1:] != trials[:-1], True]
    starts = np.r_[0, np.flatnonzero(last)[:-1] + 1]
    top = np.repeat(levels[last], np.diff(np.r_[starts, len(data)]))
    keep = np.zeros(len(data), dtype=bool)
    kept = 0
    distinct = np.unique(levels)
    for level in distinct[::-1]:
        group = top == level
        gap = max_size - kept
        if int(group.sum()) > gap:
            for low in distinct[distinct <= level]:
                if low < level:
                    sample = np.flatnonzero(group & (levels == low))
                    group = group & (levels > low)
                else:
                    sample, group = np.flatnonzero(group), np.zeros_like(group)
                size = gap - int(group.sum())
                if size > 0:
                    chosen = rng.choice(len(sample), size=size, replace=False)
                    group[sample[chosen]] = True
                    break
        keep |= group
        kept += int(group.sum())
        if kept >= max_size:
            break
    return [data[i] for i in np.flatnonzero(keep)]
