"""benchmarks/gp_memory.py: one run per checkout, measured by kind, and the report's comparison."""
from __future__ import annotations

import json

import pytest

from tests.conftest import REPO, load_script


@pytest.fixture(scope="module")
def script():
    return load_script("benchmarks/gp_memory.py")


def test_measures_runs_of_two_checkouts_and_compares_their_results(script, tmp_path, capsys):
    # the baseline is this very checkout: the same results, and the same memory give or take
    argv = ["--methods", "asha_stop", "--benchmark", "hartmann6", "--budget", "3600", "--baseline", str(REPO),
            "--out", str(tmp_path)]
    assert script.main(argv) == 0
    reports = sorted(tmp_path.glob("memory-*.md"))
    rows = json.loads(sorted(tmp_path.glob("memory-*.json"))[0].read_text())["rows"]
    assert len(reports) == 1 and [r["code"] for r in rows] == ["baseline", "this checkout"]
    for row in rows:
        assert 20 < row["VmHWM_mb"] < 4000 and row["VmRSS_mb"] <= row["VmHWM_mb"] + 1e-9
        assert abs(row["RssAnon_mb"] + row["RssFile_mb"] - row["VmRSS_mb"]) < 2.0  # plus a little shared memory
        assert abs(row["maxrss_mb"] - row["VmHWM_mb"]) < 0.1 * row["VmHWM_mb"]  # two readings of one peak
        assert row["cpu_s"] > 0 and row["final_best"] is not None
    assert rows[0]["results_sha256"] == rows[1]["results_sha256"]
    text = reports[0].read_text()
    assert "| asha_stop | 0 |" in text and "| yes |" in text and "peak ratio" in text


def test_a_baseline_that_is_not_a_checkout_is_refused(script, tmp_path):
    with pytest.raises(SystemExit):
        script.main(["--baseline", str(tmp_path), "--out", str(tmp_path)])
