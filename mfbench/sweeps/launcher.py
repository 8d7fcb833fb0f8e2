"""Submitit launchers for mfbench sweeps: ``hydra/launcher=local`` and ``hydra/launcher=slurm``.

They extend Hydra's ``submitit_local`` / ``submitit_slurm`` launchers with:

- **grouping**: ``runs_per_job`` cheap runs share one job (run one after the other: one
  scheduler slot, one Python start-up), while runs whose overrides match an ``own_job``
  pattern (e.g. ``method=mobster*``) get jobs of their own, ``runs_per_own_job`` at a time
  (default 1; more saves their start-up, e.g. importing torch), with ``own_job_resources``
  (e.g. more CPUs and time);
- **thread limits**: each job sets torch / OpenMP / BLAS threads to its ``cpus_per_task``;
- **containment**: a job that crashes, is cancelled or runs out of time only fails its own
  runs; the launcher waits for all jobs and returns one result per run (the sweeper reports
  the failures with their log files); each run is marked ``QUEUED`` with its job id and log
  files as soon as it is submitted;
- **local throttling**: the local launcher keeps at most ``array_parallelism`` jobs running;
- **live progress**: while they wait, both update the sweep's display
  (:class:`mfbench.sweeps.progress.SweepProgress`) from the runs' markers and the ended jobs.

A job that is requeued (preemption, ``max_num_timeout`` > 0) reruns its group: finished runs
are skipped by the app, so it continues where it stopped.
"""
from __future__ import annotations

import contextlib
import fnmatch
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus
from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
from hydra_plugins.hydra_submitit_launcher.submitit_launcher import BaseSubmititLauncher
from omegaconf import OmegaConf, open_dict

from mfbench.errors import ConfigError
from mfbench.sweeps.derive import SweepConfigs
from mfbench.sweeps.progress import SweepProgress, outcome_of

log = logging.getLogger(__name__)
_POLL_S = 0.1
#: how often the SLURM launcher looks for ended jobs: a file check per job (its result); submitit
#: asks ``sacct`` for all of them in one call, at most every few seconds to minutes
_SLURM_POLL_S = 2.0


class RunError(RuntimeError):
    """A run failed (picklable summary of its exception)."""


@dataclass(frozen=True)
class RunGroup:
    """Runs sharing one job: positions in the launched list, and whether it is an own job."""

    indices: tuple[int, ...]
    own: bool


def group_runs(job_overrides: Sequence[Sequence[str]], runs_per_job: int, own_job: Sequence[str],
               runs_per_own_job: int = 1, max_shared_jobs: int | None = None,
               max_own_jobs: int | None = None) -> list[RunGroup]:
    """Pack runs into jobs: ``own_job`` matches ``runs_per_own_job`` at a time, the others
    ``runs_per_job`` at a time (more, as evenly as possible, when that would make more than
    ``max_shared_jobs`` / ``max_own_jobs`` jobs).

    Runs are dealt to the jobs of their kind like cards, after a stable sort by their overrides
    other than ``seed=``: runs that differ only in their seed cost about the same, so every job
    gets an even share of each method (or other combination), whatever the sweep's order. Jobs
    of equal cost keep every slot of a throttled sweep busy until its end.

    Args:
        job_overrides: the overrides of each run, in launch order.
        runs_per_job: how many non-matching runs share a job (>= 1).
        own_job: ``fnmatch`` patterns; runs with an override matching one get jobs of their own.
        runs_per_own_job: how many matching runs share one of those jobs (>= 1).
        max_shared_jobs: at most about this many shared jobs: every job is a fresh Python process
            (about a second of imports and composition), so a sweep of a thousand cheap runs
            would spend more time starting processes than running; None: no limit.
        max_own_jobs: the same for own jobs (each one imports torch once, another second or so).

    Returns:
        The groups, own jobs first (they are the long ones, so the cheap shared jobs fill the
        end of a throttled local sweep), then shared ones, each kind ordered by its first run;
        each group's indices ascending.
    """
    for name, value in (("runs_per_job", runs_per_job), ("runs_per_own_job", runs_per_own_job)):
        if value < 1:
            raise ConfigError(f"hydra.launcher.{name} must be >= 1, got {value}")
    own, shared = [], []
    for index, overrides in enumerate(job_overrides):
        alone = any(fnmatch.fnmatchcase(o, pattern) for o in overrides for pattern in own_job)
        (own if alone else shared).append(index)

    def cost_class(index: int) -> tuple[str, ...]:
        return tuple(sorted(o for o in job_overrides[index] if not o.startswith("seed=")))

    def dealt(indices: list[int], size: int, max_jobs: int | None, is_own: bool) -> list[RunGroup]:
        if not indices:
            return []
        num_jobs = -(-len(indices) // size)
        if max_jobs is not None:
            num_jobs = min(num_jobs, max_jobs)  # sizes then differ by one at most
        ordered = sorted(indices, key=cost_class)  # stable: launch order within a class
        jobs = sorted(tuple(sorted(ordered[j::num_jobs])) for j in range(num_jobs))  # in launch order
        return [RunGroup(job, is_own) for job in jobs]

    return dealt(own, runs_per_own_job, max_own_jobs, True) + dealt(shared, runs_per_job, max_shared_jobs, False)


def _failed(overrides: Sequence[str], message: str) -> JobReturn:
    result = JobReturn(overrides=list(overrides), status=JobStatus.FAILED)
    result.return_value = RunError(message)
    return result


def _first_line(text: str) -> str:
    lines = [line for line in str(text).strip().splitlines() if line.strip()]
    return lines[-1] if lines and "Traceback" in lines[0] else (lines[0] if lines else "")


class RunGroupTask:
    """The callable of one job: its runs, one after the other, in the job's process."""

    def __init__(self, launcher: "_GroupingLauncher", runs: list[tuple[list[str], int]], cpus: Optional[int],
                 singleton_state: Dict[type, Singleton]) -> None:
        self.launcher = launcher
        self.runs = runs
        self.cpus = cpus
        self.singleton_state = singleton_state

    def __call__(self) -> list[JobReturn]:
        import submitit
        from submitit.core.utils import UncompletedJobError

        from mfbench.sweeps.threads import allocated_cpus, limit_threads

        limit_threads(self.cpus or allocated_cpus() or 1, force=True)
        job_id = submitit.JobEnvironment().job_id
        configs = self.launcher.run_configs()  # one composition per group combination in this job
        returns = []
        for overrides, num in self.runs:
            result = self.launcher.run_one(overrides, num, job_id, self.singleton_state, configs)
            returns.append(result)
            error = result._return_value if result.status is JobStatus.FAILED else None
            if isinstance(error, BaseException):  # into this job's log, which the reports point to
                print(f"mfbench: run {' '.join(overrides)} failed:", file=sys.stderr)
                traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
                sys.stderr.flush()
            if isinstance(error, UncompletedJobError):  # out of time: the job is ending, stop here
                raise error
        for result in returns:
            if result.status is JobStatus.FAILED and not isinstance(result._return_value, RunError):
                result.return_value = RunError(_first_line(str(result._return_value)) or repr(result._return_value))
            # the launching process reads a run's status and return value only: its two configs would
            # cost a pickling here and an unpickling there per run (the sweep's process is busy enough)
            result.cfg = result.hydra_cfg = None
        return returns

    def checkpoint(self) -> Any:
        """Requeue as is (preemption / timeout with ``max_num_timeout`` > 0): finished runs are skipped."""
        import submitit

        return submitit.helpers.DelayedSubmission(self)


class _GroupingLauncher(BaseSubmititLauncher):
    """Shared logic of the local and SLURM launchers."""

    def __init__(self, runs_per_job: int = 1, own_job: Sequence[str] = (),
                 own_job_resources: Optional[Mapping[str, Any]] = None, runs_per_own_job: int = 1,
                 **params: Any) -> None:
        super().__init__(**params)
        self.runs_per_job = int(runs_per_job)
        self.runs_per_own_job = int(runs_per_own_job)
        self.own_job = [str(p) for p in (OmegaConf.to_container(own_job) if OmegaConf.is_config(own_job) else own_job)]
        resources = OmegaConf.to_container(own_job_resources) if OmegaConf.is_config(own_job_resources) else own_job_resources
        self.own_job_resources = dict(resources or {})
        unknown = sorted(set(self.own_job_resources) - set(self.params))
        if unknown:
            raise ValueError(f"hydra.launcher.own_job_resources: unknown launcher field(s) {unknown}; "
                             f"accepted: {sorted(self.params)}")
        group_runs([], self.runs_per_job, self.own_job, self.runs_per_own_job)  # validates the counts
        self.run_dirs: dict[tuple[str, ...], Path] = {}
        self.progress: Optional[SweepProgress] = None

    def set_run_dirs(self, run_dirs: Mapping[tuple[str, ...], Path]) -> None:
        """Run directory of each run (by overrides), given by the sweeper, for ``QUEUED`` markers."""
        self.run_dirs = dict(run_dirs)

    def set_progress(self, progress: SweepProgress) -> None:
        """The sweep's live display, given by the sweeper: updated while this launcher waits."""
        self.progress = progress

    def __getstate__(self) -> dict[str, Any]:
        """What a job receives (each task pickles its launcher): not the display, which lives in
        the sweep's process and holds a terminal (a tqdm bar does not pickle)."""
        state = self.__dict__.copy()
        state["progress"] = None
        return state

    def _poll_progress(self) -> None:
        if self.progress is not None:
            self.progress.poll()

    # ------------------------------------------------------------------ in the job
    def run_configs(self) -> SweepConfigs:
        """The composer of this job's runs (:class:`~mfbench.sweeps.derive.SweepConfigs`)."""
        assert self.hydra_context is not None and self.config is not None
        return SweepConfigs(self.hydra_context.config_loader, self.config)

    def run_one(self, overrides: list[str], num: int, job_id: str, singleton_state: Dict[type, Singleton],
                configs: Optional[SweepConfigs] = None) -> JobReturn:
        """Compose and run one run in this process (like Hydra's submitit launcher does).

        ``configs`` composes the run (once per group combination in a job, the other runs of
        the family derived from it, which is what Hydra's composition would give them); None:
        Hydra composes it.
        """
        from hydra.core.utils import run_job, setup_globals

        from mfbench.results.markers import RunTerminated

        assert self.hydra_context is not None and self.config is not None and self.task_function is not None
        Singleton.set_state(singleton_state)
        setup_globals()
        try:
            if configs is None:
                sweep_config = self.hydra_context.config_loader.load_sweep_config(self.config, overrides)
            else:
                sweep_config = configs.of(overrides)
            with open_dict(sweep_config.hydra.job) as job:
                job.id = job_id
                job.num = num
            return run_job(hydra_context=self.hydra_context, task_function=self.task_function, config=sweep_config,
                           job_dir_key="hydra.sweep.dir", job_subdir_key="hydra.sweep.subdir")
        except RunTerminated:
            raise  # the job is being cancelled: stop its remaining runs too
        except (Exception, SystemExit) as error:  # the next run of the group still runs
            return _failed(overrides, f"{type(error).__name__}: {error}")

    # ------------------------------------------------------------------ in the launching process
    def _params(self, own: bool) -> dict[str, Any]:
        params = dict(self.params)
        if own:
            params.update(self.own_job_resources)
        return params

    def _executor(self, params: Mapping[str, Any]) -> Any:
        import submitit

        init_keys = {"submitit_folder", "max_num_timeout"}
        init = {"folder": params["submitit_folder"]}
        if "max_num_timeout" in params:
            init[f"{self._EXECUTOR}_max_num_timeout"] = params["max_num_timeout"]
        executor = submitit.AutoExecutor(cluster=self._EXECUTOR, **init)
        base = set(OmegaConf.structured(BaseQueueConf).keys())
        executor.update_parameters(**{k if k in base else f"{self._EXECUTOR}_{k}": v
                                      for k, v in params.items() if k not in init_keys})
        return executor

    def _task(self, group: RunGroup, runs: list[tuple[list[str], int]]) -> RunGroupTask:
        cpus = self._params(group.own).get("cpus_per_task")
        return RunGroupTask(self, [runs[i] for i in group.indices], cpus, Singleton.get_state())

    def _mark_queued(self, group: RunGroup, runs: list[tuple[list[str], int]], job: Any,
                     process: Optional[dict[str, Any]] = None) -> None:
        from mfbench.results.markers import RunState

        logs = [str(job.paths.stdout), str(job.paths.stderr)]
        for index in group.indices:
            run_dir = self.run_dirs.get(tuple(runs[index][0]))
            if run_dir is not None:
                RunState(run_dir).mark_queued(str(job.job_id), self._EXECUTOR, logs, runs[index][0], process)

    def _collect(self, group: RunGroup, job: Any, runs: list[tuple[list[str], int]],
                 results: list[Optional[JobReturn]]) -> None:
        try:
            returns = job.result()
        except Exception as error:  # cancelled, out of time, crashed, killed
            state = getattr(job, "state", "?")
            message = f"job {job.job_id} ended ({state}): {_first_line(str(error))}; log: {job.paths.stderr}"
            for index in group.indices:
                results[index] = _failed(runs[index][0], message)
        else:
            for index, result in zip(group.indices, returns):
                results[index] = result
        if self.progress is not None:
            for index in group.indices:
                run_dir = self.run_dirs.get(tuple(runs[index][0]))
                result = results[index]
                if run_dir is not None and result is not None:
                    self.progress.ended(run_dir, outcome_of(result))

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        assert self.config is not None
        runs = [(list(o), initial_job_idx + i) for i, o in enumerate(job_overrides)]
        groups = group_runs([r[0] for r in runs], self.runs_per_job, self.own_job, self.runs_per_own_job,
                            self._max_shared_jobs(), self._max_own_jobs())
        per_job = max((len(g.indices) for g in groups if not g.own), default=self.runs_per_job)
        per_own_job = max((len(g.indices) for g in groups if g.own), default=self.runs_per_own_job)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        own = sum(g.own for g in groups)
        print(f"mfbench: launching {len(runs)} runs in {len(groups)} {self._EXECUTOR} jobs "
              f"({own} own jobs of up to {per_own_job} runs, up to {per_job} runs per shared job); "
              f"job logs in {Path(str(self.params['submitit_folder'])).parent}", flush=True)
        results: list[Optional[JobReturn]] = [None] * len(runs)
        self._submit_and_wait(groups, runs, results)
        return [r if r is not None else _failed(runs[i][0], "no result") for i, r in enumerate(results)]

    def _max_shared_jobs(self) -> int | None:
        """At most this many shared jobs (None: exactly ``runs_per_job`` runs per shared job)."""
        return None

    def _max_own_jobs(self) -> int | None:
        """At most this many own jobs (None: exactly ``runs_per_own_job`` runs per own job)."""
        return None

    def _submit_and_wait(self, groups: list[RunGroup], runs: list[tuple[list[str], int]],
                         results: list[Optional[JobReturn]]) -> None:
        raise NotImplementedError


class SlurmLauncher(_GroupingLauncher):
    """``hydra/launcher=slurm``: one SLURM job array for shared jobs, one for own jobs."""

    _EXECUTOR = "slurm"
    #: the sweep display reads the runs' markers at most this often (a shared file system)
    progress_poll_s = 5.0

    def _submit_and_wait(self, groups: list[RunGroup], runs: list[tuple[list[str], int]],
                         results: list[Optional[JobReturn]]) -> None:
        submitted = []
        for own in (False, True):
            selected = [g for g in groups if g.own == own]
            if not selected:
                continue
            executor = self._executor(self._params(own))
            tasks = [self._task(g, runs) for g in selected]
            with executor.batch():
                jobs = [executor.submit(task) for task in tasks]
            for group, job in zip(selected, jobs):
                self._mark_queued(group, runs, job)
                submitted.append((group, job))
        # collect each job as it ends (not in submission order), so the display follows the sweep
        while submitted:
            waiting = []
            for group, job in submitted:
                if job.done():
                    self._collect(group, job, runs, results)
                else:
                    waiting.append((group, job))
            submitted = waiting
            self._poll_progress()
            if submitted:
                time.sleep(_SLURM_POLL_S)


class LocalLauncher(_GroupingLauncher):
    """``hydra/launcher=local``: submitit local jobs (processes), at most ``array_parallelism`` at once."""

    _EXECUTOR = "local"
    #: the sweep display reads the runs' markers at most this often
    progress_poll_s = 1.0

    def __init__(self, array_parallelism: Optional[int] = None, jobs_per_cpu: Optional[int] = None,
                 own_jobs_per_cpu: Optional[int] = None, **params: Any) -> None:
        super().__init__(**params)
        self.array_parallelism = int(array_parallelism or os.cpu_count() or 1)
        if self.array_parallelism < 1:
            raise ValueError(f"hydra.launcher.array_parallelism must be >= 1, got {array_parallelism}")
        for name, value in (("jobs_per_cpu", jobs_per_cpu), ("own_jobs_per_cpu", own_jobs_per_cpu)):
            if value is not None and int(value) < 1:
                raise ValueError(f"hydra.launcher.{name} must be >= 1 (or null), got {value}")
        self.jobs_per_cpu = None if jobs_per_cpu is None else int(jobs_per_cpu)
        self.own_jobs_per_cpu = None if own_jobs_per_cpu is None else int(own_jobs_per_cpu)

    def _max_shared_jobs(self) -> int | None:
        """``jobs_per_cpu`` shared jobs per parallel slot: few process start-ups, and still enough
        jobs to keep the load balanced at the end of the sweep."""
        return None if self.jobs_per_cpu is None else self.jobs_per_cpu * self.array_parallelism

    def _max_own_jobs(self) -> int | None:
        """``own_jobs_per_cpu`` own jobs per parallel slot (one torch import each)."""
        return None if self.own_jobs_per_cpu is None else self.own_jobs_per_cpu * self.array_parallelism

    def _submit_and_wait(self, groups: list[RunGroup], runs: list[tuple[list[str], int]],
                         results: list[Optional[JobReturn]]) -> None:
        """Keep up to ``array_parallelism`` jobs running until every group is done.

        SIGTERM or Ctrl-C stops the sweep cleanly: the running jobs get SIGTERM (their runs
        record that they were terminated), the sweep waits for them, lists what was stopped and
        what was never started, and exits; re-running the same command finishes the sweep.
        """
        pending = deque(groups)
        active: list[tuple[RunGroup, Any]] = []
        with _sigterm_raises():
            try:
                self._run_queue(pending, active, runs, results)
            except (KeyboardInterrupt, _SweepTerminated) as stop:
                if self.progress is not None:
                    self.progress.close()  # the bar would garble what follows
                _stop_jobs(active, runs, pending, stop)
                raise

    def _run_queue(self, pending: deque[RunGroup], active: list[tuple[RunGroup, Any]],
                   runs: list[tuple[list[str], int]], results: list[Optional[JobReturn]]) -> None:
        from mfbench.results.job_info import host_name, process_start_ticks

        executors = {own: self._executor(self._params(own)) for own in {g.own for g in (*pending, *(a[0] for a in active))}}
        while pending or active:
            while pending and len(active) < self.array_parallelism:
                group = pending.popleft()
                with _children_ignore_sigint():
                    job = executors[group.own].submit(self._task(group, runs))
                pid = int(job.job_id)
                self._mark_queued(group, runs, job, {"host": host_name(), "pid": pid,
                                                     "proc_start": process_start_ticks(pid)})
                active.append((group, job))
            running = []
            for group, job in active:
                if job.done():
                    self._collect(group, job, runs, results)
                else:
                    running.append((group, job))
            active[:] = running
            self._poll_progress()
            if active:
                time.sleep(_POLL_S)


class _SweepTerminated(SystemExit):
    """The sweep process received SIGTERM."""

    def __init__(self) -> None:
        super().__init__(128 + 15)


@contextlib.contextmanager
def _children_ignore_sigint() -> Iterator[None]:
    """Start processes in the block with SIGINT ignored (they inherit it; Python keeps it so).

    Ctrl-C signals the terminal's whole process group: submitit's job controllers would each
    print a KeyboardInterrupt traceback, and the runs would stop on their own. Ignoring it
    there leaves the stopping to the sweep (:func:`_stop_jobs`: SIGTERM to every job, which
    the controller forwards to its runs, which record that they were terminated).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into :class:`_SweepTerminated` in the main thread for the block."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _terminate(signum: int, frame: Any) -> None:
        raise _SweepTerminated()

    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stop_jobs(active: Sequence[tuple[RunGroup, Any]], runs: list[tuple[list[str], int]], pending: Sequence[RunGroup],
               stop: BaseException, grace_s: float = 60.0) -> None:
    """Forward SIGTERM to the running local jobs, wait for them (bounded), and say what happened."""
    for _, job in active:
        with contextlib.suppress(ProcessLookupError, ValueError, PermissionError):
            os.kill(int(job.job_id), signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while any(not job.done() for _, job in active) and time.monotonic() < deadline:
        time.sleep(_POLL_S)
    stopped = sum(len(group.indices) for group, _ in active)
    never = sum(len(group.indices) for group in pending)
    why = "Ctrl-C" if isinstance(stop, KeyboardInterrupt) else "SIGTERM"
    print(f"mfbench: sweep stopped by {why}: {len(active)} running job(s) were sent SIGTERM ({stopped} run(s), "
          f"recorded as failed unless they had finished), {never} run(s) were never started; finished runs are "
          f"kept. Re-run the same command to finish the sweep.", file=sys.stderr, flush=True)
