"""One benchmark per folder, and the runs finished before benchmarks were named after their file.

A run directory is ``<experiment>/<benchmark name>/<method>/seed_<n>``; the analysis groups
runs by that name. ``benchmark=table`` and ``benchmark=function`` are named after their file
or callable (:mod:`mfbench.config.benchmark_name`), so two different files with the same
stem would share a folder and be analysed as one benchmark: :func:`check_one_benchmark`
refuses that, from the ``benchmark_source`` every finished run records in its metadata.

Before that naming, every table run lived in ``<experiment>/table/...`` (every function run
in ``function/...``), and every YAHPO run in the folder of its option (``yahpo_rbv2_xgboost/``,
now ``yahpo_rbv2_xgboost_29/``: the name ends with the instance). Such a finished run is not
recomputed: :func:`finished_in_old_folder` finds it there by its config fingerprint
(unchanged: the name is not part of it), and the run is skipped where it lies.
"""
from __future__ import annotations

import json
from pathlib import Path

from mfbench.errors import ConfigError
from mfbench.results.store import METADATA_FILE, RunDirectory

#: the metadata key holding what a generic benchmark read (see ``benchmark_source``)
SOURCE_KEY = "benchmark_source"


def benchmark_folder(run_dir: str | Path, name: str) -> Path | None:
    """The folder of ``run_dir``'s benchmark: its ancestor named ``name`` (None in a layout without one).

    In the default layout it is the grandparent (``<name>/<method>/seed_<n>``), preferred when
    a method happens to have the benchmark's name.
    """
    parents = Path(run_dir).parents
    if len(parents) > 1 and parents[1].name == name:
        return parents[1]
    return next((parent for parent in parents if parent.name == name), None)


def recorded_source(folder: Path, exclude: Path | None = None) -> tuple[str, Path] | None:
    """The ``benchmark_source`` a finished run in ``folder`` recorded, and that run (None: no such run).

    Every run written into a folder was checked against the runs there before, so they all
    agree and the first one that states a source speaks for the folder (runs of older
    versions, which state none, are passed over).
    """
    if not folder.is_dir():
        return None
    for metadata_path in sorted(folder.rglob(METADATA_FILE)):
        if exclude is not None and metadata_path.parent == exclude:
            continue
        try:
            source = json.loads(metadata_path.read_text(encoding="utf-8")).get(SOURCE_KEY)
        except (OSError, ValueError):
            continue
        if isinstance(source, str):
            return source, metadata_path.parent
    return None


def same_name_message(name: str, folder: Path, sources: list[str]) -> str:
    """The refusal of two benchmarks under one name, with the fixes."""
    listed = " and ".join(repr(s) for s in sources)
    return (f"two different benchmarks, {listed}, are both named {name!r} (the file stem or callable name) and "
            f"would share the folder {folder}, where the analysis takes them for one benchmark; rename one of the "
            f"files, or give it a name of its own with benchmark.name=NAME")


def check_one_benchmark(run_dir: str | Path, name: str, source: str | None) -> None:
    """Refuse a run whose benchmark folder holds finished runs of another benchmark of the same name.

    Args:
        run_dir: the run's directory.
        name: the benchmark's name (the folder).
        source: what the benchmark reads (``benchmark_source``); None: nothing to check.

    Raises:
        ConfigError: the folder's finished runs read another table or callable.
    """
    if source is None:
        return
    folder = benchmark_folder(run_dir, name)
    recorded = recorded_source(folder, exclude=Path(run_dir)) if folder is not None else None
    if folder is not None and recorded is not None and recorded[0] != source:
        raise ConfigError(same_name_message(name, folder, [recorded[0], source])
                          + f" (a finished run of the other: {recorded[1]})")


def old_run_dir(run_dir: str | Path, option: str, name: str) -> Path | None:
    """Where the run lived before its benchmark was named: the ``<option>`` folder instead of ``<name>``.

    None when the name is the option anyway (every benchmark YAML of its own but YAHPO's) or
    the layout has no folder of that name. Generic benchmarks (tables, callables) and YAHPO
    instances are named after more than their option (:mod:`mfbench.config.benchmark_name`).
    """
    if name == option:
        return None
    run_dir = Path(run_dir)
    folder = benchmark_folder(run_dir, name)
    if folder is None:
        return None
    return folder.with_name(option) / run_dir.relative_to(folder)


def finished_in_old_folder(run_dir: str | Path, option: str, name: str, fingerprint: str) -> Path | None:
    """The old run directory (:func:`old_run_dir`) if it holds this very run, finished (same fingerprint)."""
    old = old_run_dir(run_dir, option, name)
    if old is None or not old.is_dir():
        return None
    return old if RunDirectory(old).finished_fingerprint() == fingerprint else None
