"""Uniform random search over the configuration space (without duplicates)."""
from __future__ import annotations

from mfbench.searchers.base import Searcher
from mfbench.space import Config


class RandomSearcher(Searcher):
    """Draws configurations uniformly among those not proposed yet."""

    def _propose(self) -> Config | None:
        return self.sample_unseen()
