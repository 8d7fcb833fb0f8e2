"""Find and read the finished runs below a folder into two tables.

A run directory (``outputs/<experiment>/<benchmark>/<method>/seed_<seed>``) counts only
if it holds the ``DONE`` marker, ``results.parquet`` and ``metadata.json`` (written by
:mod:`mfbench.results.store`). Directories that look like runs but are not finished are
reported, never silently skipped. Only the columns the analysis needs are read
(``trial_id``, the fidelity, the metric and ``sim_time``), in a thread pool, so
thousands of runs load in seconds.
"""
from __future__ import annotations

import json
import math
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from mfbench.analysis.report import Report
from mfbench.config.benchmark_name import benchmark_name
from mfbench.errors import ConfigError
from mfbench.results.store import DONE_MARKER, METADATA_FILE, RESULTS_FILE, RunDirectory

if TYPE_CHECKING:
    import pandas as pd

_RUN_NAME = re.compile(r"seed_\d+$")
_REQUIRED_METADATA = ("method", "benchmark", "seed", "metric")

#: Columns of :attr:`Results.runs` (one row per finished run).
RUN_COLUMNS = (
    "run_id", "path", "experiment", "benchmark", "method", "setup", "seed", "metric", "mode",
    "fidelity_attr", "budget", "simulated_time", "stop_reason", "real_seconds", "num_results",
    "n_nan", "first_time", "final_best", "best_in_table", "global_optimum", "best_in_table_definition", "offset",
    "length",
)
#: Columns of :attr:`Results.trajectories` (one row per reported result, arrival order).
TRAJECTORY_COLUMNS = (
    "run_id", "experiment", "benchmark", "setup", "method", "seed", "trial_id", "fidelity",
    "sim_time", "value", "best",
)


@dataclass
class Results:
    """All finished runs below a folder.

    Attributes:
        runs: one row per finished run (columns :data:`RUN_COLUMNS`): ``setup`` is the
            label curves are grouped by (the method unless other ``setup_keys`` were
            given), ``budget`` the simulated budget in seconds (``inf`` if the run had
            no time limit), ``simulated_time`` the simulated seconds the run covered,
            ``real_seconds`` the wall-clock seconds it took, ``n_nan`` its results with
            a NaN metric, ``first_time`` the simulated time of its first non-NaN metric
            (NaN if there is none), ``final_best`` its best metric, ``offset``/``length``
            the slice of its rows in :attr:`trajectories`.
        trajectories: long format, one row per reported result in arrival order
            (columns :data:`TRAJECTORY_COLUMNS`): ``value`` is the metric, ``best`` the
            running best of the metric over all rows so far (any fidelity, NaN ignored;
            minimum for ``mode=min``, maximum for ``mode=max``), ``sim_time`` in
            simulated seconds.
        report: what was noticed while loading (unfinished directories, NaN metrics,
            missing seeds, ...).
        root: the folder that was searched.
    """

    runs: "pd.DataFrame"
    trajectories: "pd.DataFrame"
    report: Report
    root: Path
    _groups: dict[tuple[str, str], np.ndarray] | None = field(default=None, init=False, repr=False)

    @property
    def benchmarks(self) -> list[str]:
        """Benchmarks in sorted order."""
        return sorted(self.runs["benchmark"].unique().tolist())

    def setups(self, benchmark: str | None = None) -> list[str]:
        """Setups (methods) in sorted order, of one benchmark or of all."""
        runs = self.runs if benchmark is None else self.runs[self.runs["benchmark"] == benchmark]
        return sorted(runs["setup"].unique().tolist())

    def benchmark_info(self, benchmark: str) -> dict[str, Any]:
        """``metric``, ``mode``, ``budget``, ``best_in_table``, ``global_optimum`` of a benchmark.

        And ``best_in_table_definition``: how the table's best was taken (e.g. over
        configurations x table seeds at the max fidelity), ``""`` when the runs do not say.
        """
        runs = self.runs[self.runs["benchmark"] == benchmark]
        if runs.empty:
            raise KeyError(f"no runs of benchmark {benchmark!r}; known: {self.benchmarks}")
        first = runs.iloc[0]
        budgets = runs["budget"].to_numpy(dtype=np.float64)
        finite = budgets[np.isfinite(budgets)]
        budget = float(finite.max()) if finite.size else float(runs["simulated_time"].max())
        return {
            "metric": first["metric"],
            "mode": first["mode"],
            "budget": budget,
            "best_in_table": _first_finite(runs["best_in_table"]),
            "global_optimum": _first_finite(runs["global_optimum"]),
            "best_in_table_definition": str(first["best_in_table_definition"]),
        }

    def run_indices(self, benchmark: str, setup: str) -> np.ndarray:
        """Row positions in :attr:`runs` of one setup's runs, ordered by seed."""
        if self._groups is None:
            self._groups = {key: rows[np.argsort(self.runs["seed"].to_numpy()[rows], kind="stable")]
                            for key, rows in self.runs.groupby(["benchmark", "setup"], sort=False).indices.items()}
        return self._groups.get((benchmark, setup), np.empty(0, dtype=np.int64))

    def rows_of(self, position: int) -> slice:
        """The slice of :attr:`trajectories` holding the run at row position ``position`` of :attr:`runs`."""
        offset = int(self.runs["offset"].iat[position])
        return slice(offset, offset + int(self.runs["length"].iat[position]))


#: What :func:`_read_run` gives: a run's metadata and its columns.
_Loaded = tuple[dict[str, Any], dict[str, np.ndarray]]


@dataclass(frozen=True)
class _Scan:
    """Run folders found by :func:`find_runs`: the finished ones, and the others with the files they hold."""

    finished: list[Path]
    unfinished: list[tuple[Path, list[str]]]


def find_runs(root: str | os.PathLike[str], exclude: Sequence[str | os.PathLike[str]] = ()) -> _Scan:
    """Run directories below ``root``: the finished ones, and the unfinished ones with their files.

    A directory is taken for a run if it holds ``DONE``, ``metadata.json`` or
    ``results.parquet``, or is named ``seed_<n>``; it is finished if it holds ``DONE`` (which
    vouches for the other two: a finished run that lacks one is corrupt, see
    :func:`_scan_for_runs`). Hidden directories and those in ``exclude`` are not searched.
    """
    root = Path(root)
    excluded = {Path(p).resolve() for p in exclude}
    finished: list[Path] = []
    unfinished: list[tuple[Path, list[str]]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        files = set(filenames)
        looks_like_run = bool(files & {DONE_MARKER, METADATA_FILE, RESULTS_FILE}) or bool(_RUN_NAME.match(here.name))
        if looks_like_run:
            dirnames[:] = []
            if DONE_MARKER in files:
                finished.append(here)
            else:
                unfinished.append((here, sorted(f for f in files if not f.startswith("."))))
            continue
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and (here / d).resolve() not in excluded)
    return _Scan(sorted(finished), sorted(unfinished))


def load_results(
    root: str | os.PathLike[str],
    metric: str | None = None,
    mode: str | None = None,
    setup_keys: Sequence[str] = ("method",),
    exclude: Sequence[str | os.PathLike[str]] = (),
    threads: int = 8,
) -> Results:
    """Read every finished run below ``root``.

    Args:
        root: a folder such as ``outputs/<experiment>`` (any depth above the runs).
        metric: the objective to analyse; default: each run's own ``metadata["metric"]``.
        mode: ``"min"`` or ``"max"`` for ``metric``; default: the runs' ``mode`` (required
            when ``metric`` is given and differs from the runs' metric).
        setup_keys: metadata keys (dotted paths allowed, e.g. ``"config.method.type"``)
            whose values, joined by ``/``, label the curves; default: the method.
        exclude: folders below ``root`` not to search (e.g. the analysis output).
        threads: parallel readers.

    Raises:
        FileNotFoundError: ``root`` does not exist or holds no finished run.
        ValueError: a run lacks the metric, the runs of a benchmark disagree on metric
            or mode, or two runs share benchmark, setup and seed.
    """
    import pandas as pd

    root = Path(root)
    _check_arguments(root, mode)
    report = Report()
    scan = _scan_for_runs(root, exclude, report)
    loaded = _read_runs(scan.finished, metric, threads)
    records, arrays = _keep_readable(scan.finished, loaded, root, metric, mode, setup_keys, report)
    runs = pd.DataFrame.from_records(records)
    _check_consistency(runs, root)
    _warn_one_benchmark_two_names(runs, report)
    lengths = _add_trajectory_slices(runs, arrays)
    bests = _add_run_summaries(runs, arrays)
    runs = runs[list(RUN_COLUMNS)]
    trajectories = _trajectories(runs, arrays, bests, lengths)
    _describe(runs, report, root)
    return Results(runs=runs, trajectories=trajectories, report=report, root=root)


def _check_arguments(root: Path, mode: str | None) -> None:
    """Refuse a missing folder or a mode other than ``"min"``/``"max"`` before any reading."""
    if not root.is_dir():
        raise FileNotFoundError(f"no such folder: {root}; pass the folder of an experiment, e.g. outputs/<experiment>")
    if mode is not None and mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")


def _scan_for_runs(root: Path, exclude: Sequence[str | os.PathLike[str]], report: Report) -> _Scan:
    """:func:`find_runs`, with a warning per unfinished or corrupt run; raises if nothing is finished.

    A finished run is analysed only if its files are what its ``DONE`` marker vouches for
    (:meth:`~mfbench.results.store.RunDirectory.verify`): a truncated or edited result is never averaged in.
    """
    scan = find_runs(root, exclude)
    sound, corrupt = [], []
    for path in scan.finished:
        problem = RunDirectory(path).verify()
        if problem is None:
            sound.append(path)
        else:
            corrupt.append(path)
            report.warn("corrupt", f"{_rel(path, root)} is corrupt ({problem}); it is not analysed. Rerun the "
                                   f"sweep's command to redo it (python -m mfbench.status shows the command).")
    scan = _Scan(sound, scan.unfinished)
    for path, files in scan.unfinished:
        what = ", ".join(files) if files else "nothing"
        report.warn("unfinished", f"{_rel(path, root)} has no complete result (holds {what}); it is not analysed. "
                                  f"Rerun the same command to finish it.")
    if not scan.finished:
        found = [f"{len(corrupt)} corrupt run folder(s) (e.g. {_rel(corrupt[0], root)}: its files are not what its "
                 f"{DONE_MARKER} vouches for; rerun the sweep's command to redo them)"] if corrupt else []
        found += [f"{len(scan.unfinished)} unfinished run folder(s)"] if scan.unfinished else []
        raise FileNotFoundError(
            f"no finished run (a folder with {DONE_MARKER}, {METADATA_FILE} and {RESULTS_FILE}) below {root}"
            + (f"; found {' and '.join(found)}" if found else "")
        )
    return scan


def _read_runs(paths: list[Path], metric: str | None, threads: int) -> list[_Loaded | Exception]:
    """:func:`_read_run` of each path in a thread pool (parquet reads release the GIL), in order.

    A run that cannot be read gives its exception instead, so one bad folder does not
    stop the others; :func:`_keep_readable` decides what each exception means.
    """
    def read(path: Path) -> _Loaded | Exception:
        try:
            return _read_run(path, metric)
        except (OSError, ValueError, KeyError) as error:  # corrupt or incompatible files
            return error

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        return list(pool.map(read, paths))


def _keep_readable(paths: list[Path], loaded: list[_Loaded | Exception], root: Path, metric: str | None,
                   mode: str | None, setup_keys: Sequence[str],
                   report: Report) -> tuple[list[dict[str, Any]], list[dict[str, np.ndarray]]]:
    """The run records (see :func:`_record`) and column arrays of the runs that could be read.

    An unreadable run is reported and skipped; a missing metric column is an error, since
    it means ``--metric`` names no objective of the runs (every run would be skipped).

    Raises:
        FileNotFoundError: no run could be read.
    """
    records: list[dict[str, Any]] = []
    arrays: list[dict[str, np.ndarray]] = []
    for path, item in zip(paths, loaded):
        if isinstance(item, Exception):
            if isinstance(item, _MissingMetric):
                raise ValueError(str(item)) from None
            report.warn("unreadable", f"{_rel(path, root)} is marked finished but cannot be read ({item}); "
                                      f"it is not analysed. Rerun it with overwrite=true.")
            continue
        meta, cols = item
        records.append(_record(path, root, meta, cols, metric, mode, setup_keys))
        arrays.append(cols)
    if not records:
        raise FileNotFoundError(f"no readable finished run below {root}; see the warnings above")
    return records, arrays


def _add_trajectory_slices(runs: "pd.DataFrame", arrays: list[dict[str, np.ndarray]]) -> np.ndarray:
    """Add ``offset``, ``length`` (rows in the trajectories table) and ``run_id`` to ``runs``.

    The trajectories are the runs' arrays concatenated in the order of ``runs``. Returns
    the lengths, shape ``(len(runs),)``, int64.
    """
    lengths = np.array([len(c["sim_time"]) for c in arrays], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    runs["offset"] = offsets
    runs["length"] = lengths
    runs["run_id"] = np.arange(len(runs), dtype=np.int64)
    return lengths


def _add_run_summaries(runs: "pd.DataFrame", arrays: list[dict[str, np.ndarray]]) -> list[np.ndarray]:
    """Add ``n_nan``, ``first_time`` (simulated s) and ``final_best`` to ``runs``.

    Returns each run's running best (NaN-aware, in its own mode), shape ``(length,)`` each.
    """
    bests, n_nan, first_time, final = [], [], [], []
    for cols, run_mode in zip(arrays, runs["mode"]):
        best = running_best(cols["value"], run_mode)
        bests.append(best)
        finite = ~np.isnan(cols["value"])
        n_nan.append(int((~finite).sum()))
        first_time.append(float(cols["sim_time"][finite][0]) if finite.any() else math.nan)
        final.append(float(best[-1]) if len(best) else math.nan)
    runs["n_nan"] = n_nan
    runs["first_time"] = first_time
    runs["final_best"] = final
    return bests


def running_best(values: np.ndarray, mode: str) -> np.ndarray:
    """Running best of ``values`` (shape ``(n,)``), ignoring NaN; NaN until the first non-NaN value.

    ``mode="min"`` gives the running minimum, ``"max"`` the running maximum.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return values.copy()
    op = np.fmin if mode == "min" else np.fmax
    return op.accumulate(values)


class _MissingMetric(ValueError):
    pass


def _read_run(path: Path, metric: str | None) -> _Loaded:
    """A run's metadata and the columns the analysis needs, each of shape ``(num_results,)``.

    Columns: ``trial_id`` (int64), ``sim_time`` (float64, simulated s), ``value`` (the
    metric, float64) and ``fidelity`` (float64; NaN when the results lack the fidelity).

    Raises:
        _MissingMetric: ``results.parquet`` lacks the metric, ``trial_id`` or ``sim_time``.
        ValueError: ``metadata.json`` lacks a required key.
    """
    import pyarrow.parquet as pq

    with open(path / METADATA_FILE, encoding="utf-8") as f:
        meta = json.load(f)
    lacking = [k for k in _REQUIRED_METADATA if k not in meta]
    if lacking:
        raise ValueError(f"{METADATA_FILE} lacks {lacking}")
    name = metric or meta["metric"]
    fidelity = meta.get("fidelity_attr", "epoch")
    results = pq.ParquetFile(path / RESULTS_FILE)
    available = results.schema_arrow.names
    missing = [c for c in ("trial_id", "sim_time", name) if c not in available]
    if missing:
        raise _MissingMetric(
            f"{path / RESULTS_FILE} has no column(s) {missing}; its columns are {available}. "
            f"Choose --metric among its objectives."
        )
    wanted = ["trial_id", "sim_time", name] + ([fidelity] if fidelity in available else [])
    table = results.read(columns=wanted, use_threads=False)
    cols = {
        "trial_id": table.column("trial_id").to_numpy().astype(np.int64, copy=False),
        "sim_time": table.column("sim_time").to_numpy().astype(np.float64, copy=False),
        "value": table.column(name).to_numpy(zero_copy_only=False).astype(np.float64, copy=False),
        "fidelity": (table.column(fidelity).to_numpy().astype(np.float64, copy=False)
                     if fidelity in available else np.full(table.num_rows, np.nan)),
    }
    return meta, cols


def _lookup(meta: dict[str, Any], key: str) -> Any:
    value: Any = meta
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(key)
        value = value[part]
    return value


def _record(path: Path, root: Path, meta: dict[str, Any], cols: dict[str, np.ndarray], metric: str | None,
            mode: str | None, setup_keys: Sequence[str]) -> dict[str, Any]:
    """One row of :attr:`Results.runs` from a run's metadata, without the columns computed later.

    Raises:
        ValueError: a setup key is not in the metadata, or ``mode`` contradicts the runs'
            own mode, or ``metric`` is another objective and ``mode`` is not given.
    """
    try:
        setup = "/".join(str(_lookup(meta, k)) for k in setup_keys)
    except KeyError as error:
        raise ValueError(f"{path / METADATA_FILE} has no key {error.args[0]!r} to label setups by; "
                         f"use keys of metadata.json such as method, experiment or config.method.type") from None
    own_metric = metric is None or metric == meta.get("metric")
    if own_metric:
        run_mode = meta.get("mode", "min")
        if mode is not None and mode != run_mode:
            raise ValueError(f"{path / METADATA_FILE}: metric {meta.get('metric')!r} has mode {run_mode!r}, "
                             f"not {mode!r}; drop --mode")
    elif mode is None:
        raise ValueError(f"--metric {metric} differs from the runs' metric {meta.get('metric')!r}; "
                         f"give its --mode (min or max) too")
    else:
        run_mode = mode
    blackbox = meta.get("blackbox") or {}
    return {
        "path": str(path),
        "experiment": str(meta.get("experiment", "")),
        "benchmark": _benchmark_name(meta),
        "method": str(meta["method"]),
        "setup": setup,
        "seed": int(meta["seed"]),
        "metric": metric or meta["metric"],
        "mode": run_mode,
        "fidelity_attr": meta.get("fidelity_attr", "epoch"),
        "budget": _as_float((meta.get("stopping") or {}).get("max_wallclock_time")),
        "simulated_time": _as_float(meta.get("simulated_time"), default=float(cols["sim_time"].max(initial=0.0))),
        "stop_reason": str(meta.get("stop_reason", "")),
        "real_seconds": _as_float((meta.get("real_time") or {}).get("seconds"), default=math.nan),
        "num_results": int(len(cols["sim_time"])),
        # The table's best and the optimum refer to the benchmark's own metric only.
        "best_in_table": _as_float(blackbox.get("best_in_table"), default=math.nan) if own_metric else math.nan,
        "global_optimum": _as_float(blackbox.get("global_optimum"), default=math.nan) if own_metric else math.nan,
        "best_in_table_definition": str(blackbox.get("best_in_table_definition", "")) if own_metric else "",
        "identity": _surrogate_identity(blackbox),  # dropped once checked (_warn_one_benchmark_two_names)
    }


def _surrogate_identity(blackbox: dict[str, Any]) -> str:
    """What makes a YAHPO benchmark what it is (scenario, instance, fidelity levels, constants), as
    text; ``""`` for other blackboxes (their name is the file, task or option that makes them)."""
    if not blackbox.get("scenario") or blackbox.get("instance") is None:
        return ""
    keys = ("scenario", "instance", "fidelity_levels", "constants")
    return json.dumps({key: blackbox.get(key) for key in keys}, sort_keys=True, default=str)


def _warn_one_benchmark_two_names(runs: "pd.DataFrame", report: Report) -> None:
    """Warn when runs of one YAHPO scenario and instance carry two benchmark names (the named YAML
    and ``benchmark=yahpo benchmark.scenario=...`` with the default instance): the analysis counts
    them as two benchmarks, so in a suite that instance weighs twice."""
    named = runs[runs["identity"] != ""]
    for identity, group in named.groupby("identity"):
        names = sorted(set(group["benchmark"]))
        if len(names) > 1:
            what = json.loads(identity)
            report.warn("one-benchmark-two-names", f"benchmarks {names} are one benchmark (YAHPO "
                                                   f"{what['scenario']}, instance {what['instance']}) under "
                                                   f"{len(names)} names: they are analysed apart, and in a suite "
                                                   f"that instance counts {len(names)} times; run it under one name")


def _benchmark_name(meta: dict[str, Any]) -> str:
    """The run's benchmark name; a table (function) run finished before they were named after their
    file (``benchmark: table``) gets the name a run of today has, so an old study resumed since
    is analysed as one benchmark (:mod:`mfbench.config.benchmark_name`)."""
    config = meta.get("config") or {}
    try:
        return benchmark_name(str(meta["benchmark"]), config.get("benchmark") if isinstance(config, dict) else None)
    except ConfigError:  # a name that is no folder name: it is one already (the metadata of a folder)
        return str(meta["benchmark"])


def _as_float(value: Any, default: float = math.inf) -> float:
    if value is None:
        return default
    try:
        return float(value)  # also parses "inf"
    except (TypeError, ValueError):
        return default


def _first_finite(values: "pd.Series") -> float | None:
    arr = values.to_numpy(dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    return float(arr[0]) if arr.size else None


def _check_consistency(runs: "pd.DataFrame", root: Path) -> None:
    """Refuse runs of one benchmark with different metrics or modes, and duplicated (benchmark, setup, seed)."""
    for benchmark, group in runs.groupby("benchmark", sort=True):
        for column in ("metric", "mode"):
            values = sorted(group[column].unique().tolist())
            if len(values) > 1:
                raise ValueError(f"runs of benchmark {benchmark!r} disagree on {column}: {values}; analyse "
                                 f"them separately (one experiment folder each) or pass --metric/--mode")
    duplicated = runs[runs.duplicated(["benchmark", "setup", "seed"], keep=False)]
    if not duplicated.empty:
        first = duplicated.sort_values(["benchmark", "setup", "seed"]).head(4)
        paths = "; ".join(_rel(Path(p), root) for p in first["path"])
        raise ValueError(
            f"{len(duplicated)} runs share benchmark, setup and seed (e.g. {paths}); analyse one experiment "
            f"folder at a time, or label setups by more keys (--setup-keys experiment,method)"
        )


def _trajectories(runs: "pd.DataFrame", arrays: list[dict[str, np.ndarray]], bests: list[np.ndarray],
                  lengths: np.ndarray) -> "pd.DataFrame":
    """:attr:`Results.trajectories`: the runs' arrays stacked, ``lengths.sum()`` rows.

    The run-level labels are repeated per row as categoricals (small and fast to group by).
    """
    import pandas as pd

    def cat(column: str) -> "pd.Categorical":
        labels = runs[column].astype("category")
        return pd.Categorical.from_codes(np.repeat(labels.cat.codes.to_numpy(), lengths), labels.cat.categories)

    def stack(key: str) -> np.ndarray:
        return np.concatenate([c[key] for c in arrays]) if arrays else np.empty(0)

    return pd.DataFrame({
        "run_id": np.repeat(runs["run_id"].to_numpy(), lengths),
        "experiment": cat("experiment"),
        "benchmark": cat("benchmark"),
        "setup": cat("setup"),
        "method": cat("method"),
        "seed": np.repeat(runs["seed"].to_numpy(), lengths),
        "trial_id": stack("trial_id").astype(np.int64),
        "fidelity": stack("fidelity"),
        "sim_time": stack("sim_time"),
        "value": stack("value"),
        "best": np.concatenate(bests) if bests else np.empty(0),
    })


def _describe(runs: "pd.DataFrame", report: Report, root: Path) -> None:
    """Report missing seeds, NaN metrics, empty runs and unequal budgets."""
    for benchmark, group in runs.groupby("benchmark", sort=True):
        all_seeds = set(group["seed"].tolist())
        for setup, sub in group.groupby("setup", sort=True):
            missing = sorted(all_seeds - set(sub["seed"].tolist()))
            if missing:
                report.warn("missing-seeds", f"{benchmark}/{setup} has no finished run for seed(s) {missing} that "
                                             f"other methods have; its statistics use {len(sub)} seed(s) and "
                                             f"ranks use only seeds every method has.")
            nan_runs = sub[sub["n_nan"] > 0]
            if not nan_runs.empty:
                parts = ", ".join(f"seed {s}: {n} of {t}" for s, n, t in
                                  zip(nan_runs["seed"], nan_runs["n_nan"], nan_runs["num_results"]))
                report.warn("nan", f"{benchmark}/{setup} has results with a NaN metric ({parts}); they are "
                                   f"ignored by the running best.")
            empty = sub[np.isnan(sub["first_time"].to_numpy(dtype=np.float64))]
            if not empty.empty:
                report.warn("no-values", f"{benchmark}/{setup} seed(s) {sorted(empty['seed'].tolist())} have no "
                                         f"non-NaN metric value at all; they are left out of curves, ranks and "
                                         f"tables.")
        budgets = sorted(set(group["budget"].tolist()))
        if len(budgets) > 1:
            report.warn("budget", f"runs of {benchmark} have different simulated budgets {budgets}; curves and "
                                  f"ranks use the largest.")
        if group["mode"].iloc[0] == "max":
            report.info("mode", f"{benchmark}: metric {group['metric'].iloc[0]!r} is maximised (mode=max); "
                                f"curves show the running maximum, rank 1 is the largest value.")


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root)) or "."
    except ValueError:
        return str(path)
