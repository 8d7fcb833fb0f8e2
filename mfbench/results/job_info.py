"""Who executes a run: host, process, SLURM / submitit job and its log files; is it alive?

A run records :func:`current_job` in its ``RUNNING`` marker. Later, possibly from another
process, :func:`liveness` tells whether that executor still exists: a SLURM job is looked up
with ``squeue``/``sacct`` (its scheduler state, e.g. ``CANCELLED`` or ``TIMEOUT``, explains
how it ended), a plain process by its pid and start time on the same host.
"""
from __future__ import annotations

import datetime
import enum
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Mapping

#: SLURM states of a job that may still run (or is about to)
SLURM_ACTIVE = {"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "REQUEUED", "RESIZING", "SUSPENDED",
                "REQUEUE_HOLD", "REQUEUE_FED", "SIGNALING", "STAGE_OUT", "STOPPED", "SPECIAL_EXIT"}
_QUERY_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class JobInfo:
    """The executor of a run.

    Attributes:
        host: short host name.
        pid: process id of the Python process running the run.
        proc_start: start time of that process in clock ticks after boot (Linux ``/proc``), to
            tell a reused pid from the original process; None where unknown.
        started_at: ISO-8601 UTC time the record was made.
        executor: ``"slurm"``, ``"local"`` (a submitit local job) or ``"process"``.
        slurm_job_id: the SLURM job id (``<array id>_<task>`` for array tasks), if any.
        submitit_job_id: the submitit job id (pid of the controller for local jobs), if any.
        log_paths: the job's stdout / stderr files, if known.
    """

    host: str
    pid: int
    proc_start: int | None
    started_at: str
    executor: str = "process"
    slurm_job_id: str | None = None
    submitit_job_id: str | None = None
    log_paths: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "JobInfo":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        known.setdefault("host", "?")
        known.setdefault("pid", -1)
        known.setdefault("proc_start", None)
        known.setdefault("started_at", "?")
        return cls(**known)

    def describe(self) -> str:
        """A one-line description, e.g. ``SLURM job 12_3 (pid 77 on node1)``."""
        where = f"pid {self.pid} on {self.host}"
        if self.slurm_job_id:
            return f"SLURM job {self.slurm_job_id} ({where})"
        if self.executor == "local" and self.submitit_job_id:
            return f"submitit local job {self.submitit_job_id} ({where})"
        return where


def host_name() -> str:
    return socket.gethostname().split(".")[0]


def process_start_ticks(pid: int) -> int | None:
    """Start time of process ``pid`` in clock ticks after boot, None if unknown or gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()  # fields after "pid (comm) "
    try:
        return int(fields[19])  # field 22 of stat(5); fields[0] is field 3
    except (IndexError, ValueError):
        return None


def slurm_job_id_from_env(env: Mapping[str, str] | None = None) -> str | None:
    """``<array job id>_<task id>`` for an array task, else ``SLURM_JOB_ID``, else None."""
    env = os.environ if env is None else env
    if env.get("SLURM_ARRAY_JOB_ID") and env.get("SLURM_ARRAY_TASK_ID"):
        return f"{env['SLURM_ARRAY_JOB_ID']}_{env['SLURM_ARRAY_TASK_ID']}"
    return env.get("SLURM_JOB_ID") or None


def _submitit_logs() -> tuple[str | None, list[str]]:
    """The submitit job id and log files of the current process, if it is a submitit job."""
    if not os.environ.get("SUBMITIT_EXECUTOR") or not os.environ.get("SUBMITIT_FOLDER"):
        return None, []
    try:
        import submitit

        env = submitit.JobEnvironment()
        paths = env.paths
        return str(env.job_id), [str(paths.stdout), str(paths.stderr)]
    except Exception:  # not a submitit job after all, or an unknown plugin
        return None, []


def current_job() -> JobInfo:
    """The executor of the current process."""
    submitit_id, logs = _submitit_logs()
    slurm_id = slurm_job_id_from_env()
    executor = "slurm" if slurm_id else ("local" if os.environ.get("SUBMITIT_EXECUTOR") == "local" else "process")
    return JobInfo(
        host=host_name(),
        pid=os.getpid(),
        proc_start=process_start_ticks(os.getpid()),
        started_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        executor=executor,
        slurm_job_id=slurm_id,
        submitit_job_id=submitit_id,
        log_paths=logs,
    )


class Liveness(enum.Enum):
    """Whether a recorded executor still exists."""

    ALIVE = "alive"
    DEAD = "dead"
    UNKNOWN = "unknown"


def process_liveness(info: JobInfo) -> Liveness:
    """Liveness of the recorded process (only decidable on its own host)."""
    if info.host != host_name() or info.pid <= 0:
        return Liveness.UNKNOWN
    try:
        os.kill(info.pid, 0)
    except ProcessLookupError:
        return Liveness.DEAD
    except PermissionError:
        pass  # exists, owned by someone else
    if sys.platform.startswith("linux"):
        ticks = process_start_ticks(info.pid)
        if ticks is None or (info.proc_start is not None and ticks != info.proc_start):
            return Liveness.DEAD  # gone, or the pid was reused
        if _is_zombie(info.pid):
            return Liveness.DEAD
    return Liveness.ALIVE


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            text = f.read()
        return text[text.rfind(")") + 2:].split()[0] in {"Z", "X"}
    except (OSError, IndexError):
        return False


def _run(command: list[str]) -> str | None:
    if shutil.which(command[0]) is None:
        return None
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=_QUERY_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None


def slurm_states(job_ids: Iterable[str]) -> dict[str, str]:
    """SLURM state of each job id (``"RUNNING"``, ``"CANCELLED"``, ``"TIMEOUT"``, ...).

    Jobs still in the queue are read from ``squeue`` (array tasks expanded), finished ones from
    ``sacct``. Ids that neither knows (or no SLURM on this machine) are absent from the result.
    """
    wanted = sorted({j for j in job_ids if j})
    if not wanted:
        return {}
    states: dict[str, str] = {}
    base_ids = sorted({j.split("_")[0] for j in wanted})
    queue = _run(["squeue", "-h", "-r", "-o", "%i|%T", "-j", ",".join(base_ids)])
    for line in (queue or "").splitlines():
        job, _, state = line.strip().partition("|")
        if job in wanted and state:
            states[job] = state.split()[0]
    rest = [j for j in wanted if j not in states]
    if rest:
        accounting = _run(["sacct", "-n", "-X", "-P", "-o", "JobID,State", "-j", ",".join(rest)])
        for line in (accounting or "").splitlines():
            job, _, state = line.strip().partition("|")
            if job in rest and state:
                states[job] = state.split()[0]  # "CANCELLED by 0" -> "CANCELLED"
    return states


def liveness(info: JobInfo, slurm_state: str | None = None) -> Liveness:
    """Whether ``info``'s executor still runs; ``slurm_state`` as from :func:`slurm_states`."""
    if info.slurm_job_id:
        if slurm_state is None:
            slurm_state = slurm_states([info.slurm_job_id]).get(info.slurm_job_id)
        if slurm_state is not None:
            return Liveness.ALIVE if slurm_state in SLURM_ACTIVE else Liveness.DEAD
    return process_liveness(info)
