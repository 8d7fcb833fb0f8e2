"""Validation of config group nodes against the signature of their ``_target_``.

Each node with a ``_target_`` is checked like a structured config whose fields are the
target's keyword parameters and their type hints: a misspelled key or a value of the
wrong type fails at start, naming the key, the class and the accepted keys. Hints that
are not simple (``int``, ``float``, ``str``, ``bool``, their ``Optional`` and
``int | float``) are left to the constructor, which validates its own values.
"""
from __future__ import annotations

import functools
import importlib
import inspect
import typing
from typing import Any, Mapping

from mfbench.config.choices import did_you_mean
from mfbench.config.targets import is_file_target, locate_target
from mfbench.errors import ConfigError


#: parameters supplied by mfbench itself, never by the config
INJECTED = {"problem", "self"}
_SIMPLE = (bool, int, float, str)
_TYPE_NAMES = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}


def locate(target: str, path: str = "") -> Any:
    """Import ``package.module.attribute`` or ``path/to/file.py:attribute`` (clear error if impossible).

    ``path`` is where the node sits (e.g. ``"method"``), for the messages. The file spelling is
    resolved by :mod:`mfbench.config.targets` (relative to the current directory).
    """
    if is_file_target(target):
        return locate_target(target, f"{path}._target_" if path else "_target_")
    module_name, _, attribute = target.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as error:
        raise ConfigError(f"_target_ {target!r} cannot be imported: {error}") from error


def _checkable(hint: Any) -> tuple[tuple[type, ...], bool] | None:
    """``(allowed types, None allowed)`` for a simple hint, None for hints left unchecked."""
    if hint in _SIMPLE:
        return (hint,), False
    origin = typing.get_origin(hint)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        args = typing.get_args(hint)
        optional = type(None) in args
        rest = tuple(a for a in args if a is not type(None))
        if rest and all(a in _SIMPLE for a in rest):
            return rest, optional
    return None


@functools.lru_cache(maxsize=None)
def _parameters(target: Any) -> tuple[tuple[str, ...], dict[str, tuple[tuple[type, ...], bool]], bool]:
    """Keyword parameters of ``target``, the checkable ones' types, and whether it takes ``**kwargs``."""
    function = target.__init__ if inspect.isclass(target) else target
    signature = inspect.signature(function)
    try:
        hints = typing.get_type_hints(function)
    except Exception:  # unresolvable annotations: check keys only
        hints = {}
    names: list[str] = []
    types: dict[str, tuple[tuple[type, ...], bool]] = {}
    for name, parameter in signature.parameters.items():
        if name in INJECTED or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        names.append(name)
        checkable = _checkable(hints.get(name, Any))
        if checkable is not None:
            types[name] = checkable
    accepts_any = any(p.kind == p.VAR_KEYWORD for p in signature.parameters.values())
    return tuple(names), types, accepts_any


def _type_ok(value: Any, allowed: tuple[type, ...], optional: bool) -> bool:
    if value is None:
        return optional
    if isinstance(value, bool):
        return bool in allowed
    if isinstance(value, int):
        return int in allowed or float in allowed
    if isinstance(value, float):
        return float in allowed
    return isinstance(value, tuple(t for t in allowed if t not in (bool, int, float)))


def validate_node(node: Mapping[str, Any], path: str) -> None:
    """Check ``node`` (a plain dict) and its nested ``_target_`` nodes.

    Args:
        node: the group node as a container (``OmegaConf.to_container(..., resolve=True)``).
        path: where the node sits, e.g. ``"method"``, for the messages.
    """
    if "_target_" not in node:
        raise ConfigError(f"{path}: the config node has no _target_; every {path} YAML names the class it builds")
    names, types, accepts_any = _parameters(locate(str(node["_target_"]), path))
    values = {k: v for k, v in node.items() if not k.startswith("_")}
    for key, value in values.items():
        if isinstance(value, Mapping) and "_target_" in value:
            validate_node(value, f"{path}.{key}")
    if accepts_any:
        return
    unknown = sorted(set(values) - set(names))
    if unknown:
        hint = did_you_mean(unknown[0], names, prefix=f"{path}.")
        raise ConfigError(f"{path}.{unknown[0]}: unknown option for {node['_target_']}" + (f" ({hint})" if hint else "")
                          + f". Accepted options: {', '.join(names)}")
    for key, value in values.items():
        if key in types and not _type_ok(value, *types[key]):
            allowed, optional = types[key]
            expected = " or ".join(_TYPE_NAMES[t] for t in allowed) + (" or null" if optional else "")
            raise ConfigError(f"{path}.{key}: expected {expected}, got {value!r} ({type(value).__name__})")
