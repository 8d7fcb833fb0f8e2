"""Write small FCNet files in the original layout of ``fcnet_tabular_benchmarks.tar.gz``.

The archive holds ``fcnet_tabular_benchmarks/fcnet_<dataset>_data.hdf5``; each HDF5 file has
one group per configuration, named ``json.dumps(config, sort_keys=True)``, with the float64
datasets ``valid_loss``, ``train_loss``, ``valid_mse``, ``train_mse`` (4 seeds x 100 epochs) and
``runtime``, ``n_params``, ``final_test_error`` (4 seeds), as the original benchmark's
``fcnet_benchmark.py`` reads them. The values are random; the writers return them so that
tests compare what the converter stored against what the file holds.
"""
from __future__ import annotations

import itertools
import json
import tarfile
from pathlib import Path
from typing import Any

import numpy as np

from mfbench.blackbox.sources.fcnet import GRID, TASKS

#: data set -> group name -> dataset name -> float64 values
Written = dict[str, dict[str, dict[str, np.ndarray]]]


def grid_configs(n: int, stride: int = 2593) -> list[dict[str, Any]]:
    """``n`` distinct configurations of the grid, spread over it (every ``stride``-th one)."""
    everything = list(itertools.product(*GRID.values()))
    return [dict(zip(GRID, everything[(i * stride) % len(everything)])) for i in range(n)]


def write_fcnet_hdf5(path: Path, configs: list[dict[str, Any]], seed: int) -> dict[str, dict[str, np.ndarray]]:
    """One data set's HDF5 file holding ``configs``; returns the values written, by group name."""
    import h5py

    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    written: dict[str, dict[str, np.ndarray]] = {}
    with h5py.File(path, "w") as data:
        for config in configs:
            key = json.dumps(config, sort_keys=True)
            valid = np.sort(rng.uniform(0.01, 2.0, (4, 100)), axis=1)[:, ::-1]  # decreasing curves
            values = {
                "valid_loss": valid, "valid_mse": valid.copy(),
                "train_loss": valid * rng.uniform(0.5, 1.0, (4, 100)),
                "runtime": rng.uniform(50.0, 2000.0, 4),
                "n_params": np.full(4, float(rng.integers(1_000, 300_000))),
                "final_test_error": rng.uniform(0.01, 1.0, 4),
            }
            values["train_mse"] = values["train_loss"].copy()
            group = data.create_group(key)
            for name, array in values.items():
                group.create_dataset(name, data=array)
            written[key] = values
    return written


def write_fcnet_folder(folder: Path, n_configs: int = 24, tasks: tuple[str, ...] = TASKS) -> Written:
    """``folder/fcnet_tabular_benchmarks/fcnet_<task>_data.hdf5`` for ``tasks``, the same
    ``n_configs`` configurations in each (as in the original), different values."""
    configs = grid_configs(n_configs)
    return {task: write_fcnet_hdf5(folder / "fcnet_tabular_benchmarks" / f"fcnet_{task}_data.hdf5", configs, seed)
            for seed, task in enumerate(tasks)}


def write_fcnet_archive(archive: Path, n_configs: int = 24, tasks: tuple[str, ...] = TASKS) -> Written:
    """``fcnet_tabular_benchmarks.tar.gz`` (at ``archive``) as the original: the folder
    ``fcnet_tabular_benchmarks/`` with one HDF5 file per data set."""
    scratch = archive.parent / (archive.name + ".src")
    written = write_fcnet_folder(scratch, n_configs, tasks)
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(scratch / "fcnet_tabular_benchmarks", arcname="fcnet_tabular_benchmarks")
    import shutil

    shutil.rmtree(scratch)
    return written
