"""The resumable sweeper: Hydra's basic sweeper that skips what is done and reports failures.

``hydra/sweeper=mfbench`` (the default in ``conf/config.yaml``) expands the overrides into the
same cartesian grid as Hydra's basic sweeper, then, before launching anything:

1. composes every run (an unknown method or a bad override fails the whole sweep at once,
   listing every problem, with nothing launched);
2. records the grid in a manifest (:mod:`mfbench.sweeps.manifest`) for the status command;
3. skips finished runs (same config fingerprint) and runs that a live job is running; runs
   failed, interrupted and missing ones; refuses runs whose directory holds a finished run
   with another config, unless ``overwrite=true``.

It works with every launcher (basic, ``submitit_local``, ``submitit_slurm``, ``local``,
``slurm``). After the launch it lists the runs that failed, why and where their log is, and
exits with status 1; the finished runs are kept, so re-running the same command retries only
the failed ones.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.utils import JobReturn, JobStatus
from omegaconf import OmegaConf

if TYPE_CHECKING:
    from mfbench.config.choices import UnknownName
    from mfbench.sweeps.plan import PlannedRun


class SweepError(SystemExit):
    """The sweep cannot start (invalid runs, conflicts) or some of its runs failed."""


def _first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else text


class ResumableSweeper(BasicSweeper):
    """Basic sweeper + resume (skip finished runs), a manifest and a failure report.

    Args:
        max_batch_size: launch at most this many runs per launcher call (None: all at once).
        params: sweep parameters, as for Hydra's basic sweeper (experiment presets set them).
        dry_run: print the plan (what would run, what is skipped) and launch nothing.
    """

    def __init__(self, max_batch_size: Optional[int] = None, params: Optional[Dict[str, str]] = None,
                 dry_run: bool = False) -> None:
        super().__init__(max_batch_size=max_batch_size, params=params)
        self.dry_run = dry_run

    def _jobs(self, arguments: List[str]) -> list[list[str]]:
        assert self.hydra_context is not None
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        overrides = parser.parse_overrides(self._parse_config() + list(arguments))
        return [job for batch in self.split_arguments(overrides, None) for job in batch]

    def sweep(self, arguments: List[str]) -> Any:
        assert self.config is not None and self.launcher is not None and self.hydra_context is not None
        from mfbench.sweeps.manifest import write_manifest
        from mfbench.results.markers import FINISHED_ALREADY, IN_PROGRESS_ELSEWHERE
        from mfbench.sweeps.plan import Action, plan_sweep

        jobs = self._jobs(arguments)
        plan = plan_sweep(self.hydra_context.config_loader, self.config, jobs)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        _refuse_invalid(plan)
        to_run = [p for p in plan if p.action is Action.RUN]
        print(_plan_summary(sweep_dir, plan), flush=True)
        if self.dry_run:
            for run in to_run:
                print(f"  would run {run.subdir} ({run.reason})")
            return []
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        write_manifest(sweep_dir, plan, _replayable(self.config.hydra.overrides.hydra), arguments)
        if not to_run:
            return []

        if hasattr(self.launcher, "set_run_dirs"):
            self.launcher.set_run_dirs({tuple(p.overrides): p.run_dir for p in to_run})
        batch_size = self.max_batch_size or len(to_run)
        returns: list[Sequence[JobReturn]] = []
        failures: list[tuple[PlannedRun, str]] = []
        elsewhere: list[PlannedRun] = []
        for start in range(0, len(to_run), batch_size):
            batch = to_run[start:start + batch_size]
            try:
                results = list(self.launcher.launch([p.overrides for p in batch], initial_job_idx=start))
            except Exception as error:  # a launcher that gives up at the first failed job
                failures.extend((p, f"the launcher failed: {_first_line(str(error))}") for p in batch)
                continue
            returns.append(results)
            for run, result in zip(batch, results):
                if result.status is not JobStatus.COMPLETED:
                    failures.append((run, _first_line(str(result._return_value))))
                elif result._return_value in (IN_PROGRESS_ELSEWHERE, FINISHED_ALREADY):
                    elsewhere.append(run)
        print(_end_summary(sweep_dir, len(to_run), len(failures), elsewhere), flush=True)
        report = _failure_report(sweep_dir, len(to_run), failures)
        if report:
            print(report, file=sys.stderr, flush=True)
            raise SweepError(1)
        return returns


def _replayable(hydra_overrides: Sequence[Any]) -> list[str]:
    """The Hydra overrides worth repeating in a completion command (not ``hydra.mode``, ...)."""
    dropped = ("hydra.mode=", "hydra.sweeper.dry_run=")
    return [str(o) for o in hydra_overrides if not str(o).startswith(dropped)]


def _refuse_invalid(plan: Sequence[PlannedRun]) -> None:
    """Stop before launching anything if a run cannot run: every problem once, with its runs.

    An unknown option, group or key is worded as in a single run (did-you-mean and the list of
    what exists, :class:`mfbench.config.choices.UnknownName`), once for all runs that share it.
    """
    from mfbench.sweeps.plan import Action

    invalid = [p for p in plan if p.action is Action.INVALID]
    conflicts = [p for p in plan if p.action is Action.CONFLICT]
    if not invalid and not conflicts:
        return
    lines = [f"mfbench: error: the sweep was not started ({len(invalid) + len(conflicts)} of {len(plan)} runs "
             f"cannot run; nothing was launched):"]
    unknown: dict[UnknownName, int] = {}  # unknown name -> runs
    by_message: dict[str, list[PlannedRun]] = {}
    for run in invalid:
        if run.unknown is not None:
            unknown[run.unknown] = unknown.get(run.unknown, 0) + 1
        else:
            by_message.setdefault(run.reason, []).append(run)
    listed: set[str] = set()
    for name, runs in unknown.items():
        lines.append(f"  {name.headline(runs)}")
        if name.available() not in listed:  # two misspelled methods: their options once
            listed.add(name.available())
            lines.append(f"    {name.available()}")
    for message, runs in by_message.items():
        lines.append(f"  {len(runs)} run(s), e.g. {' '.join(runs[0].overrides)}:")
        lines.extend(f"    {line}" for line in message.splitlines()[:12])
    for run in conflicts:
        lines.append(f"  {run.reason}")
    print("\n".join(lines), file=sys.stderr, flush=True)
    raise SweepError(2)


def _plan_summary(sweep_dir: Path, plan: Sequence[PlannedRun]) -> str:
    from mfbench.sweeps.plan import Action

    count = {action: sum(p.action is action for p in plan) for action in Action}
    reasons: dict[str, int] = {}
    for run in plan:
        if run.action is Action.RUN:
            reasons[run.reason] = reasons.get(run.reason, 0) + 1
    why = ", ".join(f"{n} {reason}" for reason, n in reasons.items())
    return (f"mfbench: sweep {sweep_dir}: {len(plan)} runs: {count[Action.SKIP_DONE]} finished (skipped), "
            f"{count[Action.SKIP_ACTIVE]} running elsewhere (skipped), {count[Action.RUN]} to run"
            + (f" ({why})" if why else ""))


def _end_summary(sweep_dir: Path, launched: int, failed: int, elsewhere: Sequence[PlannedRun]) -> str:
    """One line after the launch: what was computed, skipped or failed, and where to look next."""
    computed = launched - failed - len(elsewhere)
    line = f"mfbench: sweep {sweep_dir}: {computed} of {launched} launched runs computed"
    if elsewhere:
        line += (f", {len(elsewhere)} skipped because another sweep or job computed them at the same time "
                 f"(e.g. {elsewhere[0].subdir})")
    if failed:
        line += f", {failed} not finished (below)"
    return (line + f"\n  state of every run: python -m mfbench.status {sweep_dir}"
            f"\n  compare the methods: python -m mfbench.analysis {sweep_dir}")


def _failure_report(sweep_dir: Path, launched: int, failures: Sequence[tuple[PlannedRun, str]]) -> str:
    """The report of the runs that did not finish ("" if all did, e.g. before their job timed out)."""
    from mfbench.sweeps.run_status import State, run_statuses

    statuses = run_statuses([run.run_dir for run, _ in failures])
    failed = [(run, message, status) for (run, message), status in zip(failures, statuses)
              if not (status.state is State.DONE and status.fingerprint == run.fingerprint)]
    if not failed:
        return ""
    lines = [f"mfbench: {len(failed)} of {launched} runs failed; the other runs' results are kept:"]
    for run, message, status in failed:
        detail = status.detail if status.state in (State.FAILED, State.INTERRUPTED) and status.detail else message
        lines.append(f"  {status.state.value.upper():<11} {run.subdir}: {detail}")
        if status.log_path:
            lines.append(f"              log: {status.log_path}")
    lines.append(f"Re-run the same command to retry only the unfinished runs; "
                 f"`python -m mfbench.status {sweep_dir}` shows the state of every run.")
    return "\n".join(lines)
