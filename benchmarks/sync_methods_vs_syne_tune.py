#!/usr/bin/env python
"""SYNCHB, SYNCSH, BOHB and DEHB in mfbench side by side with Syne Tune 0.13.0.

Same table, same seeds, same budget and workers, decision time not charged on either
side. For every method and seed the script runs the reference (through
``benchmarks/reference/syne_tune_runner.py`` in its own virtual environment) and then
ours in this process, and reports per method the final best metric over the seeds
(mean, standard error, and whether ours is worse beyond noise: Welch's
``z = (mean_ours - mean_ref) / se_diff > 2`` in the direction of the mode) and the real
time per run of each (reference: ``tuner.run()``; ours: building the scheduler plus
``Simulator.run``; both without imports and table loading).

Reference runs are cached as JSON summaries under ``--results-dir`` (keyed by benchmark,
method, seed, workers and budget) and are not recomputed unless ``--rerun-reference``;
ours are always rerun. For timings measured under the same machine load, run without
cache (the summary says which reference timings came from the cache).

Example::

    /work/main/.venv/bin/python benchmarks/sync_methods_vs_syne_tune.py --benchmark hartmann6 --seeds 10

The table is exported once (``mfbench.blackbox.export.export_long_format``) to
``outputs/reference_tables/<benchmark>.parquet`` (ignored by git).
"""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

METHODS = ["synchb", "syncsh", "bohb", "dehb"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--benchmark", default=None,
                   help="benchmark YAML name (default: nas201_offline_cifar100 if present, else hartmann6)")
    p.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS)
    p.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (at least 10 for the report)")
    p.add_argument("--n-workers", type=int, default=None, help="default: the benchmark's")
    p.add_argument("--max-wallclock-time", type=float, default=None, help="simulated seconds; default: the benchmark's")
    p.add_argument("--reference-runner", type=Path, default=REPO / "benchmarks" / "reference" / "syne_tune_runner.py")
    p.add_argument("--reference-python", type=Path, default=Path("/work/st-venv/bin/python"))
    p.add_argument("--results-dir", type=Path, default=REPO / "benchmarks" / "results" / "sync_methods_vs_syne_tune")
    p.add_argument("--table-dir", type=Path, default=REPO / "outputs" / "reference_tables")
    p.add_argument("--rerun-reference", action="store_true", help="ignore cached reference results")
    p.add_argument("--skip-reference", action="store_true", help="only run ours (quality/timing of the reference from cache)")
    return p.parse_args(argv)


def compose(overrides: list[str]) -> Any:
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from mfbench.config.schema import register_schemas

    register_schemas()
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        return hydra_compose("config", overrides=overrides)


def default_benchmark() -> str:
    return "nas201_offline_cifar100" if (REPO / "conf" / "benchmark" / "nas201_offline_cifar100.yaml").is_file() else "hartmann6"


def export_table(benchmark_name: str, benchmark: Any, table_dir: Path) -> Path:
    from mfbench.blackbox.base import TabularBlackbox
    from mfbench.blackbox.export import export_long_format

    path = table_dir / f"{benchmark_name}.parquet"
    if path.is_file() and path.with_suffix(".json").is_file():
        return path
    blackbox = benchmark.open()
    if not isinstance(blackbox, TabularBlackbox):
        raise SystemExit(f"benchmark {benchmark_name} is not tabular; the reference runner needs a table")
    tmp = path.with_name(path.stem + ".tmp.parquet")
    export_long_format(blackbox, tmp, fidelity_attr=benchmark.fidelity_attr, metric=benchmark.metric,
                       mode=benchmark.mode, elapsed_time_attr=benchmark.elapsed_time_attr)
    tmp.with_suffix(".json").replace(path.with_suffix(".json"))
    tmp.replace(path)
    return path


def run_reference(args: argparse.Namespace, table: Path, method: str, seed: int, n_workers: int, budget: float,
                  cache: Path) -> dict[str, Any]:
    if cache.is_file() and not args.rerun_reference:
        summary = json.loads(cache.read_text(encoding="utf-8"))
        summary["from_cache"] = True
        return summary
    if args.skip_reference:
        raise SystemExit(f"--skip-reference but no cached reference result {cache}")
    if not args.reference_runner.is_file():
        raise SystemExit(f"reference runner not found: {args.reference_runner} (pass --reference-runner PATH)")
    with tempfile.TemporaryDirectory(prefix="st-ref-") as tmp:
        out = Path(tmp) / f"{method}-{seed}.parquet"
        cmd = [str(args.reference_python), str(args.reference_runner), "--table", str(table), "--method", method,
               "--seed", str(seed), "--n-workers", str(n_workers), "--max-wallclock-time", str(budget),
               "--no-charge-decision-time", "--out", str(out)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"reference run failed ({' '.join(cmd)}):\n{done.stderr[-3000:]}")
        summary = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    summary["from_cache"] = False
    return summary


def run_ours(benchmark: Any, method_node: dict[str, Any], seed: int, n_workers: int, budget: float) -> dict[str, Any]:
    from mfbench.app import _instantiate
    from mfbench.backend.simulator import Simulator
    from mfbench.schedulers.base import Problem
    from mfbench.stopping import StoppingCriterion

    blackbox = benchmark.open()
    problem = Problem(blackbox.config_space, benchmark.fidelities, benchmark.metric, benchmark.mode, n_workers, seed)
    started = time.perf_counter()
    scheduler = _instantiate(method_node, problem=problem)
    outcome = Simulator(charge_decision_time=False).run(
        benchmark, scheduler, problem, StoppingCriterion(max_wallclock_time=budget).resolved(budget)
    )
    real_time = time.perf_counter() - started
    rec = outcome.recorder
    values = np.asarray([o[blackbox.objective_index(benchmark.metric)] for o in rec.objectives], dtype=np.float64)
    best = float(np.nanmin(values) if benchmark.mode == "min" else np.nanmax(values)) if len(values) else None
    return {"method": method_node["_target_"], "seed": seed, "real_time_s": real_time, "final_best": best,
            "num_results": len(rec), "num_trials": outcome.num_trials_started}


def mean_se(values: list[float]) -> tuple[float, float]:
    x = np.asarray(values, dtype=np.float64)
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else 0.0


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    name = args.benchmark or default_benchmark()
    cfg = compose([f"benchmark={name}"])
    from mfbench.app import _instantiate

    benchmark = _instantiate(dict(cfg.benchmark))
    n_workers = args.n_workers or benchmark.n_workers
    budget = float(args.max_wallclock_time or benchmark.max_wallclock_time)
    table = export_table(name, benchmark, args.table_dir)
    sign = 1.0 if benchmark.mode == "min" else -1.0
    run_dir = args.results_dir / f"{name}_w{n_workers}_T{int(budget)}"
    rows, per_run = [], []
    for method in args.methods:
        node = dict(compose([f"method={method}"]).method)
        ours, ref = [], []
        for seed in range(args.seeds):
            r = run_reference(args, table, method, seed, n_workers, budget, run_dir / "reference" / f"{method}-{seed}.json")
            o = run_ours(benchmark, node, seed, n_workers, budget)
            ref.append(r)
            ours.append(o)
            per_run.append({"method": method, "seed": seed, "ours": o, "reference": r})
            print(f"{method:7s} seed {seed}: ours {o['final_best']:.5f} in {o['real_time_s']:.2f} s, "
                  f"reference {r['final_best']:.5f} in {r['real_time_s']:.2f} s"
                  f"{' (cached)' if r.get('from_cache') else ''}", flush=True)
        mo, so = mean_se([o["final_best"] for o in ours])
        mr, sr = mean_se([r["final_best"] for r in ref])
        se = math.hypot(so, sr)
        z = sign * (mo - mr) / se if se > 0 else 0.0
        to, tr = float(np.mean([o["real_time_s"] for o in ours])), float(np.mean([r["real_time_s"] for r in ref]))
        rows.append({
            "method": method, "seeds": args.seeds, "ours_mean": mo, "ours_se": so, "ref_mean": mr, "ref_se": sr,
            "z_worse": z, "worse_beyond_noise": z > 2.0, "ours_time_s": to, "ref_time_s": tr, "speedup": tr / to,
            "ref_times_from_cache": sum(bool(r.get("from_cache")) for r in ref),
        })
    header = (f"Benchmark {name} ({benchmark.metric}, {benchmark.mode}), {n_workers} workers, "
              f"{budget:g} s simulated, decision time not charged, seeds 0..{args.seeds - 1}")
    lines = [header, "",
             "| method | ours: final best (mean ± se) | Syne Tune 0.13.0 | z (ours worse) | ours s/run | ref s/run | speed-up |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['method']} | {r['ours_mean']:.5f} ± {r['ours_se']:.5f} | {r['ref_mean']:.5f} ± {r['ref_se']:.5f} | "
                     f"{r['z_worse']:+.2f}{' WORSE' if r['worse_beyond_noise'] else ''} | {r['ours_time_s']:.2f} | "
                     f"{r['ref_time_s']:.2f} | {r['speedup']:.1f}x |")
    cached = sum(r["ref_times_from_cache"] for r in rows)
    if cached:
        lines.append(f"\n({cached} reference timings come from cached runs of an earlier script run.)")
    report = "\n".join(lines)
    print("\n" + report)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "summary.md").write_text(report + "\n", encoding="utf-8")
    summary = {"benchmark": name, "n_workers": n_workers, "max_wallclock_time": budget, "rows": rows, "runs": per_run}
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


if __name__ == "__main__":
    main()
