"""A YAHPO benchmark is named after its instance: a sweep over instances gets one folder per instance.

Also: the per-task LCBench YAMLs keep their names, fingerprints do not depend on the name, a
run finished in the option's folder before this naming is recognised there (not recomputed),
and the analysis names such an old run like a new one.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mfbench.api import compose
from mfbench.config.benchmark_name import benchmark_name

REPO = Path(__file__).resolve().parents[2]
XGBOOST = {"_target_": "mfbench.benchmarks.base.Benchmark",
           "blackbox": {"_target_": "mfbench.blackbox.sources.yahpo.yahpo_blackbox", "scenario": "rbv2_xgboost",
                        "instance": "29"}}
LCBENCH = {"_target_": "mfbench.benchmarks.base.Benchmark",
           "blackbox": {"_target_": "mfbench.blackbox.sources.yahpo_lcbench.yahpo_lcbench_blackbox",
                        "instance": "3945"}}


@pytest.mark.parametrize("option, node, name", [
    ("yahpo_rbv2_xgboost", XGBOOST, "yahpo_rbv2_xgboost_29"),
    ("yahpo_rbv2_xgboost", {**XGBOOST, "blackbox": {**XGBOOST["blackbox"], "instance": 1220}},
     "yahpo_rbv2_xgboost_1220"),
    ("yahpo_lcbench", LCBENCH, "yahpo_lcbench_3945"),
    ("yahpo_lcbench_3945", LCBENCH, "yahpo_lcbench_3945"),  # a part the option names is not repeated
    ("yahpo_lcbench_39450", LCBENCH, "yahpo_lcbench_39450_3945"),  # only whole words count
    ("yahpo_rbv2_xgboost_1220", {**XGBOOST, "blackbox": {**XGBOOST["blackbox"], "instance": "1220"}},
     "yahpo_rbv2_xgboost_1220"),  # a name read back from a new run's metadata stays as it is
    ("yahpo", {"_target_": "mfbench.benchmarks.yahpo.yahpo_benchmark", "scenario": "rbv2_xgboost",
               "instance": "31"}, "yahpo_rbv2_xgboost_31"),
    ("yahpo", {"_target_": "mfbench.benchmarks.yahpo.yahpo_benchmark", "scenario": "lcbench", "instance": None},
     "yahpo_lcbench"),  # the scenario's default instance: not known before the model is read
    ("hartmann3", {"_target_": "mfbench.benchmarks.base.Benchmark",
                   "blackbox": {"_target_": "mfbench.blackbox.analytic.hartmann_blackbox", "instance": "x"}},
     "hartmann3"),  # only YAHPO benchmarks
])
def test_yahpo_names_end_with_the_instance(option, node, name):
    assert benchmark_name(option, node) == name


def test_a_sweep_over_instances_gets_one_folder_per_instance():
    def run_dir(*overrides: str) -> str:
        return str(compose(list(overrides)).hydra.run.dir)

    assert run_dir("benchmark=yahpo_rbv2_xgboost") == "outputs/default/yahpo_rbv2_xgboost_29/asha_stop/seed_0"
    assert run_dir("benchmark=yahpo_rbv2_xgboost", "benchmark.blackbox.instance=1220") == \
        "outputs/default/yahpo_rbv2_xgboost_1220/asha_stop/seed_0"
    assert run_dir("benchmark=yahpo_lcbench_7593") == "outputs/default/yahpo_lcbench_7593/asha_stop/seed_0"
    assert run_dir("benchmark=yahpo", "benchmark.scenario=iaml_glmnet", "benchmark.instance=40981") == \
        "outputs/default/yahpo_iaml_glmnet_40981/asha_stop/seed_0"


@pytest.mark.usefixtures("converted_fixtures")
def test_a_run_finished_in_the_old_folder_is_not_recomputed(tmp_path):
    from mfbench.analysis.load import load_results

    env = {**os.environ, "PYTHONPATH": str(REPO), "HYDRA_FULL_ERROR": "0"}
    args = [sys.executable, "-m", "mfbench", "benchmark=yahpo_rbv2_xgboost", "method=random_search",
            "stopping=evaluations", "stopping.max_num_evaluations=5", "progress=false"]
    old = "outputs/default/yahpo_rbv2_xgboost/random_search/seed_0"  # where it was stored before
    first = subprocess.run([*args, f"hydra.run.dir={old}"], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=300)
    assert first.returncode == 0, first.stderr[-3000:]
    again = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and f"already finished in {tmp_path / old}" in again.stdout, again.stdout
    assert not list((tmp_path / "outputs").rglob("yahpo_rbv2_xgboost_29/**/DONE"))  # (Hydra made the folder)
    # its metadata says the option's name; the analysis names it as a run of today
    assert load_results(tmp_path / "outputs/default").benchmarks == ["yahpo_rbv2_xgboost_29"]
