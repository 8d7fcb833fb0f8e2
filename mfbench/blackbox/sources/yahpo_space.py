"""A YAHPO scenario's ``config_space.json``: hyperparameters, conditions, and our search space.

Conditional spaces (rbv2_xgboost's booster, the ``super`` scenarios, nb301, iaml_ranger...)
    ``config_space.json`` holds conditions (``EQ``, ``NEQ``, ``IN``, ``LT``, ``GT``, ``AND``,
    ``OR``): e.g. rbv2_xgboost's ``eta`` exists only for ``booster in {gbtree, dart}``. Our
    :class:`~mfbench.space.ConfigSpace` has no conditions, so the searchers see the *full*
    space: every hyperparameter always has a value, every sampled or proposed configuration is
    valid. The encoding then does what Syne Tune 0.13's YAHPO wrapper does before it calls
    yahpo-gym (``_prepare_yahpo_configuration``): it computes the *active* hyperparameters (a
    hyperparameter is active when its condition holds and the parents it names are active,
    ConfigSpace's rule) and drops the inactive ones, which yahpo-gym then imputes as
    missing. So an inactive value never reaches the model, and two configurations that differ
    only in inactive values get the same prediction. The cost is for model-based searchers:
    inactive coordinates are flat directions of the objective, and they search them anyway,
    as the reference's searchers do.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from mfbench.blackbox.cache import BlackboxDataError
from mfbench.blackbox.sources.yahpo_scenarios import Scenario, rebuild
from mfbench.space import Categorical, ConfigSpace, Float, Hyperparameter, Integer


class Condition:
    """One ConfigSpace condition of ``config_space.json`` (``EQ``/``NEQ``/``IN``/``LT``/``GT``/``AND``/``OR``)."""

    KINDS = ("EQ", "NEQ", "IN", "LT", "GT", "AND", "OR")

    def __init__(self, spec: Mapping[str, Any], where: str) -> None:
        self.kind = spec.get("type")
        if self.kind not in self.KINDS:
            raise BlackboxDataError(f"{where}: condition type {self.kind!r} of {spec.get('child')!r} is not one mfbench "
                                    f"reads ({list(self.KINDS)}); this is not a yahpo_data 1.0.2 config space")
        self.parts = [Condition(part, where) for part in spec.get("conditions", ())]
        self.parent: str | None = spec.get("parent")
        self.value = spec.get("values" if self.kind == "IN" else "value")

    def parents(self) -> set[str]:
        """The hyperparameters this condition reads."""
        if self.parts:
            return set().union(*(part.parents() for part in self.parts))
        return {self.parent} if self.parent else set()

    def holds(self, values: Mapping[str, Any]) -> bool:
        """Whether the condition holds for ``values`` (the values of its active parents)."""
        if self.kind == "AND":
            return all(part.holds(values) for part in self.parts)
        if self.kind == "OR":
            return any(part.holds(values) for part in self.parts)
        if self.parent not in values:  # an inactive parent makes the condition fail (ConfigSpace)
            return False
        value = values[self.parent]
        return {"EQ": lambda: value == self.value, "NEQ": lambda: value != self.value,
                "IN": lambda: value in self.value, "LT": lambda: value < self.value,
                "GT": lambda: value > self.value}[self.kind]()


@dataclass
class YahpoSpace:
    """A scenario's ``config_space.json``: its hyperparameters, conditions and constants.

    Attributes:
        hyperparameters: every hyperparameter by its yahpo name, as our domain (the instance,
            fidelity, constant and seed inputs included); constants are in :attr:`constants`.
        conditions: the condition of each conditional hyperparameter.
        constants: ``constant`` hyperparameters (always this value).
        fidelity_bounds: the ``(lower, upper)`` of the fidelity input.
    """

    hyperparameters: dict[str, Hyperparameter]
    conditions: dict[str, Condition]
    constants: dict[str, Any]
    fidelity_bounds: tuple[float, float]

    @classmethod
    def read(cls, path: Path, scenario: Scenario) -> YahpoSpace:
        """Parse ``config_space.json`` (ConfigSpace's JSON format 0.2).

        Raises:
            BlackboxDataError: unreadable JSON, a hyperparameter type or condition mfbench does
                not read, forbidden clauses, or the scenario's inputs missing.
        """
        try:
            spec = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise BlackboxDataError(f"{path} is not a readable config space ({error}); fetch it again with: "
                                    f"{rebuild(scenario.name)}") from None
        hyperparameters: dict[str, Hyperparameter] = {}
        constants: dict[str, Any] = {}
        for hp in spec.get("hyperparameters", ()):
            name, kind = hp["name"], hp["type"]
            if kind == "categorical":
                hyperparameters[name] = Categorical(name, tuple(hp["choices"]))
            elif kind == "ordinal":
                hyperparameters[name] = Categorical(name, tuple(hp["sequence"]))
            elif kind == "uniform_int":
                hyperparameters[name] = Integer(name, hp["lower"], hp["upper"], bool(hp.get("log", False)))
            elif kind == "uniform_float":
                hyperparameters[name] = Float(name, float(hp["lower"]), float(hp["upper"]), bool(hp.get("log", False)))
            elif kind == "constant":
                constants[name] = hp["value"]
            else:
                raise BlackboxDataError(f"{path}: hyperparameter {name!r} has type {kind!r}, which mfbench does not "
                                        f"read (categorical, ordinal, uniform_int, uniform_float, constant)")
        if spec.get("forbiddens"):
            raise BlackboxDataError(f"{path} has forbidden clauses, which mfbench's spaces cannot express: scenario "
                                    f"{scenario.name} is refused (yahpo_data 1.0.2 has none)")
        conditions = {c["child"]: Condition(c, str(path)) for c in spec.get("conditions", ())}
        known = set(hyperparameters) | set(constants)
        needed = (set(scenario.cont_names) | set(scenario.cat_names)) - known
        if needed:
            raise BlackboxDataError(f"{path} lacks the inputs {sorted(needed)} of scenario {scenario.name}: not its "
                                    f"config space; fetch it again with: {rebuild(scenario.name)}")
        fidelity = hyperparameters[scenario.fidelity]
        assert isinstance(fidelity, (Integer, Float))
        return cls(hyperparameters, conditions, constants, (fidelity.lower, fidelity.upper))

    def active(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` without the hyperparameters that are inactive (ConfigSpace's rule).

        A hyperparameter is active when it has no condition, or its condition holds on the
        values of its parents and each parent is active itself.
        """
        memo: dict[str, bool] = {}

        def is_active(name: str, depth: int = 0) -> bool:
            if name not in memo:
                condition = self.conditions.get(name)
                if condition is None:
                    memo[name] = True
                elif depth > len(self.conditions):
                    raise BlackboxDataError(f"the conditions of {name!r} form a cycle")
                else:
                    parents = {p: values[p] for p in condition.parents() if p in values and is_active(p, depth + 1)}
                    memo[name] = condition.holds(parents)
            return memo[name]

        return {name: value for name, value in values.items() if is_active(name)}


def search_space(space: YahpoSpace, scenario: Scenario) -> tuple[ConfigSpace, dict[str, str]]:
    """Our search space (every hyperparameter the searchers choose) and ``{our name: yahpo name}``.

    Left out: the instance, the fidelity, rbv2's ``repl`` and fcnet's ``replication`` (inputs the
    benchmark sets) and constants. Conditional hyperparameters stay in (see this module's docstring).
    """
    fixed = {scenario.instance_param, scenario.fidelity, scenario.seed_param, *scenario.constants}
    names: dict[str, str] = {}
    hyperparameters = []
    for name, hp in space.hyperparameters.items():  # the file's order (LCBench: what yahpo_lcbench used)
        if name in fixed:
            continue
        ours = name[len(scenario.name_prefix):] if scenario.name_prefix and name.startswith(scenario.name_prefix) else name
        names[ours] = name
        hyperparameters.append(type(hp)(ours, hp.choices) if isinstance(hp, Categorical)
                               else type(hp)(ours, hp.lower, hp.upper, hp.log))
    return ConfigSpace(tuple(hyperparameters)), names
