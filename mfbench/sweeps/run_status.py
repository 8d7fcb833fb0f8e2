"""The state of one run directory, from its markers and, for SLURM jobs, the scheduler.

=============  ==================================================================
state          meaning
=============  ==================================================================
done           ``DONE`` marker with results and metadata that match what it vouches for
corrupt        ``DONE`` marker, but the results or metadata were truncated, emptied
               or changed since (or are missing)
running        ``RUNNING`` marker and its process / SLURM job is alive (or cannot
               be checked from this host)
queued         submitted by a launcher, the job has not started the run yet
failed         the run raised (``FAILED``), or its SLURM job ended without
               finishing it (``CANCELLED``, ``TIMEOUT``, ``OUT_OF_MEMORY``, ...)
interrupted    ``RUNNING`` marker but the process is gone (SIGKILL, crash, reboot)
missing        nothing there yet
=============  ==================================================================

Re-running the sweep re-runs ``corrupt``, ``failed``, ``interrupted`` and ``missing`` runs
(a corrupt run's files are kept beside the new ones as ``*.corrupt``).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from mfbench.results.markers import (FAILED_MARKER, MORE_TIME_HINT, QUEUED_MARKER, RUNNING_MARKER, RunState,
                                     claimed_fingerprint)
from mfbench.results.store import RunDirectory
from mfbench.results.job_info import SLURM_ACTIVE, JobInfo, Liveness, host_name, liveness, slurm_states


class State(str, enum.Enum):
    DONE = "done"
    CORRUPT = "corrupt"
    RUNNING = "running"
    QUEUED = "queued"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    MISSING = "missing"


#: states a resumed sweep runs again
TO_RUN = (State.CORRUPT, State.FAILED, State.INTERRUPTED, State.MISSING)


@dataclass(frozen=True)
class RunStatus:
    """State of a run directory.

    Attributes:
        path: the run directory.
        state: see the module docstring.
        detail: a human explanation (who runs it, why it failed), "" for done / missing.
        log_path: the file to read about it (job log, or the ``FAILED`` marker), if any.
        job_id: the SLURM / submitit job id involved, if any.
        fingerprint: the config fingerprint of a finished run.
        claimed_fingerprint: for a running run, the config fingerprint its job claimed it for
            (None if its claim does not say).
    """

    path: Path
    state: State
    detail: str = ""
    log_path: str | None = None
    job_id: str | None = None
    fingerprint: str | None = None
    claimed_fingerprint: str | None = None


def _log_path(paths: Iterable[str] | None, fallback: Path | None = None) -> str | None:
    """The most useful existing log: stderr before stdout; ``fallback`` if none exists."""
    candidates = [p for p in (paths or []) if p]
    ordered = sorted(candidates, key=lambda p: 0 if p.endswith(".err") else 1)
    for path in ordered:
        if Path(path).is_file() and Path(path).stat().st_size > 0:
            return path
    for path in ordered:
        if Path(path).is_file():
            return path
    if fallback is not None and fallback.is_file():
        return str(fallback)
    return ordered[0] if ordered else None


def slurm_ids_of(paths: Iterable[Path]) -> set[str]:
    """The SLURM job ids named in the ``RUNNING`` / ``QUEUED`` / ``FAILED`` markers of ``paths``."""
    ids = set()
    for path in paths:
        state = RunState(path)
        for name in (RUNNING_MARKER, QUEUED_MARKER, FAILED_MARKER):
            record = state.read(name) if state.marker(name).exists() else None
            if record and name == FAILED_MARKER:
                record = record.get("job") or {}
            if record and record.get("slurm_job_id"):
                ids.add(str(record["slurm_job_id"]))
    return ids


def run_status(path: str | Path, slurm: Mapping[str, str] | None = None) -> RunStatus:
    """The state of run directory ``path``.

    Args:
        path: the run directory.
        slurm: SLURM states by job id (from :func:`mfbench.results.job_info.slurm_states`);
            None queries the scheduler for this run's job if it has one.
    """
    path = Path(path)
    directory = RunDirectory(path)
    state = RunState(path)
    problem = directory.verify() if directory.has_marker() else None
    complete = directory.has_marker() and problem is None
    fingerprint = directory.stored_fingerprint() if complete else None

    running = state.read(RUNNING_MARKER) if state.marker(RUNNING_MARKER).exists() else None
    if running is not None:
        info = JobInfo.from_dict(running)
        slurm_state = None
        if info.slurm_job_id:
            slurm_state = (slurm_states([info.slurm_job_id]) if slurm is None else slurm).get(info.slurm_job_id)
        alive = liveness(info, slurm_state)
        log = _log_path(info.log_paths)
        if alive is Liveness.ALIVE:
            return RunStatus(path, State.RUNNING, f"{info.describe()}, since {info.started_at}", log,
                             info.slurm_job_id or info.submitit_job_id, fingerprint, claimed_fingerprint(running))
        if alive is Liveness.UNKNOWN and not complete:
            return RunStatus(path, State.RUNNING,
                             f"{info.describe()}, since {info.started_at} (cannot be checked from {host_name()}; "
                             f"if it is not running, delete {state.marker(RUNNING_MARKER)})",
                             log, info.slurm_job_id or info.submitit_job_id,
                             claimed_fingerprint=claimed_fingerprint(running))
        if not complete:
            job_id = info.slurm_job_id or info.submitit_job_id
            if slurm_state == "TIMEOUT":
                return RunStatus(path, State.FAILED, _timed_out(str(job_id), f"{info.describe()} ended as TIMEOUT"),
                                 log, job_id)
            if slurm_state is not None:
                return RunStatus(path, State.FAILED, f"{info.describe()} ended as {slurm_state} before the run finished",
                                 log, job_id)
            return RunStatus(path, State.INTERRUPTED, f"{info.describe()} is gone (killed?) before the run finished",
                             log, job_id)

    if complete:
        return RunStatus(path, State.DONE, fingerprint=fingerprint)
    if problem is not None:
        return RunStatus(path, State.CORRUPT, f"finished, but {problem}; a re-run redoes it")

    failed = state.read(FAILED_MARKER) if state.marker(FAILED_MARKER).exists() else None
    if failed is not None:
        job = failed.get("job") or {}
        reason = str(failed.get("reason", "failed"))
        slurm_id = job.get("slurm_job_id")
        if slurm_id:
            slurm_state = (slurm_states([slurm_id]) if slurm is None else slurm).get(slurm_id)
            if slurm_state == "TIMEOUT":
                reason = _timed_out(slurm_id, reason)
            elif slurm_state is not None and slurm_state not in SLURM_ACTIVE and slurm_state != "COMPLETED":
                reason += f" (SLURM job {slurm_id}: {slurm_state})"
        return RunStatus(path, State.FAILED, reason,
                         _log_path(failed.get("log_paths"), fallback=state.marker(FAILED_MARKER)),
                         slurm_id or job.get("submitit_job_id"))

    queued = state.read(QUEUED_MARKER) if state.marker(QUEUED_MARKER).exists() else None
    if queued is not None:
        return _queued_status(path, queued, slurm)

    if path.is_dir() and any(p.name not in {"mfbench.log", "__main__.log"} for p in path.iterdir()):
        return RunStatus(path, State.INTERRUPTED, "unfinished files without a marker")
    return RunStatus(path, State.MISSING)


def _timed_out(job_id: str, what_happened: str) -> str:
    """The reason for a run whose SLURM job hit its time limit, with the override that helps."""
    return f"time limit reached (SLURM job {job_id}: TIMEOUT; {what_happened}); {MORE_TIME_HINT}"


def _queued_status(path: Path, queued: Mapping[str, object], slurm: Mapping[str, str] | None) -> RunStatus:
    job_id = str(queued.get("job_id") or "?")
    log = _log_path(queued.get("log_paths"))  # type: ignore[arg-type]
    if queued.get("slurm_job_id"):
        slurm_state = (slurm_states([job_id]) if slurm is None else slurm).get(job_id)
        if slurm_state is None:
            return RunStatus(path, State.QUEUED, f"submitted as SLURM job {job_id} (state unknown here)", log, job_id)
        if slurm_state in SLURM_ACTIVE:
            where = "runs the job's earlier runs" if slurm_state == "RUNNING" else f"is {slurm_state}"
            return RunStatus(path, State.QUEUED, f"waiting in SLURM job {job_id}, which {where}", log, job_id)
        reason = f"SLURM job {job_id} ended as {slurm_state} before this run started"
        return RunStatus(path, State.FAILED, reason + (f"; {MORE_TIME_HINT}" if slurm_state == "TIMEOUT" else ""),
                         log, job_id)
    info = JobInfo(host=str(queued.get("host", "?")), pid=int(str(queued.get("pid", -1))),
                   proc_start=queued.get("proc_start"), started_at=str(queued.get("queued_at", "?")))  # type: ignore[arg-type]
    alive = liveness(info)
    if alive is Liveness.DEAD:
        return RunStatus(path, State.INTERRUPTED, f"local job {job_id} ended before this run started", log, job_id)
    return RunStatus(path, State.QUEUED, f"waiting in local job {job_id}", log, job_id)


def run_statuses(paths: Iterable[str | Path]) -> list[RunStatus]:
    """States of many run directories, with one scheduler query for all their SLURM jobs."""
    paths = [Path(p) for p in paths]
    slurm = slurm_states(slurm_ids_of(paths))
    return [run_status(p, slurm) for p in paths]
