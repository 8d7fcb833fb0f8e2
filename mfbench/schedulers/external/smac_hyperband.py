"""SMAC3 (``MultiFidelityFacade`` + its ``Hyperband`` intensifier) as an mfbench method.

Mapping (docs/third-party.md#smac3):

* one SMAC facade lives in memory in this process, driven by ask/tell (no target function,
  no Dask); every seed of SMAC (its ``Scenario``: ConfigSpace sampling, random forest,
  random design, local search, intensifier) is drawn from ``problem.rng("smac")``. SMAC
  writes its scenario and run history once, when the facade is built, into a temporary
  folder that is deleted at once; later ``tell``\\s do not save;
* SMAC *budgets* are our fidelity levels: ``min_budget = grace_period`` (default the lowest
  fidelity), ``max_budget`` = the maximum fidelity. SMAC's Hyperband computes real-valued
  stage budgets ``max_budget * eta**-k``; a SMAC trial at budget ``b`` runs an mfbench trial
  from scratch up to the smallest fidelity level ``>= b`` (:func:`fidelity_for_budget`),
  ``CONTINUE`` below it, ``STOP`` at it, and SMAC is told the value reached there;
* a free worker -> ``ask()``. Trials asked and not told are RUNNING in SMAC's run history;
  SMAC's successive halving promotes a stage only once *all* its trials are told, and while
  a stage waits it opens the next bracket with new configurations instead of waiting, so
  ``ask()`` always has work for a free worker (until new configurations run out);
* a promoted configuration (the same configuration at a higher budget) is a new SMAC trial
  and so a *new mfbench trial that starts from scratch*: SMAC's target functions train a
  configuration for ``budget`` units from scratch, SMAC neither knows nor uses checkpoints.
  Our no-repeat rule (:class:`ProposalFilter`) applies to *new* configurations only: each
  configuration SMAC draws for a bracket's first stage passes through
  :meth:`ProposalFilter.legalise` (off the table or already drawn -> the nearest unseen
  one), before SMAC's intensifier records it, so SMAC's run history and model hold exactly
  what is evaluated. ``describe()`` declares ``restarts_at_higher_fidelity`` so the
  contract check accepts such repeats only at a higher fidelity;
* on a finite space, a bracket needing more new configurations than are left is skipped,
  and when none fits SMAC waits for its running stages (:class:`NoNewConfiguration`);
* SMAC's local search keeps its start points in their documented order rather than in
  ``set`` order, which follows Python's per-process string hashing: with that, the same
  seed gives bit-identical runs in any process (:func:`_ordered_acquisition_maximizer`).
"""
from __future__ import annotations

import logging
import math
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from mfbench.problem import Problem
from mfbench.schedulers.base import Decision, Scheduler, TrialStatus, TrialSuggestion
from mfbench.schedulers.external import configspace
from mfbench.schedulers.external.base import ProposalFilter, require
from mfbench.space import Config, ConfigSpace

#: the method's name in messages (the YAML's)
METHOD = "smac_hyperband"
#: SMAC's ``n_trials`` caps only its initial design here (``max_ratio * n_trials``); our
#: stopping criterion ends the run, so SMAC's own trial budget is made unreachable
_SMAC_N_TRIALS = 10**9


def to_configspace(space: ConfigSpace, seed: int) -> Any:
    """Our hyperparameters as a seeded ``ConfigSpace.ConfigurationSpace``
    (:func:`mfbench.schedulers.external.configspace.to_configspace`)."""
    return configspace.to_configspace(space, seed, "smac", METHOD)


from_configuration = configspace.from_configuration


def fidelity_for_budget(fidelities: np.ndarray, budget: float) -> int:
    """The smallest fidelity level ``>= budget`` (SMAC's stage budgets are real-valued).

    Args:
        fidelities: the benchmark's sorted fidelity levels, shape ``(F,)``.
        budget: a SMAC budget in ``[fidelities[0], fidelities[-1]]``.

    A relative tolerance of 1e-9 absorbs SMAC's ``max_budget * eta**-k`` rounding, so a
    budget that *is* a level (e.g. the maximum) maps to itself.
    """
    index = int(np.searchsorted(fidelities, budget * (1 - 1e-9), side="left"))
    return int(fidelities[min(index, len(fidelities) - 1)])


def _ordered_acquisition_maximizer(scenario: Any) -> Any:
    """The facade's ``LocalAndSortedRandomSearch``, its local search started in a fixed order.

    SMAC's ``LocalSearch._get_init_points_from_previous_configs`` documents that it drops
    repeated start points "reading from left to right", but returns ``list(set(...))``:
    the order then follows ``Configuration.__hash__`` (a hash of its repr string), which
    Python randomises per process (PYTHONHASHSEED), and each start point draws its own
    neighbourhood seed in that order. So the same seed gave different runs in different
    processes. This subclass keeps the documented order (first occurrence, with the same
    random draws), which makes runs bit-identical across processes; nothing else changes.
    Arguments are the facade's (``get_acquisition_maximizer``: 10,000 challengers, 10 local
    searches).
    """
    from smac.acquisition.maximizer import LocalAndSortedRandomSearch
    from smac.acquisition.maximizer.local_search import LocalSearch
    from smac.utils.configspace import convert_configurations_to_array

    class OrderedLocalSearch(LocalSearch):
        def _get_init_points_from_previous_configs(
            self, previous_configs: list, n_points: int, additional_start_points: list | None
        ) -> list:
            # SMAC 2.4.1's code, with an order-keeping de-duplication at the end
            assert self._acquisition_function is not None
            if self._acquisition_function.model is not None:
                conf_array = convert_configurations_to_array(previous_configs)
                costs = self._acquisition_function.model.predict_marginalized(conf_array)[0]
                if len(costs.shape) == 2 and costs.shape[1] > 1:
                    weights = np.array([self._rng.rand() for _ in range(costs.shape[1])])
                    costs = costs @ (weights / np.sum(weights))
                random = self._rng.rand(len(costs))
                indices = np.lexsort((random.flatten(), costs.flatten()))
                sorted_by_cost = [previous_configs[i] for i in indices][:n_points]
            else:
                sorted_by_cost = []
            extra = [point[1] for point in additional_start_points] if additional_start_points is not None else []
            return list(dict.fromkeys([*sorted_by_cost, *extra]))

    class OrderedLocalAndSortedRandomSearch(LocalAndSortedRandomSearch):
        def __init__(self, configspace: Any, seed: int) -> None:
            super().__init__(configspace=configspace, challengers=10000, local_search_iterations=10, seed=seed)
            # the local search LocalAndSortedRandomSearch builds (its defaults), reordered
            self._local_search = OrderedLocalSearch(
                configspace=configspace, max_steps=None, n_steps_plateau_walk=10, seed=seed, n_jobs=1
            )

    return OrderedLocalAndSortedRandomSearch(scenario.configspace, scenario.seed)


class NoNewConfiguration(Exception):
    """SMAC's intensifier needs a new configuration (a new bracket) and none can be given."""


class SMACHyperband(Scheduler):
    """SMAC3's multi-fidelity facade (random forest + EI) with its Hyperband intensifier.

    Args:
        problem: the run's problem.
        eta: Hyperband's ``eta`` (``MultiFidelityFacade.get_intensifier(eta=...)``).
        grace_period: SMAC's ``min_budget`` (None: the lowest fidelity).
        n_configs_per_hyperparameter: SMAC's random initial design size per hyperparameter
            (``MultiFidelityFacade.get_initial_design``; SMAC's default 10).
        incumbent_selection: SMAC's ``incumbent_selection`` (its default
            ``highest_observed_budget``); it does not affect which trials run.
    """

    def __init__(
        self,
        problem: Problem,
        eta: int = 3,
        grace_period: int | None = None,
        n_configs_per_hyperparameter: int = 10,
        incumbent_selection: str = "highest_observed_budget",
    ) -> None:
        super().__init__(problem)
        smac = require("smac", "smac", METHOD)
        self._smac = smac
        from smac.intensifier.hyperband import Hyperband
        from smac.main.config_selector import ConfigSelector
        from smac.main.exceptions import ConfigurationSpaceExhaustedException
        from smac.model.random_forest.random_forest import RandomForest
        from smac.runhistory.dataclasses import TrialValue
        from smac.runhistory.enumerations import StatusType

        if int(eta) < 2:
            raise ValueError(f"method.eta must be an integer >= 2, got {eta!r}")
        min_budget = problem.min_fidelity if grace_period is None else int(grace_period)
        if not problem.min_fidelity <= min_budget <= problem.max_fidelity:
            raise ValueError(
                f"method.grace_period must lie within the benchmark's fidelities "
                f"[{problem.min_fidelity}, {problem.max_fidelity}], got {grace_period!r}"
            )
        # SMAC logs a warning per fallback to random sampling; mfbench reports its own
        # counts in describe(), so keep the run's console output to errors
        logging.getLogger("smac").setLevel(logging.ERROR)
        self._TrialValue, self._StatusType = TrialValue, StatusType
        self.eta, self.min_budget = int(eta), min_budget
        self.seed = int(problem.rng("smac").integers(2**31 - 1))
        self.space = problem.config_space
        self.configspace = to_configspace(self.space, self.seed)
        self.filter = ProposalFilter(problem)
        #: SMAC configuration -> our configuration, for every configuration given to SMAC
        #: (a promotion returns SMAC's object; ours keeps the table's exact values)
        self._ours: dict[Any, Config] = {}
        self.replaced = 0  # SMAC proposals replaced by the nearest unseen configuration
        self.promotions = 0  # trials that re-run a configuration at a higher budget
        scheduler = self

        class LegalConfigSelector(ConfigSelector):
            """SMAC's config selector, each new configuration made legal (in the table, unseen)."""

            def __iter__(self) -> Iterator[Any]:
                proposals = super().__iter__()
                while True:
                    try:
                        proposal = next(proposals)
                    except (StopIteration, ConfigurationSpaceExhaustedException):
                        proposal = None  # SMAC found no new configuration within its retries
                    config = None if proposal is None else scheduler._legal(proposal)
                    if config is None:
                        scheduler._selector_ended = True
                        raise NoNewConfiguration("no new configuration is left for a new bracket")
                    yield config

        class FittingHyperband(Hyperband):
            """SMAC's Hyperband, whose next bracket must fit the configurations left.

            SMAC opens the brackets in cyclic order; one whose first stage needs more new
            configurations than a finite space has left is skipped. When none fits, no
            configuration is drawn (none is lost) and :class:`NoNewConfiguration` ends the
            ``ask``; :meth:`SMACHyperband.suggest` then waits for running stages.
            """

            def _get_next_bracket(self) -> int:
                left = scheduler._unseen_left()
                n_brackets = len(self._n_configs_in_stage)
                for step in range(n_brackets):
                    bracket = (self._next_bracket + step) % n_brackets
                    if self._n_configs_in_stage[bracket][0] <= left:
                        self._next_bracket = (bracket + 1) % n_brackets
                        return bracket
                raise NoNewConfiguration(f"{left} unseen configurations cannot fill a new bracket")

        facade_cls = smac.MultiFidelityFacade
        with tempfile.TemporaryDirectory(prefix="mfbench-smac-") as tmp:
            scenario = smac.Scenario(
                self.configspace,
                name="mfbench",
                output_directory=Path(tmp) / "smac3_output",
                deterministic=True,  # one SMAC seed per trial; the table seed is the simulator's
                n_trials=_SMAC_N_TRIALS,
                min_budget=min_budget,
                max_budget=problem.max_fidelity,
                seed=self.seed,
                n_workers=1,  # ask/tell: our simulator runs the workers, not Dask
            )
            # the facade's default random forest (get_model), single-threaded: n_jobs=-1
            # would take every core of a node that runs several mfbench runs at once
            model = RandomForest(
                configspace=self.configspace,
                log_y=True,
                n_trees=10,
                bootstrapping=True,
                ratio_features=1.0,
                min_samples_split=2,
                min_samples_leaf=1,
                max_depth=2**20,
                seed=self.seed,
                n_jobs=1,
            )
            self.facade = facade_cls(
                scenario,
                target_function=None,
                model=model,
                initial_design=facade_cls.get_initial_design(
                    scenario, n_configs_per_hyperparameter=int(n_configs_per_hyperparameter)
                ),
                # MultiFidelityFacade.get_intensifier's defaults, with the finite-space rule above
                intensifier=FittingHyperband(
                    scenario,
                    eta=self.eta,
                    n_seeds=1,
                    instance_seed_order="shuffle_once",
                    max_incumbents=10,
                    incumbent_selection=incumbent_selection,
                ),
                acquisition_maximizer=_ordered_acquisition_maximizer(scenario),
                config_selector=LegalConfigSelector(scenario, retrain_after=8, max_new_config_tries=16),
                logging_level=False,  # leave the process's logging configuration alone
                overwrite=True,  # never look for (or ask about) an earlier SMAC run
            )
        self.trials: dict[int, tuple[Any, int]] = {}  # our trial id -> (SMAC TrialInfo, milestone)
        self._ended = False  # SMAC's intensifier has no trial left to give
        self._started: set[Any] = set()  # SMAC configurations that had a trial
        self._selector_ended = False  # LegalConfigSelector's generator raised NoNewConfiguration

    def _unseen_left(self) -> float:
        """How many configurations no trial has been given yet (``inf`` on an infinite space)."""
        return self.space.size - len(self._ours) if self.space.is_finite else math.inf

    def _legal(self, proposal: Any) -> Any | None:
        """A new configuration SMAC drew, made legal and recorded; None when none is left."""
        proposed = from_configuration(self.space, proposal)
        config = self.filter.legalise(proposed)
        if config is None:
            return None
        self.filter.mark(config)
        if config != proposed:
            self.replaced += 1
            proposal = self._smac_configuration(config)
        self._ours[proposal] = config
        return proposal

    def _smac_configuration(self, config: Config) -> Any:
        configuration = configspace.to_configuration(self.configspace, self.space, config)
        configuration.origin = "mfbench: nearest unseen configuration"
        return configuration

    def _cost(self, metric: float) -> float:
        # SMAC minimises a cost: our loss (the metric, negated for mode=max)
        return self.problem.to_loss(metric)

    def suggest(self, trial_id: int) -> TrialSuggestion | None:
        if self._ended:
            return None
        info = self._ask()
        if info is None:
            if self.trials:  # running stages may still promote once they are told
                return TrialSuggestion.wait()
            self._ended = True  # nothing running, no new bracket possible: no work ever again
            return None
        config = self._ours[info.config]
        milestone = fidelity_for_budget(self.problem.fidelities, float(info.budget))
        if info.config in self._started:  # a promotion: the same configuration, a higher budget
            self.promotions += 1
        self._started.add(info.config)
        self.trials[trial_id] = (info, milestone)
        return TrialSuggestion.start(config, milestone)

    def _ask(self) -> Any | None:
        """SMAC's next trial, or None when it needs a new bracket that cannot be filled.

        SMAC's successive halving moves configurations that finished a stage into the next
        stage while it scans its brackets, and yields their trials on its *next* scan; a
        scan that ends in a new bracket that cannot be filled (:class:`NoNewConfiguration`)
        ends SMAC's trial generator before that. Its state (brackets, stages, run history)
        is intact, so a fresh generator continues from it (what SMAC does when it continues
        a run) and is asked once more: that scan yields the promotions, if any.
        """
        for _ in range(2):
            try:
                return self.facade.ask()
            except NoNewConfiguration:
                # SMBO keeps its trial generator private; iter(intensifier) is how SMBO makes it
                self.facade.optimizer._trial_generator = iter(self.facade.intensifier)
                if self._selector_ended:  # the config selector's generator ended too: a fresh one
                    self.facade.intensifier.config_selector = self.facade.intensifier.config_selector
                    self._selector_ended = False
        return None

    def on_result(self, trial_id: int, fidelity: int, metric: float) -> Decision:
        info, milestone = self.trials[trial_id]
        if fidelity < milestone:
            return Decision.CONTINUE
        value = self._cost(metric)
        if math.isinf(value):  # a failed evaluation (NaN): SMAC's own status for a crashed target
            result = self._TrialValue(cost=self.facade.scenario.crash_cost, status=self._StatusType.CRASHED)
        else:
            result = self._TrialValue(cost=value)
        self.facade.tell(info, result, save=False)
        del self.trials[trial_id]
        return Decision.STOP

    def on_trial_end(self, trial_id: int, status: TrialStatus) -> None:
        entry = self.trials.pop(trial_id, None)
        if entry is not None:  # ended before its budget without our decision (failed)
            result = self._TrialValue(cost=self.facade.scenario.crash_cost, status=self._StatusType.CRASHED)
            self.facade.tell(entry[0], result, save=False)

    def describe(self) -> dict[str, Any]:
        return {
            "scheduler": "smac_hyperband",
            "library": "smac",
            "library_version": self._smac.version,
            "eta": self.eta,
            "min_budget": self.min_budget,
            "replaced_proposals": self.replaced,
            "promotions": self.promotions,
            # promoted configurations are new trials from scratch (see module doc); the
            # contract check accepts a repeat only at a higher fidelity
            "restarts_at_higher_fidelity": True,
        }
