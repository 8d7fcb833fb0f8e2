"""Tabulated blackboxes stored in the cache as memory-mapped numpy arrays.

A stored tabular blackbox is a directory (see :mod:`mfbench.blackbox.cache`)::

    manifest.json          format version, source, hyperparameters, fidelity, objectives,
                           seeds, tasks, and size + sha256 of each file
    configurations.npy     float64 (N, d): row i is configuration i; a categorical column
                           holds the index of the value in the hyperparameter's choices
    <task>.npy             float32 (N, S, F, O) evaluations of one task (one per task; float64
                           for user tables whose values are not exactly float32)
    summary/<task>.npy     float64 (4, F, O): the task's best values per fidelity and objective
                           (:func:`mfbench.blackbox.base.best_summary`), so that a run's
                           ``best_in_table`` does not read a cell of every configuration; a
                           table stored without it (older caches) computes them when asked

Opening maps ``<task>.npy`` read-only (``np.load(mmap_mode="r")``): nothing is copied, so
opening the full NAS-Bench-201 table (15,625 x 3 x 200 x 7) takes milliseconds; the
config table (15,625 tuples) is built with numpy, not per-row Python.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from mfbench.blackbox.base import SUMMARY_ROWS, TabularBlackbox, best_summary
from mfbench.blackbox.cache import BlackboxDataError, cache_root, read_manifest, staging, write_manifest
from mfbench.space import Categorical, ConfigSpace, Integer, hyperparameter_from_dict, hyperparameter_to_dict

CONFIGURATIONS = "configurations.npy"


def task_file(task: str) -> str:
    """File name of a task's evaluations (task names may hold characters like ``-``)."""
    return f"{task}.npy"


def summary_file(task: str) -> str:
    """File name (relative to the blackbox directory) of a task's :func:`best_summary`."""
    return f"summary/{task}.npy"


def encode_configurations(space_hps: Sequence[Any], columns: Mapping[str, Sequence[Any]]) -> np.ndarray:
    """``configurations.npy`` content, shape ``(N, d)``, from one value column per hyperparameter."""
    encoded = []
    for hp in space_hps:
        values = columns[hp.name]
        if isinstance(hp, Categorical):
            lookup = {choice: i for i, choice in enumerate(hp.choices)}
            try:
                encoded.append(np.fromiter((lookup[v] for v in values), dtype=np.float64, count=len(values)))
            except KeyError as error:
                raise ValueError(f"hyperparameter {hp.name!r}: value {error.args[0]!r} is not in {hp.choices}") from None
        else:
            encoded.append(np.asarray(values, dtype=np.float64))
    return np.stack(encoded, axis=1)


def decode_configurations(hyperparameters: Sequence[Any], encoded: np.ndarray) -> list[tuple[Any, ...]]:
    """The table rows (value tuples) of an encoded configuration array ``(N, d)``."""
    columns = []
    for j, hp in enumerate(hyperparameters):
        column = encoded[:, j]
        if isinstance(hp, Categorical):
            columns.append(np.asarray(hp.choices, dtype=object)[column.astype(np.int64)].tolist())
        elif isinstance(hp, Integer):
            columns.append(column.astype(np.int64).tolist())
        else:
            columns.append(column.tolist())
    return list(zip(*columns))


def write_tabular(
    name: str,
    cache_dir: str | os.PathLike[str] | None,
    hyperparameters: Sequence[Any],
    configurations: np.ndarray,
    fidelity_name: str,
    fidelity_values: Sequence[int],
    objective_names: Sequence[str],
    tasks: Mapping[str, Callable[[np.ndarray], None]],
    num_seeds: int,
    source: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
    replace: bool = True,
    checksums: bool = True,
    dtype: Any = np.float32,
) -> Path:
    """Write a tabular blackbox into the cache atomically; return its directory.

    Args:
        name: the blackbox name (directory under the cache root).
        cache_dir: the cache root override (``None``: the default, see :func:`cache_root`).
        hyperparameters: the space's hyperparameters (in column order).
        configurations: encoded configurations, shape ``(N, d)`` (:func:`encode_configurations`).
        fidelity_name: name of the fidelity (e.g. ``hp_epoch``).
        fidelity_values: sorted fidelity values, shape ``(F,)``.
        objective_names: the ``O`` objective names.
        tasks: ``{task: fill}``; ``fill(out)`` writes the task's float32 ``(N, S, F, O)``
            evaluations into ``out`` (a writable memmap, so tasks need not fit in memory).
        num_seeds: ``S``.
        source: where the data came from (goes into the manifest and every run's metadata).
        extra: more manifest fields (e.g. ``description``, ``partial``).
        replace: replace an existing copy (``False``: keep it if another process wrote one).
        checksums: record sha256 of each file (a few seconds for the full NB201).
        dtype: dtype of the evaluations (float32; float64 where values must stay exact).
    """
    target = cache_root(cache_dir) / name
    n_configs = configurations.shape[0]
    shape = (n_configs, num_seeds, len(fidelity_values), len(objective_names))
    with staging(target, replace=replace) as directory:
        np.save(directory / CONFIGURATIONS, np.asarray(configurations, dtype=np.float64))
        for task, fill in tasks.items():
            out = np.lib.format.open_memmap(directory / task_file(task), mode="w+", dtype=dtype, shape=shape)
            fill(out)
            out.flush()
            (directory / summary_file(task)).parent.mkdir(exist_ok=True)
            np.save(directory / summary_file(task), best_summary(out))
            del out
        body = {
            "hyperparameters": [hyperparameter_to_dict(hp) for hp in hyperparameters],
            "fidelity": {"name": fidelity_name, "values": [int(v) for v in fidelity_values]},
            "objectives": list(objective_names),
            "num_configs": int(n_configs),
            "num_seeds": int(num_seeds),
            "tasks": list(tasks),
            **(extra or {}),
        }
        write_manifest(directory, name, "tabular", source, body, checksums=checksums)
    return target


def open_tabular(name: str, task: str, cache_dir: str | os.PathLike[str] | None, rebuild: str) -> TabularBlackbox:
    """Open one task of a stored tabular blackbox, memory-mapped (no copy).

    The opened blackbox is kept for the life of the process and returned again while the
    directory's files are unchanged (same manifest, same size and modification time of the
    arrays): the runs a job runs one after the other share it (building the config table and
    its index costs more than a cheap run's decisions). Its arrays are read-only and its
    caches (``best_in_table``, the config index) are functions of the table, so a run cannot
    tell a shared blackbox from a fresh one.

    Args:
        name: the blackbox name.
        task: one of the manifest's tasks.
        cache_dir: the cache root override.
        rebuild: the command that fetches / rebuilds the data (quoted in errors).

    Raises:
        BlackboxDataError: missing / stale / foreign / truncated data, or an unknown task.
    """
    directory = cache_root(cache_dir) / name
    manifest = read_manifest(directory, name, rebuild, kind="tabular")
    if task not in manifest["tasks"]:
        raise BlackboxDataError(f"blackbox {name!r} has no task {task!r}; its tasks are {manifest['tasks']}")
    key = _open_key(directory, task, manifest)
    if key in _OPENED:
        return _OPENED[key]
    hyperparameters = tuple(hyperparameter_from_dict(spec) for spec in manifest["hyperparameters"])
    configurations = np.load(directory / CONFIGURATIONS)
    evaluations = np.load(directory / task_file(task), mmap_mode="r")
    expected = (manifest["num_configs"], manifest["num_seeds"], len(manifest["fidelity"]["values"]),
                len(manifest["objectives"]))
    if evaluations.shape != expected or configurations.shape[0] != expected[0]:
        raise BlackboxDataError(
            f"{directory / task_file(task)} has shape {evaluations.shape}, its manifest says {expected}: the cache is "
            f"corrupt. Delete {directory} and rebuild with: {rebuild}"
        )
    space = ConfigSpace(hyperparameters, table=decode_configurations(hyperparameters, configurations))
    description = {
        "name": name,
        "task": task,
        "source": manifest["source"],
        "format_version": manifest["format_version"],
        "cache_dir": str(directory),
        "created": manifest.get("created"),
        **{k: manifest[k] for k in ("description", "partial", "model", "seed_labels") if k in manifest},
    }
    blackbox = TabularBlackbox(space, manifest["fidelity"]["values"], manifest["objectives"], evaluations, description,
                               summary=_stored_summary(directory, task, manifest, expected, rebuild))
    _OPENED.clear()  # one table at a time: a job that moves on to another benchmark frees the last one
    _OPENED[key] = blackbox
    return blackbox


def _stored_summary(directory: Path, task: str, manifest: Mapping[str, Any], shape: tuple[int, ...],
                    rebuild: str) -> np.ndarray | None:
    """The task's stored :func:`best_summary`, if the manifest vouches for one (its checksum was
    verified with the other files); ``None`` for a table stored without it.

    Raises:
        BlackboxDataError: a vouched-for summary of the wrong shape or dtype (a corrupt cache).
    """
    relative = summary_file(task)
    if relative not in manifest.get("files", {}):
        return None
    summary = np.load(directory / relative)
    expected = (len(SUMMARY_ROWS), *shape[2:])
    if summary.shape != expected or summary.dtype != np.float64:
        raise BlackboxDataError(f"{directory / relative} holds {summary.dtype} {summary.shape}, expected float64 "
                                f"{expected}: the cache is corrupt. Delete {directory} and rebuild with: {rebuild}")
    return summary


#: the last stored table opened in this process (see :func:`open_tabular`), by :func:`_open_key`
_OPENED: dict[tuple[Any, ...], TabularBlackbox] = {}


def _open_key(directory: Path, task: str, manifest: Mapping[str, Any]) -> tuple[Any, ...]:
    """What identifies an opened table: the directory, the task, the manifest (it holds every
    file's size and checksum) and the size and modification time of the two arrays read."""
    import json

    stats = []
    for name in (CONFIGURATIONS, task_file(task)):
        stat = (directory / name).stat()
        stats.append((name, stat.st_size, stat.st_mtime_ns, stat.st_ino))
    return str(directory.resolve()), task, json.dumps(manifest, sort_keys=True, default=str), tuple(stats)
