"""The NAS-Bench-201 data source: the full NB201 table (NATS-Bench topology, 200 epochs).

The table, converted exactly as Syne Tune does, is defined in
:mod:`mfbench.blackbox.sources.nas201_table` (its names are re-exported here, where scripts and
users look them up); the three on-disk formats :func:`convert` reads are in
:mod:`mfbench.blackbox.sources.nas201_formats`. This module holds :func:`convert` and the
factory the benchmark YAMLs name, :func:`nas201_blackbox`.
"""
from __future__ import annotations

import os
from pathlib import Path

from mfbench.blackbox.base import TabularBlackbox
from mfbench.blackbox.sources.nas201_formats import (FORMATS, convert_nats_file, convert_nats_simple,
                                                     convert_syne_tune, detect_source)
from mfbench.blackbox.sources.nas201_table import (FIDELITY, FIDELITY_VALUES, HP_NAMES, NAME, OBJECTIVES,
                                                   OPERATIONS, SEEDS, TASKS, TOTAL_ARCHS, arch_str_to_ops, fill_task,
                                                   hyperparameters, impute_missing_seeds, record_values)
from mfbench.blackbox.stored import open_tabular

__all__ = ["FIDELITY", "FIDELITY_VALUES", "FORMATS", "HP_NAMES", "NAME", "OBJECTIVES", "OPERATIONS", "REBUILD",
           "SEEDS", "TASKS", "TOTAL_ARCHS", "arch_str_to_ops", "convert", "convert_nats_file",
           "convert_nats_simple", "convert_syne_tune", "detect_source", "fill_task", "hyperparameters",
           "impute_missing_seeds", "nas201_blackbox", "record_values"]

REBUILD = "python -m mfbench.data download nas201  (or: python -m mfbench.data convert nas201 --from PATH)"


def convert(path: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None,
            allow_partial: bool = False, progress: bool = True) -> Path:
    """Convert any of the three NB201 formats into the cache; return the blackbox directory.

    Args:
        path: the NATS "simple" folder, the single NATS file or Syne Tune's folder.
        cache_dir: the cache root override.
        allow_partial: convert a NATS archive that lacks architectures (e.g. a test fixture).
        progress: show progress while reading.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    kind = detect_source(path)
    if kind == "syne-tune":
        return convert_syne_tune(path, cache_dir, progress)
    if kind == "nats-simple":
        return convert_nats_simple(path, cache_dir, allow_partial, progress)
    return convert_nats_file(path, cache_dir, allow_partial, progress)


def nas201_blackbox(task: str = "cifar100", cache_dir: str | None = None) -> TabularBlackbox:
    """Open the converted NB201 table of ``task`` from the cache (memory-mapped).

    Raises:
        BlackboxDataError: the data is not converted yet (the message names the command).
    """
    if task not in TASKS:
        raise ValueError(f"nas201: unknown task {task!r}; choose one of {list(TASKS)}")
    return open_tabular(NAME, task, cache_dir, REBUILD)

