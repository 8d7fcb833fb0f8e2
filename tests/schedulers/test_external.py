"""Third-party adapters (mfbench.schedulers.external): space mapping, table restriction,
missing-library error, Optuna's decisions and determinism (docs/third-party.md)."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from mfbench.errors import ConfigError
from mfbench.schedulers.base import Decision, TrialStatus
from mfbench.schedulers.external.base import ProposalFilter, require
from tests.schedulers.external_testing import MIXED, assert_covers_table, drive_async, problem_of as _problem, table_space as _table_space

optuna = pytest.importorskip("optuna")

from mfbench.schedulers.external.optuna_study import (  # noqa: E402 - after the importorskip
    OptunaScheduler,
    from_optuna_params,
    to_optuna_distributions,
)

def test_space_maps_to_optuna_distributions_and_back() -> None:
    dists = to_optuna_distributions(MIXED)
    assert list(dists) == MIXED.names
    assert isinstance(dists["op"], optuna.distributions.CategoricalDistribution)
    assert dists["op"].choices == ("a", "b", "c")
    layers, width = dists["layers"], dists["width"]
    assert isinstance(layers, optuna.distributions.IntDistribution) and (layers.low, layers.high, layers.log) == (1, 8, False)
    assert isinstance(width, optuna.distributions.IntDistribution) and (width.low, width.high, width.log) == (16, 512, True)
    lr = dists["lr"]
    assert isinstance(lr, optuna.distributions.FloatDistribution) and (lr.low, lr.high, lr.log) == (1e-5, 1e-1, True)
    assert dists["dropout"].log is False
    config = from_optuna_params(MIXED, {"lr": 1e-3, "op": "b", "width": np.int64(64), "dropout": 0.25, "layers": 3.0})
    assert config == {"op": "b", "layers": 3, "width": 64, "dropout": 0.25, "lr": 1e-3}
    assert list(config) == MIXED.names and type(config["layers"]) is int and type(config["width"]) is int
    assert MIXED.contains(config)


def test_sampled_configurations_are_in_the_space() -> None:
    scheduler = OptunaScheduler(_problem(MIXED), sampler="tpe", pruner="hyperband", n_startup_trials=3)
    for trial_id in range(30):
        suggestion = scheduler.suggest(trial_id)
        assert suggestion is not None and MIXED.contains(suggestion.config)
        scheduler.on_result(trial_id, 27, float(trial_id % 7))


def test_missing_library_fails_at_once_with_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "optuna", None)  # makes `import optuna` raise ImportError
    with pytest.raises(ConfigError, match=r"pip install 'mfbench\[optuna\]'"):
        OptunaScheduler(_problem(MIXED))
    with pytest.raises(ConfigError, match=r"pip install 'mfbench\[dehb\]'"):
        require("surely_not_an_installed_module_xyz", "dehb", "dehb_official")


def test_proposal_filter_snaps_to_the_nearest_unseen_table_row() -> None:
    space = _table_space()
    filter_ = ProposalFilter(_problem(space))
    assert filter_.legalise({"op": "b", "layers": 3}) in ({"op": "b", "layers": 2}, {"op": "b", "layers": 4})
    filter_.mark({"op": "b", "layers": 4})
    filter_.mark({"op": "b", "layers": 2})
    snapped = filter_.legalise({"op": "b", "layers": 4})
    assert snapped is not None and space.contains(snapped) and snapped not in ({"op": "b", "layers": 4}, {"op": "b", "layers": 2})
    assert snapped["op"] == "b"  # nearest in the encoding: same category first


@pytest.mark.parametrize("sampler,pruner", [("tpe", "hyperband"), ("random", "successive_halving")])
def test_table_is_covered_without_duplicates_and_the_study_holds_what_was_evaluated(sampler: str, pruner: str) -> None:
    space = _table_space()
    scheduler = OptunaScheduler(_problem(space), sampler=sampler, pruner=pruner)  # type: ignore[arg-type]
    assert_covers_table(scheduler, space, lambda trial_id: scheduler.trials[trial_id].params)
    complete = [t for t in scheduler.study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == len(space.table)  # type: ignore[arg-type]


def _drive(seed: int, mode: str = "min") -> list[tuple[dict, list[Decision]]]:
    """Asynchronous run on MIXED with 4 trials in flight and a synthetic learning curve."""
    scheduler = OptunaScheduler(_problem(MIXED, mode=mode, seed=seed), sampler="random", pruner="successive_halving")
    return drive_async(scheduler, mode, n=40)


@pytest.mark.parametrize("mode", ["min", "max"])
def test_successive_halving_pruner_stops_trials_and_runs_are_reproducible(mode: str) -> None:
    first, second = _drive(seed=3, mode=mode), _drive(seed=3, mode=mode)
    assert first == second
    assert _drive(seed=4, mode=mode) != first
    lengths = [len(decisions) for _, decisions in first]
    assert min(lengths) < 27 and max(lengths) == 27  # some pruned early, some ran to the end
    assert all(d[-1] is Decision.STOP and all(x is Decision.CONTINUE for x in d[:-1]) for _, d in first)


def test_a_failed_trial_is_told_as_failed() -> None:
    scheduler = OptunaScheduler(_problem(MIXED), sampler="random", pruner="none")
    scheduler.suggest(0)
    scheduler.on_result(0, 1, float("nan"))
    scheduler.on_trial_end(0, TrialStatus.FAILED)
    assert scheduler.study.trials[0].state == optuna.trial.TrialState.FAIL
