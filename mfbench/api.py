"""Python API: compose a config as the command line would, and simulate it in-process.

    from mfbench.api import compose, simulate
    columns, metadata = simulate(compose(["method=asha_prom", "seed=3"]))
"""
from __future__ import annotations

from typing import Any, Sequence

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


def simulate(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """Simulate a composed config without writing anything: ``(columns, metadata)``."""
    from mfbench.config.resolve import resolve_config
    from mfbench.cli.app import simulate as simulate_config

    choices = dict(cfg.hydra.runtime.choices) if "hydra" in cfg else {}
    config = resolve_config(cfg, choices)
    config["progress"] = False
    return simulate_config(config, choices)
