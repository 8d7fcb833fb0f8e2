"""Peak memory of single runs, by kind, for this checkout and (optionally) a baseline checkout.

    python benchmarks/gp_memory.py                                   # default runs, this checkout
    python benchmarks/gp_memory.py --baseline /tmp/base --repeats 2  # before / after, interleaved
    python benchmarks/gp_memory.py --methods mobster_joint asha_stop --seeds 0 1

Each run is ``python -m mfbench method=M seed=S benchmark=B`` (4 workers, the benchmark's
full budget unless ``--budget``) in a fresh process, one at a time. Measured per run:

- **peak resident memory** (``VmHWM`` of ``/proc/self/status``, read at exit; ``wait4``'s
  ``ru_maxrss`` is kept too, but it can be larger: it also counts the launching process's
  pages the child held between ``fork`` and ``exec``);
- at exit, what is resident by kind: ``RssAnon`` (heap and other private memory: arrays,
  Python objects, memory the allocator keeps after it was freed) and ``RssFile`` (pages of
  mapped files: shared libraries, and the benchmark's memory-mapped table);
- the process's CPU seconds (user + system) and its wall seconds;
- the final best and a hash of ``results.parquet``: a change meant to save memory must not
  change results, and the two checkouts' runs of one method and seed are compared.

With ``--baseline DIR`` the same runs are made with the code in ``DIR`` (e.g. a ``git
worktree`` of the previous commit), alternating run by run (baseline first, then this
checkout first on the next repeat), so that a busy, shared machine affects both alike; each
run imports the checkout's own ``mfbench``: the run starts in ``DIR``, which ``python -m`` puts
first on ``sys.path`` (``DIR`` is on ``PYTHONPATH`` too), ahead of an editable install, whose
finder Python consults last (tests/test_gp_memory.py checks it with a fake checkout). The report
(Markdown, and the numbers as JSON, with each checkout's commit and the machine) goes to
``--out`` (default ``benchmarks/results/memory/``), named by the UTC time; if a run fails, the
runs made so far are reported before the script stops. Linux only (``/proc``).
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checkout_env import checkout_env  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEFAULT_METHODS = ("mobster_joint", "hypertune_joint", "mobster_indep", "hypertune_indep", "syncmobster", "asha_stop")
#: the fields of /proc/self/status written at exit (kB there, MB in the report)
STATUS_FIELDS = ("VmHWM", "VmRSS", "RssAnon", "RssFile")

#: sitecustomize.py of the measured processes: at exit, write /proc/self/status's fields
SITECUSTOMIZE = f'''
import atexit, json, os
_path = os.environ.get("MFBENCH_MEMORY_REPORT")
if _path:
    def _write(path=_path):
        fields = {{}}
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                name, _, value = line.partition(":")
                if name in {STATUS_FIELDS!r}:
                    fields[name] = int(value.split()[0])  # kB
        with open(path, "w", encoding="utf-8") as out:
            json.dump(fields, out)
    atexit.register(_write)
'''


class RunFailed(RuntimeError):
    """A measured run exited with an error or without its memory report."""


def describe_checkout(code: Path) -> dict[str, Any]:
    """The commit of checkout ``code`` and whether its tracked files differ from it (None outside git)."""
    def git(*args: str) -> str | None:
        done = subprocess.run(["git", "-C", str(code), *args], capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else None

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"path": str(code), "commit": git("rev-parse", "HEAD"), "modified": bool(status) if status is not None else None}


def _machine() -> dict[str, Any]:
    threads = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    return {"platform": platform.platform(), "libc": " ".join(platform.libc_ver()), "cpus": os.cpu_count(),
            "python": platform.python_version(), "blas_threads_env": threads}


def _run(code: Path, overrides: list[str], work: Path) -> dict[str, Any]:
    """One run in a fresh process with the code of checkout ``code``; its memory, time and result."""
    site = work / "site"
    site.mkdir(parents=True, exist_ok=True)
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    report = work / "status.json"
    run_dir = work / "run"
    cache = {"MFBENCH_CACHE": os.environ["MFBENCH_CACHE"]} if "MFBENCH_CACHE" in os.environ else {}
    env = checkout_env(code, [str(site)], MFBENCH_MEMORY_REPORT=str(report), **cache)
    args = [sys.executable, "-m", "mfbench", *overrides, f"hydra.run.dir={run_dir}", "progress=false"]
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=code, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RunFailed(f"run failed ({' '.join(args)}):\n{output.decode(errors='replace')[-3000:]}")
    if not report.is_file():
        raise RunFailed(f"the run wrote no {report.name} (its interpreter skipped sitecustomize, or /proc is missing): "
                        f"{' '.join(args)}")
    fields = json.loads(report.read_text(encoding="utf-8"))
    metadata = json.loads((run_dir / "metadata.json").read_text(encoding="utf-8"))
    digest = hashlib.sha256((run_dir / "results.parquet").read_bytes()).hexdigest()[:16]
    return {**{f"{name}_mb": kb / 1024 for name, kb in fields.items()},
            "maxrss_mb": usage.ru_maxrss / 1024, "cpu_s": usage.ru_utime + usage.ru_stime, "wall_s": wall,
            "final_best": (metadata.get("best") or {}).get("value"), "results_sha256": digest}


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def _report(rows: list[dict[str, Any]], checkouts: dict[str, dict[str, Any]], machine: dict[str, Any],
            args: argparse.Namespace, when: str, failure: str | None = None) -> str:
    labels = list(checkouts)
    lines = [f"# Peak memory of single runs ({when})", ""]
    if failure:
        lines += [f"**Stopped early: {failure.splitlines()[0]}** The table holds the runs made before.", ""]
    for label, checkout in checkouts.items():
        state = " (tracked files modified)" if checkout["modified"] else ""
        lines.append(f"- {label}: `{checkout['path']}`, commit `{checkout['commit']}`{state}")
    lines += [f"- machine: {machine['platform']}, {machine['libc']}, {machine['cpus']} CPUs, "
              f"Python {machine['python']}", "",
             f"`benchmark={args.benchmark} n_workers={args.n_workers}`"
             + (f" `stopping.max_wallclock_time={args.budget}`" if args.budget else " (the benchmark's full budget)")
             + f", seeds {args.seeds}, {args.repeats} repeat(s) of each run, one run at a time in a fresh process. "
               "MB = 2^20 bytes. Peak: VmHWM; at exit: RssAnon (private: heap, arrays, freed memory the allocator "
               "keeps) and RssFile (mapped files: libraries, the memory-mapped table). CPU: user + system seconds "
               "of the run's process.", ""]
    head = "| method | seed | " + " | ".join(f"{label}: peak MB | RssAnon | RssFile | CPU s" for label in labels)
    if len(labels) == 2:
        head += " | peak ratio | CPU ratio | same results"
    lines += [head + " |", "|" + "---|" * (2 + 4 * len(labels) + (3 if len(labels) == 2 else 0))]
    for method in args.methods:
        for seed in args.seeds:
            cells = [method, str(seed)]
            summary = {}
            if not any(r["method"] == method and r["seed"] == seed for r in rows):
                continue  # not run (the script stopped early)
            for label in labels:
                mine = [r for r in rows if r["method"] == method and r["seed"] == seed and r["code"] == label]
                summary[label] = {k: _mean([r[k] for r in mine]) for k in ("VmHWM_mb", "RssAnon_mb", "RssFile_mb",
                                                                              "cpu_s")}
                summary[label]["digests"] = {r["results_sha256"] for r in mine}
                s = summary[label]
                cells += [f"{s['VmHWM_mb']:.0f}", f"{s['RssAnon_mb']:.0f}", f"{s['RssFile_mb']:.0f}",
                          f"{s['cpu_s']:.2f}"]
            if len(labels) == 2:
                new, old = (summary[label] for label in labels)
                same = new["digests"] == old["digests"] and len(new["digests"]) == 1
                cells += [f"{new['VmHWM_mb'] / old['VmHWM_mb']:.3f}", f"{new['cpu_s'] / old['cpu_s']:.3f}",
                          "yes" if same else "**no**"]
            lines.append("| " + " | ".join(cells) + " |")
    if len(labels) == 2:
        lines += ["", f"Ratios: {labels[0]} / {labels[1]} (< 1: {labels[0]} uses less). 'same results': every run "
                      "of both checkouts wrote the same results.parquet (hash)."]
    lines += ["", f"Command: `{' '.join(args.argv)}`"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--methods", nargs="+", default=list(DEFAULT_METHODS))
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--benchmark", default="nas201_offline_cifar100")
    p.add_argument("--n-workers", type=int, default=4)
    p.add_argument("--budget", type=float, default=None, help="simulated seconds (default: the benchmark's)")
    p.add_argument("--repeats", type=int, default=1, help="runs of each (method, seed, checkout)")
    p.add_argument("--baseline", type=Path, default=None, metavar="DIR",
                   help="a second checkout measured the same way, interleaved (e.g. a git worktree of main)")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "memory")
    args = p.parse_args(argv)
    args.argv = ["python", "benchmarks/gp_memory.py", *argv]
    if args.repeats < 1:
        p.error("--repeats must be >= 1")
    if args.baseline is not None and not (args.baseline / "mfbench" / "__init__.py").is_file():
        p.error(f"--baseline {args.baseline}: not a checkout of mfbench (no mfbench/__init__.py)")
    if not Path("/proc/self/status").is_file():
        p.error("this script reads /proc/self/status (Linux only)")
    codes = [("this checkout", REPO)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
    checkouts = {label: describe_checkout(code) for label, code in codes}
    machine = _machine()
    rows: list[dict[str, Any]] = []
    failure = None
    with tempfile.TemporaryDirectory(prefix="mfbench-memory-") as tmp:
        try:
            for method in args.methods:
                for seed in args.seeds:
                    overrides = [f"method={method}", f"seed={seed}", f"benchmark={args.benchmark}",
                                 f"n_workers={args.n_workers}"]
                    if args.budget:
                        overrides.append(f"stopping.max_wallclock_time={args.budget}")
                    for repeat in range(args.repeats):
                        # baseline first, then this checkout first: a first-run effect falls on both alike
                        order = codes[::-1] if repeat % 2 == 0 else codes
                        for label, code in order:
                            work = Path(tmp) / f"{len(rows)}"
                            row = {"method": method, "seed": seed, "code": label, "repeat": repeat,
                                   **_run(code, overrides, work)}
                            rows.append(row)
                            print(f"{label:14s} {method:16s} seed {seed}: peak {row['VmHWM_mb']:.0f} MB, anon "
                                  f"{row['RssAnon_mb']:.0f}, file {row['RssFile_mb']:.0f}, CPU {row['cpu_s']:.2f} s",
                                  flush=True)
        except RunFailed as error:
            failure = str(error)
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    text = _report(rows, checkouts, machine, args, when, failure)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"memory-{when}.md").write_text(text, encoding="utf-8")
    record = {"argv": args.argv, "checkouts": checkouts, "machine": machine, "failure": failure, "rows": rows}
    (args.out / f"memory-{when}.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
    print(text)
    if failure:
        raise SystemExit(failure)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
