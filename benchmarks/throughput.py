"""Throughput of whole studies on this machine: how long a big sweep takes, and where the time goes.

    python benchmarks/throughput.py                          # both studies below, this checkout
    python benchmarks/throughput.py --study nongp            # only the 1,000 non-GP runs
    python benchmarks/throughput.py --study tutorial         # only experiment=mf_tutorial, 30 seeds
    python benchmarks/throughput.py --study nongp --baseline /path/to/old/checkout   # before / after
    python benchmarks/throughput.py --render benchmarks/results/throughput/nongp-....json  # its report again

The two studies of issue #17:

- ``nongp``: 1,000 runs of the methods without a GP (8 methods x 125 seeds) on the default
  benchmark at its full budget (6 h simulated, 4 workers); target: under 2 minutes wall,
  planning included.
- ``tutorial``: the tutorial study as published, ``experiment=mf_tutorial`` with 30 seeds
  (13 methods, 390 runs, 6 h simulated each), on the same default benchmark (the preset's
  real NAS-Bench-201 table needs a download); target: under 10 minutes wall.

For each study, in a temporary folder with a private blackbox cache (built once before any
timing), with the local launcher (``hydra/launcher=local``, every core) and ``progress=false``:

1. the sweep's planning alone (``hydra.sweeper.dry_run=true``: Python start-up, composing the
   runs, reading the run directories), wall time;
2. the whole sweep (planning included), wall time;
3. the CPU seconds of the sweep and all its processes (``getrusage``): on a shared machine
   they change much less than wall time; CPU seconds / cores is about the wall time the sweep
   takes on otherwise idle cores;
4. from the runs' ``metadata.json``: each run's own real time (``real_time.seconds``: opening
   the benchmark, the simulation, the method's decisions) and decision time, summed per method;
   what the sweep spent besides (wall x cores - runs' own time) is the fixed cost: start-ups,
   composition, markers, result writing;
5. with the stage timers (default on; ``--no-stages``): wall-clock timers around the stages
   of every process of the sweep (:mod:`throughput_stages`), summed over the jobs;
6. the machine's speed just before and after each sweep: the CPU seconds of a fixed
   workload that does not depend on the checkout (:data:`CALIBRATION`: dense Cholesky
   factors and inverses, element-wise exponentials and an interpreted loop, one thread, in a
   fresh process). The same code can run 20-40 % slower on this shared virtual machine
   from one hour to the next; this row tells two reports' machines apart.

``--baseline DIR`` runs the same measurements with the code of another checkout (e.g. a
``git worktree`` of ``main``), interleaved with this one's (baseline first), so that a busy,
shared machine affects both alike; the report gives the ratios. The load average
(``os.getloadavg``) is recorded before and after each measurement: on a machine shared with
other work, absolute times are only comparable at a similar load.

The report (Markdown, and the numbers as JSON) goes to ``--out``
(default ``benchmarks/results/throughput/``), named after the study and the UTC time.
"""
from __future__ import annotations

import argparse
import collections
import datetime
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import throughput_stages  # noqa: E402
from checkout_env import checkout_env  # noqa: E402

NON_GP = ["random_search", "asha_stop", "asha_prom", "asha6_stop", "synchb", "syncsh", "bohb", "dehb"]
STUDIES = {
    "nongp": {"target_s": 120.0, "what": "the non-GP methods, {methods} methods x {seeds} seeds (the issue: 8 x 125)"},
    "tutorial": {"target_s": 600.0, "what": "experiment=mf_tutorial, 13 methods x {tutorial_seeds} seeds (the issue: 30)"},
}

#: a fixed workload whose CPU time measures the machine, not the code: the GP methods' kind of
#: arithmetic (LAPACK on 400 x 400 matrices, element-wise exponentials) and Python's interpreter
CALIBRATION = """
import time
import numpy as np
from scipy.linalg import lapack
rng = np.random.default_rng(0)
a = rng.standard_normal((400, 400))
k = a @ a.T + 400.0 * np.eye(400)
start = time.process_time()
for _ in range(200):
    factor, _ = lapack.dpotrf(k, lower=1, clean=1)
    inverse, _ = lapack.dpotri(factor, lower=1)
    np.exp(-np.sqrt(np.abs(inverse) + 1.0))
total = 0
for i in range(4_000_000):
    total += i % 7
print(time.process_time() - start)
"""


def _calibration_cpu_s() -> float:
    """CPU seconds of :data:`CALIBRATION` in a fresh one-thread process (lower is a faster machine)."""
    env = {**os.environ, **{name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}}
    out = subprocess.run([sys.executable, "-c", CALIBRATION], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def _env(code: Path, cache: Path, timers: Path | None) -> dict[str, str]:
    if timers is None:
        return checkout_env(code, MFBENCH_CACHE=str(cache))
    site = throughput_stages.sitecustomize_folder(str(timers.parent / f"{timers.name}_site"))
    timers.mkdir(parents=True, exist_ok=True)
    return checkout_env(code, [site], MFBENCH_CACHE=str(cache), MFBENCH_STAGE_TIMERS=str(timers))


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(args: list[str], work: Path, env: dict[str, str],
           limit_s: float | None = None) -> tuple[float, float, str, str, bool]:
    """Run ``python -m mfbench ARGS`` in ``work``: ``(wall s, CPU s, load before, load after, stopped)``.

    The CPU seconds are those of the command and every process it started and waited for (the
    sweep's jobs): unlike wall time, they hardly depend on what else the machine runs. After
    ``limit_s`` the sweep gets SIGTERM (it stops its jobs and keeps the finished runs):
    ``stopped`` is then True.
    """
    load_before = _load()
    cpu = _cpu_of_children()
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "mfbench", *args], cwd=work, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stopped = False
    try:
        out, err = process.communicate(timeout=limit_s)
    except subprocess.TimeoutExpired:
        stopped = True
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode != 0 and not stopped:
        raise SystemExit(f"the sweep failed ({process.returncode}):\n{out[-2000:]}\n{err[-2000:]}")
    return seconds, _cpu_of_children() - cpu, load_before, _load(), stopped


def _grid(study: str, args: argparse.Namespace) -> list[str]:
    if study == "tutorial":
        return ["experiment=mf_tutorial", f"benchmark={args.benchmark}", f"seed=range({args.tutorial_seeds})"]
    return [f"benchmark={args.benchmark}", f"method={','.join(args.methods)}", f"seed=range({args.seeds})"]


def measure(study: str, code: Path, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Planning alone, then the whole sweep, with the code of checkout ``code``."""
    label = "baseline" if code != REPO else "this"
    cache = work / "cache"
    sweep = f"study_{study}_{label}"
    env = _env(code, cache, None)
    common = ["-m", *_grid(study, args), "hydra/launcher=local", "progress=false", f"hydra.sweep.dir={sweep}"]
    planning, planning_cpu, plan_load, _, _ = _timed([*common, "hydra.sweeper.dry_run=true"], work, env)
    timers = work / f"timers_{sweep}" if args.stages else None
    calibration_before = _calibration_cpu_s()
    total, total_cpu, load_before, load_after, stopped = _timed(common, work, _env(code, cache, timers),
                                                                args.limit)
    calibration_after = _calibration_cpu_s()
    by_method: dict[str, dict[str, float]] = collections.defaultdict(lambda: collections.defaultdict(float))
    runs = 0
    for path in (work / sweep).glob("*/*/seed_*/metadata.json"):
        metadata = json.loads(path.read_text())
        entry = by_method[metadata["method"]]
        entry["runs"] += 1
        entry["run_seconds"] += metadata["real_time"]["seconds"]
        entry["decision_seconds"] += metadata["real_time"].get("decision_seconds") or 0.0
        runs += 1
    in_runs = sum(m["run_seconds"] for m in by_method.values())
    cores = os.cpu_count() or 1
    result = {
        "code": str(code), "study": study, "runs": runs, "cores": cores, "stopped_after_limit": stopped,
        "planning_s": planning, "planning_cpu_s": planning_cpu, "planning_load": plan_load,
        "total_s": total, "total_cpu_s": total_cpu, "idle_wall_s": total_cpu / cores,
        "load_before": load_before, "load_after": load_after,
        "calibration_before_cpu_s": calibration_before, "calibration_after_cpu_s": calibration_after,
        "runs_own_s": in_runs,
        "fixed_per_run_s": (total * cores - in_runs) / max(runs, 1),
        "fixed_cpu_per_run_s": (total_cpu - in_runs) / max(runs, 1),
        "by_method": {k: dict(v) for k, v in sorted(by_method.items())},
    }
    if timers is not None:
        result["stages"] = throughput_stages.summed(str(timers))
    shutil.rmtree(work / sweep, ignore_errors=True)  # the next measurement starts from an empty folder
    return result


def _report(study: str, results: list[dict[str, Any]], args: argparse.Namespace, when: str) -> str:
    this = results[-1]  # measured last; the baseline, if any, first
    base = results[0] if len(results) > 1 else None
    target = STUDIES[study]["target_s"]
    what = STUDIES[study]["what"].format(methods=len(args.methods), seeds=args.seeds, tutorial_seeds=args.tutorial_seeds)
    lines = [f"# Throughput: {what}", "",
             f"{when}, "
             f"{this['cores']} cores, `{' '.join(_grid(study, args))}`, local launcher. Target (the issue's "
             f"full study): under {target:.0f} s wall. Load averages (1, 5, 15 min) before / after each sweep: the "
             f"machine may be shared, compare absolute times only at a similar load.", ""]
    columns = [("this checkout", this)] + ([("baseline", base)] if base else [])
    lines.append("| | " + " | ".join(f"{name}" for name, _ in columns) + (" | ratio |" if base else " |"))
    lines.append("|---|" + "---:|" * (len(columns) + (1 if base else 0)))

    def row(what: str, key: str, fmt: str = "{:.1f}") -> None:
        if any(key not in r for _, r in columns):
            return  # a report written by an older version of this script
        values = [fmt.format(r[key]) for _, r in columns]
        ratio = f" | {this[key] / base[key]:.2f}" if base and isinstance(this[key], float) and base[key] else (
            " | " if base else "")
        lines.append(f"| {what} | " + " | ".join(values) + ratio + " |")

    row("runs finished", "runs", "{}")
    row("stopped at --limit (runs unfinished)", "stopped_after_limit", "{}")
    row("planning alone, wall s (dry run)", "planning_s")
    row("planning alone, CPU s", "planning_cpu_s")
    row("load at planning", "planning_load", "{}")
    row("whole sweep, wall s", "total_s")
    row("whole sweep, CPU s (all its processes)", "total_cpu_s")
    row(f"whole sweep, CPU s / {this['cores']} cores (about its wall time on idle cores)", "idle_wall_s")
    row("load before sweep", "load_before", "{}")
    row("load after sweep", "load_after", "{}")
    row("machine: CPU s of the fixed calibration workload before the sweep", "calibration_before_cpu_s", "{:.2f}")
    row("machine: the same after the sweep", "calibration_after_cpu_s", "{:.2f}")
    row("runs' own real time, summed, s", "runs_own_s")
    row("fixed cost per run, s (wall x cores - runs' own) / runs", "fixed_per_run_s", "{:.3f}")
    row("fixed CPU per run, s (CPU - runs' own) / runs", "fixed_cpu_per_run_s", "{:.3f}")
    full = (args.tutorial_seeds == 30) if study == "tutorial" else (len(args.methods) == 8 and args.seeds == 125)
    if full:
        verdict = "meets" if this["total_s"] < target else "misses"
        lines += ["", f"This checkout {verdict} the target in wall time ({this['total_s']:.0f} s vs {target:.0f} s) at "
                  f"load {this['load_after']}; its CPU time / cores is {this['idle_wall_s']:.0f} s (the wall time "
                  f"to expect on otherwise idle cores, if the runs keep every core busy)."]
    else:
        lines += ["", f"A smaller grid than the issue's study: no verdict on the target. CPU time / cores: "
                  f"{this['idle_wall_s']:.0f} s."]
    lines += ["",
              "## Per method (this checkout)", "",
              "| method | runs | own real time s (sum) | per run s | decisions s (sum) | share of runs' time |",
              "|---|---:|---:|---:|---:|---:|"]
    for method, entry in sorted(this["by_method"].items(), key=lambda kv: -kv[1]["run_seconds"]):
        lines.append(f"| {method} | {entry['runs']:.0f} | {entry['run_seconds']:.1f} | "
                     f"{entry['run_seconds'] / entry['runs']:.3f} | {entry['decision_seconds']:.1f} | "
                     f"{entry['run_seconds'] / max(this['runs_own_s'], 1e-9):.0%} |")
    per_method_cpu = this.get("stages", {}).get("runs_by_method") or {}
    if per_method_cpu:
        total_cpu = sum(entry["cpu_s"] for entry in per_method_cpu.values())
        lines += ["", "CPU seconds of each run in its job, all in (composition, the run, result writing), "
                  "from the stage timers: unlike the wall times above, hardly inflated by a busy machine.", "",
                  "| method | runs | CPU s (sum) | CPU s per run | wall s per run | share of the runs' CPU |",
                  "|---|---:|---:|---:|---:|---:|"]
        for method, entry in sorted(per_method_cpu.items(), key=lambda kv: -kv[1]["cpu_s"]):
            lines.append(f"| {method} | {entry['runs']:.0f} | {entry['cpu_s']:.1f} | "
                         f"{entry['cpu_s'] / entry['runs']:.3f} | {entry['wall_s'] / entry['runs']:.3f} | "
                         f"{entry['cpu_s'] / max(total_cpu, 1e-9):.0%} |")
    if "stages" in this:
        lines += ["", "## Where the time goes (stage timers, summed over the jobs)", "",
                  "CPU seconds of the job processes in each stage (nested stages indented), then wall seconds, "
                  "which on a loaded machine include waiting for a core; calls in brackets. A stage missing "
                  "from a checkout has no timer there.", ""]
        header = "| stage | " + " | ".join(f"{name}: CPU s | wall s (calls)" for name, _ in columns) + " |"
        lines += [header, "|---|" + "---:|---:|" * len(columns)]
        stages = [stage for _, _, stage in throughput_stages.STAGES] + ["process, all in"]
        for stage in stages:
            cells = []
            for _, result in columns:
                timers = result["stages"]
                if stage in timers["jobs"]:
                    calls = timers["job_calls"].get(stage)
                    cells.append(f"{timers['jobs_cpu'].get(stage, 0.0):.1f} | {timers['jobs'][stage]:.1f}"
                                 + (f" ({calls})" if calls else ""))
                else:
                    cells.append("- | -")
            if any(cell != "- | -" for cell in cells):
                lines.append(f"| {stage.replace('  ', '&nbsp;&nbsp;')} | " + " | ".join(cells) + " |")
        lines.append("| job processes | " + " | ".join(f"{r['stages']['job_processes']} |" for _, r in columns))
        lines += ["", "In the sweep's own process (CPU s / wall s):", ""]
        for name, result in columns:
            own, cpu = result["stages"]["sweep_process"], result["stages"]["sweep_process_cpu"]
            parts = ", ".join(f"{stage.strip()} {cpu.get(stage, 0.0):.1f} / {seconds:.1f}" for stage, seconds in own.items())
            lines.append(f"- {name}: {parts}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--study", choices=["both", *STUDIES], default="both")
    parser.add_argument("--seeds", type=int, default=125, help="nongp: seeds per method")
    parser.add_argument("--methods", nargs="*", default=NON_GP, help="nongp: the methods")
    parser.add_argument("--benchmark", default="nas201_offline_cifar100", help="the benchmark of both studies")
    parser.add_argument("--tutorial-seeds", type=int, default=30, help="tutorial: seeds per method")
    parser.add_argument("--baseline", type=Path, help="another checkout: measured too, before this one")
    parser.add_argument("--no-stages", dest="stages", action="store_false", help="no stage timers")
    parser.add_argument("--limit", type=float, default=None,
                        help="stop a sweep after this many seconds (SIGTERM) and report its finished runs")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "throughput")
    parser.add_argument("--render", type=Path, metavar="JSON", help="only write the report of a JSON written before")
    args = parser.parse_args(argv)
    if args.render:
        saved = json.loads(args.render.read_text())
        for key in ("seeds", "tutorial_seeds"):
            setattr(args, key, int(saved["args"][key]))
        args.methods = json.loads(saved["args"]["methods"].replace("'", '"'))
        args.benchmark = saved["args"]["benchmark"]
        # measured at: as saved, or the UTC time in the file's name
        when = saved.get("measured_at") or args.render.stem.rsplit("-", 1)[-1]
        report = _report(saved["results"][0]["study"], saved["results"], args, when)
        args.render.with_suffix(".md").write_text(report)
        print(report)
        return 0
    studies = list(STUDIES) if args.study == "both" else [args.study]
    codes = ([args.baseline.resolve()] if args.baseline else []) + [REPO]
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    with tempfile.TemporaryDirectory(prefix="mfbench_throughput_") as tmp:
        work = Path(tmp)
        for study in studies:
            # builds (or checks) the table once, outside the timing
            _timed([f"benchmark={args.benchmark}", "hydra.run.dir=warm", "progress=false",
                    "stopping.max_num_evaluations=10", "overwrite=true"], work, _env(REPO, work / "cache", None))
            results = [measure(study, code, args, work) for code in codes]
            when = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
            report = _report(study, results, args, when)
            path = args.out / f"{study}-{stamp}"
            path.with_suffix(".md").write_text(report)
            path.with_suffix(".json").write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                                             "measured_at": when, "results": results}, indent=1) + "\n")
            print(report)
            print(f"-> {path}.md, {path}.json", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
