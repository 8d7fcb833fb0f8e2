"""Rung bookkeeping shared by the asynchronous successive-halving family."""
from __future__ import annotations

import bisect
import heapq
from dataclasses import dataclass, field

from mfbench.schedulers.hyperband_math import linear_quantile


@dataclass
class Rung:
    """The results recorded at one rung level.

    ``losses`` holds every recorded loss, sorted (quantiles include promoted entries);
    ``candidates`` is a heap of ``(loss, trial_id)`` not yet promoted.
    """

    level: int
    quantile: float
    losses: list[float] = field(default_factory=list)
    candidates: list[tuple[float, int]] = field(default_factory=list)
    trial_ids: set[int] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.losses)

    def add(self, trial_id: int, loss: float) -> None:
        bisect.insort(self.losses, loss)
        heapq.heappush(self.candidates, (loss, trial_id))
        self.trial_ids.add(trial_id)

    def cutoff(self) -> float | None:
        """The promotion / continuation threshold, None with fewer than 2 entries."""
        if len(self.losses) < 2:
            return None
        return linear_quantile(self.losses, self.quantile)

    def pop_promotable(self) -> int | None:
        """The best not-yet-promoted trial if it is within the cutoff (it is marked promoted)."""
        cutoff = self.cutoff()
        if cutoff is None or not self.candidates or not self.candidates[0][0] <= cutoff:
            return None
        return heapq.heappop(self.candidates)[1]
