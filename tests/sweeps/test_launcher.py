from __future__ import annotations

from pathlib import Path
from typing import Optional

import pytest

from mfbench.sweeps.launcher import LocalLauncher, RunGroup, group_runs


def test_cheap_runs_are_packed_and_matching_runs_get_own_jobs() -> None:
    runs = [["method=asha_stop", "seed=0"], ["method=mobster_joint", "seed=0"], ["method=asha_stop", "seed=1"],
            ["method=asha_prom", "seed=0"], ["method=mobster_indep", "seed=1"], ["method=asha_prom", "seed=1"],
            ["method=syncmobster", "seed=0"]]
    groups = group_runs(runs, 2, ["method=mobster*", "method=syncmobster"])
    assert groups == [RunGroup((1,), True), RunGroup((4,), True), RunGroup((6,), True),
                      RunGroup((0, 3), False), RunGroup((2, 5), False)]  # one asha_stop, one asha_prom each
    # dealt after sorting by the overrides other than the seed: asha_prom (3, 5), asha_stop (0, 2)
    # into 2 jobs of 2 -> (3, 0) and (5, 2); mobster_indep (4), mobster_joint (1), syncmobster (6)
    # into 2 jobs -> (4, 6) and (1); jobs in the order of their first run
    assert group_runs(runs, 3, ["method=mobster*", "method=syncmobster"], runs_per_own_job=2) == [
        RunGroup((1,), True), RunGroup((4, 6), True), RunGroup((0, 3), False), RunGroup((2, 5), False)]
    assert group_runs(runs[:3], 5, []) == [RunGroup((0, 1, 2), False)]
    assert group_runs([], 1, []) == []


def test_bad_grouping_options_are_refused() -> None:
    with pytest.raises(ValueError, match="runs_per_job must be >= 1"):
        group_runs([["seed=0"]], 0, [])
    with pytest.raises(ValueError, match="runs_per_own_job must be >= 1"):
        group_runs([["seed=0"]], 1, [], runs_per_own_job=0)
    with pytest.raises(ValueError, match="own_job_resources: unknown launcher field"):
        LocalLauncher(submitit_folder="x", timeout_min=5, own_job_resources={"cpus": 4})
    with pytest.raises(ValueError, match="array_parallelism must be >= 1"):
        LocalLauncher(submitit_folder="x", array_parallelism=-1)
    launcher = LocalLauncher(submitit_folder="x", timeout_min=5, cpus_per_task=1, array_parallelism=3,
                             runs_per_job=4, own_job_resources={"cpus_per_task": 2})
    assert (launcher.array_parallelism, launcher._params(True)["cpus_per_task"], launcher._params(False)["cpus_per_task"]) \
        == (3, 2, 1)


class _FakeJob:
    """A submitit job that ends after ``polls`` calls of ``done()``, with ``returns`` or an error."""

    def __init__(self, job_id: str, polls: int, returns: object) -> None:
        from types import SimpleNamespace

        self.job_id, self.polls, self.returns, self.state = job_id, polls, returns, "?"
        self.paths = SimpleNamespace(stdout=f"{job_id}.out", stderr=f"{job_id}.err")

    def done(self) -> bool:
        self.polls -= 1
        return self.polls < 0

    def result(self) -> object:
        assert self.polls < 0, "result() before done(): the wait would block on this job"
        if isinstance(self.returns, BaseException):
            raise self.returns
        return self.returns


def test_slurm_launcher_collects_jobs_as_they_end_and_updates_the_display(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import contextlib

    from hydra.core.utils import JobReturn, JobStatus

    from mfbench.sweeps import launcher as module
    from mfbench.sweeps.launcher import SlurmLauncher
    from mfbench.sweeps.progress import Counts, Display, SweepProgress

    def ok(*overrides: str) -> JobReturn:
        result = JobReturn(overrides=list(overrides), status=JobStatus.COMPLETED)
        result.return_value = "computed"
        return result

    runs = [["seed=0"], ["seed=1"], ["seed=2"]]
    jobs = iter([_FakeJob("7_0", 3, [ok("seed=0")]), _FakeJob("7_1", 0, [ok("seed=1")]),
                 _FakeJob("7_2", 1, RuntimeError("CANCELLED"))])
    executor = type("Executor", (), {"batch": lambda self: contextlib.nullcontext(),
                                     "submit": lambda self, task: next(jobs)})()
    monkeypatch.setattr(module, "_SLURM_POLL_S", 0.0)
    launcher = SlurmLauncher(submitit_folder=str(tmp_path / ".submitit"), runs_per_job=1)
    monkeypatch.setattr(launcher, "_executor", lambda params: executor)
    monkeypatch.setattr(launcher, "_task", lambda group, runs: None)
    dirs = {tuple(r): tmp_path / r[0] for r in runs}
    launcher.set_run_dirs(dirs)
    progress = SweepProgress(list(dirs.values()), Display(lines=True), interval_s=1e9, poll_s=0.0)
    ended: list[str] = []
    original = progress.ended
    monkeypatch.setattr(progress, "ended",
                        lambda run_dir, outcome: (ended.append(Path(run_dir).name), original(run_dir, outcome)))
    launcher.set_progress(progress)
    results: list[Optional[JobReturn]] = [None] * 3
    launcher._submit_and_wait(group_runs(runs, 1, []), [(r, i) for i, r in enumerate(runs)], results)
    assert ended == ["seed=1", "seed=2", "seed=0"]  # as they end, not in submission order
    assert [r.status for r in results] == [JobStatus.COMPLETED, JobStatus.COMPLETED, JobStatus.FAILED]
    assert "job 7_2 ended (?): CANCELLED; log: 7_2.err" in str(results[2]._return_value)
    assert progress.counts() == Counts(3, done=2, failed=1)
    assert (tmp_path / "seed=0" / "QUEUED").is_file()  # queued markers as before


def test_a_big_local_sweep_packs_its_cheap_runs_into_a_few_jobs_per_slot() -> None:
    from mfbench.sweeps.launcher import LocalLauncher

    launcher = LocalLauncher(array_parallelism=2, jobs_per_cpu=4, runs_per_job=4)
    cheap = [["method=asha_stop", f"seed={s}"] for s in range(1000)]
    assert launcher._max_shared_jobs() == 8
    assert len(group_runs(cheap[:6], 4, [], max_shared_jobs=8)) == 2  # small sweeps: runs_per_job
    groups = group_runs(cheap, 4, [], max_shared_jobs=8)  # 1,000 runs: 8 shared jobs, 4 per slot
    assert len(groups) == 8 and {len(g.indices) for g in groups} == {125}
    assert LocalLauncher(array_parallelism=2, jobs_per_cpu=None, runs_per_job=4)._max_shared_jobs() is None
    assert len(group_runs(cheap, 4, [])) == 250
    with pytest.raises(ValueError, match="own_jobs_per_cpu must be >= 1"):
        LocalLauncher(array_parallelism=2, own_jobs_per_cpu=0)
    with pytest.raises(ValueError, match="jobs_per_cpu must be >= 1"):
        LocalLauncher(array_parallelism=2, jobs_per_cpu=0)


def test_every_job_gets_an_even_share_of_each_method_whatever_the_sweep_order() -> None:
    """Runs differing only in their seed cost about the same: dealing them like cards makes jobs
    of about equal cost, so no slot of a throttled sweep idles at its end behind one long job."""
    methods = ["mobster_joint", "hypertune_joint", "hypertune_indep", "asha_stop", "bohb"]
    method_major = [[f"method={m}", f"seed={s}"] for m in methods for s in range(30)]
    seed_major = [[f"method={m}", f"seed={s}"] for s in range(30) for m in methods]
    launcher = LocalLauncher(array_parallelism=2, jobs_per_cpu=2, own_jobs_per_cpu=4, runs_per_job=4,
                             runs_per_own_job=2)
    assert (launcher._max_shared_jobs(), launcher._max_own_jobs()) == (4, 8)
    for runs in (method_major, seed_major):
        groups = group_runs(runs, 4, ["method=mobster*", "method=hypertune*"], 2, 4, 8)
        own = [g for g in groups if g.own]
        assert [g.own for g in groups] == [True] * 8 + [False] * 4  # own jobs first
        assert sorted(i for g in groups for i in g.indices) == list(range(len(runs)))  # each run once
        assert {len(g.indices) for g in own} == {11, 12}  # 90 runs in 8 jobs, sizes differ by one at most
        for group in own:
            per_method = [sum(runs[i][0] == f"method={m}" for i in group.indices) for m in methods[:3]]
            assert min(per_method) >= 3 and max(per_method) <= 4, per_method
            assert list(group.indices) == sorted(group.indices)
    assert LocalLauncher(array_parallelism=2, own_jobs_per_cpu=None)._max_own_jobs() is None


def test_jobs_are_started_ignoring_ctrl_c_and_the_sweep_keeps_it() -> None:
    """Ctrl-C reaches the terminal's whole process group: the jobs' controllers must leave the
    stopping to the sweep (SIGTERM to each job) instead of printing a traceback each."""
    import signal
    import subprocess
    import sys

    from mfbench.sweeps.launcher import _children_ignore_sigint

    before = signal.getsignal(signal.SIGINT)
    with _children_ignore_sigint():
        probe = "import signal; print(signal.getsignal(signal.SIGINT) == signal.SIG_IGN)"
        child = subprocess.Popen([sys.executable, "-c", probe], stdout=subprocess.PIPE, text=True)
    out, _ = child.communicate(timeout=60)
    assert out.strip() == "True"  # inherited, and Python keeps an ignored SIGINT ignored
    assert signal.getsignal(signal.SIGINT) is before
