"""``benchmark=yahpo``: any scenario with the reference's defaults, checked keys, a short run."""
from __future__ import annotations

import math

import pytest

from mfbench.api import compose, simulate
from mfbench.benchmarks.yahpo import yahpo_benchmark
from mfbench.errors import ConfigError

pytestmark = pytest.mark.usefixtures("converted_fixtures")


def test_the_reference_defaults_of_each_family():
    lcbench = yahpo_benchmark("lcbench")
    assert (lcbench.metric, lcbench.mode, lcbench.elapsed_time_attr, lcbench.fidelity_attr) == \
        ("val_accuracy", "max", "time", "epoch")
    assert (lcbench.n_workers, lcbench.max_wallclock_time) == (4, 7200)
    glmnet = yahpo_benchmark("iaml_glmnet")
    assert (glmnet.metric, glmnet.mode, glmnet.elapsed_time_attr, glmnet.max_wallclock_time) == \
        ("f1", "max", "timetrain", 180)
    assert yahpo_benchmark("nb301").max_wallclock_time == 12 * 3600
    assert yahpo_benchmark("rbv2_svm", metric="logloss").mode == "min"
    assert yahpo_benchmark("rbv2_aknn").max_wallclock_time == 900


def test_unknown_scenario_and_metric_say_what_exists():
    with pytest.raises(ConfigError, match=r"did you mean 'iaml_ranger'.*'rbv2_super'\]"):
        yahpo_benchmark("iaml_rangr")
    with pytest.raises(ConfigError, match=r"'aucc'.*did you mean 'auc'.*objectives are \['acc'"):
        yahpo_benchmark("rbv2_xgboost", metric="aucc")
    with pytest.raises(ConfigError, match="min or max"):
        yahpo_benchmark("rbv2_xgboost", mode="maximise")


def test_any_scenario_instance_and_metric_from_the_command_line():
    cfg = compose(["benchmark=yahpo", "benchmark.scenario=rbv2_xgboost", "benchmark.instance=1220",
                   "benchmark.metric=auc", "method=asha_stop", "stopping=evaluations",
                   "stopping.max_num_evaluations=30"])
    columns, metadata = simulate(cfg)
    assert metadata["num_results"] == 30 and metadata["metric"] == "auc"
    assert metadata["blackbox"]["scenario"] == "rbv2_xgboost" and metadata["blackbox"]["instance"] == "1220"
    assert metadata["blackbox"]["fidelity_is_cumulative"] is False
    assert all(math.isfinite(float(v)) for v in columns["auc"])


def test_restricted_trainsize_levels_from_the_command_line():
    cfg = compose(["benchmark=yahpo", "benchmark.scenario=iaml_glmnet",
                   "benchmark.fidelity_levels=[0.05,0.1,0.2,0.4,0.6,0.8,1.0]", "method=asha_stop",
                   "stopping=evaluations", "stopping.max_num_evaluations=20"])
    columns, metadata = simulate(cfg)
    assert metadata["blackbox"]["fidelity_levels"] == [0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert max(columns["trainsize"]) <= 7


def test_a_wrong_instance_lists_the_valid_ones():
    cfg = compose(["benchmark=yahpo", "benchmark.scenario=iaml_glmnet", "benchmark.instance=1490",
                   "stopping=evaluations", "stopping.max_num_evaluations=5"])
    with pytest.raises(ConfigError, match=r"did you mean '1489'.*\['40981', '41146', '1489', '1067'\]"):
        simulate(cfg)
