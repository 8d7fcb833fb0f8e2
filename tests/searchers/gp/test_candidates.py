"""Candidate search through the public seen-configurations interface (no searcher internals)."""
from __future__ import annotations

import numpy as np

from mfbench.searchers.gp.candidates import draw_candidates, first_new
from mfbench.space import Config, ConfigSpace, Float


class _Seen:
    """A minimal :class:`~mfbench.searchers.gp.candidates.SeenConfigurations`."""

    def __init__(self, space: ConfigSpace, seen: list[Config]) -> None:
        self.space = space
        self.allow_duplicates = False
        self._keys = {space.key(c) for c in seen}

    def is_seen(self, config: Config) -> bool:
        return self.space.key(config) in self._keys

    def unseen_rows(self) -> np.ndarray | None:
        if self.space.table is None:
            return None
        return np.array([i for i in range(int(self.space.size)) if not self.is_seen(self.space.config_at(i))])


def test_table_candidates_are_unseen_rows() -> None:
    space = ConfigSpace((Float("x", 0, 1),), table=[(v,) for v in np.linspace(0, 1, 6)])
    seen = _Seen(space, [space.config_at(i) for i in (0, 2, 3)])
    candidates, encoded = draw_candidates(seen, 10, np.random.default_rng(0))
    assert sorted(int(r) for r in candidates.rows) == [1, 4, 5]  # all that are left
    np.testing.assert_array_equal(encoded, space.encode_table()[candidates.rows])
    assert not any(seen.is_seen(candidates[i]) for i in range(len(candidates)))


def test_free_space_candidates_are_distinct_and_unseen() -> None:
    space = ConfigSpace((Float("x", 0, 1), Float("y", 0, 1)))
    seen = _Seen(space, [])
    candidates, encoded = draw_candidates(seen, 7, np.random.default_rng(1))
    configs = [candidates[i] for i in range(len(candidates))]
    assert len(configs) == 7 == len({space.key(c) for c in configs}) and encoded.shape == (7, 2)
    again = _Seen(space, configs[:3])
    assert first_new(again, configs) == configs[3]
