import pytest

from mfbench.schedulers.asha import ASHA
from mfbench.schedulers.base import Decision, TrialStatus
from mfbench.searchers.random import RandomSearcher
from mfbench.space import Categorical, ConfigSpace
from mfbench.problem import Problem
import numpy as np


def _problem(max_t: int = 9, n_configs: int = 50) -> Problem:
    space = ConfigSpace((Categorical("x", tuple(range(n_configs))),), table=[(i,) for i in range(n_configs)])
    return Problem(space, np.arange(1, max_t + 1), "loss", "min", 4, 0)


def test_stopping_variant_decisions_follow_the_rung_quantile():
    asha = ASHA(_problem(), type="stopping")  # rungs [1, 3], quantiles [1/3, 1/3]
    for t in range(4):
        suggestion = asha.suggest(t)
        assert suggestion.milestone == 9 and not suggestion.is_resume
    # first entry at a rung: no cutoff -> continue
    assert asha.on_result(0, 1, 0.5) is Decision.CONTINUE
    # second: cutoff = quantile([0.5, 0.9], 1/3) = 0.6333 -> 0.9 is stopped
    assert asha.on_result(1, 1, 0.9) is Decision.STOP
    # third: values [0.4, 0.5, 0.9], cutoff = 0.4 + (0.5-0.4)*(2/3) = 0.4667 -> continue
    assert asha.on_result(2, 1, 0.4) is Decision.CONTINUE
    # non-rung fidelity: continue; a rung already recorded for the trial: continue
    assert asha.on_result(0, 2, 0.45) is Decision.CONTINUE
    assert asha.on_result(2, 1, 10.0) is Decision.CONTINUE
    # max_t: stop (completed)
    assert asha.on_result(0, 9, 0.2) is Decision.STOP


def test_stopping_variant_in_max_mode_uses_the_upper_quantile():
    problem = _problem()
    problem.mode = "max"
    asha = ASHA(problem, type="stopping")
    asha.suggest(0), asha.suggest(1)
    assert asha.on_result(0, 1, 0.5) is Decision.CONTINUE
    assert asha.on_result(1, 1, 0.9) is Decision.CONTINUE  # larger is better
    asha.suggest(2)
    assert asha.on_result(2, 1, 0.1) is Decision.STOP


def test_promotion_variant_pauses_at_milestones_and_promotes_the_best():
    asha = ASHA(_problem(), type="promotion")
    s0, s1 = asha.suggest(0), asha.suggest(1)
    assert (s0.milestone, s1.milestone) == (1, 1)
    assert asha.on_result(0, 1, 0.5) is Decision.PAUSE
    asha.on_trial_end(0, TrialStatus.PAUSED)
    # one entry: nothing promotable -> a new trial
    assert not asha.suggest(2).is_resume
    assert asha.on_result(1, 1, 0.7) is Decision.PAUSE
    assert asha.on_result(2, 1, 0.9) is Decision.PAUSE
    # rung [0.5, 0.7, 0.9], cutoff = 0.5 + 0.2 * (2/3) = 0.6333: trial 0 is promoted to 3
    resume = asha.suggest(3)
    assert resume.is_resume and resume.trial_id == 0 and resume.milestone == 3
    # trial 1 (0.7) is not within the cutoff -> new trial
    assert not asha.suggest(3).is_resume
    assert asha.on_result(0, 2, 0.45) is Decision.CONTINUE
    assert asha.on_result(0, 3, 0.4) is Decision.PAUSE
    assert asha.on_result(0, 9, 0.3) is Decision.STOP


def test_promotion_scans_the_highest_rung_first():
    asha = ASHA(_problem(max_t=27), type="promotion")  # rungs [1, 3, 9]
    for t in range(3):
        asha.suggest(t)
    for t, loss in enumerate([0.1, 0.2, 0.3]):
        asha.on_result(t, 1, loss)
    assert asha.suggest(3).trial_id == 0  # cutoff 0.1667: promote trial 0 to 3
    assert asha.suggest(4).trial_id is None  # trial 1 (0.2) above the cutoff: new trial 4
    asha.on_result(4, 1, 0.05)  # rung 1: [0.05, 0.1, 0.2, 0.3], cutoff 0.15
    asha.on_result(0, 3, 0.1)
    asha.suggest(5)  # promotes trial 4 (0.05) from rung 1 (rung 3 has one entry)
    asha.on_result(4, 3, 0.2)
    # rung 3 now [0.1, 0.2]: cutoff 0.1333 -> trial 0 promoted to 9 before anything at rung 1
    resume = asha.suggest(6)
    assert resume.trial_id == 0 and resume.milestone == 9


def test_brackets_set_the_first_milestone():
    asha = ASHA(_problem(max_t=200, n_configs=2000), type="promotion", brackets=6)
    counts = np.zeros(6)
    levels = [1, 3, 9, 27, 81, 200]
    for t in range(3000):
        suggestion = asha.suggest(t)
        if suggestion is None:
            break
        counts[levels.index(suggestion.milestone)] += 1
    np.testing.assert_allclose(counts / counts.sum(), [0.5856, 0.2342, 0.0976, 0.0434, 0.0217, 0.0176], atol=0.03)


def test_first_trial_is_the_midpoint_and_finite_space_ends_cleanly():
    problem = _problem(n_configs=3)
    asha = ASHA(problem, type="stopping", searcher=RandomSearcher)
    configs = [asha.suggest(t) for t in range(3)]
    assert configs[0].config == {"x": 0}  # categories[0]
    assert sorted(s.config["x"] for s in configs) == [0, 1, 2]
    assert asha.suggest(3) is None


def test_rung_levels_must_be_fidelities():
    problem = _problem()
    problem.fidelities = np.array([2, 4, 9])
    with pytest.raises(ValueError, match="rung levels"):
        ASHA(problem)
