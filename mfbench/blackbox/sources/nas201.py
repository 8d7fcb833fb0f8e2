"""The NAS-Bench-201 data source: the full NB201 table (NATS-Bench topology, 200 epochs).

The table, converted exactly as Syne Tune does, is defined in
:mod:`mfbench.blackbox.sources.nas201_table` (its names are re-exported here, where scripts and
users look them up); the three on-disk formats :func:`convert` reads are in
:mod:`mfbench.blackbox.sources.nas201_formats`. This module declares the source (where to
download it, how to convert it) and the factory the benchmark YAMLs name,
:func:`nas201_blackbox`.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from mfbench.blackbox.base import TabularBlackbox
from mfbench.blackbox.sources.nas201_formats import (FORMATS, convert_nats_file, convert_nats_simple,
                                                     convert_syne_tune, detect_source)
from mfbench.blackbox.sources.nas201_table import (FIDELITY, FIDELITY_VALUES, HP_NAMES, NAME, OBJECTIVES,
                                                   OPERATIONS, SEEDS, TASKS, TOTAL_ARCHS, arch_str_to_ops, fill_task,
                                                   hyperparameters, impute_missing_seeds, record_values)
from mfbench.blackbox.sources.registry import COMMAND, ConvertOption, DataSource, Remote
from mfbench.blackbox.stored import open_tabular

__all__ = ["FIDELITY", "FIDELITY_VALUES", "FORMATS", "HP_NAMES", "NAME", "OBJECTIVES", "OPERATIONS", "REBUILD",
           "SEEDS", "SOURCE", "TASKS", "TOTAL_ARCHS", "arch_str_to_ops", "convert", "convert_nats_file",
           "convert_nats_simple", "convert_syne_tune", "detect_source", "fill_task", "hyperparameters",
           "impute_missing_seeds", "nas201_blackbox", "record_values"]

REBUILD = f"{COMMAND} download nas201  (or: {COMMAND} convert nas201 --from PATH)"
HF_NB201 = "https://huggingface.co/datasets/synetune/blackbox-repository/resolve/main/nasbench201/"
GDRIVE_NATS_FILE = ("https://drive.usercontent.google.com/download?id=1vzyK0UVH2D3fTpa1_dSWnp1gvGpAxRul"
                    "&export=download&confirm=t")


def convert(path: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None,
            allow_partial: bool = False, progress: bool = True,
            report: Callable[[str], None] | None = None) -> Path:
    """Convert any of the three NB201 formats into the cache; return the blackbox directory.

    Args:
        path: the NATS "simple" folder, the single NATS file or Syne Tune's folder.
        cache_dir: the cache root override.
        allow_partial: convert a NATS archive that lacks architectures (e.g. a test fixture).
        progress: show progress while reading.
        report: unused: the conversion is one step (the data-source contract passes it).
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


SOURCE = DataSource(
    name=NAME,
    description="NAS-Bench-201, all 15,625 architectures x 200 epochs x 3 datasets, as Syne Tune converts it",
    remotes=(
        Remote("syne-tune", HF_NB201,
               ("metadata.json", "hyperparameters.parquet", "fidelities_values.npy", "objectives_evaluations.npy"),
               manual=f"Or fetch the nasbench201/ folder of the Hugging Face dataset synetune/blackbox-repository "
                      f"by hand and run: {COMMAND} convert nas201 --from FOLDER"),
        Remote("nats-file", GDRIVE_NATS_FILE, ("NATS-tss-v1_0-3ffb9.pickle.pbz2",),
               manual=f"Or download NATS-tss-v1_0-3ffb9.pickle.pbz2 by hand (Google Drive id "
                      f"1vzyK0UVH2D3fTpa1_dSWnp1gvGpAxRul) and run: {COMMAND} convert nas201 --from FILE",
               convert_file=True),
    ),
    convert=convert,
    factory=nas201_blackbox,
    entries={NAME: REBUILD},
    options=(ConvertOption("--allow-partial", "allow_partial", "convert an incomplete NATS archive",
                           is_switch=True),),
)
