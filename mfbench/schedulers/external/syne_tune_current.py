"""Syne Tune's current schedulers (>= 0.16: ``ASHA``, ``BOHB``) as mfbench methods.

Not the same thing as the Syne Tune 0.13 reference our own methods re-implement: 0.16
rewrote its schedulers (``syne_tune.optimizer.baselines``), and this module drives them
*directly through their scheduler API*, one Syne Tune trial per mfbench trial, the way its
own ``Tuner`` does (docs/third-party.md#syne-tune-current):

* a free worker -> ``scheduler.suggest()``; a new configuration becomes a Syne Tune
  ``Trial`` with our trial id and is announced by ``on_trial_add`` (ASHA assigns its
  bracket there); a ``resume_suggestion`` resumes the paused trial;
* every result -> ``on_trial_result(trial, {metric: value, "fidelity": f})``; its decision
  ``CONTINUE`` / ``PAUSE`` / ``STOP`` maps onto ours; after ``STOP`` or ``PAUSE`` the trial
  is removed (``on_trial_remove``), a trial that reaches the maximum fidelity while
  Syne Tune says go on is completed (``on_trial_complete``), a failed one is reported by
  ``on_trial_error``, exactly as in ``syne_tune.Tuner``;
* a proposal off the table or already evaluated is replaced by the nearest unseen
  configuration (:class:`~mfbench.schedulers.external.base.ProposalFilter`), and the
  Syne Tune trial carries the replacement, so the library's searcher learns from what was
  evaluated.

Reproducibility: the scheduler's ``random_seed`` comes from ``problem.rng("syne_tune")``.
Syne Tune 0.16 also draws from numpy's *global* random state (ASHA's bracket choice in
``on_trial_add``; its random searcher and BOHB's random fraction sample domains without a
``random_state``), so every call into the library that draws (construction, ``suggest``
with ``on_trial_add``, ``on_trial_error``) runs with numpy's global state swapped for a
private one seeded from ``problem.rng("syne_tune.global")``, and the caller's global state
is put back afterwards: a seed gives bit-identical runs, and the rest of the process is not
disturbed. (The result calls draw nothing and skip the swap, which costs ~0.3 ms.)
"""
from __future__ import annotations

import contextlib
import datetime
import logging
import math
import warnings
from typing import Any, Iterator, Literal

import numpy as np

from mfbench.errors import ConfigError
from mfbench.problem import Problem
from mfbench.schedulers.base import Decision, Scheduler, TrialStatus, TrialSuggestion
from mfbench.schedulers.external.base import ProposalFilter, require
from mfbench.space import Categorical, Config, ConfigSpace, Float, Integer

#: the pip extra that installs Syne Tune >= 0.16
EXTRA = "synetune"
#: the result key Syne Tune's schedulers read the fidelity from (their ``time_attr``)
TIME_ATTR = "fidelity"
#: Syne Tune trials carry a creation time; a fixed one keeps runs independent of the clock
_CREATION_TIME = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)

SCHEDULERS = ("asha", "bohb")
#: the kernel-density options of ``baselines.BOHB`` that ``searcher_kwargs`` may set
BOHB_OPTIONS = ("num_min_data_points", "top_n_percent", "min_bandwidth", "num_candidates", "bandwidth_factor",
                "random_fraction")
#: the oldest Syne Tune whose scheduler API (``baselines.ASHA`` / ``BOHB``, ``suggest()``) this drives
MIN_VERSION = (0, 16)


class _DropPointsToEvaluateWarning(logging.Filter):
    """Drops the warning 0.16's ``baselines.ASHA`` / ``BOHB`` trigger by themselves.

    They pass ``points_to_evaluate`` inside ``searcher_kwargs`` and then warn about it on
    every construction (the value is the same either way); nothing the user can change.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("points_to_evaluate is passed in searcher_kwargs")


_WARNING_FILTER = _DropPointsToEvaluateWarning()


def to_syne_tune_space(space: ConfigSpace) -> dict[str, Any]:
    """Our hyperparameters as Syne Tune domains, in our order.

    Categorical -> ``choice`` (same choices, same order; choices of mixed types, which
    Syne Tune rejects, become the strings ``"0"``, ``"1"``, ... of their positions),
    Integer -> ``randint`` / ``lograndint`` and Float -> ``uniform`` / ``loguniform``
    with the same bounds. A table restriction has no Syne Tune counterpart:
    :class:`ProposalFilter` enforces it.
    """
    cs = require("syne_tune.config_space", EXTRA, "syne_tune_*")
    out: dict[str, Any] = {}
    for hp in space.hyperparameters:
        if isinstance(hp, Categorical):
            out[hp.name] = cs.choice(_categories(hp))
        elif isinstance(hp, Integer):
            out[hp.name] = (cs.lograndint if hp.log else cs.randint)(int(hp.lower), int(hp.upper))
        elif isinstance(hp, Float):
            out[hp.name] = (cs.loguniform if hp.log else cs.uniform)(float(hp.lower), float(hp.upper))
        else:  # pragma: no cover - the space module defines exactly these three
            raise TypeError(f"no Syne Tune domain for hyperparameter {hp!r}")
    return out


def _categories(hp: Categorical) -> list[Any]:
    # Syne Tune's choice() asserts one value type; mixed choices go by position instead
    if len({type(c) for c in hp.choices}) == 1:
        return list(hp.choices)
    return [str(i) for i in range(len(hp.choices))]


def from_syne_tune_config(space: ConfigSpace, config: dict[str, Any]) -> Config:
    """A Syne Tune configuration as ours (our key order, ``int`` / ``float`` / our choice objects)."""
    values = dict(config)
    for hp in space.hyperparameters:
        if isinstance(hp, Categorical) and _categories(hp) != list(hp.choices):  # positions (mixed types)
            values[hp.name] = hp.choices[int(values[hp.name])]
    return space.coerce(values)  # Syne Tune may return numpy scalars: our own values and choice objects


def to_syne_tune_config(space: ConfigSpace, config: Config) -> dict[str, Any]:
    """Our configuration in Syne Tune's values (the inverse of :func:`from_syne_tune_config`)."""
    out: dict[str, Any] = {}
    for hp in space.hyperparameters:
        value = config[hp.name]
        if isinstance(hp, Categorical) and _categories(hp) != list(hp.choices):
            value = str(hp.choices.index(value))
        out[hp.name] = value
    return out


def check_version(version: str, method: str) -> None:
    """Refuse a Syne Tune older than 0.16 (e.g. the 0.13 reference), whose scheduler API differs."""
    try:
        major, minor = (int(part) for part in version.split(".")[:2])
    except ValueError:
        return  # a development version: let the API speak for itself
    if (major, minor) < MIN_VERSION:
        raise ConfigError(
            f"method {method} drives Syne Tune >= {'.'.join(map(str, MIN_VERSION))}, but syne-tune {version} is "
            f"installed (0.13 and earlier have another scheduler API); install it with: pip install 'mfbench[{EXTRA}]'"
        )


class SyneTuneScheduler(Scheduler):
    """A Syne Tune >= 0.16 multi-fidelity scheduler, driven like its own ``Tuner`` drives it.

    Args:
        problem: the run's problem.
        scheduler: ``"asha"`` (``syne_tune.optimizer.baselines.ASHA``: asynchronous
            successive halving, stopping type, random search) or ``"bohb"``
            (``baselines.BOHB``: the same ASHA with a TPE-like kernel-density searcher
            fitted on each trial's last value).
        grace_period: lowest rung level, in fidelity units (None: the lowest fidelity).
        reduction_factor: ``eta``; a trial goes on at a rung if at most a ``1/eta``
            fraction of the values recorded there is better.
        brackets: number of brackets (1 = ASHA).
        searcher_kwargs: BOHB's kernel-density options (``num_min_data_points``,
            ``top_n_percent``, ``min_bandwidth``, ``num_candidates``, ``bandwidth_factor``,
            ``random_fraction``), passed to ``baselines.BOHB`` unchanged; not for ASHA.
    """

    def __init__(
        self,
        problem: Problem,
        scheduler: Literal["asha", "bohb"] = "asha",
        grace_period: int | None = None,
        reduction_factor: float = 3,
        brackets: int = 1,
        searcher_kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(problem)
        if scheduler not in SCHEDULERS:
            raise ConfigError(f"method.scheduler must be one of {SCHEDULERS}, got {scheduler!r}")
        method = f"syne_tune_{scheduler}"
        syne_tune = require("syne_tune", EXTRA, method)
        check_version(str(getattr(syne_tune, "__version__", "0")), method)
        baselines = require("syne_tune.optimizer.baselines", EXTRA, method)
        self._status = require("syne_tune.optimizer.scheduler", EXTRA, method)
        self._trial_cls = require("syne_tune.backend.trial_status", EXTRA, method).Trial
        max_t = problem.max_fidelity
        grace = problem.min_fidelity if grace_period is None else int(grace_period)
        # Syne Tune checks these with bare asserts; say what is wrong and how to fix it instead
        if not 1 <= grace <= max_t:
            raise ConfigError(f"method.grace_period must be in [1, {max_t}] (the maximum fidelity), got {grace}")
        if not reduction_factor > 1:
            raise ConfigError(f"method.reduction_factor must be > 1, got {reduction_factor}")
        if brackets < 1:
            raise ConfigError(f"method.brackets must be >= 1, got {brackets}")
        if searcher_kwargs and scheduler != "bohb":
            raise ConfigError(f"method.searcher_kwargs is for scheduler=bohb only, got {searcher_kwargs!r} with {scheduler}")
        unknown = sorted(set(searcher_kwargs or {}) - set(BOHB_OPTIONS))
        if unknown:
            raise ConfigError(f"method.searcher_kwargs: unknown option(s) {unknown}; BOHB takes {list(BOHB_OPTIONS)}")
        self.name = method
        self.version = str(getattr(syne_tune, "__version__", "unknown"))
        self.space = problem.config_space
        self.st_space = to_syne_tune_space(self.space)
        seed = int(problem.rng("syne_tune").integers(2**31 - 1))
        # the private stand-in for numpy's global random state (see the module doc)
        self._global_state: Any = np.random.RandomState(
            int(problem.rng("syne_tune.global").integers(2**31 - 1))
        ).get_state()
        common = dict(
            config_space=self.st_space,
            metric=problem.metric,
            time_attr=TIME_ATTR,
            max_t=max_t,
            do_minimize=problem.mode == "min",
            random_seed=seed,
            grace_period=grace,
            reduction_factor=reduction_factor,
            brackets=int(brackets),
        )
        searcher_logger = logging.getLogger(
            "syne_tune.optimizer.schedulers.searchers.last_value_multi_fidelity_searcher"
        )
        if _WARNING_FILTER not in searcher_logger.filters:
            searcher_logger.addFilter(_WARNING_FILTER)
        with self._library_rng():
            if scheduler == "asha":
                self.st = baselines.ASHA(**common)
            else:
                self.st = baselines.BOHB(**common, **(searcher_kwargs or {}))
        self.filter = ProposalFilter(problem)
        self.trials: dict[int, Any] = {}  # our trial id -> its Syne Tune Trial, while it runs or is paused
        self._running: set[int] = set()
        self.replaced = 0  # proposals replaced by the nearest unseen configuration

    @contextlib.contextmanager
    def _library_rng(self) -> Iterator[None]:
        """Run a call into Syne Tune with numpy's global random state swapped for ours."""
        caller = np.random.get_state()
        np.random.set_state(self._global_state)
        try:
            with warnings.catch_warnings():
                # statsmodels' KDEMultivariate (BOHB) warns on every fit that its default random
                # generator will change; Syne Tune's bw="normal_reference" never draws from it
                warnings.filterwarnings("ignore", message="After 0.17 or January 2028", category=FutureWarning)
                yield
        finally:
            self._global_state = np.random.get_state()
            np.random.set_state(caller)

    def _result(self, fidelity: int, metric: float) -> dict[str, Any]:
        # a failed evaluation (NaN) is the worst value in the problem's direction
        if metric != metric:
            metric = math.inf if self.problem.mode == "min" else -math.inf
        return {self.problem.metric: float(metric), TIME_ATTR: int(fidelity)}

    def suggest(self, trial_id: int) -> TrialSuggestion | None:
        with self._library_rng():
            return self._suggest(trial_id)

    def _suggest(self, trial_id: int) -> TrialSuggestion | None:
        # runs inside _library_rng: both st.suggest and st.on_trial_add draw from numpy's global state
        suggestion = self.st.suggest()
        if suggestion is None:
            return None
        if not suggestion.spawn_new_trial_id:
            resumed = int(suggestion.checkpoint_trial_id)
            if resumed not in self.trials or resumed in self._running:
                raise RuntimeError(f"Syne Tune asked to resume trial {resumed}, which is not paused")
            self._running.add(resumed)
            return TrialSuggestion.resume(resumed, self.problem.max_fidelity)
        if suggestion.checkpoint_trial_id is not None:
            raise RuntimeError(
                "Syne Tune asked to start a new trial from another trial's checkpoint, which the simulator "
                "does not model; use a scheduler that starts trials from scratch"
            )
        if self.filter.exhausted:
            return None
        proposed = from_syne_tune_config(self.space, suggestion.config)
        config = self.filter.legalise(proposed)
        if config is None:  # pragma: no cover - exhausted is checked above
            return None
        if config != proposed:
            self.replaced += 1
        self.filter.mark(config)
        trial = self._trial_cls(trial_id=trial_id, config=to_syne_tune_config(self.space, config),
                                creation_time=_CREATION_TIME)
        self.st.on_trial_add(trial)
        self.trials[trial_id] = trial
        self._running.add(trial_id)
        # stopping-type: a trial runs to the maximum fidelity unless Syne Tune stops or pauses it
        return TrialSuggestion.start(config, self.problem.max_fidelity)

    def on_result(self, trial_id: int, fidelity: int, metric: float) -> Decision:
        trial = self.trials[trial_id]
        result = self._result(fidelity, metric)
        decisions = self._status.SchedulerDecision
        # no _library_rng here: 0.16's on_trial_result / _remove / _complete draw no random
        # numbers (tests/schedulers/test_external_syne_tune.py checks runs against numpy's
        # global state), and swapping the global state costs ~0.3 ms, which on every result
        # would be most of a run's time
        decision = self.st.on_trial_result(trial, result)
        if decision in (decisions.STOP, decisions.PAUSE):
            self.st.on_trial_remove(trial)  # what syne_tune.Tuner does after either
        elif fidelity >= self.problem.max_fidelity:
            self.st.on_trial_complete(trial, result)  # the trial ended by itself
        if decision == decisions.PAUSE and fidelity < self.problem.max_fidelity:
            self._running.discard(trial_id)
            return Decision.PAUSE
        if decision in (decisions.STOP, decisions.PAUSE) or fidelity >= self.problem.max_fidelity:
            self._forget(trial_id)
            return Decision.STOP
        if decision != decisions.CONTINUE:
            raise RuntimeError(f"Syne Tune returned an unknown decision {decision!r} for trial {trial_id}")
        return Decision.CONTINUE

    def on_trial_end(self, trial_id: int, status: TrialStatus) -> None:
        if status is TrialStatus.FAILED and trial_id in self.trials:
            # ended without a decision of ours: Syne Tune's Tuner reports it as an error
            with self._library_rng():
                self.st.on_trial_error(self.trials[trial_id])
            self._forget(trial_id)

    def _forget(self, trial_id: int) -> None:
        self.trials.pop(trial_id, None)
        self._running.discard(trial_id)

    def describe(self) -> dict[str, Any]:
        return {
            "scheduler": self.name,
            "library": "syne-tune",
            "library_version": self.version,
            "replaced_proposals": self.replaced,
        }
