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
