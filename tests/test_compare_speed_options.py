"""benchmarks/compare_speed_options.py: our GP defaults against our exact refit schedule."""
from __future__ import annotations

import json
import math

import pytest

from tests.conftest import load_script


@pytest.fixture(scope="module")
def script():
    return load_script("benchmarks/compare_speed_options.py")


def test_the_paired_difference_is_signed_by_the_mode(script):
    # default - exact per seed: +1, +3 -> mean 2, se 1
    assert script.paired([2.0, 5.0], [1.0, 2.0], sign=1.0) == {"mean": 2.0, "se": 1.0, "z_worse": 2.0}
    assert script.paired([2.0, 5.0], [1.0, 2.0], sign=-1.0)["z_worse"] == -2.0  # max: higher is better
    assert script.paired([1.0, 2.0], [1.0, 2.0], sign=1.0)["z_worse"] == 0.0  # identical: no difference


def test_one_seed_is_refused(script, capsys):
    with pytest.raises(SystemExit):
        script.parse_args(["--seeds", "1"])
    assert "--seeds must be >= 2" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        script.parse_args(["--seeds-of", "mobster_joint=1"])
    assert "also in --seeds-of" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        script.parse_args(["--methods", "mobster_joint", "--seeds-of", "syncmobster=3"])
    assert "--seeds-of 'syncmobster=3'" in capsys.readouterr().err
    args = script.parse_args(["--methods", "mobster_joint", "syncmobster", "--seeds-of", "syncmobster=3"])
    assert args.method_seeds == {"mobster_joint": 10, "syncmobster": 3}


def test_report_of_real_runs_of_both_schedules(script, tmp_path):
    argv = ["--benchmark", "hartmann3", "--methods", "mobster_joint", "--seeds", "2", "--budget", "300",
            "--n-workers", "2", "--name", "t", "--results-dir", str(tmp_path)]
    summary = script.main(argv)
    (row,) = summary["rows"]
    assert len(row["default"]["values"]) == len(row["exact"]["values"]) == 2
    assert all(-4.5 < v < 0 for v in row["default"]["values"] + row["exact"]["values"])  # Hartmann-3 values
    diff = [d - e for d, e in zip(row["default"]["values"], row["exact"]["values"])]
    assert row["paired"]["mean"] == pytest.approx(sum(diff) / 2)
    report = (tmp_path / "compare" / "hartmann3-2w" / "t.md").read_text()
    assert "| mobster_joint |" in report and "opt_refit_growth=0" in report
    assert json.loads((tmp_path / "compare" / "hartmann3-2w" / "t.json").read_text())["rows"][0]["method"] == \
        "mobster_joint"
    # the runs are cached where compare_with_syne_tune.py caches ours: a second call reuses all four
    again = script.main(argv)
    assert again["rows"][0]["default"]["values"] == row["default"]["values"]
    assert "(4 of 4 runs come from the cache" in (tmp_path / "compare" / "hartmann3-2w" / "t.md").read_text()
    assert not math.isnan(row["exact"]["real_time_s"])
