"""A run derived from a composed template (:class:`mfbench.sweeps.derive.SweepConfigs`) is the
config Hydra composes for it, ``hydra`` node included: the job runs it as it is."""
from __future__ import annotations

from typing import Any, Iterator

import pytest
from omegaconf import OmegaConf


@pytest.fixture()
def loader_and_master() -> Iterator[tuple[Any, Any]]:
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.types import RunMode

    from mfbench.config.tree import config_dir
    from mfbench.sweeps.hydra_configs import register_configs

    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        master = loader.load_configuration("config", ["hydra.sweep.dir=/tmp/derive_test",
                                                      "hydra.sweep.subdir=${hydra.job.override_dirname}"],
                                           RunMode.MULTIRUN)
        yield loader, master
    GlobalHydra.instance().clear()


def _whole(config: Any) -> Any:
    return OmegaConf.to_container(config, resolve=False)


def test_derived_configs_equal_hydras_composition_hydra_node_included(loader_and_master: tuple[Any, Any]) -> None:
    from mfbench.sweeps.derive import SweepConfigs

    loader, master = loader_and_master
    jobs = [[f"method={m}", f"seed={s}", f"n_workers={w}"] for m in ("asha_stop", "bohb") for s in (0, 3)
            for w in (2, 8)]
    jobs += [["seed=1", "method=asha_stop", "n_workers=3"],  # the same keys in another order: derived too
             ["method=asha_stop", "seed=5", "n_workers=3", "experiment_name=e${seed}"],  # an interpolation
             ["method=asha_stop", "seed=6", "n_workers=3", "experiment_name=e${seed}"]]
    configs = SweepConfigs(loader, master)
    for overrides in jobs:
        derived = configs.of(overrides)
        alone = loader.load_sweep_config(master, overrides)
        assert _whole(derived) == _whole(alone), overrides
        # what the job reads: the run directory, the task's overrides
        assert str(derived.hydra.sweep.subdir) == str(alone.hydra.sweep.subdir)
        assert OmegaConf.to_container(derived.hydra.overrides.task) == overrides
        OmegaConf.set_readonly(derived.hydra, True)  # as Hydra's run_job leaves it: the next run is derived anyway
    assert str(configs.of(jobs[1]).hydra.sweep.subdir) == "method=asha_stop,n_workers=8,seed=0"
    assert configs.composed == 3  # one per method, one for the other set of scalar keys


def test_split_scalars_groups_runs_by_their_other_overrides() -> None:
    from mfbench.sweeps.derive import split_scalars

    assert split_scalars(["method=bohb", "seed=3"]) == (("method=bohb", "|", "seed"), {"seed": 3})
    assert split_scalars(["method=bohb", "seed=4"])[0] == split_scalars(["method=bohb", "seed=3"])[0]
    assert split_scalars(["method=bohb", "seed=3", "n_workers=2"])[0] != split_scalars(["method=bohb", "seed=3"])[0]
    assert split_scalars(["seed=range(3)"]) is None and split_scalars(["seed=1,2"]) is None
    assert split_scalars(["experiment_name=x"]) == (("|", "experiment_name"), {"experiment_name": "x"})
