"""The whole analysis of a folder of runs: load, aggregate, rank, tabulate, plot, write.

Output folder (default ``<root>/analysis``):

- ``anytime_<benchmark>.png|pdf``: anytime curves per benchmark;
- ``ranks.png|pdf``: average rank over time (fraction of the budget), ``ranks_over_time.csv``;
- ``cd_diagram.png|pdf``: critical-difference diagram at the end of the budget;
- ``statistics.json|md``: average ranks, Friedman and Iman-Davenport tests, Nemenyi
  critical difference and pairwise p-values, blocks used;
- ``final_table.csv|md|tex``: final best (or regret) per method and the real time spent;
- ``trajectories.parquet``: every result of every run, long format (see
  :data:`~mfbench.analysis.load.TRAJECTORY_COLUMNS`); ``runs.csv``: one row per run;
- ``curves.parquet``: the aggregated curves;
- ``report.md``: what was noticed (unfinished runs, missing seeds, NaN, ...).
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from mfbench.analysis.aggregate import BAND_LABELS, Curves, RegretReference, Statistic, aggregate
from mfbench.analysis.load import Results, load_results
from mfbench.analysis.ranking import RankAnalysis, rank_analysis
from mfbench.analysis.report import Report

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Analysis:
    """Everything :func:`analyze` computed, and the files it wrote."""

    results: Results
    curves: Curves
    ranks: RankAnalysis
    table: "pd.DataFrame"
    report: Report
    out: Path
    files: list[Path] = field(default_factory=list)


def analyze(root: str | os.PathLike[str], out: str | os.PathLike[str] | None = None, statistic: Statistic = "iqm",
            regret: RegretReference | None = None, extend: bool = False, log_x: bool | None = None,
            log_y: bool | None = None, alpha: float = 0.05, formats: Sequence[str] = ("png", "pdf"),
            setup_keys: Sequence[str] = ("method",), metric: str | None = None, mode: str | None = None,
            plots: bool = True) -> Analysis:
    """Analyse every finished run below ``root`` and write the outputs to ``out``.

    Args:
        root: e.g. ``outputs/<experiment>``.
        out: output folder (default ``<root>/analysis``).
        statistic: ``"iqm"`` (IQM, 95% bootstrap band), ``"mean"`` (± standard error)
            or ``"median"`` (25-75% quantiles).
        regret: plot and tabulate regret w.r.t. ``"table"`` (best value in the
            benchmark's table), ``"optimum"`` (known optimum) or ``"observed"`` (best
            value any run reached) instead of the metric.
        extend: carry final bests of seeds that end early forward (default: a curve
            ends with its shortest seed).
        log_x, log_y: force log axes on (True) or off (False); None decides per plot.
        alpha: significance level of the Nemenyi test.
        formats: figure formats.
        setup_keys: metadata keys that label the compared setups (default the method).
        metric, mode: analyse another objective than the runs' metric.
        plots: write figures (False: only tables and data).
    """
    from mfbench.analysis.plots import (
        plot_anytime,
        plot_cd_diagram,
        plot_ranks,
        safe_name,
        save_figure,
        setup_styles,
    )
    from mfbench.analysis.tables import final_table, write_tables

    root = Path(root)
    out = Path(out) if out is not None else root / "analysis"
    results = load_results(root, metric=metric, mode=mode, setup_keys=setup_keys, exclude=[out])
    curves = aggregate(results, statistic=statistic, regret=regret, extend=extend)
    ranks = rank_analysis(results, alpha=alpha)
    report = Report()
    for part in (results.report, curves.report, ranks.report):
        report.extend(part)
    references = curves.references if regret else None
    table = final_table(results, references)

    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    styles = setup_styles(results.setups())
    if plots:
        for benchmark in results.benchmarks:
            if (curves.table["benchmark"] == benchmark).any():
                info = results.benchmark_info(benchmark)
                if regret:
                    ylabel = f"regret of best {info['metric']} so far (ref. {curves.references[benchmark]:.4g})"
                    line = None
                else:
                    ylabel = f"best {info['metric']} so far ({info['mode']})"
                    line = ("best in table", info["best_in_table"]) if info["best_in_table"] is not None else None
                fig = plot_anytime(curves.table, benchmark, statistic, ylabel, log_x=log_x, log_y=log_y,
                                   reference=line, styles=styles)
                files += save_figure(fig, out / f"anytime_{safe_name(benchmark)}", formats)
        if not ranks.over_time.empty:
            files += save_figure(plot_ranks(ranks, styles=styles, log_x=log_x is not False), out / "ranks", formats)
        if ranks.cd is not None:
            files += save_figure(plot_cd_diagram(ranks), out / "cd_diagram", formats)

    if not ranks.over_time.empty:
        path = out / "ranks_over_time.csv"
        ranks.over_time.to_csv(path, index=False)
        files.append(path)
    stats = ranks.to_dict()
    for name, text in (("statistics.json", json.dumps(_jsonable(stats), indent=2) + "\n"),
                       ("statistics.md", statistics_markdown(ranks))):
        (out / name).write_text(text, encoding="utf-8")
        files.append(out / name)
    quantity = "final regret" if regret else "final best"
    modes = {b: ("min" if regret else results.benchmark_info(b)["mode"]) for b in results.benchmarks}
    files += write_tables(table, modes, out, quantity=quantity)
    results.trajectories.to_parquet(out / "trajectories.parquet", index=False)
    results.runs.drop(columns=["offset", "length"]).to_csv(out / "runs.csv", index=False)
    curves.table.assign(statistic=statistic).to_parquet(out / "curves.parquet", index=False)
    files += [out / "trajectories.parquet", out / "runs.csv", out / "curves.parquet"]
    header = (f"# Analysis of {root}\n\n{len(results.runs)} finished runs, benchmarks {results.benchmarks}, "
              f"setups {results.setups()}; curves: {BAND_LABELS[statistic]}"
              f"{', regret w.r.t. ' + regret if regret else ''}.\n\n")
    (out / "report.md").write_text(header + report.to_markdown(), encoding="utf-8")
    files.append(out / "report.md")
    return Analysis(results, curves, ranks, table, report, out, files)


def statistics_markdown(ranks: RankAnalysis) -> str:
    """The rank statistics as Markdown."""
    lines = ["# Rank statistics at the end of the budget\n"]
    n = len(ranks.blocks)
    lines.append(f"{len(ranks.setups)} methods, {n} blocks (benchmark x seed). Rank 1 = best; ties share the "
                 f"average rank.\n")
    if n == 0:
        return "\n".join(lines) + "\nNo common blocks: nothing to rank.\n"
    lines += ["| method | average rank |", "|---|---:|"]
    for i in np.argsort(ranks.average_ranks, kind="stable"):
        lines.append(f"| {ranks.setups[i]} | {ranks.average_ranks[i]:.3f} |")
    lines.append("")
    f = ranks.friedman
    if f is None:
        lines.append("Too few blocks or methods for the Friedman test.\n")
        return "\n".join(lines)
    lines.append(f"Friedman: chi2 = {f.chi2:.4g} (df {f.n_methods - 1}), p = {f.p_chi2:.4g}; Iman-Davenport "
                 f"F = {f.f_stat:.4g} (df {f.df[0]}, {f.df[1]}), p = {f.p_f:.4g}.\n")
    lines.append(f"Nemenyi: q_alpha = {ranks.q_alpha:.4g}, critical difference CD = {ranks.cd:.4g} at alpha = "
                 f"{ranks.alpha:g}.\n")
    groups = [", ".join(ranks.setups[i] for i in g) for g in ranks.cliques]
    lines.append("Not significantly different (average ranks within CD): "
                 + ("; ".join(f"{{{g}}}" for g in groups) if groups else "none (all pairs differ)") + "\n")
    if ranks.pvalues is not None:
        lines += ["Pairwise Nemenyi p-values:\n", "| | " + " | ".join(ranks.setups) + " |",
                  "|---|" + "---:|" * len(ranks.setups)]
        for i, a in enumerate(ranks.setups):
            lines.append(f"| {a} | " + " | ".join(f"{p:.3g}" for p in ranks.pvalues[i]) + " |")
    return "\n".join(lines) + "\n"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else str(v)
    if isinstance(value, np.integer):
        return int(value)
    return value
