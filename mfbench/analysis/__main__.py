"""``python -m mfbench.analysis <folder>``: analyse every finished run below a folder.

Writes anytime curves per benchmark, ranks over time, a critical-difference diagram,
rank statistics, final tables (Markdown, LaTeX, CSV), a long-format parquet of all
trajectories and a report of everything noticed; a study over several benchmarks is also
analysed as a suite (ranks and tests over benchmark instances, a suite figure and summary
table; see :mod:`mfbench.analysis.pipeline`).
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Sequence


def _switch(value: str) -> bool | None:
    value = value.lower()
    if value in ("auto",):
        return None
    if value in ("on", "true", "yes", "1"):
        return True
    if value in ("off", "false", "no", "0"):
        return False
    raise argparse.ArgumentTypeError(f"expected auto, on or off, got {value!r}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mfbench.analysis",
        description="Compare methods across seeds and benchmarks: anytime curves, average ranks, "
                    "critical-difference diagram (Friedman + Nemenyi), final tables and a long-format parquet.",
    )
    parser.add_argument("root", help="folder holding finished runs at any depth, e.g. outputs/<experiment>")
    parser.add_argument("-o", "--out", default=None, help="output folder (default: <root>/analysis)")
    parser.add_argument("-s", "--statistic", choices=("iqm", "mean", "median"), default="iqm",
                        help="aggregate over seeds: iqm (95%% bootstrap band, default), mean (± standard error), "
                             "median (25-75%% quantiles)")
    parser.add_argument("--regret", choices=("table", "optimum", "observed"), default=None,
                        help="show regret w.r.t. the best value in the benchmark's table, its known optimum, or "
                             "the best value any analysed run reached")
    parser.add_argument("--extend", action="store_true",
                        help="carry the final best of seeds that end early forward (default: a curve ends with "
                             "its shortest seed)")
    parser.add_argument("--log-x", type=_switch, default=None, metavar="{auto,on,off}",
                        help="log-scaled time axis (default auto)")
    parser.add_argument("--log-y", type=_switch, default=None, metavar="{auto,on,off}",
                        help="log-scaled y axis (default auto: on for regret spanning decades)")
    parser.add_argument("--alpha", type=float, default=0.05, help="significance level of the Nemenyi test")
    parser.add_argument("--formats", default="png,pdf", help="figure formats, comma-separated (default png,pdf)")
    parser.add_argument("--no-plots", action="store_true", help="write tables and data only")
    parser.add_argument("--per-benchmark-figures", type=_switch, default=None, metavar="{auto,on,off}",
                        help="an anytime figure per benchmark (default auto: when there are at most 8 benchmarks; "
                             "a suite of more gets its suite figure only)")
    parser.add_argument("--setup-keys", default="method",
                        help="metadata keys labelling the compared setups, comma-separated (default method; "
                             "e.g. experiment,method to compare experiments)")
    parser.add_argument("--metric", default=None, help="analyse this objective instead of the runs' metric")
    parser.add_argument("--mode", choices=("min", "max"), default=None, help="mode of --metric")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from mfbench.analysis.pipeline import analyze

    started = time.perf_counter()
    try:
        analysis = analyze(
            args.root, out=args.out, statistic=args.statistic, regret=args.regret, extend=args.extend,
            log_x=args.log_x, log_y=args.log_y, alpha=args.alpha,
            formats=[f.strip() for f in args.formats.split(",") if f.strip()],
            setup_keys=[k.strip() for k in args.setup_keys.split(",") if k.strip()],
            metric=args.metric, mode=args.mode, plots=not args.no_plots,
            per_benchmark_figures=args.per_benchmark_figures,
        )
    except (FileNotFoundError, ValueError) as error:
        print(f"mfbench.analysis: error: {error}", file=sys.stderr)
        return 2
    results = analysis.results
    for finding in analysis.report.warnings:
        print(f"warning: [{finding.topic}] {finding.message}", file=sys.stderr)
    print(f"mfbench.analysis: {len(results.runs)} finished runs, {len(results.trajectories)} results, "
          f"benchmarks {results.benchmarks}, setups {results.setups()}")
    ranks = analysis.ranks
    if len(ranks.blocks) and len(ranks.setups) > 1:
        order = ranks.average_ranks.argsort(kind="stable")
        print("  final average ranks: " + ", ".join(f"{ranks.setups[i]} {ranks.average_ranks[i]:.2f}"
                                                    for i in order)
              + (f" (CD {ranks.cd:.2f}, Friedman p = {ranks.friedman.p_chi2:.3g})" if ranks.cd is not None else ""))
    suite = analysis.suite
    if suite is not None and suite.ranks.friedman is not None:  # a suite has >= 2 instances: always tested
        average = suite.ranks.average_ranks
        print(f"  suite of {len(suite.instances)} benchmarks, average ranks over instances: "
              + ", ".join(f"{suite.setups[i]} {average[i]:.2f}" for i in average.argsort(kind="stable"))
              + f" (CD {suite.ranks.cd:.2f}, Friedman p = {suite.ranks.friedman.p_chi2:.3g})")
    print(f"  {len(analysis.report.warnings)} warning(s), see {analysis.out / 'report.md'}")
    print(f"  wrote {len(analysis.files)} files to {analysis.out} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
