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
``slurm``). While the runs run it shows their progress (:mod:`mfbench.sweeps.progress`: a bar
on a terminal, plain lines in a log; with the basic launcher one line per run; Hydra's own
submitit launchers give no hook until they return, so none there). After the launch it
prints a summary (what was computed, skipped or failed, the time it took, the status and
analysis commands), then lists the runs that failed, why and where their log is, and exits
with status 1; the finished runs are kept, so re-running the same command retries only the
failed ones.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.utils import JobReturn
from omegaconf import ListConfig, OmegaConf

from mfbench.sweeps.progress import (Display, Outcome, SweepProgress, TrackedTask, display_for,
                                     format_duration, outcome_of)

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
        progress_interval_s: with stdout not a terminal, seconds between progress lines (and
            before the first one); the top-level ``progress=false`` turns the display off.
    """

    def __init__(self, max_batch_size: Optional[int] = None, params: Optional[Dict[str, str]] = None,
                 dry_run: bool = False, progress_interval_s: float = 30.0) -> None:
        super().__init__(max_batch_size=max_batch_size, params=params)
        self.dry_run = dry_run
        if not float(progress_interval_s) > 0:
            raise ValueError(f"hydra.sweeper.progress_interval_s must be > 0, got {progress_interval_s}")
        self.progress_interval_s = float(progress_interval_s)
        self._tracked: Optional[Callable[..., Any]] = None  # the basic launcher's task function, while wrapped

    def _jobs(self, arguments: List[str]) -> list[list[str]]:
        assert self.hydra_context is not None
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        overrides = parser.parse_overrides(self._parse_config() + list(arguments))
        return [job for batch in self.split_arguments(overrides, None) for job in batch]

    def sweep(self, arguments: List[str]) -> Any:
        assert self.config is not None and self.launcher is not None and self.hydra_context is not None
        from mfbench.sweeps.manifest import write_manifest
        from mfbench.sweeps.plan import Action, plan_sweep

        started = time.monotonic()
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
        progress = self._progress([p.run_dir for p in to_run])
        batch_size = self.max_batch_size or len(to_run)
        returns: list[Sequence[JobReturn]] = []
        outcomes: list[tuple[PlannedRun, Outcome, str]] = []
        try:
            for start in range(0, len(to_run), batch_size):
                batch = to_run[start:start + batch_size]
                try:
                    results = list(self.launcher.launch([p.overrides for p in batch], initial_job_idx=start))
                except Exception as error:  # a launcher that gives up at the first failed job
                    message = f"the launcher failed: {_first_line(str(error))}"
                    outcomes.extend((p, Outcome.FAILED, message) for p in batch)
                    continue
                returns.append(results)
                for run, result in zip(batch, results):
                    outcome = outcome_of(result)
                    outcomes.append((run, outcome, _first_line(str(result._return_value))))
                    progress.ended(run.run_dir, outcome)  # launchers without a live display: per batch
                progress.poll(force=True)
        finally:
            progress.close()
            self._untrack()
        summary, failures = _end_summary(sweep_dir, plan, outcomes, time.monotonic() - started)
        print(summary, flush=True)
        if failures:  # last, on stderr: what needs the user's attention
            print(failures, file=sys.stderr, flush=True)
            raise SweepError(1)
        return returns

    def _progress(self, run_dirs: Sequence[Path]) -> SweepProgress:
        """The live display of the launch, handed to the launcher (or around the basic launcher's task)."""
        from hydra._internal.core_plugins.basic_launcher import BasicLauncher

        assert self.config is not None and self.launcher is not None
        polled = hasattr(self.launcher, "set_progress")
        in_process = isinstance(self.launcher, BasicLauncher)
        display = display_for(bool(self.config.get("progress", True)), polled=polled)
        if not polled and not in_process:  # e.g. Hydra's submitit launchers: nothing to hook into until they return
            display = Display()
        progress = SweepProgress(run_dirs, display, interval_s=self.progress_interval_s,
                                 poll_s=float(getattr(self.launcher, "progress_poll_s", 1.0)))
        if polled:
            self.launcher.set_progress(progress)
        elif in_process and not display.off:
            self._tracked = self.launcher.task_function
            self.launcher.task_function = TrackedTask(self._tracked, progress)
        return progress

    def _untrack(self) -> None:
        """Give the basic launcher its own task function back."""
        if self._tracked is not None and self.launcher is not None:
            self.launcher.task_function = self._tracked
            self._tracked = None


def _replayable(hydra_overrides: Sequence[Any]) -> list[str]:
    """The Hydra overrides worth repeating in a completion command (not ``hydra.mode``, ...), as
    given: ``hydra.sweep.subdir=${hydra:...}`` stays an interpolation (reading the items of
    the config's list would resolve it, outside a run, where ``${hydra:...}`` cannot)."""
    if isinstance(hydra_overrides, ListConfig):
        hydra_overrides = OmegaConf.to_container(hydra_overrides, resolve=False)  # type: ignore[assignment]
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


def _end_summary(sweep_dir: Path, plan: Sequence[PlannedRun], outcomes: Sequence[tuple[PlannedRun, Outcome, str]],
                 elapsed: float) -> tuple[str, str]:
    """What the sweep did, for after the launch: ``(summary, failures)``.

    The summary (for stdout) counts every run of the plan (computed, skipped as finished,
    skipped because another sweep or job held them, failed), the time the sweep took and the
    commands to look further. ``failures`` (for stderr; "" if none) lists each run that did not
    finish with why and its log file. A run reported failed whose directory holds its finished
    result (e.g. its job died after writing it) counts as computed.
    """
    from mfbench.sweeps.plan import Action
    from mfbench.sweeps.run_status import State, run_statuses

    reported = [(run, message) for run, outcome, message in outcomes if outcome is Outcome.FAILED]
    statuses = run_statuses([run.run_dir for run, _ in reported])
    failed = [(run, message, status) for (run, message), status in zip(reported, statuses)
              if not (status.state is State.DONE and status.fingerprint == run.fingerprint)]
    computed = sum(outcome is Outcome.COMPUTED for _, outcome, _ in outcomes) + len(reported) - len(failed)
    held = [run for run in plan if run.action is Action.SKIP_ACTIVE]
    held += [run for run, outcome, _ in outcomes if outcome is Outcome.SKIPPED]
    finished_before = sum(run.action is Action.SKIP_DONE for run in plan)
    line = (f"mfbench: sweep {sweep_dir} ended after {format_duration(elapsed)}: {len(plan)} runs: "
            f"{computed} of {len(outcomes)} launched runs computed, {len(failed)} failed"
            + (" (below)" if failed else "")
            + f", {finished_before} skipped as finished, {len(held)} skipped because another sweep or job held them"
            + (f" (e.g. {held[0].subdir})" if held else ""))
    summary = (line + f"\n  state of every run:  python -m mfbench.status {sweep_dir}"
               f"\n  compare the methods: python -m mfbench.analysis {sweep_dir}")
    if not failed:
        return summary, ""
    lines = [f"mfbench: {len(failed)} of {len(outcomes)} runs failed; the other runs' results are kept:"]
    for run, message, status in failed:
        detail = status.detail if status.state in (State.FAILED, State.INTERRUPTED) and status.detail else message
        lines.append(f"  {status.state.value.upper():<11} {run.subdir}: {detail}")
        if status.log_path:
            lines.append(f"              log: {status.log_path}")
    lines.append("Re-run the same command to retry only the unfinished runs (finished runs are skipped).")
    return summary, "\n".join(lines)
