"""What a ``_target_`` (or a function benchmark's ``target``) names: a dotted path or a file.

Two spellings are understood:

* ``package.module.attribute``: imported from the Python path (with ``python -m`` the current
  directory is on it);
* ``path/to/file.py:attribute``: the file is imported as a module of its own, without touching
  ``sys.path``; a relative path is relative to the **current directory** (where the command
  was started), ``~`` is expanded. Only this spelling contains a colon.

A file is imported once per process and content: :func:`locate_target` called twice on the
same unchanged file returns the same object, so the class that validation inspects is the
class that is instantiated. A file edited since is imported again.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from mfbench.errors import ConfigError

#: attribute on a module imported from a file: the (mtime_ns, size) of the file it was read from
_STAMP = "__mfbench_file_stamp__"


def is_file_target(target: str) -> bool:
    """Whether ``target`` is spelled ``path/to/file.py:attribute`` (dotted paths have no colon)."""
    return ":" in target


def locate_target(target: str, option: str = "_target_", kind: str = "Class") -> Any:
    """The object ``target`` names (ConfigError naming ``option`` and the fix if impossible).

    Args:
        target: ``package.module.attribute`` or ``path/to/file.py:attribute``.
        option: the config key being resolved, for the messages (e.g. ``"method._target_"``).
        kind: what the attribute is, for the messages' examples (``"Class"``, ``"callable"``).
    """
    module, attribute = target_module(target, option, kind)
    if not attribute or not hasattr(module, attribute):
        where = getattr(module, "__file__", None) or module.__name__
        raise ConfigError(f"{option}={target}: {where} defines no {attribute!r}; check the spelling after the "
                          f"{':' if is_file_target(target) else 'last .'}")
    return getattr(module, attribute)


def target_module(target: str, option: str = "_target_", kind: str = "Class") -> tuple[ModuleType, str]:
    """``(module, attribute name)`` of ``target``: the module imported, the attribute not yet looked up."""
    if not isinstance(target, str) or not target:
        raise ConfigError(f"{option} must be 'package.module.{kind}' or 'path/to/file.py:{kind}', got {target!r}")
    if is_file_target(target):
        file, _, attribute = target.rpartition(":")
        return module_from_file(target, Path(file).expanduser(), option), attribute
    module_name, _, attribute = target.rpartition(".")
    return _module_by_name(target, module_name, option, kind), attribute


def module_from_file(target: str, path: Path, option: str) -> ModuleType:
    """The module of a Python file, registered under a name unique to its resolved path.

    Registered in ``sys.modules`` so that pickling, ``dataclasses`` and ``typing.get_type_hints``
    inside the file work; a file that fails to import is unregistered again.
    """
    if not path.is_file():
        raise ConfigError(f"{option}={target}: the file {path} does not exist (a relative path is relative to the "
                          f"current directory, {Path.cwd()})")
    resolved = path.resolve()
    stat = resolved.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    # a stable name (not hash(), which changes between processes), readable in tracebacks
    digest = hashlib.sha1(str(resolved).encode()).hexdigest()[:12]
    module_name = f"mfbench_user_{resolved.stem.replace('-', '_')}_{digest}"
    loaded = sys.modules.get(module_name)
    if loaded is not None and getattr(loaded, _STAMP, None) == stamp:
        return loaded
    spec = importlib.util.spec_from_file_location(module_name, resolved)
    if spec is None or spec.loader is None:
        raise ConfigError(f"{option}={target}: {path} cannot be imported as a Python module; name a .py file")
    module = importlib.util.module_from_spec(spec)
    setattr(module, _STAMP, stamp)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        sys.modules.pop(module_name, None)
        raise ConfigError(f"{option}={target}: importing {path} failed: {type(error).__name__}: {error}") from error
    return module


def _module_by_name(target: str, module_name: str, option: str, kind: str) -> ModuleType:
    """An importable module (from the current directory or the Python path)."""
    if not module_name:
        raise ConfigError(f"{option}={target!r}: write it as 'package.module.{kind}' or 'path/to/file.py:{kind}'")
    try:
        return importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigError(f"{option}={target}: cannot import {module_name!r} ({error}); the module must be "
                          f"importable from the current directory or the Python path, or use "
                          f"{option}=path/to/file.py:{kind}") from None
