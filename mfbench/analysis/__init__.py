"""Compare methods across seeds and benchmarks: anytime curves, ranks, statistical tests, tables.

Python API (the ``python -m mfbench.analysis`` command uses the same functions)::

    from mfbench.analysis import load_results, aggregate, plot_anytime, rank_analysis, final_table
    results = load_results("outputs/my_experiment")      # finished runs; results.report lists issues
    curves = aggregate(results, statistic="iqm")          # or "mean", "median"; regret="table"
    fig = plot_anytime(curves.table, "hartmann3", "iqm", "best value so far")
    ranks = rank_analysis(results)                        # ranks over time, Friedman, Nemenyi CD
    suite = suite_analysis(results, ranks)                # several benchmarks: ranks over instances
    results.trajectories                                  # long-format pandas DataFrame

Attributes are imported on first use so that importing this package stays cheap.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "load_results": "load", "Results": "load", "find_runs": "load", "running_best": "load",
    "aggregate": "aggregate", "Curves": "aggregate", "summarize": "aggregate", "align": "aggregate",
    "step_values": "aggregate", "regret_reference": "aggregate",
    "iqm": "iqm", "iqm_bootstrap_sd": "iqm",
    "rank_rows": "stats", "friedman": "stats", "friedman_from_average_ranks": "stats", "nemenyi_q": "stats",
    "critical_difference": "stats", "nemenyi_pvalues": "stats", "cliques": "stats",
    "rank_analysis": "ranking", "RankAnalysis": "ranking",
    "final_table": "tables", "write_tables": "tables", "to_markdown": "tables", "to_latex": "tables",
    "plot_anytime": "plots", "plot_ranks": "plots", "plot_cd_diagram": "plots", "save_figure": "plots",
    "analyze": "pipeline", "Analysis": "pipeline",
    "suite_analysis": "suite", "SuiteAnalysis": "suite", "normalised_regret": "suite", "plot_suite": "plots",
    "Report": "report", "Finding": "report",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"mfbench.analysis.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'mfbench.analysis' has no attribute {name!r}")
