"""Reading long tables: inference, densifying, and one test per malformed-table case."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mfbench.blackbox.long_table import LongTableSpec, TableError, read_header, read_long_table, table_format
from mfbench.space import Categorical, Float, Integer
from tests.blackbox.sources.byo_fixtures import CONFIGS, EPOCHS, SEEDS, val_loss, write_small_csv

GOOD = "x,epoch,loss,elapsed_time\na,1,0.5,10\na,2,0.4,20\nb,1,0.6,5\nb,2,0.2,10\n"


def _spec(**changes) -> LongTableSpec:
    fields = dict(hyperparameters=["x"], fidelity="epoch", objectives=["loss", "elapsed_time"],
                  elapsed_time="elapsed_time")
    fields.update(changes)
    return LongTableSpec(**fields)


def _csv(tmp_path, text: str, name: str = "t.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _small_spec() -> LongTableSpec:
    return LongTableSpec(hyperparameters=["optimizer", "lr", "width"], fidelity="epoch", seed="seed",
                         objectives=["val_loss", "epoch_seconds"], elapsed_time="epoch_seconds",
                         elapsed_time_is_per_epoch=True)


# ------------------------------------------------------------------------------ reading
def test_hand_made_csv_is_inferred_and_densified(tmp_path):
    table = read_long_table(write_small_csv(tmp_path / "s.csv"), _small_spec())
    # strings -> categorical (sorted choices); lr spans 0.001..0.1 (factor 100) -> log float;
    # width 32..128 (factor 4) -> linear integer
    assert table.hyperparameters == (Categorical("optimizer", ("adam", "sgd")), Float("lr", 0.001, 0.1, log=True),
                                     Integer("width", 32, 128))
    # configurations in order of first appearance; categoricals stored as the index of the choice
    expected = [[0.0 if o == "adam" else 1.0, lr, w] for (o, lr, w) in CONFIGS]
    np.testing.assert_array_equal(table.configurations, expected)
    assert table.seed_labels == [7, 9] and table.fidelity_values.tolist() == list(EPOCHS)
    assert table.objective_names == ["val_loss", "epoch_seconds", "elapsed_time"]
    assert table.evaluations.shape == (6, 2, 9, 3) and table.evaluations.dtype == np.float64
    for i, config in enumerate(CONFIGS):
        for s, seed in enumerate(SEEDS):
            np.testing.assert_array_equal(table.evaluations[i, s, :, 0], [val_loss(config, seed, e) for e in EPOCHS])
    # per-epoch seconds accumulate: ("sgd", 0.01, 128) takes 16 s per epoch -> 16, 32, ..., 144
    np.testing.assert_array_equal(table.evaluations[3, 1, :, 2], 16.0 * np.arange(1, 10))
    np.testing.assert_array_equal(table.evaluations[3, 1, :, 1], 16.0)


def test_float32_values_are_stored_as_float32_and_others_stay_exact(tmp_path):
    columns = {"x": ["a", "a", "b", "b"], "epoch": [1, 2, 1, 2],
               "loss": pa.array([0.5, 0.4, 0.6, 0.2], pa.float32()), "elapsed_time": [10, 20, 5, 10]}
    pq.write_table(pa.table(columns), tmp_path / "f32.parquet")
    table = read_long_table(tmp_path / "f32.parquet", _spec())
    assert table.evaluations.dtype == np.float32
    assert table.evaluations[1, 0, 1, 0] == np.float32(0.2)
    table = read_long_table(_csv(tmp_path, GOOD), _spec())  # 0.4 is no float32: float64 kept
    assert table.evaluations.dtype == np.float64 and table.evaluations[0, 0, 1, 0] == 0.4


def test_cost_per_fidelity_makes_the_elapsed_time(tmp_path):
    text = "x,epoch,loss\na,1,0.5\na,3,0.4\nb,1,0.6\nb,3,0.2\n"
    table = read_long_table(_csv(tmp_path, text), _spec(objectives=["loss"], elapsed_time=None, cost_per_fidelity=2.5))
    assert table.objective_names == ["loss", "elapsed_time"]
    np.testing.assert_array_equal(table.evaluations[:, 0, :, 1], [[2.5, 7.5], [2.5, 7.5]])


def test_declared_types_override_inference(tmp_path):
    text = "n,epoch,loss,elapsed_time\n1,1,0.5,10\n1,2,0.4,20\n4,1,0.6,5\n4,2,0.2,10\n"
    table = read_long_table(_csv(tmp_path, text), _spec(hyperparameters=["n"],
                                                        specs={"n": {"type": "categorical", "choices": [4, 1, 2]}}))
    assert table.hyperparameters == (Categorical("n", (4, 1, 2)),)
    np.testing.assert_array_equal(table.configurations[:, 0], [1.0, 0.0])  # 1 is choice 1, 4 is choice 0
    table = read_long_table(_csv(tmp_path, text), _spec(hyperparameters=["n"], specs={"n": {"type": "float",
                                                                                            "lower": 0, "upper": 8}}))
    assert table.hyperparameters == (Float("n", 0.0, 8.0),)


def test_an_empty_objective_cell_is_a_failed_evaluation(tmp_path):
    table = read_long_table(_csv(tmp_path, "x,epoch,loss,elapsed_time\na,1,,10\na,2,0.4,20\n"), _spec())
    assert np.isnan(table.evaluations[0, 0, 0, 0]) and table.evaluations[0, 0, 1, 0] == 0.4


def test_formats_and_compressed_csv(tmp_path):
    import gzip

    assert table_format("a.parquet") == "parquet" and table_format("a.CSV") == "csv"
    (tmp_path / "t.csv.gz").write_bytes(gzip.compress(GOOD.encode()))
    assert read_header(tmp_path / "t.csv.gz") == ["x", "epoch", "loss", "elapsed_time"]
    assert read_long_table(tmp_path / "t.csv.gz", _spec()).evaluations.shape == (2, 1, 2, 2)
    with pytest.raises(TableError, match=r"unknown table format '\.xlsx'.*parquet.*CSV"):
        table_format("results.xlsx")


# ------------------------------------------------------------------- malformed tables
def test_empty_table(tmp_path):
    with pytest.raises(TableError, match="has no rows \\(an empty table\\)"):
        read_long_table(_csv(tmp_path, "x,epoch,loss,elapsed_time\n"), _spec())
    with pytest.raises(TableError, match="is an empty file"):
        read_long_table(_csv(tmp_path, "", "zero.csv"), _spec())


def test_missing_columns(tmp_path):
    with pytest.raises(TableError, match=r"has no column\(s\) \['accuracy'\]; its columns are \['x', 'epoch'"):
        read_long_table(_csv(tmp_path, GOOD), _spec(objectives=["accuracy", "elapsed_time"]))


def test_fidelity_not_monotone(tmp_path):
    text = "x,epoch,loss,elapsed_time\na,1,0.5,10\na,2,0.4,20\nb,2,0.2,10\nb,1,0.6,5\n"
    with pytest.raises(TableError, match=r"'epoch' is not monotone along the learning curve of \{x: 'b'\}: "
                                         r"epoch=2 \(line 4\) comes before epoch=1 \(line 5\).*sort the table"):
        read_long_table(_csv(tmp_path, text), _spec())


def test_interleaved_curves_in_increasing_order_are_fine(tmp_path):
    text = "x,epoch,loss,elapsed_time\na,1,0.5,10\nb,1,0.6,5\na,2,0.4,20\nb,2,0.2,10\n"
    table = read_long_table(_csv(tmp_path, text), _spec())
    np.testing.assert_array_equal(table.evaluations[:, 0, :, 0], [[0.5, 0.4], [0.6, 0.2]])


def test_gaps_in_fidelities_say_which(tmp_path):
    text = ("x,epoch,loss,elapsed_time\n" + "".join(f"a,{e},0.5,{e}\n" for e in range(1, 6))
            + "b,1,0.6,5\nb,2,0.5,6\nb,5,0.2,10\n")
    with pytest.raises(TableError, match=r"gaps in the fidelities: 1 of 2 learning curves.*\(1\.\.5\): "
                                         r"\{x: 'b'\} lacks epoch 3\.\.4\..*benchmark\.objectives"):
        read_long_table(_csv(tmp_path, text), _spec())


def test_a_seed_without_rows_is_a_gap(tmp_path):
    text = "x,seed,epoch,loss,elapsed_time\na,0,1,0.5,10\na,1,1,0.5,10\nb,0,1,0.6,5\n"
    with pytest.raises(TableError, match=r"\{x: 'b'\} seed 1 has no rows"):
        read_long_table(_csv(tmp_path, text), _spec(seed="seed"))


def test_non_numeric_objective(tmp_path):
    text = "x,epoch,loss,elapsed_time\na,1,0.5,10\na,2,0.4,20\nb,1,0.6,5\nb,2,oops,10\n"
    with pytest.raises(TableError, match=r"objective column 'loss' is not numeric: 'oops' in line 5"):
        read_long_table(_csv(tmp_path, text), _spec())


def test_duplicate_rows(tmp_path):
    text = GOOD + "b,2,0.3,10\n"
    with pytest.raises(TableError, match=r"duplicate rows: 1 \(configuration, seed, fidelity\).*\{x: 'b'\} "
                                         r"epoch=2 \(lines 5, 6\).*benchmark\.seed_column"):
        read_long_table(_csv(tmp_path, text), _spec())


def test_elapsed_time_that_decreases(tmp_path):
    text = "x,epoch,loss,elapsed_time\na,1,0.5,10\na,2,0.4,20\nb,1,0.6,5\nb,2,0.2,4\n"
    with pytest.raises(TableError, match=r"elapsed time 'elapsed_time' decreases along the curve of \{x: 'b'\}: "
                                         r"5 at epoch=1, then 4 at epoch=2.*elapsed_time_is_per_epoch=true"):
        read_long_table(_csv(tmp_path, text), _spec())


def test_negative_per_epoch_time(tmp_path):
    text = "x,epoch,loss,t\na,1,0.5,10\na,2,0.4,-1\n"
    with pytest.raises(TableError, match=r"per-epoch time 't' is negative \(-1\) for \{x: 'a'\} at epoch=2"):
        read_long_table(_csv(tmp_path, text), _spec(objectives=["loss", "t"], elapsed_time="t",
                                                    elapsed_time_is_per_epoch=True))


def test_empty_elapsed_time_cell(tmp_path):
    text = "x,epoch,loss,elapsed_time\na,1,0.5,10\na,2,0.4,\n"
    with pytest.raises(TableError, match=r"'elapsed_time' is empty for \{x: 'a'\} at epoch=2"):
        read_long_table(_csv(tmp_path, text), _spec())


def test_fidelity_that_is_not_a_positive_integer(tmp_path):
    with pytest.raises(TableError, match=r"must hold integers >= 1.*found 0\.5 in line 2"):
        read_long_table(_csv(tmp_path, "x,epoch,loss,elapsed_time\na,0.5,0.5,10\na,1,0.4,20\n"), _spec())
    with pytest.raises(TableError, match=r"must hold integers >= 1.*found 0 in line 2"):
        read_long_table(_csv(tmp_path, "x,epoch,loss,elapsed_time\na,0,0.5,10\na,1,0.4,20\n"), _spec())


def test_empty_hyperparameter_cell(tmp_path):
    with pytest.raises(TableError, match=r"hyperparameter column 'x' has 1 empty value\(s\) \(line 3\)"):
        read_long_table(_csv(tmp_path, "x,epoch,loss,elapsed_time\na,1,0.5,10\n,1,0.4,20\n"), _spec())


def test_value_outside_the_declared_choices_and_range(tmp_path):
    with pytest.raises(TableError, match=r"value\(s\) \['b'\] \(lines 4, 5\) are not among its declared choices"):
        read_long_table(_csv(tmp_path, GOOD), _spec(specs={"x": {"type": "categorical", "choices": ["a"]}}))
    text = "n,epoch,loss,elapsed_time\n1,1,0.5,10\n9,1,0.4,20\n"
    with pytest.raises(TableError, match=r"values outside its declared range \[0, 5\] \(line 3\)"):
        read_long_table(_csv(tmp_path, text), _spec(hyperparameters=["n"], specs={"n": {"upper": 5, "lower": 0}}))


def test_integers_too_large_for_float64_must_be_categorical(tmp_path):
    text = "n,epoch,loss,elapsed_time\n1152921504606846976,1,0.5,10\n1152921504606846977,1,0.4,20\n"  # 2^60, 2^60 + 1
    with pytest.raises(TableError, match=r"column 'n' holds integers of magnitude 2\^53 or more .*type=categorical"):
        read_long_table(_csv(tmp_path, text), _spec(hyperparameters=["n"]))
    table = read_long_table(_csv(tmp_path, text), _spec(hyperparameters=["n"], specs={"n": {"type": "categorical"}}))
    assert table.hyperparameters[0] == Categorical("n", (2**60, 2**60 + 1))


def test_parquet_rows_are_counted_from_one(tmp_path):
    pq.write_table(pa.table({"x": ["a", "a"], "epoch": [2, 1], "loss": [0.1, 0.2], "elapsed_time": [2.0, 1.0]}),
                   tmp_path / "t.parquet")
    with pytest.raises(TableError, match=r"epoch=2 \(row 1\) comes before epoch=1 \(row 2\)"):
        read_long_table(tmp_path / "t.parquet", _spec())


def test_declared_fidelity_values_must_all_be_present(tmp_path):
    with pytest.raises(TableError, match=r"lacks epoch 3"):
        read_long_table(_csv(tmp_path, GOOD), _spec(fidelity_values=[1, 2, 3]))
    with pytest.raises(TableError, match=r"epoch=2 \(lines 3, 5\) is not among the fidelity values"):
        read_long_table(_csv(tmp_path, GOOD), _spec(fidelity_values=[1]))


def test_many_high_cardinality_hyperparameters_keep_first_appearance_order(tmp_path):
    # 7 columns x 300 distinct values: 300^7 > 2^62 combinations, so the key is folded on the way
    rng = np.random.default_rng(0)
    values = rng.random((300, 7))
    columns = {f"x{j}": np.concatenate([values[:, j], values[::-1, j]]) for j in range(7)}
    columns.update(epoch=[1] * 300 + [2] * 300, loss=np.arange(600.0), elapsed_time=[1.0] * 300 + [2.0] * 300)
    pq.write_table(pa.table(columns), tmp_path / "wide.parquet")
    table = read_long_table(tmp_path / "wide.parquet", _spec(hyperparameters=[f"x{j}" for j in range(7)]))
    np.testing.assert_array_equal(table.configurations, values)
    np.testing.assert_array_equal(table.evaluations[:, 0, :, 0], np.stack([np.arange(300.0), 599 - np.arange(300.0)], 1))


@pytest.mark.parametrize("text, message", [
    ("x,epoch,loss,elapsed_time\na,1,0.5,10\na,2,-inf,20\n",
     r"objective 'loss' is -inf for .*epoch=2 \(1 infinite cell\(s\) in all\).*write NaN for a failed evaluation"),
    ("x,epoch,loss,elapsed_time\na,1,inf,10\na,2,inf,20\n", r"objective 'loss' is inf .*2 infinite cell"),
    ("x,epoch,loss,elapsed_time\na,1,0.5,10\na,2,0.4,inf\n", r"objective 'elapsed_time' is inf"),
    ("x,epoch,loss,elapsed_time\na,1,0.5,-20\na,2,0.4,-10\n",
     r"elapsed time 'elapsed_time' is negative \(-20\) .*epoch=1 \(2 negative cell\(s\) in all\).*>= 0"),
])
def test_values_that_would_make_a_run_lie_are_refused(tmp_path, text, message):
    with pytest.raises(TableError, match=message):
        read_long_table(_csv(tmp_path, text), _spec())


def test_an_infinite_per_epoch_time_is_refused(tmp_path):
    text = "x,epoch,loss,secs\na,1,0.5,10\na,2,0.4,inf\n"
    with pytest.raises(TableError, match=r"objective 'secs' is inf"):
        read_long_table(_csv(tmp_path, text), _spec(objectives=["loss", "secs"], elapsed_time="secs",
                                                    elapsed_time_is_per_epoch=True))


def test_a_column_name_twice_in_the_header_is_refused(tmp_path):
    text = "x,epoch,x,loss,elapsed_time\na,1,b,0.5,10\n"
    with pytest.raises(TableError, match=r"the column name\(s\) \['x'\] appear more than once in the header"):
        read_long_table(_csv(tmp_path, text), _spec())
