"""Fidelity levels: integer levels ``1..K`` standing for increasing continuous fidelity values.

A blackbox's fidelities are integers >= 1 (the schedulers' rungs, the simulator's steps and
the results all count in them). A fidelity that is a continuous quantity, such as YAHPO's
``trainsize`` (the fraction of the training set, 0.03..1), is discretised into ``K`` levels:
level ``k`` stands for the value :meth:`FidelityLevels.value` ``(k)``. Which values, and how
many, is an explicit choice of the benchmark (e.g. Syne Tune's 20 levels ``0.05 * k``), so
it is a parameter, not a hidden constant.

This is the minimal form of the module (the names and meanings every user codes against);
the simulator's treatment of non-cumulative fidelities lives elsewhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np


@dataclass(frozen=True)
class FidelityLevels:
    """``K`` strictly increasing positive fidelity values, addressed by the levels ``1..K``.

    Args:
        values: the value of each level, strictly increasing and > 0.
    """

    values: tuple[float, ...]

    def __post_init__(self) -> None:
        values = tuple(float(v) for v in self.values)
        object.__setattr__(self, "values", values)
        if not values:
            raise ValueError("fidelity levels: give at least one value")
        if not all(np.isfinite(values)) or values[0] <= 0:
            raise ValueError(f"fidelity levels must be finite and > 0, got {list(values)}")
        if any(b <= a for a, b in zip(values, values[1:])):
            raise ValueError(f"fidelity levels must be strictly increasing, got {list(values)}")

    @classmethod
    def linear(cls, low: float, high: float, num: int) -> FidelityLevels:
        """``num`` evenly spaced values from ``low`` to ``high`` (both included)."""
        return cls(tuple(np.linspace(float(low), float(high), int(num)).tolist()))

    @classmethod
    def geometric(cls, low: float, high: float, num: int) -> FidelityLevels:
        """``num`` values from ``low`` to ``high`` (both included) with a constant ratio."""
        return cls(tuple(np.geomspace(float(low), float(high), int(num)).tolist()))

    @classmethod
    def parse(cls, spec: FidelityLevels | Sequence[float] | Mapping[str, Any]) -> FidelityLevels:
        """Levels from a config value.

        Args:
            spec: a list of values (``[0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0]``), or a mapping
                ``{kind: linear | geometric, low, high, num}``, or levels already.

        Raises:
            ValueError: any other form (the message shows the accepted ones).
        """
        if isinstance(spec, FidelityLevels):
            return spec
        if isinstance(spec, Mapping):
            kind = spec.get("kind")
            unknown = set(spec) - {"kind", "low", "high", "num"}
            if kind not in ("linear", "geometric") or unknown or not {"low", "high", "num"} <= set(spec):
                raise ValueError(f"fidelity levels {dict(spec)}: write {{kind: linear|geometric, low: L, high: H, "
                                 f"num: K}} or a list of increasing values")
            return getattr(cls, kind)(spec["low"], spec["high"], spec["num"])
        if isinstance(spec, (str, bytes)) or not isinstance(spec, Sequence):
            raise ValueError(f"fidelity levels {spec!r}: write a list of increasing values or "
                             f"{{kind: linear|geometric, low: L, high: H, num: K}}")
        return cls(tuple(float(v) for v in spec))

    def value(self, level: int | np.ndarray) -> float | np.ndarray:
        """The fidelity value of ``level`` (1-based; an array of levels gives an array).

        Raises:
            ValueError: a level outside ``1..K``.
        """
        levels = np.asarray(level)
        if levels.size and (np.any(levels < 1) or np.any(levels > len(self)) or np.any(levels != np.round(levels))):
            raise ValueError(f"fidelity level(s) {levels.tolist()} outside 1..{len(self)}")
        table = np.asarray(self.values)
        values = table[levels.astype(int) - 1]
        return float(values) if values.ndim == 0 else values

    def levels(self) -> np.ndarray:
        """The levels ``1..K`` (int64), what the blackbox exposes as its fidelity values."""
        return np.arange(1, len(self) + 1)

    def __len__(self) -> int:
        return len(self.values)
