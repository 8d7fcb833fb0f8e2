"""A user's Python callable as a blackbox, computed on demand (for ``benchmark=function``).

The callable is ``f(config, fidelity, seed) -> {objective: value}``: ``config`` is a dict
``{hyperparameter: value}`` of the declared space, ``fidelity`` an int of the declared
fidelity values, ``seed`` an int in ``[0, num_seeds)`` (the table seed the simulator draws
for a trial). Nothing is tabulated: each time a trial runs a segment the simulator asks for
the segment's fidelities (:class:`mfbench.blackbox.surrogate.SurrogateBlackbox`, the same
path as the surrogate benchmarks), so continuous spaces work with every method that
supports them. The callable should be deterministic in ``(config, fidelity, seed)`` for runs
to be reproducible.

Training time comes from an objective holding cumulative seconds (``elapsed_time``,
default: an ``elapsed_time`` key if the callable returns one) or from
``cost_per_fidelity`` (``cost_per_fidelity * fidelity`` seconds).

:func:`declare_function` checks what the user declared (:class:`FunctionSource`) and
:meth:`DeclaredFunction.blackbox` builds the blackbox; the benchmark around it (metric,
budget) is :func:`mfbench.benchmarks.function.function_benchmark`.
"""
from __future__ import annotations

import functools
import math
import numbers
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from mfbench.blackbox.sources.user_specs import hyperparameter_specs
from mfbench.blackbox.surrogate import SurrogateBlackbox
from mfbench.config.targets import target_module
from mfbench.errors import ConfigError
from mfbench.space import ConfigSpace, hyperparameter_from_dict, hyperparameter_to_dict

UserFunction = Callable[[dict[str, Any], int, int], Mapping[str, Any]]


@dataclass(frozen=True)
class FunctionSource:
    """What a user declares about a callable: everything that determines its blackbox.

    The fields are the ``benchmark=function`` options of the same names (see
    :func:`mfbench.benchmarks.function.function_benchmark`).
    """

    target: str
    hyperparameters: Any
    fidelities: list[int] | None = None
    max_fidelity: int | None = None
    objectives: list[str] | None = None
    elapsed_time: str | None = None
    cost_per_fidelity: float | None = None
    num_seeds: int = 1
    target_kwargs: dict[str, Any] | None = None


@dataclass(frozen=True, eq=False)  # numpy fields: no meaningful ==
class DeclaredFunction:
    """A checked :class:`FunctionSource`: the callable with its space, fidelities and objectives.

    Attributes:
        objectives: the objectives read from each returned dict, in order.
        cumulative: the time objective derived from ``cost_per_fidelity`` (appended after
            ``objectives``), or None when the callable returns its time.
        elapsed_time_attr: the objective holding cumulative training seconds.
    """

    target: str
    function: UserFunction
    space: ConfigSpace
    fidelity_values: np.ndarray
    objectives: list[str]
    cumulative: str | None
    elapsed_time_attr: str
    num_seeds: int
    cost_per_fidelity: float | None

    @property
    def metric_candidates(self) -> list[str]:
        """The objectives that can be the metric: all but the elapsed time."""
        return [o for o in self.objectives if o != self.elapsed_time_attr]

    def blackbox(self) -> FunctionBlackbox:
        """The blackbox computing the callable on demand."""
        predictor = CallablePredictor(self.function, self.target, self.objectives, self.cumulative,
                                      self.cost_per_fidelity)
        return FunctionBlackbox(
            self.space, self.fidelity_values, [*self.objectives, *([self.cumulative] if self.cumulative else [])],
            predictor, self.num_seeds,
            {"source": {"kind": "python function", "target": self.target}, "computed": "on demand",
             "hyperparameters": [hyperparameter_to_dict(hp) for hp in self.space.hyperparameters]},
            self.elapsed_time_attr,
        )


def declare_function(source: FunctionSource) -> DeclaredFunction:
    """Import the callable and check the declaration (ConfigError saying what to fix).

    Without ``source.objectives`` the callable is called once, at the midpoint
    configuration, the lowest fidelity and seed 0, to learn the objectives it returns.
    """
    function = load_callable(source.target, source.target_kwargs)
    space = declared_space(source.hyperparameters)
    values = fidelity_values(source.fidelities, source.max_fidelity)
    _check_seeds_and_cost(source)
    if source.objectives is None:
        objectives = list(_call(function, source.target, space.midpoint(), int(values[0]), 0))
    elif isinstance(source.objectives, str) or not source.objectives:
        raise ConfigError(f"benchmark.objectives must be a non-empty list of names, got {source.objectives!r}")
    else:
        objectives = list(source.objectives)
    objectives = [str(o) for o in objectives]
    cumulative, elapsed_attr = _time_objective(source, objectives)
    return DeclaredFunction(source.target, function, space, values, objectives, cumulative, elapsed_attr,
                            source.num_seeds, source.cost_per_fidelity)


def declared_space(hyperparameters: Any) -> ConfigSpace:
    """The space of ``benchmark.hyperparameters`` (at least one hyperparameter)."""
    specs = hyperparameter_specs(hyperparameters, "benchmark.hyperparameters")
    if not specs:
        raise ConfigError("benchmark.hyperparameters: declare at least one hyperparameter, e.g. "
                          "[{name: lr, type: float, lower: 0.0001, upper: 1, log: true}]")
    return ConfigSpace(tuple(_hyperparameter(spec) for spec in specs.values()))


def _check_seeds_and_cost(source: FunctionSource) -> None:
    if source.num_seeds < 1:
        raise ConfigError(f"benchmark.num_seeds must be >= 1, got {source.num_seeds}")
    if source.cost_per_fidelity is not None:
        if source.elapsed_time is not None:
            raise ConfigError("benchmark.cost_per_fidelity replaces benchmark.elapsed_time: set one of them")
        if not source.cost_per_fidelity > 0:
            raise ConfigError(f"benchmark.cost_per_fidelity must be > 0 seconds, got {source.cost_per_fidelity}")


def _time_objective(source: FunctionSource, objectives: list[str]) -> tuple[str | None, str]:
    """``(derived cumulative-time objective or None, the objective holding cumulative seconds)``."""
    if source.cost_per_fidelity is not None:  # a derived time must not shadow an objective of the callable
        cumulative = "elapsed_time" if "elapsed_time" not in objectives else "simulated_elapsed_time"
        return cumulative, cumulative
    elapsed_attr = source.elapsed_time or "elapsed_time"
    if elapsed_attr not in objectives:
        raise ConfigError(
            f"benchmark.target={source.target} returns no {elapsed_attr!r} (its objectives: {objectives}): name the "
            "objective holding cumulative training seconds with benchmark.elapsed_time=NAME, or set "
            "benchmark.cost_per_fidelity=SECONDS"
        )
    return None, elapsed_attr


def _hyperparameter(spec: Mapping[str, Any]) -> Any:
    try:
        return hyperparameter_from_dict(spec)
    except KeyError as error:
        raise ConfigError(f"benchmark.hyperparameters.{spec['name']}: missing {error.args[0]!r} (a {spec.get('type')} "
                          "needs " + ("choices)" if spec.get("type") == "categorical" else "lower and upper)")) from None
    except (ValueError, TypeError) as error:
        raise ConfigError(f"benchmark.hyperparameters.{spec['name']}: {error}") from None


def fidelity_values(fidelities: Sequence[int] | None, max_fidelity: int | None) -> np.ndarray:
    """The declared fidelities (exactly one of the two options), checked: integers >= 1, increasing."""
    if (fidelities is None) == (max_fidelity is None):
        raise ConfigError("benchmark=function needs its fidelities: benchmark.max_fidelity=N (fidelities 1..N) or "
                          "benchmark.fidelities=[...] (one of the two)")
    if max_fidelity is not None:
        if not isinstance(max_fidelity, numbers.Integral) or max_fidelity < 1:
            raise ConfigError(f"benchmark.max_fidelity must be an integer >= 1, got {max_fidelity!r}")
        return np.arange(1, int(max_fidelity) + 1)
    assert fidelities is not None
    values = list(fidelities)
    if not values or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1 for v in values):
        raise ConfigError(f"benchmark.fidelities must be a non-empty list of integers >= 1, got {values!r}")
    if any(b <= a for a, b in zip(values, values[1:])):
        raise ConfigError(f"benchmark.fidelities must be strictly increasing, got {values}")
    return np.asarray(values, dtype=np.int64)


def load_callable(target: str, kwargs: Mapping[str, Any] | None = None) -> UserFunction:
    """Import ``package.module.callable`` or ``path/to/file.py:callable`` (ConfigError if impossible).

    The loader is :mod:`mfbench.config.targets`, shared with the ``_target_`` of methods.
    """
    if not isinstance(target, str) or not target:
        raise ConfigError(f"benchmark.target must be 'package.module.callable' or 'file.py:callable', got {target!r}")
    module, attribute = target_module(target, "benchmark.target", "callable")
    function = getattr(module, attribute, None)
    if not callable(function):
        raise ConfigError(f"benchmark.target={target}: {attribute!r} is not a callable of {module.__name__}")
    if kwargs:
        function = functools.partial(function, **dict(kwargs))
    return function  # type: ignore[return-value]


def _call(function: UserFunction, target: str, config: Mapping[str, Any], fidelity: int, seed: int) -> Mapping[str, Any]:
    try:
        result = function(dict(config), fidelity, seed)
    except Exception as error:
        frame = traceback.extract_tb(error.__traceback__)[-1]  # where in the user's code it went wrong
        raise ConfigError(f"benchmark.target={target} raised {type(error).__name__}: {error} at "
                          f"{frame.filename}:{frame.lineno} (config {dict(config)}, fidelity {fidelity}, "
                          f"seed {seed})") from error
    if not isinstance(result, Mapping) or not result:
        raise ConfigError(f"benchmark.target={target} must return a dict {{objective: value}}, returned {result!r} "
                          f"(config {dict(config)}, fidelity {fidelity}, seed {seed})")
    return result


class CallablePredictor:
    """Adapts ``f(config, fidelity, seed) -> {objective: value}`` to a surrogate's ``predict``.

    Args:
        function: the callable.
        target: its name (for messages).
        objectives: the objectives read from each returned dict, in order.
        cumulative: name of a time objective appended as ``cost_per_fidelity * fidelity``, or None.
        cost_per_fidelity: seconds per unit of fidelity for ``cumulative``.
    """

    def __init__(self, function: UserFunction, target: str, objectives: Sequence[str], cumulative: str | None,
                 cost_per_fidelity: float | None) -> None:
        self.function = function
        self.target = target
        self.objectives = list(objectives)
        self.cumulative = cumulative
        self.cost_per_fidelity = cost_per_fidelity

    def __call__(self, configs: Sequence[Mapping[str, Any]], fidelities: np.ndarray, seed: int) -> np.ndarray:
        """Objectives of ``configs[i]`` at ``fidelities[i]``, shape ``(n, O)`` (NaN: failed)."""
        width = len(self.objectives) + (1 if self.cumulative else 0)
        out = np.empty((len(configs), width), dtype=np.float64)
        for i, (config, fidelity) in enumerate(zip(configs, fidelities)):
            result = _call(self.function, self.target, config, int(fidelity), int(seed))
            for k, name in enumerate(self.objectives):
                if name not in result:
                    raise ConfigError(f"benchmark.target={self.target} returned no {name!r} (it returned "
                                      f"{sorted(result)}; config {dict(config)}, fidelity {int(fidelity)}, seed {seed})")
                out[i, k] = _number(result[name], name, self.target)
            if self.cumulative:
                out[i, -1] = self.cost_per_fidelity * float(fidelity)  # type: ignore[operator]
        return out


def _number(value: Any, name: str, target: str) -> float:
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise ConfigError(f"benchmark.target={target}: objective {name!r} must be a number (None or NaN for a failed "
                          f"evaluation), got {value!r}")
    return float(value)


class FunctionBlackbox(SurrogateBlackbox):
    """A surrogate blackbox over a user callable that checks the elapsed time it returns.

    Args:
        elapsed_time_attr: the cumulative-time objective; it must be finite and must not
            decrease over the fidelities of one lookup, nor from the highest fidelity looked up
            before for the same configuration and seed to the next lookup above it (a trial that
            resumes from a checkpoint).
        (the other arguments as :class:`mfbench.blackbox.surrogate.SurrogateBlackbox`)
    """

    def __init__(self, config_space: ConfigSpace, fidelity_values: np.ndarray, objective_names: Sequence[str],
                 predict: CallablePredictor, num_seeds: int, description: Mapping[str, Any],
                 elapsed_time_attr: str) -> None:
        super().__init__(config_space, fidelity_values, objective_names, predict, num_seeds, description)
        self._elapsed = self.objective_index(elapsed_time_attr)
        self._target = predict.target
        #: (configuration key, seed) -> (the highest fidelity looked up, its elapsed time)
        self._reached: dict[tuple[Any, int], tuple[float, float]] = {}

    def evaluate(self, config: Mapping[str, Any], seed: int, fidelities: np.ndarray) -> np.ndarray:
        values = super().evaluate(config, seed, fidelities)
        elapsed = values[:, self._elapsed]
        if not np.all(np.isfinite(elapsed)):
            raise ConfigError(f"benchmark.target={self._target}: elapsed time {self.objective_names[self._elapsed]!r} "
                              f"is not a finite number for config {dict(config)} (fidelities {list(fidelities)})")
        if not len(fidelities):
            return values
        key = (self.config_space.key(config), int(seed))
        reached = self._reached.get(key)
        if reached is not None and reached[0] < fidelities[0]:  # a resume: continue from the checkpoint
            fidelities = np.r_[reached[0], fidelities]
            elapsed = np.r_[reached[1], elapsed]
        if np.any(np.diff(elapsed) < 0):
            k = int(np.flatnonzero(np.diff(elapsed) < 0)[0])
            raise ConfigError(
                f"benchmark.target={self._target}: elapsed time {self.objective_names[self._elapsed]!r} decreases for "
                f"config {dict(config)}: {elapsed[k]:g} at fidelity {fidelities[k]:g}, {elapsed[k + 1]:g} at "
                f"{fidelities[k + 1]:g}; it must be cumulative seconds (or use benchmark.cost_per_fidelity)"
            )
        if reached is None or fidelities[-1] >= reached[0]:
            self._reached[key] = (float(fidelities[-1]), float(elapsed[-1]))
        return values
