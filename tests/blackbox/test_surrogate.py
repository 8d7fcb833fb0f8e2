"""The surrogate blackbox on a hand-made model."""
from __future__ import annotations

import numpy as np
import pytest

from mfbench.blackbox.surrogate import SurrogateBlackbox
from mfbench.space import ConfigSpace, Float


def _model(configs, fidelities, seed):
    # loss = (x - 0.3)^2 + 1 / epoch + seed; time = 2 * epoch
    x = np.array([c["x"] for c in configs])
    return np.stack([(x - 0.3) ** 2 + 1.0 / fidelities + seed, 2.0 * fidelities], axis=1)


def _blackbox(num_seeds: int = 1) -> SurrogateBlackbox:
    return SurrogateBlackbox(ConfigSpace((Float("x", 0.0, 1.0),)), [1, 2, 4], ["loss", "time"], _model, num_seeds)


def test_evaluate_asks_the_model_per_fidelity():
    values = _blackbox().evaluate({"x": 0.5}, 0, np.array([1, 4]))
    np.testing.assert_allclose(values, [[0.04 + 1.0, 2.0], [0.04 + 0.25, 8.0]])


def test_evaluate_many_and_seeds():
    values = _blackbox(num_seeds=2).evaluate_many([{"x": 0.3}, {"x": 1.0}], 1, np.array([1, 2, 4]))
    assert values.shape == (2, 3, 2)
    np.testing.assert_allclose(values[0, :, 0], [2.0, 1.5, 1.25])


def test_bad_lookups_are_refused():
    bb = _blackbox()
    with pytest.raises(ValueError, match="not among"):
        bb.evaluate({"x": 0.5}, 0, np.array([3]))
    with pytest.raises(ValueError, match="seed 1"):
        bb.evaluate({"x": 0.5}, 1, np.array([1]))
    with pytest.raises(ValueError, match="not a configuration"):
        bb.evaluate({"x": 2.0}, 0, np.array([1]))
    assert bb.describe()["kind"] == "surrogate"
