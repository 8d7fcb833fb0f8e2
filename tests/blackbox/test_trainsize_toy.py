"""The toy training-set-fraction blackbox (non-cumulative fidelity)."""
from __future__ import annotations

import numpy as np
import pytest

from mfbench.blackbox.trainsize_toy import trainsize_toy_blackbox
from mfbench.errors import ConfigError


def test_levels_stand_for_fractions_and_time_is_per_evaluation():
    bb = trainsize_toy_blackbox(levels={"kind": "geometric", "low": 0.25, "high": 1.0, "num": 3}, dim=2,
                                penalty=0.1, full_seconds=40.0)
    assert bb.fidelity_values.tolist() == [1, 2, 3] and not bb.fidelity_is_cumulative
    values = bb.evaluate({"x0": 0.3, "x1": 0.5}, 0, np.array([1, 2, 3]))  # fractions 1/4, 1/2, 1
    np.testing.assert_allclose(values[:, 0], 0.04 + 0.1 / np.array([0.25, 0.5, 1.0]))
    np.testing.assert_allclose(values[:, 1], [10.0, 20.0, 40.0])  # each fraction from scratch, not a total
    described = bb.describe()
    assert described["fidelity_values"] == [0.25, 0.5, 1.0] and described["fidelity_is_cumulative"] is False
    assert trainsize_toy_blackbox(fidelity_is_cumulative=True).fidelity_is_cumulative


def test_fractions_must_lie_in_the_unit_interval():
    with pytest.raises(ConfigError, match=r"benchmark.blackbox.levels: values \[2.0\] lie outside"):
        trainsize_toy_blackbox(levels=[0.5, 2.0])
