#!/usr/bin/env python
"""mfbench side by side with Syne Tune 0.13.0: same exported table, seeds, workers and budget.

One script for every method the reference has (ASHA family, synchronous family, MOBSTER /
Hyper-Tune / SyncMOBSTER, random search). The reference runs through
``benchmarks/reference/syne_tune_runner.py`` in its own virtual environment (it needs
``numpy<1.24``; install line in ``benchmarks/reference/README.md``); ours runs as
``python -m mfbench`` in a subprocess, so both sides are timed the same way. Two parts:

* **quality** (``--seeds`` N, default 10, at ``--budget`` simulated seconds, default the
  benchmark's): final best metric of the reference and of each of our ``--variant`` s
  (``default`` = the method YAML as shipped), decision time NOT charged on either side;
  mean ± standard error over seeds 0..N-1 and Welch's ``z = (ours - ref) / se`` in the
  direction of the mode (``z > 2``: ours worse beyond noise). The reference's GP methods
  take minutes per run with the charge off, which is why the GP protocol uses a shorter
  ``--budget`` here (see ``benchmarks/results/README.md``).
* **timing** (``--timing-seeds`` K, default 2, at ``--timing-budget``, default the
  benchmark's full budget): the reference's real time per run and ours, measured in this
  script run, interleaved per seed so both see the same machine load. ``--timing-charge``
  picks the reference's decision-time charge: ``on`` is Syne Tune's own default run (the
  "full default run" of the targets; fewer decisions fit in the budget), ``off`` the same
  protocol as the quality part. Ours always runs its default (charge off: more decisions,
  so the ratio is conservative).

Time is reported three ways on both sides: the wall and CPU (user + system) seconds of the
whole process (interpreter start, imports and table loading included) and the in-run
seconds (the reference's ``tuner.run()``; ours from building the method to the end of the
simulation). Speed-ups use the in-run time unless ``--speed-by process_cpu_s`` etc.

Each reference process runs with one BLAS thread (``--reference-blas-threads``, recorded in
its cached run as ``blas_threads``); runs cached without that key ran with OpenBLAS's default,
one thread per core.

Caches (so the reference's slow runs are not recomputed; ``--rerun-reference`` /
``--rerun`` force):

* reference: ``<results>/reference/<benchmark>-<T>s-<w>w[-charged]/<method>/seed_<s>.json``;
  timing runs are always fresh unless ``--cached-timing``;
* ours: ``<results>/ours/<benchmark>-<T>s-<w>w/<variant>/<method>/seed_<s>.json``, reused
  only while the fingerprint of ``mfbench/`` and ``conf/`` is the one that produced it.

The report goes to ``<results>/compare/<benchmark>-<w>w/<--name>.md`` and ``.json``. Examples::

    .venv/bin/python benchmarks/compare_with_syne_tune.py --methods asha_stop asha_prom synchb bohb
    .venv/bin/python benchmarks/compare_with_syne_tune.py --methods mobster_joint hypertune_indep \\
        --budget 3600 --variant exact=opt_nstarts=2,opt_refit_growth=0,opt_warmstart=false,opt_cold_refit_growth=null \\
        --timing-seeds 1 --timing-charge on --name gp_methods
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

#: the methods of Syne Tune's NB201 multi-fidelity tutorial (the runner knows them) plus random search
REFERENCE_METHODS = ["random_search", "asha_stop", "asha_prom", "asha6_stop", "synchb", "syncsh", "bohb", "dehb",
                     "mobster_joint", "mobster_indep", "hypertune_indep", "hypertune4_indep", "hypertune_joint",
                     "syncmobster"]
TIME_KEYS = ("process_wall_s", "process_cpu_s", "real_time_s", "loop_s")
#: variant keys with these prefixes are passed as they are; the others are method.searcher options
OVERRIDE_GROUPS = ("backend.",)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--benchmark", default="nas201_offline_cifar100",
                   help="benchmark YAML name: a table, or a YAHPO LCBench surrogate (yahpo_lcbench[_<task>])")
    p.add_argument("--benchmark-override", action="append", default=[], metavar="KEY=VALUE",
                   help="a benchmark override for both sides, e.g. benchmark.blackbox.data_dir=tests/data/yahpo-lcbench "
                        "(the vendored LCBench model; run from the repository root) (repeatable)")
    p.add_argument("--methods", nargs="+", default=REFERENCE_METHODS[:8], choices=REFERENCE_METHODS, metavar="METHOD",
                   help=f"default: the non-GP ones; any of {', '.join(REFERENCE_METHODS)}")
    p.add_argument("--seeds", type=int, default=10, help="quality: seeds 0..N-1 (0 skips the quality part)")
    p.add_argument("--budget", type=float, default=None, help="quality: simulated seconds (default: the benchmark's)")
    p.add_argument("--variant", action="append", default=[], metavar="NAME=KEY=VALUE,...",
                   help="one of our variants: method.searcher overrides, e.g. "
                        "exact=opt_refit_growth=0,opt_warmstart=false, and/or backend overrides, e.g. "
                        "poll5=backend.poll_interval=5 (repeatable; 'default' is always run)")
    p.add_argument("--timing-seeds", type=int, default=2, help="timing: seeds 0..K-1 (0 skips the timing part)")
    p.add_argument("--timing-budget", type=float, default=None, help="timing: simulated seconds (default: full)")
    p.add_argument("--timing-charge", choices=["on", "off"], default="off",
                   help="timing: the reference's decision-time charge (on = Syne Tune's default run)")
    p.add_argument("--cached-timing", action="store_true",
                   help="timing: reuse cached reference runs (default: rerun them now, side by side with ours)")
    p.add_argument("--reference-timeout", type=float, default=None, metavar="S",
                   help="stop a reference run after S wall seconds; its time then counts as a lower bound "
                        "(speed-up '>'), and it has no final best (timing part only)")
    p.add_argument("--speed-by", choices=TIME_KEYS, default="real_time_s",
                   help="time used for the speed-up (loop_s: in-run without our one-off imports)")
    p.add_argument("--n-workers", type=int, default=None, help="default: the benchmark's")
    p.add_argument("--only", choices=["reference", "ours"], default=None,
                   help="only fill one side's cache (e.g. the slow reference ahead of time, in a second process)")
    p.add_argument("--from-seed", type=int, default=0, metavar="K",
                   help="with --only: fill the cache for seeds K..N-1 only (a second lane can take the upper seeds)")
    p.add_argument("--rerun", action="store_true", help="ignore our cached runs")
    p.add_argument("--carry-over", action="append", default=[], metavar="VARIANT=FINGERPRINT",
                   help="also reuse our cached runs of VARIANT made by this earlier code (e.g. exact=<fp> after a "
                        "change of the defaults only): per method and setting, one of them is rerun now and must "
                        "match exactly (final best, results, trials, searcher statistics), else the script stops "
                        "(repeatable)")
    p.add_argument("--rerun-reference", action="store_true", help="ignore cached reference runs")
    p.add_argument("--skip-reference", action="store_true", help="never run the reference: use its cache only")
    p.add_argument("--name", default=None, help="report file name (default: the methods joined)")
    p.add_argument("--reference-runner", type=Path, default=REPO / "benchmarks" / "reference" / "syne_tune_runner.py")
    p.add_argument("--reference-python", type=Path, default=Path("/work/st-venv/bin/python"))
    p.add_argument("--reference-blas-threads", type=int, default=1, metavar="N",
                   help="BLAS / OpenMP threads of each reference process (OPENBLAS_NUM_THREADS etc.; recorded in "
                        "its cached run). 1: the reference's numpy otherwise starts one OpenBLAS thread per core, "
                        "which on this 2-core machine costs its GP methods ~80%% more CPU for the same run; 0: "
                        "leave the environment as it is (the runs cached before this option)")
    p.add_argument("--keep-reference-output", type=Path, default=None, metavar="DIR",
                   help="also copy each new reference run's full output (results parquet and summary JSON) to "
                        "DIR/<method>-<seed>.*, e.g. to read its configurations later")
    p.add_argument("--results-dir", type=Path, default=REPO / "benchmarks" / "results")
    p.add_argument("--table-dir", type=Path, default=Path.home() / ".cache" / "mfbench" / "exports")
    args = p.parse_args(argv)
    for text in args.benchmark_override:
        if not text.startswith("benchmark.") or "=" not in text:
            p.error(f"--benchmark-override {text!r}: give benchmark.KEY=VALUE")
    if args.from_seed and not args.only:
        p.error("--from-seed K only fills a cache (with --only): a report needs seeds 0..N-1")
    if not 0 <= args.from_seed < max(args.seeds, 1):
        p.error(f"--from-seed {args.from_seed}: give 0 <= K < --seeds ({args.seeds})")
    args.carry_over = parse_carry_over(p, args.carry_over)
    args.variants = {"default": {}}
    for text in args.variant:
        name, _, body = text.partition("=")
        if not name or name in args.variants:
            p.error(f"--variant {text!r}: give a new NAME=KEY=VALUE,... ({name!r} is taken or empty)")
        try:
            args.variants[name] = dict(item.split("=", 1) for item in body.split(",") if item)
        except ValueError:
            p.error(f"--variant {text!r}: every override is KEY=VALUE")
    return args


def parse_carry_over(parser: argparse.ArgumentParser, texts: list[str]) -> dict[str, set[str]]:
    """``--carry-over VARIANT=FINGERPRINT`` options as ``{variant: {fingerprints}}``."""
    carry_over: dict[str, set[str]] = {}
    for text in texts:
        variant, _, fingerprint = text.partition("=")
        if not variant or not fingerprint:
            parser.error(f"--carry-over {text!r}: give VARIANT=FINGERPRINT, e.g. exact=dabb58dd22d4afea")
        carry_over.setdefault(variant, set()).add(fingerprint)
    return carry_over


# ----------------------------------------------------------------------------- set-up

def open_benchmark(name: str, overrides: list[str] | None = None) -> Any:
    from mfbench.api import compose
    from mfbench.config.resolve import instantiate, resolve_config

    return instantiate(resolve_config(compose([f"benchmark={name}", *(overrides or [])]))["benchmark"])


def yahpo_lcbench_source(benchmark: Any) -> list[str] | None:
    """The reference runner's arguments for a YAHPO LCBench benchmark (None for any other).

    The reference evaluates the same ONNX model (``benchmarks/reference/yahpo_lcbench_blackbox.py``)
    from the folder our blackbox reads: ``data_dir`` when set, else the cache folder.
    """
    from mfbench.blackbox.cache import cache_root
    from mfbench.blackbox.sources import yahpo_scenarios

    blackbox = benchmark.open()
    description = blackbox.describe()
    if description.get("kind") != "surrogate" or description.get("scenario") != "lcbench":
        return None
    options = getattr(benchmark.blackbox, "keywords", {})  # the partial of yahpo_lcbench_blackbox
    data_dir = options.get("data_dir")
    folder = (Path(data_dir).expanduser() if data_dir is not None
              else cache_root(options.get("cache_dir")) / yahpo_scenarios.SCENARIOS["lcbench"].entry)
    return ["--yahpo-lcbench", str(folder.resolve()), "--instance", str(description["instance"])]


def export_table(name: str, benchmark: Any, table_dir: Path) -> Path:
    """The benchmark as a long-format table the reference runner reads (exported once)."""
    from mfbench.blackbox.base import TabularBlackbox
    from mfbench.blackbox.export import export_long_format

    path = table_dir / f"{name}.parquet"
    if path.is_file() and path.with_suffix(".json").is_file():
        return path
    blackbox = benchmark.open()
    if not isinstance(blackbox, TabularBlackbox):
        raise SystemExit(f"benchmark {name} is not a table; the reference runner needs one (pick a tabular benchmark, "
                         f"or a YAHPO LCBench surrogate: yahpo_lcbench[_<task>])")
    table_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.parquet")
    export_long_format(blackbox, tmp, fidelity_attr=benchmark.fidelity_attr, metric=benchmark.metric,
                       mode=benchmark.mode, elapsed_time_attr=benchmark.elapsed_time_attr)
    tmp.with_suffix(".json").replace(path.with_suffix(".json"))
    tmp.replace(path)
    return path


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 over mfbench/**/*.py and conf/**/*.yaml: our cached runs are valid for this code only."""
    digest = hashlib.sha256()
    for path in sorted([*(REPO / "mfbench").rglob("*.py"), *(REPO / "conf").rglob("*.yaml")]):
        digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=None)
def searcher_options(method: str) -> frozenset[str]:
    """The keys of ``method.searcher`` in the method's YAML (empty for methods without one)."""
    from mfbench.api import compose

    searcher = compose([f"method={method}"]).method.get("searcher")
    return frozenset(searcher.keys()) if searcher is not None else frozenset()


def _searcher_keys(overrides: dict[str, str]) -> set[str]:
    """The keys of a variant that are ``method.searcher`` options (the others name their group)."""
    return {k for k in overrides if not k.startswith(OVERRIDE_GROUPS)}


def _command_overrides(overrides: dict[str, str]) -> list[str]:
    return [f"{k}={v}" if k.startswith(OVERRIDE_GROUPS) else f"method.searcher.{k}={v}" for k, v in overrides.items()]


def variants_of(args: argparse.Namespace, method: str) -> list[str]:
    """Our variants that apply to ``method``: a variant overriding searcher options it lacks is skipped."""
    return [v for v, overrides in args.variants.items() if _searcher_keys(overrides) <= searcher_options(method)]


# ----------------------------------------------------------------------------- runs

def _timed_subprocess(cmd: list[str], cwd: Path | None = None, timeout: float | None = None,
                      env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess | None, float, float]:
    """Run ``cmd``; return it (None if it ran past ``timeout`` s and was killed) with its wall
    seconds and CPU seconds (user + system of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    try:
        done: subprocess.CompletedProcess | None = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd,
                                                                  timeout=timeout, env=env)
    except subprocess.TimeoutExpired:  # subprocess.run has killed and reaped it: its CPU time is counted
        done = None
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return done, wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _load(path: Path) -> dict[str, Any]:
    return {**json.loads(path.read_text(encoding="utf-8")), "from_cache": True}


def _store(path: Path, result: dict[str, Any]) -> dict[str, Any]:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return {**result, "from_cache": False}


def run_reference(args: argparse.Namespace, source: list[str], method: str, seed: int, n_workers: int, budget: float,
                  charge: bool, cache: Path, rerun: bool) -> dict[str, Any]:
    if cache.is_file() and not rerun:
        return _load(cache)
    if args.skip_reference:
        raise SystemExit(f"--skip-reference, but there is no cached reference run {cache}")
    if not args.reference_python.is_file():
        raise SystemExit(f"no reference Python at {args.reference_python}: create the Syne Tune 0.13.0 venv "
                         f"(benchmarks/reference/README.md) or pass --reference-python")
    with tempfile.TemporaryDirectory(prefix="st-ref-") as tmp:
        out = Path(tmp) / f"{method}-{seed}.parquet"
        cmd = [str(args.reference_python), str(args.reference_runner), *source, "--method", method,
               "--seed", str(seed), "--n-workers", str(n_workers), "--max-wallclock-time", str(budget),
               "--charge-decision-time" if charge else "--no-charge-decision-time", "--out", str(out)]
        env, threads = reference_environment(args.reference_blas_threads)
        done, wall, cpu = _timed_subprocess(cmd, timeout=args.reference_timeout, env=env)
        if done is None:  # a lower bound of its time; no quality value
            return _store(cache, {"final_best": None, "real_time_s": wall, "process_wall_s": wall,
                                  "process_cpu_s": cpu, "timed_out": True, **threads})
        if done.returncode != 0:
            raise SystemExit(f"reference run failed ({' '.join(cmd)}):\n{done.stderr[-3000:]}")
        summary = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
        if args.keep_reference_output is not None:
            args.keep_reference_output.mkdir(parents=True, exist_ok=True)
            for produced in (out, out.with_suffix(".json")):
                shutil.copyfile(produced, args.keep_reference_output / produced.name)
    keep = ("final_best", "real_time_s", "num_results", "num_trials", "restrict_configurations",
            "reference_versions")  # absent in runs cached before 2026-12-01
    return _store(cache, {**{k: summary.get(k) for k in keep}, "process_wall_s": wall, "process_cpu_s": cpu,
                          **threads})


#: the variables that set the thread count of the reference's BLAS (OpenBLAS) and OpenMP
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def reference_environment(threads: int) -> tuple[dict[str, str] | None, dict[str, int]]:
    """The environment of a reference process with ``threads`` BLAS threads (0: this process's
    own, unchanged) and what to record of it in the cached run (``blas_threads``; absent in
    runs cached before the option, which used OpenBLAS's default of one thread per core).

    The thread count changes the reference's floating-point reductions, so the same seed gives
    another (equally valid) run with another count: a cached run is one sample of the
    reference, reproducible with its own setting.
    """
    if threads <= 0:
        return None, {}
    return {**os.environ, **{name: str(threads) for name in BLAS_THREAD_VARIABLES}}, {"blas_threads": threads}


def run_ours(args: argparse.Namespace, benchmark_name: str, method: str, variant: str, seed: int, n_workers: int,
             budget: float, cache: Path, rerun: bool) -> dict[str, Any]:
    """One ``python -m mfbench`` process, decision time not charged (the default)."""
    if cache.is_file() and not rerun:
        cached = _load(cache)
        if cached.get("code") == code_fingerprint():
            return cached
        if cached.get("code") in getattr(args, "carry_over", {}).get(variant, ()):
            return _carried_over(args, benchmark_name, method, variant, seed, n_workers, budget, cache, cached)
    return _fresh_run(args, benchmark_name, method, variant, seed, n_workers, budget, cache)


#: the keys of a run that must be equal for a cached run of earlier code to count as this code's
CARRY_OVER_KEYS = ("final_best", "num_results", "num_trials", "searcher_stats")


def _carried_over(args: argparse.Namespace, benchmark_name: str, method: str, variant: str, seed: int,
                  n_workers: int, budget: float, cache: Path, cached: dict[str, Any]) -> dict[str, Any]:
    """A cached run of earlier code (``--carry-over``), reused once one run of its group reran identically.

    A group is one cache folder (setting, variant, method) and one earlier code. Its first
    carried-over run is rerun with the current code and cached as such, marked with the code
    it checked (``carry_over_check``): that marker is what makes the group's other runs
    reusable, in this script run and later ones. If any of :data:`CARRY_OVER_KEYS` differs,
    the change did affect these runs and the script stops rather than mix two codes' results.
    """
    old_code = cached.get("code")
    checked_by = _carry_over_checked_by(cache.parent, old_code)
    if checked_by is not None:
        return {**cached, "carried_over": old_code, "carry_over_verified_by_seed": checked_by}
    fresh = _fresh_run(args, benchmark_name, method, variant, seed, n_workers, budget, cache)
    differ = [k for k in CARRY_OVER_KEYS if fresh.get(k) != cached.get(k)]
    if differ:
        raise SystemExit(
            f"--carry-over {old_code}: {method} ({variant}) seed {seed} rerun with the current code "
            f"differs in {differ} (cached {[cached.get(k) for k in differ]}, now {[fresh.get(k) for k in differ]}): "
            f"the change affects these runs; rerun them (drop --carry-over)")
    stored = {k: v for k, v in fresh.items() if k != "from_cache"}
    return _store(cache, {**stored, "carry_over_check": old_code})


def _carry_over_checked_by(folder: Path, old_code: Any) -> int | None:
    """The seed of the run in ``folder`` that the current code reran and found equal to its
    cached run of ``old_code`` (``carry_over_check``), or None."""
    for path in sorted(folder.glob("seed_*.json")):
        run = json.loads(path.read_text(encoding="utf-8"))
        if run.get("code") == code_fingerprint() and run.get("carry_over_check") == old_code:
            return int(path.stem.split("_")[-1])
    return None


def _fresh_run(args: argparse.Namespace, benchmark_name: str, method: str, variant: str, seed: int, n_workers: int,
               budget: float, cache: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mfbench-cmp-") as tmp:
        cmd = [sys.executable, "-m", "mfbench", f"method={method}", f"benchmark={benchmark_name}", f"seed={seed}",
               f"n_workers={n_workers}", f"stopping.max_wallclock_time={budget}", "progress=false",
               "backend.charge_decision_time=false", f"hydra.run.dir={tmp}/run", *args.benchmark_override]
        cmd += _command_overrides(args.variants[variant])
        done, wall, cpu = _timed_subprocess(cmd, cwd=REPO)
        if done.returncode != 0:
            raise SystemExit(f"mfbench run failed ({' '.join(cmd)}):\n{done.stderr[-3000:]}")
        metadata = json.loads((Path(tmp) / "run" / "metadata.json").read_text(encoding="utf-8"))
    return _store(cache, {
        "final_best": metadata["best"]["value"] if metadata["best"] else None,
        "real_time_s": metadata["real_time"]["seconds"], "decision_s": metadata["real_time"]["decision_seconds"],
        "num_results": metadata["num_results"], "num_trials": metadata["num_trials_started"],
        "searcher_stats": metadata["scheduler"].get("stats"), "process_wall_s": wall, "process_cpu_s": cpu,
        "import_s": metadata["scheduler"].get("import_seconds") or 0.0,
        "simulation_s": metadata["real_time"].get("simulation_seconds"),
        "code": code_fingerprint(),
    })


# ----------------------------------------------------------------------------- statistics

def mean_se(values: list[float]) -> tuple[float, float]:
    x = np.asarray(values, dtype=np.float64)
    return float(x.mean()), (float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else 0.0)


def z_worse(ours: list[float], ref: list[float], sign: float) -> float:
    """Welch's z of ours against the reference, positive when ours is worse (``sign`` = +1 for min)."""
    (mo, so), (mr, sr) = mean_se(ours), mean_se(ref)
    se = math.hypot(so, sr)
    return sign * (mo - mr) / se if se > 0 else 0.0


#: what a run's simulation amounted to, in both sides' cached runs: trials started, results reported
VOLUME_KEYS = ("num_trials", "num_results")


def simulation_volume(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Mean ± se of :data:`VOLUME_KEYS` over runs, for the keys every run has (older caches may not)."""
    volume = {}
    for key in VOLUME_KEYS:
        values = [r.get(key) for r in results]
        if values and all(isinstance(v, (int, float)) for v in values):
            mean, se = mean_se([float(v) for v in values])
            volume[key] = {"mean": mean, "se": se, "values": values}
    return volume


def loop_seconds(result: dict[str, Any], side: str) -> float:
    """In-run seconds without building the objects and the one-off imports: the reference's
    ``tuner.run()`` (Syne Tune and its GP stack imported, the scheduler built before it starts);
    ours the simulation alone (``simulation_s``: the method built and torch imported before it;
    runs of earlier code lack it: their in-run less ``import_s``, torch and SciPy's optimiser
    imported at the first model-based decision)."""
    if side == "reference":
        return float(result["real_time_s"])
    if result.get("simulation_s") is not None:  # the simulation alone: built, imports done (as tuner.run())
        return float(result["simulation_s"])
    return float(result["real_time_s"]) - float(result.get("import_s") or 0.0)


def mean_times(results: list[dict[str, Any]], side: str = "ours") -> dict[str, float]:
    times = {key: float(np.mean([r.get(key, math.nan) for r in results])) for key in TIME_KEYS if key != "loop_s"}
    times["loop_s"] = float(np.mean([loop_seconds(r, side) for r in results]))
    return times


# ----------------------------------------------------------------------------- report

def _format_report(name: str, benchmark: Any, n_workers: int, args: argparse.Namespace, quality: list[dict[str, Any]],
                   timing: list[dict[str, Any]], cached_runs: int, total_runs: int, surrogate: bool = False,
                   runs: list[dict[str, Any]] | None = None) -> str:
    variants = list(args.variants)
    lines = [f"Benchmark {name} ({benchmark.metric}, {benchmark.mode}), {n_workers} workers; reference Syne Tune "
             f"0.13.0; our code {code_fingerprint()}."]
    if surrogate:
        lines.append("Both sides evaluate the same YAHPO LCBench ONNX surrogate (the reference through "
                     "benchmarks/reference/yahpo_lcbench_blackbox.py, a Syne Tune Blackbox: values identical to ours "
                     "and to yahpo-gym 1.0.2, tests/blackbox/sources/test_yahpo_lcbench_parity.py); continuous space, "
                     "nothing restricted.")
    if quality:
        budget = quality[0]["budget"]
        lines += ["", f"Quality: {budget:g} s simulated, decision time not charged on either side, seeds "
                  f"0..{args.seeds - 1}; final best (mean ± se); z > 2: ours worse beyond noise; in-run seconds "
                  f"per run (mean).", "",
                  "| method | Syne Tune 0.13.0 | " + " | ".join(f"ours {v} | z" for v in variants)
                  + " | s/run ref | " + " | ".join(f"s/run {v}" for v in variants) + " |",
                  "|---|---|" + "---|---|" * len(variants) + "---|" + "---|" * len(variants)]
        for row in quality:
            ref = row["reference"]
            cells = [row["method"], f"{ref['mean']:.4f} ± {ref['se']:.4f}"]
            for v in variants:
                r = row.get(v)
                cells += ([f"{r['mean']:.4f} ± {r['se']:.4f}", f"{r['z_worse']:+.2f}{' WORSE' if r['z_worse'] > 2 else ''}"]
                          if r else ["n/a", ""])
            cells += [f"{ref['real_time_s']:.2f}"] + [f"{row[v]['real_time_s']:.2f}" if v in row else "n/a"
                                                     for v in variants]
            lines.append("| " + " | ".join(cells) + " |")
        volume_rows = [row for row in quality if all(k in row["reference"].get("volume", {}) for k in VOLUME_KEYS)]
        if volume_rows:
            lines += ["", "Simulation volume, the sharper check of the simulation: trials started and results "
                      "reported per run (mean ± se); z: ours minus the reference, beyond 2 either way a difference "
                      "of what is run (our default loop sees each result when it happens; the reference tuner polls "
                      "every 5 s, as our poll5 variant where there is one).", "",
                      "| method | count | Syne Tune 0.13.0 | " + " | ".join(f"ours {v} | z" for v in variants) + " |",
                      "|---|---|---|" + "---|---|" * len(variants)]
            for row in volume_rows:
                for key in VOLUME_KEYS:
                    ref_volume = row["reference"]["volume"][key]
                    cells = [row["method"], key.removeprefix("num_"), f"{ref_volume['mean']:.1f} ± {ref_volume['se']:.1f}"]
                    for v in variants:
                        ours_volume = row.get(v, {}).get("volume", {}).get(key)
                        cells += ([f"{ours_volume['mean']:.1f} ± {ours_volume['se']:.1f}", f"{ours_volume['z']:+.2f}"]
                                  if ours_volume and "z" in ours_volume else ["n/a", ""])
                    lines.append("| " + " | ".join(cells) + " |")
    if timing:
        row0 = timing[0]
        lines += ["", f"Timing: {row0['budget']:g} s simulated, seeds 0..{args.timing_seeds - 1}, reference with its "
                  f"decision-time charge {args.timing_charge}, ours default (charge off); "
                  + ("cached runs of earlier script runs allowed (--cached-timing)" if args.cached_timing else
                     "both measured in this script run, interleaved per seed")
                  + f". Seconds per run: process wall / process CPU / in-run; speed-up by {args.speed_by}; "
                  "'w/o imports': our simulation alone, with the method built and torch imported before it, "
                  "like the reference's in-run, tuner.run() (earlier code: our in-run less the one-off import "
                  "of torch at the first model-based decision), and the speed-up by it.", "",
                  "| method | Syne Tune wall / CPU / in-run | ours wall / CPU / in-run | speed-up | ours in-run w/o imports "
                  "| speed-up w/o imports | ref best | ours best |",
                  "|---|---|---|---|---|---|---|---|"]
        for row in timing:
            r, o = row["reference"], row["ours"]
            bound = ">" if row["reference_timed_out"] else ""  # the reference was stopped: times are lower bounds
            ref_best = "stopped" if row["ref_best"] is None else f"{row['ref_best']:.4f}"
            lines.append(f"| {row['method']} | {bound}{r['process_wall_s']:.1f} / {bound}{r['process_cpu_s']:.1f} / "
                         f"{bound}{r['real_time_s']:.2f} | {o['process_wall_s']:.1f} / {o['process_cpu_s']:.1f} / "
                         f"{o['real_time_s']:.2f} | {bound}{row['speedup']:.1f}x | {o['loop_s']:.2f} | "
                         f"{bound}{row['speedups']['loop_s']:.1f}x | {ref_best} | {row['ours_best']:.4f} |")
        if any(row["reference_timed_out"] for row in timing):
            lines.append(f"\n'>': the reference ran past --reference-timeout {args.reference_timeout:g} s and was "
                         f"stopped; its time then is a lower bound (its in-run time: the process wall time).")
    if cached_runs:
        lines.append(f"\n({cached_runs} of {total_runs} runs come from the cache of earlier script runs.)")
    lines += carry_over_note(runs or [])
    return "\n".join(lines)


def carry_over_note(runs: list[dict[str, Any]]) -> list[str]:
    """A report line on the runs reused from earlier code (``--carry-over``), if any."""
    carried = [r for r in runs if r.get("carried_over")]
    if not carried:
        return []
    codes = sorted({r["carried_over"] for r in carried})
    return [f"\n({len(carried)} runs were carried over from earlier code {', '.join(codes)} (--carry-over): per "
            f"method and variant one run was rerun with this code and matched its cached run exactly (final best, "
            f"results, trials, searcher statistics).)"]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    name = args.benchmark
    benchmark = open_benchmark(name, args.benchmark_override)
    n_workers = args.n_workers or benchmark.n_workers
    full_budget = float(benchmark.max_wallclock_time)
    budget = float(args.budget or full_budget)
    timing_budget = float(args.timing_budget or full_budget)
    source = yahpo_lcbench_source(benchmark)  # a surrogate both sides evaluate, or None: a table
    if source is None:
        source = ["--table", str(export_table(name, benchmark, args.table_dir))]
    sign = 1.0 if benchmark.mode == "min" else -1.0
    runs: list[dict[str, Any]] = []

    def one(method: str, side: str, seed: int, part_budget: float, charge: bool = False,
            fresh: bool = False) -> dict[str, Any]:
        key = f"{name}-{int(part_budget)}s-{n_workers}w"
        if side == "reference":
            cache = args.results_dir / "reference" / (key + ("-charged" if charge else "")) / method / f"seed_{seed}.json"
            result = run_reference(args, source, method, seed, n_workers, part_budget, charge, cache,
                                   rerun=args.rerun_reference or fresh)
        else:
            cache = args.results_dir / "ours" / key / side / method / f"seed_{seed}.json"
            result = run_ours(args, name, method, side, seed, n_workers, part_budget, cache, rerun=args.rerun or fresh)
        runs.append(result)
        best = "stopped (timeout)" if result.get("timed_out") else f"{result['final_best']:.5f}"
        print(f"{method:16s} {side:10s} T={part_budget:g}{' charged' if charge else ''} seed {seed}: best "
              f"{best}, in-run {result['real_time_s']:.2f} s, process "
              f"{result.get('process_wall_s', math.nan):.1f} s wall / {result.get('process_cpu_s', math.nan):.1f} s CPU"
              f"{' (cached)' if result['from_cache'] else ''}", flush=True)
        return result

    quality, timing = [], []
    for method in args.methods:
        if args.seeds <= 0:
            break
        sides = {"reference": ["reference"], "ours": variants_of(args, method),
                 None: ["reference", *variants_of(args, method)]}[args.only]
        per_side = {side: [one(method, side, s, budget) for s in range(args.from_seed, args.seeds)] for side in sides}
        if any(r.get("timed_out") for r in per_side.get("reference", [])):
            raise SystemExit(f"{method}: a reference quality run timed out (--reference-timeout): no final best to "
                             f"compare; rerun without the timeout or with a shorter --budget")
        if args.only:
            continue
        ref = [r["final_best"] for r in per_side["reference"]]
        row: dict[str, Any] = {"method": method, "seeds": args.seeds, "budget": budget}
        for side, results in per_side.items():
            values = [r["final_best"] for r in results]
            mean, se = mean_se(values)
            row[side] = {"mean": mean, "se": se, **mean_times(results, side), "values": values,
                         "volume": simulation_volume(results)}
            if side != "reference":  # (the reference comes first in per_side)
                row[side]["z_worse"] = z_worse(values, ref, sign)
                for key, volume in row[side]["volume"].items():
                    if key in row["reference"]["volume"]:
                        volume["z"] = z_worse(volume["values"], row["reference"]["volume"][key]["values"], 1.0)
        quality.append(row)
    charge = args.timing_charge == "on"
    for method in args.methods:
        ref_t, ours_t = [], []
        for s in range(args.timing_seeds):
            if args.only != "ours":
                ref_t.append(one(method, "reference", s, timing_budget, charge, fresh=not args.cached_timing))
            if args.only != "reference":
                ours_t.append(one(method, "default", s, timing_budget, fresh=not args.cached_timing))
        if args.only or not ref_t:
            continue
        tr, to = mean_times(ref_t, "reference"), mean_times(ours_t)
        finished = [r["final_best"] for r in ref_t if not r.get("timed_out")]
        timing.append({"method": method, "seeds": args.timing_seeds, "budget": timing_budget,
                       "reference_charge": args.timing_charge, "reference": tr, "ours": to,
                       "reference_timed_out": sum(bool(r.get("timed_out")) for r in ref_t),
                       "speedup": tr[args.speed_by] / to[args.speed_by],
                       "speedups": {key: tr[key] / to[key] for key in TIME_KEYS},
                       "ref_best": float(np.mean(finished)) if finished else None,
                       "runs": {"reference": [{k: r.get(k) for k in (*TIME_KEYS[:3], "final_best", "num_results")}
                                              for r in ref_t],
                                "ours": [{k: r.get(k) for k in (*TIME_KEYS[:3], "import_s", "simulation_s", "final_best",
                                                                 "num_results")}
                                         for r in ours_t]},
                       "ours_best": float(np.mean([r["final_best"] for r in ours_t]))})
    if args.only:
        return {}
    surrogate = source[0] == "--yahpo-lcbench"
    report = _format_report(name, benchmark, n_workers, args, quality, timing,
                            sum(r["from_cache"] for r in runs), len(runs), surrogate=surrogate, runs=runs)
    print("\n" + report)
    out = args.results_dir / "compare" / f"{name}-{n_workers}w"
    out.mkdir(parents=True, exist_ok=True)
    stem = args.name or "_".join(args.methods)
    (out / f"{stem}.md").write_text(report + "\n", encoding="utf-8")
    summary = {"benchmark": name, "n_workers": n_workers, "code": code_fingerprint(), "variants": args.variants,
               "benchmark_overrides": args.benchmark_override,
               "reference_blackbox": "yahpo_lcbench_blackbox" if surrogate else "table",
               "quality": quality, "timing": timing, "argv": sys.argv[1:] if argv is None else argv}
    (out / f"{stem}.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


if __name__ == "__main__":
    main()
