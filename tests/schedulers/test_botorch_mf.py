"""BoTorch multi-fidelity MES (method=botorch_mfmes): levels, data, acquisition, pending, decisions, seeds.

The method contract (budget, workers, in-space, no duplicates, reproducible, finite space,
non-cumulative fidelity) is checked by tests/test_method_contract.py through its YAML.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from mfbench.problem import Problem
from mfbench.schedulers.base import Decision, TrialStatus, TrialSuggestion
from mfbench.schedulers.external.botorch_mf import BoTorchMFMES, geometric_levels
from mfbench.searchers.botorch_mf import MFMESOptions, MultiFidelityMES, standardized_targets
from mfbench.searchers.gp.runtime import torch_session
from mfbench.space import Categorical, ConfigSpace, Float


def _table_problem(seed: int = 0, max_t: int = 27, n_configs: int = 40, n_workers: int = 2) -> Problem:
    space = ConfigSpace((Categorical("a", tuple(range(4))), Categorical("b", tuple(range(10)))),
                        table=[(i % 4, i // 4) for i in range(n_configs)])
    return Problem(space, np.arange(1, max_t + 1), "loss", "min", n_workers, seed)


def _continuous_problem(seed: int = 0) -> Problem:
    space = ConfigSpace((Float("x", 0.0, 1.0), Float("y", 1e-3, 1.0, log=True)))
    return Problem(space, np.arange(1, 10), "loss", "min", 2, seed)


def _loss(config: dict, fidelity: int, max_t: int) -> float:
    """A smooth learning curve whose final value depends on the configuration."""
    final = 0.1 + 0.05 * config["a"] + 0.02 * abs(config["b"] - 6)
    return final + 0.5 * math.exp(-fidelity / 5.0) * (1 + 0.1 * config["b"]) + 0.0 * max_t


def _drive(scheduler: BoTorchMFMES, decisions: int) -> list[tuple]:
    """Run ``decisions`` suggestions one at a time (one worker), each segment to its milestone."""
    problem = scheduler.problem
    log = []
    next_id = 0
    for _ in range(decisions):
        suggestion = scheduler.suggest(next_id)
        assert isinstance(suggestion, TrialSuggestion) and not suggestion.is_wait
        if suggestion.is_resume:
            trial_id, start = suggestion.trial_id, scheduler.trials[suggestion.trial_id].checkpoint
            log.append(("resume", trial_id, suggestion.milestone))
        else:
            trial_id, start = next_id, 0
            next_id += 1
            log.append(("start", tuple(sorted(suggestion.config.items())), suggestion.milestone))
        config = scheduler.trials[trial_id].config
        for fidelity in range(start + 1, suggestion.milestone + 1):
            decision = scheduler.on_result(trial_id, fidelity, _loss(config, fidelity, problem.max_fidelity))
            if fidelity < suggestion.milestone:
                assert decision is Decision.CONTINUE
        expected = Decision.STOP if suggestion.milestone == problem.max_fidelity else Decision.PAUSE
        assert decision is expected
        scheduler.on_trial_end(trial_id, TrialStatus.COMPLETED if expected is Decision.STOP else TrialStatus.PAUSED)
    return log


# ----------------------------------------------------------------- levels, options
def test_geometric_levels_are_the_rungs_of_the_fidelity_and_its_maximum() -> None:
    assert geometric_levels(1, 200, 3.0, np.arange(1, 201)) == [1, 3, 9, 27, 81, 200]
    # a fidelity grid without every value: each rung rounds up to a reportable fidelity
    assert geometric_levels(1, 64, 3.0, np.array([1, 2, 4, 8, 16, 32, 64])) == [1, 4, 16, 32, 64]


def test_given_levels_must_be_fidelities_and_the_maximum_is_added() -> None:
    assert BoTorchMFMES(_table_problem(), levels=[2, 5]).levels == [2, 5, 27]
    with pytest.raises(ValueError, match="levels \\[40\\] are not fidelities"):
        BoTorchMFMES(_table_problem(), levels=[1, 40])
    with pytest.raises(ValueError, match="reduction_factor must be > 1"):
        BoTorchMFMES(_table_problem(), reduction_factor=1.0)
    with pytest.raises(ValueError, match="num_candidates must be >= 1"):
        BoTorchMFMES(_table_problem(), num_candidates=0)
    with pytest.raises(ValueError, match="fidelity_role must be"):
        MFMESOptions(fidelity_role="epochs")  # type: ignore[arg-type]


def test_targets_are_standardised_negated_losses_with_failures_ranked_worst() -> None:
    targets = standardized_targets(np.array([0.2, 0.4, math.inf, 0.3]))
    assert targets.mean() == pytest.approx(0.0, abs=1e-12) and targets.std() == pytest.approx(1.0)
    assert targets[0] == targets.max() and targets[2] == targets[1] == targets.min()  # inf -> worst finite (0.4)
    assert np.array_equal(standardized_targets(np.array([math.inf, math.inf])), np.zeros(2))


# ------------------------------------------------------------------- acquisition
def _fitted_model(rng: np.random.Generator) -> MultiFidelityMES:
    """A model on 30 results of a 2-d function at fidelities 1/9, 1/3 and 1."""
    x = rng.uniform(size=(30, 2))
    s = rng.choice([1 / 9, 1 / 3, 1.0], size=30)
    losses = (x[:, 0] - 0.3) ** 2 + (x[:, 1] - 0.7) ** 2 + 0.3 * (1 - s)
    model = MultiFidelityMES(2, MFMESOptions(fixed_cost=0.1))
    model.condition(np.column_stack([x, s]), losses, refit=True)
    return model


def test_the_cost_divides_the_information_gain_by_fixed_cost_plus_the_increment() -> None:
    with torch_session(0):
        model = _fitted_model(np.random.default_rng(0))
        # the same evaluation (configuration, target level) from scratch and as a resume from 2/3,
        # in one call (the max-value samples are drawn per call)
        candidates = np.array([[0.3, 0.7, 1.0], [0.3, 0.7, 1.0]])  # near the optimum: much to learn
        full, resumed = model.score(candidates, np.array([1.0, 1.0 / 3.0]), np.zeros((0, 3)))
    assert full > 0
    assert resumed / full == pytest.approx((0.1 + 1.0) / (0.1 + 1.0 / 3.0), rel=1e-9)


def test_a_running_evaluation_removes_the_information_of_the_same_evaluation() -> None:
    with torch_session(0):
        model = _fitted_model(np.random.default_rng(1))
        candidates = np.array([[0.3, 0.7, 1.0], [0.35, 0.65, 1.0]])
        free = model.score(candidates, np.ones(2), np.zeros((0, 3)))
        busy = model.score(candidates, np.ones(2), candidates[:1])  # the first one is running
    # less is left to learn where a result is already on its way (the GP's fitted noise keeps
    # a second observation of the same point informative), and near it
    assert busy[0] < 0.6 * free[0] and busy[1] < 0.8 * free[1]


def test_fantasies_are_the_alternative_to_the_kriging_believer() -> None:
    with torch_session(0):
        model = _fitted_model(np.random.default_rng(1))
        model.options = MFMESOptions(fixed_cost=0.1, num_fantasies=4)
        candidates = np.array([[0.3, 0.7, 1.0], [0.35, 0.65, 1.0]])
        free = model.score(candidates, np.ones(2), np.zeros((0, 3)))
        busy = model.score(candidates, np.ones(2), candidates[:1])
    assert busy.shape == (2,) and busy[0] < 0.6 * free[0]


# ------------------------------------------------------------------- decisions
def test_initial_design_starts_random_distinct_configurations_at_the_lowest_level() -> None:
    scheduler = BoTorchMFMES(_table_problem(), num_init_random=5)
    suggestions = [scheduler.suggest(i) for i in range(5)]
    assert all(not s.is_resume and s.milestone == 1 for s in suggestions)
    assert len({tuple(sorted(s.config.items())) for s in suggestions}) == 5
    # no result yet: the model has nothing to learn from, so the next one is random too
    assert scheduler.suggest(5).milestone == 1 and scheduler.stats["model_decisions"] == 0


def test_model_decisions_start_or_resume_at_levels_and_never_repeat_a_configuration() -> None:
    scheduler = BoTorchMFMES(_table_problem(), num_init_random=4, num_candidates=15, refit_every=3, fixed_cost=1.0)
    log = _drive(scheduler, 30)
    assert scheduler.stats["model_decisions"] >= 26 and scheduler.stats["model_failures"] == 0
    starts = [entry[1] for entry in log if entry[0] == "start"]
    assert len(starts) == len(set(starts))  # a configuration is only continued by resuming its trial
    assert all(entry[2] in scheduler.levels for entry in log)
    # with a fixed cost as large as a full evaluation, MF-MES does go above the lowest level
    assert any(entry[2] > scheduler.levels[0] for entry in log)
    model_decisions = scheduler.stats["model_decisions"]
    assert scheduler.describe()["stats"]["fits"] == -(-model_decisions // 3)  # every 3rd, the first included


def test_running_trials_are_pending_and_never_resumed() -> None:
    scheduler = BoTorchMFMES(_table_problem(), num_init_random=2, num_candidates=10)
    first, second = scheduler.suggest(0), scheduler.suggest(1)
    for fidelity in range(1, first.milestone + 1):
        scheduler.on_result(0, fidelity, 0.5)
    scheduler.on_trial_end(0, TrialStatus.PAUSED)
    # trial 1 still runs: a model decision may resume trial 0, never trial 1
    for trial_id in range(2, 8):
        suggestion = scheduler.suggest(trial_id)
        assert not (suggestion.is_resume and suggestion.trial_id == 1)
        if suggestion.is_resume:
            break
    assert scheduler.trials[1].running and second.milestone == 1


def test_training_data_holds_levels_normalised_and_is_capped_keeping_each_trials_highest() -> None:
    scheduler = BoTorchMFMES(_table_problem(), num_init_random=40, max_observations=12)
    _drive(scheduler, 10)  # ten random trials at level 1
    for trial_id in range(3):  # three of them resumed to 9 (as a resume suggestion would)
        scheduler.trials[trial_id].running, scheduler.trials[trial_id].milestone = True, 9
        for fidelity in range(2, 10):
            scheduler.on_result(trial_id, fidelity, 0.3)
        scheduler.on_trial_end(trial_id, TrialStatus.PAUSED)
    inputs, losses = scheduler._training_data()
    assert inputs.shape == (12, scheduler.space.encoded_dim + 1) and losses.shape == (12,)
    assert set(np.round(inputs[:, -1] * 27).astype(int)) <= {1, 3, 9}
    highest = {tuple(row[:-1]): row[-1] for row in inputs if row[-1] == 9 / 27}
    assert len(highest) == 3  # every trial's highest result is kept under the cap


def test_continuous_spaces_get_random_and_local_candidates_in_the_space() -> None:
    problem = _continuous_problem()
    scheduler = BoTorchMFMES(problem, num_init_random=3, num_candidates=20, num_local_candidates=10)
    for trial_id in range(8):
        suggestion = scheduler.suggest(trial_id)
        if suggestion.is_resume:
            continue
        assert problem.config_space.contains(suggestion.config)
        config = suggestion.config
        for fidelity in range(1, suggestion.milestone + 1):
            scheduler.on_result(trial_id, fidelity, (config["x"] - 0.4) ** 2 + 1.0 / fidelity)
        scheduler.on_trial_end(trial_id, TrialStatus.PAUSED)
    assert scheduler.stats["model_decisions"] >= 4 and scheduler.stats["model_failures"] == 0
    assert len(scheduler._new_candidates()) == 20


def test_an_exhausted_table_resumes_paused_trials_then_ends() -> None:
    scheduler = BoTorchMFMES(_table_problem(n_configs=3, max_t=3), num_init_random=3)
    log = _drive(scheduler, 6)  # 3 configurations x levels [1, 3]
    assert sorted(entry[0] for entry in log) == ["resume"] * 3 + ["start"] * 3
    assert scheduler.suggest(3) is None  # every trial completed: no work ever again


def test_same_seed_gives_identical_decisions_and_another_seed_differs() -> None:
    logs = [_drive(BoTorchMFMES(_table_problem(seed=seed), num_init_random=3, num_candidates=12), 14)
            for seed in (5, 5, 6)]
    assert logs[0] == logs[1]
    assert logs[0] != logs[2]


def test_the_block_posterior_is_the_gp_posterior_and_the_believer_is_conditioning_on_the_mean() -> None:
    import torch

    from mfbench.searchers.botorch_mf import block_posterior_model

    with torch_session(0):
        model = _fitted_model(np.random.default_rng(2)).model
        x = torch.as_tensor(np.random.default_rng(3).uniform(size=(5, 1, 2, 3)))
        for noise in (False, True):
            exact = model.posterior(x, observation_noise=noise)
            block = block_posterior_model(model).posterior(x, observation_noise=noise)
            assert torch.allclose(block.mean, exact.mean, atol=1e-9)
            assert torch.allclose(block.distribution.covariance_matrix, exact.distribution.covariance_matrix,
                                  atol=1e-9)
        pending = torch.as_tensor(np.random.default_rng(4).uniform(size=(2, 3)))
        with torch.no_grad():
            believed = model.posterior(pending).mean
        conditioned = model.condition_on_observations(pending, believed).posterior(x)
        block = block_posterior_model(model, pending, believed.squeeze(-1)).posterior(x)
        assert torch.allclose(block.mean, conditioned.mean, atol=1e-8)
        assert torch.allclose(block.distribution.covariance_matrix, conditioned.distribution.covariance_matrix,
                              atol=1e-8)


@pytest.mark.parametrize(("role", "linear_truncated"), [("iteration", False), ("data", False), ("data", True)])
def test_every_kernel_choice_fits_scores_and_has_the_exact_block_posterior(role: str, linear_truncated: bool) -> None:
    import torch

    from mfbench.searchers.botorch_mf import block_posterior_model

    rng = np.random.default_rng(5)
    x = np.column_stack([rng.uniform(size=(20, 2)), rng.choice([1 / 9, 1 / 3, 1.0], size=20)])
    model = MultiFidelityMES(2, MFMESOptions(fidelity_role=role, linear_truncated=linear_truncated))  # type: ignore[arg-type]
    with torch_session(0):
        model.condition(x, (x[:, 0] - 0.3) ** 2 + 0.3 * (1 - x[:, 2]), refit=True)
        scores = model.score(x[:4], x[:4, 2], x[4:5])
        test = torch.as_tensor(rng.uniform(size=(3, 1, 2, 3)))
        exact = model.model.posterior(test, observation_noise=True)
        block = block_posterior_model(model.model).posterior(test, observation_noise=True)
    assert scores.shape == (4,) and np.all(np.isfinite(scores))
    assert torch.allclose(block.distribution.covariance_matrix, exact.distribution.covariance_matrix, atol=1e-9)


def test_mf_mes_draws_its_max_values_once_over_the_projected_candidates() -> None:
    from unittest import mock

    from botorch.acquisition.max_value_entropy_search import MaxValueBase

    with torch_session(0):
        model = _fitted_model(np.random.default_rng(0))
        with mock.patch.object(MaxValueBase, "_sample_max_values", autospec=True,
                               side_effect=MaxValueBase._sample_max_values) as draw:
            model.score(np.array([[0.3, 0.7, 1 / 3]]), np.array([1 / 3]), np.zeros((0, 3)))
    assert draw.call_count == 1
    # the one draw comes once ``project`` is set: it projects the candidates to the target fidelity
    assert "project" in draw.call_args.args[0].__dict__


def test_target_mean_is_the_posterior_mean_at_the_target_fidelity() -> None:
    import torch

    with torch_session(0):
        model = _fitted_model(np.random.default_rng(0))
        encoded = np.random.default_rng(1).uniform(size=(7, 2))
        expected = model.model.posterior(torch.as_tensor(np.hstack([encoded, np.ones((7, 1))]))).mean
        assert np.allclose(model.target_mean(encoded), expected.detach().numpy().ravel(), atol=1e-9)
