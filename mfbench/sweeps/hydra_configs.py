"""Sweeper and launcher configs of mfbench, registered in Hydra's ConfigStore.

- ``hydra/sweeper=mfbench``: :class:`mfbench.sweeps.sweeper.ResumableSweeper` (the default);
  ``progress_interval_s``: when stdout is not a terminal, seconds between the sweep's progress
  lines and before the first one (the top-level ``progress=false`` turns the display off).
- ``hydra/launcher=mfbench_local`` / ``mfbench_slurm``: the submitit launchers of
  :mod:`mfbench.sweeps.launcher`, i.e. the fields of Hydra's ``submitit_local`` /
  ``submitit_slurm`` plus the grouping options below. The presets in ``conf/hydra/launcher/``
  (``local``, ``slurm``, ``local_slurm``) build on them.

Grouping options (both launchers):
    runs_per_job: cheap runs packed into one job and run one after the other (>= 1).
    own_job: ``fnmatch`` patterns over a run's overrides (e.g. ``method=mobster*``); runs
        matching any of them get jobs of their own (launched first).
    runs_per_own_job: matching runs packed into one of those jobs (>= 1; more saves their
        start-up, e.g. importing torch, at the cost of coarser load balance).
    own_job_resources: launcher fields that differ for those own jobs, e.g.
        ``{timeout_min: 720, cpus_per_task: 4}``.
Local launcher only:
    array_parallelism: at most this many local jobs at once (null: one per CPU).
    jobs_per_cpu: a big sweep packs its cheap runs into at most about this many shared jobs
        per parallel slot (``runs_per_job`` is then the smallest group), so a 1,000-run sweep
        starts tens of Python processes, not hundreds; null: exactly ``runs_per_job`` per job.
    own_jobs_per_cpu: the same for own jobs (``runs_per_own_job`` is then the smallest group):
        each saved job saves a torch import; null: exactly ``runs_per_own_job`` per own job.
Runs are dealt to jobs so that each job gets an even share of every method (see
:func:`mfbench.sweeps.launcher.group_runs`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


@dataclass
class ResumableSweeperConf:
    _target_: str = "hydra_plugins.mfbench_sweeps.ResumableSweeper"
    max_batch_size: Optional[int] = None
    params: Optional[Dict[str, str]] = None
    dry_run: bool = False
    progress_interval_s: float = 30.0


try:
    from hydra_plugins.hydra_submitit_launcher.config import LocalQueueConf, SlurmQueueConf
except ImportError:  # pragma: no cover - the plugin is a dependency; without it: basic launcher only
    LocalQueueConf = SlurmQueueConf = None  # type: ignore[assignment,misc]

if LocalQueueConf is not None:

    @dataclass
    class MfbenchLocalConf(LocalQueueConf):  # type: ignore[misc,valid-type]
        _target_: str = "hydra_plugins.mfbench_sweeps.LocalLauncher"
        timeout_min: int = 24 * 60
        cpus_per_task: Optional[int] = 1
        array_parallelism: Optional[int] = None
        jobs_per_cpu: Optional[int] = None
        own_jobs_per_cpu: Optional[int] = None
        runs_per_job: int = 1
        own_job: List[str] = field(default_factory=list)
        own_job_resources: Dict[str, Any] = field(default_factory=dict)
        runs_per_own_job: int = 1

    @dataclass
    class MfbenchSlurmConf(SlurmQueueConf):  # type: ignore[misc,valid-type]
        _target_: str = "hydra_plugins.mfbench_sweeps.SlurmLauncher"
        cpus_per_task: Optional[int] = 1
        runs_per_job: int = 1
        own_job: List[str] = field(default_factory=list)
        own_job_resources: Dict[str, Any] = field(default_factory=dict)
        runs_per_own_job: int = 1


def register_sweep_configs() -> None:
    """Register the sweeper, and the launchers if hydra-submitit-launcher is installed."""
    from hydra.core.config_store import ConfigStore

    store = ConfigStore.instance()
    store.store(group="hydra/sweeper", name="mfbench", node=ResumableSweeperConf, provider="mfbench")
    if LocalQueueConf is not None:
        store.store(group="hydra/launcher", name="mfbench_local", node=MfbenchLocalConf, provider="mfbench")
        store.store(group="hydra/launcher", name="mfbench_slurm", node=MfbenchSlurmConf, provider="mfbench")


def register_configs() -> None:
    """Everything Hydra must know before composing ``conf/config.yaml`` (idempotent): the
    top-level schema, the resolver that names the run directory's benchmark folder, and the
    sweeper and launcher configs."""
    from mfbench.config.benchmark_name import register_resolver
    from mfbench.config.schema import register_schemas

    register_schemas()
    register_resolver()
    register_sweep_configs()
