#!/usr/bin/env python
"""Quality and CPU of two checkouts side by side: for a change that is meant to alter only rounding.

A change of the numerics (another LAPACK, a sum taken in another order) leaves the mathematics
alone but changes the last bits, and the runs then part after a few decisions: they cannot be
checked bit for bit (``check_identical_runs.py``). What can be checked is that the distribution
of outcomes did not move: per method, the final best of both checkouts over the same seeds
(``z`` of the difference of the means, ``after - before``: ``z > 2`` the change is worse
beyond noise), and the CPU seconds per run of each, measured in the same session.

The runs go through the real command line (``python -m mfbench``, the checkout's code by
``PYTHONPATH``, one BLAS thread), two at a time, alternating the checkouts so that both see
the same load. Each run's CPU time is its process's (user + system, imports included). The
report goes to ``benchmarks/results/compare/<benchmark>-<w>w/<--name>.md`` and ``.json``
(``--render <json>`` writes both again from the JSON's runs and settings); a run that fails is listed in
the report and the exit status is 1, the others are kept::

    git worktree add /tmp/before <old commit>
    .venv/bin/python benchmarks/compare_checkouts.py --before /tmp/before --seeds 30 \\
        --methods mobster_joint hypertune_joint --name lapack_and_configs
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from checkout_env import checkout_env  # noqa: E402
from compare_with_syne_tune import mean_se  # noqa: E402

SIDES = ("before", "after")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--before", type=Path, required=True, help="the other checkout (e.g. a git worktree)")
    p.add_argument("--after", type=Path, default=REPO, help="default: this checkout")
    p.add_argument("--methods", nargs="+", required=True, metavar="METHOD")
    p.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (>= 2)")
    p.add_argument("--benchmark", default="nas201_offline_cifar100")
    p.add_argument("--budget", type=float, default=21600.0, help="simulated seconds")
    p.add_argument("--n-workers", type=int, default=4)
    p.add_argument("--jobs", type=int, default=2, help="runs at a time")
    p.add_argument("--name", required=True, help="report file name")
    p.add_argument("--results-dir", type=Path, default=REPO / "benchmarks" / "results")
    args = p.parse_args(argv)
    if args.seeds < 2:
        p.error("--seeds must be >= 2 (a standard error needs two runs)")
    for side in SIDES:
        code = getattr(args, side).resolve()
        missing = [part for part in ("pyproject.toml", "conf/config.yaml", "mfbench/__main__.py")
                   if not (code / part).is_file()]
        if missing:  # mfbench reads conf/ of a checkout only beside its pyproject.toml
            p.error(f"--{side} {code} is not a checkout of mfbench (no {', '.join(missing)})")
        setattr(args, side, code)
    return args


def run_one(code: Path, side: str, method: str, seed: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """One run of ``code``'s ``python -m mfbench``: its final best and the CPU seconds of its process."""
    run_dir = work / f"{side}-{method}-{seed}"
    command = [sys.executable, "-m", "mfbench", f"method={method}", f"benchmark={args.benchmark}",
               f"n_workers={args.n_workers}", f"stopping.max_wallclock_time={args.budget:g}", f"seed={seed}",
               f"hydra.run.dir={run_dir}"]
    threads = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    log = work / f"{side}-{method}-{seed}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=work, env=checkout_env(code, **threads), stdout=out,
                                   stderr=subprocess.STDOUT)
        # this child's own rusage (the runs overlap, so RUSAGE_CHILDREN would mix them); Popen
        # is told the exit status, so that it never waits for a pid that may be reused by then
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{code}: {method} seed {seed} failed (exit {process.returncode}):\n"
                           f"{log.read_text()[-2000:]}")
    metadata = json.loads((run_dir / "metadata.json").read_text())
    if not metadata.get("best"):
        raise RuntimeError(f"{code}: {method} seed {seed} finished without a best value (every result NaN?)")
    return {"final_best": metadata["best"]["value"], "mode": metadata["mode"], "cpu_s": usage.ru_utime + usage.ru_stime}


def report(runs: dict[str, dict[str, list[dict[str, Any]]]], settings: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The report's Markdown and JSON from the runs (``{method: {side: [run, ...]}}``) and the settings."""
    rows, table = [], {}
    for method, all_sides in runs.items():
        # the seeds both sides finished: a failed run on one side drops that seed from both
        common = set.intersection(*({r["seed"] for r in all_sides[side]} for side in SIDES))
        sides = {side: [r for r in all_sides[side] if r["seed"] in common] for side in SIDES}
        if len(common) < 2:
            rows.append(f"| {method} | fewer than two seeds finished on both sides | | | | |")
            continue
        sign = 1.0 if sides["before"][0].get("mode", "min") == "min" else -1.0
        best = {side: mean_se([r["final_best"] for r in sides[side]]) for side in SIDES}
        cpu = {side: float(np.mean([r["cpu_s"] for r in sides[side]])) for side in SIDES}
        difference = best["after"][0] - best["before"][0]
        se = math.hypot(best["before"][1], best["after"][1])
        if se > 0:
            z = sign * difference / se
        else:  # no spread on either side (a deterministic benchmark): any difference is beyond noise
            z = 0.0 if difference == 0 else math.copysign(math.inf, sign * difference)
        table[method] = {"best": best, "cpu_s_per_run": cpu, "difference": difference, "se": se, "z_worse": z,
                         "seeds": sorted(common)}
        ratio = f"{cpu['after'] / cpu['before']:.2f}x" if cpu["before"] > 0 else "-"
        rows.append(f"| {method} | {best['before'][0]:.4f} ± {best['before'][1]:.4f} | "
                    f"{best['after'][0]:.4f} ± {best['after'][1]:.4f} | {difference:+.4f} ± {se:.4f} | {z:+.2f} | "
                    f"{cpu['before']:.2f} / {cpu['after']:.2f} ({ratio}) |")
    total = {side: sum(sum(r["cpu_s"] for r in sides[side]) for sides in runs.values()) for side in SIDES}
    failed = settings.get("failed", [])
    lines = [
        f"# {settings['name']}: two checkouts side by side",
        "",
        f"`{settings['benchmark']}`, {settings['n_workers']} workers, {settings['budget']:g} s simulated, "
        f"seeds 0-{settings['seeds'] - 1}, {settings['jobs']} runs at a time, alternating the checkouts; "
        f"before `{settings['before']}`, after `{settings['after']}`.",
        "Final best: mean ± standard error; the difference is after - before, `z` its ratio to its standard "
        "error in the direction of the metric's mode (> 2: after is worse beyond noise), over the seeds both "
        "sides finished. CPU: user + system seconds of each run's process, imports included.",
        "",
        "| method | before | after | difference | z | CPU s per run, before / after |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        f"All runs' CPU: before {total['before']:.1f} s, after {total['after']:.1f} s"
        + (f" ({total['after'] / total['before']:.2f}x)." if total["before"] else "."),
        *([""] + [f"Failed: {f}" for f in failed] if failed else []),
        "",
        f"Command: `.venv/bin/python benchmarks/compare_checkouts.py {settings['command']}`",
    ]
    return "\n".join(lines) + "\n", {"methods": table, "total_cpu_s": total, "runs": runs, "settings": settings}


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--render"] and len(argv) == 2:  # the report again, from a JSON written before
        data = json.loads(Path(argv[1]).read_text())
        text, data = report(data["runs"], data["settings"])
        Path(argv[1]).with_suffix(".md").write_text(text)
        Path(argv[1]).write_text(json.dumps(data, indent=1) + "\n")
        print(text)
        return 0
    args = parse_args(argv)
    settings = {"name": args.name, "benchmark": args.benchmark, "n_workers": args.n_workers, "budget": args.budget,
                "seeds": args.seeds, "jobs": args.jobs, "before": str(args.before), "after": str(args.after),
                "command": shlex.join(argv), "failed": []}
    tasks = [(method, seed, side) for method in args.methods for seed in range(args.seeds) for side in SIDES]
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {m: {side: [] for side in SIDES} for m in args.methods}
    with tempfile.TemporaryDirectory(prefix="mfbench_checkouts_") as tmp, ThreadPoolExecutor(args.jobs) as pool:
        futures = [(task, pool.submit(run_one, getattr(args, task[2]), task[2], task[0], task[1], args, Path(tmp)))
                   for task in tasks]
        try:
            for (method, seed, side), future in futures:
                try:
                    result = future.result()
                except Exception as error:  # noqa: BLE001  the other runs go on; the report lists it
                    first_line = (str(error) or type(error).__name__).splitlines()[0]
                    settings["failed"].append(f"{method} seed {seed} {side}: {first_line}")
                    print(error, file=sys.stderr, flush=True)
                    continue
                runs[method][side].append({"seed": seed, **result})
                print(f"{method:18s} seed {seed:2d} {side:6s}: best {result['final_best']:.5f}, "
                      f"CPU {result['cpu_s']:.2f} s", flush=True)
        except KeyboardInterrupt:  # runs not started yet are dropped; the running ones get the same signal
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    text, data = report(runs, settings)
    out = args.results_dir / "compare" / f"{args.benchmark}-{args.n_workers}w"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.name}.md").write_text(text)
    (out / f"{args.name}.json").write_text(json.dumps(data, indent=1) + "\n")
    print(text)
    return 1 if settings["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
