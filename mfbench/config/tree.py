"""Where the Hydra config tree (``conf/``) is, and what it offers (its groups and their options).

The listings read the folders, not Hydra's config repository: they are cheap (``--help``
and error messages use them) and cover what mfbench ships. Options that only a plugin
registers (Hydra's own ``hydra/launcher=submitit_slurm``, ...) are not in them.
"""
from __future__ import annotations

from pathlib import Path


def config_dir() -> str:
    """The config tree: ``conf/`` of a source checkout, else the copy installed in the package."""
    package = Path(__file__).resolve().parents[1]  # mfbench/
    checkout = package.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "conf" / "config.yaml").is_file():
        return str(checkout / "conf")
    return str(package / "conf")


def config_groups(conf: str | None = None) -> list[str]:
    """Every group of the tree, sorted: a folder holding YAML files (``method``, ``method/searcher``,
    ``hydra/launcher``, ...), named as on the command line (``group=option``)."""
    root = Path(conf or config_dir())
    folders = {path.parent for path in root.rglob("*.yaml") if path.parent != root}
    return sorted(folder.relative_to(root).as_posix() for folder in folders)


def group_options(group: str, conf: str | None = None) -> list[str]:
    """The options of ``group`` (its YAML files, without ``.yaml``), sorted; empty for no such group."""
    folder = Path(conf or config_dir()) / group
    return sorted(path.stem for path in folder.glob("*.yaml")) if folder.is_dir() else []


def option_file(group: str, option: str, conf: str | None = None) -> Path:
    """The YAML file of ``group=option`` (it may not exist)."""
    return Path(conf or config_dir()) / group / f"{option}.yaml"
