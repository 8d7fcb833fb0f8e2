"""Searcher state bookkeeping: observations, pending evaluations, failures, model inputs."""
from __future__ import annotations

import numpy as np

from mfbench.searchers.gp.state import SearchState


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


def test_observations_stay_sorted() -> None:
    state = SearchState()
    x = np.zeros(1)
    for trial, level in [(3, 1), (1, 1), (3, 3), (2, 1), (1, 3), (1, 9)]:
        state.observe(trial, x, level, float(trial + level))
    assert state.observations() == sorted(state.observations())
    state.observe(1, x, 3, 0.5)  # a new value replaces the old one
    assert (1, 3, 0.5) in state.observations() and state.num_observations == 6


def test_levels_and_model_inputs() -> None:
    state = SearchState()
    state.observe(0, np.array([0.1, 0.2]), 1, 0.5)
    state.observe(0, np.array([0.1, 0.2]), 3, 0.4)
    state.add_pending(1, np.array([0.3, 0.4]), 9)
    state.observe(2, np.array([0.5, 0.6]), 27, float("inf"))  # failed: no level of its own
    assert state.levels() == {1, 3, 9}
    np.testing.assert_array_equal(state.extended_inputs([(0, 3), (1, 9)], 2), [[0.1, 0.2, 3.0], [0.3, 0.4, 9.0]])
    assert state.extended_inputs([], 2).shape == (0, 3)
    np.testing.assert_array_equal(state.encoded_configs([1, 0], 2), [[0.3, 0.4], [0.1, 0.2]])
    assert state.encoded_configs([], 2).shape == (0, 2)
