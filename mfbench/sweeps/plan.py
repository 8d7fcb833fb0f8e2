"""Compose every run of a sweep and decide, before anything is launched, what to do with it.

Each run's config is composed exactly as its job will compose it (once per group combination,
the other runs derived from it: :class:`~mfbench.sweeps.derive.SweepConfigs`), which gives its run
directory (``hydra.sweep.dir``/``hydra.sweep.subdir``) and its config fingerprint; with the
run's :mod:`~mfbench.sweeps.run_status`, that decides its :class:`Action`:

- finished with the same fingerprint: skip (never rewritten; ``overwrite=true`` reruns it);
- finished with another fingerprint: a conflict, unless ``overwrite=true``;
- running or queued in a live job: skip (it is being done), unless its job claimed it for
  another fingerprint: a conflict;
- failed, interrupted or missing: run, unless it finished in the folder the table (function)
  benchmarks had before they were named after their file: skip it there
  (:mod:`mfbench.results.benchmark_folder`).

Two different tables (callables) with the same name in one sweep, or one that differs from
what the finished runs of its folder read, make their runs invalid: the sweep is refused. So do
runs of the grid that would share one run directory (:func:`_refuse_shared_run_dirs`).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from omegaconf import DictConfig

from mfbench.config.choices import UnknownName, unknown_name
from mfbench.config.benchmark_name import benchmark_source
from mfbench.sweeps.derive import SweepConfigs
from mfbench.sweeps.run_status import State, RunStatus, run_status, slurm_ids_of
from mfbench.results.benchmark_folder import benchmark_folder, old_run_dir, recorded_source, same_name_message
from mfbench.results.job_info import slurm_states


class Action(str, enum.Enum):
    RUN = "run"
    SKIP_DONE = "done"
    SKIP_ACTIVE = "active"
    CONFLICT = "conflict"
    INVALID = "invalid"


@dataclass
class PlannedRun:
    """One run of a sweep.

    Attributes:
        overrides: the run's Hydra overrides (as the sweeper generated them).
        sweep_dir: the sweep directory (``hydra.sweep.dir``), as configured (may be relative).
        subdir: the run directory relative to ``sweep_dir`` (``hydra.sweep.subdir``).
        fingerprint: the config fingerprint (None if the config is invalid).
        status: the run directory's state when planned.
        config: the resolved config (plain containers, without the ``hydra`` node).
        action: what the sweep does with it.
        reason: why (for conflicts and invalid configs: the error message).
        unknown: for an invalid config, the unknown option, group or key that made it invalid
            (the sweeper words it as a single run does, once for all runs that share it).
        benchmark: the benchmark's name (its folder, :mod:`mfbench.config.benchmark_name`).
        benchmark_option: the chosen option of the group ``benchmark``.
    """

    overrides: list[str]
    sweep_dir: str = ""
    subdir: str = ""
    fingerprint: str | None = None
    status: RunStatus | None = None
    action: Action = Action.RUN
    reason: str = ""
    unknown: UnknownName | None = None
    config: dict[str, Any] = field(default_factory=dict, repr=False)
    benchmark: str = ""
    benchmark_option: str = ""

    @property
    def run_dir(self) -> Path:
        return Path(self.sweep_dir) / self.subdir


#: top-level keys whose value changes no config group (the schema's scalars): a run that differs
#: from an already composed one only in these is derived from it without composing it again
SCALAR_KEYS = ("seed", "n_workers", "experiment_name", "overwrite", "progress")


def compose_run(config_loader: Any, master_config: DictConfig, overrides: Sequence[str]) -> PlannedRun:
    """Compose one run like its job will and fill its directory and fingerprint.

    Raises:
        Exception: Hydra's composition error (unknown group option, bad override) or
            :class:`~mfbench.errors.ConfigError` for an invalid config.
    """
    return _planned(config_loader.load_sweep_config(master_config, list(overrides)), overrides)


def _planned(sweep_config: DictConfig, overrides: Sequence[str]) -> PlannedRun:
    """The run of a composed sweep config (with its ``hydra`` node): directory, resolved config, fingerprint.

    ``sweep_config`` is only read (it may be a template shared with other runs, see
    :class:`~mfbench.sweeps.derive.SweepConfigs`).
    """
    from hydra.core.hydra_config import HydraConfig

    from mfbench.config.benchmark_name import benchmark_name
    from mfbench.config.fingerprint import config_fingerprint
    from mfbench.config.resolve import resolve_config

    hydra_config = HydraConfig.instance()
    saved = hydra_config.cfg
    try:
        # the ${hydra:...} resolver reads the live config (HydraConfig.set_config would copy
        # the hydra node for every run: only reading it here, a copy is not needed)
        hydra_config.cfg = sweep_config
        sweep_dir = str(sweep_config.hydra.sweep.dir)
        subdir = str(sweep_config.hydra.sweep.subdir)
        option = str(sweep_config.hydra.runtime.choices.get("benchmark", "custom"))
        # resolve_config resolves the task's keys alone (as the job's task function gets them);
        # no choices: the method's identity is checked by the job, as it was when planning
        # resolved a copy without the hydra node
        config = resolve_config(sweep_config, {})
    finally:
        hydra_config.cfg = saved
    return PlannedRun(list(overrides), sweep_dir, subdir, config_fingerprint(config), config=config,
                      benchmark=benchmark_name(option, config["benchmark"]), benchmark_option=option)


def _decide(run: PlannedRun) -> None:
    status = run.status
    assert status is not None
    overwrite = bool(run.config.get("overwrite", False))
    if status.state is State.DONE:
        if status.fingerprint == run.fingerprint:
            run.action, run.reason = (Action.RUN, "overwrite=true") if overwrite else (Action.SKIP_DONE, "finished")
        elif overwrite:
            run.action, run.reason = Action.RUN, "overwrite=true replaces a run with another config"
        else:
            run.action = Action.CONFLICT
            run.reason = (f"{run.run_dir} holds a finished run with a different configuration; choose another "
                          f"experiment_name=..., or pass overwrite=true to replace it")
    elif status.state in (State.RUNNING, State.QUEUED):
        if status.claimed_fingerprint not in (None, run.fingerprint):  # another sweep's run, not this one
            run.action = Action.CONFLICT
            run.reason = (f"{run.run_dir} is being computed with a different configuration ({status.detail}); choose "
                          f"another experiment_name=..., or wait for it and pass overwrite=true to replace it")
        else:
            run.action, run.reason = Action.SKIP_ACTIVE, status.detail
    else:
        run.action, run.reason = Action.RUN, status.state.value
        if not overwrite:
            _skip_if_finished_in_old_folder(run)


def _skip_if_finished_in_old_folder(run: PlannedRun) -> None:
    """Skip a run finished in the folder of its option (``table/``): the plan (and so the sweep's
    manifest and the status command) points to it there, where it stays."""
    old = old_run_dir(run.run_dir, run.benchmark_option, run.benchmark)
    if old is None or not old.is_dir():
        return
    status = run_status(old)
    if status.state is State.DONE and status.fingerprint == run.fingerprint:
        run.subdir = str(old.relative_to(run.sweep_dir)) if old.is_relative_to(run.sweep_dir) else str(old)
        run.status, run.action = status, Action.SKIP_DONE
        run.reason = f"finished in {old} (the folder of benchmark={run.benchmark_option} runs before they were named)"


def _refuse_shared_run_dirs(runs: Sequence[PlannedRun]) -> None:
    """Make invalid the runs of the grid that would share one run directory.

    A run directory holds one run. It is named from the experiment, the benchmark, the method
    and the seed (``hydra.sweep.subdir``), so a grid that also sweeps another key (a budget,
    ``n_workers``, a method option) or lists a run twice would compute one of them and take the
    others for done (or held by another job).
    """
    by_dir: dict[Path, list[PlannedRun]] = {}
    for run in runs:
        by_dir.setdefault(Path(run.sweep_dir, run.subdir).resolve(), []).append(run)
    for run_dir, sharing in by_dir.items():
        if len(sharing) < 2:
            continue
        listed = "; ".join(" ".join(run.overrides) for run in sharing[:3]) + ("; ..." if len(sharing) > 3 else "")
        if len({run.fingerprint for run in sharing}) == 1:
            message = f"the grid lists the same run {len(sharing)} times ({listed}): remove the repeated values"
        else:
            keys = _differing_keys([run.config for run in sharing])
            key = keys[0] if keys else "stopping.max_wallclock_time"
            message = (f"{len(sharing)} runs of the grid would share the run directory {run_dir} ({listed}); they "
                       f"differ in {', '.join(keys) or 'their configuration'}. A run directory is named after the "
                       f"experiment, benchmark, method and seed: give the swept key a folder level, e.g. "
                       f"'hydra.sweep.subdir=\"${{mfbench_benchmark_name:${{hydra:runtime.choices.benchmark}}}}/"
                       f"${{hydra:runtime.choices.method}}/{key.rsplit('.', 1)[-1]}_${{{key}}}/seed_${{seed}}\"', "
                       f"or run its values as separate experiments (experiment_name=...)")
        for run in sharing:
            run.action, run.reason = Action.INVALID, message


def _differing_keys(configs: Sequence[dict[str, Any]]) -> list[str]:
    """The dotted keys whose values differ between ``configs`` (nested dicts), sorted."""
    def flat(node: Any, prefix: str = "") -> dict[str, Any]:
        if not isinstance(node, dict):
            return {prefix: node}
        items: dict[str, Any] = {}
        for name, value in node.items():
            items.update(flat(value, f"{prefix}.{name}" if prefix else str(name)))
        return items

    flats = [flat(config) for config in configs]
    keys = set().union(*flats)
    return sorted(k for k in keys if len({repr(f.get(k)) for f in flats}) > 1)


def _refuse_shared_names(runs: Sequence[PlannedRun]) -> None:
    """Make invalid the runs of two different benchmarks (tables, callables) that would share a folder."""
    by_folder: dict[Path, dict[str, list[PlannedRun]]] = {}
    for run in runs:
        source = benchmark_source(run.benchmark_option, run.config.get("benchmark"))
        folder = benchmark_folder(run.run_dir, run.benchmark) if source is not None else None
        if folder is not None and source is not None:
            by_folder.setdefault(folder, {}).setdefault(source, []).append(run)
    for folder, sources in by_folder.items():
        recorded = recorded_source(folder)  # what the runs finished there by earlier sweeps read
        known = set(sources) | ({recorded[0]} if recorded is not None else set())
        if len(known) < 2:
            continue
        runs_here = [run for runs in sources.values() for run in runs]
        message = same_name_message(runs_here[0].benchmark, folder, sorted(known))
        for run in runs_here:  # one invalid run refuses the sweep: the others say why too
            run.action, run.reason = Action.INVALID, message


def plan_sweep(config_loader: Any, master_config: DictConfig, jobs: Sequence[Sequence[str]]) -> list[PlannedRun]:
    """Compose all ``jobs`` (lists of overrides) and decide what to do with each."""
    planned = []
    configs = SweepConfigs(config_loader, master_config)  # composes one run per group combination
    for overrides in jobs:
        try:
            planned.append(_planned(configs.of(overrides), overrides))
        except Exception as error:  # reported together, before anything is launched
            unknown = unknown_name(error)
            message = unknown.message() if unknown else str(error).strip() or type(error).__name__
            planned.append(PlannedRun(list(overrides), action=Action.INVALID, reason=message, unknown=unknown))
    _refuse_shared_names([p for p in planned if p.action is not Action.INVALID])
    _refuse_shared_run_dirs([p for p in planned if p.action is not Action.INVALID])
    valid = [p for p in planned if p.action is not Action.INVALID]
    slurm = slurm_states(slurm_ids_of(p.run_dir for p in valid))
    for run in valid:
        run.status = run_status(run.run_dir, slurm)
        _decide(run)
    return planned
