"""What a method's classes must be, checked where a method enters a run.

A method YAML names any class (``package.module.Class`` or ``path/to/file.py:Class``); before
the benchmark is opened, :func:`check_method_classes` makes sure the scheduler is a
:class:`~mfbench.schedulers.base.Scheduler` (and a ``searcher`` node a
:class:`~mfbench.searchers.base.Searcher`), so a wrong class fails at once with the fix instead
of deep inside the simulator. What the scheduler *returns* is checked by the simulator
(:mod:`mfbench.backend.simulator`).
"""
from __future__ import annotations

import inspect
from typing import Any, Mapping

from mfbench.config.validation import locate
from mfbench.errors import ConfigError, describe_class  # noqa: F401  (describe_class: re-exported)
from mfbench.schedulers.base import Scheduler
from mfbench.searchers.base import Searcher


def _require_subclass(node: Mapping[str, Any], path: str, base: type, what: str) -> None:
    target = str(node["_target_"])
    located = locate(target, path)
    if inspect.isclass(located) and not issubclass(located, base):
        raise ConfigError(f"{path}._target_={target}: {describe_class(located)} is not a {what}: it must subclass "
                          f"{base.__module__}.{base.__qualname__} (docs/writing-a-method.md)")


def check_method_classes(method: Mapping[str, Any]) -> None:
    """The ``method`` node builds a Scheduler, its ``searcher`` node (if any) a Searcher.

    A ``_target_`` that is a function (a factory) cannot be judged before it is called; its
    result is checked by :func:`check_scheduler`.
    """
    _require_subclass(method, "method", Scheduler, "scheduler")
    searcher = method.get("searcher")
    if isinstance(searcher, Mapping) and "_target_" in searcher:
        _require_subclass(searcher, "method.searcher", Searcher, "searcher")


def check_scheduler(scheduler: Any, target: str) -> Scheduler:
    """``scheduler`` (what ``method._target_`` built) if it is a Scheduler, else a ConfigError."""
    if not isinstance(scheduler, Scheduler):
        raise ConfigError(f"method._target_={target} built a {type(scheduler).__qualname__}, not a scheduler: the "
                          f"method's class must subclass mfbench.schedulers.base.Scheduler (docs/writing-a-method.md)")
    return scheduler
