"""benchmark=table: options and their errors, defaults, round trips, every method.

The source's sidecar, column roles and cache are tested in tests/blackbox/sources/test_user_table.py.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from mfbench.config.tree import config_dir
from mfbench.api import compose, simulate
from mfbench.benchmarks.table import table_benchmark
from mfbench.errors import ConfigError, UserInputError
from tests.blackbox.sources.byo_fixtures import (CONFIGS, EPOCHS, SMALL_CSV_OVERRIDES, epoch_seconds, val_loss,
                                                 write_small_csv)

METHODS = sorted(p.stem for p in (Path(config_dir()) / "method").glob("*.yaml"))
SHORT = ["stopping=evaluations", "stopping.max_num_evaluations=300", "progress=false"]


def _small(tmp_path, **options):
    path = tmp_path / "small.csv"
    if not path.exists():
        write_small_csv(path)
    return table_benchmark(str(path), metric="val_loss",
                           elapsed_time="epoch_seconds", elapsed_time_is_per_epoch=True, **options)


# ----------------------------------------------------------------------------- config
def test_table_needs_a_path():
    with pytest.raises(ConfigError, match=r"benchmark\.path is required: benchmark=table needs benchmark\.path=PATH"):
        simulate(compose(["benchmark=table"]))


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"the table .*nope\.csv does not exist"):
        simulate(compose(["benchmark=table", f"benchmark.path={tmp_path / 'nope.csv'}"]))


def test_misspelled_option_is_caught():
    with pytest.raises(ConfigError, match=r"benchmark\.metrc: unknown option.*Accepted options: path, metric"):
        simulate(compose(["benchmark=table", "benchmark.path=x.csv", "+benchmark.metrc=loss"]))


def test_hand_made_csv_benchmark_and_its_default_budget(tmp_path):
    benchmark = _small(tmp_path)
    assert (benchmark.metric, benchmark.mode, benchmark.fidelity_attr) == ("val_loss", "min", "epoch")
    assert benchmark.elapsed_time_attr == "elapsed_time" and benchmark.n_workers == 4
    # full-fidelity time = 9 epochs x width / 8 s: 36, 72, 36, 144, 144, 72 (x 2 seeds); median 72 -> 20 x 72
    assert benchmark.max_wallclock_time == 1440.0
    blackbox = benchmark.open()
    assert blackbox.config_space.table == list(CONFIGS)  # order of first appearance
    config = {"optimizer": "sgd", "lr": 0.01, "width": 128}
    np.testing.assert_array_equal(blackbox.evaluate(config, 1, np.array([1, 9])),
                                  [[val_loss(("sgd", 0.01, 128), 9, 1), 16.0, 16.0],
                                   [val_loss(("sgd", 0.01, 128), 9, 9), 16.0, 144.0]])
    assert blackbox.describe()["seed_labels"] == [7, 9]
    assert "small.csv: 6 configurations, 2 seed(s), epoch 1..9" in benchmark.description


def test_options_win_over_inference(tmp_path):
    benchmark = _small(tmp_path, mode="max", n_workers=2, max_wallclock_time=99.0, max_fidelity=3,
                       hyperparameters={"width": {"type": "categorical"}}, description="mine")
    assert (benchmark.mode, benchmark.n_workers, benchmark.max_wallclock_time, benchmark.max_fidelity) == \
        ("max", 2, 99.0, 3)
    assert benchmark.open().config_space.hyperparameters[2].choices == (32, 64, 128)
    assert benchmark.description == "mine" and benchmark.fidelities.tolist() == [1, 2, 3]


@pytest.mark.parametrize("options, message", [
    ({"cost_per_fidelity": 1.0}, r"benchmark\.metric=NAME is required"),
    ({"metric": "acc", "cost_per_fidelity": 1.0}, r"benchmark\.metric='acc': small\.csv has no such column; its columns are \['optimizer'"),
    ({"metric": "val_loss"}, r"needs training times: name the column with benchmark\.elapsed_time=COLUMN"),
    ({"metric": "val_loss", "fidelity": "step", "cost_per_fidelity": 1.0}, r"benchmark\.fidelity='step'"),
    ({"metric": "val_loss", "cost_per_fidelity": 1.0, "elapsed_time": "epoch_seconds"}, r"set either it or"),
    ({"metric": "val_loss", "cost_per_fidelity": 1.0, "hyperparameters": {"val_loss": "float"}},
     r"hyperparameters\.val_loss: 'val_loss' is an objective, not a hyperparameter column"),
    ({"metric": "val_loss", "cost_per_fidelity": 1.0, "hyperparameters": {"lr": {"type": "float", "scale": 2}}},
     r"hyperparameters\.lr: unknown key\(s\) \['scale'\]"),
    ({"metric": "val_loss", "cost_per_fidelity": 1.0, "cache": "sometimes"}, r"benchmark\.cache must be one of"),
    ({"metric": "val_loss", "cost_per_fidelity": 1.0, "max_fidelity": 10},
     r"max_fidelity=10 is not a fidelity of the table \(epoch: 1\.\.9\)"),
])
def test_bad_options_say_what_to_set(tmp_path, options, message):
    with pytest.raises(ConfigError, match=message):
        table_benchmark(str(write_small_csv(tmp_path / "small.csv")), **options)


def test_an_objective_taken_for_a_hyperparameter_shows_as_gaps_with_the_fix(tmp_path):
    # epoch_seconds is not declared an objective: it becomes a hyperparameter column, curves split
    text = "x,epoch,loss,elapsed_time,t\na,1,0.5,10,10\na,2,0.4,20,11\n"
    (tmp_path / "t.csv").write_text(text)
    with pytest.raises(UserInputError, match=r"gaps.*hyperparameter columns here: \['x', 't'\].*benchmark\.objectives"):
        table_benchmark(str(tmp_path / "t.csv"), metric="loss")
    benchmark = table_benchmark(str(tmp_path / "t.csv"), metric="loss", objectives=["loss", "t"])
    assert benchmark.open().objective_names == ["loss", "t", "elapsed_time"]
    assert benchmark.open().config_space.names == ["x"]
    assert table_benchmark(str(tmp_path / "t.csv"), metric="loss", ignore=["t"]).open().objective_names == \
        ["loss", "elapsed_time"]


# -------------------------------------------------------------------------- round trips
def _run(overrides: list[str], out: Path) -> dict:
    from mfbench.cli.app import run

    cfg = compose(overrides)
    run(cfg, out, dict(cfg.hydra.runtime.choices))
    return pq.read_table(out / "results.parquet").to_pydict()


def _export(benchmark: str, out: Path) -> Path:
    from mfbench.data.cli import main

    assert main(["export", benchmark, "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("variant", ["sidecar", "no sidecar", "cached"])
def test_round_trip_of_an_exported_benchmark_gives_identical_results(tmp_path, variant):
    path = _export("hartmann3", tmp_path / "h3.parquet")
    method = ["method=asha_prom", "seed=3", *SHORT]
    original = _run(["benchmark=hartmann3", *method], tmp_path / "original")
    extra = {"sidecar": [],
             "no sidecar": ["benchmark.sidecar=false", "benchmark.metric=value", "benchmark.n_workers=4",
                            "benchmark.objectives=[value,runtime,elapsed_time]"],
             "cached": ["benchmark.cache=always", f"benchmark.cache_dir={tmp_path / 'cache'}"]}[variant]
    table = _run(["benchmark=table", f"benchmark.path={path}", *extra, *method], tmp_path / "table")
    assert len(original["trial_id"]) == 300
    assert list(table) == list(original)
    for column in original:
        assert table[column] == original[column], column


def test_round_trip_of_real_nb201_records(tmp_path, converted_fixtures):
    path = _export("nas201_cifar100", tmp_path / "nb.parquet")
    method = ["method=asha_stop", "seed=1", "stopping=evaluations", "stopping.max_num_evaluations=200"]
    original = _run(["benchmark=nas201_cifar100", *method], tmp_path / "original")
    table = _run(["benchmark=table", f"benchmark.path={path}", *method], tmp_path / "table")
    assert list(table) == list(original) and table == original


# ---------------------------------------------------------------------- every method
@pytest.mark.parametrize("method", METHODS)
def test_every_method_runs_on_a_hand_made_csv(tmp_path, method):
    path = write_small_csv(tmp_path / "small.csv")
    columns, metadata = simulate(compose([
        "benchmark=table", f"benchmark.path={path}", *SMALL_CSV_OVERRIDES, f"method={method}",
        "stopping=evaluations", "stopping.max_num_evaluations=40", "seed=2",
    ]))
    n = metadata["num_results"]
    assert n > 0 and metadata["blackbox"]["kind"] == "tabular"
    seeds = metadata["blackbox"]["seed_labels"]
    for i in range(n):
        config = (columns["config_optimizer"][i], columns["config_lr"][i], columns["config_width"][i])
        epoch = int(columns["epoch"][i])
        assert config in CONFIGS  # the search stays on the table's configurations
        assert columns["val_loss"][i] == val_loss(config, seeds[columns["table_seed"][i]], epoch)
        assert columns["elapsed_time"][i] == epoch_seconds(config) * epoch
    assert set(columns["epoch"]) <= set(EPOCHS)


@pytest.mark.parametrize("cost", [0.0, -1.0, float("inf"), float("nan")])
def test_cost_per_fidelity_must_be_finite_and_positive(tmp_path, cost):
    (tmp_path / "t.csv").write_text("x,epoch,loss\na,1,0.5\na,2,0.4\n")
    with pytest.raises(ConfigError, match="cost_per_fidelity must be a finite number of seconds > 0"):
        table_benchmark(str(tmp_path / "t.csv"), metric="loss", cost_per_fidelity=cost).open()


def test_the_run_summary_counts_nan_metric_values(tmp_path):
    from mfbench.cli.console import format_summary

    path = write_small_csv(tmp_path / "small.csv")
    rows = path.read_text().splitlines()
    rows[1:19] = [",".join(r.split(",")[:5] + ["", r.split(",")[6]]) for r in rows[1:19]]  # a configuration fails
    path.write_text("\n".join(rows) + "\n")
    _, metadata = simulate(compose(["benchmark=table", f"benchmark.path={path}", *SMALL_CSV_OVERRIDES, *SHORT,
                                    "method=random_search"]))
    assert 0 < metadata["num_nan_results"] < metadata["num_results"]
    summary = format_summary(metadata, str(tmp_path))
    assert (f"  NaN val_loss: {metadata['num_nan_results']} of {metadata['num_results']} results (failed "
            "evaluations, treated as the worst result)") in summary.splitlines()
    assert "NaN" not in format_summary({**metadata, "num_nan_results": 0}, str(tmp_path))
