from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mfbench.results.markers import RunState
from mfbench.results.job_info import current_job, host_name
from mfbench.results.store import RunDirectory
from mfbench.sweeps.run_status import State, run_status, run_statuses, slurm_ids_of


def _done(path: Path, fingerprint: str = "f1") -> None:
    RunDirectory(path).write({"a": [1]}, {"config_fingerprint": fingerprint})


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _running(path: Path, **fields: object) -> None:
    path.mkdir(parents=True, exist_ok=True)
    record = {**current_job().to_dict(), **fields}
    (path / "RUNNING").write_text(json.dumps(record))


def test_done_missing_and_failed(tmp_path: Path) -> None:
    _done(tmp_path / "a", "abc")
    status = run_status(tmp_path / "a", {})
    assert (status.state, status.fingerprint) == (State.DONE, "abc")
    assert run_status(tmp_path / "nothing", {}).state is State.MISSING
    failed = tmp_path / "f"
    try:
        with RunState(failed).tracking():
            raise ValueError("boom")
    except ValueError:
        pass
    status = run_status(failed, {})
    assert status.state is State.FAILED and status.detail == "ValueError: boom"
    assert status.log_path == str(failed / "FAILED")  # no job log: the marker holds the traceback


def test_running_versus_interrupted_process(tmp_path: Path) -> None:
    _running(tmp_path / "alive")
    assert run_status(tmp_path / "alive", {}).state is State.RUNNING
    _running(tmp_path / "dead", pid=_dead_pid(), proc_start=None)
    status = run_status(tmp_path / "dead", {})
    assert status.state is State.INTERRUPTED and "is gone" in status.detail
    _running(tmp_path / "elsewhere", host="not-" + host_name())
    status = run_status(tmp_path / "elsewhere", {})
    assert status.state is State.RUNNING and "cannot be checked" in status.detail
    _done(tmp_path / "dead")  # killed after its DONE marker: done
    assert run_status(tmp_path / "dead", {}).state is State.DONE


def test_slurm_states_decide_for_slurm_runs(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "12_0_0_log.err").write_text("Traceback ...\n")
    _running(tmp_path / "r", slurm_job_id="12_0", host="node7", log_paths=[str(logs / "12_0_0_log.out"),
                                                                            str(logs / "12_0_0_log.err")])
    assert slurm_ids_of([tmp_path / "r"]) == {"12_0"}
    assert run_status(tmp_path / "r", {"12_0": "RUNNING"}).state is State.RUNNING
    cancelled = run_status(tmp_path / "r", {"12_0": "CANCELLED"})
    assert cancelled.state is State.FAILED and "ended as CANCELLED" in cancelled.detail
    assert cancelled.log_path == str(logs / "12_0_0_log.err") and cancelled.job_id == "12_0"

    RunState(tmp_path / "q").mark_queued("13_1", "slurm", [str(logs / "13_1_0_log.err")], ["seed=1"])
    assert run_status(tmp_path / "q", {"13_1": "PENDING"}).state is State.QUEUED
    status = run_status(tmp_path / "q", {"13_1": "CANCELLED"})
    assert status.state is State.FAILED and "before this run started" in status.detail


def test_local_queued_run(tmp_path: Path) -> None:
    me = current_job()
    RunState(tmp_path / "q").mark_queued("1", "local", [], None, {"host": me.host, "pid": me.pid,
                                                                  "proc_start": me.proc_start})
    assert run_status(tmp_path / "q", {}).state is State.QUEUED
    RunState(tmp_path / "gone").mark_queued("1", "local", [], None, {"host": me.host, "pid": _dead_pid()})
    assert run_status(tmp_path / "gone", {}).state is State.INTERRUPTED
    assert [s.state for s in run_statuses([tmp_path / "q", tmp_path / "gone"])] == [State.QUEUED, State.INTERRUPTED]
    assert os.getpid() == me.pid


def test_a_run_stopped_at_its_slurm_time_limit_says_so_and_names_the_fix(tmp_path: Path) -> None:
    from mfbench.results.markers import RunTerminated

    job = {**current_job().to_dict(), "slurm_job_id": "14_2", "host": "node3"}
    (tmp_path / "sigterm").mkdir()
    RunState(tmp_path / "sigterm").mark_failed(RunTerminated(), job=job)  # the run caught SIGTERM at the limit
    _running(tmp_path / "no_marker", slurm_job_id="14_3", host="node3")  # SIGKILLed before it could write one
    for name, job_id in (("sigterm", "14_2"), ("no_marker", "14_3")):
        status = run_status(tmp_path / name, {job_id: "TIMEOUT"})
        assert status.state is State.FAILED and status.job_id == job_id
        assert status.detail.startswith(f"time limit reached (SLURM job {job_id}: TIMEOUT; "), status.detail
        assert "hydra.launcher.timeout_min=" in status.detail
    cancelled = run_status(tmp_path / "sigterm", {"14_2": "CANCELLED"})
    assert cancelled.detail.startswith("terminated by SIGTERM") and "(SLURM job 14_2: CANCELLED)" in cancelled.detail
    RunState(tmp_path / "queued").mark_queued("14_4", "slurm", [], ["seed=4"])
    status = run_status(tmp_path / "queued", {"14_4": "TIMEOUT"})
    assert "ended as TIMEOUT before this run started" in status.detail and "hydra.launcher.timeout_min=" in status.detail


def test_a_finished_run_whose_results_were_truncated_is_corrupt_and_rerun(tmp_path):
    from mfbench.sweeps.run_status import TO_RUN

    _done(tmp_path / "run")
    results = tmp_path / "run" / "results.parquet"
    results.write_bytes(results.read_bytes()[:10])
    status = run_status(tmp_path / "run", {})
    assert status.state is State.CORRUPT and status.state in TO_RUN
    assert "results.parquet is 10 bytes" in status.detail and "re-run redoes it" in status.detail
    assert status.fingerprint is None
