"""Every YAML under conf/ is composed, validated and instantiated."""
from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from mfbench.config.tree import config_dir
from mfbench.config.resolve import instantiate, resolve_config
from mfbench.sweeps.hydra_configs import register_configs
from mfbench.schedulers.base import Scheduler
from mfbench.problem import Problem

CONF = Path(config_dir())
register_configs()


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


def _compose(*overrides: str):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def test_config_dir_is_the_checkout_conf():
    assert (CONF / "config.yaml").is_file()


@pytest.mark.parametrize("group", ["benchmark", "method", "backend", "stopping"])
def test_group_has_options(group):
    assert _options(group), f"conf/{group}/ has no YAML"


@pytest.mark.parametrize("option", _options("benchmark"))
def test_every_benchmark_yaml_instantiates(option, tmp_path, converted_fixtures):
    from tests.blackbox.sources.byo_fixtures import template_overrides

    config = resolve_config(_compose(f"benchmark={option}", *template_overrides(option, tmp_path)))
    benchmark = instantiate(config["benchmark"])
    blackbox = benchmark.open()
    assert benchmark.metric in blackbox.objective_names
    assert benchmark.n_workers >= 1 and benchmark.max_wallclock_time > 0


@pytest.mark.parametrize("option", _options("method"))
def test_every_method_yaml_instantiates(option):
    config = resolve_config(_compose(f"method={option}", "benchmark=hartmann3"))
    blackbox = instantiate(config["benchmark"]).open()
    problem = Problem(blackbox.config_space, blackbox.fidelity_values, "value", "min", 4, 0)
    scheduler = instantiate(config["method"], problem=problem)
    assert isinstance(scheduler, Scheduler)
    suggestion = scheduler.suggest(0)
    assert suggestion is not None and blackbox.config_space.contains(suggestion.config)


@pytest.mark.parametrize("group", ["backend", "stopping"])
def test_every_backend_and_stopping_yaml_instantiates(group):
    for option in _options(group):
        config = resolve_config(_compose(f"{group}={option}"))
        assert instantiate(config[group]) is not None


def test_default_config_resolves_with_all_top_level_keys():
    cfg = _compose()
    assert set(OmegaConf.to_container(cfg)) >= {"benchmark", "method", "backend", "stopping", "seed", "n_workers",
                                                "experiment_name"}
