"""benchmarks/trace_gp_searcher.py: tracing our GP searcher's proposals, and replaying the reference's."""
from __future__ import annotations

import json
import math

import pytest

from tests.conftest import FIXTURES, load_script

pytest.importorskip("torch")

RUN = ["method=mobster_joint", "benchmark=hartmann3", "seed=1", "n_workers=2", "stopping.max_wallclock_time=400",
       "backend.charge_decision_time=false"]


@pytest.fixture(scope="module")
def script():
    return load_script("benchmarks/trace_gp_searcher.py")


@pytest.fixture(scope="module")
def traced(script, tmp_path_factory):
    out = tmp_path_factory.mktemp("trace") / "ours.gp.jsonl"
    metadata = script.trace_run(RUN, out, dump_data=True)
    return out, metadata, [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_every_model_based_proposal_is_traced(traced):
    _, metadata, records = traced
    assert len(records) == metadata["scheduler"]["stats"]["model_proposals"] > 0
    for r in records:
        counts = {int(k): v for k, v in r["num_observations"].items()}
        # MOBSTER's level: the largest with >= 3 observations, else the smallest observed
        supported = [level for level, c in counts.items() if c >= 3]
        assert r["r_acq"] == (max(supported) if supported else min(counts))
        assert sum(counts.values()) == len(r["inputs"]["observations"])
        assert r["num_pending"] == len(r["inputs"]["pending"])
        assert math.isfinite(r["current_best"]) and r["chosen_std"] >= 0
        assert set(r["chosen"]) == {"x0", "x1", "x2"}
        assert 1e-4 <= r["params"]["kernel_gamma"] <= 1.0 and r["params"]["noise_variance"] > 0
        data = r["data"]
        rows = data["num_observed"] + r["num_pending"]
        assert len(data["features"]) == len(data["targets"]) == rows
        assert len(data["features"][0]) == 3 + 1  # encoded configuration, encoded resource



def test_a_hypertune_trace_records_its_incumbents(script, tmp_path):
    """Hyper-Tune's records carry what the reference trace records: the ensemble, the level
    the incumbents are taken at (MOBSTER's r_acq rule) and how many there are (the trials
    observed or pending at that level)."""
    run = ["method=hypertune_indep", *RUN[1:]]
    out = tmp_path / "hypertune.gp.jsonl"
    script.trace_run(run, out)
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert records
    for r in records:
        assert r["r_acq"] == "ensemble"
        counts = {int(k): v for k, v in r["num_observations"].items()}
        supported = [level for level, c in counts.items() if c >= 3]
        assert r["incumbent_level"] == (max(supported) if supported else min(counts))
        at_level = {t for t, level, _ in r["inputs"]["observations"] if level == r["incumbent_level"]}
        at_level |= {t for t, level in r["inputs"]["pending"] if level == r["incumbent_level"]}
        assert r["num_incumbents"] == len(at_level) > 0

def test_tracing_changes_nothing_in_the_run(traced):
    from mfbench.api import compose, simulate

    _, metadata, _ = traced
    _, untraced = simulate(compose(RUN))
    assert untraced["best"] == metadata["best"]
    assert untraced["scheduler"]["stats"] == metadata["scheduler"]["stats"]


def test_comparing_a_trace_with_itself_shows_equal_columns(script, traced):
    out, _, _ = traced
    table = script.compare([out], [out])
    rows = [line.split("|")[1:-1] for line in table.splitlines()[2:]]
    assert rows and all(row[2].strip() == row[3].strip() for row in rows)
    assert any(row[1].strip() == "kernel_gamma" for row in rows)


def test_replay_reads_the_vendored_reference_decisions(script):
    table = script.replay(FIXTURES / "syne_tune_gp_decisions.json", 200)
    lines = table.splitlines()
    assert lines[0].startswith("| r_acq | n |") and len([x for x in lines if x.startswith("| ") and "---" not in x]) == 4
    assert "fitted - reference's optimum" in table


def test_a_run_forced_with_its_own_draws_reproduces_its_proposals(script, traced, tmp_path):
    """--forced-from on a run in the reference's format made from our own run: the same
    states, the same proposals, and a decision-quality difference of exactly zero (a
    constant column outside the space, like YAHPO's task id, is not part of a configuration)."""
    import pandas as pd

    from mfbench.api import compose, simulate

    out, _, records = traced
    cfg = compose(RUN)
    columns, _ = simulate(cfg)
    ours = pd.DataFrame(columns)
    reference = pd.DataFrame({"trial_id": ours["trial_id"], "fidelity": ours[cfg.benchmark.fidelity_attr],
                              "metric": ours[cfg.benchmark.metric], "decision": ours["decision"],
                              "st_tuner_time": ours["sim_time"], "table_seed": ours["table_seed"],
                              **{c: ours[c] for c in ours if c.startswith("config_")},
                              "config_OpenML_task_id": "189908"})  # a constant beside the space, as YAHPO's rows
    reference.to_parquet(tmp_path / "reference.parquet")
    (tmp_path / "reference.gp.jsonl").write_text(out.read_text(encoding="utf-8"), encoding="utf-8")

    forced = tmp_path / "forced.gp.jsonl"
    script.trace_run(RUN, forced, forced_from=tmp_path / "reference.parquet")
    lines = [json.loads(line) for line in forced.read_text(encoding="utf-8").splitlines()]
    assert [(r["chosen"], r["num_observations"], r["num_pending"]) for r in lines] == \
        [(r["chosen"], r["num_observations"], r["num_pending"]) for r in records]
    assert all(r["forced_from"] == str(tmp_path / "reference.parquet") for r in lines)

    table = script.decision_quality("hartmann3", [forced])
    row = table.splitlines()[2].split("|")[1:-1]
    assert row[0].strip() == "reference.parquet" and row[2].strip() == f"{len(records)} of {len(records)}"
    assert row[3] == row[4] and row[5].strip() == "+0.000"


def test_decision_quality_refuses_unforced_traces(script, traced):
    out, _, _ = traced
    with pytest.raises(SystemExit, match="--forced-from"):
        script.decision_quality("hartmann3", [out])


def test_decision_quality_ranks_a_surrogates_configurations(script, monkeypatch, converted_fixtures):
    """On a surrogate (no table), a configuration's final value is ranked among a fixed uniform
    sample of the space: the reference's good corner of LCBench Fashion-MNIST ranks near the top,
    a high-weight-decay one far below, and the ranks are reproducible."""
    monkeypatch.setattr(script, "SURROGATE_RANK_SAMPLE", 300)
    rank = script.final_value_ranks("yahpo_lcbench_189908")
    good = {"batch_size": 16, "learning_rate": 0.003, "max_dropout": 0.0, "max_units": 102, "momentum": 0.99,
            "num_layers": 2, "weight_decay": 1e-05}
    bad = dict(good, max_dropout=1.0, weight_decay=0.1)
    assert 0.0 <= rank(good) < 0.1 < rank(bad) <= 1.0
    assert rank(good) == script.final_value_ranks("yahpo_lcbench_189908")(good)
