"""Every benchmark YAML composes, instantiates, opens its data and runs a short ASHA-STOP.

The real-data benchmarks run on the vendored fixtures in tests/data, converted into the test
session's private cache (MFBENCH_CACHE, conftest's ``converted_fixtures``): NB201 on its 3 real
architectures, YAHPO LCBench on its real ONNX model. No benchmark is skipped for missing data.
"""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from mfbench.config.tree import config_dir
from mfbench.api import compose, simulate
from tests.blackbox.sources.byo_fixtures import template_overrides

BENCHMARKS = sorted(p.stem for p in (Path(config_dir()) / "benchmark").glob("*.yaml"))
#: the 34 per-task LCBench YAMLs (YAHPO's and the table's) differ only in the task: two of each are
#: simulated, all composed
SIMULATED = [b for b in BENCHMARKS if not b.startswith(("yahpo_lcbench_", "lcbench_"))] + [
    "yahpo_lcbench_7593", "yahpo_lcbench_189909", "lcbench_7593", "lcbench_189909"]
pytestmark = pytest.mark.usefixtures("converted_fixtures")


def test_there_are_the_promised_benchmarks():
    expected = {"nas201_cifar10", "nas201_cifar100", "nas201_imagenet16", "nas201_offline_cifar10",
                "nas201_offline_cifar100", "nas201_offline_imagenet16", "yahpo_lcbench", "lcbench",
                "fcnet_protein", "fcnet_naval", "fcnet_parkinsons", "fcnet_slice"}
    assert expected <= set(BENCHMARKS)
    assert len([b for b in BENCHMARKS if b.startswith("yahpo_lcbench_")]) == 34
    assert len([b for b in BENCHMARKS if b.startswith("lcbench_")]) == 34


def test_the_default_benchmark_is_the_offline_nb201():
    assert compose([]).hydra.runtime.choices["benchmark"] == "nas201_offline_cifar100"


def test_every_lcbench_instance_yaml_extends_the_base_with_its_task():
    # composing all 34 through Hydra takes ~10 s; two are composed and simulated below, the rest
    # are checked to be exactly "the base YAML + this instance"
    from omegaconf import OmegaConf

    from mfbench.blackbox.sources.yahpo_lcbench import INSTANCES

    seen = set()
    for option in (b for b in BENCHMARKS if b.startswith("yahpo_lcbench_")):
        node = OmegaConf.to_container(OmegaConf.load(Path(config_dir()) / "benchmark" / f"{option}.yaml"))
        assert node == {"defaults": ["yahpo_lcbench", "_self_"], "blackbox": {"instance": option.split("_")[-1]}}
        seen.add(node["blackbox"]["instance"])
    assert seen == set(INSTANCES)


def test_every_lcbench_table_yaml_extends_the_base_with_its_task():
    # the reference's 34 lcbench-<task> benchmarks, named by OpenML task id as yahpo_lcbench_<task>
    from omegaconf import OmegaConf

    from mfbench.blackbox.sources.lcbench import OPENML_TASK_IDS

    seen = {}
    for option in (b for b in BENCHMARKS if b.startswith("lcbench_")):
        node = OmegaConf.to_container(OmegaConf.load(Path(config_dir()) / "benchmark" / f"{option}.yaml"))
        assert node == {"defaults": ["lcbench", "_self_"], "blackbox": {"task": node["blackbox"]["task"]}}
        seen[option.split("_")[-1]] = node["blackbox"]["task"]
    assert seen == {openml_id: name for name, openml_id in OPENML_TASK_IDS.items()}


@pytest.mark.parametrize("option", SIMULATED)
def test_benchmark_runs_a_short_asha_stop(option, tmp_path):
    cfg = compose([f"benchmark={option}", "method=asha_stop", "stopping=evaluations",
                   "stopping.max_num_evaluations=40", *template_overrides(option, tmp_path)])
    columns, metadata = simulate(cfg)
    assert metadata["num_results"] == 40
    values = columns[metadata["metric"]]
    assert len(values) == 40 and all(math.isfinite(float(v)) for v in values)
    assert metadata["blackbox"]["kind"] in ("tabular", "surrogate")
    assert metadata["benchmark_description"]
    if option.startswith("nas201_offline"):
        assert "not the full nb201 table" in metadata["blackbox"]["description"].lower()
        assert "modelled" in metadata["benchmark_description"].lower()
