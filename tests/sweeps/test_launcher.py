from __future__ import annotations

import pytest

from mfbench.sweeps.launcher import LocalLauncher, RunGroup, group_runs


def test_cheap_runs_are_packed_and_matching_runs_get_own_jobs() -> None:
    runs = [["method=asha_stop", "seed=0"], ["method=mobster_joint", "seed=0"], ["method=asha_stop", "seed=1"],
            ["method=asha_prom", "seed=0"], ["method=mobster_indep", "seed=1"], ["method=asha_prom", "seed=1"],
            ["method=syncmobster", "seed=0"]]
    groups = group_runs(runs, 2, ["method=mobster*", "method=syncmobster"])
    assert groups == [RunGroup((1,), True), RunGroup((4,), True), RunGroup((6,), True),
                      RunGroup((0, 2), False), RunGroup((3, 5), False)]
    assert group_runs(runs, 3, ["method=mobster*", "method=syncmobster"], runs_per_own_job=2) == [
        RunGroup((1, 4), True), RunGroup((6,), True), RunGroup((0, 2, 3), False), RunGroup((5,), False)]
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
