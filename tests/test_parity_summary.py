"""benchmarks/parity_summary.py: one table per data set from the side-by-side reports."""
from __future__ import annotations

import json

import pytest

from tests.conftest import load_script


@pytest.fixture(scope="module")
def script():
    return load_script("benchmarks/parity_summary.py")


def _side(mean: float, se: float, **extra: float) -> dict:
    return {"mean": mean, "se": se, **extra}


def test_rows_flags_and_speed_table(script, tmp_path):
    folder = tmp_path / "bench-4w"
    folder.mkdir()
    times = {"process_wall_s": 10.0, "process_cpu_s": 8.0, "real_time_s": 4.0}
    (folder / "side.json").write_text(json.dumps({
        "quality": [{"method": "asha_stop", "seeds": 10, "budget": 7200.0, "reference": _side(0.30, 0.01),
                     "default": _side(0.29, 0.01, z_worse=-0.7)},
                    {"method": "bohb", "seeds": 10, "budget": 7200.0, "reference": _side(0.30, 0.01),
                     "default": _side(0.35, 0.01, z_worse=3.5)}],
        "timing": [{"method": "asha_stop", "seeds": 2, "budget": 7200.0, "reference_charge": "off",
                    "reference_timed_out": 0, "reference": {**times, "loop_s": 4.0},
                    "ours": {"process_wall_s": 1.0, "process_cpu_s": 0.8, "real_time_s": 0.4, "loop_s": 0.2}}]}))
    (folder / "options.json").write_text(json.dumps({
        "budget": 21600.0, "rows": [{"method": "mobster_joint", "default": _side(0.27, 0.01, values=[0.26, 0.28],
                                                                                 real_time_s=10.0),
                                     "exact": _side(0.27, 0.01, values=[0.27, 0.27], real_time_s=30.0),
                                     "paired": {"mean": 0.0, "se": 0.01, "z_worse": 0.0}}]}))
    summary = script.gather({"bench-4w": ["side", "options", "absent"]}, tmp_path,
                            explained={("bench-4w", "side", "asha_stop"): "not needed"})
    assert [(r["method"], r["kind"]) for r in summary["quality"]] == [
        ("asha_stop", "side by side"), ("bohb", "side by side"), ("mobster_joint", "defaults vs exact")]
    assert summary["quality"][2]["speedup"] == pytest.approx(3.0) and summary["quality"][2]["seeds"] == 2
    assert summary["missing"] == ["bench-4w/absent"]
    (timing,) = summary["timing"]
    assert (timing["speedup_in_run"], timing["speedup_loop"], timing["speedup_process_cpu"]) == \
        pytest.approx((10.0, 20.0, 10.0))
    text = script.format_summary(summary)
    assert "## bench-4w" in text and "| bohb | side by side | 2 h | 10 |" in text
    assert "+3.50 UNEXPLAINED" in text  # beyond 2 without an explanation: flagged, and listed
    assert "- bench-4w, bohb (side, z = +3.50): UNEXPLAINED" in text
    assert "| bench-4w | asha_stop | 2 h | 2 | off | 4.00 | 0.40 | 0.20 | 10.0x | 20.0x | 10.0x |" in text


def test_rows_answered_again_by_a_later_report_are_left_out_and_listed(script, tmp_path):
    folder = tmp_path / "bench-8w"
    folder.mkdir()
    row = {"seeds": 10, "budget": 7200.0, "reference": _side(0.63, 0.005)}
    (folder / "ten.json").write_text(json.dumps({"quality": [
        {"method": "mobster_joint", **row, "default": _side(0.65, 0.005, z_worse=2.4)},
        {"method": "hypertune_indep", **row, "default": _side(0.63, 0.005, z_worse=0.1)}]}))
    (folder / "thirty.json").write_text(json.dumps({"quality": [
        {"method": "mobster_joint", **row, "seeds": 30, "default": _side(0.635, 0.003, z_worse=0.5)}]}))
    summary = script.gather({"bench-8w": ["ten", "thirty"]}, tmp_path, explained={},
                            superseded={("bench-8w", "ten", "mobster_joint"): "thirty"})
    assert [(r["report"], r["method"]) for r in summary["quality"]] == [
        ("ten", "hypertune_indep"), ("thirty", "mobster_joint")]
    text = script.format_summary(summary)
    assert "UNEXPLAINED" not in text  # the superseded +2.40 is no longer a row
    assert "bench-8w, mobster_joint in `ten` (10 seeds, z = +2.40) by `thirty`" in text


def test_timing_rows_measured_again_are_left_out_and_listed(script, tmp_path):
    folder = tmp_path / "bench-4w"
    folder.mkdir()

    def timing(method: str, ref_s: float, ours_s: float) -> dict:
        return {"method": method, "seeds": 1, "budget": 7200.0, "reference_charge": "off", "reference_timed_out": 0,
                "reference": {"process_wall_s": ref_s, "process_cpu_s": ref_s, "real_time_s": ref_s},
                "ours": {"process_wall_s": ours_s, "process_cpu_s": ours_s, "real_time_s": ours_s, "loop_s": ours_s}}

    (folder / "old.json").write_text(json.dumps({"timing": [timing("mobster_joint", 100.0, 12.5),
                                                            timing("asha_stop", 1.0, 0.05)]}))
    (folder / "new.json").write_text(json.dumps({"timing": [timing("mobster_joint", 500.0, 10.0)]}))
    summary = script.gather({"bench-4w": ["old", "new"]}, tmp_path, explained={}, superseded={},
                            timing_superseded={("bench-4w", "old", "mobster_joint"): "new"})
    assert [(t["report"], t["method"]) for t in summary["timing"]] == [("old", "asha_stop"), ("new", "mobster_joint")]
    assert summary["timing"][1]["speedup_in_run"] == pytest.approx(50.0)
    text = script.format_summary(summary)
    assert "| bench-4w | mobster_joint | 2 h | 1 | off | 500.00 | 10.00 |" in text
    assert "| 100.00 |" not in text  # the earlier row is not in the table
    assert "bench-4w, mobster_joint in `old` (8.0x in-run) by `new`" in text

    with pytest.raises(ValueError, match="has no timing row of that method"):
        script.gather({"bench-4w": ["old", "new"]}, tmp_path, explained={}, superseded={},
                      timing_superseded={("bench-4w", "old", "asha_stop"): "new"})
