"""Validation of config group nodes against the signature of their ``_target_``.

Each node with a ``_target_`` is checked like a structured config whose fields are the
target's keyword parameters and their type hints: a misspelled key or a value of the
wrong type fails at start, naming the key, the class and the accepted keys.
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import typing
from typing import Any, Mapping

from omegaconf import MISSING, OmegaConf
from omegaconf.errors import OmegaConfBaseException


class ConfigError(ValueError):
    """A configuration the user must fix; the message says what and how."""


#: parameters supplied by mfbench itself, never by the config
INJECTED = {"problem", "self"}
_SIMPLE = {int, float, str, bool}


def locate(target: str) -> Any:
    """Import ``package.module.attribute`` (clear error if it does not exist)."""
    module_name, _, attribute = target.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as error:
        raise ConfigError(f"_target_ {target!r} cannot be imported: {error}") from error


def _omegaconf_type(hint: Any) -> Any:
    """The closest type OmegaConf can check (``Any`` where it cannot)."""
    origin = typing.get_origin(hint)
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if hint in _SIMPLE:
        return hint
    if origin is typing.Union or str(origin) == "types.UnionType":
        if len(args) == 1 and args[0] in _SIMPLE:
            return typing.Optional[args[0]]
        if set(args) <= {int, float}:
            return typing.Optional[float]
    return Any


def _schema_for(target: Any, path: str) -> tuple[type, list[str]]:
    """A dataclass mirroring ``target``'s keyword parameters, and their names."""
    function = target.__init__ if inspect.isclass(target) else target
    signature = inspect.signature(function)
    try:
        hints = typing.get_type_hints(function)
    except Exception:  # unresolvable annotations: check keys only
        hints = {}
    fields = []
    for name, parameter in signature.parameters.items():
        if name in INJECTED or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        fields.append((name, _omegaconf_type(hints.get(name, Any)), dataclasses.field(default=MISSING)))
    accepts_any = any(p.kind == p.VAR_KEYWORD for p in signature.parameters.values())
    schema = dataclasses.make_dataclass(f"{getattr(target, '__name__', 'Target')}Schema", fields)
    return (schema if not accepts_any else dict), [f[0] for f in fields]  # type: ignore[return-value]


def validate_node(node: Mapping[str, Any], path: str) -> None:
    """Check ``node`` (a plain dict) and its nested ``_target_`` nodes.

    Args:
        node: the group node as a container (``OmegaConf.to_container(..., resolve=True)``).
        path: where the node sits, e.g. ``"method"``, for the messages.
    """
    if "_target_" not in node:
        raise ConfigError(f"{path}: the config node has no _target_; every {path} YAML names the class it builds")
    target = locate(str(node["_target_"]))
    schema, accepted = _schema_for(target, path)
    values = {k: v for k, v in node.items() if not k.startswith("_")}
    for key, value in values.items():
        if isinstance(value, Mapping) and "_target_" in value:
            validate_node(value, f"{path}.{key}")
    if schema is dict:
        return
    unknown = sorted(set(values) - set(accepted))
    if unknown:
        raise ConfigError(
            f"{path}.{unknown[0]}: unknown option for {node['_target_']}. Accepted options: {', '.join(accepted)}"
        )
    checked = {k: v for k, v in values.items() if not (isinstance(v, Mapping) and "_target_" in v)}
    try:
        OmegaConf.merge(OmegaConf.structured(schema), checked)
    except OmegaConfBaseException as error:
        key = getattr(error, "full_key", None) or getattr(error, "key", "?")
        raise ConfigError(f"{path}.{key}: {error.msg if hasattr(error, 'msg') else error}".split("\n")[0]) from None
