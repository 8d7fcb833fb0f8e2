from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from mfbench.results.markers import RunState
from mfbench.results.store import RunDirectory
from mfbench.sweeps.manifest import write_manifest
from mfbench.sweeps.status_report import find_run_dirs, format_status, main, status_json, sweep_status


@dataclass
class Run:
    subdir: str
    overrides: list[str]
    fingerprint: str


def _done(path: Path, fingerprint: str) -> None:
    RunDirectory(path).write({"a": [1]}, {"config_fingerprint": fingerprint})


@pytest.fixture()
def sweep(tmp_path: Path) -> Path:
    """A 2 x 3 sweep: a/0,1 done, a/2 failed, b/0 interrupted, b/1 missing, b/2 done with another config;
    plus an unrecorded single run c/0 that failed."""
    root = tmp_path / "outputs" / "exp"
    runs = [Run(f"h/{m}/seed_{s}", [f"method={m}", f"seed={s}"], f"{m}{s}") for m in "ab" for s in range(3)]
    write_manifest(root, runs, ["hydra/launcher=local"], ["method=a,b", "seed=0,1,2"])
    _done(root / "h/a/seed_0", "a0")
    _done(root / "h/a/seed_1", "a1")
    _done(root / "h/b/seed_2", "other")
    try:
        with RunState(root / "h/a/seed_2").tracking():
            raise MemoryError("too big")
    except MemoryError:
        pass
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    RunState(root / "h/b/seed_0").mark_running()
    record = json.loads((root / "h/b/seed_0/RUNNING").read_text())
    (root / "h/b/seed_0/RUNNING").write_text(json.dumps({**record, "pid": child.pid, "proc_start": None}))
    (root / ".submitit" / "1").mkdir(parents=True)
    (root / ".submitit" / "1" / "DONE").write_text("not a run")
    try:
        with RunState(root / "h/c/seed_0").tracking():
            raise KeyError("x")
    except KeyError:
        pass
    failed = json.loads((root / "h/c/seed_0/FAILED").read_text())
    (root / "h/c/seed_0/FAILED").write_text(json.dumps({**failed, "overrides": ["method=c", "seed=0"]}))
    return root


def test_states_counts_and_completion_commands(sweep: Path) -> None:
    assert find_run_dirs(sweep) == ["h/a/seed_0", "h/a/seed_1", "h/a/seed_2", "h/b/seed_0", "h/b/seed_2", "h/c/seed_0"]
    status = sweep_status(sweep)
    assert {r.subdir: r.status.state.value for r in status.runs} == {
        "h/a/seed_0": "done", "h/a/seed_1": "done", "h/a/seed_2": "failed", "h/b/seed_0": "interrupted",
        "h/b/seed_1": "missing", "h/b/seed_2": "done", "h/c/seed_0": "failed"}
    assert status.counts() == {"corrupt": 0, "failed": 2, "interrupted": 1, "missing": 1, "running": 0, "queued": 0, "done": 3}
    commands, unknown = status.completion_commands()
    assert commands == ["python -m mfbench -m hydra/launcher=local method=a seed=2",
                        "python -m mfbench -m hydra/launcher=local method=b seed=0,1",
                        "python -m mfbench -m method=c seed=0"]
    assert unknown == []
    report = format_status(status)
    assert report.splitlines()[0].endswith("7 runs (1 sweep(s) recorded): 2 failed, 1 interrupted, 1 missing, 3 done")
    assert "MemoryError: too big" in report and "is gone" in report
    assert "finished with another config than the sweep asks for" in report
    assert "h/a/seed_0" not in report  # done runs are listed only with --all
    assert "h/a/seed_0" in format_status(status, show_all=True)
    assert status_json(status)["counts"]["missing"] == 1


def test_cli(sweep: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(sweep), "--command"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "python -m mfbench -m hydra/launcher=local method=b seed=0,1"
    assert main([str(sweep), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["runs"]) == 7
    assert main([str(sweep / "nope")]) == 2
    assert "no sweep directory" in capsys.readouterr().err


def test_complete_sweep(tmp_path: Path) -> None:
    write_manifest(tmp_path, [Run("h/a/seed_0", ["method=a", "seed=0"], "f")], [], [])
    _done(tmp_path / "h/a/seed_0", "f")
    status = sweep_status(tmp_path)
    assert status.completion_commands() == ([], [])
    assert format_status(status).endswith("Complete: every run is done.")


def test_a_folder_without_runs_or_sweeps_is_an_error_not_complete(tmp_path, capsys) -> None:
    assert main([str(tmp_path)]) == 2
    assert "holds no run and no recorded sweep" in capsys.readouterr().err


def test_a_run_finished_with_another_config_is_not_complete(tmp_path: Path) -> None:
    write_manifest(tmp_path, [Run("h/a/seed_0", ["method=a", "seed=0"], "f")], [], [])
    _done(tmp_path / "h/a/seed_0", "another")
    text = format_status(sweep_status(tmp_path))
    assert "Complete" not in text.splitlines()[-1]
    assert text.splitlines()[-1].startswith("Not complete: 1 run(s) finished with another config")


def test_a_corrupt_run_is_reported_with_the_command_that_redoes_it(tmp_path):
    root = tmp_path / "sweep"
    _done(root / "h" / "a" / "seed_0", "f0")
    _done(root / "h" / "a" / "seed_1", "f1")
    write_manifest(root, [Run("h/a/seed_0", ["method=a", "seed=0"], "f0"),
                          Run("h/a/seed_1", ["method=a", "seed=1"], "f1")], ["hydra/launcher=local"],
                   ["method=a", "seed=0,1"])
    (root / "h" / "a" / "seed_1" / "metadata.json").write_text("{")
    status = sweep_status(root)
    assert status.counts()["corrupt"] == 1 and status.counts()["done"] == 1
    text = format_status(status)
    assert "corrupt" in text and "metadata.json is 1 bytes" in text
    assert status.completion_commands()[0] == ["python -m mfbench -m hydra/launcher=local method=a seed=1"]


def test_runs_are_listed_by_the_value_of_their_seed(tmp_path: Path) -> None:
    runs = [Run(f"h/a/seed_{s}", ["method=a", f"seed={s}"], f"f{s}") for s in (10, 3, 2)]
    write_manifest(tmp_path, runs, [], [])
    lines = format_status(sweep_status(tmp_path)).splitlines()
    assert [line.split()[1] for line in lines if line.strip().startswith("missing")] == \
        ["h/a/seed_2", "h/a/seed_3", "h/a/seed_10"]


def test_a_copied_sweep_is_completed_in_the_copy(tmp_path: Path) -> None:
    """The completion command writes into the inspected folder, not the one it was copied from."""
    import shutil

    original = tmp_path / "first"
    write_manifest(original, [Run("h/a/seed_0", ["method=a", "seed=0"], "f")], [f"hydra.sweep.dir={original}"], [])
    copy = tmp_path / "copy"
    shutil.copytree(original, copy)
    commands = sweep_status(copy).completion_commands()[0]
    assert commands == [f"python -m mfbench -m hydra.sweep.dir={copy} method=a seed=0"]
    assert sweep_status(original).completion_commands()[0] == [
        f"python -m mfbench -m hydra.sweep.dir={original} method=a seed=0"]
    # the default folder (no hydra.sweep.dir given): the manifest records where it was written
    default = tmp_path / "outputs" / "exp"
    write_manifest(default, [Run("h/a/seed_0", ["method=a", "seed=0"], "f")], [], [])
    moved = tmp_path / "moved"
    shutil.copytree(default, moved)
    commands = sweep_status(moved).completion_commands()[0]
    assert commands == [f"python -m mfbench -m hydra.sweep.dir={moved} method=a seed=0"]
    assert sweep_status(default).completion_commands()[0] == ["python -m mfbench -m method=a seed=0"]
