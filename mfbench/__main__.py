"""``python -m mfbench``: one simulated multi-fidelity HPO run, or a sweep with ``-m``.

Kept thin and cheap to import (``--help`` must be fast): the work happens in
:mod:`mfbench.app`, imported only when a run starts.
"""
from __future__ import annotations

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from mfbench.config.schema import register_schemas


def config_dir() -> str:
    """The config tree: ``conf/`` of a source checkout, else the copy installed in the package."""
    package = Path(__file__).resolve().parent
    checkout = package.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "conf" / "config.yaml").is_file():
        return str(checkout / "conf")
    return str(package / "conf")


register_schemas()


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="config")
def _main(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from mfbench.app import run
    from mfbench.config.validation import ConfigError
    from mfbench.results.store import FinishedRunExists
    from mfbench.sweeps.threads import limit_threads_to_allocation

    limit_threads_to_allocation()  # a SLURM job: torch / OpenMP / BLAS threads = its CPUs
    hydra_cfg = HydraConfig.get()
    try:
        run(cfg, hydra_cfg.runtime.output_dir, dict(hydra_cfg.runtime.choices))
    except (ConfigError, FinishedRunExists) as error:
        if hydra_cfg.mode == RunMode.MULTIRUN:
            raise  # one run of a sweep: the sweeper reports it with the others, the sweep goes on
        print(f"mfbench: error: {error}", file=sys.stderr)
        sys.exit(2)


def main() -> None:
    _main()


if __name__ == "__main__":
    main()
