"""Running real ``python -m mfbench`` sweeps from tests, in a temporary working directory.

The subprocesses import this worktree's ``mfbench`` and ``hydra_plugins`` (``PYTHONPATH``),
plus the test double of :mod:`mfbench_test_methods` (method ``gated``), whatever the
current directory; their outputs go to ``<tmp>/outputs``.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

SUPPORT = Path(__file__).resolve().parent
REPO = SUPPORT.parents[2]
SEARCHPATH = f"hydra.searchpath=[file://{SUPPORT / 'conf'}]"
#: keys of metadata.json that depend on the machine or the moment, not on the run
REAL_TIME_KEYS = ("real_time",)


def environment(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of a sweep subprocess (threads, gate, record controls in ``extra``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MFBENCH_", "SLURM_", "SUBMITIT_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(SUPPORT)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    env["HYDRA_FULL_ERROR"] = "1"
    env.update(extra)
    return env


def on_hartmann3(args: Sequence[str]) -> list[str]:
    """The sweeps' tests run on the cheap analytic benchmark unless the args choose one."""
    if any(a.startswith(("benchmark=", "experiment=")) for a in args):
        return list(args)
    return [*args, "benchmark=hartmann3"]


def mfbench(tmp: Path, args: Sequence[str], env: Mapping[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``python -m mfbench *args`` in ``tmp`` and wait for it (on hartmann3 unless args choose)."""
    args = on_hartmann3(args)
    return subprocess.run([sys.executable, "-m", "mfbench", *args], cwd=tmp, env=dict(env or environment(tmp)),
                          capture_output=True, text=True, timeout=timeout, check=False)


def status(tmp: Path, sweep: str, *flags: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``python -m mfbench.status <sweep> --json`` (in ``tmp``), parsed."""
    done = subprocess.run([sys.executable, "-m", "mfbench.status", sweep, "--json", *flags], cwd=tmp,
                          env=dict(env or environment(tmp)), capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def states_now(sweep_dir: Path) -> dict[str, str]:
    """``{subdir: state}`` computed in this process (cheaper than the CLI, for polling)."""
    from mfbench.sweeps.status_report import sweep_status

    if not sweep_dir.is_dir():
        return {}
    return {run.subdir: run.status.state.value for run in sweep_status(sweep_dir).runs}


def states(report: Mapping[str, Any]) -> dict[str, str]:
    """``{subdir: state}`` of a status report."""
    return {run["subdir"]: run["state"] for run in report["runs"]}


def start(tmp: Path, args: Sequence[str], env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start ``python -m mfbench *args`` in a new session (so its whole process group can be killed)."""
    args = on_hartmann3(args)
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "mfbench", *args], cwd=tmp, env=dict(env), stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    process.log_path = log  # type: ignore[attr-defined]
    return process


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process and everything in its session (its local jobs)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


def wait_for(condition: Callable[[], bool], timeout: float, what: str, poll: float = 0.2,
             process: subprocess.Popen[bytes] | None = None) -> None:
    """Poll ``condition``; fail after ``timeout`` s, or as soon as ``process`` (the sweep) exits."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            log = getattr(process, "log_path", None)
            tail = Path(log).read_text(errors="replace")[-3000:] if log else ""
            raise AssertionError(f"the sweep exited ({process.returncode}) while waiting for {what}:\n{tail}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(poll)


def snapshot(run_dir: Path) -> dict[str, tuple[int, int, bytes]]:
    """``{file: (inode, mtime_ns, bytes)}`` of a run directory: equal iff untouched."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(run_dir.iterdir()) if p.is_file()}


def comparable(run_dir: Path) -> tuple[bytes, dict[str, Any]]:
    """The results bytes and the metadata without real-time fields: equal for identical runs."""
    metadata = json.loads((run_dir / "metadata.json").read_text())
    for key in REAL_TIME_KEYS:
        metadata.pop(key)
    return (run_dir / "results.parquet").read_bytes(), metadata
