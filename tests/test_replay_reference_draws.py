"""benchmarks/replay_reference_draws.py without Syne Tune: one of our own runs plays the reference.

A run of ours, written in the reference runner's format (result rows in scheduler order and
the bracket of every trial), must replay decision for decision, and a run forced onto its
draws under another seed must reproduce it result for result.
"""
from __future__ import annotations

import json

import pandas as pd
import pytest

from mfbench.api import compose, simulate
from mfbench.schedulers import asha
from tests.conftest import load_script

BUDGET = 3600.0


@pytest.fixture(scope="module")
def script():
    return load_script("benchmarks/replay_reference_draws.py")


def _own_run(method: str) -> tuple[pd.DataFrame, dict[int, int]]:
    """``method`` on Hartmann-3 (rungs 1, 3, 9, 27, 81 of 100 epochs), seed 1, as reference rows + brackets."""
    brackets: dict[int, int] = {}
    original = asha.ASHA.suggest

    def suggest(self, trial_id):
        suggestion = original(self, trial_id)
        if suggestion is not None and not suggestion.is_resume:
            brackets[trial_id] = self.trials[trial_id].bracket
        return suggestion

    asha.ASHA.suggest = suggest
    try:
        columns, _ = simulate(compose([f"method={method}", "benchmark=hartmann3", "seed=1",
                                       f"stopping.max_wallclock_time={BUDGET}"]))
    finally:
        asha.ASHA.suggest = original
    rows = pd.DataFrame({"trial_id": columns["trial_id"], "fidelity": columns["epoch"], "metric": columns["value"],
                         "st_tuner_time": columns["sim_time"], "decision": [d.upper() for d in columns["decision"]],
                         "table_seed": columns["table_seed"],
                         **{c: columns[c] for c in ("config_x0", "config_x1", "config_x2")}})
    return rows, brackets


@pytest.fixture(scope="module")
def own_run() -> tuple[pd.DataFrame, dict[int, int]]:
    return _own_run("asha6_stop")


def test_the_run_uses_several_brackets(own_run):
    rows, brackets = own_run
    assert len(set(brackets.values())) >= 3 and set(rows["decision"]) == {"CONTINUE", "STOP"}


def test_decisions_replay_equal(script, own_run):
    rows, brackets = own_run
    summary = script.replay_decisions(rows, brackets, "asha6_stop", max_t=100)
    assert summary == {"results": len(rows), "mismatches": 0, "first": []}


def test_a_changed_decision_or_bracket_is_reported(script, own_run):
    rows, brackets = own_run
    stopped = rows.index[rows["decision"].eq("STOP") & rows["fidelity"].lt(100)][0]
    changed = rows.copy()
    changed.loc[stopped, "decision"] = "CONTINUE"
    summary = script.replay_decisions(changed, brackets, "asha6_stop", max_t=100)
    assert summary["mismatches"] == 1 and summary["first"][0]["ours"] == "STOP"
    # a bracket-0 trial moved to the last bracket is never judged, so its rung decisions differ
    trial = next(t for t, b in brackets.items() if b == 0 and rows["decision"][rows["trial_id"] == t].eq("STOP").any()
                 and rows["fidelity"][rows["trial_id"] == t].max() < 100)
    assert script.replay_decisions(rows, {**brackets, trial: 5}, "asha6_stop", max_t=100)["mismatches"] >= 1


def test_a_run_forced_onto_the_draws_reproduces_it_under_another_seed(script, own_run):
    rows, brackets = own_run
    run = script.forced_run(rows, brackets, "asha6_stop", "hartmann3", seed=7, n_workers=4, budget=BUDGET,
                            overrides=[])
    assert run["only_ours"] == 0 and run["only_reference"] == 0
    assert run["results"] == [len(rows), len(rows)] and run["same_metrics"] and run["same_decisions"]
    # the patches are undone: seed 7 on its own draws is another run
    columns, _ = simulate(compose(["method=asha6_stop", "benchmark=hartmann3", "seed=7",
                                   f"stopping.max_wallclock_time={BUDGET}"]))
    assert list(columns["table_seed"]) != list(rows["table_seed"]) or len(columns["trial_id"]) != len(rows)


def test_main_reads_the_trace_files(script, own_run, tmp_path, capsys):
    rows, brackets = own_run
    parquet = tmp_path / "asha6_stop-1.parquet"
    rows.to_parquet(parquet)
    parquet.with_suffix(".trace.json").write_text(json.dumps({"brackets": brackets, "decisions": []}))
    parquet.with_suffix(".json").write_text(json.dumps({"seed": 1, "n_workers": 4, "max_wallclock_time": BUDGET}))
    (summary,) = script.main([str(parquet), "--method", "asha6_stop"])
    assert summary["decisions"]["mismatches"] == 0 and "forced_run" not in summary
    assert f"decisions {len(rows)}/{len(rows)} equal" in capsys.readouterr().out
    parquet.with_suffix(".trace.json").unlink()
    with pytest.raises(SystemExit, match="trace_hyperband.py"):
        script.main([str(parquet), "--method", "asha6_stop"])


def test_the_promotion_variant_replays_and_reproduces(script):
    rows, brackets = _own_run("asha_prom")
    assert {"PAUSE", "CONTINUE", "STOP"} <= set(rows["decision"])
    assert script.replay_decisions(rows, brackets, "asha_prom", max_t=100)["mismatches"] == 0
    run = script.forced_run(rows, brackets, "asha_prom", "hartmann3", seed=7, n_workers=4, budget=BUDGET,
                            overrides=[])
    assert run["only_ours"] == run["only_reference"] == run["results_of_unknown_trials"] == 0
    assert run["same_metrics"] and run["same_decisions"]


def test_synchronous_hyperband_is_forced_onto_the_configurations_alone(script, tmp_path, capsys):
    """synchb draws only configurations: no trace; a constant beside the space (YAHPO's task id) is dropped."""
    columns, _ = simulate(compose(["method=synchb", "benchmark=hartmann3", "seed=1",
                                   f"stopping.max_wallclock_time={BUDGET}"]))
    rows = pd.DataFrame({"trial_id": columns["trial_id"], "fidelity": columns["epoch"], "metric": columns["value"],
                         "st_tuner_time": columns["sim_time"], "decision": [d.upper() for d in columns["decision"]],
                         "table_seed": columns["table_seed"], "config_task": "189908",
                         **{c: columns[c] for c in ("config_x0", "config_x1", "config_x2")}})
    parquet = tmp_path / "synchb-1.parquet"
    rows.to_parquet(parquet)
    # our forced run uses this seed: another one than the run's, so only the forced draws can reproduce it
    parquet.with_suffix(".json").write_text(json.dumps({"seed": 7, "n_workers": 4, "max_wallclock_time": BUDGET}))
    with pytest.raises(SystemExit):  # no decision replay for it: the forced run is the check
        script.main([str(parquet), "--method", "synchb"])
    (summary,) = script.main([str(parquet), "--method", "synchb", "--benchmark", "hartmann3"])
    run = summary["forced_run"]
    assert "decisions" not in summary and run["results"] == [len(rows), len(rows)]
    assert run["only_ours"] == run["only_reference"] == run["results_of_unknown_trials"] == 0
    assert run["same_metrics"] and run["metrics_differing"] == 0
    assert "common results: metrics equal" in capsys.readouterr().out
