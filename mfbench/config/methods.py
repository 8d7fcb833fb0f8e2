"""A method's name and its class agree: a run is filed, and reported, under the name.

The run directory (``conf/config.yaml``: ``.../${hydra:runtime.choices.method}/seed_N``), the
metadata's ``method`` field and every analysis table use the *name* of the method YAML, so a
``method=random_search method._target_=my.Sched`` run would be a random-search run in every
listing, and a later real random-search run would be refused as a different configuration in
the same directory. :func:`check_method_identity` refuses such an override with the fix: a
YAML of the method's own (docs/writing-a-method.md).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

from mfbench.config.fingerprint import MOVED_TARGETS
from mfbench.config.tree import config_dir
from mfbench.errors import ConfigError

_HOW = ("write a YAML for it, e.g. my_conf/method/my_method.yaml with _target_: path/to/file.py:MyScheduler, "
        "and run python -m mfbench --config-dir my_conf method=my_method (docs/writing-a-method.md)")


def shipped_method_target(name: str) -> str | None:
    """The ``_target_`` of the shipped method YAML ``conf/method/<name>.yaml``, None if there is none."""
    import yaml

    path = Path(config_dir()) / "method" / f"{name}.yaml"
    if not name or "/" in name or not path.is_file():
        return None
    target = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("_target_")
    return None if target is None else str(target)


def user_config_dirs() -> list[str]:
    """The config directories of the current Hydra run besides the shipped tree (``--config-dir``,
    ``hydra.searchpath``); empty outside a Hydra run."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return []
    shipped = Path(config_dir()).resolve()
    dirs = []
    for source in HydraConfig.get().runtime.config_sources:
        if source.schema == "file" and source.path and Path(source.path).resolve() != shipped:
            dirs.append(str(source.path))
    return dirs


def check_method_identity(method: Mapping[str, Any], choice: str | None, user_dirs: Iterable[str] = ()) -> None:
    """Refuse a run that would be filed under a shipped method's name but runs another class.

    Args:
        method: the resolved ``method`` node.
        choice: the chosen method option (``method=<choice>``), None when there is none.
        user_dirs: config directories the user added (``--config-dir``, ``hydra.searchpath``);
            a ``method/<choice>.yaml`` there that a shipped one shadows is refused too, since
            Hydra reads the shipped one and the user's file would be silently ignored.
    """
    if not choice:
        return
    shipped = shipped_method_target(choice)
    if shipped is None:
        return
    for directory in user_dirs:
        own = Path(directory) / "method" / f"{choice}.yaml"
        if own.is_file() and own.resolve() != (Path(config_dir()) / "method" / f"{choice}.yaml").resolve():
            raise ConfigError(f"{own} has the name of the shipped method {choice!r}, which takes precedence, so your "
                              f"file is not used: rename it (e.g. my_{choice}.yaml) and run method=my_{choice}")
    target = str(method.get("_target_", ""))
    if MOVED_TARGETS.get(target, target) != MOVED_TARGETS.get(shipped, shipped):
        raise ConfigError(f"method._target_={target} replaces the class of the shipped method {choice!r} ({shipped}), "
                          f"so the run would be filed and reported as {choice}. To run your class under a name of its "
                          f"own, {_HOW}")
