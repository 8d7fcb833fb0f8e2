"""The model's training data: the data cap (reference cap_size_tuning_job_state) and normalisation."""
from __future__ import annotations

import numpy as np
import pytest

from mfbench.searchers.gp.state import SearchState
from mfbench.searchers.gp.training_data import TrainingDataBuilder, cap_observations


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


def test_builder_caps_and_normalises() -> None:
    state = SearchState()
    for trial in range(4):
        state.observe(trial, np.array([trial / 4]), 1, float(trial))
    state.observe(0, np.array([0.0]), 3, 10.0)
    data = TrainingDataBuilder(None, True, np.random.default_rng(0)).build(state)
    losses = np.array([0.0, 10.0, 1.0, 2.0, 3.0])
    assert data.observations == state.observations() and data.pairs()[:2] == [(0, 1), (0, 3)]
    assert data.mean == pytest.approx(losses.mean()) and data.std == pytest.approx(losses.std())
    np.testing.assert_allclose(data.targets().numpy(), (losses - losses.mean()) / losses.std())
    assert data.level_counts() == {1: 4, 3: 1}
    raw = TrainingDataBuilder(3, False, np.random.default_rng(0)).build(state)
    assert (raw.mean, raw.std) == (0.0, 1.0) and len(raw.observations) == 3
    assert (0, 3, 10.0) in raw.observations  # the trial that went furthest is kept
    np.testing.assert_array_equal(raw.targets().numpy(), [loss for _, _, loss in raw.observations])


def test_constant_losses_do_not_divide_by_zero() -> None:
    state = SearchState()
    for trial in range(3):
        state.observe(trial, np.zeros(1), 1, 0.5)
    data = TrainingDataBuilder(None, True, np.random.default_rng(0)).build(state)
    assert data.std > 0 and np.all(data.targets().numpy() == 0.0)


def test_cap_must_leave_two_observations() -> None:
    with pytest.raises(ValueError, match="searcher.max_size_data_for_model must be >= 2 or null"):
        TrainingDataBuilder(1, True, np.random.default_rng(0))
