"""The searcher interface: proposing configurations without duplicates.

The base class owns what every searcher shares (docs/methods/README.md): the initial
configurations (by default the space's midpoint), no duplicate configurations, sampling
without replacement on finite spaces and a clean ``None`` once a finite space is
exhausted. A subclass implements :meth:`_propose` and, if it learns, :meth:`observe`.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Mapping, Sequence

import numpy as np

from mfbench.errors import MethodContractError, describe_class
from mfbench.problem import Problem
from mfbench.space import MAX_ENUMERATED, Config

#: rejection-sampling tries before falling back to enumerating the unseen configurations
_MAX_REJECTIONS = 32


class Searcher(ABC):
    """Proposes configurations for new trials.

    Args:
        problem: the run's problem (space, fidelities, seed).
        points_to_evaluate: configurations to try first. ``None`` means one midpoint
            configuration (the reference default); ``[]`` means none. A partial dict is
            completed with midpoint values.
        allow_duplicates: propose a configuration again (off by default).
    """

    def __init__(
        self,
        problem: Problem,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        allow_duplicates: bool = False,
    ) -> None:
        self.problem = problem
        self.space = problem.config_space
        self.rng = problem.rng(f"searcher.{type(self).__name__}")
        self.allow_duplicates = allow_duplicates
        midpoint = self.space.midpoint()
        initial = [{}] if points_to_evaluate is None else list(points_to_evaluate)
        self._initial: list[Config] = [{**midpoint, **dict(point)} for point in initial]
        for point in self._initial:
            if not self.space.contains(point):
                raise ValueError(f"points_to_evaluate: {point} is not a configuration of the search space")
        self._seen: set[tuple[Any, ...]] = set()
        self._seen_rows: np.ndarray | None = (
            np.zeros(int(self.space.size), dtype=bool) if self.space.table is not None else None
        )

    # ------------------------------------------------------------- public API
    def suggest(self) -> Config | None:
        """A new configuration, or None when a finite space is exhausted."""
        while self._initial:
            config = self._initial.pop(0)
            if self.allow_duplicates or not self.is_seen(config):
                self.mark_seen(config)
                return config
        if self.exhausted:
            return None
        config = self._propose()
        if config is None:
            return None
        try:
            twice = not self.allow_duplicates and self.is_seen(config)
            if not twice:
                self.mark_seen(config)
        except (KeyError, TypeError):  # a missing name, an unhashable value, not a row of the table
            raise MethodContractError(
                f"{describe_class(type(self))}._propose returned {config!r}, which is not a configuration of the "
                f"search space {self.space.names}{' (a row of its table)' if self.space.table is not None else ''}; "
                f"expected a dict of its values, e.g. from self.space.sample(self.rng) (docs/writing-a-method.md)"
            ) from None
        if twice:
            raise RuntimeError(f"{type(self).__name__} proposed a configuration twice: {config}")
        return config

    def observe(self, trial_id: int, config: Config, fidelity: int, loss: float) -> None:
        """A result at a rung level (``loss`` is the metric to minimise; inf = failed)."""

    def register_pending(self, trial_id: int, config: Config, fidelity: int) -> None:
        """Trial ``trial_id`` will report at ``fidelity`` (model-based searchers fantasize)."""

    def remove_pending(self, trial_id: int) -> None:
        """Trial ``trial_id`` will not report its pending fidelity (stopped, paused)."""

    def describe(self) -> dict[str, Any]:
        return {"searcher": type(self).__name__}

    # ------------------------------------------------------ for subclasses
    @abstractmethod
    def _propose(self) -> Config | None:
        """A configuration not yet seen (unless duplicates are allowed)."""

    @property
    def exhausted(self) -> bool:
        return not self.allow_duplicates and len(self._seen) >= self.space.size

    def is_seen(self, config: Config) -> bool:
        return self.space.key(config) in self._seen

    def mark_seen(self, config: Config) -> None:
        self._seen.add(self.space.key(config))
        if self._seen_rows is not None:
            self._seen_rows[self.space.index_of(config)] = True

    def sample_unseen(self) -> Config | None:
        """A configuration drawn uniformly among those not yet seen (None if none is left)."""
        if self.allow_duplicates:
            return self.space.sample(self.rng)
        if self.exhausted:
            return None
        for _ in range(_MAX_REJECTIONS):
            config = self.space.sample(self.rng)
            if not self.is_seen(config):
                return config
        if self._seen_rows is not None:
            unseen = np.flatnonzero(~self._seen_rows)
            return self.space.config_at(int(unseen[self.rng.integers(len(unseen))]))
        if self.space.is_finite and self.space.size <= MAX_ENUMERATED:
            unseen_configs = [c for c in self.space.enumerate() if not self.is_seen(c)]
            return unseen_configs[int(self.rng.integers(len(unseen_configs)))]  # not exhausted: one is left
        raise RuntimeError(f"could not draw a configuration not proposed before in {_MAX_REJECTIONS} tries "
                           f"({len(self._seen):,} proposed, the space {self.space.names} holds {self.space.size:,}; "
                           f"too many to list): the space is nearly used up for this sampler")
