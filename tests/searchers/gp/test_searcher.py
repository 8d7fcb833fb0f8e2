"""The GP searcher: when torch is imported, initial random configurations, proposals, hooks."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mfbench.problem import Problem
from mfbench.space import Categorical, ConfigSpace, Float

REPO = Path(__file__).resolve().parents[3]


def _problem(space: ConfigSpace, seed: int = 0) -> Problem:
    return Problem(space, np.arange(1, 10), "loss", "min", n_workers=2, seed=seed)


def _categorical_space() -> ConfigSpace:
    return ConfigSpace(tuple(Categorical(f"c{i}", ("a", "b", "c", "d")) for i in range(3)))


def _table_space() -> ConfigSpace:
    grid = np.linspace(0, 1, 6)
    return ConfigSpace((Float("x0", 0, 1), Float("x1", 0, 1)), table=[(a, b) for a in grid for b in grid])


def _loss(config: dict, level: int) -> float:
    values = [float(v) if not isinstance(v, str) else "abcd".index(v) / 3 for v in config.values()]
    return float(sum((v - 0.3) ** 2 for v in values) + 1.0 / level)


def test_importing_the_searcher_does_not_import_torch() -> None:
    code = "import sys, mfbench.searchers.gp.searcher; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_the_model_stack_is_imported_when_the_searcher_is_built() -> None:
    """Importing the module stays cheap; building the searcher imports torch (timed), so the
    first model-based decision does not pay for it (its time is not decision time)."""
    code = (
        "import sys, numpy as np\n"
        "from mfbench.problem import Problem\n"
        "from mfbench.space import ConfigSpace, Float\n"
        "from mfbench.searchers.gp.searcher import GPSearcher\n"
        "print('torch' in sys.modules)\n"
        "space = ConfigSpace((Float('x', 0, 1),))\n"
        "s = GPSearcher(Problem(space, np.arange(1, 4), 'y', 'min', 1, 0), hypertune=True)\n"
        "print('torch' in sys.modules, s.describe()['import_seconds'] > 0.0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "True", "True"]


def test_invalid_options_are_clear_errors() -> None:
    from mfbench.searchers.gp.searcher import GPSearcher

    problem = _problem(_table_space())
    with pytest.raises(ValueError, match="searcher.model"):
        GPSearcher(problem, model="gp_fancy")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="searcher.initial_scoring"):
        GPSearcher(problem, initial_scoring="ucb")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="searcher.num_fantasy_samples"):
        GPSearcher(problem, num_fantasy_samples=0)
    # the grouped options keep the keyword (YAML key) in their errors
    with pytest.raises(ValueError, match=r"searcher\.opt_refit_growth must be >= 0, got -0.1"):
        GPSearcher(problem, opt_refit_growth=-0.1)
    with pytest.raises(ValueError, match=r"searcher\.opt_skip_period must be >= 1, got 0"):
        GPSearcher(problem, opt_skip_period=0)
    with pytest.raises(ValueError, match=r"searcher\.max_size_data_for_model must be >= 2 or null, got 1"):
        GPSearcher(problem, max_size_data_for_model=1)
    with pytest.raises(ValueError, match=r"searcher\.hypertune_distribution_num_samples must be >= 1"):
        GPSearcher(problem, hypertune_distribution_num_samples=0)


def test_unseen_rows_follow_the_proposals() -> None:
    from mfbench.searchers.gp.searcher import GPSearcher

    space = _table_space()
    searcher = GPSearcher(_problem(space))
    first = searcher.suggest()
    assert first is not None
    unseen = searcher.unseen_rows()
    assert unseen is not None and len(unseen) == len(space.table) - 1
    assert space.index_of(first) not in set(unseen.tolist())
    assert GPSearcher(_problem(ConfigSpace((Float("x", 0, 1),)))).unseen_rows() is None


def _drive(searcher, num: int, levels=(1, 3, 9)) -> list[dict]:
    """Propose ``num`` configurations, observing each at the levels (one pending)."""
    proposed = []
    for trial in range(num):
        config = searcher.suggest()
        assert config is not None
        proposed.append(config)
        for level in levels:
            searcher.observe(trial, config, level, _loss(config, level))
        searcher.register_pending(trial, config, levels[-1])
    return proposed


@pytest.mark.parametrize("model", ["gp_multitask", "gp_independent"])
def test_proposals_are_new_configurations_of_the_table(model: str) -> None:
    from mfbench.searchers.gp.searcher import GPSearcher

    space = _table_space()
    searcher = GPSearcher(_problem(space), model=model, num_init_random=3, num_init_candidates=20,
                          opt_maxiter=10)
    proposed = _drive(searcher, 8)
    keys = [space.key(c) for c in proposed]
    assert len(set(keys)) == 8 and all(space.contains(c) for c in proposed)
    assert proposed[0] == space.midpoint()
    assert searcher.stats["model_proposals"] == 8 - 3
    assert searcher.stats["fits"] >= 1
    # the one-off import when the searcher is built is timed (torch is loaded by now: ~0 s)
    assert 0.0 <= searcher.describe()["import_seconds"] < 60.0


def test_first_configurations_are_random_and_reproducible() -> None:
    from mfbench.searchers.gp.searcher import GPSearcher
    from mfbench.searchers.random import RandomSearcher

    space = _table_space()
    gp = GPSearcher(_problem(space, seed=4), num_init_random=4)
    first = [gp.suggest() for _ in range(4)]  # no observations: all random (midpoint first)
    assert gp.stats["model_proposals"] == 0
    assert "torch" in sys.modules  # the model stack is imported when the searcher is built, not in a decision
    assert len({space.key(c) for c in first}) == 4
    runs = []
    for _ in range(2):
        searcher = GPSearcher(_problem(space, seed=7), model="gp_independent", num_init_random=2,
                              num_init_candidates=10, opt_maxiter=5)
        runs.append(_drive(searcher, 5))
    assert runs[0] == runs[1]
    assert isinstance(RandomSearcher(_problem(space)).suggest(), dict)


def test_local_optimisation_on_a_categorical_space() -> None:
    from mfbench.searchers.gp.searcher import GPSearcher

    space = _categorical_space()
    searcher = GPSearcher(_problem(space), num_init_random=3, num_init_candidates=15, opt_maxiter=10,
                          local_opt_maxiter=50)
    proposed = _drive(searcher, 7)
    assert all(space.contains(c) for c in proposed)
    assert len({space.key(c) for c in proposed}) == 7


def test_finite_space_is_exhausted_cleanly() -> None:
    from mfbench.searchers.gp.searcher import GPSearcher

    space = ConfigSpace((Categorical("a", ("a", "b")), Categorical("b", ("c", "d"))))
    searcher = GPSearcher(_problem(space), num_init_random=2, opt_maxiter=5)
    proposed = _drive(searcher, 4)
    assert len({space.key(c) for c in proposed}) == 4
    assert searcher.suggest() is None


def test_hypertune_hooks() -> None:
    from mfbench.searchers.gp.searcher import GPSearcher

    space = _table_space()
    default = np.array([0.6, 0.3, 0.1])
    plain = GPSearcher(_problem(space))
    assert plain.bracket_distribution(default) is default
    searcher = GPSearcher(_problem(space), model="gp_independent", hypertune=True, num_init_random=2,
                          num_init_candidates=10, opt_maxiter=5, hypertune_distribution_num_samples=10)
    searcher.configure_levels([1, 3, 9], num_brackets=3)
    assert searcher.levels == [1, 3, 9]
    np.testing.assert_allclose(searcher.bracket_distribution(default), default)  # no data yet
    _drive(searcher, 9)
    distribution = searcher.bracket_distribution(default)
    assert distribution.shape == (3,) and distribution.sum() == pytest.approx(1.0)
    ensemble = searcher.hypertune_state.ensemble
    assert ensemble is not None and set(ensemble) <= {1, 3, 9}
    assert searcher.describe()["hypertune_ensemble"] == {str(r): round(t, 6) for r, t in ensemble.items()}



@pytest.mark.parametrize("hypertune", [False, True])
def test_incumbents_are_the_trials_at_the_acquisition_level(hypertune: bool) -> None:
    """EI's incumbent ``f*`` is minimised over the trials observed or pending at ``r_acq`` only,
    for MOBSTER and for Hyper-Tune alike (Syne Tune fixes the resource attribute to ``r_acq``
    before ``current_best``, also for Hyper-Tune's ensemble); the levels the prediction mixes
    differ: MOBSTER ``r_acq`` alone, Hyper-Tune its ensemble."""
    from mfbench.searchers.gp.searcher import GPSearcher

    space = _table_space()
    searcher = GPSearcher(_problem(space), model="gp_independent", hypertune=hypertune, num_init_random=2,
                          resource_acq_threshold=3)
    searcher.configure_levels([1, 3, 9], num_brackets=1)
    configs = [dict(zip(("x0", "x1"), row)) for row in space.table[:8]]
    for trial, config in enumerate(configs[:7]):
        searcher.observe(trial, config, 1, _loss(config, 1))
    for trial in (0, 1, 2):  # three observations at level 3: r_acq = 3
        searcher.observe(trial, configs[trial], 3, _loss(configs[trial], 3))
    searcher.register_pending(4, configs[4], 3)  # pending at r_acq: an incumbent
    searcher.register_pending(5, configs[5], 3)
    searcher.register_pending(7, configs[7], 1)  # pending below r_acq: not one
    searcher.observe(0, configs[0], 9, _loss(configs[0], 9))  # observed above r_acq: counts at 3 only
    data = searcher.training_data.build(searcher.state)
    weights, incumbents = searcher._acquisition_target(data, searcher.state.pending_list())
    expected = searcher.state.encoded_configs([0, 1, 2, 4, 5], space.encoded_dim)
    np.testing.assert_array_equal(incumbents.numpy(), expected)
    if hypertune:
        assert weights == searcher.hypertune_state.level_weights([1, 3, 9])
    else:
        assert weights == {3: 1.0}


def test_refit_schedule_follows_the_speed_options(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below ``opt_skip_init_length`` every data change refits; beyond it only after growth.

    Each trial adds 3 observations, so the model proposals see 6, 9, 12, ..., 33 of them.
    """
    import mfbench.searchers.gp.fit as fit
    from mfbench.searchers.gp.searcher import GPSearcher

    fits: list[tuple[int, int]] = []
    real_fit_map = fit.fit_map

    def recording_fit_map(model, z, y, rng, **options):
        fits.append((len(y), options["max_iterations"]))
        return real_fit_map(model, z, y, rng, **options)

    monkeypatch.setattr(fit, "fit_map", recording_fit_map)
    space = ConfigSpace((Float("x0", 0, 1), Float("x1", 0, 1)))
    searcher = GPSearcher(_problem(space), model="gp_independent", num_init_random=2, num_init_candidates=10,
                          local_optimization=False, opt_maxiter=5, opt_skip_init_length=15, opt_refit_growth=0.5,
                          opt_warmstart=True, opt_warmstart_maxiter=3, opt_cold_refit_growth=2.0)
    _drive(searcher, 12)
    # 6: first (cold); 9, 12: below 15, refit (warm); 15: < 1.5 x 12, skipped; 18: >= 3 x 6,
    # so cold; 21, 24: < 1.5 x 18; 27: warm; 30, 33: < 1.5 x 27.
    assert fits == [(6, 5), (9, 3), (12, 3), (18, 5), (27, 3)]
    assert searcher.stats["fits"] == 5 and searcher.stats["cold_fits"] == 2


def test_freed_memory_is_released_after_each_cold_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    """One release per cold refit of the hyperparameters (the heap is then at its largest),
    none after warm refits or for proposals without a fit."""
    import mfbench.searchers.gp.runtime as runtime
    from mfbench.searchers.gp.searcher import GPSearcher

    released: list[int] = []
    monkeypatch.setattr(runtime, "release_freed_memory", lambda: released.append(1) or True)
    space = ConfigSpace((Float("x0", 0, 1), Float("x1", 0, 1)))
    searcher = GPSearcher(_problem(space), model="gp_independent", num_init_random=2, num_init_candidates=10,
                          local_optimization=False, opt_maxiter=5, opt_skip_init_length=15, opt_refit_growth=0.5,
                          opt_warmstart=True, opt_warmstart_maxiter=3, opt_cold_refit_growth=2.0)
    _drive(searcher, 12)
    assert 0 < searcher.stats["cold_fits"] < searcher.stats["fits"] < searcher.stats["model_proposals"]
    assert len(released) == searcher.stats["cold_fits"]


def test_the_joint_model_runs_on_a_noise_free_non_cumulative_benchmark():
    """trainsize_toy, seed 0, 2,400 s: the noise fell to its floor and a fantasy's Schur
    complement was indefinite at the scale of its own tiny diagonal (mobster_joint stopped with
    'Cholesky factorisation failed'); its jitter now grows to the prior's scale when needed."""
    from mfbench.api import compose, simulate

    _, metadata = simulate(compose(["method=mobster_joint", "benchmark=trainsize_toy", "seed=0",
                                    "stopping.max_wallclock_time=2400"]))
    assert metadata["stop_reason"] == "max_wallclock_time" and metadata["num_results"] > 100
