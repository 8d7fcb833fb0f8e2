"""Hyper-Tune's state between proposals: defaults before any data, updates only on a new (L, |D|)."""
from __future__ import annotations

import numpy as np
import pytest

from mfbench.searchers.gp.hypertune_state import HyperTuneState


def test_before_any_update() -> None:
    state = HyperTuneState(10)
    default = np.array([0.6, 0.3, 0.1])
    assert state.bracket_distribution(default) is default
    assert state.level_weights([3, 1, 9]) == {1: 1.0}  # the smallest known level
    assert state.describe() == {"hypertune_ensemble": {}, "hypertune_bracket_head": None}


def test_learnt_state_is_used() -> None:
    state = HyperTuneState(10)
    state.ensemble, state.bracket_head = {1: 0.25, 3: 0.75}, np.array([0.5, 0.5])
    assert state.level_weights([1, 3, 9]) == {1: 0.25, 3: 0.75}
    np.testing.assert_allclose(state.bracket_distribution(np.array([0.6, 0.3, 0.1])), [0.45, 0.45, 0.1])
    assert state.describe() == {"hypertune_ensemble": {"1": 0.25, "3": 0.75}, "hypertune_bracket_head": [0.5, 0.5]}


def test_no_update_below_two_supported_levels() -> None:
    """With fewer than 6 observations above the first level nothing is sampled (model unused)."""
    state = HyperTuneState(10)
    data = [(t, 1, float(t)) for t in range(10)] + [(t, 3, float(t)) for t in range(5)]
    rng = np.random.default_rng(0)
    state.update(None, None, data, None, {}, [1, 3, 9], 3, rng)  # type: ignore[arg-type]
    assert state.ensemble is None and state.bracket_head is None
    assert rng.random() == np.random.default_rng(0).random()  # no draw was made


def test_invalid_num_samples() -> None:
    with pytest.raises(ValueError, match="searcher.hypertune_distribution_num_samples must be >= 1"):
        HyperTuneState(0)
