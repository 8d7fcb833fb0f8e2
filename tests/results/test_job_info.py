from __future__ import annotations

import os
import subprocess
import sys

from mfbench.results.job_info import (JobInfo, Liveness, current_job, host_name, liveness, process_liveness,
                                     slurm_job_id_from_env, slurm_states)


def test_current_job_describes_this_process(monkeypatch) -> None:
    for name in ("SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID", "SUBMITIT_EXECUTOR"):
        monkeypatch.delenv(name, raising=False)
    job = current_job()
    assert (job.pid, job.host, job.executor, job.slurm_job_id) == (os.getpid(), host_name(), "process", None)
    assert JobInfo.from_dict(job.to_dict()) == job
    assert process_liveness(job) is Liveness.ALIVE


def test_dead_reused_and_foreign_processes() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    base = current_job()
    assert process_liveness(JobInfo(base.host, child.pid, None, "t")) is Liveness.DEAD
    if base.proc_start is not None:  # same pid, other start time: the pid was reused
        assert process_liveness(JobInfo(base.host, base.pid, base.proc_start + 1, "t")) is Liveness.DEAD
    assert process_liveness(JobInfo("some-other-host", base.pid, None, "t")) is Liveness.UNKNOWN


def test_slurm_ids_and_states() -> None:
    assert slurm_job_id_from_env({"SLURM_JOB_ID": "17"}) == "17"
    assert slurm_job_id_from_env({"SLURM_JOB_ID": "18", "SLURM_ARRAY_JOB_ID": "12", "SLURM_ARRAY_TASK_ID": "3"}) == "12_3"
    assert slurm_job_id_from_env({}) is None
    assert slurm_states([]) == {}
    job = JobInfo("some-other-host", 1, None, "t", executor="slurm", slurm_job_id="12_3")
    assert liveness(job, "RUNNING") is Liveness.ALIVE
    assert liveness(job, "PENDING") is Liveness.ALIVE
    assert liveness(job, "CANCELLED") is Liveness.DEAD
    assert liveness(job, "TIMEOUT") is Liveness.DEAD
    assert "SLURM job 12_3" in job.describe()
