"""Searcher state bookkeeping and the data cap (reference cap_size_tuning_job_state)."""
from __future__ import annotations

import numpy as np

from mfbench.searchers.gp.state import SearchState, cap_observations


def test_observe_pending_failed() -> None:
    state = SearchState()
    x = np.array([0.1, 0.2])
    state.add_pending(0, x, 1)
    assert state.pending == {0: 1}
    state.observe(0, x, 1, 0.5)
    assert state.pending == {} and state.observed == {0: {1: 0.5}} and state.version == 1
    state.add_pending(0, x, 1)  # already observed there: not pending
    assert state.pending == {}
    state.add_pending(1, x, 1)
    state.observe(1, x, 1, float("inf"))
    assert 1 in state.failed and 1 not in state.observed and state.version == 1
    state.add_pending(2, x, 3)
    state.remove_pending(2)
    assert state.pending == {}
    assert state.level_counts() == {1: 1} and state.num_observations == 1


def test_cap_keeps_trials_that_went_furthest() -> None:
    # trial 0 reached level 9, trials 1-2 level 3, trials 3-9 only level 1
    data = [(0, 1, 0.1), (0, 3, 0.2), (0, 9, 0.3), (1, 1, 0.4), (1, 3, 0.5), (2, 1, 0.6), (2, 3, 0.7)]
    data += [(t, 1, 1.0 + t) for t in range(3, 10)]
    assert cap_observations(data, 20, np.random.default_rng(0)) is data
    capped = cap_observations(sorted(data), 9, np.random.default_rng(0))
    assert len(capped) == 9
    # all 7 observations of trials 0-2 kept, then 2 of the 7 level-1-only trials
    assert [x for x in capped if x[0] <= 2] == sorted(data)[:7]
    assert sum(1 for x in capped if x[0] >= 3) == 2


def test_cap_subsamples_lowest_level_of_a_group_first() -> None:
    # 4 trials reached level 3 (8 observations); the cap 6 keeps their level-3 data and 2 of the level-1 ones
    data = sorted([(t, 1, float(t)) for t in range(4)] + [(t, 3, float(t)) for t in range(4)])
    capped = cap_observations(data, 6, np.random.default_rng(1))
    assert len(capped) == 6
    assert sorted(x for x in capped if x[1] == 3) == [(t, 3, float(t)) for t in range(4)]


def _cap_by_lists(data, max_size, rng):
    """The reference algorithm written with plain lists (as Syne Tune's cap_size_tuning_job_state)."""
    if len(data) <= max_size:
        return data
    remaining, kept = list(data), []
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
                    group.extend(sample[i] for i in chosen)
                    break
        kept.extend(group)
        if len(kept) >= max_size:
            break
    return sorted(kept)


def test_cap_equals_the_list_algorithm_on_random_data() -> None:
    rng = np.random.default_rng(0)
    for case in range(20):
        data = []
        for trial in range(int(rng.integers(5, 60))):
            top = int(rng.integers(0, 4))
            data += [(trial, level, float(rng.random())) for level in [1, 3, 9, 27][: top + 1]]
        max_size = int(rng.integers(3, len(data) + 3))
        ours = cap_observations(data, max_size, np.random.default_rng(case))
        assert ours == _cap_by_lists(data, max_size, np.random.default_rng(case))
        assert len(ours) == min(len(data), max_size)


def test_observations_stay_sorted() -> None:
    state = SearchState()
    x = np.zeros(1)
    for trial, level in [(3, 1), (1, 1), (3, 3), (2, 1), (1, 3), (1, 9)]:
        state.observe(trial, x, level, float(trial + level))
    assert state.observations() == sorted(state.observations())
    state.observe(1, x, 3, 0.5)  # a new value replaces the old one
    assert (1, 3, 0.5) in state.observations() and state.num_observations == 6
