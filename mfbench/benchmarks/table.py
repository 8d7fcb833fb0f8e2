"""``benchmark=table``: a user's learning-curve table (parquet or CSV) as a benchmark.

The table becomes a tabular blackbox in :mod:`mfbench.blackbox.sources.user_table`, which
describes the format, what the columns mean (options > the export's sidecar > inference)
and the cache; this module adds what a run needs around it: mode, workers, the largest
fidelity, the default budget and a description, each from the options, else the sidecar,
else a default (the budget: :data:`mfbench.benchmarks.defaults.BUDGET_FULL_TRAININGS` times
the median elapsed time at the largest fidelity).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from mfbench.benchmarks.base import Benchmark
from mfbench.benchmarks.defaults import DEFAULT_N_WORKERS, default_budget
from mfbench.blackbox.fidelity import describe_values
from mfbench.blackbox.sources.user_table import TableColumns, UserTable, open_user_table
from mfbench.errors import ConfigError


def table_benchmark(
    path: str,
    metric: str | None = None,
    mode: str | None = None,
    fidelity: str | None = None,
    elapsed_time: str | None = None,
    elapsed_time_is_per_epoch: bool = False,
    cost_per_fidelity: float | None = None,
    seed_column: str | None = None,
    objectives: list[str] | None = None,
    hyperparameters: Any = None,
    ignore: list[str] | None = None,
    n_workers: int | None = None,
    max_wallclock_time: float | None = None,
    max_fidelity: int | None = None,
    sidecar: bool = True,
    cache: str = "auto",
    cache_dir: str | None = None,
    description: str | None = None,
    name: str | None = None,
    surrogate: str | None = None,
    surrogate_kwargs: dict[str, Any] | None = None,
    config_space_surrogate: Any = None,
    surrogate_seeds: str | None = None,
) -> Benchmark:
    """The benchmark of a long-format table (see :mod:`mfbench.blackbox.sources.user_table` for the defaults).

    The parameters are the keys of ``conf/benchmark/table.yaml``: the config is checked
    against this signature, so a misspelled key fails at start.

    Args:
        path: the parquet or CSV file.
        metric: objective column to optimise (default: the sidecar's, or the only objective).
        mode: ``"min"`` or ``"max"`` (default: the sidecar's, else ``"min"``).
        fidelity: fidelity column, integers >= 1 (default: the sidecar's, else ``epoch``).
        elapsed_time: column of training seconds, cumulative unless ``elapsed_time_is_per_epoch``
            (default: the sidecar's, else ``elapsed_time`` if present).
        elapsed_time_is_per_epoch: ``elapsed_time`` holds the seconds of each row's step;
            they are accumulated along each curve into an ``elapsed_time`` objective.
        cost_per_fidelity: without a time column: simulated seconds per unit of fidelity.
        seed_column: column telling repeated runs of a configuration apart (default:
            ``seed`` if present, else one seed).
        objectives: objective columns (default: the sidecar's, else metric + elapsed time).
        hyperparameters: type overrides ``{column: spec}`` (or a list of specs).
        ignore: columns to leave out (neither hyperparameters nor objectives).
        n_workers: default workers (sidecar's, else 4).
        max_wallclock_time: default simulated budget in seconds (sidecar's, else
            20 x the median elapsed time at the largest fidelity).
        max_fidelity: the largest fidelity a trial runs to (default: the table's last).
        sidecar: read ``FILE.json`` beside the table when it exists.
        cache: ``auto`` (cache files of 8 MiB or more), ``always`` or ``never``.
        cache_dir: the cache root (default: ``$MFBENCH_CACHE`` or ``~/.cache/mfbench/blackboxes``).
        description: a sentence for the metadata (default: the sidecar's, else made up).
        name: the benchmark's name (run folder, metadata, analysis; default: the file's stem);
            read from the config by :mod:`mfbench.config.benchmark_name`, a key here only so
            that the config is checked against this signature. Nothing computed uses it.
        surrogate, surrogate_kwargs, config_space_surrogate, surrogate_seeds: a regression model
            over the table, as for every :class:`~mfbench.benchmarks.base.Benchmark`.
    """
    del name  # names the run folder only (see the docstring)
    columns = TableColumns(
        metric=metric, fidelity=fidelity, elapsed_time=elapsed_time,
        elapsed_time_is_per_epoch=elapsed_time_is_per_epoch, cost_per_fidelity=cost_per_fidelity,
        seed_column=seed_column, objectives=objectives, hyperparameters=hyperparameters, ignore=ignore,
    )
    table = open_user_table(path, columns, sidecar=sidecar, cache=cache, cache_dir=cache_dir)
    side = table.sidecar
    max_fidelity = _max_fidelity(table, max_fidelity)
    if max_wallclock_time is None:
        max_wallclock_time = side.get("max_wallclock_time")
    if max_wallclock_time is None:
        max_wallclock_time = _default_budget(table, max_fidelity)
    elapsed_attr = table.spec.elapsed_time_attr
    assert elapsed_attr is not None  # the column roles always settle a time
    return Benchmark(
        blackbox=table.blackbox,
        metric=table.metric,
        mode=mode or side.get("mode") or "min",  # type: ignore[arg-type]
        fidelity_attr=table.spec.fidelity,
        elapsed_time_attr=elapsed_attr,
        n_workers=int(n_workers if n_workers is not None else side.get("n_workers") or DEFAULT_N_WORKERS),
        max_wallclock_time=float(max_wallclock_time),
        max_fidelity=max_fidelity,
        description=description if description is not None else _description(table),
        surrogate=surrogate,
        surrogate_kwargs=surrogate_kwargs,
        config_space_surrogate=config_space_surrogate,
        surrogate_seeds=surrogate_seeds,
    )


def _max_fidelity(table: UserTable, max_fidelity: int | None) -> int | None:
    """The option, else the sidecar's (checked to be a fidelity of the table), else None (the last)."""
    if max_fidelity is None:
        max_fidelity = table.sidecar.get("max_fidelity")
    values = table.blackbox.fidelity_values
    if max_fidelity is not None and max_fidelity not in set(values.tolist()):
        raise ConfigError(f"benchmark.max_fidelity={max_fidelity} is not a fidelity of the table "
                          f"({table.spec.fidelity}: {describe_values(values)})")
    return max_fidelity


def _default_budget(table: UserTable, max_fidelity: int | None) -> float:
    """The default budget from the elapsed times of every configuration and seed at the largest fidelity."""
    blackbox = table.blackbox
    last = int(np.searchsorted(blackbox.fidelity_values, max_fidelity)) if max_fidelity is not None else -1
    assert table.spec.elapsed_time_attr is not None
    elapsed = blackbox.evaluations[:, :, last, blackbox.objective_index(table.spec.elapsed_time_attr)]
    return default_budget(np.asarray(elapsed), f"benchmark.path={table.file}")


def _description(table: UserTable) -> str:
    """The sidecar's description, else one made up from the file name and the table's size."""
    if table.sidecar.get("description"):
        return f"{table.sidecar['description']} (read from the table {table.file.name})"
    blackbox = table.blackbox
    return (f"user table {table.file.name}: {len(blackbox.config_space.table or ())} configurations, "
            f"{blackbox.num_seeds} seed(s), {table.spec.fidelity} {blackbox.fidelity_values[0]}.."
            f"{blackbox.fidelity_values[-1]}")
