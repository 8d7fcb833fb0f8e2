#!/usr/bin/env python
"""Cross-implementation check: the authors' DEHB (``method=dehb_official``) against our ``dehb``.

Both run as ``python -m mfbench`` subprocesses on the same benchmark, seeds, workers and budget
(the benchmark's defaults unless overridden), decision time not charged (the default). Per
method: the final best metric (mean ± standard error over seeds 0..N-1), Welch's
``z = (official - ours) / se`` in the direction of the mode (``z > 2``: the official DEHB worse
beyond noise, ``z < -2``: better), trials started, results, and the time per run (in-run
seconds: building the method to the end of the simulation, from ``metadata.json``; and the
process's wall seconds). The interpreter must have the ``dehb`` extra installed
(``pip install 'mfbench[dehb]'``).

    python benchmarks/compare_dehb_official.py --seeds 20
    python benchmarks/compare_dehb_official.py --seeds 20 --out benchmarks/results/third_party/dehb_vs_official.md

The per-seed values go to a JSON file beside the report. ``benchmarks/compare_methods.py`` is
the generic side-by-side of two methods; this one adds what explains a DEHB gap: the best at
the maximum fidelity, trials by the highest fidelity they reached, DEHB's own counters
(jobs asked, served from known values or by resuming), per-side overrides (rung-grid
controls) and the interpreter's package versions (the numpy<2 venv of dehb 0.1.2).
"""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_with_syne_tune import _timed_subprocess, mean_se, z_worse  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
METHODS = ("dehb", "dehb_official")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--benchmark", default="nas201_offline_cifar100")
    p.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1")
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--python", default=sys.executable, help="interpreter with mfbench[dehb] installed")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks/results/third_party/dehb_vs_official.md")
    p.add_argument("--ours-overrides", nargs="*", default=[], help="extra overrides of our dehb's runs")
    p.add_argument("--official-overrides", nargs="*", default=[], help="extra overrides of dehb_official's runs")
    p.add_argument("--from-json", action="store_true",
                   help="rewrite the report from the per-seed JSON beside --out (no runs); keeps its command line")
    return p.parse_args(argv)


def run_one(python: str, benchmark: str, method: str, seed: int, overrides: list[str]) -> dict[str, Any]:
    """One run's final best, counts, in-run and process seconds, and the scheduler's facts."""
    with tempfile.TemporaryDirectory(prefix="mfbench-dehb-cmp-") as tmp:
        cmd = [python, "-m", "mfbench", f"method={method}", f"benchmark={benchmark}", f"seed={seed}",
               "progress=false", f"hydra.run.dir={tmp}/run", *overrides]
        done, wall, cpu = _timed_subprocess(cmd, cwd=REPO)
        if done is None or done.returncode != 0:
            raise SystemExit(f"run failed ({' '.join(cmd)}):\n{'' if done is None else done.stderr[-3000:]}")
        metadata = json.loads((Path(tmp) / "run" / "metadata.json").read_text(encoding="utf-8"))
        results = pd.read_parquet(Path(tmp) / "run" / "results.parquet")
    fidelity, metric = metadata["fidelity_attr"], metadata["metric"]
    at_max = results[results[fidelity] >= metadata["max_fidelity"]]
    sign = 1.0 if metadata["mode"] == "min" else -1.0
    return {
        # where the budget went: trials by the highest fidelity they reached
        "trials_reaching": {int(k): int(v) for k, v in results.groupby("trial_id")[fidelity].max().value_counts().items()},
        "num_at_max": int(at_max["trial_id"].nunique()),
        "best_at_max": float(sign * (sign * at_max[metric]).min()) if len(at_max) else None,
        "seed": seed,
        "final_best": metadata["best"]["value"],
        "real_time_s": metadata["real_time"]["seconds"],
        "num_results": metadata["num_results"],
        "num_trials": metadata["num_trials_started"],
        "process_wall_s": wall,
        "process_cpu_s": cpu,
        "scheduler": metadata["scheduler"],
        "mode": metadata["mode"],
    }


def versions(python: str) -> str:
    """The interpreter's versions of the packages that matter here, e.g. ``dehb 0.1.1, numpy 2.4.6, ...``."""
    code = ("import importlib.metadata as m; print(', '.join(f'{p} {m.version(p)}' for p in "
            "('dehb', 'ConfigSpace', 'numpy', 'pandas', 'pyarrow')))")
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def report(args: argparse.Namespace, runs: dict[str, list[dict[str, Any]]], command: str, env: str) -> str:
    sign = 1.0 if runs[METHODS[0]][0]["mode"] == "min" else -1.0
    best = {m: [r["final_best"] for r in runs[m]] for m in METHODS}
    z = z_worse(best["dehb_official"], best["dehb"], sign)
    official = runs["dehb_official"][0]["scheduler"]
    at_max_all = {m: [r.get("best_at_max") for r in runs[m]] for m in METHODS}
    z_max = None
    if all(v is not None for vs in at_max_all.values() for v in vs):
        z_max = z_worse(at_max_all["dehb_official"], at_max_all["dehb"], sign)  # type: ignore[arg-type]
    lines = [
        f"# The authors' DEHB (`dehb_official`, dehb {official['library_version']}) against our `dehb`",
        "",
        f"{args.benchmark}, the benchmark's defaults (workers, budget), seeds {args.first_seed}.."
        f"{args.first_seed + args.seeds - 1}, decision time not charged"
        + (f"; overrides of `dehb`: `{' '.join(args.ours_overrides)}`" if args.ours_overrides else "")
        + (f"; overrides of `dehb_official`: `{' '.join(args.official_overrides)}`" if args.official_overrides else "")
        + ". Command:",
        "",
        "```",
        command,
        "```",
        "",
        f"Environment: `{args.python}` ({env}).",
        "",
        "Final best: the best metric of all results of a run (any fidelity), as in the Syne Tune comparisons; "
        "best at the maximum fidelity: the best among results at the maximum fidelity (runs with none are left out).",
        "",
        f"z = (official - ours) / se in the direction of the mode: {z:+.2f} "
        f"({'beyond noise' if abs(z) > 2 else 'within noise'}; > 2: the official DEHB worse)"
        + (f"; at the maximum fidelity: {z_max:+.2f}" if z_max is not None else "") + ".",
        "",
        "| method | final best (mean ± se) | best at the maximum fidelity | trials started | trials reaching "
        "the maximum | results | in-run s / run (mean, median) | process wall s / run |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for method in METHODS:
        rs = runs[method]
        mean, se = mean_se(best[method])
        at_max = [r["best_at_max"] for r in rs if r.get("best_at_max") is not None]
        at_max_cell = "n/a" if not at_max else "{:.4f} ± {:.4f} ({} runs)".format(*mean_se(at_max), len(at_max))
        reaching = [r["num_at_max"] for r in rs if "num_at_max" in r]
        lines.append(
            f"| `{method}` | {mean:.4f} ± {se:.4f} | {at_max_cell} | {np.mean([r['num_trials'] for r in rs]):.0f} | "
            f"{f'{np.mean(reaching):.1f}' if reaching else 'n/a'} | "
            f"{np.mean([r['num_results'] for r in rs]):.0f} | {np.mean([r['real_time_s'] for r in rs]):.2f}, "
            f"{np.median([r['real_time_s'] for r in rs]):.2f} | "
            f"{np.mean([r['process_wall_s'] for r in rs]):.1f} |"
        )
    facts = [r["scheduler"] for r in runs["dehb_official"]]
    for method in METHODS:
        per_run = [r["trials_reaching"] for r in runs[method] if "trials_reaching" in r]
        if per_run:
            levels = sorted({int(k) for d in per_run for k in d})
            means = {lv: sum(d.get(lv, d.get(str(lv), 0)) for d in per_run) / len(per_run) for lv in levels}
            shown = ", ".join(f"{lv}: {n:.1f}" for lv, n in means.items() if n >= 0.5)
            lines += ["", f"`{method}`: trials by the highest fidelity they reached (mean per run, >= 0.5 shown): {shown}."]
    lines += [
        "",
        f"`dehb_official` per run (mean): {np.mean([f['asks'] for f in facts]):.0f} DEHB jobs asked, "
        f"{np.mean([f['answered_from_known'] for f in facts]):.1f} told at once from a trial's earlier results, "
        f"{np.mean([f['resumed_jobs'] for f in facts]):.1f} served by resuming a paused trial, "
        f"{np.mean([f.get('waited_on_running', math.nan) for f in facts]):.1f} waited for their configuration's "
        f"running trial, "
        f"{np.mean([f['replaced_proposals'] for f in facts]):.1f} replaced (off the table); "
        f"DEHB fidelities {[round(b, 2) for b in official['dehb_fidelities']]} run to the levels {official['levels']}.",
        "",
        "Per seed (final best):",
        "",
        "| seed | `dehb` | `dehb_official` |",
        "|---|---|---|",
    ]
    for ours, theirs in zip(runs["dehb"], runs["dehb_official"]):
        lines.append(f"| {ours['seed']} | {ours['final_best']:.4f} | {theirs['final_best']:.4f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    command = "python benchmarks/compare_dehb_official.py " + " ".join(sys.argv[1:] if argv is None else argv)
    if args.from_json:
        stored = json.loads(args.out.with_suffix(".json").read_text(encoding="utf-8"))
        args.ours_overrides = stored.get("ours_overrides", [])
        args.official_overrides = stored.get("official_overrides", [])
        args.python = stored.get("python", args.python)
        env = stored.get("versions") or versions(args.python)
        if "versions" not in stored:  # an older JSON: record what the report now says
            stored.update(python=args.python, versions=env)
            args.out.with_suffix(".json").write_text(json.dumps(stored, indent=1) + "\n", encoding="utf-8")
        args.out.write_text(report(args, stored["runs"], stored["command"], env), encoding="utf-8")
        print(f"rewrote {args.out}")
        return
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in METHODS}
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for method in METHODS:  # interleaved, so both see the same machine load
            overrides = args.ours_overrides if method == "dehb" else args.official_overrides
            result = run_one(args.python, args.benchmark, method, seed, overrides)
            runs[method].append(result)
            print(f"{method} seed {seed}: best {result['final_best']:.4f}, in-run {result['real_time_s']:.2f} s, "
                  f"{result['num_trials']} trials", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    env = versions(args.python)
    args.out.write_text(report(args, runs, command, env), encoding="utf-8")
    stored = {"command": command, "python": args.python, "versions": env, "ours_overrides": args.ours_overrides,
              "official_overrides": args.official_overrides, "runs": runs}
    args.out.with_suffix(".json").write_text(json.dumps(stored, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
