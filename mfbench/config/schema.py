"""The top-level config schema, registered in Hydra's ConfigStore as ``mfbench_schema``.

Group nodes (``benchmark``, ``method``, ``backend``, ``stopping``) are typed by the
signature of their ``_target_``: see :mod:`mfbench.config.validation`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from omegaconf import MISSING


@dataclass
class MfbenchConfig:
    """Top-level keys of ``conf/config.yaml``.

    Attributes:
        benchmark: what to simulate (group ``benchmark``).
        method: the HPO method (group ``method``).
        backend: how trials are executed (group ``backend``).
        stopping: when the run ends (group ``stopping``).
        seed: master random seed of the run (>= 0).
        n_workers: parallel workers; ``null`` = the benchmark's default.
        experiment_name: tag of the experiment, the first part of the run directory
            (``experiment`` is the group of experiment presets, see ``conf/experiment/``).
        overwrite: replace a finished run with a different config in the same directory.
        progress: show a progress bar over the simulated budget.
    """

    benchmark: Any = MISSING
    method: Any = MISSING
    backend: Any = MISSING
    stopping: Any = MISSING
    seed: int = 0
    n_workers: Optional[int] = None
    experiment_name: str = "default"
    overwrite: bool = False
    progress: bool = True


def register_schemas() -> None:
    """Register the schema (idempotent). Entry points call
    :func:`mfbench.sweeps.hydra_configs.register_configs`, which also registers the sweep plugins."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name="mfbench_schema", node=MfbenchConfig)
