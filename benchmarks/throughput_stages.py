"""Wall-clock timers around the stages of a sweep, in every Python process it starts (benchmark only).

:mod:`benchmarks.throughput` (``--stages``) puts a folder holding a ``sitecustomize.py`` that
imports this module first on ``PYTHONPATH``, and sets ``MFBENCH_STAGE_TIMERS`` to a folder:
every process of the sweep (the sweep itself and each submitit job) then wraps the functions
of :data:`STAGES` that exist in the code it runs (so the same timers work on an older
checkout: a stage it lacks is skipped) and writes ``<pid>.json`` there when it exits:
``{"argv": [...], "seconds": {stage: wall s}, "cpu": {stage: this process's CPU s}, "calls":
{stage: n}, "runs": [{"method", "cpu", "wall"} per run the job ran]}``. Only the outermost call of a recursive function counts. A job runs its runs in
one thread, so its CPU seconds per stage hardly depend on the load of the machine; its wall
seconds do. Nothing of mfbench imports this module.
"""
from __future__ import annotations

import atexit
import builtins
import collections
import functools
import importlib
import json
import os
import sys
import time
from typing import Any, Callable

#: (module, attribute path, stage name): what is timed when its module is importable
STAGES: tuple[tuple[str, str, str], ...] = (
    ("mfbench.sweeps.plan", "plan_sweep", "sweep: planning (plan_sweep)"),
    ("hydra._internal.config_loader_impl", "ConfigLoaderImpl.load_sweep_config", "Hydra composition (load_sweep_config)"),
    ("mfbench.sweeps.derive", "SweepConfigs.of", "run config: composed or derived (SweepConfigs.of)"),
    ("mfbench.sweeps.launcher", "_GroupingLauncher.run_one", "job: one run, all in (run_one)"),
    ("hydra.core.utils", "run_job", "job: Hydra's run_job (incl. the task)"),
    ("hydra.core.hydra_config", "HydraConfig.set_config", "  HydraConfig.set_config"),
    ("hydra.core.utils", "configure_log", "  configure_log (the run's mfbench.log)"),
    ("copy", "deepcopy", "  copy.deepcopy (configs)"),
    ("mfbench.cli.app", "execute", "task: execute (resolve, claim, simulate, write)"),
    ("mfbench.cli.app", "resolve_config", "  resolve_config"),
    ("mfbench.cli.app", "simulate", "  simulate"),
    ("mfbench.cli.app", "instantiate", "    instantiate (benchmark, stopping, backend, method)"),
    ("mfbench.benchmarks.base", "Benchmark.open", "    Benchmark.open (the table)"),
    ("mfbench.blackbox.base", "Blackbox.best_in_table", "    best_in_table"),
    ("mfbench.backend.simulator", "Simulator.run", "    Simulator.run (the simulation itself)"),
    ("mfbench.results.store", "RunDirectory.write", "  RunDirectory.write (results, metadata, DONE)"),
    ("mfbench.results.markers", "RunState.claim", "  RunState.claim (RUNNING)"),
)

_SECONDS: dict[str, float] = collections.defaultdict(float)
_CPU: dict[str, float] = collections.defaultdict(float)
_CALLS: collections.Counter[str] = collections.Counter()
#: every run a job ran: its method (from its overrides), CPU and wall seconds (all in)
_RUNS: list[dict[str, Any]] = []
_RUN_STAGE = "job: one run, all in (run_one)"
_DEPTH: collections.Counter[str] = collections.Counter()
_STARTED = time.perf_counter()
_installed = False


def _timed(function: Callable[..., Any], stage: str) -> Callable[..., Any]:
    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        _DEPTH[stage] += 1
        started, cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            _DEPTH[stage] -= 1
            if _DEPTH[stage] == 0:
                _SECONDS[stage] += time.perf_counter() - started
                _CPU[stage] += time.process_time() - cpu
                _CALLS[stage] += 1
                if stage == _RUN_STAGE and len(args) > 1:  # run_one(self, overrides, ...)
                    method = next((o.split("=", 1)[1] for o in args[1] if str(o).startswith("method=")), "?")
                    _RUNS.append({"method": method, "cpu": time.process_time() - cpu,
                                  "wall": time.perf_counter() - started})
    return timed


def _install() -> None:
    """Wrap every stage whose module imports (done once mfbench's command or job code is loaded)."""
    global _installed
    _installed = True
    for module_name, path, stage in STAGES:
        try:
            owner: Any = importlib.import_module(module_name)
        except ImportError:
            continue
        *parents, name = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent, None)
        if owner is not None and callable(getattr(owner, name, None)):
            setattr(owner, name, _timed(getattr(owner, name), stage))


def _dump() -> None:
    _SECONDS["process, all in"] = time.perf_counter() - _STARTED
    _CPU["process, all in"] = time.process_time()
    folder = os.environ["MFBENCH_STAGE_TIMERS"]
    with open(os.path.join(folder, f"{os.getpid()}.json"), "w", encoding="utf-8") as out:
        json.dump({"argv": sys.argv, "seconds": dict(_SECONDS), "cpu": dict(_CPU), "calls": dict(_CALLS),
                   "runs": _RUNS}, out)


def activate() -> None:
    """Called by the ``sitecustomize.py``: wrap the stages as soon as mfbench's launcher or
    command line is imported (wrapping earlier would import mfbench before Hydra's plugin scan)."""
    if not os.environ.get("MFBENCH_STAGE_TIMERS"):
        return
    atexit.register(_dump)
    original = builtins.__import__

    def importing(name: str, *args: Any, **kwargs: Any) -> Any:
        module = original(name, *args, **kwargs)
        if not _installed and name in ("mfbench.sweeps.launcher", "mfbench.cli.main"):
            builtins.__import__ = original
            _install()
        return module

    builtins.__import__ = importing


def sitecustomize_folder(folder: str) -> str:
    """Write a ``sitecustomize.py`` into ``folder`` that activates the timers; returns ``folder``."""
    here = os.path.dirname(os.path.abspath(__file__))
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "sitecustomize.py"), "w", encoding="utf-8") as out:
        out.write(f"import sys\nsys.path.insert(0, {here!r})\nimport throughput_stages\nthroughput_stages.activate()\n"
                  f"del sys.path[0]\n")
    return folder


def summed(folder: str) -> dict[str, Any]:
    """The timers of every process of a sweep: the sweep's own, and the jobs' summed."""
    sweep: dict[str, float] = {}
    sweep_cpu: dict[str, float] = {}
    jobs: dict[str, float] = collections.defaultdict(float)
    jobs_cpu: dict[str, float] = collections.defaultdict(float)
    calls: dict[str, int] = collections.defaultdict(int)
    by_method: dict[str, dict[str, float]] = collections.defaultdict(lambda: collections.defaultdict(float))
    processes = 0
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(folder, name), encoding="utf-8") as handle:
            record = json.load(handle)
        is_job = any("submitit" in str(a) for a in record["argv"][:1])
        if is_job and not record["calls"]:
            continue  # submitit's local wrapper process around a job (it only waits)
        if is_job:
            processes += 1
            for stage, seconds in record["seconds"].items():
                jobs[stage] += seconds
                jobs_cpu[stage] += record["cpu"].get(stage, 0.0)
                calls[stage] += record["calls"].get(stage, 0)
            for run in record.get("runs", []):
                entry = by_method[run["method"]]
                entry["runs"] += 1
                entry["cpu_s"] += run["cpu"]
                entry["wall_s"] += run["wall"]
        else:
            sweep, sweep_cpu = record["seconds"], record["cpu"]
    return {"sweep_process": sweep, "sweep_process_cpu": sweep_cpu, "jobs": dict(jobs), "jobs_cpu": dict(jobs_cpu),
            "job_calls": dict(calls), "job_processes": processes,
            "runs_by_method": {method: dict(entry) for method, entry in sorted(by_method.items())}}
