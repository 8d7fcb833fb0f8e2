"""The authors' DEHB as ``method=dehb_official`` (mfbench.schedulers.external.dehb_official):
space and fidelity mapping, missing-library error, one trial per configuration (promotions
resume the paused trial), what DEHB is told, reproducibility (docs/third-party.md#dehb)."""
from __future__ import annotations

import math
import sys
from collections import deque
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from mfbench.errors import ConfigError
from mfbench.schedulers.base import Decision, TrialStatus
from mfbench.schedulers.external.dehb_official import (
    DEHBOfficialScheduler,
    fidelity_level,
    from_configspace,
    to_configspace,
)
from mfbench.space import Categorical, Config, ConfigSpace, Float, Integer
from tests.schedulers.external_testing import problem_of as _problem

MIXED = ConfigSpace(
    (
        Categorical("op", ("a", "b", "c")),
        Categorical("depth", (1, 2, 4)),  # numeric choices must come back as our objects
        Integer("layers", 1, 8),
        Integer("width", 16, 512, log=True),
        Float("dropout", 0.0, 0.5),
        Float("lr", 1e-5, 1e-1, log=True),
    )
)

#: NB201-like: a full categorical grid as a table (3^4 = 81 configurations)
GRID = ConfigSpace(
    tuple(Categorical(f"x{i}", ("p", "q", "r")) for i in range(4)),
    table=[(a, b, c, d) for a in "pqr" for b in "pqr" for c in "pqr" for d in "pqr"],
)


def _dehb() -> Any:
    return pytest.importorskip("dehb")


def test_missing_library_fails_at_once_with_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dehb", None)  # makes `import dehb` raise ImportError
    with pytest.raises(ConfigError, match=r"method dehb_official needs .*pip install 'mfbench\[dehb\]'"):
        DEHBOfficialScheduler(_problem(MIXED))


def test_dehb_fidelities_run_to_the_next_benchmark_fidelity() -> None:
    epochs = np.arange(1, 201)
    # DEHB's fidelities for (min 1, max 200, eta 3): 200 * 3^-k
    assert [fidelity_level(epochs, 200 * 3.0**-k) for k in (4, 3, 2, 1, 0)] == [3, 8, 23, 67, 200]
    assert fidelity_level(epochs, 9.000000001) == 9  # DEHB's float powers are not rounded up a level
    sparse = np.array([4, 12, 36, 108])
    assert [fidelity_level(sparse, b) for b in (1.0, 4.0, 4.5, 36.0, 200.0)] == [4, 4, 12, 36, 108]


def test_space_maps_to_configspace_and_back() -> None:
    _dehb()
    import ConfigSpace as CS

    cs = to_configspace(MIXED, seed=0)
    hps = {hp.name: hp for hp in list(cs.values())}
    assert sorted(hps) == sorted(MIXED.names)  # ConfigSpace keeps them sorted by name; we map by name
    assert isinstance(hps["op"], CS.CategoricalHyperparameter) and tuple(hps["op"].choices) == ("a", "b", "c")
    width = hps["width"]
    assert isinstance(width, CS.UniformIntegerHyperparameter) and (width.lower, width.upper, width.log) == (16, 512, True)
    lr = hps["lr"]
    assert isinstance(lr, CS.UniformFloatHyperparameter) and (lr.lower, lr.upper, lr.log) == (1e-5, 1e-1, True)
    assert hps["dropout"].log is False
    for configuration in cs.sample_configuration(20):
        config = from_configspace(MIXED, configuration)
        assert list(config) == MIXED.names and MIXED.contains(config)
        assert type(config["layers"]) is int and type(config["lr"]) is float
        assert type(config["depth"]) is int and config["depth"] in (1, 2, 4)


def _drive(
    scheduler: DEHBOfficialScheduler, objective: Callable[[Config, int], float], max_results: int
) -> list[tuple[str, int, tuple, int]]:
    """A small asynchronous simulator: workers filled by ``suggest``; the oldest segment reports
    every fidelity above its checkpoint up to its milestone. Returns the log of suggestions
    ``(start|resume, trial, configuration key, milestone)``."""
    problem = scheduler.problem
    space = problem.config_space
    configs: dict[int, Config] = {}
    checkpoint: dict[int, int] = {}
    running: deque[tuple[int, int]] = deque()
    log: list[tuple[str, int, tuple, int]] = []
    next_id, results = 0, 0
    while results < max_results:
        while len(running) < problem.n_workers:
            suggestion = scheduler.suggest(next_id)
            if suggestion is None or suggestion.is_wait:
                break
            if suggestion.is_resume:
                trial = int(suggestion.trial_id)  # type: ignore[arg-type]
                assert trial not in [t for t, _ in running] and checkpoint[trial] < suggestion.milestone
                log.append(("resume", trial, space.key(configs[trial]), suggestion.milestone))
            else:
                trial, next_id = next_id, next_id + 1
                configs[trial], checkpoint[trial] = suggestion.config, 0  # type: ignore[assignment]
                log.append(("start", trial, space.key(configs[trial]), suggestion.milestone))
            running.append((trial, suggestion.milestone))
        if not running:
            break
        trial, milestone = running.popleft()
        for fidelity in problem.fidelities[problem.fidelities > checkpoint[trial]]:
            fidelity = int(fidelity)
            decision = scheduler.on_result(trial, fidelity, objective(configs[trial], fidelity))
            results += 1
            checkpoint[trial] = fidelity
            if decision is Decision.STOP:
                status = TrialStatus.COMPLETED if fidelity == problem.max_fidelity else TrialStatus.STOPPED
                break
            if fidelity >= milestone:  # the milestone ends the segment whatever the answer
                assert decision is Decision.PAUSE
                status = TrialStatus.PAUSED
                break
            assert decision is Decision.CONTINUE
        scheduler.on_trial_end(trial, status)
    return log


def _grid_objective(config: Config, fidelity: int) -> float:
    quality = sum("pqr".index(v) * (i + 1) for i, v in enumerate(config.values())) / 30.0
    return quality + 1.0 / fidelity


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # ConfigSpace 1.x on DEHB's vector_to_configspace
def test_one_trial_per_configuration_and_dehb_is_told_the_value_at_the_mapped_level() -> None:
    _dehb()
    scheduler = DEHBOfficialScheduler(_problem(GRID))
    log = _drive(scheduler, _grid_objective, max_results=400)
    starts = [entry for entry in log if entry[0] == "start"]
    assert len({key for _, _, key, _ in starts}) == len(starts)  # no configuration started twice
    assert any(kind == "resume" for kind, *_ in log)  # DEHB's promotions resume the paused trial
    assert scheduler.levels == [1, 3, 9, 27]  # 27 * 3^-k, k = 3..0
    assert {milestone for *_, milestone in log} == set(scheduler.levels)  # 27 * 3^-k, k = 2, 1, 0
    # every job DEHB was told: the objective at the level its fidelity maps to (DEHB minimises)
    history = scheduler.dehb.history
    assert len(history) > 20
    for _, vector, fitness, cost, fidelity, _ in history:
        configuration = scheduler.dehb.vector_to_configspace(np.asarray(vector))
        level = fidelity_level(scheduler.problem.fidelities, fidelity)
        assert cost == level
        assert fitness == pytest.approx(_grid_objective(from_configspace(GRID, configuration), level))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_one_worker_drives_dehb_exactly_like_its_own_run(tmp_path: Path) -> None:
    """With one worker DEHB's run() asks, evaluates and tells strictly in turn; the adapter must
    produce the same job sequence and tell the same values (promotions served by resuming or
    from known values included), so DEHB's history is identical."""
    dehb = _dehb()
    problem = _problem(GRID, n_workers=1)
    scheduler = DEHBOfficialScheduler(problem)
    log = _drive(scheduler, _grid_objective, max_results=1500)
    ours = scheduler.dehb.history
    assert len(ours) >= 100 and any(kind == "resume" for kind, *_ in log)  # promotions were served by resuming

    def objective(configuration: Any, fidelity: float, **kwargs: Any) -> dict[str, float]:
        level = fidelity_level(problem.fidelities, fidelity)
        return {"fitness": _grid_objective(from_configspace(GRID, configuration), level), "cost": float(level)}

    reference = dehb.DEHB(
        cs=to_configspace(GRID, scheduler.cs_seed), f=objective, min_fidelity=1, max_fidelity=27, eta=3,
        mutation_factor=0.5, crossover_prob=0.5, seed=scheduler.seed, n_workers=1, save_freq="end",
        output_path=str(tmp_path), log_level="WARNING",
    )
    reference.run(fevals=len(ours))
    assert [h[:5] for h in reference.history[: len(ours)]] == [h[:5] for h in ours]


def test_maximised_metric_is_told_as_a_loss() -> None:
    _dehb()
    scheduler = DEHBOfficialScheduler(_problem(GRID, mode="max"))
    _drive(scheduler, lambda c, f: -_grid_objective(c, f), max_results=100)
    assert scheduler.dehb.history and all(fitness > 0 for _, _, fitness, *_ in scheduler.dehb.history)


def test_same_seed_same_run_other_seed_other_run_and_no_files_outside_a_temp_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _dehb()
    monkeypatch.chdir(tmp_path)

    def run(seed: int) -> list[tuple[str, int, tuple, int]]:
        return _drive(DEHBOfficialScheduler(_problem(MIXED, seed=seed)), _mixed_objective, max_results=300)

    first = run(3)
    assert first == run(3)
    assert first != run(4)
    assert list(tmp_path.iterdir()) == []  # DEHB's log file went to a temporary directory


def _mixed_objective(config: Config, fidelity: int) -> float:
    return config["dropout"] + abs(math.log10(config["lr"]) + 3) + 1.0 / fidelity


def test_exhausted_table_ends_cleanly() -> None:
    _dehb()
    space = ConfigSpace((Categorical("a", ("x", "y")), Categorical("b", ("x", "y"))), table=[("x", "x"), ("x", "y"), ("y", "x"), ("y", "y")])
    scheduler = DEHBOfficialScheduler(_problem(space, max_t=9, n_workers=2))
    log = _drive(scheduler, lambda c, f: ("xy".index(c["a"]) + "xy".index(c["b"])) + 1.0 / f, max_results=10_000)
    assert len({key for kind, _, key, _ in log if kind == "start"}) == 4
    assert scheduler.suggest(999) is None


def test_a_failed_trial_is_told_the_worst_value() -> None:
    _dehb()
    scheduler = DEHBOfficialScheduler(_problem(GRID))
    suggestion = scheduler.suggest(0)
    assert suggestion is not None and not suggestion.is_resume and suggestion.milestone == scheduler.levels[0] == 1
    scheduler.on_trial_end(0, TrialStatus.FAILED)  # failed before its first result
    (_, _, fitness, *_), = scheduler.dehb.history
    assert fitness == math.inf


def test_grace_period_sets_dehbs_lowest_rung_and_is_checked() -> None:
    _dehb()
    default = DEHBOfficialScheduler(_problem(GRID, max_t=200))
    assert default.levels == [3, 8, 23, 67, 200]  # min 1: 200 * 3^-k for k = 4..0
    six_rungs = DEHBOfficialScheduler(_problem(GRID, max_t=200), grace_period=0.8)
    assert six_rungs.levels == [1, 3, 8, 23, 67, 200]
    with pytest.raises(ConfigError, match="grace_period"):
        DEHBOfficialScheduler(_problem(GRID, max_t=200), grace_period=200)


def test_a_vector_on_the_upper_bound_decodes_inside_the_bounds() -> None:
    # DEHB maps a log coordinate of exactly 1 to exp(log(1e-5) + log(1e-1/1e-5)), which rounds
    # past 0.1; ConfigSpace refuses that and DEHB's ask() would raise (seen on a CSV table with
    # lr = 0.1 rows): the scheduler's decoder clips it, and leaves every legal decoding to DEHB
    _dehb()
    scheduler = DEHBOfficialScheduler(_problem(MIXED))
    names = list(scheduler.dehb.cs.get_hyperparameter_names())
    for de in scheduler.dehb.de.values():
        top = from_configspace(MIXED, de.vector_to_configspace(np.ones(len(names))))
        assert top["lr"] == 1e-1 and top["width"] == 512 and top["dropout"] == 0.5 and top["layers"] == 8
        inner = np.full(len(names), 0.3)
        assert dict(de.vector_to_configspace(inner)) == dict(de.vector_to_configspace.decode(inner))
