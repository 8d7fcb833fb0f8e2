from __future__ import annotations

from mfbench.cli.console import format_summary


def _metadata(**changes):
    metadata = {"method": "asha_stop", "benchmark": "toy", "seed": 0, "n_workers": 4, "metric": "loss", "mode": "min",
                "fidelity_attr": "epoch", "best": None, "simulated_time": 600.0, "num_results": 0,
                "stopping": {"max_wallclock_time": 600.0}, "stop_reason": "max_wallclock_time",
                "real_time": {"seconds": 0.1}, "num_trials_started": 0, "num_trials_completed": 0}
    metadata.update(changes)
    return metadata


def test_a_run_without_results_and_one_whose_results_were_all_nan_are_told_apart():
    assert "no result was reported within the budget" in format_summary(_metadata(), "out")
    text = format_summary(_metadata(num_results=15, num_trials_started=5), "out")
    assert "no best value: all 15 results were NaN (failed evaluations)" in text
    assert "no result was reported" not in text
