"""Every method runs on a surrogate-wrapped table; the surrogate options leave old fingerprints alone."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from mfbench.api import compose, simulate
from mfbench.config.fingerprint import OPTIONAL_KEYS, config_fingerprint
from mfbench.config.resolve import resolve_config
from mfbench.config.tree import config_dir

METHODS = sorted(p.stem for p in (Path(config_dir()) / "method").glob("*.yaml"))


@pytest.mark.parametrize("method", METHODS)
def test_every_method_runs_on_the_continuous_space_of_a_surrogate_over_the_hartmann_grid(method):
    # 1-NN over the 11^3 grid, searched in [0, 1]^3: configurations off the grid get the nearest row's curve
    cfg = compose(["benchmark=hartmann3", "benchmark.surrogate=knn", f"method={method}", "stopping=evaluations",
                   "stopping.max_num_evaluations=30", "seed=1"])
    columns, metadata = simulate(cfg)
    assert metadata["num_results"] == 30
    assert metadata["blackbox"]["surrogate"] == "knn" and metadata["blackbox"]["num_seeds"] == 3
    assert all(math.isfinite(float(v)) for v in columns["value"])
    xs = [columns[f"config_x{i}"] for i in range(3)]
    assert all(0.0 <= v <= 1.0 for x in xs for v in x)
    grid = {round(k / 10, 9) for k in range(11)}  # every method searches the continuous space, not the grid
    assert any(round(float(v), 9) not in grid for x in xs for v in x), "only grid points were proposed"


def test_unset_surrogate_options_do_not_change_a_fingerprint():
    config = resolve_config(compose(["benchmark=nas201_offline_cifar100"]), {})
    assert set(OPTIONAL_KEYS["benchmark"]) <= set(config["benchmark"])  # the YAML declares them, at null
    without = {**config, "benchmark": {k: v for k, v in config["benchmark"].items()
                                       if k not in OPTIONAL_KEYS["benchmark"]}}
    assert config_fingerprint(config) == config_fingerprint(without)
    with_surrogate = {**config, "benchmark": {**config["benchmark"], "surrogate": "knn"}}
    assert config_fingerprint(with_surrogate) != config_fingerprint(config)
    # only the listed keys at None are dropped: any other None still counts
    other = {**config, "benchmark": {**config["benchmark"], "some_option": None}}
    assert config_fingerprint(other) != config_fingerprint(config)


def test_a_bad_surrogate_option_on_the_command_line_is_a_config_error():
    from mfbench.errors import ConfigError

    with pytest.raises(ConfigError, match="not a surrogate model"):
        simulate(compose(["benchmark=hartmann3", "benchmark.surrogate=nearest"]))
    with pytest.raises(ConfigError, match="has no hyperparameter 'x9'"):
        simulate(compose(["benchmark=hartmann3", "benchmark.surrogate=knn",
                          "benchmark.config_space_surrogate={x9: float}", "stopping=evaluations",
                          "stopping.max_num_evaluations=1"]))


def test_a_run_through_the_1nn_example_yaml_records_exactly_the_table_values():
    from mfbench.blackbox.sources.nas201_offline import nas201_offline_blackbox

    columns, metadata = simulate(compose(["benchmark=nas201_offline_cifar100_knn", "method=asha_prom",
                                          "stopping=evaluations", "stopping.max_num_evaluations=60"]))
    assert metadata["blackbox"]["kind"] == "surrogate" and metadata["blackbox"]["table"]["kind"] == "tabular"
    table = nas201_offline_blackbox("cifar100")
    names = table.config_space.names
    for i in range(len(columns["trial_id"])):
        config = {name: columns[f"config_{name}"][i] for name in names}
        expected = table.evaluate(config, int(columns["table_seed"][i]), np.array([columns["hp_epoch"][i]]))[0]
        assert [columns[name][i] for name in table.objective_names] == expected.tolist()
