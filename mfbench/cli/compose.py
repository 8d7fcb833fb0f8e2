"""A config composed exactly as the command line composes it (the API's and ``mfbench.check``'s)."""
from __future__ import annotations

from typing import Sequence

from omegaconf import DictConfig


def compose(overrides: Sequence[str] = ()) -> DictConfig:
    """The config of ``python -m mfbench <overrides>`` (Hydra's resolvers included)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig

    from mfbench.config.tree import config_dir
    from mfbench.sweeps.hydra_configs import register_configs

    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = hydra_compose(config_name="config", overrides=list(overrides), return_hydra_config=True)
        HydraConfig.instance().set_config(cfg)
    return cfg
