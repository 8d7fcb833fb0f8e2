"""The launcher presets and experiment presets compose (Hydra's compose API, no run)."""
from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from mfbench.sweeps.hydra_configs import register_configs

CONF = Path(__file__).resolve().parents[2] / "conf"


@pytest.fixture()
def composer():
    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        yield lambda *overrides: compose("config", overrides=list(overrides), return_hydra_config=True)
    GlobalHydra.instance().clear()


def test_default_sweeper_is_resumable(composer) -> None:
    cfg = composer()
    assert cfg.hydra.sweeper._target_ == "hydra_plugins.mfbench_sweeps.ResumableSweeper"
    assert cfg.experiment_name == "default"


def test_launcher_presets(composer) -> None:
    slurm = composer("hydra/launcher=slurm").hydra.launcher
    assert slurm._target_ == "hydra_plugins.mfbench_sweeps.SlurmLauncher"
    assert (slurm.runs_per_job, slurm.cpus_per_task, slurm.mem_gb, slurm.array_parallelism) == (8, 1, 4, 256)
    assert "method=mobster*" in slurm.own_job and slurm.own_job_resources.cpus_per_task == 2
    test_cluster = composer("hydra/launcher=local_slurm").hydra.launcher
    assert (test_cluster.partition, test_cluster.signal_delay_s, test_cluster.mem_gb) == ("debug", 15, None)
    local = composer("hydra/launcher=local", "hydra.launcher.array_parallelism=3").hydra.launcher
    assert local._target_ == "hydra_plugins.mfbench_sweeps.LocalLauncher" and local.array_parallelism == 3
    plain = composer("hydra/launcher=submitit_slurm").hydra.launcher  # Hydra's own still works
    assert plain._target_.endswith("submitit_launcher.SlurmLauncher")


def test_experiment_preset_sets_tag_and_grid(composer) -> None:
    cfg = composer("experiment=quick")
    assert cfg.experiment_name == "quick"
    assert dict(cfg.hydra.sweeper.params) == {"method": "asha_stop,asha_prom,random_search", "seed": "range(3)"}
    assert composer("experiment=quick", "experiment_name=mine").experiment_name == "mine"
