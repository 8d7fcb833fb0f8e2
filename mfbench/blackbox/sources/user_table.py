"""``benchmark=table``: a user's learning-curve table (parquet or CSV) as a benchmark.

The table is in long format, one row per (configuration, seed, fidelity), as
``python -m mfbench.data export`` writes it (see :mod:`mfbench.blackbox.long_table` for the
format and the checks). What the columns mean comes from, in order of precedence:

1. the options of :func:`table_benchmark` (``benchmark.metric=...`` etc.);
2. the export's JSON sidecar beside the file (``FILE.json``: the exact space with its
   types and choice order, fidelity, objectives, metric, mode, elapsed time, workers, budget);
3. inference: fidelity column ``epoch``, seed column ``seed`` and elapsed-time column
   ``elapsed_time`` if present; the objectives are the metric and the elapsed time (plus
   ``objectives``); every other column (but ``ignore``) is a hyperparameter: categorical
   for strings and booleans (choices sorted), integer for integer columns, float for
   others, bounds from the values, log scale when the positive values span a factor
   >= 100; ``hyperparameters`` overrides any of that per column.

The search is restricted to the configurations present in the table (a tabular blackbox).
A file of :data:`CACHE_MIN_BYTES` or more (or any file with ``cache=always``) is converted
once into the blackbox cache (:mod:`mfbench.blackbox.cache`, memory-mapped store of
:mod:`mfbench.blackbox.stored`) under a name made of the file's sha256 and of the column
options, so later runs open it in milliseconds; the file's hash is remembered by path,
size and modification time, so an unchanged file is not even re-read.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from mfbench.benchmarks.base import Benchmark
from mfbench.blackbox.base import TabularBlackbox
from mfbench.blackbox.cache import BlackboxDataError, cache_root, sha256_of
from mfbench.blackbox.long_table import LongTable, LongTableSpec, read_header, read_long_table, table_format
from mfbench.blackbox.sources.user_common import (DEFAULT_N_WORKERS, choose_metric, default_budget,
                                                  hyperparameter_specs)
from mfbench.errors import ConfigError
from mfbench.space import ConfigSpace, hyperparameter_from_dict, hyperparameter_to_dict

#: version of the conversion (part of every cache name: bump when what it writes changes)
CONVERSION_VERSION = 1
#: files at least this large are cached with ``cache=auto``
CACHE_MIN_BYTES = 8 * 2**20
TASK = "table"
_HASHES = ".table-hashes"
_CACHE_CHOICES = ("auto", "always", "never")


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
) -> Benchmark:
    """The benchmark of a long-format table (see the module docstring for the defaults).

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
    """
    if cache not in _CACHE_CHOICES:
        raise ConfigError(f"benchmark.cache must be one of {list(_CACHE_CHOICES)}, got {cache!r}")
    file = Path(path).expanduser()
    if not file.is_file():
        raise FileNotFoundError(
            f"benchmark.path: the table {file} does not exist"
            + ("" if file.is_absolute() else f" (a relative path is taken from the current directory {Path.cwd()})")
        )
    table_format(file)
    side = read_sidecar(file) if sidecar else None
    options = {"metric": metric, "fidelity": fidelity, "elapsed_time": elapsed_time,
               "elapsed_time_is_per_epoch": elapsed_time_is_per_epoch, "cost_per_fidelity": cost_per_fidelity,
               "seed_column": seed_column, "objectives": objectives, "hyperparameters": hyperparameters,
               "ignore": ignore}
    spec, metric = column_roles(file, read_header(file), side, options)
    blackbox = open_table(file, spec, cache, cache_dir, side)
    side = side or {}
    elapsed_attr = spec.elapsed_time_attr
    assert elapsed_attr is not None
    if max_fidelity is None:
        max_fidelity = side.get("max_fidelity")
    if max_fidelity is not None and max_fidelity not in set(blackbox.fidelity_values.tolist()):
        values = blackbox.fidelity_values
        raise ConfigError(f"benchmark.max_fidelity={max_fidelity} is not a fidelity of the table "
                          f"({spec.fidelity} {values[0]}..{values[-1]})")
    if max_wallclock_time is None:
        max_wallclock_time = side.get("max_wallclock_time")
    if max_wallclock_time is None:
        last = int(np.searchsorted(blackbox.fidelity_values, max_fidelity)) if max_fidelity is not None else -1
        elapsed = blackbox.evaluations[:, :, last, blackbox.objective_index(elapsed_attr)]
        max_wallclock_time = default_budget(np.asarray(elapsed), f"benchmark.path={file}")
    if description is None:
        if side.get("description"):
            description = f"{side['description']} (read from the table {file.name})"
        else:
            description = (f"user table {file.name}: {len(blackbox.config_space.table or ())} configurations, "
                           f"{blackbox.num_seeds} seed(s), {spec.fidelity} {blackbox.fidelity_values[0]}.."
                           f"{blackbox.fidelity_values[-1]}")
    return Benchmark(
        blackbox=blackbox,
        metric=metric,
        mode=mode or side.get("mode") or "min",  # type: ignore[arg-type]
        fidelity_attr=spec.fidelity,
        elapsed_time_attr=elapsed_attr,
        n_workers=int(n_workers if n_workers is not None else side.get("n_workers") or DEFAULT_N_WORKERS),
        max_wallclock_time=float(max_wallclock_time),
        max_fidelity=max_fidelity,
        description=description,
    )


# ---------------------------------------------------------------------------- sidecar
def read_sidecar(file: Path) -> dict[str, Any] | None:
    """The export's sidecar ``FILE.json`` beside ``file``, or ``None`` if there is none."""
    path = file.with_suffix(".json")
    if not path.is_file():
        return None
    try:
        side = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigError(f"{path} (the sidecar beside the table) is unreadable: {error}; fix it, delete it or set "
                          "benchmark.sidecar=false") from None
    needed = ("hyperparameters", "fidelity", "objectives")
    if not isinstance(side, dict) or any(k not in side for k in needed):
        raise ConfigError(f"{path} is not a sidecar of mfbench's export (it lacks {list(needed)}); set "
                          "benchmark.sidecar=false to ignore it")
    for hp in side["hyperparameters"]:
        try:
            hyperparameter_from_dict(hp)
        except (KeyError, ValueError, TypeError) as error:
            raise ConfigError(f"{path}: bad hyperparameter {hp!r} ({error}); set benchmark.sidecar=false to infer "
                              "the space from the table instead") from None
    return side


# ----------------------------------------------------------------------- column roles
def column_roles(file: Path, header: list[str], side: Mapping[str, Any] | None,
                 options: Mapping[str, Any]) -> tuple[LongTableSpec, str]:
    """What every column means, and the metric (options > sidecar > inference)."""
    side = side or {}
    where = f"benchmark.path={file.name}"

    def column(key: str, name: str | None) -> str | None:
        if name is not None and name not in header:
            raise ConfigError(f"benchmark.{key}={name!r}: {file.name} has no such column; its columns are {header}")
        return name

    fidelity = column("fidelity", options["fidelity"] or side.get("fidelity") or ("epoch" if "epoch" in header else None))
    if fidelity is None:
        raise ConfigError(f"{where}: benchmark.fidelity=COLUMN is required (there is no column named 'epoch'); "
                          f"columns: {header}")
    seed = column("seed_column", options["seed_column"] or ("seed" if "seed" in header else None))
    per_epoch = bool(options["elapsed_time_is_per_epoch"])
    cost = options["cost_per_fidelity"]
    elapsed = options["elapsed_time"]
    if cost is not None:
        if elapsed is not None or per_epoch:
            raise ConfigError("benchmark.cost_per_fidelity replaces an elapsed-time column: set either it or "
                              "benchmark.elapsed_time, not both")
        if not cost > 0:
            raise ConfigError(f"benchmark.cost_per_fidelity must be > 0 seconds, got {cost}")
    elif elapsed is None:
        elapsed = side.get("elapsed_time") or ("elapsed_time" if "elapsed_time" in header else None)
        if elapsed is None:
            raise ConfigError(
                f"{where}: the simulator needs training times: name the column with benchmark.elapsed_time=COLUMN "
                "(cumulative seconds; add benchmark.elapsed_time_is_per_epoch=true if it holds the seconds of each "
                "epoch), or set benchmark.cost_per_fidelity=SECONDS (seconds per unit of fidelity)"
            )
    column("elapsed_time", elapsed)
    derived = per_epoch or cost is not None
    cumulative = "elapsed_time"
    if derived and cumulative in header:
        cumulative = f"{elapsed}_cumulative" if per_epoch else "simulated_elapsed_time"

    listed = options["objectives"]
    if listed is not None and (isinstance(listed, str) or not all(isinstance(o, str) for o in listed)):
        raise ConfigError(f"benchmark.objectives must be a list of column names, got {listed!r}")
    for name in listed or ():
        column("objectives", name)
    candidates = list(listed if listed is not None else side.get("objectives", []))
    metric = options["metric"] or side.get("metric")
    metric = choose_metric(metric, [c for c in candidates if c not in (elapsed, cumulative)], where)
    column("metric", metric)
    objectives = list(dict.fromkeys([*candidates, metric] + ([elapsed] if elapsed else [])))

    ignore = list(options["ignore"] or ())
    for name in ignore:
        column("ignore", name)
    overrides = hyperparameter_specs(options["hyperparameters"], "benchmark.hyperparameters")
    roles = {o: "an objective" for o in objectives}
    roles[fidelity] = "the fidelity"
    if seed is not None:
        roles[seed] = "the seed column"
    if side.get("hyperparameters"):  # the exported space, exactly (types, bounds, choice order)
        specs = {hp["name"]: dict(hp) for hp in side["hyperparameters"]}
        names = list(specs)
    else:
        names = [c for c in header if c not in roles and c not in ignore]
        specs = {}
    for name, override in overrides.items():
        if name not in names:
            role = roles.get(name) or ("ignored" if name in ignore else "not a column")
            raise ConfigError(f"benchmark.hyperparameters.{name}: {name!r} is {role}, not a hyperparameter column; "
                              f"the hyperparameter columns are {names}")
        specs[name] = override
    for name in names:
        if name in roles:
            raise ConfigError(f"column {name!r} cannot be both a hyperparameter and {roles[name]}")
        column("hyperparameters", name)
    if not names:
        raise ConfigError(f"{where}: no hyperparameter column is left (columns {header}: fidelity {fidelity!r}, seed "
                          f"{seed!r}, objectives {objectives}, ignored {ignore})")
    spec = LongTableSpec(
        hyperparameters=names, fidelity=fidelity, objectives=objectives, seed=seed, specs=specs,
        elapsed_time=elapsed, elapsed_time_is_per_epoch=per_epoch, cost_per_fidelity=cost,
        cumulative_name=cumulative,
        fidelity_values=side.get("fidelity_values") if side and fidelity == side.get("fidelity") else None,
    )
    return spec, metric


# ------------------------------------------------------------------ opening / caching
def open_table(file: Path, spec: LongTableSpec, cache: str = "auto", cache_dir: str | None = None,
               side: Mapping[str, Any] | None = None) -> TabularBlackbox:
    """The tabular blackbox of ``file``: from the cache, converted into it, or read directly."""
    size = file.stat().st_size
    use_cache = cache == "always" or (cache == "auto" and size >= CACHE_MIN_BYTES)
    if not use_cache:
        table = read_long_table(file, spec)
        return _in_memory(table, _description(file, sha256_of(file), table, side))
    from mfbench.blackbox.stored import open_tabular, write_tabular

    content = content_hash(file, cache_dir)
    name = cache_name(content, spec)
    rebuild = f"delete it: the next run with benchmark.path={file} converts the table again"
    try:
        return _with_space(open_tabular(name, TASK, cache_dir, rebuild))
    except BlackboxDataError:
        pass
    import sys

    print(f"mfbench: converting {file} into the blackbox cache {cache_root(cache_dir) / name} (once)", file=sys.stderr)
    table = read_long_table(file, spec)
    description = _description(file, content, table, side)
    write_tabular(name, cache_dir, table.hyperparameters, table.configurations, spec.fidelity,
                  table.fidelity_values.tolist(), table.objective_names,
                  {TASK: lambda out: out.__setitem__(Ellipsis, table.evaluations)}, len(table.seed_labels),
                  description["source"], {"description": description["description"],
                                          "seed_labels": description["seed_labels"]},
                  replace=(cache_root(cache_dir) / name).exists(),  # keep a copy a concurrent run just finished
                  checksums=True, dtype=table.evaluations.dtype)
    return _with_space(open_tabular(name, TASK, cache_dir, rebuild))


def _with_space(blackbox: TabularBlackbox) -> TabularBlackbox:
    """The opened blackbox, its description completed with the space (as the in-memory one)."""
    description = {k: v for k, v in blackbox.describe().items() if k not in ("kind", "num_configs", "num_seeds",
                                                                              "num_fidelities", "objectives")}
    description["hyperparameters"] = [hyperparameter_to_dict(hp) for hp in blackbox.config_space.hyperparameters]
    return TabularBlackbox(blackbox.config_space, blackbox.fidelity_values, blackbox.objective_names,
                           blackbox.evaluations, description)


def cache_name(content_sha256: str, spec: LongTableSpec) -> str:
    """``table-<file sha256>-<options sha256>``: one cached conversion per file content and column meaning."""
    options = json.dumps({"version": CONVERSION_VERSION, **vars(spec)}, sort_keys=True, default=str)
    return f"table-{content_sha256[:20]}-{hashlib.sha256(options.encode()).hexdigest()[:10]}"


def content_hash(file: Path, cache_dir: str | None = None) -> str:
    """sha256 of ``file``, remembered in the cache by path, size and modification time."""
    stat = file.stat()
    resolved = str(file.resolve())
    record = cache_root(cache_dir) / _HASHES / f"{hashlib.sha256(resolved.encode()).hexdigest()[:32]}.json"
    stamp = {"path": resolved, "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    try:
        known = json.loads(record.read_text(encoding="utf-8"))
        if {k: known.get(k) for k in stamp} == stamp and isinstance(known.get("sha256"), str):
            return known["sha256"]
    except (OSError, ValueError):
        pass
    digest = sha256_of(file)
    try:
        record.parent.mkdir(parents=True, exist_ok=True)
        temporary = record.with_name(f".{record.name}.tmp-{os.getpid()}")
        temporary.write_text(json.dumps({**stamp, "sha256": digest}), encoding="utf-8")
        os.replace(temporary, record)
    except OSError:  # a read-only cache only costs a re-hash next time
        pass
    return digest


def _description(file: Path, sha256: str, table: LongTable, side: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        "source": {"kind": "user table", "path": str(file.resolve()), "sha256": sha256,
                   "bytes": file.stat().st_size, "rows": table.num_rows,
                   "sidecar": str(file.with_suffix(".json")) if side else None},
        "description": f"user table {file.name}",
        "seed_labels": [v.item() if hasattr(v, "item") else v for v in table.seed_labels],
        "hyperparameters": [hyperparameter_to_dict(hp) for hp in table.hyperparameters],
    }


def _in_memory(table: LongTable, description: Mapping[str, Any]) -> TabularBlackbox:
    from mfbench.blackbox.stored import decode_configurations

    space = ConfigSpace(table.hyperparameters, table=decode_configurations(table.hyperparameters, table.configurations))
    return TabularBlackbox(space, table.fidelity_values, table.objective_names, table.evaluations, description)
