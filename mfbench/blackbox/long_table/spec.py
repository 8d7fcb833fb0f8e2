"""What the columns of a long table mean (:class:`LongTableSpec`), what reading it gives
(:class:`LongTable`), and the error a malformed table raises (:class:`TableError`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from mfbench.errors import UserInputError
from mfbench.space import Hyperparameter


class TableError(UserInputError):
    """The table cannot be simulated as it is; the message names the problem and the fix."""


@dataclass
class LongTableSpec:
    """What the columns of a long table mean.

    Args:
        hyperparameters: the hyperparameter columns, in the order of the space.
        fidelity: the fidelity column (positive integers, e.g. epochs).
        objectives: the objective columns (numeric), in output order.
        seed: the seed column, or ``None`` (one seed).
        specs: per hyperparameter, a full or partial spec (``type``, ``choices``,
            ``lower``, ``upper``, ``log``) in the format of
            :func:`mfbench.space.hyperparameter_from_dict`; what is not given is inferred.
        elapsed_time: the column holding training time, or ``None``.
        elapsed_time_is_per_epoch: ``elapsed_time`` holds the seconds of each row's step
            (since the previous fidelity), accumulated here into ``cumulative_name``.
        cost_per_fidelity: without an elapsed-time column, simulated seconds per unit of
            fidelity: ``cumulative_name = cost_per_fidelity * fidelity``.
        cumulative_name: name of the cumulative elapsed-time objective added by the two
            options above (unused when ``elapsed_time`` is already cumulative).
        fidelity_values: the fidelities every curve must have (default: all in the table).
    """

    hyperparameters: list[str]
    fidelity: str
    objectives: list[str]
    seed: str | None = None
    specs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    elapsed_time: str | None = None
    elapsed_time_is_per_epoch: bool = False
    cost_per_fidelity: float | None = None
    cumulative_name: str = "elapsed_time"
    fidelity_values: Sequence[int] | None = None

    @property
    def columns(self) -> list[str]:
        """Every column the table must have."""
        names = [*self.hyperparameters, self.fidelity, *self.objectives]
        if self.seed is not None:
            names.append(self.seed)
        return names

    @property
    def objective_names(self) -> list[str]:
        """Objectives of the blackbox: the objective columns plus a derived cumulative time."""
        derived = self.elapsed_time_is_per_epoch or self.cost_per_fidelity is not None
        return [*self.objectives, self.cumulative_name] if derived else list(self.objectives)

    @property
    def elapsed_time_attr(self) -> str | None:
        """The objective holding cumulative elapsed time."""
        if self.elapsed_time_is_per_epoch or self.cost_per_fidelity is not None:
            return self.cumulative_name
        return self.elapsed_time


@dataclass
class LongTable:
    """A checked long table as dense arrays.

    Attributes:
        hyperparameters: the space's hyperparameters (inferred or declared).
        configurations: encoded configurations ``(N, d)`` as
            :func:`mfbench.blackbox.stored.encode_configurations` writes them (categorical:
            index into the choices; numeric: the value).
        fidelity_values: sorted fidelities ``(F,)``, int64.
        seed_labels: the seed column's values in seed order ``(S,)`` (``[0]`` without one).
        objective_names: ``O`` names (see :attr:`LongTableSpec.objective_names`).
        evaluations: ``(N, S, F, O)``, float32 when every value is exactly a float32, else float64.
        num_rows: rows read.
    """

    hyperparameters: tuple[Hyperparameter, ...]
    configurations: np.ndarray
    fidelity_values: np.ndarray
    seed_labels: list[Any]
    objective_names: list[str]
    evaluations: np.ndarray
    num_rows: int
