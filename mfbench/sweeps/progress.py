"""Live progress of a sweep: done / running / failed / queued runs, elapsed time, time left.

The sweeper creates one :class:`SweepProgress` over the runs it launches; the launchers that
wait for their jobs (``local``, ``slurm``) call :meth:`SweepProgress.poll` from their waiting
loops and :meth:`SweepProgress.ended` when a job's results come in. Hydra's basic launcher runs
the runs in the sweep's own process, one after the other: the sweeper reports each run as it
ends (:class:`TrackedTask`), one line per run.

What a run is doing is read from the markers of its directory (``DONE``, ``FAILED``,
``RUNNING``; :mod:`mfbench.results.markers`), by their presence only: a few ``stat`` calls per
unfinished run, never ``squeue``/``sacct`` and never reading results (the full
:func:`mfbench.sweeps.run_status.run_statuses` verifies results and asks SLURM: right for the
final report, too heavy to repeat every second). Markers left by an earlier attempt (a
``FAILED`` being retried, the stale ``RUNNING`` of a killed job) are recorded when the sweep
starts and do not count: only a marker written since does. A run's final outcome is the one
its job returns (:func:`outcome_of`), which also covers a job that died without a word.

Display, chosen by :func:`display_for`:

- ``bar``: a tqdm bar on a terminal (stderr if it is one, else stdout), redrawn at most every
  ``poll_s``; it is erased when the sweep ends (the summary follows);
- ``lines``: plain lines on stdout when stdout is not a terminal (a log file, CI): none during
  the first ``interval_s`` (a short sweep stays quiet), then one every ``interval_s`` or every
  10% of the runs, whichever comes first. With a bar on stderr and stdout redirected to a file,
  both are shown: each stream gets the form that suits it;
- ``per_run``: one line per ended run (the basic launcher, whose runs print their own
  summaries in between);
- ``off``: ``progress=false``.
"""
from __future__ import annotations

import enum
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Iterable, Optional

from mfbench.results.markers import FAILED_MARKER, FINISHED_ALREADY, IN_PROGRESS_ELSEWHERE, RUNNING_MARKER
from mfbench.results.store import DONE_MARKER

if TYPE_CHECKING:
    from hydra.core.utils import JobReturn

#: a run's plain lines and the bar's description start with this
PREFIX = "mfbench: sweep progress"
#: plain lines: one as soon as this share of the runs ended since the last one
LINE_FRACTION = 0.1


class Outcome(str, enum.Enum):
    """What became of a launched run, as its job returned it."""

    COMPUTED = "computed"
    SKIPPED = "skipped"  # another sweep or job held it, or had just finished it
    FAILED = "failed"


def outcome_of(result: "JobReturn") -> Outcome:
    """The outcome of a run from what its job returned to the launcher."""
    from hydra.core.utils import JobStatus

    if result.status is not JobStatus.COMPLETED:
        return Outcome.FAILED
    if result._return_value in (IN_PROGRESS_ELSEWHERE, FINISHED_ALREADY):
        return Outcome.SKIPPED
    return Outcome.COMPUTED


class Live(str, enum.Enum):
    """What a launched run is doing now."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Counts:
    """How many of a sweep's launched runs are in each state."""

    total: int
    done: int = 0
    running: int = 0
    failed: int = 0
    queued: int = 0
    skipped: int = 0

    @property
    def ended(self) -> int:
        """Runs that will not change any more in this sweep (the basis of the estimate)."""
        return self.done + self.failed + self.skipped


def format_duration(seconds: float) -> str:
    """``42s``, ``3m05s``, ``2h03m``: short, and precise enough for a human waiting."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def estimate_left(counts: Counts, elapsed: float) -> Optional[float]:
    """Seconds left at the pace so far (runs ended per second of this sweep), None before any run ended.

    The pace is measured over the whole sweep, so it includes its parallelism and the time jobs
    wait in a queue; it starts pessimistic when many runs start together and converges.
    """
    if counts.ended == 0 or elapsed <= 0:
        return None
    return elapsed * (counts.total - counts.ended) / counts.ended


def format_counts(counts: Counts) -> str:
    """``3/9 done, 2 running, 0 failed, 4 queued`` (and ``, 1 skipped`` when there are some)."""
    text = f"{counts.done}/{counts.total} done, {counts.running} running, {counts.failed} failed, {counts.queued} queued"
    return text + (f", {counts.skipped} skipped" if counts.skipped else "")


def format_time(counts: Counts, elapsed: float) -> str:
    """``elapsed 42s, about 1m24s left``, or ``estimating time left...`` until a run has ended."""
    left = estimate_left(counts, elapsed)
    estimate = "estimating time left..." if left is None else f"about {format_duration(left)} left"
    return f"elapsed {format_duration(elapsed)}, {estimate}"


def format_line(counts: Counts, elapsed: float) -> str:
    """One plain progress line."""
    return f"{PREFIX}: {format_counts(counts)}; {format_time(counts, elapsed)}"


@dataclass(frozen=True)
class Display:
    """How a sweep shows its progress (see the module docstring).

    Attributes:
        bar: the terminal of the tqdm bar, or None for no bar.
        lines: plain lines on stdout, throttled (stdout is not a terminal).
        per_run: one plain line per ended run (an in-process launcher).
    """

    bar: Optional[IO[str]] = None
    lines: bool = False
    per_run: bool = False

    @property
    def off(self) -> bool:
        return self.bar is None and not self.lines and not self.per_run


def _is_tty(stream: Optional[IO[str]]) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


def display_for(enabled: bool, polled: bool, stdout: Optional[IO[str]] = None,
                stderr: Optional[IO[str]] = None) -> Display:
    """The display of a sweep.

    Args:
        enabled: the top-level ``progress`` option.
        polled: whether the launcher calls :meth:`SweepProgress.poll` while it waits (``local``,
            ``slurm``); otherwise runs are reported as they end (``per_run``).
        stdout, stderr: the streams (default: ``sys.stdout`` / ``sys.stderr``).
    """
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    if not enabled:
        return Display()
    if not polled:
        return Display(per_run=True)
    terminal = stderr if _is_tty(stderr) else (stdout if _is_tty(stdout) else None)
    return Display(bar=terminal, lines=not _is_tty(stdout))


def _identity(path: Path) -> Optional[tuple[int, int]]:
    """Which file ``path`` is (inode, mtime): a marker written anew (atomic rename, exclusive
    create) differs from the one there before, even when the inode number is reused."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns


_WATCHED = (DONE_MARKER, FAILED_MARKER, RUNNING_MARKER)


def _key(run_dir: str | os.PathLike[str]) -> str:
    return os.path.abspath(run_dir)


class SweepProgress:
    """The live display of one sweep (see the module docstring).

    Args:
        run_dirs: the directories of the runs this sweep launches.
        display: from :func:`display_for`.
        interval_s: plain lines: seconds between lines, and before the first one.
        poll_s: read the markers and redraw at most this often (SLURM: a shared file system).
        out: where plain lines go (default ``sys.stdout``).
        clock: seconds, monotonic (tests pass a fake one).
    """

    def __init__(self, run_dirs: Iterable[str | os.PathLike[str]], display: Display, interval_s: float = 30.0,
                 poll_s: float = 1.0, out: Optional[IO[str]] = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not interval_s > 0:
            raise ValueError(f"hydra.sweeper.progress_interval_s must be > 0, got {interval_s}")
        self.display = display
        self.interval_s = float(interval_s)
        self.poll_s = float(poll_s)
        self._out = out
        self._clock = clock
        self._start = clock()
        self._last_poll = -math.inf
        self._last_line = self._start
        self._ended_at_last_line = 0
        self._dirs = {_key(d): Path(d) for d in run_dirs}
        self._live = {key: Live.QUEUED for key in self._dirs}
        self._final: dict[str, Live] = {}
        # markers of an earlier attempt (a FAILED being retried, a killed job's RUNNING) do not count
        watched = display.bar is not None or display.lines
        self._before = {key: {name: _identity(path / name) for name in _WATCHED}
                        for key, path in self._dirs.items()} if watched else {}
        self._bar: Any = None
        if display.bar is not None and self._dirs:
            from tqdm import tqdm

            # a short fixed bar, so that the counts and the estimate fit on the line
            self._bar = tqdm(total=len(self._dirs), file=display.bar, leave=False, dynamic_ncols=True,
                             bar_format="sweep {percentage:3.0f}%|{bar:20}| {desc}", mininterval=0)
            self._draw()

    @property
    def elapsed(self) -> float:
        """Seconds since the display started (the launch)."""
        return self._clock() - self._start

    def counts(self) -> Counts:
        """The runs in each state, as last seen."""
        tally = {state: 0 for state in Live}
        for state in self._live.values():
            tally[state] += 1
        return Counts(len(self._live), done=tally[Live.DONE], running=tally[Live.RUNNING], failed=tally[Live.FAILED],
                      queued=tally[Live.QUEUED], skipped=tally[Live.SKIPPED])

    def _read(self, key: str) -> Live:
        """What the markers say about one unfinished run (only markers written since the start count)."""
        path, before = self._dirs[key], self._before[key]

        def fresh(name: str) -> bool:
            now = _identity(path / name)
            return now is not None and now != before[name]

        if fresh(DONE_MARKER):
            return Live.DONE
        if fresh(RUNNING_MARKER):
            return Live.RUNNING
        if fresh(FAILED_MARKER):
            return Live.FAILED
        return Live.QUEUED

    def poll(self, force: bool = False) -> None:
        """Read the markers of the unfinished runs and update the display (at most every ``poll_s``)."""
        if not self._before:
            return  # no live display (off, or one line per ended run)
        now = self._clock()
        if not force and now - self._last_poll < self.poll_s:
            return
        self._last_poll = now
        for key in self._dirs:
            if key not in self._final:
                self._live[key] = self._read(key)
        if self._bar is not None:
            self._draw()
        if self.display.lines:
            self._maybe_line(now)

    def ended(self, run_dir: str | os.PathLike[str], outcome: Outcome) -> None:
        """A run's job returned (authoritative over the markers); ``per_run`` prints a line."""
        key = _key(run_dir)
        if key not in self._live or key in self._final:
            return  # not ours, or told already (the sweeper repeats what the launcher said)
        state = {Outcome.COMPUTED: Live.DONE, Outcome.SKIPPED: Live.SKIPPED, Outcome.FAILED: Live.FAILED}[outcome]
        self._final[key] = self._live[key] = state
        counts = self.counts()
        if self.display.per_run and counts.ended < counts.total:  # the last one is the summary's
            self._print(format_line(counts, self.elapsed))
        if self._bar is not None:
            self._draw()

    def _maybe_line(self, now: float) -> None:
        """A plain line if it is time: not in the first ``interval_s`` (a short sweep stays quiet),
        then every ``interval_s`` or every 10% of the runs, whichever comes first; never for the
        last run (the summary says it)."""
        counts = self.counts()
        if counts.ended == counts.total:
            return
        since_start, since_line = now - self._start, now - self._last_line
        step = max(1, math.ceil(LINE_FRACTION * counts.total))
        if since_start >= self.interval_s and (since_line >= self.interval_s
                                               or counts.ended - self._ended_at_last_line >= step):
            self._last_line, self._ended_at_last_line = now, counts.ended
            self._print(format_line(counts, since_start))

    def _draw(self) -> None:
        counts = self.counts()
        self._bar.n = counts.ended
        self._bar.set_description_str(f"{format_counts(counts)}; {format_time(counts, self.elapsed)}", refresh=False)
        self._bar.refresh()

    def _print(self, line: str) -> None:
        print(line, file=self._out or sys.stdout, flush=True)

    def close(self) -> None:
        """Erase the bar (the sweep's summary follows)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class TrackedTask:
    """The task function of an in-process launcher (Hydra's basic one), reporting each run as it ends.

    Hydra's basic launcher runs every run of a batch in one call, with no hook between runs:
    wrapping the task function it calls is the one place that sees each run end. The run's
    directory is Hydra's ``runtime.output_dir``; its outcome is what the task returns, or
    failed if it raises (the exception goes on to Hydra, which records it as before).
    """

    def __init__(self, task_function: Callable[[Any], Any], progress: SweepProgress) -> None:
        self.task_function = task_function
        self.progress = progress

    def __call__(self, cfg: Any) -> Any:
        from hydra.core.hydra_config import HydraConfig

        run_dir = HydraConfig.get().runtime.output_dir
        try:
            value = self.task_function(cfg)
        except Exception:
            self.progress.ended(run_dir, Outcome.FAILED)
            raise
        skipped = value in (IN_PROGRESS_ELSEWHERE, FINISHED_ALREADY)
        self.progress.ended(run_dir, Outcome.SKIPPED if skipped else Outcome.COMPUTED)
        return value
