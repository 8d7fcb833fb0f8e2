"""FidelityLevels: integer levels 1..K for the values of a continuous fidelity."""
from __future__ import annotations

import numpy as np
import pytest

from mfbench.blackbox.fidelity import FidelityLevels
from mfbench.errors import ConfigError


def test_geometric_and_linear_levels():
    geometric = FidelityLevels.geometric(0.0625, 1.0, 5)
    assert geometric.values == (0.0625, 0.125, 0.25, 0.5, 1.0)  # exact where the powers are
    ratios = np.diff(np.log(FidelityLevels.geometric(0.03, 1.0, 6).values))
    np.testing.assert_allclose(ratios, ratios[0])
    # Syne Tune's YAHPO trainsize 0.05 k -> level k
    linear = FidelityLevels.linear(0.05, 1.0, 20)
    assert linear.values[:3] == (0.05, 0.1, 0.15) and linear.values[17] == 0.9 and linear.values[-1] == 1.0
    assert FidelityLevels.linear(0.1, 1.0, 10).values[8] == 0.9  # decimals, not 0.8999999999999999
    assert FidelityLevels.geometric(0.2, 1.0, 1).values == (1.0,)
    assert FidelityLevels.linear(0.5, 0.5, 1).values == (0.5,)


def test_levels_and_values():
    levels = FidelityLevels((0.1, 0.3, 1.0))
    assert len(levels) == 3
    assert levels.levels().dtype == np.int64 and levels.levels().tolist() == [1, 2, 3]
    assert levels.value(1) == 0.1 and levels.value(np.int64(3)) == 1.0
    np.testing.assert_array_equal(levels.values_at(np.array([3, 1])), [1.0, 0.1])
    for bad in (0, 4, 1.5, True):
        with pytest.raises(ValueError, match="1..3"):
            levels.value(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="1..3"):
        levels.values_at(np.array([1, 4]))
    assert levels == FidelityLevels([0.1, 0.3, 1])  # type: ignore[arg-type]  # normalised to a tuple of floats
    assert isinstance(levels.values, tuple) and hash(levels) == hash(FidelityLevels((0.1, 0.3, 1.0)))


def test_parse_forms():
    assert FidelityLevels.parse([0.05, 0.1, 1]).values == (0.05, 0.1, 1.0)
    assert FidelityLevels.parse({"kind": "geometric", "low": 0.25, "high": 1, "num": 3}).values == (0.25, 0.5, 1.0)
    assert FidelityLevels.parse({"kind": "linear", "low": 0.5, "high": 1.0, "num": 2}).values == (0.5, 1.0)
    levels = FidelityLevels((0.5, 1.0))
    assert FidelityLevels.parse(levels) is levels


def test_parse_accepts_omegaconf_containers():
    from omegaconf import OmegaConf

    assert FidelityLevels.parse(OmegaConf.create([0.5, 1.0])).values == (0.5, 1.0)
    spec = OmegaConf.create({"kind": "geometric", "low": 0.25, "high": 1.0, "num": 3})
    assert FidelityLevels.parse(spec).values == (0.25, 0.5, 1.0)


@pytest.mark.parametrize("spec, message", [
    ([0.2, 0.1], "strictly increasing, but 0.1 follows 0.2.*sort them"),
    ([0.1, 0.1], "strictly increasing"),
    ([0.0, 1.0], "must be > 0"),
    ([-1.0, 1.0], "must be > 0"),
    ([0.1, float("nan")], "finite number"),
    ([0.1, "a"], "finite number"),
    ([], "empty"),
    ("0.1,1", "write a list of increasing positive numbers"),
    (0.5, "write a list"),
    ({"kind": "log", "low": 0.1, "high": 1, "num": 3}, "kind must be 'geometric' or 'linear'"),
    ({"kind": "linear", "low": 0.1}, "no high, num"),
    ({"kind": "linear", "low": 0.1, "high": 1, "num": 3, "base": 2}, r"unknown keys \['base'\]"),
    ({"kind": "geometric", "low": 0.0, "high": 1, "num": 3}, "low must be > 0"),
    ({"kind": "geometric", "low": 1.0, "high": 0.1, "num": 3}, "low must be below high.*swap"),
    ({"kind": "linear", "low": 0.5, "high": 0.5, "num": 2}, "low must be below high"),
    ({"kind": "linear", "low": 0.1, "high": 1, "num": 0}, "num .* integer >= 1"),
    ({"kind": "linear", "low": 0.1, "high": 1, "num": 2.5}, "num .* integer >= 1"),
])
def test_parse_errors_name_the_fix(spec, message):
    with pytest.raises(ConfigError, match=message) as error:
        FidelityLevels.parse(spec, name="benchmark.fidelity_levels")
    assert str(error.value).startswith("benchmark.fidelity_levels")


def test_bounds():
    assert FidelityLevels.parse([0.03, 1.0], bounds=(0.03, 1.0)).values == (0.03, 1.0)  # inclusive
    with pytest.raises(ConfigError, match=r"values \[0.01\] lie outside the fidelity's range \[0.03, 1.0\]"):
        FidelityLevels.parse([0.01, 0.5], bounds=(0.03, 1.0))
    with pytest.raises(ConfigError, match="outside"):
        FidelityLevels.parse({"kind": "linear", "low": 0.5, "high": 2.0, "num": 4}, bounds=(0.03, 1.0))


def test_direct_construction_is_validated():
    with pytest.raises(ConfigError, match="strictly increasing"):
        FidelityLevels((1.0, 0.5))
    with pytest.raises(ConfigError, match="at least one"):
        FidelityLevels(())
