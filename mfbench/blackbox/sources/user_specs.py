"""What a user declares for a bring-your-own blackbox (table or function): its hyperparameter
specs, and which objective is the metric.

Hyperparameter specs are written as in :func:`mfbench.space.hyperparameter_from_dict`
(``{name, type, choices | lower, upper, log}``), either as a list of such dicts or as a
mapping ``{name: spec}`` (handier on the command line: ``+benchmark.hyperparameters.lr.log=true``);
a spec may also be just the type (``{lr: float}``).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from mfbench.errors import ConfigError

_SPEC_KEYS = {"name", "type", "choices", "lower", "upper", "log"}


def hyperparameter_specs(value: Any, where: str) -> dict[str, dict[str, Any]]:
    """``{name: spec}`` from a list of specs or a mapping (``where`` names the key in messages)."""
    specs: dict[str, dict[str, Any]] = {}
    for item in _spec_list(value, where):
        if not isinstance(item, Mapping) or "name" not in item:
            raise ConfigError(f"{where}: every hyperparameter needs a name, as in {{name: lr, type: float, "
                              f"lower: 0.001, upper: 1, log: true}}; got {item!r}")
        unknown = sorted(set(item) - _SPEC_KEYS)
        if unknown:
            raise ConfigError(f"{where}.{item['name']}: unknown key(s) {unknown}; a hyperparameter takes "
                              f"{sorted(_SPEC_KEYS)}")
        if item["name"] in specs:
            raise ConfigError(f"{where}: hyperparameter {item['name']!r} is declared twice")
        specs[str(item["name"])] = dict(item)
    return specs


def _spec_list(value: Any, where: str) -> list[Any]:
    """The specs as a list of ``{name, ...}``, whichever of the two forms (or ``None``) the user wrote."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        items = []
        for name, spec in value.items():
            if isinstance(spec, str):  # {lr: float}: just the type
                spec = {"type": spec}
            if not isinstance(spec, Mapping):
                raise ConfigError(f"{where}.{name}: expected a spec such as {{type: float, lower: 0.001, upper: 1, "
                                  f"log: true}}, got {spec!r}")
            items.append({**spec, "name": str(name)})
        return items
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    raise ConfigError(f"{where}: expected a list of {{name, type, ...}} or a mapping {{name: spec}}, got {value!r}")


def choose_metric(metric: str | None, candidates: Sequence[str], where: str) -> str:
    """The metric: the given one, else the only candidate objective (ConfigError otherwise)."""
    if metric is not None:
        return metric
    if len(candidates) == 1:
        return candidates[0]
    raise ConfigError(f"{where}: benchmark.metric=NAME is required, the objective to optimise"
                      + (f"; objectives: {list(candidates)}" if candidates else ""))

