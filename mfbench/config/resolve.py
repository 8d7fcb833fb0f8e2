"""From a composed Hydra config to plain, validated containers, their fingerprint and objects.

:func:`resolve_config` resolves and checks every group node against the signature of the
class it builds; :func:`config_fingerprint` hashes what determines a run's results (a
finished run is recognised by it); :func:`instantiate` builds a node's object and turns a
constructor's complaint into a :class:`~mfbench.errors.ConfigError`.
"""
from __future__ import annotations

from typing import Any, Mapping

from omegaconf import DictConfig, OmegaConf

from mfbench.config.fingerprint import config_fingerprint
from mfbench.config.methods import check_method_identity, user_config_dirs
from mfbench.config.targets import is_file_target
from mfbench.config.validation import locate, validate_node
from mfbench.errors import ConfigError, message_of

GROUPS = ("benchmark", "method", "backend", "stopping")


def instantiate(node: Mapping[str, Any], **kwargs: Any) -> Any:
    """Build the object of a resolved config node; ``kwargs`` are runtime objects (e.g. ``problem``)."""
    from hydra.utils import instantiate

    node = _with_file_targets_located(node)
    try:
        if kwargs:  # runtime objects must not pass through OmegaConf: bind them after
            return instantiate(dict(node), _partial_=True)(**kwargs)
        return instantiate(dict(node))
    except Exception as error:  # hydra wraps constructor errors; surface the constructor's complaint
        from hydra.errors import HydraException

        cause: BaseException = error
        while isinstance(cause, HydraException) and cause.__cause__ is not None:  # Hydra's wrappers only: the
            cause = cause.__cause__  # constructor's own message is the one that says what is wrong
        if isinstance(cause, (ValueError, KeyError, TypeError, FileNotFoundError)):
            raise ConfigError(message_of(cause)) from error
        raise


def _with_file_targets_located(node: Any, path: str = "") -> Any:
    """A copy of ``node`` whose ``path/to/file.py:Class`` targets are the objects they name.

    Hydra only imports dotted names; a file target is imported by :mod:`mfbench.config.targets`
    (the same module object validation inspected) and handed to Hydra as the class itself.
    Nodes without a file target are returned unchanged, so shipped configs build as before.
    """
    if isinstance(node, Mapping):
        copied = {key: _with_file_targets_located(value, f"{path}.{key}" if path else str(key))
                  for key, value in node.items()}
        target = node.get("_target_")
        if isinstance(target, str) and is_file_target(target):
            copied["_target_"] = locate(target, path)
        return copied if any(copied[key] is not node[key] for key in node) else node
    if isinstance(node, list):
        copied_list = [_with_file_targets_located(value, f"{path}[{i}]") for i, value in enumerate(node)]
        return copied_list if any(a is not b for a, b in zip(copied_list, node)) else node
    return node


def resolve_config(cfg: DictConfig, choices: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The resolved config as plain containers, with the groups validated.

    ``choices`` (the option of each group, e.g. ``{"benchmark": "table"}``; default: the
    config's own ``hydra.runtime.choices``) words the error for a mandatory value left unset
    (``???``), and names the method the run is filed under: a shipped method's name must run
    its own class (:func:`~mfbench.config.methods.check_method_identity`).
    """
    from omegaconf.errors import MissingMandatoryValue

    keys = [key for key in cfg.keys() if key != "hydra"]
    try:
        config = OmegaConf.to_container(OmegaConf.masked_copy(cfg, keys), resolve=True, throw_on_missing=True)
    except MissingMandatoryValue as error:
        raise _missing_value_error(cfg, str(getattr(error, "full_key", "") or ""), choices) from None
    assert isinstance(config, dict)
    if choices is None and "hydra" in cfg:
        choices = dict(cfg.hydra.runtime.choices)
    # first: a method._target_ override would otherwise fail on the shipped YAML's options, unexplained
    check_method_identity(config["method"], (choices or {}).get("method"), user_config_dirs())
    _refuse_unknown_keys(config)
    for group in GROUPS:
        validate_node(config[group], group)
    if config["seed"] < 0:
        raise ConfigError(f"seed must be >= 0, got {config['seed']}")
    if config["n_workers"] is not None and config["n_workers"] < 1:
        raise ConfigError(f"n_workers must be >= 1 (or null for the benchmark's default), got {config['n_workers']}")
    return config


def _refuse_unknown_keys(config: Mapping[str, Any]) -> None:
    """A top-level key that the schema does not have: Hydra lets ``+n_workrs=2`` add one, and
    nothing would read it, so the run would silently use the default it meant to change."""
    from dataclasses import fields

    from mfbench.config.choices import UnknownName, with_top_level_groups
    from mfbench.config.schema import MfbenchConfig

    known = [field.name for field in fields(MfbenchConfig)]
    for key in config:
        if key not in known:
            raise ConfigError(UnknownName.key("", str(key), with_top_level_groups(known)).message())


def _missing_value_error(cfg: DictConfig, key: str, choices: Mapping[str, str] | None) -> ConfigError:
    """``benchmark=table needs benchmark.path=PATH ...`` for a ``???`` value left unset."""
    group = key.split(".")[0]
    if choices is None and "hydra" in cfg:
        choices = dict(cfg.hydra.runtime.choices)
    choice = (choices or {}).get(group)
    placeholder = key.rsplit(".", 1)[-1].upper() or "VALUE"
    needs = f"{group}={choice} needs" if choice else "the config needs"
    return ConfigError(f"{key} is required: {needs} {key}={placeholder} (e.g. python -m mfbench "
                       f"{f'{group}={choice} ' if choice else ''}{key}={placeholder})")
