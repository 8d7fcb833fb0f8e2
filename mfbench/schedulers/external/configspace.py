"""Our search space in ConfigSpace's terms, for the libraries built on it (SMAC3, DEHB).

ConfigSpace orders hyperparameters by name; the functions here map values by name, so our
key order is restored on the way back. A table restriction has no ConfigSpace counterpart:
:class:`~mfbench.schedulers.external.base.ProposalFilter` enforces it.
"""
from __future__ import annotations

from typing import Any, Mapping

from mfbench.schedulers.external.base import clip_to_bounds, require
from mfbench.space import Categorical, Config, ConfigSpace, Float, Integer


def to_configspace(space: ConfigSpace, seed: int, extra: str, method: str) -> Any:
    """Our hyperparameters as a ``ConfigSpace.ConfigurationSpace`` seeded with ``seed``.

    Categorical -> ``CategoricalHyperparameter`` (same choices, same order); Integer /
    Float -> ``UniformIntegerHyperparameter`` / ``UniformFloatHyperparameter`` (same bounds,
    same log flag); a numeric with ``lower == upper`` -> ``Constant`` (ConfigSpace needs
    ``lower < upper``). Works with ConfigSpace 0.x and >= 1.0.

    Args:
        space: our space.
        seed: the ConfigurationSpace's own seed (its ``sample_configuration``).
        extra / method: the optional extra and the method, for the missing-library error.
    """
    cs = require("ConfigSpace", extra, method)
    hyperparameters: list[Any] = []
    for hp in space.hyperparameters:
        if isinstance(hp, Categorical):
            hyperparameters.append(cs.CategoricalHyperparameter(hp.name, list(hp.choices)))
        elif isinstance(hp, (Integer, Float)) and hp.lower == hp.upper:
            hyperparameters.append(cs.Constant(hp.name, int(hp.lower) if isinstance(hp, Integer) else float(hp.lower)))
        elif isinstance(hp, Integer):
            hyperparameters.append(cs.UniformIntegerHyperparameter(hp.name, int(hp.lower), int(hp.upper), log=hp.log))
        elif isinstance(hp, Float):
            hyperparameters.append(cs.UniformFloatHyperparameter(hp.name, float(hp.lower), float(hp.upper), log=hp.log))
        else:  # pragma: no cover - the space module defines exactly these three
            raise TypeError(f"no ConfigSpace hyperparameter for {hp!r}")
    out = cs.ConfigurationSpace(seed=int(seed))
    if hasattr(out, "add"):  # ConfigSpace >= 1.0
        out.add(hyperparameters)
    else:  # ConfigSpace 0.x (the numpy<2 environment of dehb 0.1.2)
        out.add_hyperparameters(hyperparameters)
    return out


def from_configuration(space: ConfigSpace, configuration: Any) -> Config:
    """A ConfigSpace configuration (or a mapping of its values) as ours: our key order, our
    choice objects (ConfigSpace may hand back numpy scalars), ``int`` / ``float``."""
    return space.coerce(dict(configuration))


def to_configuration(configspace: Any, space: ConfigSpace, config: Mapping[str, Any]) -> Any:
    """Our configuration as a ``ConfigSpace.Configuration`` of ``configspace``.

    A table's numeric value may lie a rounding error outside the declared bounds (a CSV's
    ``0.10000000000000006`` for ``lr`` in ``[0.001, 0.1]``), which ConfigSpace refuses:
    numbers are clipped into their bounds for the library's record. The run evaluates (and
    files) the table's own value; the library learns it at the bound.
    """
    from ConfigSpace import Configuration

    values = clip_to_bounds(space, config)
    for hp in space.hyperparameters:
        if isinstance(hp, Integer):
            values[hp.name] = int(values[hp.name])
        elif isinstance(hp, Float):
            values[hp.name] = float(values[hp.name])
    return Configuration(configspace, values=values)
