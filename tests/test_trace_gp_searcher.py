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
