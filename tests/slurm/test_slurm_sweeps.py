"""Sweeps on a real SLURM cluster (``pytest -m slurm``; ``.ci/slurm-tests.sh`` starts one).

- a ``-m`` sweep through our ``slurm`` launcher and through Hydra's plain ``submitit_slurm``:
  the same 6 results, bit for bit (apart from real-time fields), as the basic launcher;
- a run cancelled with ``scancel`` and a run that hits its time limit: reported with the
  reason and log file, by the sweep and by the status command; the other runs are kept; the
  re-run executes only those two;
- the launching process and the jobs' processes SIGKILLed: the status tells the truth before
  and after; the re-run executes only the unfinished runs, the finished files are untouched.

Skipped, with the reason, where no cluster answers.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sweeps" / "support"))
import harness  # noqa: E402


def _controller_unreachable() -> str | None:
    """A quick probe of slurmctld's port from slurm.conf (``scontrol`` waits long for a dead one)."""
    conf = Path(os.environ.get("SLURM_CONF", "/etc/slurm/slurm.conf"))
    try:
        text = conf.read_text(errors="replace")
    except OSError:
        return f"no SLURM configuration ({conf})"
    host_match = re.search(r"^\s*(?:SlurmctldHost|ControlMachine)\s*=\s*([^\s(#]+)(?:\(([^)]+)\))?", text, re.M | re.I)
    port_match = re.search(r"^\s*SlurmctldPort\s*=\s*(\d+)", text, re.M | re.I)
    if host_match is None:
        return None  # let scontrol decide
    host = host_match.group(2) or host_match.group(1)
    try:
        socket.create_connection((host, int(port_match.group(1)) if port_match else 6817), timeout=2).close()
    except OSError:
        return f"slurmctld does not answer on {host}"
    return None


def _cluster_problem() -> str | None:
    """Why SLURM tests cannot run here, or None if a cluster with accounting answers."""
    if shutil.which("sinfo") is None or shutil.which("sacct") is None:
        return "no SLURM client tools (sinfo, sacct) on this machine"
    unreachable = _controller_unreachable()
    if unreachable:
        return unreachable
    try:
        ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=15)
        nodes = subprocess.run(["sinfo", "-h", "-p", "debug", "-t", "idle,mixed,allocated", "-o", "%n"],
                               capture_output=True, text=True, timeout=15)
        accounting = subprocess.run(["sacctmgr", "-n", "list", "cluster"], capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"the SLURM cluster does not answer ({error})"
    if ping.returncode != 0 or "UP" not in ping.stdout:
        return "slurmctld does not answer (scontrol ping)"
    if not nodes.stdout.strip():
        return "no usable node in partition 'debug'"
    if accounting.returncode != 0 or not accounting.stdout.strip():
        return "no SLURM accounting (sacctmgr): submitit cannot see cancelled or timed-out jobs"
    return None


_PROBLEM = _cluster_problem()
pytestmark = [
    pytest.mark.slurm,
    pytest.mark.skipif(_PROBLEM is not None, reason=f"{_PROBLEM}; start the single-node test cluster with "
                       f".ci/local-slurm/start-local-slurm.sh (root) or run .ci/slurm-tests.sh"),
]

GRID = ["method=asha_stop,asha_prom", "seed=0,1,2"]
RUNS = [f"hartmann3/{m}/seed_{s}" for m in ("asha_stop", "asha_prom") for s in (0, 1, 2)]
SLURM = ["hydra/launcher=local_slurm"]
GATED_OWN = [harness.SEARCHPATH, *SLURM, "hydra.launcher.own_job=['method=gated']"]


def _scancel(*args: str) -> None:
    subprocess.run(["scancel", *args], check=True, timeout=30)


def _marker(run_dir: Path, name: str = "RUNNING") -> dict:
    return json.loads((run_dir / name).read_text())


def test_slurm_sweeps_give_the_results_of_the_basic_launcher(tmp_path: Path) -> None:
    ours = harness.mfbench(tmp_path, ["-m", *SLURM, "hydra.sweep.dir=by_slurm", *GRID], timeout=150)
    assert ours.returncode == 0, ours.stderr[-3000:]
    assert "launching 6 runs in 2 slurm jobs" in ours.stdout
    plain = harness.mfbench(tmp_path, ["-m", "hydra/launcher=submitit_slurm", "hydra.launcher.partition=debug",
                                       "hydra.launcher.timeout_min=10", "hydra.sweep.dir=by_submitit", *GRID],
                            timeout=150)
    assert plain.returncode == 0, plain.stderr[-3000:]
    basic = harness.mfbench(tmp_path, ["-m", "hydra.sweep.dir=by_basic", *GRID])
    assert basic.returncode == 0, basic.stderr[-3000:]
    for run in RUNS:
        reference = harness.comparable(tmp_path / "by_basic" / run)
        assert harness.comparable(tmp_path / "by_slurm" / run) == reference, run
        assert harness.comparable(tmp_path / "by_submitit" / run) == reference, run
    for sweep in ("by_slurm", "by_submitit"):
        assert harness.states(harness.status(tmp_path, sweep)) == {run: "done" for run in RUNS}


def test_cancelled_and_timed_out_runs_are_reported_and_rerun(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    env = harness.environment(tmp_path, MFBENCH_TEST_GATE=str(gate))
    sweep = tmp_path / "outputs" / "cancel"
    main = ["-m", *GATED_OWN, "method=asha_stop,gated", "seed=0,1", "experiment_name=cancel"]
    # a second sweep into the same directory: one run with a 1-minute limit (it times out at the gate)
    short = ["-m", harness.SEARCHPATH, *SLURM, "hydra.launcher.timeout_min=1", "method=gated", "seed=7",
             "experiment_name=cancel"]
    first = harness.start(tmp_path, main, env, tmp_path / "main.log")
    second = harness.start(tmp_path, short, env, tmp_path / "short.log")
    try:
        harness.wait_for(lambda: (sweep / "hartmann3/gated/seed_0/RUNNING").is_file(), 90, "gated/seed_0 to start",
                         process=first)
        _scancel(_marker(sweep / "hartmann3/gated/seed_0")["slurm_job_id"])
        assert second.wait(timeout=150) == 1  # out of time
        harness.wait_for(lambda: harness.states_now(sweep).get("hartmann3/gated/seed_1") == "running", 60,
                         "gated/seed_1 to run", process=first)
        during = harness.status(tmp_path, "outputs/cancel")
        assert harness.states(during) == {"hartmann3/asha_stop/seed_0": "done", "hartmann3/asha_stop/seed_1": "done",
                                          "hartmann3/gated/seed_0": "failed", "hartmann3/gated/seed_1": "running",
                                          "hartmann3/gated/seed_7": "failed"}
        gate.touch()  # lets gated/seed_1 finish: the first sweep reports only the cancelled run
        assert first.wait(timeout=120) == 1
    finally:
        for process in (first, second):
            if process.poll() is None:
                harness.kill_group(process)
    report = (tmp_path / "main.log").read_text()
    assert "1 of 4 runs failed" in report, report[-3000:]
    cancelled = report.split("hartmann3/gated/seed_0: ")[1].splitlines()
    assert "terminated by SIGTERM" in cancelled[0] and "CANCELLED" in cancelled[0]
    assert Path(cancelled[1].split("log: ")[1].strip()).is_file()
    timed_out = (tmp_path / "short.log").read_text().split("hartmann3/gated/seed_7: ")[1].splitlines()
    # stopped at its limit (SIGTERM caught or not), or its job timed out before the run started
    assert "TIMEOUT" in timed_out[0] or "time limit reached" in timed_out[0], timed_out[0]
    assert "hydra.launcher.timeout_min=" in timed_out[0], timed_out[0]
    assert Path(timed_out[1].split("log: ")[1].strip()).is_file()

    before = harness.status(tmp_path, "outputs/cancel")
    assert harness.states(before) == {**{run: "done" for run in ("hartmann3/asha_stop/seed_0",
                                                                 "hartmann3/asha_stop/seed_1",
                                                                 "hartmann3/gated/seed_1")},
                                      "hartmann3/gated/seed_0": "failed", "hartmann3/gated/seed_7": "failed"}
    assert all(Path(run["log_path"]).is_file() for run in before["runs"] if run["state"] == "failed")
    assert len(before["commands"]) == 2  # one per recorded sweep (each with its own launcher settings)
    untouched = {run: harness.snapshot(sweep / run) for run, state in harness.states(before).items() if state == "done"}

    rerun = harness.mfbench(tmp_path, main, env, timeout=150)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "4 runs: 3 finished (skipped), 0 running elsewhere (skipped), 1 to run (1 failed)" in rerun.stdout
    after = harness.status(tmp_path, "outputs/cancel")
    assert harness.states(after)["hartmann3/gated/seed_0"] == "done"
    assert {run: harness.snapshot(sweep / run) for run in untouched} == untouched


def test_killed_launcher_and_jobs_then_resumed(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    env = harness.environment(tmp_path, MFBENCH_TEST_GATE=str(gate))
    sweep = tmp_path / "outputs" / "killed"
    command = ["-m", *GATED_OWN, "method=asha_stop,gated", "seed=0,1", "experiment_name=killed"]
    done = {f"hartmann3/asha_stop/seed_{s}": "done" for s in (0, 1)}
    gated = [f"hartmann3/gated/seed_{s}" for s in (0, 1)]
    process = harness.start(tmp_path, command, env, tmp_path / "sweep.log")
    try:
        harness.wait_for(lambda: harness.states_now(sweep) == {**done, **{r: "running" for r in gated}}, 90,
                         "asha runs done and gated runs running", process=process)
    finally:
        harness.kill_group(process)  # SIGKILL of the launching process: its SLURM jobs live on
    alive = harness.status(tmp_path, "outputs/killed")
    assert harness.states(alive) == {**done, **{r: "running" for r in gated}}
    for run in gated:  # SIGKILL of the jobs' processes: no chance to write a marker
        os.kill(_marker(sweep / run)["pid"], signal.SIGKILL)
    harness.wait_for(lambda: harness.states_now(sweep) == {**done, **{r: "failed" for r in gated}}, 60,
                     "the killed jobs to be seen as ended")
    before = harness.status(tmp_path, "outputs/killed")
    for run in before["runs"]:
        if run["subdir"] in gated:
            assert "before the run finished" in run["detail"] and run["log_path"], run
    assert len(before["commands"]) == 1 and "method=gated" in before["commands"][0] and "seed=0,1" in before["commands"][0]
    untouched = {run: harness.snapshot(sweep / run) for run in done}

    gate.touch()
    rerun = harness.mfbench(tmp_path, command, env, timeout=150)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "4 runs: 2 finished (skipped), 0 running elsewhere (skipped), 2 to run (2 failed)" in rerun.stdout
    after = harness.status(tmp_path, "outputs/killed")
    assert set(harness.states(after).values()) == {"done"} and after["commands"] == []
    assert {run: harness.snapshot(sweep / run) for run in done} == untouched
    assert not [p for p in sweep.rglob("*.tmp") if ".submitit" not in p.parts]
