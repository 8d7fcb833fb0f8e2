"""The four synchronous method YAMLs run end to end: budget, workers, space, reproducibility."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from tests.schedulers.synchronous.sync_testing import ContinuousBlackbox, Tracking, benchmark_of, problem_of

from mfbench.backend.simulator import Simulator
from mfbench.backend.stopping import StoppingCriterion

METHODS = ["synchb", "syncsh", "bohb", "dehb"]
REPO = Path(__file__).resolve().parents[3]
CONF = REPO / "conf"


def default_benchmarks() -> list[str]:
    """The analytic benchmark plus the config's default benchmark (NB201-offline once it exists)."""
    import yaml

    defaults = yaml.safe_load((CONF / "config.yaml").read_text(encoding="utf-8"))["defaults"]
    default = next(d["benchmark"] for d in defaults if isinstance(d, dict) and "benchmark" in d)
    return ["hartmann3"] + ([default] if default != "hartmann3" else [])


def compose(overrides: list[str]):
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from mfbench.sweeps.hydra_configs import register_configs

    register_configs()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return hydra_compose("config", overrides=overrides)


def run_app(tmp_path: Path, method: str, benchmark: str, seed: int, tag: str, budget: float, n_workers: int):
    import pandas as pd

    from mfbench.cli.app import run

    cfg = compose([f"method={method}", f"benchmark={benchmark}", f"seed={seed}", f"n_workers={n_workers}",
                   f"stopping.max_wallclock_time={budget}", "progress=false"])
    out = tmp_path / tag
    metadata = run(cfg, out, {"method": method, "benchmark": benchmark})
    return metadata, pd.read_parquet(out / "results.parquet")


@pytest.mark.parametrize("benchmark", default_benchmarks())
@pytest.mark.parametrize("method", METHODS)
def test_method_yaml_runs_within_budget_and_space_and_is_reproducible(tmp_path: Path, method: str, benchmark: str,
                                                                       converted_fixtures: Path) -> None:
    from mfbench.config.resolve import instantiate

    budget, n_workers = 4000.0, 3
    metadata, results = run_app(tmp_path, method, benchmark, 1, "a", budget, n_workers)
    assert len(results) > 50
    assert results["sim_time"].max() <= budget
    assert set(results["worker"]) <= set(range(n_workers))
    space = instantiate(compose([f"benchmark={benchmark}"]).benchmark).open().config_space
    config_columns = [c for c in results.columns if c.startswith("config_")]
    configs = results.groupby("trial_id")[config_columns].first()
    for row in configs.itertuples(index=False):
        assert space.contains({name[len("config_"):]: value for name, value in zip(config_columns, row)})
    assert len(configs.drop_duplicates()) == len(configs) or method == "dehb"  # DEHB may restart configs
    _, again = run_app(tmp_path, method, benchmark, 1, "b", budget, n_workers)
    assert results.equals(again)
    _, other = run_app(tmp_path, method, benchmark, 2, "c", budget, n_workers)
    assert not results.equals(other)
    assert metadata["scheduler"]["scheduler"] in ("synchronous_hyperband", "dehb")


@pytest.mark.parametrize("method", METHODS)
def test_method_yaml_on_a_continuous_space(method: str) -> None:
    from mfbench.config.resolve import instantiate

    node = dict(compose([f"method={method}"]).method)
    blackbox = ContinuousBlackbox()
    benchmark = benchmark_of(blackbox)

    def simulate(seed: int):
        problem = problem_of(benchmark, n_workers=4, seed=seed)
        scheduler = Tracking(instantiate(node, problem=problem))
        outcome = Simulator().run(benchmark, scheduler, problem,
                                  StoppingCriterion(max_wallclock_time=15_000.0).resolved(math.inf))
        return scheduler, outcome

    tracked, outcome = simulate(3)
    assert tracked.max_running == 4 and set(tracked.answers) <= {"start", "resume"}
    assert all(blackbox.config_space.contains(c) for c in outcome.trial_configs.values())
    assert max(outcome.recorder.times) <= 15_000.0
    _, again = simulate(3)
    assert outcome.recorder.trial_ids == again.recorder.trial_ids
    np.testing.assert_array_equal(np.asarray(outcome.recorder.objectives), np.asarray(again.recorder.objectives))
