"""What a GP searcher knows: observed losses per (trial, level), pending evaluations, failures.

Pure numpy bookkeeping, no torch. The model data is built from this state: every
observation is one extended input ``[x, r]`` (encoded configuration, fidelity level) with
its loss; pending evaluations become fantasies. :func:`cap_observations` implements the
reference's data cap (``max_size_data_for_model``, ``SubsampleMultiFidelityStateConverter``).
"""
from __future__ import annotations

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
    """

    encoded: dict[int, np.ndarray] = field(default_factory=dict)
    observed: dict[int, dict[int, float]] = field(default_factory=dict)
    pending: dict[int, int] = field(default_factory=dict)
    failed: set[int] = field(default_factory=set)
    version: int = 0

    def observe(self, trial_id: int, encoded: np.ndarray, level: int, loss: float) -> None:
        """Record ``loss`` at ``level``; a non-finite loss marks the trial failed."""
        self.encoded[trial_id] = encoded
        if self.pending.get(trial_id) == level:
            del self.pending[trial_id]
        if not np.isfinite(loss):
            self.failed.add(trial_id)
            return
        self.observed.setdefault(trial_id, {})[int(level)] = float(loss)
        self.version += 1

    def add_pending(self, trial_id: int, encoded: np.ndarray, level: int) -> None:
        self.encoded[trial_id] = encoded
        if int(level) not in self.observed.get(trial_id, {}):
            self.pending[trial_id] = int(level)

    def remove_pending(self, trial_id: int) -> None:
        self.pending.pop(trial_id, None)

    @property
    def num_observations(self) -> int:
        return sum(len(levels) for levels in self.observed.values())

    def observations(self) -> list[tuple[int, int, float]]:
        """All ``(trial_id, level, loss)``, sorted by trial then level (a fixed order)."""
        return [(t, r, y) for t in sorted(self.observed) for r, y in sorted(self.observed[t].items())]

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
    of the trials that reached that level is kept while it fits; the group that does not
    fit is subsampled from its lowest level up (dropping whole lower levels while they
    alone exceed the gap). Returns ``data`` itself if it is small enough; the result is
    sorted by trial then level.
    """
    if len(data) <= max_size:
        return data
    remaining = list(data)
    kept: list[tuple[int, int, float]] = []
    levels = sorted({r for _, r, _ in remaining})
    for level in reversed(levels):
        trials = {t for t, r, _ in remaining if r == level}
        group = [x for x in remaining if x[0] in trials]
        remaining = [x for x in remaining if x[0] not in trials]
        gap = max_size - len(kept)
        if len(group) > gap:
            for low in (r for r in levels if r <= level):
                if low < level:
                    sample = [x for x in group if x[1] == low]
                    group = [x for x in group if x[1] > low]
                else:
                    sample, group = group, []
                size = gap - len(group)
                if size > 0:
                    chosen = rng.choice(len(sample), size=size, replace=False)
                    group.extend(sample[i] for i in sorted(chosen.tolist()))
                    break
        kept.extend(group)
        if len(kept) >= max_size:
            break
    return sorted(kept)
