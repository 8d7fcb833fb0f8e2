"""Surrogate blackboxes: a model queried per configuration and fidelity (continuous spaces).

A surrogate blackbox has no table: its config space may hold floats and integers of any
value, and each lookup asks a model (e.g. an ONNX network, see
:mod:`mfbench.blackbox.sources.yahpo_lcbench`) for every objective at the requested
fidelities. A deterministic model has one seed; a noisy one may expose several.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from mfbench.blackbox.base import Blackbox
from mfbench.space import ConfigSpace

#: ``predict(configs, fidelities, seed) -> (n, O)``: row ``i`` for ``configs[i]`` at ``fidelities[i]``
Predictor = Callable[[Sequence[Mapping[str, Any]], np.ndarray, int], np.ndarray]


class SurrogateBlackbox(Blackbox):
    """A blackbox whose values come from a model.

    Args:
        config_space: the (usually continuous) configuration space.
        fidelity_values: sorted fidelity values, shape ``(F,)``.
        objective_names: names of the ``O`` objectives the model predicts, in its output order.
        predict: the model (see :data:`Predictor`).
        num_seeds: 1 for a deterministic model.
        description: what this surrogate is (goes into every run's metadata).
        fidelity_is_cumulative: True when one training run passes every fidelity (epochs) and
            the elapsed-time objective is cumulative; False when each fidelity is an evaluation
            from scratch whose elapsed time is its own (YAHPO's ``trainsize``, ``repl``), see
            :attr:`Blackbox.fidelity_is_cumulative`.
    """

    def __init__(
        self,
        config_space: ConfigSpace,
        fidelity_values: Sequence[int] | np.ndarray,
        objective_names: Sequence[str],
        predict: Predictor,
        num_seeds: int = 1,
        description: Mapping[str, Any] | None = None,
        fidelity_is_cumulative: bool = True,
    ) -> None:
        self.config_space = config_space
        self.fidelity_values = np.asarray(fidelity_values)
        if np.any(np.diff(self.fidelity_values) <= 0):
            raise ValueError("fidelity values must be strictly increasing")
        self.objective_names = list(objective_names)
        self.num_seeds = int(num_seeds)
        self._predict = predict
        self._description = dict(description or {})
        self.fidelity_is_cumulative = bool(fidelity_is_cumulative)

    def evaluate(self, config: Mapping[str, Any], seed: int, fidelities: np.ndarray) -> np.ndarray:
        fidelities = np.asarray(fidelities)
        self.fidelity_positions(fidelities)  # refuses values that are not fidelities
        if not 0 <= seed < self.num_seeds:
            raise ValueError(f"seed {seed} is out of range: this surrogate has {self.num_seeds} seed(s)")
        if not self.config_space.contains(config):
            raise ValueError(f"{dict(config)} is not a configuration of this surrogate's space {self.config_space.names}")
        values = np.asarray(self._predict([config] * len(fidelities), fidelities, seed), dtype=np.float64)
        expected = (len(fidelities), len(self.objective_names))
        if values.shape != expected:
            raise ValueError(f"the surrogate model returned shape {values.shape}, expected {expected}")
        return values

    def evaluate_many(self, configs: Sequence[Mapping[str, Any]], seed: int, fidelities: np.ndarray) -> np.ndarray:
        """All objectives of every config at every fidelity, shape ``(len(configs), F, O)``, one model call."""
        fidelities = np.asarray(fidelities)
        self.fidelity_positions(fidelities)
        repeated = [c for c in configs for _ in range(len(fidelities))]
        values = self._predict(repeated, np.tile(fidelities, len(configs)), seed)
        return np.asarray(values, dtype=np.float64).reshape(len(configs), len(fidelities), len(self.objective_names))

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "surrogate",
            "num_seeds": self.num_seeds,
            "num_fidelities": len(self.fidelity_values),
            "objectives": self.objective_names,
            **self._description,
            "fidelity_is_cumulative": self.fidelity_is_cumulative,
        }
