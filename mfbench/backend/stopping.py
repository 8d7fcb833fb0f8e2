"""When a run ends: simulated budget, number of results, trials started or completed."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from mfbench.errors import ConfigError


@dataclass(frozen=True)
class StoppingCriterion:
    """Limits of one run; the run ends at the first one reached.

    Args:
        max_wallclock_time: simulated seconds. ``None`` = the benchmark's budget;
            ``.inf`` = no time limit. Results stamped after it are not counted.
        max_num_evaluations: number of reported results (every fidelity counts).
        max_num_trials_started: no new work is scheduled once this many trials have
            started; the run ends when the running trials have ended.
        max_num_trials_completed: trials that reached the maximum fidelity.
    """

    max_wallclock_time: float | None = None
    max_num_evaluations: int | None = None
    max_num_trials_started: int | None = None
    max_num_trials_completed: int | None = None

    def __post_init__(self) -> None:
        for name in ("max_num_evaluations", "max_num_trials_started", "max_num_trials_completed"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"stopping.{name} must be >= 1 or null, got {value}")
        if self.max_wallclock_time is not None and not self.max_wallclock_time > 0:
            raise ValueError(f"stopping.max_wallclock_time must be > 0 seconds (or null), got {self.max_wallclock_time}")

    def resolved(self, default_wallclock_time: float) -> "StoppingCriterion":
        """This criterion with the benchmark's budget filled in where none was given."""
        criterion = self
        if self.max_wallclock_time is None:
            criterion = replace(self, max_wallclock_time=float(default_wallclock_time))
        if (
            math.isinf(criterion.max_wallclock_time or math.inf)
            and criterion.max_num_evaluations is None
            and criterion.max_num_trials_started is None
            and criterion.max_num_trials_completed is None
        ):
            raise ConfigError(
                "stopping: without a wall-clock budget (max_wallclock_time=inf) the run needs another limit; set "
                "stopping.max_num_evaluations, max_num_trials_started or max_num_trials_completed"
            )
        return criterion

    @property
    def budget(self) -> float:
        return math.inf if self.max_wallclock_time is None else float(self.max_wallclock_time)
