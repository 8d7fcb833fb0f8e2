"""Where the Hydra config tree (``conf/``) is."""
from __future__ import annotations

from pathlib import Path


def config_dir() -> str:
    """The config tree: ``conf/`` of a source checkout, else the copy installed in the package."""
    package = Path(__file__).resolve().parents[1]  # mfbench/
    checkout = package.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "conf" / "config.yaml").is_file():
        return str(checkout / "conf")
    return str(package / "conf")
