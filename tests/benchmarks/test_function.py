"""benchmark=function: a Python callable declared in YAML, evaluated on demand."""
from __future__ import annotations

import math

import numpy as np
import pytest

from mfbench.api import compose, simulate
from mfbench.benchmarks.function import function_benchmark
from mfbench.errors import ConfigError
from mfbench.examples.learning_curves import final_error, synthetic_curve

HERE = "tests.benchmarks.test_function"
SPACE = [{"name": "x", "type": "float", "lower": 0.0, "upper": 1.0}]


def quadratic(config, fidelity, seed):
    """loss = (x - 0.3)^2 + 1 / fidelity + seed / 100 (no time: needs cost_per_fidelity)."""
    return {"loss": (config["x"] - 0.3) ** 2 + 1.0 / fidelity + seed / 100}


def timed(config, fidelity, seed, slowdown=1.0):
    return {"loss": (config["x"] - 0.3) ** 2 + 1.0 / fidelity, "seconds": slowdown * 10.0 * fidelity}


def backwards_time(config, fidelity, seed):
    return {"loss": 1.0, "elapsed_time": 100.0 - fidelity}


def text_loss(config, fidelity, seed):
    return {"loss": "low", "elapsed_time": float(fidelity)}


def not_a_dict(config, fidelity, seed):
    return 0.5


# ------------------------------------------------------------------------- the example
def test_example_callable_hand_computed():
    # lr at the adam optimum 10^-2.5, width 16: floor 0.05 + 0 + 0.03 = 0.08; tau = 3 + 2 * 0.5 = 4
    config = {"learning_rate": 10 ** -2.5, "width": 16, "optimizer": "adam"}
    assert final_error(config) == pytest.approx(0.08)
    result = synthetic_curve(config, 4, 0)
    assert abs(result["error"] - (0.08 + 0.82 * math.exp(-1.0))) <= 0.01 / 2  # noise <= 0.01 / sqrt(4)
    assert result["elapsed_time"] == 40.0  # 10 s x sqrt(16 / 16) x 4 epochs
    assert synthetic_curve(config, 4, 0) == result  # deterministic
    assert synthetic_curve(config, 4, 1) != result  # the seed changes the noise
    assert final_error({"learning_rate": 10 ** -1.5, "width": 512, "optimizer": "sgd"}) == pytest.approx(0.05)


@pytest.mark.parametrize("method", ["random_search", "asha_stop"])
def test_example_benchmark_runs_on_a_continuous_space(method):
    columns, metadata = simulate(compose(["benchmark=function_example", f"method={method}", "seed=4",
                                          "stopping=evaluations", "stopping.max_num_evaluations=60"]))
    assert metadata["num_results"] == 60 and metadata["blackbox"]["source"]["kind"] == "python function"
    lrs = set(columns["config_learning_rate"])
    assert len(lrs) > 3 and all(1e-4 <= lr <= 1.0 for lr in lrs)
    for i in range(60):  # every result is the callable's value for the trial's config, epoch and seed
        config = {"learning_rate": columns["config_learning_rate"][i], "width": columns["config_width"][i],
                  "optimizer": columns["config_optimizer"][i]}
        expected = synthetic_curve(config, int(columns["epoch"][i]), int(columns["table_seed"][i]))
        assert columns["error"][i] == expected["error"]
        assert columns["elapsed_time"][i] == expected["elapsed_time"]
    assert set(columns["table_seed"]) <= {0, 1, 2}


# ------------------------------------------------------------------------------ options
def test_cost_per_fidelity_and_inferred_metric():
    benchmark = function_benchmark(f"{HERE}.quadratic", SPACE, fidelities=[1, 3, 9], cost_per_fidelity=2.0,
                                   num_seeds=2)
    assert benchmark.metric == "loss" and benchmark.elapsed_time_attr == "elapsed_time"
    assert benchmark.max_wallclock_time == 20 * 2.0 * 9  # 20 full trainings of 9 x 2 s
    values = benchmark.open().evaluate({"x": 0.5}, 1, np.array([3, 9]))
    np.testing.assert_allclose(values, [[0.04 + 1 / 3 + 0.01, 6.0], [0.04 + 1 / 9 + 0.01, 18.0]])
    columns, _ = _run_asha(benchmark)
    assert set(columns["epoch"]) <= {1, 3, 9}


def _run_asha(benchmark):
    from mfbench.backend.simulator import Simulator
    from mfbench.schedulers.asha import ASHA
    from mfbench.problem import Problem
    from mfbench.searchers.random import RandomSearcher
    from mfbench.backend.stopping import StoppingCriterion

    blackbox = benchmark.open()
    problem = Problem(blackbox.config_space, benchmark.fidelities, benchmark.metric, benchmark.mode, 2, 0)
    scheduler = ASHA(problem, searcher=lambda problem: RandomSearcher(problem))
    outcome = Simulator().run(benchmark, scheduler, problem, StoppingCriterion(max_num_evaluations=30))
    return outcome.recorder.to_columns(), outcome


def test_named_elapsed_time_kwargs_and_default_budget():
    benchmark = function_benchmark(f"{HERE}.timed", {"x": {"type": "float", "lower": 0, "upper": 1}},
                                   max_fidelity=5, elapsed_time="seconds", target_kwargs={"slowdown": 2.0})
    # objectives probed from one call; budget = 20 x the midpoint's time at fidelity 5 (2 x 10 x 5 s)
    assert benchmark.open().objective_names == ["loss", "seconds"]
    assert benchmark.metric == "loss" and benchmark.max_wallclock_time == 2000.0
    assert benchmark.fidelities.tolist() == [1, 2, 3, 4, 5]


def test_callable_from_a_file(tmp_path):
    (tmp_path / "sim.py").write_text("def f(config, fidelity, seed):\n"
                                     "    return {'acc': float(config['k'] == 'b'), 'elapsed_time': 1.0 * fidelity}\n"
                                     "def g(config, fidelity, seed):\n"
                                     "    return {'acc': config['k'] == 'b', 'elapsed_time': 1.0 * fidelity}\n")
    space = [{"name": "k", "type": "categorical", "choices": ["a", "b"]}]
    benchmark = function_benchmark(f"{tmp_path / 'sim.py'}:f", space, max_fidelity=2, mode="max",
                                   objectives=["elapsed_time", "acc"])
    assert benchmark.metric == "acc" and benchmark.max_wallclock_time == 40.0
    np.testing.assert_array_equal(benchmark.open().evaluate({"k": "b"}, 0, np.array([1, 2])), [[1.0, 1.0], [2.0, 1.0]])
    with pytest.raises(ConfigError, match=r"objective 'acc' must be a number.*got True"):
        function_benchmark(f"{tmp_path / 'sim.py'}:g", space, max_fidelity=2, max_wallclock_time=5.0,
                           objectives=["elapsed_time", "acc"]).open().evaluate({"k": "b"}, 0, np.array([1]))


def test_function_needs_a_target():
    with pytest.raises(ConfigError, match=r"benchmark\.target is required: benchmark=function needs "
                                          r"benchmark\.target=TARGET"):
        simulate(compose(["benchmark=function"]))


@pytest.mark.parametrize("kwargs, message", [
    ({"target": "nowhere_module.f"}, r"cannot import 'nowhere_module'.*file\.py:callable"),
    ({"target": f"{HERE}.missing"}, r"'missing' is not a callable of"),
    ({"target": "quadratic"}, r"write it as 'package\.module\.callable'"),
    ({"target": "/no/such/file.py:f"}, r"the file /no/such/file\.py does not exist"),
    ({"max_fidelity": None}, r"needs its fidelities: benchmark\.max_fidelity=N.*or benchmark\.fidelities"),
    ({"fidelities": [1, 3]}, r"one of the two"),
    ({"max_fidelity": None, "fidelities": [3, 1]}, r"must be strictly increasing"),
    ({"max_fidelity": None, "fidelities": [0, 1]}, r"integers >= 1"),
    ({"hyperparameters": []}, r"declare at least one hyperparameter"),
    ({"hyperparameters": [{"name": "x", "type": "float", "lower": 0}]}, r"hyperparameters\.x: missing 'upper'"),
    ({"hyperparameters": [{"type": "float"}]}, r"every hyperparameter needs a name"),
    ({"cost_per_fidelity": None}, r"returns no 'elapsed_time'.*benchmark\.elapsed_time=NAME.*cost_per_fidelity"),
    ({"metric": "accuracy"}, r"benchmark\.metric='accuracy' is not an objective"),
])
def test_bad_declarations_say_what_to_fix(kwargs, message):
    options = {"target": f"{HERE}.quadratic", "hyperparameters": SPACE, "max_fidelity": 3, "cost_per_fidelity": 1.0,
               **kwargs}
    with pytest.raises(ConfigError, match=message):
        function_benchmark(**options)


@pytest.mark.parametrize("target, message", [
    ("backwards_time", r"elapsed time 'elapsed_time' decreases.*99 at fidelity 1, 98 at 2"),
    ("text_loss", r"objective 'loss' must be a number.*got 'low'"),
    ("not_a_dict", r"must return a dict \{objective: value\}, returned 0\.5"),
])
def test_bad_return_values_are_reported(target, message):
    with pytest.raises(ConfigError, match=message):
        benchmark = function_benchmark(f"{HERE}.{target}", SPACE, max_fidelity=3, objectives=["loss", "elapsed_time"],
                                       max_wallclock_time=10.0)
        benchmark.open().evaluate({"x": 0.1}, 0, np.array([1, 2]))


def test_an_exception_in_the_callable_names_it_and_where_it_happened(tmp_path):
    (tmp_path / "bad.py").write_text("def typo(config, fidelity, seed):\n"
                                     "    return {'loss': config['learning_rate'] / fidelity, 'elapsed_time': 1.0}\n")
    overrides = ["benchmark=function", f"benchmark.target={tmp_path / 'bad.py'}:typo", "benchmark.max_fidelity=3",
                 "benchmark.hyperparameters=[{name: lr, type: float, lower: 0.001, upper: 0.1}]"]
    # raised while the benchmark is built (its objectives are read from one call): the message is
    # the user's exception and its line, not only the missing key
    with pytest.raises(ConfigError, match=r"raised KeyError: 'learning_rate' at .*bad\.py:2 \(config \{'lr'"):
        simulate(compose(overrides))


def test_a_config_error_keeps_its_quotes():
    with pytest.raises(ConfigError, match=r"got 'MAX'$"):
        simulate(compose(["benchmark=function_example", "benchmark.mode=MAX"]))


def test_a_time_that_decreases_across_a_resume_is_refused_too(tmp_path):
    """Each lookup is checked, and so is the step from a trial's checkpoint to the lookup that resumes it."""
    (tmp_path / "t.py").write_text("def f(config, fidelity, seed):\n"
                                   "    return {'loss': 1.0 / fidelity, 'elapsed_time': {1: 10.0, 2: 8.0}.get(fidelity, "
                                   "10.0 * fidelity)}\n")
    space = [{"name": "k", "type": "categorical", "choices": ["a", "b"]}]
    blackbox = function_benchmark(f"{tmp_path / 't.py'}:f", space, max_fidelity=4, max_wallclock_time=100.0,
                                  objectives=["loss", "elapsed_time"]).open()
    blackbox.evaluate({"k": "a"}, 0, np.array([1]))  # paused at fidelity 1
    with pytest.raises(ConfigError, match=r"decreases for config \{'k': 'a'\}: 10 at fidelity 1, 8 at 2"):
        blackbox.evaluate({"k": "a"}, 0, np.array([2, 3]))
    blackbox.evaluate({"k": "b"}, 0, np.array([3, 4]))  # no checkpoint below: nothing to compare with
