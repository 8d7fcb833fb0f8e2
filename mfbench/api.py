"""Python API: compose a config as the command line would, and simulate it in-process.

    from mfbench.api import compose, simulate
    columns, metadata = simulate(compose(["method=asha_prom", "seed=3"]))
"""
from __future__ import annotations

from typing import Any

from omegaconf import DictConfig

from mfbench.cli.compose import compose

__all__ = ["compose", "simulate"]


def simulate(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """Simulate a composed config without writing anything: ``(columns, metadata)``."""
    from mfbench.config.resolve import resolve_config
    from mfbench.cli.app import simulate as simulate_config

    choices = dict(cfg.hydra.runtime.choices) if "hydra" in cfg else {}
    config = resolve_config(cfg, choices)
    config["progress"] = False
    return simulate_config(config, choices)
