"""A benchmark: a blackbox plus what to optimise and the default experiment size."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import numpy as np

from mfbench.blackbox.base import Blackbox


@dataclass
class Benchmark:
    """What a run simulates.

    Args:
        blackbox: the blackbox (or a zero-argument factory returning it, so data is
            opened only when a run needs it).
        metric: objective to optimise.
        mode: ``"min"`` or ``"max"``.
        fidelity_attr: name of the fidelity (e.g. ``"epoch"``), used in results.
        elapsed_time_attr: objective holding the training time in simulated seconds at each
            fidelity; this is what the simulator charges. Cumulative (from the start of
            training) unless the blackbox declares ``fidelity_is_cumulative = False``; then
            the time of that fidelity's evaluation from scratch (docs/simulator.md#non-cumulative).
        n_workers: default number of parallel workers.
        max_wallclock_time: default simulated budget in seconds.
        max_fidelity: the largest fidelity a trial runs to (default: the blackbox's last).
        description: a sentence saying what this benchmark is (goes into the metadata).
    """

    blackbox: Blackbox | Callable[[], Blackbox]
    metric: str
    mode: Literal["min", "max"] = "min"
    fidelity_attr: str = "epoch"
    elapsed_time_attr: str = "elapsed_time"
    n_workers: int = 4
    max_wallclock_time: float = 3600.0
    max_fidelity: int | None = None
    description: str = ""
    _opened: Blackbox | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.mode not in ("min", "max"):
            raise ValueError(f"benchmark.mode must be 'min' or 'max', got {self.mode!r}")
        if self.n_workers < 1:
            raise ValueError(f"benchmark.n_workers must be >= 1, got {self.n_workers}")
        if not self.max_wallclock_time > 0:
            raise ValueError(f"benchmark.max_wallclock_time must be > 0 seconds, got {self.max_wallclock_time}")

    def open(self) -> Blackbox:
        """The blackbox, opened once; checks that metric and elapsed time exist."""
        if self._opened is None:
            blackbox = self.blackbox if isinstance(self.blackbox, Blackbox) else self.blackbox()
            blackbox.objective_index(self.metric)
            blackbox.objective_index(self.elapsed_time_attr)
            if self.max_fidelity is not None and self.max_fidelity not in set(blackbox.fidelity_values.tolist()):
                raise ValueError(
                    f"benchmark.max_fidelity={self.max_fidelity} is not a fidelity of the blackbox "
                    f"({blackbox.fidelity_values[0]}..{blackbox.fidelity_values[-1]})"
                )
            self._opened = blackbox
        return self._opened

    @property
    def fidelities(self) -> np.ndarray:
        """Fidelity values a trial can reach, sorted, up to :attr:`max_fidelity`."""
        values = self.open().fidelity_values
        return values if self.max_fidelity is None else values[values <= self.max_fidelity]
