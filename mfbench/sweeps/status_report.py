"""``python -m mfbench.status <sweep dir>``: what is done, running, failed or missing.

The expected runs are those the sweeps into the directory recorded in their manifests
(:mod:`mfbench.sweeps.manifest`), plus any run directory found on disk. Each run's state comes
from its markers and, for SLURM jobs, from ``squeue``/``sacct``
(:mod:`mfbench.sweeps.run_status`). For an incomplete sweep it prints the commands that
complete it: they run exactly the corrupt, failed, interrupted and missing runs.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from mfbench.results.markers import FAILED_MARKER, QUEUED_MARKER, RUNNING_MARKER, RunState
from mfbench.results.store import DONE_MARKER, METADATA_FILE, RESULTS_FILE
from mfbench.sweeps.commands import commands
from mfbench.sweeps.manifest import expected_runs, read_manifests
from mfbench.sweeps.run_status import TO_RUN, RunStatus, State, run_statuses

_RUN_FILES = {DONE_MARKER, RUNNING_MARKER, FAILED_MARKER, QUEUED_MARKER, METADATA_FILE, RESULTS_FILE}
_ORDER = [State.CORRUPT, State.FAILED, State.INTERRUPTED, State.MISSING, State.RUNNING, State.QUEUED, State.DONE]


@dataclass(frozen=True)
class SweepRun:
    """A run of the sweep directory: where, its state, and how to (re)run it."""

    subdir: str
    status: RunStatus
    overrides: tuple[str, ...] | None
    hydra_overrides: tuple[str, ...]
    expected: bool
    note: str = ""


@dataclass(frozen=True)
class SweepStatus:
    sweep_dir: Path
    runs: list[SweepRun]
    num_manifests: int
    manifest_cwd: str | None

    def counts(self) -> dict[str, int]:
        counter = Counter(r.status.state for r in self.runs)
        return {state.value: counter.get(state, 0) for state in _ORDER}

    def to_run(self) -> list[SweepRun]:
        return [r for r in self.runs if r.status.state in TO_RUN]

    def completion_commands(self) -> tuple[list[str], list[str]]:
        """Commands that run the unfinished runs, and the runs no command is known for."""
        groups: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        unknown = []
        for run in self.to_run():
            if run.overrides is None:
                unknown.append(run.subdir)
            else:
                groups.setdefault(run.hydra_overrides, []).append(run.overrides)
        lines = []
        for hydra_overrides, runs in groups.items():
            lines.extend(commands(runs, hydra_overrides))
        return lines, unknown


def find_run_dirs(sweep_dir: Path) -> list[str]:
    """Run directories under ``sweep_dir`` (any with a result or marker), relative to it."""
    found = []
    for root, dirs, files in os.walk(sweep_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))  # .submitit, .mfbench
        if _RUN_FILES & set(files):
            found.append(Path(root).relative_to(sweep_dir).as_posix())
            dirs[:] = []
    return found


def _marker_overrides(path: Path) -> tuple[str, ...] | None:
    state = RunState(path)
    for name in (FAILED_MARKER, RUNNING_MARKER, QUEUED_MARKER):
        record = state.read(name) if state.marker(name).exists() else None
        if record and record.get("overrides"):
            return tuple(str(o) for o in record["overrides"])
    return None


def sweep_status(sweep_dir: str | Path) -> SweepStatus:
    """The state of every run of ``sweep_dir``.

    Raises:
        FileNotFoundError: if ``sweep_dir`` is not a directory.
    """
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise FileNotFoundError(f"no sweep directory {sweep_dir}: pass the directory a sweep writes to, "
                                f"outputs/<experiment_name> (e.g. outputs/quick)")
    expected = expected_runs(sweep_dir)
    subdirs = sorted(set(expected) | set(find_run_dirs(sweep_dir)))
    statuses = run_statuses([sweep_dir / s for s in subdirs])
    runs = []
    for subdir, status in zip(subdirs, statuses):
        entry = expected.get(subdir)
        note = ""
        if entry is not None and status.state is State.DONE and entry.fingerprint and status.fingerprint \
                and entry.fingerprint != status.fingerprint:
            note = "finished with another config than the sweep asks for (overwrite=true replaces it)"
        overrides = entry.overrides if entry is not None else _marker_overrides(sweep_dir / subdir)
        runs.append(SweepRun(subdir, status, overrides, entry.hydra_overrides if entry else (), entry is not None, note))
    manifests = read_manifests(sweep_dir)
    cwd = str(manifests[-1].get("cwd")) if manifests and manifests[-1].get("cwd") else None
    return SweepStatus(sweep_dir, runs, len(manifests), cwd)


def _natural(text: str) -> list[Any]:
    """A sort key that orders the numbers in ``text`` by value (seed_3 before seed_10)."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def format_status(status: SweepStatus, show_all: bool = False) -> str:
    """A human report: the counts, the runs (not done ones unless ``show_all``), the commands."""
    counts = status.counts()
    total = len(status.runs)
    summary = ", ".join(f"{n} {state}" for state, n in counts.items() if n)
    lines = [f"{status.sweep_dir}: {total} runs ({status.num_manifests} sweep(s) recorded): {summary or 'none'}"]
    shown = [r for r in status.runs if show_all or r.status.state is not State.DONE or r.note]
    shown.sort(key=lambda r: (_ORDER.index(r.status.state), _natural(r.subdir)))
    if shown:
        width = max(len(r.subdir) for r in shown)
        for run in shown:
            detail = "; ".join(x for x in (run.status.detail, run.note) if x)
            lines.append(f"  {run.status.state.value:<11} {run.subdir:<{width}}  {detail}".rstrip())
            if run.status.log_path and run.status.state is not State.DONE:
                lines.append(f"  {'':<11} {'':<{width}}  log: {run.status.log_path}")
    pending = status.to_run()
    if pending:
        lines.append(f"To complete it ({len(pending)} runs; finished and running runs are skipped):")
        if status.manifest_cwd and Path(status.manifest_cwd).resolve() != Path.cwd().resolve():
            lines.append(f"  cd {status.manifest_cwd}")
        cmds, unknown = status.completion_commands()
        lines.extend(f"  {c}" for c in cmds)
        if unknown:
            lines.append(f"  (no recorded overrides for: {', '.join(unknown)}; rerun them by hand)")
    elif counts[State.RUNNING.value] or counts[State.QUEUED.value]:
        lines.append("Nothing to rerun: the remaining runs are running or queued.")
    elif any(run.note for run in status.runs):
        other = sum(1 for run in status.runs if run.note)
        lines.append(f"Not complete: {other} run(s) finished with another config than the sweep asks for; rerun "
                     f"the sweep with overwrite=true to replace them, or keep them as they are.")
    else:
        lines.append("Complete: every run is done.")
    return "\n".join(lines)


def status_json(status: SweepStatus) -> dict[str, Any]:
    cmds, unknown = status.completion_commands()
    return {
        "sweep_dir": str(status.sweep_dir),
        "counts": status.counts(),
        "runs": [{"subdir": r.subdir, "state": r.status.state.value, "detail": r.status.detail, "note": r.note,
                  "log_path": r.status.log_path, "job_id": r.status.job_id, "expected": r.expected,
                  "overrides": list(r.overrides) if r.overrides is not None else None} for r in status.runs],
        "commands": cmds,
        "runs_without_command": unknown,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mfbench.status",
        description="State of the runs of a sweep directory (done, corrupt, running, queued, failed, "
                    "interrupted, missing) and the command that completes it.")
    parser.add_argument("sweep_dir", help="the sweep directory, outputs/<experiment_name>")
    parser.add_argument("--all", action="store_true", help="list finished runs too")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--command", action="store_true",
                        help="print only the commands that complete the sweep (nothing if complete)")
    args = parser.parse_args(argv)
    try:
        status = sweep_status(args.sweep_dir)
    except FileNotFoundError as error:
        print(f"mfbench.status: error: {error}", file=sys.stderr)
        return 2
    if not status.runs and not status.num_manifests:  # a wrong folder must not look finished
        print(f"mfbench.status: error: {status.sweep_dir} holds no run and no recorded sweep; point at a sweep "
              f"directory, outputs/<experiment_name> (e.g. outputs/quick)", file=sys.stderr)
        return 2
    if args.json:
        text = json.dumps(status_json(status), indent=2)
    elif args.command:
        text = "\n".join(status.completion_commands()[0])
    else:
        text = format_status(status, show_all=args.all)
    try:
        if text:
            print(text, flush=True)
    except BrokenPipeError:  # e.g. piped into head
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def cli() -> None:
    """Entry point of the ``mfbench-status`` script."""
    sys.exit(main())
