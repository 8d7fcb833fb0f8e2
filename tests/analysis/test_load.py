"""Finding and reading finished runs; everything unusual is reported."""
from __future__ import annotations

import math

import numpy as np
import pytest

from mfbench.analysis.load import RUN_COLUMNS, TRAJECTORY_COLUMNS, find_runs, load_results, running_best


def test_running_best_ignores_nan():
    np.testing.assert_array_equal(running_best(np.array([np.nan, 3, np.nan, 2, 5]), "min"), [np.nan, 3, 3, 2, 2])
    np.testing.assert_array_equal(running_best(np.array([1.0, 3, 2]), "max"), [1, 3, 3])
    assert running_best(np.array([]), "min").size == 0


def test_load_toy_runs(toy_runs):
    results = load_results(toy_runs)
    assert list(results.runs.columns) == list(RUN_COLUMNS)
    assert list(results.trajectories.columns) == list(TRAJECTORY_COLUMNS)
    assert results.benchmarks == ["toy"]
    assert results.setups("toy") == ["A", "B"]
    assert len(results.runs) == 5 and len(results.trajectories) == 12
    run = results.runs[(results.runs["setup"] == "A") & (results.runs["seed"] == 2)].iloc[0]
    rows = results.trajectories[results.trajectories["run_id"] == run["run_id"]]
    np.testing.assert_array_equal(rows["best"], [7, 2, 2])
    np.testing.assert_array_equal(rows["sim_time"], [2, 2, 5])
    assert run["final_best"] == 2 and run["first_time"] == 2 and run["budget"] == 6 and run["real_seconds"] == 3
    assert results.benchmark_info("toy") == {"metric": "loss", "mode": "min", "budget": 6.0, "best_in_table": None,
                                             "global_optimum": None, "best_in_table_definition": ""}
    # B lacks seed 2, and that is reported
    assert results.report.topics("warning") == ["missing-seeds"]
    assert "toy/B" in results.report.warnings[0].message and "[2]" in results.report.warnings[0].message


def test_unfinished_and_unreadable_runs_are_reported(toy_runs, run_factory):
    run_factory(toy_runs, "toy", "B", 2, [1.0], [1.0], budget=6, done=False)  # crashed before the marker
    (toy_runs / "toy" / "B" / "seed_3").mkdir()  # Hydra made the folder, the run never wrote
    broken = run_factory(toy_runs, "toy", "C", 0, [1.0], [1.0], budget=6)
    (broken / "results.parquet").write_bytes(b"not parquet")
    results = load_results(toy_runs)
    messages = {f.message.split(" ")[0]: f for f in results.report.warnings}
    assert messages["toy/B/seed_2"].topic == "unfinished"
    assert "metadata.json, results.parquet" in messages["toy/B/seed_2"].message
    assert messages["toy/B/seed_3"].topic == "unfinished" and "nothing" in messages["toy/B/seed_3"].message
    assert messages["toy/C/seed_0"].topic == "corrupt"  # not what its DONE marker vouches for
    assert "checksum differs" in messages["toy/C/seed_0"].message or "bytes" in messages["toy/C/seed_0"].message
    assert len(results.runs) == 5


def test_find_runs_skips_excluded_and_hidden_folders(toy_runs, run_factory):
    run_factory(toy_runs / ".hidden", "toy", "A", 0, [1.0], [1.0])
    run_factory(toy_runs / "analysis", "toy", "A", 0, [1.0], [1.0])
    scan = find_runs(toy_runs, exclude=[toy_runs / "analysis"])
    assert len(scan.finished) == 5 and not scan.unfinished


def test_nan_metrics_and_runs_without_values(tmp_path, run_factory):
    root = tmp_path / "exp"
    run_factory(root, "toy", "A", 0, [1, 2, 3, 4], [np.nan, 3, np.nan, 2])
    run_factory(root, "toy", "A", 1, [1, 2], [np.nan, np.nan])
    results = load_results(root)
    first = results.runs[results.runs["seed"] == 0].iloc[0]
    assert first["n_nan"] == 2 and first["first_time"] == 2 and first["final_best"] == 2
    empty = results.runs[results.runs["seed"] == 1].iloc[0]
    assert math.isnan(empty["first_time"]) and math.isnan(empty["final_best"])
    assert results.report.topics("warning") == ["nan", "no-values"]
    assert "seed 0: 2 of 4" in results.report.warnings[0].message


def test_mode_max_is_reported(tmp_path, run_factory):
    root = tmp_path / "exp"
    run_factory(root, "acc", "A", 0, [1, 2, 3], [0.5, 0.9, 0.7], mode="max", metric="accuracy")
    results = load_results(root)
    np.testing.assert_array_equal(results.trajectories["best"], [0.5, 0.9, 0.9])
    assert results.report.topics("info") == ["mode"]


def test_metric_override(toy_runs):
    with pytest.raises(ValueError, match="--mode"):
        load_results(toy_runs, metric="other")
    results = load_results(toy_runs, metric="other", mode="max")
    assert (results.runs["metric"] == "other").all() and (results.runs["mode"] == "max").all()
    assert (results.trajectories["value"] == 0).all()
    with pytest.raises(ValueError, match="no column"):
        load_results(toy_runs, metric="accuracy", mode="max")
    with pytest.raises(ValueError, match="drop --mode"):
        load_results(toy_runs, mode="max")


def test_duplicates_need_more_setup_keys(tmp_path, run_factory):
    run_factory(tmp_path / "e1", "toy", "A", 0, [1.0], [1.0], experiment="e1")
    run_factory(tmp_path / "e2", "toy", "A", 0, [1.0], [2.0], experiment="e2")
    with pytest.raises(ValueError, match="--setup-keys experiment,method"):
        load_results(tmp_path)
    results = load_results(tmp_path, setup_keys=("experiment", "method"))
    assert results.setups() == ["e1/A", "e2/A"]
    with pytest.raises(ValueError, match="no key 'nope'"):
        load_results(tmp_path, setup_keys=("nope",))


def test_inconsistent_mode_is_an_error(tmp_path, run_factory):
    run_factory(tmp_path, "toy", "A", 0, [1.0], [1.0], mode="min")
    run_factory(tmp_path, "toy", "B", 0, [1.0], [1.0], mode="max")
    with pytest.raises(ValueError, match="disagree on mode"):
        load_results(tmp_path)


def test_nothing_to_load(tmp_path, run_factory):
    with pytest.raises(FileNotFoundError, match="no such folder"):
        load_results(tmp_path / "missing")
    run_factory(tmp_path, "toy", "A", 0, [1.0], [1.0], done=False)
    with pytest.raises(FileNotFoundError, match="1 unfinished"):
        load_results(tmp_path)


def test_metadata_without_required_keys_is_unreadable(toy_runs):
    import json

    import pandas as pd

    from mfbench.results.store import RunDirectory

    run = RunDirectory(toy_runs / "toy" / "B" / "seed_1")
    meta = json.loads(run.metadata_path.read_text())
    del meta["method"]
    columns = {name: values.to_numpy() for name, values in pd.read_parquet(run.results_path).items()}
    run.write(columns, meta, overwrite=True)  # a consistent run (DONE vouches for it) that lacks a key
    results = load_results(toy_runs)
    assert len(results.runs) == 4
    unreadable = [f.message for f in results.report.warnings if f.topic == "unreadable"]
    assert len(unreadable) == 1 and "lacks ['method']" in unreadable[0]


def test_a_finished_run_edited_afterwards_is_not_analysed(toy_runs):
    path = toy_runs / "toy" / "A" / "seed_1" / "results.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte: the values may still read, but cannot be trusted
    path.write_bytes(bytes(data))
    results = load_results(toy_runs)
    corrupt = [f.message for f in results.report.warnings if f.topic == "corrupt"]
    assert len(corrupt) == 1 and corrupt[0].startswith("toy/A/seed_1 is corrupt")
    assert len(results.runs) == 4


def test_a_finished_run_that_lost_a_file_is_corrupt_not_unfinished(toy_runs):
    (toy_runs / "toy" / "A" / "seed_1" / "results.parquet").unlink()  # DONE vouched for it
    results = load_results(toy_runs)
    corrupt = [f.message for f in results.report.warnings if f.topic == "corrupt"]
    assert len(corrupt) == 1 and "results.parquet is missing" in corrupt[0]
    assert not [f for f in results.report.warnings if f.topic == "unfinished"]


def test_when_every_run_is_corrupt_the_error_says_so(toy_runs):
    for results_file in toy_runs.rglob("results.parquet"):
        results_file.write_bytes(results_file.read_bytes()[:100])
    with pytest.raises(FileNotFoundError, match=r"no finished run .*; found 5 corrupt run folder\(s\) \(e\.g\. toy/"):
        load_results(toy_runs)


def test_one_yahpo_instance_under_two_names_is_warned_about(tmp_path, run_factory):
    """benchmark=yahpo_rbv2_rpart and benchmark=yahpo benchmark.scenario=rbv2_rpart (its default
    instance) name one benchmark two ways; a suite would count it twice."""
    root = tmp_path / "exp"
    same = {"kind": "surrogate", "scenario": "rbv2_rpart", "instance": "1111", "constants": {"repl": 10.0}}
    run_factory(root, "yahpo_rbv2_rpart_1111", "A", 0, [1.0], [0.5], blackbox=same)
    run_factory(root, "yahpo_rbv2_rpart", "A", 0, [1.0], [0.5], blackbox=same)
    run_factory(root, "yahpo_rbv2_rpart_14", "A", 0, [1.0], [0.5], blackbox={**same, "instance": "14"})
    warnings = [f.message for f in load_results(root).report.warnings if f.topic == "one-benchmark-two-names"]
    assert len(warnings) == 1
    assert "['yahpo_rbv2_rpart', 'yahpo_rbv2_rpart_1111'] are one benchmark (YAHPO rbv2_rpart, instance 1111)" \
        in warnings[0]
