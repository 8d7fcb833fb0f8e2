"""Cross-implementation check: two ``method=`` options side by side, same benchmark and seeds.

Runs every (method, seed) through the real command line (one Hydra multirun, the basic
launcher: one run after the other in one process, so in-run times are not disturbed by
parallel runs) and writes a Markdown report: final best per method (mean ± standard error
over seeds), the z-score of the difference, and seconds per run. Used for the third-party
adapters (docs/third-party.md), e.g.

    python benchmarks/compare_methods.py asha_stop syne_tune_asha --seeds 20 \\
        --benchmark nas201_offline_cifar100 \\
        --report benchmarks/results/third_party/syne_tune_asha_vs_asha_stop.md

``z = (mean_B - mean_A) / sqrt(se_A^2 + se_B^2)`` with the methods in the order given; for a
minimised metric z > 2 means B is worse beyond noise, z < -2 better. The seconds are
``metadata.json``'s ``real_time.seconds`` (in-run: the simulation loop, the scheduler's
decisions included, without Python start-up and loading the benchmark) and
``real_time.decision_seconds`` (the scheduler's calls alone).
"""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_sweep(methods: list[str], benchmark: str, seeds: int, workers: int | None, out: Path, extra: list[str]) -> list[str]:
    """Run every (method, seed) once into ``out``; returns the command line used."""
    command = [
        sys.executable, "-m", "mfbench", "-m",
        f"benchmark={benchmark}", f"method={','.join(methods)}", f"seed=range(0,{seeds})",
        "experiment_name=compare_methods", "progress=false", f"hydra.sweep.dir={out}",
        "hydra/launcher=basic",
    ]
    if workers is not None:
        command.append(f"n_workers={workers}")
    command += extra
    subprocess.run(command, cwd=REPO, check=True)
    return command


def collect(out: Path, method: str, seeds: int) -> list[dict]:
    """Per seed: the final best value, in-run and decision seconds, trials and results."""
    rows = []
    for seed in range(seeds):
        found = list(out.glob(f"*/{method}/seed_{seed}/metadata.json"))
        if len(found) != 1:
            raise SystemExit(f"expected one run of {method} seed {seed} under {out}, found {len(found)}")
        meta = json.loads(found[0].read_text(encoding="utf-8"))
        rows.append({
            "seed": seed,
            "best": float(meta["best"]["value"]),
            "seconds": float(meta["real_time"]["seconds"]),
            "decision_seconds": float(meta["real_time"]["decision_seconds"]),
            "trials": int(meta["num_trials_started"]),
            "results": int(meta["num_results"]),
            "scheduler": meta["scheduler"],
            "mode": meta["mode"],
            "metric": meta["metric"],
        })
    return rows


def mean_se(values: list[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
    return mean, math.sqrt(var / n)


def report(command: list[str], benchmark: str, seeds: int, runs: dict[str, list[dict]]) -> str:
    (a, rows_a), (b, rows_b) = runs.items()
    first = rows_a[0]
    lines = [
        f"# `{b}` against `{a}` on `{benchmark}`",
        "",
        f"Metric `{first['metric']}` ({first['mode']}), seeds 0..{seeds - 1}, the benchmark's budget and workers "
        f"unless overridden. Written by `benchmarks/compare_methods.py`:",
        "",
        "```",
        " ".join(["python", *command[1:]]).replace(str(REPO) + "/", ""),
        "```",
        "",
        f"z = (mean {b} - mean {a}) / sqrt(se^2 + se^2); for a minimised metric z > 2: {b} worse beyond noise.",
        "",
        "| method | final best (mean ± se) | z | trials started | results | in-run s/run | decision s/run |",
        "|---|---|---|---|---|---|---|",
    ]
    mean_a, se_a = mean_se([r["best"] for r in rows_a])
    for name, rows in runs.items():
        mean, se = mean_se([r["best"] for r in rows])
        z = "" if name == a else f"{(mean - mean_a) / math.sqrt(se ** 2 + se_a ** 2):+.2f}" if se or se_a else "n/a"
        lines.append(
            f"| {name} | {mean:.4f} ± {se:.4f} | {z} | {mean_se([r['trials'] for r in rows])[0]:.0f} "
            f"| {mean_se([r['results'] for r in rows])[0]:.0f} | {mean_se([r['seconds'] for r in rows])[0]:.2f} "
            f"| {mean_se([r['decision_seconds'] for r in rows])[0]:.2f} |"
        )
    lines += ["", "Per seed (final best / trials started / in-run s):", "",
              f"| seed | {a} | {b} |", "|---|---|---|"]
    for ra, rb in zip(rows_a, rows_b):
        lines.append(f"| {ra['seed']} | {ra['best']:.4f} / {ra['trials']} / {ra['seconds']:.2f} "
                     f"| {rb['best']:.4f} / {rb['trials']} / {rb['seconds']:.2f} |")
    lines += ["", f"Schedulers: `{a}` {json.dumps(rows_a[0]['scheduler'], sort_keys=True)}; "
              f"`{b}` {json.dumps(rows_b[0]['scheduler'], sort_keys=True)} (seed 0).", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("method_a")
    parser.add_argument("method_b")
    parser.add_argument("--benchmark", default="nas201_offline_cifar100")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--n-workers", type=int, default=None, help="default: the benchmark's")
    parser.add_argument("--out", type=Path, default=None, help="sweep folder (default: a temporary one)")
    parser.add_argument("--report", type=Path, required=True, help="the Markdown report to write")
    parser.add_argument("overrides", nargs="*", help="further Hydra overrides for both methods")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = (args.out or Path(tmp)).resolve()
        command = run_sweep([args.method_a, args.method_b], args.benchmark, args.seeds, args.n_workers, out,
                           args.overrides)
        runs = {m: collect(out, m, args.seeds) for m in (args.method_a, args.method_b)}
    text = report(command, args.benchmark, args.seeds, runs)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
