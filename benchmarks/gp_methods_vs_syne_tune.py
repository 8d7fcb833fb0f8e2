#!/usr/bin/env python
"""MOBSTER, Hyper-Tune and SyncMOBSTER in mfbench side by side with Syne Tune 0.13.0.

Same exported table, seeds, workers and simulated budget; decision time not charged to
the simulated clock on either side (the reference runner's ``--no-charge-decision-time``).
Two parts, because the reference's GP runs take minutes each on this machine:

* **quality** (``--seeds``, default 10, at ``--budget`` simulated seconds, default a
  quarter of the benchmark's budget): the final best metric of the reference, of ours
  with the default speed options (``default``) and of ours with every speed option off,
  i.e. the reference's refit-every-time schedule (``exact``); reported as mean ± standard
  error and Welch's ``z = (ours - reference) / se`` in the direction of the mode
  (``z > 2``: ours worse beyond noise);
* **timing** (``--timing-seeds``, default 2, at the benchmark's full budget): real time
  per run of the reference and of ours (default options) and the speed ratio.

Time per run is measured three ways, on both sides: the wall time and the CPU time
(user + system) of the whole process (``python -m mfbench`` / the reference runner, so
imports and table loading are included on both sides; CPU time is the robust one on a
machine shared with other jobs), and the in-run time (the reference's ``tuner.run()``,
ours from building the method to the end of the simulation, lazy imports of torch
included).

Results of every run (both sides) are cached as JSON under ``--results-dir`` keyed by
benchmark, budget, workers, method, variant and seed, and reused unless ``--rerun`` /
``--rerun-reference``: the reference's slow runs are not recomputed. The summary
(``summary.md`` / ``summary.json``) says which timings came from the cache.

Example::

    /work/main/.venv/bin/python benchmarks/gp_methods_vs_syne_tune.py --seeds 10 --timing-seeds 2

The table is exported once (``mfbench.blackbox.export.export_long_format``) to
``~/.cache/mfbench/exports/<benchmark>.parquet``, as ``benchmarks/compare_with_syne_tune.py`` does.
"""
from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

METHODS = ["mobster_joint", "mobster_indep", "hypertune_indep", "hypertune4_indep", "hypertune_joint", "syncmobster"]
#: our variants: searcher overrides on top of the method YAML
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},  # the speed options of the YAMLs
    "exact": {"opt_refit_growth": 0.0, "opt_warmstart": False, "opt_cold_refit_growth": None},  # reference schedule
    "refit_only": {"opt_warmstart": False, "opt_cold_refit_growth": None},  # only the 10%-growth refit schedule
    "warm_only": {"opt_refit_growth": 0.0},  # only the warm-started short fits (refit at every data change)
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--benchmark", default=None,
                   help="benchmark YAML name (default: nas201_offline_cifar100 if present, else hartmann6)")
    p.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS)
    p.add_argument("--seeds", type=int, default=10, help="quality: seeds 0..N-1 (0: skip the quality part)")
    p.add_argument("--budget", type=float, default=None,
                   help="quality: simulated seconds (default: a quarter of the benchmark's budget)")
    p.add_argument("--variants", nargs="+", default=["default", "exact"], choices=list(VARIANTS),
                   help="our variants in the quality part (refit_only, warm_only isolate the two speed options)")
    p.add_argument("--timing-seeds", type=int, default=2, help="timing: seeds 0..K-1 at the full budget (0: skip)")
    p.add_argument("--n-workers", type=int, default=None, help="default: the benchmark's")
    p.add_argument("--reference-runner", type=Path, default=REPO / "benchmarks" / "reference" / "syne_tune_runner.py")
    p.add_argument("--reference-python", type=Path, default=Path("/work/st-venv/bin/python"))
    p.add_argument("--results-dir", type=Path, default=REPO / "benchmarks" / "results",
                   help="caches: reference/<benchmark>-<T>s-<w>w/<method>/seed_<s>.json (shared with "
                        "compare_with_syne_tune.py) and gp_methods/<benchmark>-<T>s-<w>w/<variant>/...; summaries in "
                        "gp_methods/<benchmark>-<w>w/")
    p.add_argument("--table-dir", type=Path, default=Path.home() / ".cache" / "mfbench" / "exports")
    p.add_argument("--rerun", action="store_true", help="rerun our cached runs")
    p.add_argument("--rerun-reference", action="store_true", help="rerun cached reference runs")
    p.add_argument("--skip-reference", action="store_true", help="never run the reference (cache only)")
    p.add_argument("--summary-name", default="summary", help="file name (without suffix) of the report")
    p.add_argument("--reference-only", action="store_true",
                   help="only fill the reference cache (quality and timing runs), e.g. ahead of time")
    p.add_argument("--ours-only", action="store_true", help="only fill the cache of our runs")
    p.add_argument("--timing-charged", action="store_true",
                   help="timing: also run the reference with its default decision-time charge (its 'default run')")
    return p.parse_args(argv)


def compose(overrides: list[str]) -> Any:
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from mfbench.config.schema import register_schemas

    register_schemas()
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        return hydra_compose("config", overrides=overrides)


def default_benchmark() -> str:
    nb201 = REPO / "conf" / "benchmark" / "nas201_offline_cifar100.yaml"
    return nb201.stem if nb201.is_file() else "hartmann6"


def export_table(name: str, benchmark: Any, table_dir: Path) -> Path:
    from mfbench.blackbox.base import TabularBlackbox
    from mfbench.blackbox.export import export_long_format

    path = table_dir / f"{name}.parquet"
    if path.is_file() and path.with_suffix(".json").is_file():
        return path
    blackbox = benchmark.open()
    if not isinstance(blackbox, TabularBlackbox):
        raise SystemExit(f"benchmark {name} is not tabular; the reference runner needs a table")
    tmp = path.with_name(path.stem + ".tmp.parquet")
    export_long_format(blackbox, tmp, fidelity_attr=benchmark.fidelity_attr, metric=benchmark.metric,
                       mode=benchmark.mode, elapsed_time_attr=benchmark.elapsed_time_attr)
    tmp.with_suffix(".json").replace(path.with_suffix(".json"))
    tmp.replace(path)
    return path


def _cached(path: Path, rerun: bool) -> dict[str, Any] | None:
    if path.is_file() and not rerun:
        summary = json.loads(path.read_text(encoding="utf-8"))
        summary["from_cache"] = True
        return summary
    return None


def _store(path: Path, summary: dict[str, Any]) -> dict[str, Any]:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({k: v for k, v in summary.items() if k != "from_cache"}, indent=2) + "\n",
                    encoding="utf-8")
    summary["from_cache"] = False
    return summary


def _timed_subprocess(cmd: list[str], cwd: Path | None = None) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run ``cmd``; return it with its wall seconds and CPU seconds (user + system of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done, wall, cpu


def run_reference(args: argparse.Namespace, table: Path, method: str, seed: int, n_workers: int, budget: float,
                  cache: Path, charge: bool = False) -> dict[str, Any]:
    cached = _cached(cache, args.rerun_reference)
    if cached is not None:
        return cached
    if args.skip_reference:
        raise SystemExit(f"--skip-reference but no cached reference result {cache}")
    if not args.reference_runner.is_file():
        raise SystemExit(f"reference runner not found: {args.reference_runner} (pass --reference-runner PATH)")
    with tempfile.TemporaryDirectory(prefix="st-ref-") as tmp:
        out = Path(tmp) / f"{method}-{seed}.parquet"
        cmd = [str(args.reference_python), str(args.reference_runner), "--table", str(table), "--method", method,
               "--seed", str(seed), "--n-workers", str(n_workers), "--max-wallclock-time", str(budget),
               "--charge-decision-time" if charge else "--no-charge-decision-time", "--out", str(out)]
        done, wall, cpu = _timed_subprocess(cmd)
        if done.returncode != 0:
            raise SystemExit(f"reference run failed ({' '.join(cmd)}):\n{done.stderr[-3000:]}")
        summary = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    keep = ("final_best", "real_time_s", "num_results", "num_trials", "restrict_configurations")
    return _store(cache, {**{k: summary.get(k) for k in keep}, "process_wall_s": wall, "process_cpu_s": cpu})


def run_ours(method: str, benchmark_name: str, overrides: dict[str, Any], seed: int, n_workers: int,
             budget: float) -> dict[str, Any]:
    """One ``python -m mfbench`` process (decision time not charged, the default)."""
    def value(v: Any) -> str:
        return "null" if v is None else str(v).lower() if isinstance(v, bool) else str(v)

    with tempfile.TemporaryDirectory(prefix="mfbench-gp-") as tmp:
        cmd = [sys.executable, "-m", "mfbench", f"method={method}", f"benchmark={benchmark_name}", f"seed={seed}",
               f"n_workers={n_workers}", f"stopping.max_wallclock_time={budget}", "progress=false",
               "backend.charge_decision_time=false", f"hydra.run.dir={tmp}/run"]
        cmd += [f"method.searcher.{k}={value(v)}" for k, v in overrides.items()]
        done, wall, cpu = _timed_subprocess(cmd, cwd=REPO)
        if done.returncode != 0:
            raise SystemExit(f"mfbench run failed ({' '.join(cmd)}):\n{done.stderr[-3000:]}")
        metadata = json.loads((Path(tmp) / "run" / "metadata.json").read_text(encoding="utf-8"))
    return {"seed": seed, "real_time_s": metadata["real_time"]["seconds"],
            "decision_s": metadata["real_time"]["decision_seconds"],
            "final_best": metadata["best"]["value"] if metadata["best"] else None,
            "num_results": metadata["num_results"], "num_trials": metadata["num_trials_started"],
            "searcher_stats": metadata["scheduler"].get("stats"), "process_wall_s": wall, "process_cpu_s": cpu}


def mean_se(values: list[float]) -> tuple[float, float]:
    x = np.asarray(values, dtype=np.float64)
    return float(x.mean()), (float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else 0.0)


def z_worse(ours: list[float], ref: list[float], sign: float) -> float:
    mo, so = mean_se(ours)
    mr, sr = mean_se(ref)
    se = math.hypot(so, sr)
    return sign * (mo - mr) / se if se > 0 else 0.0


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    name = args.benchmark or default_benchmark()
    cfg = compose([f"benchmark={name}"])
    from mfbench.app import _instantiate

    benchmark = _instantiate(dict(cfg.benchmark))
    n_workers = args.n_workers or benchmark.n_workers
    full_budget = float(benchmark.max_wallclock_time)
    budget = float(args.budget or full_budget / 4)
    table = export_table(name, benchmark, args.table_dir)
    sign = 1.0 if benchmark.mode == "min" else -1.0
    root = args.results_dir / "gp_methods" / f"{name}-{n_workers}w"
    runs: list[dict[str, Any]] = []

    def one(method: str, side: str, seed: int, part_budget: float) -> dict[str, Any]:
        key = f"{name}-{int(part_budget)}s-{n_workers}w"
        if side == "reference":
            cache = args.results_dir / "reference" / key / method / f"seed_{seed}.json"
        elif side == "reference_charged":
            cache = args.results_dir / "reference" / f"{key}-charged" / method / f"seed_{seed}.json"
        else:
            cache = args.results_dir / "gp_methods" / key / side / method / f"seed_{seed}.json"
        if side.startswith("reference"):
            result = run_reference(args, table, method, seed, n_workers, part_budget, cache,
                                   charge=side == "reference_charged")
        else:
            result = _cached(cache, args.rerun)
            if result is None:
                result = _store(cache, run_ours(method, name, VARIANTS[side], seed, n_workers, part_budget))
        runs.append({"method": method, "side": side, "budget": part_budget, **result})
        print(f"{method:16s} {side:9s} T={part_budget:g} seed {seed}: best {result['final_best']:.5f}, "
              f"process {result.get('process_wall_s', math.nan):.1f} s wall / "
              f"{result.get('process_cpu_s', math.nan):.1f} s CPU"
              f"{' (cached)' if result.get('from_cache') else ''}", flush=True)
        return result

    def times(results: list[dict[str, Any]]) -> dict[str, float]:
        keys = ("process_wall_s", "process_cpu_s", "real_time_s")
        return {key: float(np.mean([r.get(key, math.nan) for r in results])) for key in keys}

    if args.reference_only or args.ours_only:
        sides = ["reference"] if args.reference_only else list(args.variants)
        for method in args.methods:
            for side in sides:
                for s in range(args.seeds):
                    one(method, side, s, budget)
        for method in args.methods:
            for s in range(args.timing_seeds):
                one(method, "reference" if args.reference_only else "default", s, full_budget)
                if args.reference_only and args.timing_charged:
                    one(method, "reference_charged", s, full_budget)
        return {}
    quality, timing = [], []
    for method in args.methods:
        if args.seeds == 0:
            break
        per_side = {side: [one(method, side, s, budget) for s in range(args.seeds)]
                    for side in ["reference", *args.variants]}
        ref = [r["final_best"] for r in per_side["reference"]]
        row: dict[str, Any] = {"method": method, "seeds": args.seeds, "budget": budget}
        for side, results in per_side.items():
            values = [r["final_best"] for r in results]
            row[side] = {"mean": mean_se(values)[0], "se": mean_se(values)[1], **times(results),
                         "cached": sum(bool(r.get("from_cache")) for r in results)}
            if side != "reference":
                row[side]["z_worse"] = z_worse(values, ref, sign)
        quality.append(row)
    for method in args.methods:
        if args.timing_seeds > 0:
            ref_t = [one(method, "reference", s, full_budget) for s in range(args.timing_seeds)]
            ours_t = [one(method, "default", s, full_budget) for s in range(args.timing_seeds)]
            tr, to = times(ref_t), times(ours_t)
            charged = None
            if args.timing_charged:
                charged_t = [one(method, "reference_charged", s, full_budget) for s in range(args.timing_seeds)]
                charged = {**times(charged_t), "best": float(np.mean([r["final_best"] for r in charged_t]))}
            timing.append({"method": method, "seeds": args.timing_seeds, "budget": full_budget,
                           "reference": tr, "ours": to, "speedup": {key: tr[key] / to[key] for key in tr},
                           "reference_charged": charged,
                           "ref_best": float(np.mean([r["final_best"] for r in ref_t])),
                           "ours_best": float(np.mean([r["final_best"] for r in ours_t])),
                           "cached": sum(bool(r.get("from_cache")) for r in ref_t + ours_t)})
    lines = [f"Benchmark {name} ({benchmark.metric}, {benchmark.mode}), {n_workers} workers, decision time not "
             f"charged on either side."]
    if quality:
        lines += ["", f"Quality: {budget:g} s simulated, seeds 0..{args.seeds - 1}; final best (mean ± se); z > 2: "
                  f"ours worse than the reference beyond noise; CPU seconds per run of the whole process.", "",
                  "| method | Syne Tune 0.13.0 | " + " | ".join(f"ours ({v}) | z" for v in args.variants)
                  + " | CPU s/run: ref | " + " | ".join(args.variants) + " |",
                  "|---|---|" + "---|---|" * len(args.variants) + "---|" + "---|" * len(args.variants)]
    for row in quality:
        ref_row = row["reference"]
        cells = [row["method"], f"{ref_row['mean']:.4f} ± {ref_row['se']:.4f}"]
        for v in args.variants:
            r = row[v]
            cells += [f"{r['mean']:.4f} ± {r['se']:.4f}", f"{r['z_worse']:+.2f}{' WORSE' if r['z_worse'] > 2 else ''}"]
        cells += [f"{ref_row['process_cpu_s']:.1f}"] + [f"{row[v]['process_cpu_s']:.1f}" for v in args.variants]
        lines.append("| " + " | ".join(cells) + " |")
    if timing:
        lines += ["", f"Timing: full budget {full_budget:g} s simulated, seeds 0..{args.timing_seeds - 1}, ours with "
                  f"the default options; seconds per run (process wall / process CPU / in-run) and speed-ups.", "",
                  "| method | Syne Tune wall / CPU / in-run | ours wall / CPU / in-run | speed-up wall / CPU / in-run "
                  "| ref best | ours best |", "|---|---|---|---|---|---|"]
        for row in timing:
            r, o, x = row["reference"], row["ours"], row["speedup"]
            lines.append(
                f"| {row['method']} | {r['process_wall_s']:.1f} / {r['process_cpu_s']:.1f} / {r['real_time_s']:.1f} | "
                f"{o['process_wall_s']:.1f} / {o['process_cpu_s']:.1f} / {o['real_time_s']:.1f} | "
                f"{x['process_wall_s']:.1f}x / {x['process_cpu_s']:.1f}x / {x['real_time_s']:.1f}x | "
                f"{row['ref_best']:.4f} | {row['ours_best']:.4f} |")
        charged_rows = [row for row in timing if row.get("reference_charged")]
        if charged_rows:
            lines += ["", "The reference's own default run charges its decision time to the simulated clock (so it "
                      "makes fewer decisions in the budget); real seconds per run of that, against ours:", "",
                      "| method | Syne Tune (charge on) wall / CPU / in-run | ours CPU | speed-up CPU | its best |",
                      "|---|---|---|---|---|"]
            for row in charged_rows:
                c, o = row["reference_charged"], row["ours"]
                lines.append(f"| {row['method']} | {c['process_wall_s']:.1f} / {c['process_cpu_s']:.1f} / "
                             f"{c['real_time_s']:.1f} | {o['process_cpu_s']:.1f} | "
                             f"{c['process_cpu_s'] / o['process_cpu_s']:.1f}x | {c['best']:.4f} |")
    cached = sum(r.get("from_cache", False) for r in runs)
    if cached:
        lines.append(f"\n({cached} of {len(runs)} runs come from the cache of earlier script runs on this machine.)")
    report = "\n".join(lines)
    print("\n" + report)
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{args.summary_name}.md").write_text(report + "\n", encoding="utf-8")
    summary = {"benchmark": name, "n_workers": n_workers, "quality_budget": budget, "full_budget": full_budget,
               "quality": quality, "timing": timing}
    (root / f"{args.summary_name}.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


if __name__ == "__main__":
    main()
