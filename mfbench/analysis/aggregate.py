"""Anytime curves: align the running best of each seed on one time axis and summarise over seeds.

Follows Syne Tune's ``aggregate_and_errors_over_time`` (docs/analysis.md): the
curve of a run is the running best of the metric over all its results in arrival order
(any fidelity) against ``sim_time``; the seeds of a setup are put on the union of their
time stamps and forward-filled; the aggregated curve starts where every seed has a
value (the latest first result). Differences, each reported: when several results share
a time stamp the state after all of them counts (Syne Tune keeps the first); a run is
known up to the simulated time it covered, so by default a curve ends where its
shortest seed ends (``extend=True`` carries earlier-ending seeds' final bests forward,
as Syne Tune does); the mean's band is one standard error (Syne Tune: 1.95 standard
deviations / sqrt(n)).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Sequence

import numpy as np

from mfbench.analysis.iqm import iqm_bootstrap_sd, iqm_weights
from mfbench.analysis.load import Results
from mfbench.analysis.report import Report

if TYPE_CHECKING:
    import pandas as pd

Statistic = Literal["iqm", "mean", "median"]
RegretReference = Literal["table", "optimum", "observed"]
STATISTICS: tuple[str, ...] = ("iqm", "mean", "median")
REGRET_REFERENCES: tuple[str, ...] = ("table", "optimum", "observed")
#: How each statistic's band is described in plots and tables.
BAND_LABELS = {
    "iqm": "IQM, band: 95% bootstrap CI",
    "mean": "mean, band: ±1 standard error",
    "median": "median, band: 25-75% quantiles",
}


@dataclass
class Curves:
    """Aggregated anytime curves.

    Attributes:
        table: long format, one row per (benchmark, setup, time): ``time`` in simulated
            seconds, ``center``/``lower``/``upper`` the statistic and its band (equal when
            a setup has one seed), ``n_seeds``.
        statistic: ``"iqm"``, ``"mean"`` or ``"median"``.
        regret: the regret reference used, or None for the metric itself.
        references: per benchmark, the value regret is taken against (None without regret).
        report: what was noticed (curve starts, unequal run lengths, ...).
    """

    table: "pd.DataFrame"
    statistic: str
    regret: str | None
    references: dict[str, float | None] = field(default_factory=dict)
    report: Report = field(default_factory=Report)


def summarize(values: np.ndarray, statistic: Statistic) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Statistic over seeds and its band.

    Args:
        values: shape ``(n, T)``: ``n`` seeds at ``T`` time steps, no NaN.
        statistic: ``"iqm"`` (IQM ± 1.96 bootstrap standard deviations), ``"mean"``
            (mean ± one standard error, ``std(ddof=1)/sqrt(n)``) or ``"median"``
            (median with the 25% and 75% quantiles, linear interpolation).

    Returns:
        ``(center, lower, upper)``, each of shape ``(T,)``; the band collapses to the
        center for a single seed.
    """
    values = np.asarray(values, dtype=np.float64)
    n = values.shape[0]
    if n == 0:
        raise ValueError("cannot summarise zero seeds")
    if statistic == "iqm":
        ordered = np.sort(values.T, axis=1)  # (T, n), each row sorted
        center = ordered @ iqm_weights(n)
        error = 1.96 * iqm_bootstrap_sd(ordered.T, presorted=True) if n > 1 else np.zeros_like(center)
        return center, center - error, center + error
    if statistic == "mean":
        center = values.mean(axis=0)
        error = values.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else np.zeros_like(center)
        return center, center - error, center + error
    if statistic == "median":
        lower, center, upper = np.percentile(values, [25.0, 50.0, 75.0], axis=0)
        return center, lower, upper
    raise ValueError(f"unknown statistic {statistic!r}; choose one of {STATISTICS}")


def step_values(times: np.ndarray, values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Forward-fill a step function at ``grid`` (shape ``(G,)``).

    ``times`` (shape ``(m,)``, non-decreasing) and ``values`` give the function; at a
    repeated time stamp the last value counts; before ``times[0]`` the result is NaN.
    """
    times = np.asarray(times, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    index = np.searchsorted(times, grid, side="right") - 1
    out = values[np.clip(index, 0, None)] if len(values) else np.full(len(grid), np.nan)
    return np.where(index >= 0, out, np.nan)


def _fill_on_union(times: np.ndarray, values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """:func:`step_values` for a sorted ``grid`` that contains every one of ``times``.

    Linear in ``len(grid)``: the position of each time stamp in the grid marks where a
    new value starts, and a running maximum of those marks forward-fills.
    """
    marks = np.full(len(grid), -1, dtype=np.int64)
    # at a repeated time stamp the last result wins
    last = np.nonzero(np.append(times[1:] != times[:-1], True))[0]
    position = np.searchsorted(grid, times[last], side="left")
    inside = position < len(grid)
    marks[position[inside]] = last[inside]
    index = np.maximum.accumulate(marks)
    out = values[np.clip(index, 0, None)]
    return np.where(index >= 0, out, np.nan)


def align(times: Sequence[np.ndarray], values: Sequence[np.ndarray], ends: Sequence[float],
          extend: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Put several step functions on the union of their time stamps.

    Args:
        times: per run, shape ``(m_i,)``, non-decreasing, all values non-NaN.
        values: per run, shape ``(m_i,)``.
        ends: per run, the simulated time up to which it is known (``>= times[i][-1]``).
        extend: carry each run's last value up to the latest end instead of stopping
            at the earliest end.

    Returns:
        ``(grid, matrix)``: the union of time stamps and ends within
        ``[max_i times[i][0], min_i ends[i]]`` (``max_i ends[i]`` with ``extend``),
        shape ``(G,)``, and the forward-filled values, shape ``(n_runs, G)``; ``G = 0``
        if the window is empty.
    """
    if not times:
        raise ValueError("align needs at least one run")
    start = max(float(t[0]) for t in times)
    stop = max(ends) if extend else min(ends)
    if start > stop:
        return np.empty(0), np.empty((len(times), 0))
    grid = np.unique(np.concatenate([*times, np.asarray(ends, dtype=np.float64), [start]]))
    grid = grid[(grid >= start) & (grid <= stop)]
    matrix = np.empty((len(times), len(grid)))
    for i, (t, v) in enumerate(zip(times, values)):
        before = np.searchsorted(t, start, side="right")  # results up to the start collapse onto it
        head = v[before - 1:before]
        matrix[i] = _fill_on_union(np.concatenate([[start], t[before:]]), np.concatenate([head, v[before:]]), grid)
    return grid, matrix


def regret_reference(results: Results, benchmark: str, regret: RegretReference, report: Report) -> float:
    """The value regret is measured against on ``benchmark``.

    ``"table"``: the best value in the benchmark's table (``metadata.blackbox.best_in_table``);
    ``"optimum"``: the known global optimum; ``"observed"``: the best value any analysed
    run reached. If a run beat the table's best or the optimum (noisy benchmarks), the
    reference is lowered to the best observed value so regret stays >= 0, and this is
    reported.
    """
    if regret not in REGRET_REFERENCES:
        raise ValueError(f"unknown regret reference {regret!r}; choose one of {REGRET_REFERENCES}")
    info = results.benchmark_info(benchmark)
    runs = results.runs[results.runs["benchmark"] == benchmark]
    finals = runs["final_best"].to_numpy(dtype=np.float64)
    finals = finals[~np.isnan(finals)]
    observed = float(finals.min() if info["mode"] == "min" else finals.max())
    if regret == "observed":
        report.info("regret", f"{benchmark}: regret is taken w.r.t. the best value any analysed run reached "
                              f"({observed:.6g}).")
        return observed
    key = "best_in_table" if regret == "table" else "global_optimum"
    reference = info[key]
    if reference is None:
        raise ValueError(f"the metadata of {benchmark} has no blackbox.{key}; use --regret observed "
                         f"(regret w.r.t. the best value any run reached)")
    better = observed < reference if info["mode"] == "min" else observed > reference
    if better:
        report.warn("regret", f"{benchmark}: runs reached {observed:.6g}, better than the {key} {reference:.6g} "
                              f"(noisy evaluations); regret is taken w.r.t. {observed:.6g} so it stays >= 0.")
        return observed
    definition = info["best_in_table_definition"] if key == "best_in_table" else ""
    how = f" ({definition})" if definition else ""
    report.info("regret", f"{benchmark}: regret is taken w.r.t. the {key} {reference:.6g}{how}.")
    return float(reference)


def aggregate(results: Results, statistic: Statistic = "iqm", regret: RegretReference | None = None,
              extend: bool = False) -> Curves:
    """Anytime curves of every (benchmark, setup), aggregated over seeds.

    Args:
        results: from :func:`~mfbench.analysis.load.load_results`.
        statistic: see :func:`summarize`.
        regret: None for the running best of the metric, otherwise the reference of
            :func:`regret_reference` (the regret is ``best - ref`` for ``mode=min`` and
            ``ref - best`` for ``mode=max``).
        extend: carry final bests of seeds that end earlier forward (see :func:`align`).
    """
    import pandas as pd

    if statistic not in STATISTICS:
        raise ValueError(f"unknown statistic {statistic!r}; choose one of {STATISTICS}")
    report = Report()
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("benchmark", "setup", "time", "center", "lower", "upper",
                                                           "n_seeds")}
    references: dict[str, float | None] = {}
    best_all = results.trajectories["best"].to_numpy()
    time_all = results.trajectories["sim_time"].to_numpy()
    simulated = results.runs["simulated_time"].to_numpy(dtype=np.float64)
    seed_of = results.runs["seed"].to_numpy()
    stop_of = results.runs["stop_reason"].to_numpy()
    benchmark_codes = {b: i for i, b in enumerate(results.benchmarks)}
    setup_codes = {s: i for i, s in enumerate(results.setups())}
    for benchmark in results.benchmarks:
        info = results.benchmark_info(benchmark)
        reference = regret_reference(results, benchmark, regret, report) if regret else None
        references[benchmark] = reference
        sign = 1.0 if info["mode"] == "min" else -1.0
        starts = []
        for setup in results.setups(benchmark):
            times, values, ends, seeds, stops = [], [], [], [], []
            for position in results.run_indices(benchmark, setup):
                rows = results.rows_of(position)
                best = best_all[rows]
                keep = ~np.isnan(best)
                if not keep.any():
                    continue  # reported by load_results
                t = time_all[rows][keep]
                b = best[keep]
                if np.any(t[1:] < t[:-1]):
                    order = np.argsort(t, kind="stable")
                    t, b = t[order], b[order]
                if reference is not None:
                    b = sign * (b - reference)
                times.append(t)
                values.append(b)
                ends.append(max(float(simulated[position]), float(t[-1])))
                seeds.append(int(seed_of[position]))
                stops.append(str(stop_of[position]))
            if not times:
                continue
            grid, matrix = align(times, values, ends, extend)
            label = f"{benchmark}/{setup}"
            if grid.size == 0:
                report.warn("empty-curve", f"{label}: a seed ends before another has its first result; no curve.")
                continue
            starts.append(f"{setup} {grid[0]:.4g} s")
            if max(ends) - min(ends) > 1e-9 * max(1.0, max(ends)):
                short = [s for s, e in zip(seeds, ends) if e < max(ends)]
                reasons = sorted({r for r, e in zip(stops, ends) if e < max(ends)})
                if extend:
                    report.warn("unequal-length", f"{label}: seeds {short} end before {max(ends):.6g} s (stop reason "
                                                  f"{', '.join(reasons)}); their final bests are carried forward.")
                else:
                    report.warn("unequal-length", f"{label}: seeds {short} end before others (earliest "
                                                  f"{min(ends):.6g} s, latest {max(ends):.6g} s; stop reason "
                                                  f"{', '.join(reasons)}); the curve ends at {min(ends):.6g} s. "
                                                  f"Pass --extend to carry final bests forward.")
            if len(times) == 1:
                report.info("single-seed", f"{label}: one seed only, drawn without a band.")
            center, lower, upper = summarize(matrix, statistic)
            for key, value in (("benchmark", np.full(len(grid), benchmark_codes[benchmark], dtype=np.int32)),
                               ("setup", np.full(len(grid), setup_codes[setup], dtype=np.int32)), ("time", grid),
                               ("center", center), ("lower", lower), ("upper", upper),
                               ("n_seeds", np.full(len(grid), len(times), dtype=np.int64))):
                parts[key].append(value)
        if starts:
            report.info("curve-start", f"{benchmark}: curves start where every seed has a result: {'; '.join(starts)}.")
    columns = {k: (np.concatenate(v) if v else np.empty(0, dtype=np.int32)) for k, v in parts.items()}
    columns["benchmark"] = pd.Categorical.from_codes(columns["benchmark"], categories=list(benchmark_codes))
    columns["setup"] = pd.Categorical.from_codes(columns["setup"], categories=list(setup_codes))
    table = pd.DataFrame(columns)
    return Curves(table=table, statistic=statistic, regret=regret, references=references, report=report)
