"""A user's learning-curve table (parquet or CSV) as a tabular blackbox (for ``benchmark=table``).

The table is in long format, one row per (configuration, seed, fidelity), as
``python -m mfbench.data export`` writes it (see :mod:`mfbench.blackbox.long_table` for the
format and the checks). What the columns mean comes from, in order of precedence:

1. the options (:class:`TableColumns`: ``benchmark.metric=...`` etc.);
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

:func:`open_user_table` does all of that; the benchmark around the blackbox (mode,
workers, budget) is :func:`mfbench.benchmarks.table.table_benchmark`.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, NamedTuple

import numpy as np

from mfbench.blackbox.base import TabularBlackbox
from mfbench.blackbox.cache import BlackboxDataError, cache_root, sha256_of
from mfbench.blackbox.long_table import (LongTable, LongTableSpec, TableError, read_header, read_long_table,
                                         table_format)
from mfbench.blackbox.sources.user_specs import choose_metric, hyperparameter_specs
from mfbench.blackbox.stored import decode_configurations, open_tabular, write_tabular
from mfbench.errors import ConfigError
from mfbench.space import ConfigSpace, hyperparameter_from_dict, hyperparameter_to_dict

#: version of the conversion (part of every cache name: bump when what it writes changes)
CONVERSION_VERSION = 1
#: files at least this large are cached with ``cache=auto``
CACHE_MIN_BYTES = 8 * 2**20
TASK = "table"
_HASHES = ".table-hashes"
_CACHE_CHOICES = ("auto", "always", "never")
#: NaN cells the load notice names (fewer than an error lists: the notice is one line)
NAN_EXAMPLES = 3


@dataclass(frozen=True)
class TableColumns:
    """What the user says the columns mean; ``None`` (or ``False``): from the sidecar, else inferred.

    The fields are the ``benchmark=table`` options of the same names (see
    :func:`mfbench.benchmarks.table.table_benchmark`).
    """

    metric: str | None = None
    fidelity: str | None = None
    elapsed_time: str | None = None
    elapsed_time_is_per_epoch: bool = False
    cost_per_fidelity: float | None = None
    seed_column: str | None = None
    objectives: list[str] | None = None
    hyperparameters: Any = None
    ignore: list[str] | None = None


@dataclass(frozen=True)
class UserTable:
    """A user's table opened as a blackbox, with what a benchmark needs to know about it.

    Attributes:
        file: the table.
        blackbox: the tabular blackbox (memory-mapped when cached).
        spec: what each column means.
        metric: the objective to optimise.
        sidecar: the export's sidecar beside the table (``{}`` without one, or if ignored).
    """

    file: Path
    blackbox: TabularBlackbox
    spec: LongTableSpec
    metric: str
    sidecar: Mapping[str, Any]


def open_user_table(path: str, columns: TableColumns, sidecar: bool = True, cache: str = "auto",
                    cache_dir: str | None = None) -> UserTable:
    """Open the table at ``path`` (see the module docstring; the arguments are the benchmark options).

    Raises:
        FileNotFoundError: no such file.
        ConfigError, TableError: an option or the table is wrong (the message says how to fix it).
    """
    if cache not in _CACHE_CHOICES:
        raise ConfigError(f"benchmark.cache must be one of {list(_CACHE_CHOICES)}, got {cache!r}")
    file = Path(path).expanduser()
    if not file.is_file():
        raise FileNotFoundError(
            f"benchmark.path: the table {file} does not exist"
            + ("" if file.is_absolute() else f" (a relative path is taken from the current directory {Path.cwd()})")
        )
    table_format(file)  # an unknown format fails before anything is read
    side = read_sidecar(file) if sidecar else None
    try:
        spec, metric = column_roles(file, read_header(file), side, columns)
        blackbox = open_table(file, spec, cache, cache_dir, side)
    except (ConfigError, TableError) as error:
        if side is None:
            raise
        # the sidecar's space and fidelities were checked against the table: a table edited
        # after its export fails those checks, and the message must say where they came from
        raise type(error)(f"{error} (the space, objectives and fidelities were read from the sidecar "
                          f"{file.with_suffix('.json')}, written by 'mfbench.data export'; if the table changed "
                          f"since, delete that file or set benchmark.sidecar=false)") from None
    notice = nan_notice(file, blackbox, spec, metric)
    if notice is not None:  # allowed (a failed evaluation), but a user should know their table has them
        print(notice, file=sys.stderr)
    return UserTable(file, blackbox, spec, metric, side or {})


def nan_notice(file: Path, blackbox: TabularBlackbox, spec: LongTableSpec, metric: str) -> str | None:
    """One line on the NaN cells of the metric (None without any): how many, and the first few.

    The cells are named as the table's error messages name them (configuration, seed label,
    fidelity), from the blackbox itself, so a cached table says the same as a freshly read one.
    """
    values = blackbox.evaluations[..., blackbox.objective_index(metric)]  # (N, S, F)
    missing = np.isnan(values)
    count = int(missing.sum())
    if count == 0:
        return None
    curves = int(missing.any(axis=2).sum())
    hps = blackbox.config_space.hyperparameters
    table = blackbox.config_space.table or []
    seeds = blackbox.describe().get("seed_labels") or list(range(blackbox.num_seeds))
    examples = []
    for c, s, f in np.argwhere(missing)[:NAN_EXAMPLES]:
        config = "{" + ", ".join(f"{hp.name}: {value!r}" for hp, value in zip(hps, table[c])) + "}"
        seed = f" seed {seeds[s]!r}" if spec.seed is not None else ""
        examples.append(f"{config}{seed} at {spec.fidelity}={blackbox.fidelity_values[f]}")
    return (f"mfbench: {file.name}: {count} of {missing.size} {metric!r} cells are NaN, in {curves} curve(s) "
            f"(failed evaluations: the methods treat them as the worst result), e.g. {'; '.join(examples)}")


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
class _Header:
    """The table's columns, checking that the names the user gives are among them."""

    def __init__(self, file: Path, names: list[str]) -> None:
        self.file = file
        self.names = names

    def __contains__(self, name: str) -> bool:
        return name in self.names

    def check(self, key: str, name: str | None) -> str | None:
        """``name`` (given as ``benchmark.<key>``), if it is a column or None (ConfigError otherwise)."""
        if name is not None and name not in self.names:
            raise ConfigError(f"benchmark.{key}={name!r}: {self.file.name} has no such column; its columns are "
                              f"{self.names}")
        return name


class _TimeColumns(NamedTuple):
    """How the simulator gets training times (see :class:`mfbench.blackbox.long_table.LongTableSpec`)."""

    elapsed: str | None
    per_epoch: bool
    cost: float | None
    cumulative: str


def column_roles(file: Path, header: list[str], side: Mapping[str, Any] | None,
                 options: TableColumns) -> tuple[LongTableSpec, str]:
    """What every column means, and the metric (options > sidecar > inference)."""
    side = side or {}
    columns = _Header(file, header)
    where = f"benchmark.path={file.name}"
    fidelity = columns.check("fidelity", options.fidelity or side.get("fidelity")
                             or ("epoch" if "epoch" in columns else None))
    if fidelity is None:
        raise ConfigError(f"{where}: benchmark.fidelity=COLUMN is required (there is no column named 'epoch'); "
                          f"columns: {header}")
    seed = columns.check("seed_column", options.seed_column or ("seed" if "seed" in columns else None))
    time = _time_columns(columns, side, options, where)
    objectives, metric = _objectives_and_metric(columns, side, options, time, where)
    roles = {o: "an objective" for o in objectives}
    roles[fidelity] = "the fidelity"
    if seed is not None:
        roles[seed] = "the seed column"
    ignore = list(options.ignore or ())
    for name in ignore:
        columns.check("ignore", name)
    names, specs = _hyperparameter_columns(columns, side, options.hyperparameters, roles, ignore)
    if not names:
        raise ConfigError(f"{where}: no hyperparameter column is left (columns {header}: fidelity {fidelity!r}, seed "
                          f"{seed!r}, objectives {objectives}, ignored {ignore})")
    spec = LongTableSpec(
        hyperparameters=names, fidelity=fidelity, objectives=objectives, seed=seed, specs=specs,
        elapsed_time=time.elapsed, elapsed_time_is_per_epoch=time.per_epoch, cost_per_fidelity=time.cost,
        cumulative_name=time.cumulative,
        fidelity_values=side.get("fidelity_values") if side and fidelity == side.get("fidelity") else None,
    )
    return spec, metric


def _time_columns(columns: _Header, side: Mapping[str, Any], options: TableColumns, where: str) -> _TimeColumns:
    """The elapsed-time column (or cost per fidelity), and the name of a derived cumulative time."""
    per_epoch = bool(options.elapsed_time_is_per_epoch)
    cost = options.cost_per_fidelity
    elapsed = options.elapsed_time
    if cost is not None:
        if elapsed is not None or per_epoch:
            raise ConfigError("benchmark.cost_per_fidelity replaces an elapsed-time column: set either it or "
                              "benchmark.elapsed_time, not both")
        if not 0 < cost < float("inf"):
            raise ConfigError(f"benchmark.cost_per_fidelity must be a finite number of seconds > 0, got {cost}")
        roled = [*(options.objectives or ()), *(options.ignore or ())]
        if "elapsed_time" in columns and "elapsed_time" not in roled:  # it would be taken for a hyperparameter
            raise ConfigError("benchmark.cost_per_fidelity replaces the table's training times, but the table has a "
                              "column 'elapsed_time': leave it out with benchmark.ignore=[elapsed_time], keep it as "
                              "an objective in benchmark.objectives, or drop cost_per_fidelity to use it")
    elif elapsed is None:
        elapsed = side.get("elapsed_time") or ("elapsed_time" if "elapsed_time" in columns else None)
        if elapsed is None:
            raise ConfigError(
                f"{where}: the simulator needs training times: name the column with benchmark.elapsed_time=COLUMN "
                "(cumulative seconds; add benchmark.elapsed_time_is_per_epoch=true if it holds the seconds of each "
                "epoch), or set benchmark.cost_per_fidelity=SECONDS (seconds per unit of fidelity)"
            )
    columns.check("elapsed_time", elapsed)
    cumulative = "elapsed_time"
    if (per_epoch or cost is not None) and cumulative in columns:  # a derived time must not shadow a column
        cumulative = f"{elapsed}_cumulative" if per_epoch else "simulated_elapsed_time"
    return _TimeColumns(elapsed, per_epoch, cost, cumulative)


def _objectives_and_metric(columns: _Header, side: Mapping[str, Any], options: TableColumns, time: _TimeColumns,
                           where: str) -> tuple[list[str], str]:
    """The objective columns (listed, else the sidecar's; plus the metric and the time) and the metric."""
    listed = options.objectives
    if listed is not None and (isinstance(listed, str) or not all(isinstance(o, str) for o in listed)):
        raise ConfigError(f"benchmark.objectives must be a list of column names, got {listed!r}")
    for name in listed or ():
        columns.check("objectives", name)
    candidates = list(listed if listed is not None else side.get("objectives", []))
    metric = options.metric or side.get("metric")
    metric = choose_metric(metric, [c for c in candidates if c not in (time.elapsed, time.cumulative)], where)
    columns.check("metric", metric)
    objectives = list(dict.fromkeys([*candidates, metric] + ([time.elapsed] if time.elapsed else [])))
    return objectives, metric


def _hyperparameter_columns(columns: _Header, side: Mapping[str, Any], hyperparameters: Any,
                            roles: Mapping[str, str], ignore: list[str]) -> tuple[list[str], dict[str, Any]]:
    """The hyperparameter columns (possibly none) and their declared specs.

    With a sidecar, its exported space exactly (types, bounds, choice order); else every
    column without a role (``roles``: fidelity, seed, objectives) that is not ignored.
    ``hyperparameters`` (the option) overrides the spec of any of them.
    """
    overrides = hyperparameter_specs(hyperparameters, "benchmark.hyperparameters")
    if side.get("hyperparameters"):
        specs = {hp["name"]: dict(hp) for hp in side["hyperparameters"]}
        names = list(specs)
    else:
        names = [c for c in columns.names if c not in roles and c not in ignore]
        specs = {}
        for unnamed in [c for c in names if c.strip() == "" or c.startswith("Unnamed: ")]:
            raise ConfigError(f"column {unnamed!r} has no name (a pandas index, written by to_csv without "
                              f"index=False?): leave it out with benchmark.ignore=['{unnamed}'], or write the table "
                              f"without it")
    for name, override in overrides.items():
        if name not in names:
            role = roles.get(name) or ("ignored" if name in ignore else "not a column")
            raise ConfigError(f"benchmark.hyperparameters.{name}: {name!r} is {role}, not a hyperparameter column; "
                              f"the hyperparameter columns are {names}")
        specs[name] = override
    for name in names:
        if name in roles:
            raise ConfigError(f"column {name!r} cannot be both a hyperparameter and {roles[name]}")
        columns.check("hyperparameters", name)
    return names, specs


# ------------------------------------------------------------------ opening / caching
def open_table(file: Path, spec: LongTableSpec, cache: str = "auto", cache_dir: str | None = None,
               side: Mapping[str, Any] | None = None) -> TabularBlackbox:
    """The tabular blackbox of ``file``: from the cache, converted into it, or read directly."""
    size = file.stat().st_size
    use_cache = cache == "always" or (cache == "auto" and size >= CACHE_MIN_BYTES)
    if not use_cache:
        table = read_long_table(file, spec)
        return _in_memory(table, _description(file, sha256_of(file), table, side))
    content = content_hash(file, cache_dir)
    name = cache_name(content, spec)
    rebuild = f"delete it: the next run with benchmark.path={file} converts the table again"
    try:
        return _with_space(open_tabular(name, TASK, cache_dir, rebuild))
    except BlackboxDataError:  # not converted yet, or a damaged copy: convert (again)
        pass
    _convert_into_cache(file, spec, name, content, cache_dir, side)
    return _with_space(open_tabular(name, TASK, cache_dir, rebuild))


def _convert_into_cache(file: Path, spec: LongTableSpec, name: str, content_sha256: str, cache_dir: str | None,
                        side: Mapping[str, Any] | None) -> None:
    """Read the table once and write it into the blackbox cache as ``name`` (memory-mappable)."""
    print(f"mfbench: converting {file} into the blackbox cache {cache_root(cache_dir) / name} (once)", file=sys.stderr)
    table = read_long_table(file, spec)
    description = _description(file, content_sha256, table, side)
    write_tabular(name, cache_dir, table.hyperparameters, table.configurations, spec.fidelity,
                  table.fidelity_values.tolist(), table.objective_names,
                  {TASK: lambda out: out.__setitem__(Ellipsis, table.evaluations)}, len(table.seed_labels),
                  description["source"], {"description": description["description"],
                                          "seed_labels": description["seed_labels"]},
                  replace=(cache_root(cache_dir) / name).exists(),  # keep a copy a concurrent run just finished
                  checksums=True, dtype=table.evaluations.dtype)


def _with_space(blackbox: TabularBlackbox) -> TabularBlackbox:
    """The opened blackbox, its description completed with the space (as the in-memory one)."""
    description = {k: v for k, v in blackbox.describe().items() if k not in ("kind", "num_configs", "num_seeds",
                                                                              "num_fidelities", "objectives")}
    description["hyperparameters"] = [hyperparameter_to_dict(hp) for hp in blackbox.config_space.hyperparameters]
    return TabularBlackbox(blackbox.config_space, blackbox.fidelity_values, blackbox.objective_names,
                           blackbox.evaluations, description, summary=blackbox.summary)


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
    space = ConfigSpace(table.hyperparameters, table=decode_configurations(table.hyperparameters, table.configurations))
    return TabularBlackbox(space, table.fidelity_values, table.objective_names, table.evaluations, description)
