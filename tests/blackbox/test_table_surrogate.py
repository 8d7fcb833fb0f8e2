"""Surrogates over tables: exact at table configurations with 1-NN, seeds, spaces, errors, determinism."""
from __future__ import annotations

import numpy as np
import pytest

from mfbench.benchmarks.base import Benchmark
from mfbench.blackbox.analytic import hartmann_blackbox
from mfbench.blackbox.base import TabularBlackbox
from mfbench.blackbox.table_surrogate import TableSurrogateBlackbox, table_surrogate
from mfbench.errors import ConfigError
from mfbench.space import Categorical, ConfigSpace, Float, Integer


def _table(num_seeds: int = 2) -> TabularBlackbox:
    """6 configurations (opt: a/b/c categorical, lr float, width integer) x seeds x epochs 1..4; (loss, elapsed)."""
    rows = [("a", 0.001, 16), ("a", 0.01, 32), ("b", 0.1, 16), ("b", 0.001, 64), ("c", 0.01, 64), ("c", 0.1, 32)]
    space = ConfigSpace((Categorical("opt", ("a", "b", "c")), Float("lr", 0.001, 0.1, log=True),
                         Integer("width", 16, 64)), table=rows)
    rng = np.random.default_rng(0)
    loss = rng.random((len(rows), num_seeds, 4))
    elapsed = np.cumsum(1 + rng.random((len(rows), num_seeds, 4)), axis=2)
    return TabularBlackbox(space, [1, 2, 3, 4], ["loss", "elapsed_time"], np.stack([loss, elapsed], axis=-1))


def test_one_nearest_neighbour_reproduces_every_table_value_at_every_seed():
    table = _table()
    surrogate = TableSurrogateBlackbox(table, "knn")
    assert surrogate.num_seeds == 2
    assert surrogate.describe()["surrogate_kwargs"] == {"n_neighbors": 1, "algorithm": "kd_tree"}
    every = table.fidelity_values
    for index in range(6):
        config = table.config_space.config_at(index)
        for seed in range(2):
            np.testing.assert_array_equal(surrogate.evaluate(config, seed, every), table.evaluate(config, seed, every))
            np.testing.assert_array_equal(surrogate.evaluate(config, seed, np.array([2, 4])),
                                          table.evaluate(config, seed, np.array([2, 4])))
    configs = table.config_space.enumerate()
    np.testing.assert_array_equal(surrogate.evaluate_many(configs, 1, every), table.evaluations[:, 1])


def test_the_full_offline_nb201_table_is_reproduced_at_sampled_configurations():
    from mfbench.blackbox.sources.nas201_offline import nas201_offline_blackbox

    table = nas201_offline_blackbox("cifar100")
    surrogate = table_surrogate(table, "knn")
    rng = np.random.default_rng(1)
    for index in rng.integers(len(table.config_space.table), size=50):
        config = table.config_space.config_at(int(index))
        seed = int(rng.integers(3))
        np.testing.assert_array_equal(surrogate.evaluate(config, seed, table.fidelity_values),
                                      table.evaluate(config, seed, table.fidelity_values))
    assert table_surrogate(table, "knn") is surrogate  # fitted once per process


def test_merged_seeds_fit_one_model_over_all_seeds():
    table = _table()
    merged = TableSurrogateBlackbox(table, "knn", surrogate_seeds="merged")
    assert merged.num_seeds == 1 and merged.fit_rows == 12
    config = table.config_space.config_at(3)
    value = merged.evaluate(config, 0, table.fidelity_values)
    assert any(np.array_equal(value, table.evaluate(config, s, table.fidelity_values)) for s in range(2))
    averaged = TableSurrogateBlackbox(table, "knn", {"n_neighbors": 2}, surrogate_seeds="merged")
    np.testing.assert_allclose(averaged.evaluate(config, 0, table.fidelity_values), table.evaluations[3].mean(axis=0))


def test_the_space_is_the_tables_domains_unrestricted_and_off_table_configurations_get_curves():
    table = _table()
    surrogate = TableSurrogateBlackbox(table, "knn")
    assert surrogate.config_space.table is None
    assert surrogate.config_space.hyperparameters == table.config_space.hyperparameters
    off_table = {"opt": "a", "lr": 0.05, "width": 40}
    assert not table.config_space.contains(off_table)
    values = surrogate.evaluate(off_table, 0, np.array([1, 2, 3, 4]))
    assert values.shape == (4, 2) and np.isfinite(values).all()
    # 1-NN answers some table row's curve
    assert any(np.array_equal(values, table.evaluations[i, 0]) for i in range(6))
    with pytest.raises(ValueError, match="not a configuration"):
        surrogate.evaluate({"opt": "a", "lr": 5.0, "width": 40}, 0, np.array([1]))
    with pytest.raises(ValueError, match="seed 2"):
        surrogate.evaluate(off_table, 2, np.array([1]))


def test_config_space_surrogate_widens_named_hyperparameters_and_defaults_to_the_tables_range():
    table = _table()
    spec = {"lr": {"type": "float", "lower": 1e-5, "upper": 1.0, "log": True}, "width": "float",
            "opt": {"type": "categorical", "choices": ["a", "b", "c", "d"]}}
    surrogate = TableSurrogateBlackbox(table, "knn", config_space_surrogate=spec)
    lr, width = surrogate.config_space.hyperparameters[1:]
    assert (lr.lower, lr.upper, lr.log) == (1e-5, 1.0, True)
    assert isinstance(width, Float) and (width.lower, width.upper) == (16, 64)
    # a choice the table never holds encodes as all zeros (OneHotEncoder(handle_unknown="ignore"))
    assert np.isfinite(surrogate.evaluate({"opt": "d", "lr": 0.5, "width": 20.5}, 0, np.array([4]))).all()
    # still exact at the table's configurations
    config = table.config_space.config_at(2)
    np.testing.assert_array_equal(surrogate.evaluate(config, 1, table.fidelity_values),
                                  table.evaluate(config, 1, table.fidelity_values))
    listed = TableSurrogateBlackbox(table, "knn", config_space_surrogate=[{"name": "width", "type": "integer",
                                                                           "lower": 1, "upper": 128}])
    assert listed.config_space.hyperparameters[2] == Integer("width", 1, 128)


@pytest.mark.parametrize("spec, message", [
    ({"depth": "float"}, "has no hyperparameter 'depth'.*fix the name"),
    ({"lr": {"type": "float", "lower": 0.01, "upper": 1.0}}, r"does not cover the table's values \[0.001, 0.1\]"),
    ({"opt": "float"}, "not a number; declare it categorical"),
    ({"opt": {"type": "categorical", "choices": ["a", "b"]}}, r"leave out table values \['c'\]"),
    ({"lr": {"type": "integer"}}, "fractional values"),
    ({"lr": {"type": "float", "lower": 0.0, "log": True}}, "log scale needs lower > 0"),
    ({"lr": {"type": "real"}}, "unknown hyperparameter type"),
])
def test_bad_config_space_surrogate_is_a_config_error_naming_the_fix(spec, message):
    with pytest.raises(ConfigError, match=message):
        TableSurrogateBlackbox(_table(), "knn", config_space_surrogate=spec)


def _benchmark(**options) -> Benchmark:
    return Benchmark(blackbox=_table(), metric="loss", elapsed_time_attr="elapsed_time", **options)


@pytest.mark.parametrize("options, message", [
    ({"surrogate": "nearest"}, "'nearest' is not a surrogate model; choose one of knn, random_forest"),
    ({"surrogate": "KNeighborsRegressor"}, "Syne Tune's KNeighborsRegressor is benchmark.surrogate=knn here"),
    ({"surrogate": "XGBRegressor"}, "needs xgboost"),
    ({"surrogate": "knn", "surrogate_kwargs": {"n_neigbors": 3}}, "surrogate_kwargs.n_neigbors.*its options: n_neighbors"),
    ({"surrogate": "knn", "surrogate_kwargs": {"n_neighbors": 0}}, "surrogate_kwargs: .*n_neighbors"),
    ({"surrogate": "knn", "surrogate_seeds": "pooled"}, "surrogate_seeds='pooled': choose separate"),
    ({"config_space_surrogate": {"lr": "float"}}, "config_space_surrogate is set but benchmark.surrogate is not"),
    ({"surrogate_kwargs": {"n_neighbors": 3}}, "add benchmark.surrogate=knn"),
])
def test_bad_surrogate_options_fail_when_the_benchmark_is_built(options, message):
    with pytest.raises(ConfigError, match=message):
        _benchmark(**options)


def test_more_neighbours_than_rows_fails_at_fit_with_a_config_error():
    with pytest.raises(ConfigError, match="fitting failed on 6 rows"):
        _benchmark(surrogate="knn", surrogate_kwargs={"n_neighbors": 7}).open()


def test_a_benchmark_opens_its_table_wrapped_and_records_the_surrogate():
    benchmark = _benchmark(surrogate="knn", config_space_surrogate={"width": "integer"})
    blackbox = benchmark.open()
    assert isinstance(blackbox, TableSurrogateBlackbox) and benchmark.open() is blackbox
    described = blackbox.describe()
    assert described["kind"] == "surrogate" and described["surrogate"] == "knn"
    assert described["table"]["kind"] == "tabular" and described["table"]["num_configs"] == 6
    assert described["config_space"][2] == {"name": "width", "type": "integer", "lower": 16, "upper": 64, "log": False}


def test_only_tables_take_a_surrogate():
    from mfbench.blackbox.surrogate import SurrogateBlackbox

    model = SurrogateBlackbox(ConfigSpace((Float("x", 0.0, 1.0),)), [1], ["loss", "elapsed_time"],
                              lambda configs, fidelities, seed: np.zeros((len(configs), 2)))
    with pytest.raises(ConfigError, match="not a table.*remove benchmark.surrogate"):
        Benchmark(blackbox=model, metric="loss", surrogate="knn").open()


@pytest.mark.parametrize("name, kwargs", [("random_forest", {"n_estimators": 5}), ("mlp", {"max_iter": 50}),
                                          ("extra_trees", {"n_estimators": 5}), ("ridge", {})])
def test_seeded_estimators_fit_the_same_function_every_time(name, kwargs):
    import warnings

    table = hartmann_blackbox(3, grid_size=4, max_epoch=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the MLP's convergence warning at 50 iterations
        first = TableSurrogateBlackbox(table, name, kwargs)
        second = TableSurrogateBlackbox(table, name, kwargs)
    if name != "ridge":
        assert first.kwargs["random_state"] == 0
    config = {"x0": 0.3, "x1": 0.71, "x2": 0.05}
    np.testing.assert_array_equal(first.evaluate(config, 2, table.fidelity_values),
                                  second.evaluate(config, 2, table.fidelity_values))


def test_missing_values_are_forward_filled_and_configurations_without_a_first_value_left_out():
    table = _table(num_seeds=1)
    evaluations = np.array(table.evaluations)
    evaluations[0, 0, 2, 0] = np.nan  # a failure mid-curve: takes epoch 2's value
    evaluations[1, 0, 0, 1] = np.nan  # nothing before it: configuration 1 is left out
    broken = TabularBlackbox(table.config_space, table.fidelity_values, table.objective_names, evaluations)
    surrogate = TableSurrogateBlackbox(broken, "knn")
    assert surrogate.dropped_configs == 1 and surrogate.fit_rows == 5
    filled = surrogate.evaluate(table.config_space.config_at(0), 0, table.fidelity_values)
    assert filled[2, 0] == evaluations[0, 0, 1, 0]
    assert np.isfinite(surrogate.evaluate(table.config_space.config_at(1), 0, table.fidelity_values)).all()


def test_resumed_lookups_answer_from_the_kept_curve_unchanged_by_callers():
    table = _table()
    surrogate = TableSurrogateBlackbox(table, "knn")
    config = table.config_space.config_at(4)
    first = surrogate.evaluate(config, 0, np.array([1, 2]))
    first[:] = -1.0  # a caller writing into its answer does not change the next one
    np.testing.assert_array_equal(surrogate.evaluate(config, 0, np.array([1, 2, 3])),
                                  table.evaluate(config, 0, np.array([1, 2, 3])))
