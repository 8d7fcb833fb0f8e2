"""The sweep's live display and end summary, with a fake clock (no assertion on real time)."""
from __future__ import annotations

import io
import pickle
from pathlib import Path

import pytest
from hydra.core.utils import JobReturn, JobStatus

from mfbench.results.markers import FINISHED_ALREADY, IN_PROGRESS_ELSEWHERE, RunState
from mfbench.results.store import RunDirectory
from mfbench.sweeps.launcher import LocalLauncher
from mfbench.sweeps.plan import Action, PlannedRun
from mfbench.sweeps.progress import (Counts, Display, Outcome, SweepProgress, display_for, estimate_left,
                                     format_duration, format_line, outcome_of)
from mfbench.sweeps.sweeper import _end_summary


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_durations_are_short_and_readable() -> None:
    assert [format_duration(s) for s in (0, 0.4, 42, 59.6, 60, 185, 3599, 3600, 7380, 90061)] == [
        "0s", "0s", "42s", "1m00s", "1m00s", "3m05s", "59m59s", "1h00m", "2h03m", "25h01m"]


def test_progress_line_says_estimating_until_a_run_ended_then_extrapolates() -> None:
    start = Counts(9, running=2, queued=7)
    assert estimate_left(start, 40.0) is None
    assert format_line(start, 40.0) == ("mfbench: sweep progress: 0/9 done, 2 running, 0 failed, 7 queued; "
                                        "elapsed 40s, estimating time left...")
    later = Counts(9, done=2, running=2, failed=1, queued=4)
    assert estimate_left(later, 42.0) == pytest.approx(42.0 * 6 / 3)
    assert format_line(later, 42.0) == ("mfbench: sweep progress: 2/9 done, 2 running, 1 failed, 4 queued; "
                                        "elapsed 42s, about 1m24s left")
    skipped = Counts(4, done=1, skipped=1, queued=2)
    assert format_line(skipped, 10.0).endswith("2 queued, 1 skipped; elapsed 10s, about 10s left")


def test_display_suits_the_streams() -> None:
    tty, log = Stream(True), Stream(False)
    assert display_for(False, polled=True, stdout=tty, stderr=tty).off
    assert display_for(True, polled=False, stdout=log, stderr=log) == Display(per_run=True)
    assert display_for(True, polled=True, stdout=tty, stderr=tty) == Display(bar=tty)
    assert display_for(True, polled=True, stdout=log, stderr=log) == Display(lines=True)
    both = display_for(True, polled=True, stdout=log, stderr=tty)  # `> sweep.log` on a terminal
    assert both.bar is tty and both.lines
    assert display_for(True, polled=True, stdout=tty, stderr=log) == Display(bar=tty)


def _runs(tmp_path: Path, n: int) -> list[Path]:
    return [tmp_path / f"run_{i}" for i in range(n)]


def test_plain_lines_are_quiet_at_first_then_every_interval_or_tenth_of_the_runs(tmp_path: Path) -> None:
    dirs = _runs(tmp_path, 20)
    RunState(dirs[5]).mark_running()
    RunState(dirs[5]).mark_failed(RuntimeError("an earlier attempt"))  # being retried: not failed now
    clock, out = Clock(), io.StringIO()
    progress = SweepProgress(dirs, Display(lines=True), interval_s=30, poll_s=1, out=out, clock=clock)

    RunState(dirs[0]).mark_running()
    clock.now += 10
    progress.poll()
    assert out.getvalue() == ""  # a short sweep stays quiet
    assert progress.counts() == Counts(20, running=1, queued=19)

    clock.now += 20  # 30 s: the first line
    progress.poll()
    assert out.getvalue().splitlines() == [
        "mfbench: sweep progress: 0/20 done, 1 running, 0 failed, 19 queued; elapsed 30s, estimating time left..."]

    clock.now += 0.25
    RunDirectory(dirs[0]).write({"a": [1]}, {"config_fingerprint": "f"})
    RunState(dirs[0]).mark_finished()
    progress.poll()  # within poll_s: not even read
    assert progress.counts().done == 0
    clock.now += 1
    progress.poll()  # read, but neither 30 s nor 2 runs (10%) since the last line
    assert progress.counts().done == 1 and len(out.getvalue().splitlines()) == 1

    RunState(dirs[1]).mark_running()
    RunState(dirs[1]).mark_failed(RuntimeError("boom"))
    clock.now += 1
    progress.poll()  # two runs ended since the last line: 10% of 20
    assert out.getvalue().splitlines()[-1] == ("mfbench: sweep progress: 1/20 done, 0 running, 1 failed, 18 queued; "
                                               "elapsed 32s, about 4m50s left")
    clock.now += 30
    progress.poll()  # nothing changed, but 30 s passed: a line all the same (the sweep is alive)
    assert len(out.getvalue().splitlines()) == 3

    for run_dir in dirs:
        progress.ended(run_dir, Outcome.COMPUTED)
    clock.now += 60
    progress.poll()
    assert len(out.getvalue().splitlines()) == 3  # the end is the summary's
    assert progress.counts() == Counts(20, done=20)


def test_job_outcomes_override_the_markers_and_stale_claims_do_not_count(tmp_path: Path) -> None:
    dirs = _runs(tmp_path, 3)
    RunState(dirs[0]).mark_running()  # a killed job's claim, left from before the sweep
    clock = Clock()
    progress = SweepProgress(dirs, Display(lines=True), interval_s=30, out=io.StringIO(), clock=clock)
    progress.poll(force=True)
    assert progress.counts() == Counts(3, queued=3)
    RunState(dirs[1]).mark_running()
    progress.poll(force=True)
    assert progress.counts() == Counts(3, running=1, queued=2)
    progress.ended(dirs[1], Outcome.FAILED)  # its job died: the RUNNING marker stays, the job says failed
    progress.ended(dirs[2], Outcome.SKIPPED)
    progress.ended(tmp_path / "not_ours", Outcome.COMPUTED)
    progress.poll(force=True)
    assert progress.counts() == Counts(3, failed=1, skipped=1, queued=1)


def test_per_run_lines_for_an_in_process_launcher(tmp_path: Path) -> None:
    dirs = _runs(tmp_path, 3)
    clock, out = Clock(), io.StringIO()
    progress = SweepProgress(dirs, Display(per_run=True), out=out, clock=clock)
    clock.now += 5
    progress.ended(dirs[0], Outcome.COMPUTED)
    progress.ended(dirs[0], Outcome.COMPUTED)  # the sweeper repeats what was said: one line
    progress.poll(force=True)  # nothing to poll
    clock.now += 5
    progress.ended(dirs[1], Outcome.FAILED)
    progress.ended(dirs[2], Outcome.COMPUTED)  # the last one: the summary says it
    assert out.getvalue().splitlines() == [
        "mfbench: sweep progress: 1/3 done, 0 running, 0 failed, 2 queued; elapsed 5s, about 10s left",
        "mfbench: sweep progress: 1/3 done, 0 running, 1 failed, 1 queued; elapsed 10s, about 5s left"]


def test_bar_is_drawn_erased_and_never_sent_to_the_jobs(tmp_path: Path) -> None:
    terminal = Stream(True)
    dirs = _runs(tmp_path, 2)
    progress = SweepProgress(dirs, Display(bar=terminal), out=io.StringIO(), clock=Clock())
    RunState(dirs[0]).mark_running()
    progress.poll(force=True)
    assert "0/2 done, 1 running, 0 failed, 1 queued; elapsed 0s, estimating time left..." in terminal.getvalue()
    launcher = LocalLauncher(submitit_folder="x", timeout_min=5)
    launcher.set_progress(progress)
    assert pickle.loads(pickle.dumps(launcher)).progress is None  # each job pickles its launcher
    assert launcher.progress is progress
    progress.close()
    progress.close()


def test_outcome_of_a_job_return() -> None:
    def result(status: JobStatus, value: object) -> JobReturn:
        ret = JobReturn(overrides=[], status=status)
        ret._return_value = value
        return ret

    assert outcome_of(result(JobStatus.COMPLETED, "computed")) is Outcome.COMPUTED
    assert outcome_of(result(JobStatus.COMPLETED, IN_PROGRESS_ELSEWHERE)) is Outcome.SKIPPED
    assert outcome_of(result(JobStatus.COMPLETED, FINISHED_ALREADY)) is Outcome.SKIPPED
    assert outcome_of(result(JobStatus.FAILED, RuntimeError("x"))) is Outcome.FAILED


def test_end_summary_counts_every_run_and_lists_each_failure_once(tmp_path: Path) -> None:
    def run(subdir: str, action: Action = Action.RUN) -> PlannedRun:
        return PlannedRun(["x"], sweep_dir=str(tmp_path), subdir=subdir, fingerprint="f", action=action)

    done, failed, held, late, rescued = run("a/0"), run("a/1"), run("a/2"), run("a/3"), run("a/4")
    plan = [done, failed, held, late, rescued, run("b/0", Action.SKIP_DONE), run("b/1", Action.SKIP_DONE),
            run("b/2", Action.SKIP_ACTIVE)]
    RunState(failed.run_dir).mark_running()
    RunState(failed.run_dir).mark_failed(RuntimeError("deliberate"))
    RunDirectory(rescued.run_dir).write({"a": [1]}, {"config_fingerprint": "f"})  # its job died after finishing it
    outcomes = [(done, Outcome.COMPUTED, "computed"), (failed, Outcome.FAILED, "RuntimeError: deliberate"),
                (held, Outcome.SKIPPED, IN_PROGRESS_ELSEWHERE), (late, Outcome.FAILED, "job 7 ended (CANCELLED)"),
                (rescued, Outcome.FAILED, "job 8 ended (TIMEOUT)")]
    summary, failures = _end_summary(tmp_path, plan, outcomes, 102.0)
    assert summary.splitlines() == [
        f"mfbench: sweep {tmp_path} ended after 1m42s: 8 runs: 2 of 5 launched runs computed, 2 failed (below), "
        f"2 skipped as finished, 2 skipped because another sweep or job held them (e.g. b/2)",
        f"  state of every run:  python -m mfbench.status {tmp_path}",
        f"  compare the methods: python -m mfbench.analysis {tmp_path}"]
    lines = failures.splitlines()
    assert lines[0] == "mfbench: 2 of 5 runs failed; the other runs' results are kept:"
    assert lines[1] == "  FAILED      a/1: RuntimeError: deliberate"
    assert lines[2] == f"              log: {failed.run_dir / 'FAILED'}"
    assert lines[3] == "  MISSING     a/3: job 7 ended (CANCELLED)"
    assert lines[4].startswith("Re-run the same command") and len(lines) == 5

    summary, failures = _end_summary(tmp_path, [done], [(done, Outcome.COMPUTED, "computed")], 3.0)
    assert summary.splitlines()[0] == (f"mfbench: sweep {tmp_path} ended after 3s: 1 runs: 1 of 1 launched runs "
                                       f"computed, 0 failed, 0 skipped as finished, 0 skipped because another sweep "
                                       f"or job held them")
    assert failures == ""
