"""Syne Tune >= 0.16 adapter (mfbench.schedulers.external.syne_tune_current): space mapping,
missing-library error, ASHA's decisions, pause / resume, failures, table restriction and
determinism (docs/third-party.md#syne-tune-current)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from mfbench.errors import ConfigError
from mfbench.schedulers.base import Decision, TrialStatus
from mfbench.space import Categorical, ConfigSpace
from tests.schedulers.external_testing import MIXED, assert_covers_table, drive_async, problem_of as _problem, table_space as _table_space

syne_tune = pytest.importorskip("syne_tune")

from syne_tune import config_space as st_cs  # noqa: E402 - after the importorskip
from syne_tune.optimizer.scheduler import (  # noqa: E402
    SchedulerDecision,
    TrialScheduler,
    TrialSuggestion as StSuggestion,
)

from mfbench.schedulers.external.syne_tune_current import (  # noqa: E402
    SCHEDULERS,
    SyneTuneScheduler,
    check_version,
    from_syne_tune_config,
    to_syne_tune_config,
    to_syne_tune_space,
)

REPO = Path(__file__).resolve().parents[2]

def test_installed_syne_tune_is_the_current_release() -> None:
    major, minor = (int(x) for x in syne_tune.__version__.split(".")[:2])
    assert (major, minor) >= (0, 16)  # not the 0.13 reference, whose scheduler API differs


def test_space_maps_to_syne_tune_domains_and_back() -> None:
    domains = to_syne_tune_space(MIXED)
    assert list(domains) == MIXED.names
    assert isinstance(domains["op"], st_cs.Categorical) and list(domains["op"].categories) == ["a", "b", "c"]
    layers, width = domains["layers"], domains["width"]
    assert isinstance(layers, st_cs.Integer) and (layers.lower, layers.upper) == (1, 8)
    assert isinstance(width, st_cs.Integer) and (width.lower, width.upper) == (16, 512)
    assert isinstance(width.get_sampler(), st_cs.Integer._LogUniform)
    assert isinstance(layers.get_sampler(), st_cs.Integer._Uniform)
    lr, dropout = domains["lr"], domains["dropout"]
    assert isinstance(lr, st_cs.Float) and (lr.lower, lr.upper) == (1e-5, 1e-1)
    assert isinstance(lr.get_sampler(), st_cs.Float._LogUniform)
    assert isinstance(dropout.get_sampler(), st_cs.Float._Uniform)
    config = from_syne_tune_config(
        MIXED, {"lr": np.float64(1e-3), "op": "b", "width": np.int64(64), "dropout": 0.25, "layers": 3.0}
    )
    assert config == {"op": "b", "layers": 3, "width": 64, "dropout": 0.25, "lr": 1e-3}
    assert list(config) == MIXED.names and type(config["layers"]) is int and type(config["lr"]) is float
    assert MIXED.contains(config)
    # Syne Tune's own samples map back into our space
    rng = np.random.RandomState(0)
    for _ in range(50):
        sample = {k: d.sample(random_state=rng) for k, d in domains.items()}
        assert MIXED.contains(from_syne_tune_config(MIXED, sample))


def test_mixed_type_categorical_goes_by_position() -> None:
    space = ConfigSpace((Categorical("act", ("relu", 3, None)),))
    domain = to_syne_tune_space(space)["act"]
    assert list(domain.categories) == ["0", "1", "2"]  # choice() would reject mixed types
    for value in ("relu", 3, None):
        st_config = to_syne_tune_config(space, {"act": value})
        assert from_syne_tune_config(space, st_config) == {"act": value}


def test_missing_library_fails_at_once_with_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "syne_tune", None)  # makes `import syne_tune` raise ImportError
    for scheduler in SCHEDULERS:
        with pytest.raises(ConfigError, match=r"pip install 'mfbench\[synetune\]'"):
            SyneTuneScheduler(_problem(MIXED), scheduler=scheduler)  # type: ignore[arg-type]


def test_an_older_syne_tune_is_refused_with_the_pip_command() -> None:
    with pytest.raises(ConfigError, match=r"syne-tune 0\.13\.0 is installed.*pip install 'mfbench\[synetune\]'"):
        check_version("0.13.0", "syne_tune_asha")
    check_version("0.16.0", "syne_tune_asha")
    check_version("1.0.0", "syne_tune_asha")


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"scheduler": "hyperband"}, "method.scheduler"),
        ({"grace_period": 0}, "method.grace_period"),
        ({"grace_period": 28}, "method.grace_period"),
        ({"reduction_factor": 1}, "method.reduction_factor"),
        ({"brackets": 0}, "method.brackets"),
        ({"searcher_kwargs": {"top_n_percent": 20}}, "scheduler=bohb only"),
        ({"scheduler": "bohb", "searcher_kwargs": {"top_percent": 20}}, r"unknown option\(s\) \['top_percent'\]"),
    ],
)
def test_bad_options_are_config_errors(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        SyneTuneScheduler(_problem(MIXED), **kwargs)


def test_every_scheduler_has_a_method_yaml_so_the_contract_covers_it() -> None:
    # tests/test_method_contract.py runs every YAML in conf/method
    covered = set()
    for path in (REPO / "conf" / "method").glob("*.yaml"):
        node = yaml.safe_load(path.read_text(encoding="utf-8"))
        if node.get("_target_", "").endswith("syne_tune_current.SyneTuneScheduler"):
            covered.add(node["scheduler"])
    assert covered == set(SCHEDULERS)


def test_asha_rung_rule_is_syne_tunes() -> None:
    """Rung 1 of grace_period=1, eta=3: go on iff at most 1/3 of the recorded values are better."""
    scheduler = SyneTuneScheduler(_problem(MIXED), scheduler="asha", grace_period=1, reduction_factor=3)
    for tid in range(4):
        assert scheduler.suggest(tid) is not None
    assert scheduler.on_result(0, 1, 0.5) is Decision.CONTINUE  # first at the rung
    assert scheduler.on_result(1, 1, 0.7) is Decision.STOP  # 1 of 2 better: 1/2 > 1/3
    assert scheduler.on_result(2, 1, 0.6) is Decision.CONTINUE  # 1 of 3 better: 1/3
    assert scheduler.on_result(3, 1, 0.1) is Decision.CONTINUE  # best
    assert scheduler.on_result(0, 2, 0.4) is Decision.CONTINUE  # between rungs
    assert scheduler.on_result(0, 27, 0.3) is Decision.STOP  # the maximum fidelity
    assert 0 not in scheduler.trials and 1 not in scheduler.trials  # ended trials are forgotten


def test_maximise_is_mapped_to_syne_tunes_direction() -> None:
    scheduler = SyneTuneScheduler(_problem(MIXED, mode="max"), scheduler="asha")
    for tid in range(3):
        scheduler.suggest(tid)
    assert scheduler.st.do_minimize is False
    assert scheduler.on_result(0, 1, 0.5) is Decision.CONTINUE
    assert scheduler.on_result(1, 1, 0.9) is Decision.CONTINUE  # higher is better
    assert scheduler.on_result(2, 1, float("nan")) is Decision.STOP  # NaN: the worst value


def _drive(scheduler_name: str, seed: int, mode: str = "min", n: int = 48) -> list[tuple[dict, list[Decision]]]:
    """Asynchronous run on MIXED with 4 trials in flight and a synthetic learning curve."""
    scheduler = SyneTuneScheduler(_problem(MIXED, mode=mode, seed=seed), scheduler=scheduler_name)  # type: ignore[arg-type]
    return drive_async(scheduler, mode, n)


@pytest.mark.parametrize("scheduler_name", SCHEDULERS)
@pytest.mark.parametrize("mode", ["min", "max"])
def test_runs_stop_trials_and_are_reproducible(scheduler_name: str, mode: str) -> None:
    first, second = _drive(scheduler_name, seed=3, mode=mode), _drive(scheduler_name, seed=3, mode=mode)
    assert first == second
    assert _drive(scheduler_name, seed=4, mode=mode) != first
    lengths = [len(decisions) for _, decisions in first]
    assert min(lengths) == 1 and max(lengths) == 27  # some stopped at the first rung, some ran to the end
    assert all(d[-1] is Decision.STOP and all(x is Decision.CONTINUE for x in d[:-1]) for _, d in first)


def test_syne_tune_alone_depends_on_numpys_global_state() -> None:
    """Why the adapter swaps the global state: a seeded 0.16 ASHA still draws from it."""
    from syne_tune.backend.trial_status import Trial
    from syne_tune.optimizer.baselines import ASHA

    def suggestions(global_seed: int) -> list[dict]:
        np.random.seed(global_seed)
        asha = ASHA(to_syne_tune_space(MIXED), metric="loss", time_attr="fidelity", max_t=27, random_seed=0)
        out = []
        for tid in range(12):
            config = asha.suggest().config
            asha.on_trial_add(Trial(trial_id=tid, config=config, creation_time=None))
            asha.on_trial_result(Trial(trial_id=tid, config=config, creation_time=None),
                                 {"loss": float(tid), "fidelity": 1})
            out.append(config)
        return out

    first, second = suggestions(1), suggestions(2)
    assert first[:5] == second[:5]  # its first draws come from its seeded random state
    assert first[5:] != second[5:]  # then from numpy's global one


def test_reproducible_whatever_numpys_global_state_and_leaves_it_alone() -> None:
    # Syne Tune 0.16 draws from numpy's global state; the adapter swaps in its own
    np.random.seed(1)
    first = _drive("asha", seed=5)
    after_first = np.random.random()
    np.random.seed(2)
    assert _drive("asha", seed=5) == first
    np.random.seed(1)
    assert np.random.random() == after_first  # the caller's global stream was not advanced


def test_bohb_fits_its_kernel_density_model() -> None:
    scheduler = SyneTuneScheduler(_problem(MIXED, seed=1), scheduler="bohb",
                                  searcher_kwargs={"random_fraction": 0.0})
    for tid in range(40):
        suggestion = scheduler.suggest(tid)
        assert suggestion is not None and MIXED.contains(suggestion.config)
        scheduler.on_result(tid, 27, suggestion.config["dropout"])
    model = scheduler.st.searcher.searcher  # LastValueMultiFidelitySearcher's fitted KDE searcher
    assert model is not None and len(model.y) == 39
    assert scheduler.describe()["scheduler"] == "syne_tune_bohb"
    assert scheduler.describe()["library_version"] == syne_tune.__version__


@pytest.mark.parametrize("scheduler_name", SCHEDULERS)
def test_table_is_covered_without_duplicates_and_trials_carry_what_was_evaluated(scheduler_name: str) -> None:
    space = _table_space()
    scheduler = SyneTuneScheduler(_problem(space), scheduler=scheduler_name)  # type: ignore[arg-type]
    assert_covers_table(scheduler, space, lambda trial_id: scheduler.trials[trial_id].config)
    assert scheduler.describe()["replaced_proposals"] > 0  # 12 rows: repeats are bound to be proposed


def test_a_failed_trial_is_reported_as_an_error(caplog: pytest.LogCaptureFixture) -> None:
    scheduler = SyneTuneScheduler(_problem(MIXED), scheduler="asha")
    scheduler.suggest(0)
    assert scheduler.on_result(0, 1, 0.5) is Decision.CONTINUE
    scheduler.on_trial_end(0, TrialStatus.FAILED)
    assert 0 not in scheduler.trials
    assert any("trial_id 0: Evaluation failed" in r.getMessage() for r in caplog.records)


class _PauseOnce(TrialScheduler):
    """A Syne Tune scheduler that pauses every trial at fidelity 2 and resumes the oldest paused."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(random_seed=0)
        self.config = config
        self.paused: list[int] = []
        self.calls: list[tuple[str, int]] = []

    def suggest(self) -> StSuggestion | None:
        if self.paused:
            return StSuggestion.resume_suggestion(self.paused.pop(0))
        return StSuggestion.start_suggestion(dict(self.config))

    def on_trial_add(self, trial: Any) -> None:
        self.calls.append(("add", trial.trial_id))

    def on_trial_result(self, trial: Any, result: dict[str, Any]) -> str:
        if result["fidelity"] == 2 and trial.trial_id not in [t for c, t in self.calls if c == "remove"]:
            self.paused.append(trial.trial_id)
            return SchedulerDecision.PAUSE
        return SchedulerDecision.CONTINUE

    def on_trial_remove(self, trial: Any) -> None:
        self.calls.append(("remove", trial.trial_id))

    def on_trial_complete(self, trial: Any, result: dict[str, Any]) -> None:
        self.calls.append(("complete", trial.trial_id))


def test_pause_and_resume_map_onto_ours() -> None:
    space = ConfigSpace((Categorical("op", ("a", "b")),))
    scheduler = SyneTuneScheduler(_problem(space, max_t=3), scheduler="asha")
    scheduler.st = _PauseOnce({"op": "a"})
    start = scheduler.suggest(0)
    assert start is not None and not start.is_resume and start.config == {"op": "a"}
    assert scheduler.on_result(0, 1, 0.5) is Decision.CONTINUE
    assert scheduler.on_result(0, 2, 0.4) is Decision.PAUSE
    scheduler.on_trial_end(0, TrialStatus.PAUSED)
    resume = scheduler.suggest(1)
    assert resume is not None and resume.is_resume and resume.trial_id == 0 and resume.milestone == 3
    assert scheduler.on_result(0, 3, 0.3) is Decision.STOP  # the maximum fidelity, Syne Tune said go on
    assert scheduler.st.calls == [("add", 0), ("remove", 0), ("complete", 0)]  # as syne_tune.Tuner
    with pytest.raises(RuntimeError, match="not paused"):
        scheduler.st.paused.append(0)
        scheduler.suggest(2)


@pytest.mark.parametrize("scheduler_name", ["asha", "bohb"])
def test_new_trials_run_towards_the_maximum_fidelity(scheduler_name: str) -> None:
    scheduler = SyneTuneScheduler(_problem(MIXED), scheduler=scheduler_name)  # type: ignore[arg-type]
    suggestions = [scheduler.suggest(tid) for tid in range(4)]
    assert all(s is not None and s.milestone == 27 and not s.is_resume for s in suggestions)
