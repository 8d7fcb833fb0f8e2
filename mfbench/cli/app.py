"""One run from a composed config: resolve, instantiate, simulate, store, summarise.

The work behind ``python -m mfbench`` (one run; a sweep runs this once per job) and
:func:`mfbench.api.simulate`.
"""
from __future__ import annotations

import datetime
import functools
import math
import platform
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Mapping

from omegaconf import DictConfig

from mfbench.config.benchmark_name import benchmark_name, benchmark_source
from mfbench.config.resolve import instantiate, resolve_config
from mfbench.results.markers import FINISHED_ALREADY, RunSkipped
from mfbench.config.fingerprint import config_fingerprint

#: what :func:`execute` did with a run
COMPUTED = "computed"


class _FinishedMeanwhile(RunSkipped):
    """Another job finished the run between our first look and our claim: nothing to do."""


#: distributions whose installed versions every result's metadata records
_VERSIONED = ("mfbench", "numpy", "pandas", "pyarrow", "scipy", "hydra-core", "omegaconf", "onnxruntime", "torch",
              "gpytorch", "botorch")


@functools.lru_cache(maxsize=1)
def _package_versions() -> dict[str, str]:
    """Versions of Python and of the packages a run may use (installed ones), fixed per environment."""
    import importlib.metadata

    versions = {"python": platform.python_version()}
    for distribution in _VERSIONED:
        try:
            versions[distribution] = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            pass
    return versions


def simulate(config: Mapping[str, Any], choices: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Simulate one run of a resolved, validated config; nothing is written.

    Args:
        config: the output of :func:`resolve_config`.
        choices: the chosen option of each group, e.g. ``{"method": "asha_prom", ...}``.

    Returns:
        ``(columns, metadata)``: the results as columns and the run's metadata.
    """
    from mfbench.cli.console import SimulatedTimeProgress
    from mfbench.problem import Problem
    from mfbench.schedulers.contract import check_method_classes, check_scheduler

    started = time.perf_counter()
    check_method_classes(config["method"])  # before the benchmark opens: the method must be a Scheduler
    benchmark = instantiate(config["benchmark"])
    stopping = instantiate(config["stopping"]).resolved(benchmark.max_wallclock_time)
    backend = instantiate(config["backend"])
    blackbox = benchmark.open()
    n_workers = config["n_workers"] or benchmark.n_workers
    problem = Problem(blackbox.config_space, benchmark.fidelities, benchmark.metric, benchmark.mode,
                      n_workers, config["seed"])
    scheduler = check_scheduler(instantiate(config["method"], problem=problem), config["method"]["_target_"])

    progress = SimulatedTimeProgress(stopping.budget, enabled=config.get("progress", False))
    simulation_started = time.perf_counter()
    try:
        outcome = backend.run(benchmark, scheduler, problem, stopping, progress.callback)
    finally:
        progress.close()
    simulation_seconds = time.perf_counter() - simulation_started
    columns = outcome.recorder.to_columns()
    metadata = {
        "method": choices.get("method", "custom"),
        "benchmark": benchmark_name(choices.get("benchmark", "custom"), config["benchmark"]),  # as its folder
        "benchmark_source": benchmark_source(choices.get("benchmark", "custom"), config["benchmark"]),
        "seed": config["seed"],
        "experiment": config["experiment_name"],
        "n_workers": n_workers,
        "metric": benchmark.metric,
        "mode": benchmark.mode,
        "fidelity_attr": benchmark.fidelity_attr,
        "elapsed_time_attr": benchmark.elapsed_time_attr,
        "max_fidelity": problem.max_fidelity,
        "benchmark_description": benchmark.description,
        "blackbox": {**blackbox.describe(),  # and the table's best value, for the analysis' --regret table
                     **blackbox.best_in_table(benchmark.metric, benchmark.mode, problem.max_fidelity)},
        "scheduler": scheduler.describe(),
        "backend": backend.describe(),
        "stopping": {k: (None if v is None else (str(v) if isinstance(v, float) and math.isinf(v) else v))
                     for k, v in asdict(stopping).items()},
        "stop_reason": outcome.stop_reason,
        "space_exhausted": outcome.space_exhausted,
        "simulated_time": outcome.simulated_time,
        "num_results": len(outcome.recorder),
        "num_nan_results": _count_nan(columns[benchmark.metric]),  # failed evaluations the run saw
        "num_trials_started": outcome.num_trials_started,
        "num_trials_completed": outcome.num_trials_completed,
        "best": _best(columns, benchmark, outcome.trial_configs),
        "config": dict(config),
        "config_fingerprint": config_fingerprint(config),
        "real_time": {
            "seconds": time.perf_counter() - started,  # from composing the objects to the end
            "simulation_seconds": simulation_seconds,  # the simulation alone (the objects built, table open)
            "decision_seconds": outcome.decision_seconds,
            "finished_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        },
    }
    return columns, metadata


def run(cfg: DictConfig, output_dir: str | Path, choices: Mapping[str, str]) -> dict[str, Any]:
    """Run one experiment and write it to ``output_dir``; return its metadata (see :func:`execute`)."""
    return execute(cfg, output_dir, choices)[0]


def execute(cfg: DictConfig, output_dir: str | Path, choices: Mapping[str, str]) -> tuple[dict[str, Any], str]:
    """Run one experiment and write it to ``output_dir``; return its metadata and what happened:
    ``"computed"``, or ``"finished already"`` when the run directory held it.

    A finished run with the same config is skipped (its metadata is returned); one that
    another live job is computing is skipped too (:class:`~mfbench.results.markers.RunInProgress`
    is raised before anything is computed).

    Args:
        cfg: the composed config (``conf/config.yaml`` plus overrides).
        output_dir: the run directory (derived from the config by Hydra).
        choices: the chosen option of each group, e.g. ``{"method": "asha_prom", ...}``.
    """
    from mfbench.cli.console import format_summary
    from mfbench.results.markers import RunState
    from mfbench.results.store import RunDirectory, remove_stale_temporaries

    config = resolve_config(cfg, choices)
    fingerprint = config_fingerprint(config)
    run_dir = RunDirectory(output_dir)
    if _finished_here(run_dir, fingerprint, config["overwrite"]):
        return run_dir.read_metadata(), FINISHED_ALREADY
    old = _finished_in_old_folder(run_dir.path, config, choices, fingerprint)
    if old is not None:
        return RunDirectory(old).read_metadata(), FINISHED_ALREADY
    problem = run_dir.verify()
    if problem is not None:
        print(f"mfbench: the finished run in {run_dir.path} is corrupt ({problem}); redoing it, its files are "
              f"kept as *.corrupt")
    try:
        with RunState(run_dir.path).tracking(fingerprint):  # the claim (RUNNING); FAILED if the block raises
            if _finished_here(run_dir, fingerprint, config["overwrite"]):  # by a job that held the claim
                raise _FinishedMeanwhile(str(run_dir.path))
            remove_stale_temporaries(run_dir.path)
            columns, metadata = simulate(config, choices)
            metadata["versions"] = _package_versions()  # outside simulate(): reading them costs ~0.2 s
            run_dir.write(columns, metadata, overwrite=config["overwrite"])
    except _FinishedMeanwhile:
        return run_dir.read_metadata(), FINISHED_ALREADY
    print(format_summary(metadata, str(run_dir.path)))
    return metadata, COMPUTED


def _finished_in_old_folder(path: Path, config: Mapping[str, Any], choices: Mapping[str, str],
                            fingerprint: str) -> Path | None:
    """Where this run finished before tables were named after their file (skip it), if it did.

    Also refuses a folder that holds another benchmark of the same name (a same-stem file).
    """
    from mfbench.results.benchmark_folder import check_one_benchmark, finished_in_old_folder

    option = choices.get("benchmark", "custom")
    name = benchmark_name(option, config["benchmark"])
    old = None if config["overwrite"] else finished_in_old_folder(path, option, name, fingerprint)
    if old is not None:
        print(f"mfbench: skipping, this run is already finished in {old} (where benchmark={option} runs were stored "
              f"before they were named {name!r}; overwrite=true reruns it into {path})")
        return old
    check_one_benchmark(path, name, benchmark_source(option, config["benchmark"]))
    return None


def _finished_here(run_dir: Any, fingerprint: str, overwrite: bool) -> bool:
    """Whether ``run_dir`` holds this finished run (skip it); raises if it holds another one."""
    from mfbench.results.store import FinishedRunExists

    previous = run_dir.finished_fingerprint()
    if previous is None or overwrite:
        return False
    if previous == fingerprint:
        print(f"mfbench: skipping, this run is already finished in {run_dir.path} (overwrite=true reruns it)")
        return True
    raise FinishedRunExists(f"{run_dir.path} holds a finished run with a different configuration; choose another "
                            f"experiment_name=... tag, or pass overwrite=true to replace it")


def _count_nan(values: Any) -> int:
    """How many of a run's metric values are NaN (failed evaluations, ranked worst by the methods)."""
    import numpy as np

    return int(np.isnan(np.asarray(values, dtype=np.float64)).sum())


def _best(columns: Mapping[str, Any], benchmark: Any, configs: Mapping[int, Any]) -> dict[str, Any] | None:
    import numpy as np

    values = np.asarray(columns[benchmark.metric], dtype=np.float64)
    if len(values) == 0 or np.all(np.isnan(values)):
        return None
    index = int(np.nanargmin(values) if benchmark.mode == "min" else np.nanargmax(values))
    trial_id = int(columns["trial_id"][index])
    return {
        "value": float(values[index]),
        "trial_id": trial_id,
        "fidelity": int(columns[benchmark.fidelity_attr][index]),
        "sim_time": float(columns["sim_time"][index]),
        "config": {k: (v.item() if hasattr(v, "item") else v) for k, v in configs[trial_id].items()},
    }
