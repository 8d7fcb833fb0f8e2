#!/usr/bin/env python
"""Side by side with the reference: mfbench vs Syne Tune 0.13.0 on the same table and seeds.

For each method and seed, runs mfbench in-process and the reference through
``benchmarks/reference/syne_tune_runner.py`` in its own virtual environment (it needs
``numpy<1.24``; install line in that script), on the same exported long-format table,
with the decision-time charge OFF on both sides (so both are reproducible). Reports per
method: the final best metric over the seeds (mean +- standard error, and a Welch t-test
p-value), the real time per run of both, and the speed ratio, as a Markdown table.

Reference results are cached as small JSON files under ``benchmarks/results/reference/``
so they are not recomputed; ``--timing-seeds K`` re-runs the reference for the first K
seeds in this run anyway, so the speed ratio is always measured side by side.

    python benchmarks/compare_with_syne_tune.py --benchmark hartmann6 \
        --methods asha_stop,asha_prom,asha6_stop,random_search --seeds 10
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

DEFAULT_RUNNER = HERE / "reference" / "syne_tune_runner.py"
DEFAULT_ST_PYTHON = Path("/work/st-venv/bin/python")


def export_table(benchmark_name: str, cache: Path) -> Path:
    """Export the benchmark's table once (reused while the file exists)."""
    from mfbench.api import compose
    from mfbench.app import _instantiate, resolve_config
    from mfbench.blackbox.export import export_long_format

    path = cache / f"{benchmark_name}.parquet"
    if path.is_file() and path.with_suffix(".json").is_file():
        return path
    config = resolve_config(compose([f"benchmark={benchmark_name}"]))
    benchmark = _instantiate(config["benchmark"])
    export_long_format(benchmark.open(), path, fidelity_attr=benchmark.fidelity_attr, metric=benchmark.metric,
                       mode=benchmark.mode, elapsed_time_attr=benchmark.elapsed_time_attr)
    return path


def run_ours(benchmark: str, method: str, seed: int, budget: float | None, n_workers: int | None,
             extra: list[str]) -> dict[str, Any]:
    from mfbench.api import compose, simulate

    overrides = [f"benchmark={benchmark}", f"method={method}", f"seed={seed}", *extra]
    if budget is not None:
        overrides.append(f"stopping.max_wallclock_time={budget}")
    if n_workers is not None:
        overrides.append(f"n_workers={n_workers}")
    cfg = compose(overrides)
    start = time.perf_counter()
    columns, metadata = simulate(cfg)
    seconds = time.perf_counter() - start
    best = metadata["best"]["value"] if metadata["best"] else math.nan
    return {"final_best": best, "real_time_s": seconds, "num_results": metadata["num_results"],
            "num_trials": metadata["num_trials_started"], "budget": metadata["stopping"]["max_wallclock_time"],
            "n_workers": metadata["n_workers"]}


def run_reference(args: argparse.Namespace, table: Path, method: str, seed: int, budget: float, n_workers: int,
                  cache_file: Path, force: bool) -> dict[str, Any]:
    if cache_file.is_file() and not force:
        return json.loads(cache_file.read_text())
    out = cache_file.with_suffix(".parquet")
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    command = [str(args.st_python), str(args.runner), "--table", str(table), "--method", method, "--seed", str(seed),
               "--n-workers", str(n_workers), "--max-wallclock-time", str(budget), "--no-charge-decision-time",
               "--out", str(out)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"reference run failed ({method}, seed {seed}):\n{done.stderr[-3000:]}")
    summary = json.loads(out.with_suffix(".json").read_text())
    result = {"final_best": summary["final_best"], "real_time_s": summary["real_time_s"], "process_wall_s": wall,
              "num_results": summary.get("num_results"), "num_trials": summary.get("num_trials")}
    out.unlink(missing_ok=True)
    out.with_suffix(".json").unlink(missing_ok=True)
    cache_file.write_text(json.dumps(result, indent=1) + "\n")
    return result


def _mean_se(values: list[float]) -> tuple[float, float]:
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return math.nan, math.nan
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else math.nan
    return statistics.fmean(values), se


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--benchmark", default="hartmann6")
    parser.add_argument("--methods", default="random_search,asha_stop,asha_prom,asha6_stop")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--max-wallclock-time", type=float, default=None, help="simulated seconds (both sides)")
    parser.add_argument("--n-workers", type=int, default=None)
    parser.add_argument("--timing-seeds", type=int, default=2,
                        help="re-run the reference for this many seeds now, for a side-by-side time ratio")
    parser.add_argument("--refresh-reference", action="store_true", help="ignore cached reference results")
    parser.add_argument("--override", action="append", default=[], help="extra override for mfbench (repeatable)")
    parser.add_argument("--runner", type=Path, default=DEFAULT_RUNNER)
    parser.add_argument("--st-python", type=Path, default=DEFAULT_ST_PYTHON)
    parser.add_argument("--table-cache", type=Path, default=Path.home() / ".cache" / "mfbench" / "exports")
    parser.add_argument("--results", type=Path, default=HERE / "results")
    args = parser.parse_args()
    if not args.st_python.is_file():
        sys.exit(f"no reference Python at {args.st_python}: create the Syne Tune 0.13.0 venv (see {args.runner})")

    table = export_table(args.benchmark, args.table_cache)
    rows, raw = [], {}
    for method in args.methods.split(","):
        ours, ref, ours_time_paired, ref_time_paired = [], [], [], []
        for seed in range(args.seeds):
            mine = run_ours(args.benchmark, method, seed, args.max_wallclock_time, args.n_workers, args.override)
            budget, workers = mine["budget"], mine["n_workers"]
            cache = (args.results / "reference" / f"{args.benchmark}-{int(float(budget))}s-{workers}w" / method
                     / f"seed_{seed}.json")
            force = args.refresh_reference or seed < args.timing_seeds
            theirs = run_reference(args, table, method, seed, float(budget), workers, cache, force)
            ours.append(mine)
            ref.append(theirs)
            if seed < args.timing_seeds:
                ours_time_paired.append(mine["real_time_s"])
                ref_time_paired.append(theirs["real_time_s"])
            print(f"{method} seed {seed}: ours {mine['final_best']:.5f} in {mine['real_time_s']:.2f}s | "
                  f"reference {theirs['final_best']:.5f} in {theirs['real_time_s']:.2f}s", flush=True)
        raw[method] = {"ours": ours, "reference": ref}
        (m_ours, se_ours), (m_ref, se_ref) = (_mean_se([r["final_best"] for r in x]) for x in (ours, ref))
        from scipy.stats import ttest_ind

        p_value = ttest_ind([r["final_best"] for r in ours], [r["final_best"] for r in ref], equal_var=False).pvalue
        t_ours = statistics.fmean(ours_time_paired or [r["real_time_s"] for r in ours])
        t_ref = statistics.fmean(ref_time_paired or [r["real_time_s"] for r in ref])
        rows.append((method, m_ours, se_ours, m_ref, se_ref, p_value, t_ours, t_ref, t_ref / t_ours))

    budget_text = raw[next(iter(raw))]["ours"][0]["budget"]
    lines = [
        f"## {args.benchmark}: mfbench vs Syne Tune 0.13.0 ({args.seeds} seeds, budget {budget_text} s simulated, "
        f"decision-time charge off on both sides)",
        "",
        "| method | mfbench final best (mean ± se) | Syne Tune final best (mean ± se) | Welch p | mfbench s/run | "
        "Syne Tune s/run | speed-up |",
        "|---|---|---|---|---|---|---|",
    ]
    for method, mo, so, mr, sr, p, to, tr, ratio in rows:
        lines.append(f"| {method} | {mo:.5f} ± {so:.5f} | {mr:.5f} ± {sr:.5f} | {p:.2f} | {to:.3f} | {tr:.2f} | "
                     f"{ratio:.0f}x |")
    lines.append("")
    lines.append(f"Real times: mean over the first {args.timing_seeds} seeds, both measured in this run "
                 f"(reference: time inside its runner, excluding interpreter start-up).")
    report = "\n".join(lines)
    print("\n" + report)
    args.results.mkdir(parents=True, exist_ok=True)
    tag = f"{args.benchmark}-{'_'.join(args.methods.split(','))}"[:120]
    (args.results / f"compare-{tag}.md").write_text(report + "\n")
    (args.results / f"compare-{tag}.json").write_text(json.dumps(raw, indent=1) + "\n")


if __name__ == "__main__":
    main()
