"""mfbench/blackbox/base.py: reading a contiguous run of fidelities by position (evaluate_run)."""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pytest

from mfbench.blackbox.base import Blackbox, TabularBlackbox
from mfbench.space import Categorical, ConfigSpace


def _table(evaluations: np.ndarray) -> TabularBlackbox:
    names = [f"c{i}" for i in range(evaluations.shape[0])]
    space = ConfigSpace((Categorical("x", tuple(names)),), table=[(name,) for name in names])
    return TabularBlackbox(space, np.arange(1, evaluations.shape[2] + 1) * 2, ["loss", "elapsed_time"], evaluations)


def _cells(tmp_path=None, dtype=np.float32) -> np.ndarray:
    values = np.random.default_rng(0).random((3, 2, 6, 2)).astype(dtype)  # (configs, seeds, fidelities, objectives)
    if tmp_path is None:
        return values
    path = tmp_path / "cells.npy"
    np.save(path, values)
    return np.load(path, mmap_mode="r")  # a read-only np.memmap, as the opened tables are


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mapped", [False, True], ids=["in_memory", "memmap"])
def test_evaluate_run_is_evaluate_at_the_runs_fidelities(tmp_path, mapped, dtype):
    blackbox = _table(_cells(tmp_path if mapped else None, dtype))
    assert isinstance(blackbox.evaluations, np.memmap) is mapped
    for config in blackbox.config_space.enumerate():
        for seed in range(2):
            for start in range(6):
                for stop in range(start + 1, 7):
                    by_position = blackbox.evaluate_run(config, seed, start, stop)
                    by_value = blackbox.evaluate(config, seed, blackbox.fidelity_values[start:stop])
                    assert by_position.dtype == np.float64 and type(by_position) is np.ndarray
                    assert by_position.shape == (stop - start, 2)
                    assert np.array_equal(by_position, by_value)


def test_a_subclass_that_changes_evaluate_is_asked_through_it():
    class Shifted(TabularBlackbox):
        def evaluate(self, config: Mapping[str, Any], seed: int, fidelities: np.ndarray) -> np.ndarray:
            return super().evaluate(config, seed, fidelities) + 1.0

    plain = _table(_cells())
    shifted = Shifted(plain.config_space, plain.fidelity_values, plain.objective_names, plain.evaluations)
    config = plain.config_space.config_at(1)
    assert np.array_equal(shifted.evaluate_run(config, 0, 2, 5), plain.evaluate_run(config, 0, 2, 5) + 1.0)


def test_an_evaluate_changed_on_the_instance_or_through_the_lookup_is_asked_too():
    class Reversed(TabularBlackbox):  # looks every fidelity up in the reversed table
        def fidelity_positions(self, fidelities):
            return len(self.fidelity_values) - 1 - np.searchsorted(self.fidelity_values, fidelities)

    plain = _table(_cells())
    config = plain.config_space.config_at(2)
    reversed_ = Reversed(plain.config_space, plain.fidelity_values, plain.objective_names, plain.evaluations)
    assert np.array_equal(reversed_.evaluate_run(config, 1, 0, 2), plain.evaluate_run(config, 1, 4, 6)[::-1])
    spied = _table(_cells())
    spied.evaluate = lambda config, seed, fidelities: np.zeros((len(fidelities), 2))
    assert not spied.evaluate_run(config, 0, 1, 4).any()


def test_the_default_evaluate_run_asks_evaluate_for_the_values():
    asked = []

    class Function(Blackbox):
        config_space = ConfigSpace((Categorical("x", ("a",)),))
        fidelity_values = np.array([1, 3, 9, 27])
        objective_names = ["loss", "elapsed_time"]
        num_seeds = 1

        def evaluate(self, config: Mapping[str, Any], seed: int, fidelities: np.ndarray) -> np.ndarray:
            asked.append(np.asarray(fidelities).tolist())
            return np.stack([1.0 / fidelities, fidelities * 2.0], axis=-1)

    out = Function().evaluate_run({"x": "a"}, 0, 1, 3)
    assert asked == [[3, 9]]
    assert np.array_equal(out, [[1 / 3, 6.0], [1 / 9, 18.0]])
