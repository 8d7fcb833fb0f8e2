#!/usr/bin/env python
"""What the GP speed options cost at the full budget: our defaults against our exact refit schedule.

The reference's GP runs cannot afford a benchmark's full budget on the 2-core machine (hours
per run), so the side-by-side (``compare_with_syne_tune.py``) compares the GP methods at a
shorter budget. This script answers the other half of issue #17's question: at the full
budget, do the speed options (refit only when the data grew, warm starts; see
docs/methods/model_based.md) change quality? Both sides are ours: ``default`` (the method
YAML as shipped) and ``exact`` (every speed option off: a fit at every decision, as the
reference), same seeds, decision time not charged. Per method: mean ± se of the final best
of both, the paired difference (default - exact, same seed) with its standard error and
``z`` in the direction of the mode (``z > 2``: the defaults worse beyond noise), and the
in-run seconds of both (the speed-up the options buy).

Runs are cached exactly as ``compare_with_syne_tune.py`` caches ours
(``<results>/ours/<benchmark>-<T>s-<w>w/<variant>/<method>/seed_<s>.json``, valid for one
fingerprint of ``mfbench/`` and ``conf/``), so either script reuses the other's runs. The
report goes to ``<results>/compare/<benchmark>-<w>w/<--name>.md`` and ``.json``::

    .venv/bin/python benchmarks/compare_speed_options.py --benchmark nas201_offline_cifar100 --seeds 10
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import compare_with_syne_tune as side_by_side  # noqa: E402  (the runner and cache of our side)

GP_METHODS = ["mobster_joint", "mobster_indep", "hypertune_indep", "hypertune4_indep", "hypertune_joint",
              "syncmobster"]
#: every speed option off: a (cold) fit at every decision, the reference's schedule
EXACT = {"opt_nstarts": "2", "opt_refit_growth": "0", "opt_warmstart": "false", "opt_cold_refit_growth": "null"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--benchmark", default="nas201_offline_cifar100", help="benchmark YAML name")
    p.add_argument("--benchmark-override", action="append", default=[], metavar="KEY=VALUE",
                   help="a benchmark override, e.g. benchmark.blackbox.data_dir=tests/data/yahpo-lcbench (repeatable)")
    p.add_argument("--methods", nargs="+", default=GP_METHODS, choices=GP_METHODS, metavar="METHOD")
    p.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (>= 2)")
    p.add_argument("--seeds-of", action="append", default=[], metavar="METHOD=N",
                   help="another number of seeds for one method (e.g. where the exact schedule is slow; >= 2)")
    p.add_argument("--budget", type=float, default=None, help="simulated seconds (default: the benchmark's, full)")
    p.add_argument("--n-workers", type=int, default=None, help="default: the benchmark's")
    p.add_argument("--rerun", action="store_true", help="ignore cached runs")
    p.add_argument("--carry-over", action="append", default=[], metavar="VARIANT=FINGERPRINT",
                   help="as compare_with_syne_tune.py's: reuse cached runs of VARIANT (default or exact) made by this "
                        "earlier code once one run per method reran identically (e.g. exact=<fp> after a change of "
                        "the defaults)")
    p.add_argument("--name", default="gp_speed_options_full", help="report file name")
    p.add_argument("--results-dir", type=Path, default=REPO / "benchmarks" / "results")
    args = p.parse_args(argv)
    args.method_seeds = {method: args.seeds for method in args.methods}
    for text in args.seeds_of:
        method, _, number = text.partition("=")
        if method not in args.method_seeds or not number.isdigit():
            p.error(f"--seeds-of {text!r}: give METHOD=N for one of --methods {args.methods}")
        args.method_seeds[method] = int(number)
    if min(args.method_seeds.values()) < 2:
        p.error("--seeds must be >= 2 (a standard error needs two seeds), also in --seeds-of")
    args.variants = {"default": {}, "exact": dict(EXACT)}
    args.carry_over = side_by_side.parse_carry_over(p, args.carry_over)
    return args


def paired(default: list[float], exact: list[float], sign: float) -> dict[str, float]:
    """Mean and standard error of ``default - exact`` per seed, and ``z`` (> 0: defaults worse)."""
    diff = np.asarray(default, dtype=np.float64) - np.asarray(exact, dtype=np.float64)
    mean = float(diff.mean())
    se = float(diff.std(ddof=1) / math.sqrt(len(diff))) if len(diff) > 1 else 0.0
    return {"mean": mean, "se": se, "z_worse": sign * mean / se if se > 0 else 0.0}


def format_report(args: argparse.Namespace, benchmark: Any, n_workers: int, budget: float,
                  rows: list[dict[str, Any]], cached: int, total: int, runs: list[dict[str, Any]] | None = None) -> str:
    lines = [f"Benchmark {args.benchmark} ({benchmark.metric}, {benchmark.mode}), {n_workers} workers, "
             f"{budget:g} s simulated"
             f"{' (the full budget)' if budget == float(benchmark.max_wallclock_time) else ''}, seeds 0..n-1 "
             f"(n per method below); our code "
             f"{side_by_side.code_fingerprint()}.", "",
             "Our defaults against our exact refit schedule (every speed option off: "
             + ", ".join(f"{k}={v}" for k, v in EXACT.items())
             + "), decision time not charged. Final best (mean ± se); paired: default - exact per seed "
             "(mean ± se), z > 2: the defaults worse beyond noise; in-run seconds per run (mean) and the "
             "speed-up the options buy.", "",
             "| method | seeds | default | exact | paired difference | z | s/run default | s/run exact | speed-up |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        d, e, p = row["default"], row["exact"], row["paired"]
        flag = " WORSE" if p["z_worse"] > 2 else ""
        lines.append(f"| {row['method']} | {len(d['values'])} | {d['mean']:.4f} ± {d['se']:.4f} | {e['mean']:.4f} ± {e['se']:.4f} | "
                     f"{p['mean']:+.4f} ± {p['se']:.4f} | {p['z_worse']:+.2f}{flag} | {d['real_time_s']:.2f} | "
                     f"{e['real_time_s']:.2f} | {e['real_time_s'] / d['real_time_s']:.1f}x |")
    if cached:
        lines.append(f"\n({cached} of {total} runs come from the cache of earlier script runs.)")
    lines += side_by_side.carry_over_note(runs or [])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    benchmark = side_by_side.open_benchmark(args.benchmark, args.benchmark_override)
    n_workers = args.n_workers or benchmark.n_workers
    budget = float(args.budget or benchmark.max_wallclock_time)
    sign = 1.0 if benchmark.mode == "min" else -1.0
    key = f"{args.benchmark}-{int(budget)}s-{n_workers}w"
    rows, runs = [], []
    for method in args.methods:
        row: dict[str, Any] = {"method": method}
        for variant in args.variants:
            results = []
            for seed in range(args.method_seeds[method]):
                cache = args.results_dir / "ours" / key / variant / method / f"seed_{seed}.json"
                result = side_by_side.run_ours(args, args.benchmark, method, variant, seed, n_workers, budget,
                                               cache, rerun=args.rerun)
                print(f"{method:16s} {variant:8s} seed {seed}: best {result['final_best']:.5f}, in-run "
                      f"{result['real_time_s']:.2f} s{' (cached)' if result['from_cache'] else ''}", flush=True)
                results.append(result)
            runs += results
            values = [r["final_best"] for r in results]
            mean, se = side_by_side.mean_se(values)
            row[variant] = {"mean": mean, "se": se, "values": values,
                            "real_time_s": float(np.mean([r["real_time_s"] for r in results])),
                            "real_time_s_values": [r["real_time_s"] for r in results]}
        row["paired"] = paired(row["default"]["values"], row["exact"]["values"], sign)
        rows.append(row)
    cached = sum(bool(r["from_cache"]) for r in runs)
    report = format_report(args, benchmark, n_workers, budget, rows, cached, len(runs), runs)
    out = args.results_dir / "compare" / f"{args.benchmark}-{n_workers}w"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.name}.md").write_text(report + "\n", encoding="utf-8")
    summary = {"arguments": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                             if k != "carry_over"},
               "carry_over": {k: sorted(v) for k, v in args.carry_over.items()},
               "code": side_by_side.code_fingerprint(), "budget": budget, "n_workers": n_workers, "rows": rows}
    (out / f"{args.name}.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(report)
    return summary


if __name__ == "__main__":
    main()
