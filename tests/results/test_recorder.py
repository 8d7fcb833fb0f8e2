from __future__ import annotations

import numpy as np
import pytest

from mfbench.errors import ConfigError
from mfbench.results.recorder import ResultRecorder
from mfbench.space import Categorical, ConfigSpace

SPACE = ConfigSpace((Categorical("lr", ("a", "b")),))


def test_columns_of_one_result():
    recorder = ResultRecorder(["loss", "time"], "epoch", SPACE)
    recorder.configs[0] = {"lr": "b"}
    recorder.add(0, 1, 0, 3, np.array([0.5, 30.0]), 31.5, "continue")
    columns = recorder.to_columns()
    assert list(columns) == ["trial_id", "worker", "table_seed", "epoch", "loss", "time", "sim_time", "decision",
                             "config_lr"]
    assert columns["loss"].tolist() == [0.5] and columns["config_lr"] == ["b"] and columns["sim_time"].tolist() == [31.5]


@pytest.mark.parametrize("objectives, fidelity, shared", [
    (["loss", "sim_time"], "epoch", "'sim_time' (a column the simulator writes and an objective)"),
    (["worker"], "epoch", "'worker'"),
    (["loss"], "trial_id", "'trial_id' (a column the simulator writes and the fidelity)"),
    (["loss", "epoch"], "epoch", "'epoch' (the fidelity and an objective)"),
    (["config_lr"], "epoch", "'config_lr' (an objective and the column of hyperparameter 'lr')"),
])
def test_a_name_shared_by_two_columns_is_refused(objectives, fidelity, shared):
    """One column would silently overwrite the other in results.parquet."""
    with pytest.raises(ConfigError, match=f"two columns named {shared}".replace("(", r"\(").replace(")", r"\)")):
        ResultRecorder(objectives, fidelity, SPACE)
