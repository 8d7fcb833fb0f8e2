"""What a run's scheduler and searcher know about the problem, and its named random streams.

Schedulers and searchers both serve one :class:`Problem`; it sits below both so that neither
imports the other for it.
"""
from __future__ import annotations

import functools
import math
import zlib
from dataclasses import dataclass
from typing import Literal

import numpy as np

from mfbench.space import ConfigSpace


@dataclass
class Problem:
    """What a scheduler (and its searcher) knows about the run.

    Args:
        config_space: the search space (restricted to the table on tabulated benchmarks).
        fidelities: sorted fidelity values a trial can report, shape ``(F,)``.
        metric: name of the optimised objective.
        mode: ``"min"`` or ``"max"``.
        n_workers: number of parallel workers.
        seed: the run's master seed; every component draws from :meth:`rng`.
    """

    config_space: ConfigSpace
    fidelities: np.ndarray
    metric: str
    mode: Literal["min", "max"]
    n_workers: int
    seed: int

    @functools.cached_property
    def max_fidelity(self) -> int:
        return int(self.fidelities[-1])

    @functools.cached_property
    def min_fidelity(self) -> int:
        return int(self.fidelities[0])

    def rng(self, stream: str) -> np.random.Generator:
        """An independent random stream for component ``stream``, fixed by the seed.

        Streams are keyed by name, so adding a component never shifts another's draws.
        """
        return np.random.default_rng(np.random.SeedSequence([self.seed, zlib.crc32(stream.encode())]))

    def to_loss(self, value: float) -> float:
        """The metric as a loss to minimise (NaN, a failed evaluation, is the worst)."""
        if value != value:  # NaN
            return math.inf
        return float(value) if self.mode == "min" else -float(value)
