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

A study over several benchmarks is also analysed as a suite (:mod:`mfbench.analysis.suite`:
one block per benchmark instance, seeds averaged), which adds ``suite.png|pdf`` (normalised
regret and average rank over instances against the fraction of the budget),
``cd_diagram_suite.png|pdf``, ``suite_over_time.csv``, ``suite_summary.csv|md|tex``,
``suite_pairwise.csv`` and a suite section in ``statistics.json|md``. The anytime figures of
each benchmark are then drawn only for up to :data:`PER_BENCHMARK_FIGURES` benchmarks unless
asked for (``per_benchmark_figures``). A study of one benchmark is analysed as before.
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
from mfbench.analysis.ranking import RankAnalysis, power_notes, rank_analysis
from mfbench.analysis.report import Report
from mfbench.analysis.suite import SuiteAnalysis, suite_analysis

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
    suite: SuiteAnalysis | None = None


#: Most benchmarks whose anytime figures are drawn by default: a suite of 34 tasks gets its suite
#: figure instead of 34 more (``per_benchmark_figures=True`` / ``--per-benchmark-figures on`` draws them).
PER_BENCHMARK_FIGURES = 8


def analyze(root: str | os.PathLike[str], out: str | os.PathLike[str] | None = None, statistic: Statistic = "iqm",
            regret: RegretReference | None = None, extend: bool = False, log_x: bool | None = None,
            log_y: bool | None = None, alpha: float = 0.05, formats: Sequence[str] = ("png", "pdf"),
            setup_keys: Sequence[str] = ("method",), metric: str | None = None, mode: str | None = None,
            plots: bool = True, per_benchmark_figures: bool | None = None) -> Analysis:
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
        per_benchmark_figures: draw the anytime figure of every benchmark (True), of none (False),
            or (None) of each when there are at most :data:`PER_BENCHMARK_FIGURES` benchmarks; a
            suite's figure is drawn whenever there are several.
    """
    from mfbench.analysis.plots import plot_anytime, safe_name, save_figure, setup_styles
    from mfbench.analysis.tables import final_table, write_suite_tables, write_tables

    root = Path(root)
    out = Path(out) if out is not None else root / "analysis"
    results = load_results(root, metric=metric, mode=mode, setup_keys=setup_keys, exclude=[out])
    curves = aggregate(results, statistic=statistic, regret=regret, extend=extend)
    ranks = rank_analysis(results, alpha=alpha)
    suite = suite_analysis(results, ranks, statistic) if len(results.benchmarks) > 1 else None
    report = Report()
    for part in (results.report, curves.report, ranks.report) + ((suite.ranks.report,) if suite else ()):
        report.extend(part)
    references = curves.references if regret else None
    table = final_table(results, references)

    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    styles = setup_styles(results.setups())
    if per_benchmark_figures is None:
        per_benchmark_figures = len(results.benchmarks) <= PER_BENCHMARK_FIGURES
        if plots and not per_benchmark_figures:
            report.info("figures", f"no anytime figure per benchmark: {len(results.benchmarks)} benchmarks (more than "
                                   f"{PER_BENCHMARK_FIGURES}); the suite figure aggregates them. "
                                   f"--per-benchmark-figures on draws them.")
    if plots:
        for benchmark in (results.benchmarks if per_benchmark_figures else []):
            if (curves.table["benchmark"] == benchmark).any():
                info = results.benchmark_info(benchmark)
                line = None
                if regret:
                    ylabel = f"regret of best {info['metric']} so far"
                    title = f"{benchmark}: {ylabel} w.r.t. {regret_label(results, benchmark, regret, curves)}"
                else:
                    ylabel = f"best {info['metric']} so far ({info['mode']})"
                    title = None
                    if info["best_in_table"] is not None:
                        line = ("best in table", info["best_in_table"])
                fig = plot_anytime(curves.table, benchmark, statistic, ylabel, log_x=log_x, log_y=log_y,
                                   reference=line, styles=styles, title=title)
                files += save_figure(fig, out / f"anytime_{safe_name(benchmark)}", formats)
        files += _rank_figures(ranks, styles, log_x, out, formats, report)
        if suite is not None:
            files += _suite_figures(suite, styles, log_x, out, formats)

    if not ranks.over_time.empty:
        path = out / "ranks_over_time.csv"
        ranks.over_time.to_csv(path, index=False)
        files.append(path)
    metrics = _metric_phrase(results)
    stats = ranks.to_dict()
    markdown = statistics_markdown(ranks, f"final best {metrics}")
    if suite is not None:
        stats["suite"] = suite.to_dict()
        markdown += "\n" + suite_statistics_markdown(suite, f"final best {metrics}")
        files += write_suite_tables(suite, out)
        path = out / "suite_over_time.csv"
        suite.over_time().to_csv(path, index=False)
        files.append(path)
    for name, text in (("statistics.json", json.dumps(_jsonable(stats), indent=2) + "\n"),
                       ("statistics.md", markdown)):
        (out / name).write_text(text, encoding="utf-8")
        files.append(out / name)
    modes = {b: ("min" if regret else results.benchmark_info(b)["mode"]) for b in results.benchmarks}
    quantity, caption = _table_caption(results, regret, curves, metrics)
    files += write_tables(table, modes, out, quantity=quantity, caption=caption)
    results.trajectories.to_parquet(out / "trajectories.parquet", index=False)
    results.runs.drop(columns=["offset", "length"]).to_csv(out / "runs.csv", index=False)
    curves.table.assign(statistic=statistic).to_parquet(out / "curves.parquet", index=False)
    files += [out / "trajectories.parquet", out / "runs.csv", out / "curves.parquet"]
    header = (f"# Analysis of {root}\n\n{len(results.runs)} finished runs, benchmarks {results.benchmarks}, "
              f"setups {results.setups()}; curves: {BAND_LABELS[statistic]}"
              f"{', regret w.r.t. ' + regret if regret else ''}.\n\n")
    (out / "report.md").write_text(header + report.to_markdown(), encoding="utf-8")
    files.append(out / "report.md")
    return Analysis(results, curves, ranks, table, report, out, files, suite)


#: How each regret reference is named in titles and captions.
REGRET_NAMES = {"table": "the best value in the table", "optimum": "the known optimum",
                "observed": "the best value any analysed run reached"}


def regret_label(results: Results, benchmark: str, regret: str, curves: Curves, named: bool = True) -> str:
    """What regret on ``benchmark`` is taken against, e.g. ``"the best value in the table (0.2628)"``.

    Says so when runs beat the table's best or the optimum and the reference was lowered to
    the best observed value (:func:`~mfbench.analysis.aggregate.regret_reference`).
    ``named=False`` leaves out the reference's name (``"0.2628"``), for a list under one name.
    """
    reference = curves.references.get(benchmark)
    if reference is None:
        return REGRET_NAMES[regret]
    key = {"table": "best_in_table", "optimum": "global_optimum"}.get(regret)
    recorded = results.benchmark_info(benchmark)[key] if key else None
    if recorded is not None and not math.isclose(recorded, reference, rel_tol=0.0, abs_tol=1e-12):
        return f"the best value observed ({reference:.4g}; runs beat {REGRET_NAMES[regret]}, {recorded:.4g})"
    return f"{REGRET_NAMES[regret]} ({reference:.4g})" if named else f"{reference:.4g}"


def _metric_phrase(results: Results) -> str:
    """The analysed metric and its mode, e.g. ``"metric_valid_error (min)"``, or one per benchmark."""
    infos = {b: results.benchmark_info(b) for b in results.benchmarks}
    kinds = {(i["metric"], i["mode"]) for i in infos.values()}
    if len(kinds) == 1:
        metric, mode = kinds.pop()
        return f"{metric} ({mode})"
    return "value of each benchmark's metric (" + "; ".join(f"{b}: {i['metric']}, {i['mode']}"
                                                            for b, i in infos.items()) + ")"


def _table_caption(results: Results, regret: str | None, curves: Curves, metrics: str) -> tuple[str, str]:
    """The final table's column heading (``quantity``) and a caption saying what its numbers are."""
    statistics = ("over seeds: mean ± standard error, median, IQM; the best per benchmark in bold. Real s: "
                  "wall-clock seconds the simulation took.")
    if not regret:
        return "final best", (f"Final best {metrics} of each run at the end of its simulated time (min: lower is "
                              f"better, max: higher is better), {statistics}")
    references = []
    for benchmark in results.benchmarks:
        label = regret_label(results, benchmark, regret, curves, named=False)
        definition = results.benchmark_info(benchmark)["best_in_table_definition"] if regret == "table" else ""
        references.append(f"{benchmark}: {label}" + (f"; best in table = {definition}" if definition else ""))
    return "final regret", (f"Final regret of {metrics} w.r.t. {REGRET_NAMES[regret]} ({'; '.join(references)}): "
                            f"the distance of each run's best value at the end of its simulated time to the "
                            f"reference (lower is better), {statistics}")


def _rank_figures(ranks: RankAnalysis, styles: dict[str, dict[str, Any]], log_x: bool | None, out: Path,
                  formats: Sequence[str], report: Report) -> list[Path]:
    """The average-rank and critical-difference figures, or a note in the report on why they are skipped."""
    from mfbench.analysis.plots import plot_cd_diagram, plot_ranks, save_figure

    files: list[Path] = []
    if len(ranks.setups) < 2:
        report.info("figures", f"no rank plot or critical-difference diagram: {len(ranks.setups)} method(s) ran on "
                               f"every benchmark, and ranks compare at least two.")
        return files
    if ranks.over_time.empty:
        report.info("figures", "no rank plot or critical-difference diagram: no (benchmark, seed) block in which "
                               "every method has a run (see the ranks notes).")
        return files
    files += save_figure(plot_ranks(ranks, styles=styles, log_x=log_x is not False), out / "ranks", formats)
    if ranks.cd is None:
        report.info("figures", f"no critical-difference diagram: the tests need at least 2 blocks (benchmark x "
                               f"seed), there is {len(ranks.blocks)}.")
    else:
        files += save_figure(plot_cd_diagram(ranks, styles=styles), out / "cd_diagram", formats)
    return files


def _suite_figures(suite: SuiteAnalysis, styles: dict[str, dict[str, Any]], log_x: bool | None, out: Path,
                   formats: Sequence[str]) -> list[Path]:
    """The suite figure and the critical-difference diagram over instances."""
    from mfbench.analysis.plots import plot_cd_diagram, plot_suite, save_figure

    files = save_figure(plot_suite(suite, styles=styles, log_x=log_x is not False), out / "suite", formats)
    title = f"Critical-difference diagram over {len(suite.instances)} benchmark instances, final average ranks"
    files += save_figure(plot_cd_diagram(suite.ranks, title=title, styles=styles), out / "cd_diagram_suite", formats)
    return files


def suite_statistics_markdown(suite: SuiteAnalysis, quantity: str = "final best value") -> str:
    """The suite's section of ``statistics.md``: its rank statistics over instances and why blocks are instances."""
    body = statistics_markdown(suite.ranks, f"{quantity}, averaged over the seeds,")
    body = body.replace("# Rank statistics at the end of the budget\n",
                        f"# The suite: rank statistics over {len(suite.instances)} benchmark instances\n\n"
                        "The ranks above count one block per (benchmark, seed). Seeds of one benchmark are not "
                        "independent data sets, so a study over several benchmarks is also tested as Demšar (2006) "
                        "tests classifiers over data sets: one block per benchmark instance, each method's final best "
                        "averaged over its seeds there (the seeds on which every method ran), then ranked. These are "
                        "the average ranks of suite_summary.md and of cd_diagram_suite.\n", 1)
    return body


def statistics_markdown(ranks: RankAnalysis, quantity: str = "final best value") -> str:
    """The rank statistics as Markdown, with one sentence on what each test means.

    ``quantity`` says what is ranked (e.g. ``"final best metric_valid_error (min)"``).
    """
    k, n = len(ranks.setups), len(ranks.blocks)
    lines = ["# Rank statistics at the end of the budget\n"]
    if k < 2:
        return "\n".join(lines) + (f"\nOne method ({', '.join(ranks.setups) or 'none'}) ran on every benchmark: "
                                   f"there is nothing to rank it against, so no ranks, Friedman or Nemenyi test and no "
                                   f"critical-difference diagram. Analyse a folder holding several methods.\n")
    lines.append(f"{k} methods ranked by their {quantity} in each of {n} block{'s' if n != 1 else ''} (a block is "
                 f"{ranks.words['definition']}). Rank 1 = best; ties share the average rank.\n")
    if n == 0:
        return "\n".join(lines) + "\nNo block in which every method has a run: nothing to rank (see report.md).\n"
    lines += ["| method | average rank |", "|---|---:|"]
    for i in np.argsort(ranks.average_ranks, kind="stable"):
        lines.append(f"| {ranks.setups[i]} | {ranks.average_ranks[i]:.3f} |")
    lines.append("")
    lines.append("The Friedman test asks whether the methods differ at all (null hypothesis: every method has the "
                 "same expected rank); the Nemenyi test then asks which pairs differ: two methods differ "
                 "significantly when their average ranks are more than the critical difference (CD) apart.\n")
    f = ranks.friedman
    if f is None:
        lines.append(f"No tests: they need at least 2 blocks, there is {n}. Run more seeds.\n")
        return "\n".join(lines)
    lines += [f"**Warning:** {note}\n" for note in power_notes(ranks)]
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
