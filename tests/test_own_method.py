"""A method outside the package (docs/writing-a-method.md): file targets, names, class checks, the check command.

The example in examples/my_method/ is the one the guide shows in full; it is run here from a
copy outside the repository, exactly as a user runs it.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mfbench.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "my_method"
GUIDE = REPO / "docs" / "writing-a-method.md"

BAD_METHODS = '''
from mfbench.schedulers.base import Decision, Scheduler, TrialSuggestion


class NoDecision(Scheduler):
    """Starts random configurations to the end; forgets to return its decision."""

    def suggest(self, trial_id):
        config = self.problem.config_space.sample(self.problem.rng("scheduler.no_decision"))
        return TrialSuggestion.start(config, self.problem.max_fidelity)

    def on_result(self, trial_id, fidelity, metric):
        Decision.CONTINUE


class NotAScheduler:
    def __init__(self, problem):
        self.problem = problem
'''


def guide_files() -> dict[str, str]:
    """``{file name: text}`` of the blocks the guide marks with ``<!-- file: NAME -->``."""
    blocks = re.findall(r"<!-- file: (\S+) -->\n```\w+\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)
    return dict(blocks)


def cli(cwd: Path, module: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HYDRA_FULL_ERROR": "0"}
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def test_the_guide_shows_the_example_in_full() -> None:
    files = guide_files()
    assert set(files) == {"my_method.py", "conf/method/my_method.yaml"}
    for name, text in files.items():
        assert (EXAMPLE / name).read_text(encoding="utf-8") == text, f"docs/writing-a-method.md shows another {name}"


def test_the_example_runs_from_a_folder_outside_the_repository(tmp_path: Path) -> None:
    folder = tmp_path / "my_folder"
    shutil.copytree(EXAMPLE, folder)
    done = cli(folder, "mfbench", "--config-dir", "conf", "method=my_method", "benchmark=hartmann3",
               "stopping.max_num_evaluations=200", "progress=false")
    assert done.returncode == 0, done.stderr
    run_dir = folder / "outputs" / "default" / "hartmann3" / "my_method" / "seed_0"
    metadata = json.loads((run_dir / "metadata.json").read_text())
    assert metadata["method"] == "my_method" and metadata["scheduler"]["scheduler"] == "median_stopping"
    assert metadata["config"]["method"]["_target_"] == "my_method.py:MedianStopping"
    assert metadata["num_results"] == 200 and (run_dir / "DONE").is_file()


# ----------------------------------------------------------------- file targets
def test_a_file_target_is_imported_once_relative_to_the_current_directory(tmp_path: Path, monkeypatch) -> None:
    from mfbench.config.targets import locate_target
    from mfbench.config.validation import locate

    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "mine.py").write_text("class Thing:\n    pass\n")
    monkeypatch.chdir(tmp_path)
    first = locate("sub/mine.py:Thing", "method")
    assert first is locate_target(str(tmp_path / "sub" / "mine.py") + ":Thing")  # the same module object
    with pytest.raises(ConfigError, match=r"method\._target_=sub/nope\.py:Thing: the file sub/nope\.py does not "
                                          r"exist \(a relative path is relative to the current directory"):
        locate("sub/nope.py:Thing", "method")
    with pytest.raises(ConfigError, match=r"defines no 'Thin'"):
        locate("sub/mine.py:Thin", "method")
    (tmp_path / "broken.py").write_text("raise RuntimeError('boom')\n")
    with pytest.raises(ConfigError, match=r"importing broken\.py failed: RuntimeError: boom"):
        locate("broken.py:X", "method")


def _compose(tmp_path: Path, *overrides: str) -> dict:
    from mfbench.api import compose
    from mfbench.config.resolve import resolve_config

    return resolve_config(compose(["benchmark=hartmann3", *overrides]))


def test_a_shipped_method_name_cannot_run_another_class(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.py").write_text(BAD_METHODS)
    with pytest.raises(ConfigError, match=r"method\._target_=bad\.py:NoDecision replaces the class of the shipped "
                                          r"method 'random_search' .* filed and reported as random_search.*"
                                          r"--config-dir my_conf method=my_method"):
        _compose(tmp_path, "method=random_search", "method._target_=bad.py:NoDecision")


def test_a_user_yaml_named_like_a_shipped_method_is_refused(tmp_path: Path) -> None:
    (tmp_path / "method").mkdir()
    (tmp_path / "method" / "asha_stop.yaml").write_text("_target_: mine.py:Mine\n")
    with pytest.raises(ConfigError, match=r"asha_stop\.yaml has the name of the shipped method 'asha_stop'.*rename"):
        _compose(tmp_path, f"hydra.searchpath=[file://{tmp_path}]", "method=asha_stop")


def test_the_method_class_must_be_a_scheduler(tmp_path: Path, monkeypatch) -> None:
    from mfbench.api import compose, simulate

    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.py").write_text(BAD_METHODS)
    (tmp_path / "method").mkdir()
    (tmp_path / "method" / "not_one.yaml").write_text("_target_: bad.py:NotAScheduler\n")
    cfg = compose([f"hydra.searchpath=[file://{tmp_path}]", "method=not_one", "benchmark=hartmann3"])
    with pytest.raises(ConfigError, match=r"NotAScheduler \(.*bad\.py\) is not a scheduler: it must subclass "
                                          r"mfbench\.schedulers\.base\.Scheduler"):
        simulate(cfg)


# ------------------------------------------------------------------ the check
def test_check_passes_the_example_and_lists_every_check(tmp_path: Path, monkeypatch, capsys) -> None:
    from mfbench.cli.check import main

    folder = tmp_path / "my_folder"
    shutil.copytree(EXAMPLE, folder)
    monkeypatch.chdir(folder)
    assert main(["--config-dir", "conf", "method=my_method"]) == 0
    out = capsys.readouterr().out
    assert "method=my_method -> MedianStopping (" in out and "all 36 checks passed" in out
    assert out.count("PASS") == 36 and "FAIL" not in out


def test_check_reports_a_broken_method_with_what_was_expected(tmp_path: Path, monkeypatch, capsys) -> None:
    from mfbench.cli.check import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.py").write_text(BAD_METHODS)
    assert main(["method._target_=bad.py:NoDecision", "seed=5"]) == 1
    out = capsys.readouterr().out
    assert "ignoring seed=5" in out
    assert re.search(r"FAIL  runs to its end: NoDecision \(.*bad\.py\)\.on_result\(trial_id=0, fidelity=1, "
                     r"metric=.*\) returned None; expected a Decision", out)
    assert "4 check(s) FAILED" in out
    assert main(["method._target_=bad.py:NotAScheduler"]) == 1
    assert "must subclass mfbench.schedulers.base.Scheduler" in capsys.readouterr().out


def test_check_refuses_overrides_that_do_not_compose(tmp_path: Path, monkeypatch, capsys) -> None:
    from mfbench.cli.check import main

    monkeypatch.chdir(tmp_path)
    assert main(["method=my_method"]) == 2
    assert "--config-dir DIR" in capsys.readouterr().err
    assert main([]) == 2 and "usage: python -m mfbench.check" in capsys.readouterr().out
