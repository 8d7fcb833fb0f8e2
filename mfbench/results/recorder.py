"""Column buffers for the results of one run (one row per reported result)."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from mfbench.space import Config, ConfigSpace


#: the columns of every result table besides the fidelity, the objectives and ``config_<name>``
RESERVED_COLUMNS = ("trial_id", "worker", "table_seed", "sim_time", "decision")


def _refuse_shared_columns(objective_names: Sequence[str], fidelity_attr: str, space: ConfigSpace) -> None:
    """ConfigError if two columns of the result table would have one name (one would overwrite the other)."""
    from mfbench.errors import ConfigError

    owners: dict[str, str] = {name: "a column the simulator writes" for name in RESERVED_COLUMNS}
    for name, owner in [(fidelity_attr, "the fidelity"), *((o, "an objective") for o in objective_names),
                        *((f"config_{h}", f"the column of hyperparameter {h!r}") for h in space.names)]:
        if name in owners:
            raise ConfigError(f"the result table would have two columns named {name!r} ({owners[name]} and {owner}); "
                              f"rename one of them in the benchmark's data (the table's column, or the key the "
                              f"function returns)")
        owners[name] = owner


class ResultRecorder:
    """Collects results as columns; :meth:`to_columns` builds the final table.

    Columns: ``trial_id``, ``worker``, ``table_seed``, ``<fidelity_attr>``, one column per
    objective, ``sim_time`` (simulated seconds when the result arrived), ``decision``, and
    ``config_<name>`` per hyperparameter.
    """

    def __init__(self, objective_names: Sequence[str], fidelity_attr: str, space: ConfigSpace) -> None:
        _refuse_shared_columns(objective_names, fidelity_attr, space)
        self.objective_names = list(objective_names)
        self.fidelity_attr = fidelity_attr
        self.space = space
        self.trial_ids: list[int] = []
        self.workers: list[int] = []
        self.table_seeds: list[int] = []
        self.fidelities: list[int] = []
        self.times: list[float] = []
        self.decisions: list[str] = []
        self.objectives: list[np.ndarray] = []
        self.configs: dict[int, Config] = {}

    def __len__(self) -> int:
        return len(self.trial_ids)

    def add(self, trial_id: int, worker: int, table_seed: int, fidelity: int, objectives: np.ndarray,
            time: float, decision: str) -> None:
        self.trial_ids.append(trial_id)
        self.workers.append(worker)
        self.table_seeds.append(table_seed)
        self.fidelities.append(fidelity)
        self.objectives.append(objectives)
        self.times.append(time)
        self.decisions.append(decision)

    def to_columns(self) -> dict[str, Any]:
        """The results as ``{column: numpy array or list}``, in arrival order."""
        n = len(self.trial_ids)
        objectives = np.asarray(self.objectives, dtype=np.float64).reshape(n, len(self.objective_names))
        columns: dict[str, Any] = {
            "trial_id": np.asarray(self.trial_ids, dtype=np.int64),
            "worker": np.asarray(self.workers, dtype=np.int64),
            "table_seed": np.asarray(self.table_seeds, dtype=np.int64),
            self.fidelity_attr: np.asarray(self.fidelities, dtype=np.int64),
        }
        for j, name in enumerate(self.objective_names):
            columns[name] = objectives[:, j]
        columns["sim_time"] = np.asarray(self.times, dtype=np.float64)
        columns["decision"] = list(self.decisions)
        for name in self.space.names:
            columns[f"config_{name}"] = [self.configs[t][name] for t in self.trial_ids]
        return columns
