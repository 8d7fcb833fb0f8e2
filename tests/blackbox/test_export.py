"""Long-format export of tabular and surrogate blackboxes."""
from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from mfbench.blackbox.export import export_long_format
from mfbench.blackbox.surrogate import SurrogateBlackbox
from mfbench.space import Categorical, ConfigSpace, Float
from tests.conftest import tiny_blackbox


def test_tabular_rows_are_config_seed_fidelity(tmp_path):
    path = export_long_format(tiny_blackbox(), tmp_path / "t.parquet", metric="loss", elapsed_time_attr="elapsed_time")
    table = pq.read_table(path).to_pydict()
    assert table["x"] == ["a"] * 3 + ["b"] * 3 + ["c"] * 3
    assert table["epoch"] == [1, 2, 3] * 3 and table["seed"] == [0] * 9
    assert table["loss"] == pytest.approx([0.5, 0.4, 0.3, 0.6, 0.2, 0.1, 0.9, 0.8, 0.7])
    assert table["elapsed_time"][3:6] == pytest.approx([20.0, 40.0, 60.0])
    sidecar = json.loads((tmp_path / "t.json").read_text())
    assert sidecar["exported_from"] == "table" and sidecar["metric"] == "loss"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def _model(configs, fidelities, seed):
    x = np.array([1.0 if c["x"] == "b" else 0.0 for c in configs])
    return np.stack([x + fidelities, fidelities * 10.0], axis=1)


def test_finite_surrogate_is_exported_whole_and_continuous_needs_a_sample(tmp_path):
    finite = SurrogateBlackbox(ConfigSpace((Categorical("x", ("a", "b")),)), [1, 2], ["v", "t"], _model)
    table = pq.read_table(export_long_format(finite, tmp_path / "f.parquet")).to_pydict()
    assert table["x"] == ["a", "a", "b", "b"] and table["v"] == [1.0, 2.0, 2.0, 3.0]
    continuous = SurrogateBlackbox(ConfigSpace((Float("y", 0.0, 1.0),)), [1, 2], ["v", "t"],
                                   lambda c, f, s: np.stack([np.array([k["y"] for k in c]) * f, f], axis=1))
    with pytest.raises(ValueError, match="continuous configuration space.*--sample-configs"):
        export_long_format(continuous, tmp_path / "c.parquet")
    table = pq.read_table(export_long_format(continuous, tmp_path / "c.parquet", sample_configs=3, seed=1)).to_pydict()
    assert len(table["y"]) == 6
    assert table["v"][1] == pytest.approx(2 * table["y"][1])


@pytest.mark.parametrize("name", ["table.csv", "table.csv.gz", "table"])
def test_an_export_is_named_parquet(tmp_path, name):
    from mfbench.blackbox.export import parquet_path

    with pytest.raises(ValueError, match=r"an export is written as parquet; name the file table\.parquet"):
        parquet_path(tmp_path / name)
    assert parquet_path(tmp_path / "t.PARQUET") == tmp_path / "t.PARQUET"
