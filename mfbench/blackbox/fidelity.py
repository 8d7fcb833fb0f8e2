"""Integer fidelity levels standing for the values of a continuous fidelity.

Schedulers and the simulator work with integer fidelities (rung levels ``r_min * eta^k``,
milestones, "every fidelity above the checkpoint"), but some fidelities are continuous: YAHPO
Gym's ``trainsize`` is a fraction of the training set in ``[0.03, 1]``. :class:`FidelityLevels`
makes the discretisation explicit: level ``k`` (``1..K``) stands for ``values[k - 1]``. A
blackbox reports levels to the scheduler and asks its model at the values.

Which levels to use is a benchmark design choice with a cost: with a non-cumulative fidelity
every level a trial passes is a separate evaluation, charged in full (docs/simulator.md), so
few, geometrically spaced levels waste the least.

Config form (:meth:`FidelityLevels.parse`): a list of numbers (``[0.05, 0.1, 0.2, 0.4, 1.0]``)
or ``{kind: geometric | linear, low: ..., high: ..., num: ...}``.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from mfbench.errors import ConfigError

_KINDS = ("geometric", "linear")
_KEYS = ("kind", "low", "high", "num")


def _number(value: Any, what: str, name: str) -> float:
    """``value`` as a finite float (a bool is not a number here), else a ConfigError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise ConfigError(f"{name}: {what} must be a finite number, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class FidelityLevels:
    """Integer levels 1..K standing for increasing values of a continuous fidelity (e.g. trainsize fractions).

    Attributes:
        values: the fidelity values, strictly increasing and positive, shape ``(K,)``;
            level ``k`` stands for ``values[k - 1]`` (units: those of the fidelity, e.g. a
            fraction of the training set).
    """

    values: tuple[float, ...]

    def __post_init__(self) -> None:
        values = tuple(_number(v, "every fidelity value", "fidelity levels") for v in self.values)
        _check_values(values, "fidelity levels")
        object.__setattr__(self, "values", values)  # frozen: normalised once, here

    # ------------------------------------------------------------- constructors
    @classmethod
    def geometric(cls, low: float, high: float, num: int) -> "FidelityLevels":
        """``num`` values from ``low`` to ``high`` (both included) with a constant ratio.

        Equal ratios make the cost of consecutive levels grow geometrically, so the levels a
        trial passes below its milestone cost at most ``ratio / (ratio - 1)`` times the
        milestone alone (twice for a ratio of 2). ``num = 1`` gives ``(high,)``.
        """
        return cls._generate("geometric", low, high, num, "fidelity levels (geometric)")

    @classmethod
    def linear(cls, low: float, high: float, num: int) -> "FidelityLevels":
        """``num`` equally spaced values from ``low`` to ``high`` (both included); ``num = 1`` gives ``(high,)``.

        With ``low = high / num`` level ``k`` stands for ``k / num`` of ``high``: the level is
        proportional to the fidelity, as epochs are (Syne Tune maps YAHPO's trainsize
        ``0.05 k`` to level ``k`` this way).
        """
        return cls._generate("linear", low, high, num, "fidelity levels (linear)")

    @classmethod
    def _generate(cls, kind: str, low: Any, high: Any, num: Any, name: str) -> "FidelityLevels":
        """``num`` values from ``low`` to ``high`` (both exactly), geometric or linear; errors name ``name``."""
        low, high, num = _range(low, high, num, name)
        if num == 1:
            return cls((high,))
        steps = np.arange(num) / (num - 1)  # 0 .. 1
        # low * ratio^step rather than np.geomspace (exp of logs): exact where the powers are,
        # e.g. 1/16 .. 1 in 5 levels gives 1/8, 1/4, 1/2 exactly
        values = low * (high / low) ** steps if kind == "geometric" else low + (high - low) * steps
        # 12 significant digits: the intended decimals (0.9, not 0.8999999999999999 from 0.1 + 0.9 * 8/9),
        # 1e-12 relative from the exact values; the ends exactly as given
        rounded = [float(f"{v:.12g}") for v in values[1:-1]]
        return cls((low, *rounded, high))

    @classmethod
    def parse(cls, spec: Any, *, bounds: tuple[float, float] | None = None,
              name: str = "fidelity levels") -> "FidelityLevels":
        """Levels from a config value: a list of numbers, or ``{kind, low, high, num}``.

        Args:
            spec: ``[v1, v2, ...]`` (strictly increasing, positive), or a mapping with
                ``kind`` (``"geometric"`` or ``"linear"``), ``low``, ``high`` and ``num``;
                a :class:`FidelityLevels` is returned as it is (then checked against ``bounds``).
            bounds: ``(low, high)``, inclusive: the values the fidelity can take (e.g. YAHPO's
                trainsize domain); every value must lie within them.
            name: what the spec configures (e.g. ``"benchmark.fidelity_levels"``), for errors.

        Raises:
            ConfigError: the spec has the wrong form, or its values are not increasing,
                positive or within ``bounds``; the message says what to write instead.
        """
        form = ("a list of increasing positive numbers, e.g. [0.05, 0.1, 0.2, 0.4, 1.0], or "
                "{kind: geometric, low: 0.05, high: 1.0, num: 5} (kind: geometric or linear)")
        if isinstance(spec, FidelityLevels):
            levels = spec
        elif isinstance(spec, Mapping):
            unknown = sorted(set(map(str, spec)) - set(_KEYS))
            missing = [k for k in _KEYS if k not in spec]
            if unknown or missing:
                raise ConfigError(f"{name}: {dict(spec)} has {'unknown keys ' + str(unknown) if unknown else ''}"
                                  f"{' and ' if unknown and missing else ''}"
                                  f"{'no ' + ', '.join(missing) if missing else ''}; write {form}")
            kind = spec["kind"]
            if kind not in _KINDS:
                raise ConfigError(f"{name}: kind must be 'geometric' or 'linear', got {kind!r}")
            levels = cls._generate(kind, spec["low"], spec["high"], spec["num"], f"{name} ({kind})")
        elif isinstance(spec, Iterable) and not isinstance(spec, (str, bytes)):
            values = list(spec)
            if not values:
                raise ConfigError(f"{name}: the list of fidelity values is empty; write {form}")
            checked = tuple(_number(v, "every fidelity value", name) for v in values)
            _check_values(checked, name)
            levels = cls(checked)
        else:
            raise ConfigError(f"{name}: got {spec!r}; write {form}")
        if bounds is not None:
            low, high = bounds
            outside = [v for v in levels.values if not low <= v <= high]
            if outside:
                raise ConfigError(f"{name}: values {outside} lie outside the fidelity's range [{low}, {high}]; "
                                  f"choose values within it")
        return levels

    # ---------------------------------------------------------------- queries
    def value(self, level: int) -> float:
        """The fidelity value level ``level`` (``1..K``) stands for."""
        if isinstance(level, bool) or not isinstance(level, numbers.Integral) or not 1 <= level <= len(self.values):
            raise ValueError(f"fidelity level {level!r} is not one of the levels 1..{len(self.values)}")
        return self.values[int(level) - 1]

    def values_at(self, levels: np.ndarray) -> np.ndarray:
        """The values of many levels at once: float64 array of the shape of ``levels``."""
        levels = np.asarray(levels)
        if levels.size and (levels.min() < 1 or levels.max() > len(self.values)
                            or not np.array_equal(levels, np.round(levels))):
            raise ValueError(f"fidelity levels must be integers in 1..{len(self.values)}, got {levels.tolist()}")
        return np.asarray(self.values, dtype=np.float64)[levels.astype(np.int64) - 1]

    def levels(self) -> np.ndarray:
        """The levels ``1..K``, int64 array of shape ``(K,)`` (a blackbox's ``fidelity_values``)."""
        return np.arange(1, len(self.values) + 1, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.values)


def _range(low: Any, high: Any, num: Any, name: str) -> tuple[float, float, int]:
    """Checked ``(low, high, num)`` of a generated range: ``0 < low <= high``, ``num >= 1``."""
    low, high = _number(low, "low", name), _number(high, "high", name)
    if isinstance(num, bool) or not isinstance(num, numbers.Integral) or num < 1:
        raise ConfigError(f"{name}: num (how many levels) must be an integer >= 1, got {num!r}")
    if not 0 < low:
        raise ConfigError(f"{name}: low must be > 0 (fidelity values are positive), got {low}")
    if not low < high and not (num == 1 and low <= high):
        raise ConfigError(f"{name}: low must be below high, got low={low}, high={high}; swap them or widen the range")
    return low, high, int(num)


def _check_values(values: tuple[float, ...], name: str) -> None:
    """Non-empty, positive and strictly increasing, else a ConfigError saying which value breaks it."""
    if not values:
        raise ConfigError(f"{name}: at least one fidelity value is needed")
    if values[0] <= 0:
        raise ConfigError(f"{name}: fidelity values must be > 0, got {values[0]}; drop it or use a positive value")
    for i in range(1, len(values)):
        if not values[i] > values[i - 1]:
            raise ConfigError(f"{name}: fidelity values must be strictly increasing, but {values[i]} follows "
                              f"{values[i - 1]} (values {list(values)}); sort them and drop duplicates")


def describe_values(values: Iterable[Any], most: int = 12) -> str:
    """Fidelity values for a message: ``1..200`` when they are consecutive integers, else the
    first ``most`` of them listed (``1, 2, 4, 8, 16``)."""
    listed = np.asarray(list(values)).tolist()
    if len(listed) > 1 and all(b - a == 1 for a, b in zip(listed, listed[1:])):
        return f"{listed[0]}..{listed[-1]}"
    return ", ".join(str(v) for v in listed[:most]) + (", ..." if len(listed) > most else "")
