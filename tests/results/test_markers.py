from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from mfbench.results.markers import (FAILED_MARKER, QUEUED_MARKER, RUNNING_MARKER, RunState, RunTerminated,
                                       describe_failure)


def test_tracking_a_run_that_finishes_leaves_no_marker(tmp_path: Path) -> None:
    state = RunState(tmp_path / "run")
    state.mark_queued("12_0", "slurm", ["a.out", "a.err"], ["seed=0"])
    with state.tracking() as record:
        assert record["pid"] == os.getpid()
        assert state.read(RUNNING_MARKER)["pid"] == os.getpid()
        assert not state.marker(QUEUED_MARKER).exists()  # the run started: no longer queued
    assert sorted(p.name for p in state.path.iterdir()) == []


def test_tracking_a_run_that_raises_writes_failed(tmp_path: Path) -> None:
    state = RunState(tmp_path)
    with pytest.raises(ZeroDivisionError):
        with state.tracking():
            1 / 0
    failed = state.read(FAILED_MARKER)
    assert not state.marker(RUNNING_MARKER).exists()
    assert failed["reason"] == "ZeroDivisionError: division by zero"
    assert failed["job"]["pid"] == os.getpid()
    assert any("1 / 0" in line for line in failed["traceback"])
    with state.tracking():  # a later successful attempt clears the failure
        pass
    assert not state.marker(FAILED_MARKER).exists()


def test_sigterm_during_a_run_is_recorded(tmp_path: Path) -> None:
    state = RunState(tmp_path)
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(RunTerminated) as raised:
        with state.tracking():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(10)  # interrupted by the handler
    assert raised.value.code == 128 + signal.SIGTERM
    assert state.read(FAILED_MARKER)["reason"].startswith("terminated by SIGTERM")
    assert signal.getsignal(signal.SIGTERM) == before


def test_queued_marker_is_not_written_over_a_started_run(tmp_path: Path) -> None:
    state = RunState(tmp_path)
    state.mark_running()
    state.mark_queued("7", "local", [], None, {"host": "h", "pid": 7})
    assert not state.marker(QUEUED_MARKER).exists()
    state.mark_finished()
    (tmp_path / "DONE").write_text("complete\n")
    state.mark_queued("7", "local", [], None)
    assert not state.marker(QUEUED_MARKER).exists()


def test_describe_failure() -> None:
    assert describe_failure(KeyboardInterrupt()) == "interrupted by Ctrl-C (SIGINT)"
    assert describe_failure(ValueError("bad\nmore")) == "ValueError: bad"

    class UncompletedJobError(RuntimeError):
        pass

    assert describe_failure(UncompletedJobError("Job not requeued because: timed-out too many times.")).startswith(
        "time limit reached")
    assert "hydra.launcher.timeout_min=" in describe_failure(UncompletedJobError("timed-out too many times."))


def _claim_of(pid: int, host: str | None = None) -> dict:
    from mfbench.results.job_info import host_name, process_start_ticks

    return {"host": host or host_name(), "pid": pid, "proc_start": process_start_ticks(pid),
            "started_at": "2026-01-01T00:00:00+00:00", "executor": "process"}


def test_a_run_claimed_by_a_live_process_is_not_computed_again(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    from mfbench.results.markers import RunInProgress

    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        tmp_path.mkdir(exist_ok=True)
        (tmp_path / RUNNING_MARKER).write_text(json.dumps(_claim_of(other.pid)))
        with pytest.raises(RunInProgress, match=f"pid {other.pid} .* is computing it"):
            with RunState(tmp_path).tracking():
                raise AssertionError("must not run")
        assert json.loads((tmp_path / RUNNING_MARKER).read_text())["pid"] == other.pid  # the claim is untouched
        assert not (tmp_path / FAILED_MARKER).exists()
    finally:
        other.kill()
        other.wait()


def test_a_live_claim_for_another_config_is_a_conflict_not_a_skip(tmp_path: Path) -> None:
    """Two sweeps with different configs on one folder: the second must not take the first's
    run for its own (it would report the run done while it holds another config)."""
    import json
    import subprocess
    import sys

    from mfbench.results.markers import RunInProgress, claimed_fingerprint
    from mfbench.results.store import FinishedRunExists

    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        tmp_path.mkdir(exist_ok=True)
        (tmp_path / RUNNING_MARKER).write_text(json.dumps({**_claim_of(other.pid), "config_fingerprint": "A"}))
        with pytest.raises(FinishedRunExists, match="is computing a run with a different configuration here"):
            RunState(tmp_path).claim("B")
        with pytest.raises(RunInProgress, match="is computing it"):
            RunState(tmp_path).claim("A")  # the same run: skipped, as before
        assert claimed_fingerprint(json.loads((tmp_path / RUNNING_MARKER).read_text())) == "A"  # the claim is untouched
    finally:
        other.kill()
        other.wait()
    record = RunState(tmp_path / "mine").claim("C")
    assert record["config_fingerprint"] == "C" and claimed_fingerprint(record) == "C"


def test_a_stale_claim_of_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / RUNNING_MARKER).write_text(json.dumps(_claim_of(dead.pid) | {"proc_start": 1}))
    with RunState(tmp_path).tracking() as record:
        assert record["pid"] == os.getpid()
        assert json.loads((tmp_path / RUNNING_MARKER).read_text())["pid"] == os.getpid()
    assert not (tmp_path / RUNNING_MARKER).exists()


def test_a_claim_from_another_host_is_respected_with_a_hint(tmp_path: Path) -> None:
    import json

    from mfbench.results.markers import RunInProgress

    (tmp_path / RUNNING_MARKER).write_text(json.dumps(_claim_of(12345, host="elsewhere-node")))
    with pytest.raises(RunInProgress, match="cannot be checked from this host; if it is not running, delete"):
        RunState(tmp_path).claim()


def test_only_one_of_many_concurrent_claims_wins(tmp_path: Path) -> None:
    import subprocess
    import sys

    run, go, end = tmp_path / "run", tmp_path / "go", tmp_path / "end"
    child = (
        "import pathlib, sys, time\n"
        "from mfbench.results.markers import RunInProgress, RunState\n"
        f"go, end = pathlib.Path({str(go)!r}), pathlib.Path({str(end)!r})\n"
        "while not go.exists(): time.sleep(0.001)\n"
        "try:\n    RunState(sys.argv[1]).claim(); print('won', flush=True)\n"
        "except RunInProgress: print('lost', flush=True)\n"
        "while not end.exists(): time.sleep(0.01)\n"  # the winner stays alive: its claim is not stale
    )
    children = [subprocess.Popen([sys.executable, "-c", child, str(run)], stdout=subprocess.PIPE, text=True)
                for _ in range(6)]
    time.sleep(1.0)  # all started and polling
    go.touch()
    time.sleep(1.5)
    end.touch()
    outcomes = [c.communicate(timeout=30)[0].strip() for c in children]
    assert sorted(outcomes) == ["lost"] * 5 + ["won"]


def test_a_skipped_run_releases_its_claim_without_a_failure(tmp_path: Path) -> None:
    from mfbench.results.markers import RunSkipped

    with pytest.raises(RunSkipped):
        with RunState(tmp_path).tracking():
            raise RunSkipped("finished meanwhile")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_no_failed_marker_beside_a_finished_run(tmp_path: Path) -> None:
    from mfbench.results.store import RunDirectory

    RunDirectory(tmp_path).write({"a": [1]}, {"config_fingerprint": "f"})
    with pytest.raises(ValueError):
        with RunState(tmp_path).tracking():  # e.g. an overwrite=true rerun that fails
            raise ValueError("boom")
    assert not (tmp_path / FAILED_MARKER).exists() and not (tmp_path / RUNNING_MARKER).exists()
    assert RunDirectory(tmp_path).is_complete()


def test_markers_and_results_respect_the_umask(tmp_path: Path) -> None:
    from mfbench.results.store import RunDirectory

    old = os.umask(0o022)
    try:
        RunDirectory(tmp_path / "run").write({"a": [1]}, {"config_fingerprint": "f"})
        RunState(tmp_path / "other").claim()
    finally:
        os.umask(old)
    for path in [*(tmp_path / "run").iterdir(), tmp_path / "other" / RUNNING_MARKER]:
        assert path.stat().st_mode & 0o777 == 0o644, path
