"""What every third-party adapter shares: optional imports and keeping proposals legal.

The mapping, for every library:

* a free worker -> the library is *asked* for a configuration; trials still running are
  pending in the library (they were asked and not told yet), so asynchronous parallel
  workers see each other's work the way the library's own parallel mode does;
* a result -> the library is *told* it (an intermediate value per fidelity, the final value
  at the maximum fidelity); its decision maps onto ours: go on -> ``CONTINUE``, prune ->
  ``STOP``; the maximum fidelity always ends in ``STOP``;
* a proposal the run may not evaluate (off the benchmark's table, or already evaluated:
  our methods never evaluate a configuration twice) is replaced by the *nearest unseen
  configuration* in our encoding (:meth:`ProposalFilter.legalise`); an adapter then tells
  the library the replacement rather than its own proposal, so that the library's model
  learns from what was actually evaluated.
"""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, Mapping

import numpy as np

from mfbench.errors import ConfigError
from mfbench.problem import Problem
from mfbench.searchers.random import RandomSearcher
from mfbench.space import Config, ConfigSpace

#: an unseen grid (all-categorical space without a table) is enumerated for the nearest
#: configuration only up to this size; beyond it a uniform unseen configuration is taken
_MAX_ENUMERATED = 100_000


def require(module: str, extra: str, method: str) -> ModuleType:
    """Import an optional library, or fail at once with the pip command that installs it.

    Raised when the method is built, i.e. before the first simulated second, so a sweep
    fails fast instead of after its other runs.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ConfigError(
            f"method {method} needs the optional library {module!r}, which is not installed ({error}); "
            f"install it with: pip install 'mfbench[{extra}]'"
        ) from None


def clip_to_bounds(space: ConfigSpace, config: Mapping[str, Any]) -> Config:
    """``config`` with every integer / float value clipped into its hyperparameter's bounds
    (a library's rounding, or a table's value a rounding error outside the declared bounds);
    categoricals as they are. Our key order."""
    clipped: Config = {}
    for hp in space.hyperparameters:
        value = config[hp.name]
        if hasattr(hp, "lower"):
            value = min(max(value, hp.lower), hp.upper)  # type: ignore[union-attr]
        clipped[hp.name] = value
    return clipped


class ProposalFilter:
    """Keeps an external optimizer's proposals in the (tabulated) space and unique.

    Args:
        problem: the run's problem; its space may be restricted to a table.

    Dedupe and the uniform fallback reuse our :class:`RandomSearcher`'s bookkeeping, so an
    external method excludes configurations exactly like our own searchers do.
    """

    def __init__(self, problem: Problem) -> None:
        self.space = problem.config_space
        # points_to_evaluate=[]: the library chooses the first configuration, not our midpoint
        self._seen = RandomSearcher(problem=problem, points_to_evaluate=[])
        # our own mask of evaluated table rows, for the nearest-unseen-row search
        self._seen_rows = np.zeros(len(self.space.table), dtype=bool) if self.space.table is not None else None

    @property
    def exhausted(self) -> bool:
        """True when a finite space has no unseen configuration left."""
        return self._seen.exhausted

    def is_legal(self, config: Config) -> bool:
        """In the space (the table, if any) and not evaluated before."""
        return self.space.contains(config) and not self._seen.is_seen(config)

    def legalise(self, config: Config) -> Config | None:
        """``config`` itself if legal, else the nearest unseen one (None when none is left).

        On a table the nearest row is found by the squared distance in our encoding (the
        one all our searchers share); on an enumerable grid likewise; on a continuous space
        (where only an exact repeat is illegal) a uniform unseen configuration is drawn.
        """
        if self.is_legal(config):
            return config
        if self.exhausted:
            return None
        target = self._encode_partial(config)
        if self._seen_rows is not None:
            encoded = self.space.encode_table()
            unseen = np.flatnonzero(~self._seen_rows)
            distances = ((encoded[unseen] - target) ** 2).sum(axis=1)
            return self.space.config_at(int(unseen[int(np.argmin(distances))]))
        if self.space.is_finite and self.space.size <= _MAX_ENUMERATED:
            candidates = [c for c in self.space.enumerate() if not self._seen.is_seen(c)]
            distances = ((self.space.encode_many(candidates) - target) ** 2).sum(axis=1)
            return candidates[int(np.argmin(distances))]
        return self._seen.sample_unseen()

    def mark(self, config: Config) -> None:
        """Record ``config`` as evaluated (it must be legal)."""
        self._seen.mark_seen(config)
        if self._seen_rows is not None:
            self._seen_rows[self.space.index_of(config)] = True

    def _encode_partial(self, config: Config) -> np.ndarray:
        # a proposal may hold values our encoding cannot place (e.g. outside the bounds
        # after a library's rounding): clip numerics into the domain first
        return self.space.encode(clip_to_bounds(self.space, config))
