"""benchmarks/throughput.py: the machine calibration and the report's verdict."""
from __future__ import annotations

import argparse
import math

import pytest

from tests.conftest import load_script


@pytest.fixture(scope="module")
def script():
    return load_script("benchmarks/throughput.py")


def _result(total_s: float, calibration: tuple[float, float]) -> dict:
    return {"code": "/repo", "study": "tutorial", "runs": 390, "cores": 2, "stopped_after_limit": False,
            "planning_s": 3.0, "planning_cpu_s": 3.1, "planning_load": "0 0 0", "total_s": total_s,
            "total_cpu_s": 2 * total_s - 10.0, "idle_wall_s": total_s - 5.0, "load_before": "0 0 0",
            "load_after": "2 2 2", "calibration_before_cpu_s": calibration[0],
            "calibration_after_cpu_s": calibration[1], "runs_own_s": 2 * total_s - 40.0,
            "fixed_per_run_s": 0.1, "fixed_cpu_per_run_s": 0.07,
            "by_method": {"mobster_joint": {"runs": 30, "run_seconds": 300.0, "decision_seconds": 290.0}}}


def _args(script, seeds: int) -> argparse.Namespace:
    return argparse.Namespace(methods=script.NON_GP, seeds=125, tutorial_seeds=seeds,
                              benchmark="nas201_offline_cifar100")


def test_calibration_measures_cpu_seconds(script):
    seconds = script._calibration_cpu_s()
    assert math.isfinite(seconds) and 0.05 < seconds < 60.0


@pytest.mark.parametrize("total, verdict", [(550.0, "meets"), (650.0, "misses")])
def test_report_gives_the_verdict_and_the_machine(script, total, verdict):
    report = script._report("tutorial", [_result(total, (0.93, 1.21))], _args(script, 30), "now")
    assert f"This checkout {verdict} the target in wall time ({total:.0f} s vs 600 s)" in report
    assert "| machine: CPU s of the fixed calibration workload before the sweep | 0.93 |" in report
    assert "| machine: the same after the sweep | 1.21 |" in report


def test_smaller_grid_has_no_verdict_and_old_reports_render(script):
    old = _result(500.0, (1.0, 1.0))
    del old["calibration_before_cpu_s"], old["calibration_after_cpu_s"]  # written before the calibration
    report = script._report("tutorial", [old], _args(script, 3), "then")
    assert "no verdict on the target" in report and "calibration" not in report
