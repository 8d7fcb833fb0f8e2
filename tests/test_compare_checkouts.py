"""benchmarks/compare_checkouts.py: final best and CPU of two checkouts side by side."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, load_script


@pytest.fixture(scope="module")
def script():
    return load_script("benchmarks/compare_checkouts.py")


def _settings(**extra):
    return {"name": "t", "benchmark": "b", "n_workers": 2, "budget": 60.0, "seeds": 2, "jobs": 2,
            "before": "/old", "after": "/new", "command": "--x", "failed": [], **extra}


def _runs(before: list[float], after: list[float], mode: str = "min") -> dict:
    return {"m": {side: [{"seed": i, "final_best": v, "mode": mode, "cpu_s": cpu} for i, v in enumerate(values)]
                  for side, values, cpu in (("before", before, 2.0), ("after", after, 1.0))}}


def test_one_seed_and_a_folder_that_is_no_checkout_are_refused(script, tmp_path, capsys):
    with pytest.raises(SystemExit):
        script.parse_args(["--before", str(REPO), "--methods", "asha_stop", "--name", "t", "--seeds", "1"])
    assert "--seeds must be >= 2" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        script.parse_args(["--before", str(tmp_path), "--methods", "asha_stop", "--name", "t"])
    assert f"--before {tmp_path} is not a checkout of mfbench" in capsys.readouterr().err


def test_z_is_signed_by_the_mode_and_the_cpu_ratio_reported(script):
    # before 1, 3 (mean 2, se 1); after 3, 5 (mean 4, se 1): difference +2, se sqrt 2
    text, data = script.report(_runs([1.0, 3.0], [3.0, 5.0]), _settings())
    row = data["methods"]["m"]
    assert row["difference"] == pytest.approx(2.0) and row["se"] == pytest.approx(2**0.5)
    assert row["z_worse"] == pytest.approx(2**0.5)  # min: higher is worse
    assert "| m | 2.0000 ± 1.0000 | 4.0000 ± 1.0000 | +2.0000 ± 1.4142 | +1.41 | 2.00 / 1.00 (0.50x) |" in text
    assert "before 4.0 s, after 2.0 s (0.50x)" in text
    _, data = script.report(_runs([1.0, 3.0], [3.0, 5.0], mode="max"), _settings())
    assert data["methods"]["m"]["z_worse"] == pytest.approx(-(2**0.5))  # max: higher is better
    text, data = script.report(_runs([1.0], [3.0, 5.0]), _settings(failed=["m seed 1 before: boom"]))
    assert "fewer than two seeds finished on both sides" in text and "Failed: m seed 1 before: boom" in text
    assert data["methods"] == {}


def test_only_the_seeds_both_sides_finished_count_and_a_difference_without_spread_is_beyond_noise(script):
    # seed 2 failed on the after side: the before side's 7.0 is left out too
    _, data = script.report(_runs([1.0, 3.0, 7.0], [3.0, 5.0]), _settings(seeds=3))
    row = data["methods"]["m"]
    assert row["seeds"] == [0, 1] and row["best"]["before"][0] == pytest.approx(2.0)
    _, data = script.report(_runs([1.0, 1.0], [2.0, 2.0]), _settings())  # a deterministic benchmark
    assert data["methods"]["m"]["z_worse"] == float("inf")
    _, data = script.report(_runs([1.0, 1.0], [1.0, 1.0]), _settings())
    assert data["methods"]["m"]["z_worse"] == 0.0


def test_the_same_code_on_both_sides_gives_the_same_runs(script, tmp_path):
    """End to end through the command line (a copy of this checkout as 'before'), and --render."""
    before = tmp_path / "before"
    for part in ("mfbench", "conf"):
        shutil.copytree(REPO / part, before / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", before)
    argv = ["--before", str(before), "--methods", "asha_stop", "--seeds", "2", "--benchmark", "hartmann3",
            "--budget", "300", "--n-workers", "2", "--name", "t", "--results-dir", str(tmp_path / "results")]
    assert script.main(argv) == 0
    folder = tmp_path / "results" / "compare" / "hartmann3-2w"
    data = json.loads((folder / "t.json").read_text())
    runs = data["runs"]["asha_stop"]
    assert [r["final_best"] for r in runs["before"]] == [r["final_best"] for r in runs["after"]]
    assert all(-4.5 < r["final_best"] < 0 and r["cpu_s"] > 0 for r in runs["before"])  # Hartmann-3 values
    assert data["methods"]["asha_stop"]["z_worse"] == 0.0
    text = (folder / "t.md").read_text()
    (folder / "t.md").unlink()
    assert script.main(["--render", str(folder / "t.json")]) == 0
    assert (folder / "t.md").read_text() == text
    assert f"--before {before}" in text and Path(data["settings"]["after"]) == REPO


def test_failed_runs_are_listed_and_the_exit_status_is_one(script, tmp_path):
    argv = ["--before", str(REPO), "--methods", "no_such_method", "--seeds", "2", "--benchmark", "hartmann3",
            "--budget", "60", "--n-workers", "2", "--name", "f", "--results-dir", str(tmp_path)]
    assert script.main(argv) == 1
    text = (tmp_path / "compare" / "hartmann3-2w" / "f.md").read_text()
    assert text.count("Failed: no_such_method seed") == 4 and "fewer than two seeds finished" in text
