"""Progress markers of a run directory: ``QUEUED``, ``RUNNING`` and ``FAILED``.

Next to the ``DONE`` marker of :mod:`mfbench.results.store`, these small JSON files say what
happens to an unfinished run:

- ``QUEUED``: a launcher submitted the run to a job (job id, log files); written before the
  job starts, so a job cancelled while pending is still traceable.
- ``RUNNING``: the run started; who runs it (:class:`mfbench.results.job_info.JobInfo`). It is
  also the run's *claim*: created atomically (:meth:`RunState.claim`), so of two sweeps or jobs
  that start the same run at once only one computes it; the other skips it
  (:class:`RunInProgress`). If the process is killed (SIGKILL, node failure) the marker stays,
  the status command finds its executor gone (the run was interrupted) and the next job to
  start the run takes the stale claim over.
- ``FAILED``: the run raised; the error, its traceback and the log files.

A run that finishes removes all three (``DONE`` then says it all). Each marker is written to
a temporary file and renamed, so it is either absent or complete.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import tempfile
import threading
import traceback
from pathlib import Path
from typing import Any, Iterator

from mfbench.results.store import file_mode

QUEUED_MARKER = "QUEUED"
RUNNING_MARKER = "RUNNING"
FAILED_MARKER = "FAILED"
_TRACEBACK_LINES = 40


#: what the job of a run returns to the sweeper when another job holds the run, or finished it
IN_PROGRESS_ELSEWHERE = "in progress elsewhere"
FINISHED_ALREADY = "finished already"


class RunSkipped(Exception):
    """The run is not computed by this process, and nothing is wrong (the message says why)."""


def claimed_fingerprint(record: dict[str, Any] | None) -> str | None:
    """The config fingerprint a ``RUNNING`` record was claimed for, if it says."""
    value = record.get("config_fingerprint") if isinstance(record, dict) else None
    return value if isinstance(value, str) else None


class RunInProgress(RunSkipped):
    """A live job elsewhere holds the run's claim; this process must not compute it too."""


class RunTerminated(SystemExit):
    """The run received SIGTERM (``scancel``, preemption, a time limit, ``kill``)."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(128 + int(signum))
        self.signum = int(signum)

    def __str__(self) -> str:
        return f"terminated by {signal.Signals(self.signum).name}"


@contextlib.contextmanager
def _json_beside(path: Path, data: dict[str, Any]) -> Iterator[str]:
    """A complete temporary JSON file of ``data`` beside ``path`` (umask permissions), removed after the block."""
    text = json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, file_mode())
        yield tmp
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``path`` atomically (a reader sees the old or the new file, never a part)."""
    with _json_beside(path, data) as tmp:
        os.replace(tmp, path)


def _create_exclusive(path: Path, data: dict[str, Any]) -> bool:
    """Create ``path`` holding ``data`` unless it exists; True if this call created it.

    The JSON is written to a temporary file first and hard-linked to ``path``: the link fails
    if ``path`` exists (atomically, also on NFS), and a reader never sees a half-written claim.
    """
    with _json_beside(path, data) as tmp:
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
    return True


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def _current_overrides() -> list[str] | None:
    """The Hydra task overrides of the current job, if a Hydra job is running."""
    try:
        from hydra.core.hydra_config import HydraConfig

        return [str(o) for o in HydraConfig.get().overrides.task]
    except Exception:  # not inside a Hydra job
        return None


#: what to change when a job runs out of time (the launchers' ``timeout_min`` options)
MORE_TIME_HINT = ("give the job more time: hydra.launcher.timeout_min=<minutes> "
                  "(hydra.launcher.own_job_resources.timeout_min for runs in jobs of their own)")


def describe_failure(error: BaseException) -> str:
    """A short reason for the ``FAILED`` marker and the sweep report."""
    if isinstance(error, RunTerminated):
        return f"{error} (cancelled, preempted, out of time or killed)"
    if isinstance(error, KeyboardInterrupt):
        return "interrupted by Ctrl-C (SIGINT)"
    name = type(error).__name__
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if name == "UncompletedJobError" and "timed-out" in message:
        return f"time limit reached: {message}; {MORE_TIME_HINT}"
    return f"{name}: {message}" if message else name


@contextlib.contextmanager
def _signals_ignored(active: bool) -> Iterator[None]:
    """Ignore SIGINT / SIGTERM for the block (main thread only).

    A local job gets Ctrl-C twice (from the terminal and forwarded by its controller): the
    second one, even if already received, must not cut the ``FAILED`` record short. The
    run is ending anyway; the first signal's exception is re-raised after the block.
    """
    if not active:
        yield
        return
    previous = {s: signal.signal(s, lambda signum, frame: None) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class RunState:
    """The progress markers of one run directory."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def marker(self, name: str) -> Path:
        return self.path / name

    def read(self, name: str) -> dict[str, Any] | None:
        """The content of marker ``name``, None if absent or unreadable."""
        try:
            data = json.loads(self.marker(name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _remove(self, *names: str) -> None:
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                self.marker(name).unlink()

    def mark_queued(self, job_id: str, executor: str, log_paths: list[str], overrides: list[str] | None = None,
                    process: dict[str, Any] | None = None) -> None:
        """Record that a launcher submitted this run as job ``job_id``.

        Args:
            job_id: the SLURM job id (``<array>_<task>``) or the submitit local job id.
            executor: ``"slurm"`` or ``"local"``.
            log_paths: the job's stdout / stderr files.
            overrides: the run's Hydra overrides.
            process: for local jobs, ``host``, ``pid`` and ``proc_start`` of the job's process.
        """
        import datetime

        from mfbench.results.store import DONE_MARKER

        if self.marker(RUNNING_MARKER).exists() or self.marker(DONE_MARKER).exists():
            return  # the job was faster than its launcher: it already started (or finished)
        self.path.mkdir(parents=True, exist_ok=True)
        record: dict[str, Any] = {
            "job_id": job_id,
            "slurm_job_id": job_id if executor == "slurm" else None,
            "executor": executor,
            "log_paths": log_paths,
            "overrides": overrides,
            "queued_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        }
        record.update(process or {})
        _write_json(self.marker(QUEUED_MARKER), record)

    def mark_running(self) -> dict[str, Any]:
        """Record that the current process runs this run, unconditionally; return the record
        (:meth:`claim` is the safe way to start a run)."""
        self.path.mkdir(parents=True, exist_ok=True)
        record = self._running_record()
        _write_json(self.marker(RUNNING_MARKER), record)
        self._remove(QUEUED_MARKER, FAILED_MARKER)
        return record

    def claim(self, fingerprint: str | None = None) -> dict[str, Any]:
        """Claim the run for the current process (its ``RUNNING`` marker); return the record.

        Args:
            fingerprint: the config fingerprint of the run about to be computed, kept in the
                record (``config_fingerprint``), so that a sweep with another config on the same
                folder can tell that this run is not the one it asks for.

        Raises:
            RunInProgress: a live job holds the claim for the same config (or for one it did not
                record), or one that cannot be checked from this host (another host's process,
                with no SLURM job to ask about): the message names it, and how to clear a claim
                that is known to be dead.
            mfbench.results.store.FinishedRunExists: a live job is computing another config in
                this run directory.

        A claim whose job is gone (its process died, its SLURM job ended) is stale: it is
        removed, if it is still the one found stale, and claimed anew.
        """
        from mfbench.results.job_info import JobInfo, Liveness, liveness

        self.path.mkdir(parents=True, exist_ok=True)
        record = self._running_record()
        if fingerprint is not None:
            record["config_fingerprint"] = fingerprint
        marker = self.marker(RUNNING_MARKER)
        for _ in range(5):
            if _create_exclusive(marker, record):
                self._remove(QUEUED_MARKER, FAILED_MARKER)
                return record
            held = _read_text(marker)
            if held is None:
                continue  # released meanwhile: try again
            try:
                held_record = json.loads(held)
                owner = JobInfo.from_dict(held_record)
            except (ValueError, TypeError, AttributeError):
                raise RunInProgress(f"{marker} is not a claim mfbench can read; if no job runs this run, delete "
                                    f"it and start the run again") from None
            same = (owner.host, owner.pid, owner.proc_start) == (record["host"], record["pid"], record["proc_start"])
            if same:  # this process claimed it before (e.g. a retry within one job)
                _write_json(marker, record)
                return record
            alive = liveness(owner)
            if alive is Liveness.ALIVE:
                theirs = claimed_fingerprint(held_record)
                if fingerprint is not None and theirs is not None and theirs != fingerprint:
                    from mfbench.results.store import FinishedRunExists

                    raise FinishedRunExists(
                        f"{self.path}: {owner.describe()} is computing a run with a different configuration here "
                        f"(since {owner.started_at}); choose another experiment_name=..., or wait for it and pass "
                        f"overwrite=true to replace it")
                raise RunInProgress(f"{owner.describe()} is computing it (since {owner.started_at})")
            if alive is Liveness.UNKNOWN:
                raise RunInProgress(f"{owner.describe()} claimed it (since {owner.started_at}) and cannot be checked "
                                    f"from this host; if it is not running, delete {marker}")
            if _read_text(marker) == held:  # still the stale claim we judged: take it over
                with contextlib.suppress(FileNotFoundError):
                    marker.unlink()
        raise RunInProgress(f"other jobs keep claiming it ({marker})")

    def _running_record(self) -> dict[str, Any]:
        from mfbench.results.job_info import current_job

        record = current_job().to_dict()
        record["overrides"] = _current_overrides()
        return record

    def release(self) -> None:
        """Give up the claim without a result (the run was skipped, not failed)."""
        self._remove(RUNNING_MARKER)

    def mark_failed(self, error: BaseException, job: dict[str, Any] | None = None) -> None:
        """Record that the run failed with ``error`` (replaces ``RUNNING``).

        Not beside a finished run: if a verified ``DONE`` is here (e.g. an ``overwrite=true``
        rerun failed), the failure is reported by the caller but not recorded as the run's state.
        """
        import datetime

        from mfbench.results.store import RunDirectory

        if RunDirectory(self.path).is_complete():
            self._remove(RUNNING_MARKER)
            return
        lines = traceback.format_exception(type(error), error, error.__traceback__)
        text = "".join(lines).splitlines()
        job = job if job is not None else (self.read(RUNNING_MARKER) or {})
        _write_json(self.marker(FAILED_MARKER), {
            "reason": describe_failure(error),
            "error_type": type(error).__name__,
            "traceback": text[-_TRACEBACK_LINES:],
            "failed_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "job": job,
            "log_paths": job.get("log_paths") or [],
            "overrides": job.get("overrides") or _current_overrides(),
        })
        self._remove(RUNNING_MARKER)

    def mark_finished(self) -> None:
        """The run finished (its ``DONE`` marker is written): drop the progress markers."""
        self._remove(RUNNING_MARKER, FAILED_MARKER, QUEUED_MARKER)

    @contextlib.contextmanager
    def tracking(self, fingerprint: str | None = None) -> Iterator[dict[str, Any]]:
        """Claim the run for the ``with`` block (:meth:`claim`, with the config ``fingerprint``);
        failed if it raises, finished if not.

        Raises :class:`RunInProgress` (before the block) if a live job holds the claim. A
        :class:`RunSkipped` raised in the block releases the claim without a failure. In the
        main thread SIGTERM is turned into :class:`RunTerminated` for the block, so a cancelled
        or preempted run records why it ended before it exits.
        """
        record = self.claim(fingerprint)
        previous = None
        in_main = threading.current_thread() is threading.main_thread()
        if in_main:
            def _terminate(signum: int, frame: Any) -> None:
                raise RunTerminated(signum)

            previous = signal.signal(signal.SIGTERM, _terminate)
        try:
            yield record
        except RunSkipped:
            self.release()
            raise
        except BaseException as error:
            with _signals_ignored(in_main):  # a second Ctrl-C / SIGTERM must not cut the record short
                self.mark_failed(error, job=record)
            raise
        else:
            self.mark_finished()
        finally:
            if in_main and previous is not None:
                signal.signal(signal.SIGTERM, previous)
