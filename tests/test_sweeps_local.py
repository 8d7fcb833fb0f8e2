"""Sweeps end to end on this machine: the local submitit launcher, resume after SIGKILL, the
status command before and after, failure containment, invalid sweeps, experiment presets.

Every test runs real ``python -m mfbench -m ...`` processes in a temporary directory.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "sweeps" / "support"))
import harness  # noqa: E402

LOCAL = ["hydra/launcher=local", "hydra.launcher.array_parallelism=2"]
GRID = ["method=asha_stop,asha_prom", "seed=0,1,2"]
RUNS = [f"hartmann3/{m}/seed_{s}" for m in ("asha_stop", "asha_prom") for s in (0, 1, 2)]


def test_local_launcher_results_are_identical_to_basic_sweep_and_single_runs(tmp_path: Path) -> None:
    local = harness.mfbench(tmp_path, ["-m", *LOCAL, "hydra.launcher.runs_per_job=3", "hydra.sweep.dir=by_local", *GRID])
    assert local.returncode == 0, local.stderr[-3000:]
    assert "launching 6 runs in 2 local jobs" in local.stdout
    basic = harness.mfbench(tmp_path, ["-m", "hydra.sweep.dir=by_basic", *GRID])
    assert basic.returncode == 0, basic.stderr[-3000:]
    for method, seed in (("asha_prom", 2),):
        single = harness.mfbench(tmp_path, [f"method={method}", f"seed={seed}", f"hydra.run.dir=single/{method}_{seed}"])
        assert single.returncode == 0, single.stderr[-3000:]
        assert harness.comparable(tmp_path / "single" / f"{method}_{seed}") == harness.comparable(
            tmp_path / "by_local" / "hartmann3" / method / f"seed_{seed}")
    for run in RUNS:
        results, metadata = harness.comparable(tmp_path / "by_local" / run)
        assert (results, metadata) == harness.comparable(tmp_path / "by_basic" / run), run
        assert len(results) > 1000 and metadata["num_results"] > 100
    report = harness.status(tmp_path, "by_local")
    assert harness.states(report) == {run: "done" for run in RUNS}
    assert report["commands"] == []


@pytest.mark.parametrize("launcher", ["basic", "local"])
def test_sweep_killed_with_sigkill_resumes_only_unfinished_runs(tmp_path: Path, launcher: str) -> None:
    gate = tmp_path / "gate"
    env = harness.environment(tmp_path, MFBENCH_TEST_GATE=str(gate))
    extra = [] if launcher == "basic" else [
        *LOCAL, "hydra.launcher.array_parallelism=3", "hydra.launcher.runs_per_job=2",
        "hydra.launcher.own_job=['method=gated']", "hydra.launcher.runs_per_own_job=1"]
    command = ["-m", harness.SEARCHPATH, *extra, "method=asha_stop,gated", "seed=0,1", "experiment_name=kill"]
    sweep = tmp_path / "outputs" / "kill"
    done = {f"hartmann3/asha_stop/seed_{s}": "done" for s in (0, 1)}
    # basic: one process runs the grid in order and blocks at gated/seed_0; local: both gated jobs start
    blocked = ({"hartmann3/gated/seed_0": "running", "hartmann3/gated/seed_1": "missing"} if launcher == "basic"
               else {f"hartmann3/gated/seed_{s}": "running" for s in (0, 1)})

    process = harness.start(tmp_path, command, env, tmp_path / "sweep.log")
    try:
        harness.wait_for(lambda: harness.states_now(sweep) == {**done, **blocked}, 90, f"states {blocked}",
                         process=process)
        running = harness.status(tmp_path, "outputs/kill")  # the CLI, while the sweep runs
        assert harness.states(running) == {**done, **blocked}
    finally:
        harness.kill_group(process)  # the launching process and its jobs
    before = harness.status(tmp_path, "outputs/kill")
    interrupted = {run: ("interrupted" if state == "running" else state) for run, state in blocked.items()}
    assert harness.states(before) == {**done, **interrupted}
    for run in before["runs"]:
        if run["state"] == "interrupted":
            assert "is gone" in run["detail"]
    assert len(before["commands"]) == 1 and "method=gated" in before["commands"][0]
    assert "seed=0,1" in before["commands"][0]
    untouched = {run: harness.snapshot(sweep / run) for run in done}

    gate.touch()
    rerun = harness.mfbench(tmp_path, command, env)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "4 runs: 2 finished (skipped), 0 running elsewhere (skipped), 2 to run" in rerun.stdout
    assert rerun.stdout.count("mfbench: gated on hartmann3") == (2 if launcher == "basic" else 0)
    after = harness.status(tmp_path, "outputs/kill")
    assert set(harness.states(after).values()) == {"done"} and len(after["runs"]) == 4
    assert after["commands"] == []
    assert {run: harness.snapshot(sweep / run) for run in done} == untouched
    assert not [p for p in sweep.rglob("*.tmp") if ".submitit" not in p.parts]
    import pyarrow.parquet as pq

    for run in after["runs"]:
        assert pq.read_table(sweep / run["subdir"] / "results.parquet").num_rows > 100


def test_crashing_run_is_contained_and_reported_with_its_log(tmp_path: Path) -> None:
    record = tmp_path / "threads"
    env = harness.environment(tmp_path, MFBENCH_TEST_FAIL="1", MFBENCH_TEST_RECORD=str(record),
                              MFBENCH_TEST_RECORD_TORCH="1")
    # one job runs both: the crash of the first run must not prevent the second
    command = ["-m", harness.SEARCHPATH, *LOCAL, "hydra.launcher.runs_per_job=2", "hydra.launcher.cpus_per_task=1",
               "method=gated,asha_stop", "seed=0", "experiment_name=crash"]
    sweep = harness.mfbench(tmp_path, command, env)
    assert sweep.returncode == 1, sweep.stderr[-3000:]
    assert "1 of 2 runs failed" in sweep.stderr
    assert "2 runs: 1 of 2 launched runs computed, 1 failed (below), 0 skipped as finished" in sweep.stdout
    assert "python -m mfbench.status outputs/crash" in sweep.stdout and sweep.stderr.count("deliberate failure") == 1
    assert "hartmann3/gated/seed_0: RuntimeError: deliberate failure of the gated test method" in sweep.stderr
    log = Path(tmp_path / sweep.stderr.split("log: ")[1].split()[0])
    assert log.suffix == ".err" and "deliberate failure" in log.read_text()
    report = harness.status(tmp_path, "outputs/crash")
    assert harness.states(report) == {"hartmann3/asha_stop/seed_0": "done", "hartmann3/gated/seed_0": "failed"}
    failed = next(r for r in report["runs"] if r["state"] == "failed")
    assert "deliberate failure" in failed["detail"] and failed["log_path"].endswith(".err")
    threads = [json.loads(p.read_text()) for p in record.glob("*.json")]
    assert threads == [{"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                        "torch_threads": 1}]

    fixed = harness.mfbench(tmp_path, command, harness.environment(tmp_path))
    assert fixed.returncode == 0, fixed.stderr[-3000:]
    assert "1 finished (skipped), 0 running elsewhere (skipped), 1 to run (1 failed)" in fixed.stdout
    assert set(harness.states(harness.status(tmp_path, "outputs/crash")).values()) == {"done"}


def test_sweep_with_unknown_method_or_conflicting_run_launches_nothing(tmp_path: Path) -> None:
    bad = harness.mfbench(tmp_path, ["-m", "method=asha_stop,no_such_method", "seed=0,1", "experiment_name=bad"])
    assert bad.returncode == 2
    assert "nothing was launched" in bad.stderr and "no_such_method" in bad.stderr
    assert "unknown method 'no_such_method' (2 runs)" in bad.stderr
    assert "asha_stop" in bad.stderr.split("method options (conf/method/): ")[1].splitlines()[0]
    assert not (tmp_path / "outputs" / "bad").exists()

    first = harness.mfbench(tmp_path, ["method=asha_stop", "seed=0", "experiment_name=c"])
    assert first.returncode == 0, first.stderr[-3000:]
    changed = ["-m", "method=asha_stop", "seed=0,1", "experiment_name=c", "stopping.max_num_evaluations=50"]
    conflict = harness.mfbench(tmp_path, changed)
    assert conflict.returncode == 2 and "overwrite=true" in conflict.stderr
    assert "outputs/c/hartmann3/asha_stop/seed_0 holds a finished run with a different configuration" in conflict.stderr
    assert not (tmp_path / "outputs" / "c" / "hartmann3" / "asha_stop" / "seed_1").exists()


def test_experiment_presets(tmp_path: Path) -> None:
    quick = harness.mfbench(tmp_path, ["-m", "experiment=quick", "hydra.sweeper.dry_run=true"])
    assert quick.returncode == 0, quick.stderr[-3000:]
    assert "sweep outputs/quick: 9 runs: 0 finished (skipped), 0 running elsewhere (skipped), 9 to run" in quick.stdout
    assert "would run hartmann3/random_search/seed_2 (missing)" in quick.stdout
    assert not (tmp_path / "outputs").exists()  # a dry run writes nothing

    tutorial = harness.mfbench(tmp_path, ["-m", "experiment=mf_tutorial", "hydra.sweeper.dry_run=true"])
    methods = ["asha_stop", "asha_prom", "asha6_stop", "mobster_joint", "mobster_indep", "hypertune_indep",
               "hypertune4_indep", "hypertune_joint", "synchb", "syncsh", "syncmobster", "bohb", "dehb"]
    conf = harness.REPO / "conf"
    missing = [m for m in methods if not (conf / "method" / f"{m}.yaml").is_file()]
    if not (conf / "benchmark" / "nas201_cifar100.yaml").is_file():
        assert tutorial.returncode != 0 and "nas201_cifar100" in tutorial.stderr
    elif missing:
        assert tutorial.returncode == 2 and "nothing was launched" in tutorial.stderr
        assert f"unknown method: {missing[0]} (30 runs)" in tutorial.stderr
    else:
        assert tutorial.returncode == 0, tutorial.stderr[-3000:]
        assert "sweep outputs/mf_tutorial: 390 runs" in tutorial.stdout


def test_two_identical_sweeps_at_once_compute_every_run_once(tmp_path: Path) -> None:
    """A second sweep on the same folder skips the runs the first one holds (their claims), and
    the other way round; neither leaves a FAILED or RUNNING marker, and both say what they skipped."""
    import re
    import time

    grid = ["benchmark=nas201_offline_cifar100", "method=asha_stop,asha_prom,random_search", "seed=0,1,2,3",
            "experiment_name=twice", "progress=false", *LOCAL, "hydra.launcher.runs_per_job=2"]
    env = harness.environment(tmp_path)
    warm = harness.mfbench(tmp_path, ["benchmark=nas201_offline_cifar100", "hydra.run.dir=warm", "progress=false"],
                           env)  # builds the offline table once, so both sweeps start at the same point
    assert warm.returncode == 0, warm.stderr[-2000:]
    first = harness.start(tmp_path, ["-m", *grid], env, tmp_path / "first.log")
    time.sleep(0.5)
    second = harness.start(tmp_path, ["-m", *grid], env, tmp_path / "second.log")
    assert first.wait(timeout=300) == 0 and second.wait(timeout=300) == 0
    sweep = tmp_path / "outputs" / "twice"
    logs = "".join(p.read_text(errors="replace") for p in (sweep / ".submitit").rglob("*.out"))
    logs += (tmp_path / "first.log").read_text() + (tmp_path / "second.log").read_text()
    computed = re.findall(r"files: (\S+)/results\.parquet", logs)
    assert sorted(computed) == sorted(set(computed)) and len(computed) == 12, computed
    assert not [p for p in sweep.rglob("*") if p.name in ("FAILED", "RUNNING", "QUEUED")]
    summaries = re.findall(r"(\d+) of (\d+) launched runs computed", logs)
    assert sum(int(done) for done, _ in summaries) == 12
    report = harness.status(tmp_path, "outputs/twice")
    assert set(harness.states(report).values()) == {"done"} and len(report["runs"]) == 12


def test_sigterm_to_a_local_sweep_stops_its_jobs_and_a_rerun_finishes_it(tmp_path: Path) -> None:
    import signal

    gate = tmp_path / "gate"
    env = harness.environment(tmp_path, MFBENCH_TEST_GATE=str(gate))
    command = ["-m", harness.SEARCHPATH, *LOCAL, "hydra.launcher.runs_per_job=1", "method=gated", "seed=0,1,2",
               "experiment_name=term"]
    sweep = tmp_path / "outputs" / "term"
    process = harness.start(tmp_path, command, env, tmp_path / "sweep.log")
    try:
        harness.wait_for(lambda: list(harness.states_now(sweep).values()).count("running") == 2, 90,
                         "two running jobs", process=process)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=90) != 0
    finally:
        harness.kill_group(process)
    log = (tmp_path / "sweep.log").read_text()
    assert "sweep stopped by SIGTERM: 2 running job(s) were sent SIGTERM" in log
    assert "1 run(s) were never started" in log
    states = harness.states(harness.status(tmp_path, "outputs/term"))
    assert sorted(states.values()) == ["failed", "failed", "missing"], states  # no orphan still running
    gate.touch()
    rerun = harness.mfbench(tmp_path, command, env)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert set(harness.states(harness.status(tmp_path, "outputs/term")).values()) == {"done"}


def test_a_local_sweep_not_on_a_terminal_reports_progress_in_plain_lines_then_a_summary(tmp_path: Path) -> None:
    """Two gated runs are held while two quick ones finish: the lines show it, with an estimate
    once a run has ended; the jobs' own simulated-time bars stay off (their stderr is a file)."""
    gate = tmp_path / "gate"
    env = harness.environment(tmp_path, MFBENCH_TEST_GATE=str(gate))
    command = ["-m", harness.SEARCHPATH, *LOCAL, "hydra.launcher.array_parallelism=3", "hydra.launcher.runs_per_job=1",
               "hydra.launcher.own_job=['method=gated']", "hydra.launcher.runs_per_own_job=1",
               "hydra.sweeper.progress_interval_s=0.2",
               "method=gated,asha_stop", "seed=0,1", "experiment_name=talk"]
    log = tmp_path / "sweep.log"
    held = "mfbench: sweep progress: 2/4 done, 2 running, 0 failed, 0 queued; elapsed "
    process = harness.start(tmp_path, command, env, log)
    try:
        harness.wait_for(lambda: held in log.read_text(), 90, "a progress line with the gated runs held",
                         process=process)
        gate.touch()
        assert process.wait(timeout=90) == 0, log.read_text()[-3000:]
    finally:
        harness.kill_group(process)
    text = log.read_text()
    lines = [line for line in text.splitlines() if line.startswith("mfbench: sweep progress: ")]
    for line in lines:  # an estimate only once a run has ended
        assert line.endswith("estimating time left...") == line.startswith("mfbench: sweep progress: 0/"), line
    assert all(" left" in line for line in lines) and "\r" not in text  # plain lines, no bar
    assert not any(line.startswith("mfbench: sweep progress: 4/4") for line in lines)  # the summary says the end
    summary = text.split("mfbench: sweep outputs/talk ended after ")[1].splitlines()
    assert "4 runs: 4 of 4 launched runs computed, 0 failed, 0 skipped as finished, 0 skipped because another " \
           "sweep or job held them" in summary[0]
    assert summary[1:3] == ["  state of every run:  python -m mfbench.status outputs/talk",
                            "  compare the methods: python -m mfbench.analysis outputs/talk"]
    job_logs = "".join(p.read_text(errors="replace") for p in (tmp_path / "outputs/talk/.submitit").rglob("*.err"))
    assert "passed its gate" in job_logs and "simulating" not in job_logs and "sim-s" not in job_logs


def test_the_basic_launcher_reports_each_run_and_progress_false_silences_it(tmp_path: Path) -> None:
    talk = harness.mfbench(tmp_path, ["-m", "method=asha_stop", "seed=0,1,2", "experiment_name=basic"])
    assert talk.returncode == 0, talk.stderr[-3000:]
    lines = [line for line in talk.stdout.splitlines() if line.startswith("mfbench: sweep progress: ")]
    assert [line.split(";")[0] for line in lines] == [
        "mfbench: sweep progress: 1/3 done, 0 running, 0 failed, 2 queued",
        "mfbench: sweep progress: 2/3 done, 0 running, 0 failed, 1 queued"]
    assert "3 runs: 3 of 3 launched runs computed, 0 failed" in talk.stdout
    quiet = harness.mfbench(tmp_path, ["-m", "method=asha_stop,asha_prom", "seed=0,1", "experiment_name=basic",
                                       "progress=false"])
    assert quiet.returncode == 0, quiet.stderr[-3000:]
    assert "sweep progress" not in quiet.stdout + quiet.stderr
    assert "4 runs: 2 of 2 launched runs computed, 0 failed, 2 skipped as finished" in quiet.stdout
