"""The contract every method in conf/method/ honours (one parametrised test per YAML).

A method here is any YAML in ``conf/method``; methods added later are tested without
changing this file. On the analytic benchmark (and on the default NB201 benchmark when
its data is available) a short run must:

* respect the budget (number of results, simulated time) and the worker count;
* only evaluate configurations of the (tabulated) search space, none twice;
* be reproducible: the same seed gives bit-identical results;
* on a tiny finite space, end cleanly once every configuration was tried (also with the
  simulator polling like the reference tuner);
* cope with a non-cumulative fidelity (a training-set fraction, ``trainsize_toy``), where
  every level a trial reports is charged in full.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
CONF = REPO / "conf"
METHODS = sorted(p.stem for p in (CONF / "method").glob("*.yaml"))
#: results per contract run; small, so the whole contract stays within a few minutes
MAX_RESULTS = 40


def _nb201_benchmark() -> str | None:
    """The config's default benchmark if it is an NB201 one (else the first NB201 YAML), or None."""
    import yaml

    defaults = yaml.safe_load((CONF / "config.yaml").read_text(encoding="utf-8"))["defaults"]
    default = next((d["benchmark"] for d in defaults if isinstance(d, dict) and "benchmark" in d), None)
    if default is not None and default.startswith(("nb201", "nas201")):
        return default
    names = sorted(p.stem for p in (CONF / "benchmark").glob("*.yaml"))
    return next((n for n in names if n.startswith(("nb201", "nas201"))), None)


def _run(tmp_path: Path, method: str, benchmark: str, overrides: list[str], tag: str) -> tuple[dict[str, Any], dict]:
    from hydra import compose, initialize_config_dir

    from mfbench.cli.app import run
    from mfbench.sweeps.hydra_configs import register_configs

    register_configs()
    with initialize_config_dir(config_dir=str(CONF), version_base=None):
        cfg = compose(config_name="config",
                      overrides=[f"method={method}", f"benchmark={benchmark}", "progress=false", *overrides])
    out = tmp_path / tag
    metadata = run(cfg, out, {"method": method, "benchmark": benchmark})
    import pyarrow.parquet as pq

    columns = pq.read_table(out / "results.parquet").to_pydict()
    assert json.loads((out / "metadata.json").read_text())["config_fingerprint"] == metadata["config_fingerprint"]
    return metadata, columns


def _check_contract(metadata: dict[str, Any], columns: dict, max_results: int) -> list[tuple]:
    """Budget, workers, space membership, no duplicates; returns the trial configurations."""
    from hydra.utils import instantiate

    n_workers = metadata["n_workers"]
    assert len(columns["trial_id"]) <= max_results
    limit = metadata["stopping"]["max_wallclock_time"]
    if isinstance(limit, (int, float)):
        assert metadata["simulated_time"] <= limit
        assert all(t <= limit for t in columns["sim_time"])
    assert set(columns["worker"]) <= set(range(n_workers)), "more workers than allowed"
    benchmark = instantiate(metadata["config"]["benchmark"])
    space = benchmark.open().config_space
    names = space.names
    configs: dict[int, tuple] = {}
    for i, trial in enumerate(columns["trial_id"]):
        config = {name: columns[f"config_{name}"][i] for name in names}
        assert space.contains(config), f"trial {trial} left the space: {config}"
        key = space.key(config)
        assert configs.setdefault(trial, key) == key, f"trial {trial} changed its configuration"
    keys = list(configs.values())
    assert len(keys) == len(set(keys)), "a configuration was evaluated by two trials"
    # results are recorded in arrival order
    times = np.asarray(columns["sim_time"])
    assert np.all(np.diff(times) >= -1e-9)
    return keys


@pytest.mark.parametrize("method", METHODS)
def test_contract_on_analytic_benchmark(method: str, tmp_path: Path) -> None:
    overrides = [f"stopping.max_num_evaluations={MAX_RESULTS}", "seed=3"]
    first, columns = _run(tmp_path, method, "hartmann3", overrides, "a")
    _check_contract(first, columns, MAX_RESULTS)
    assert len(columns["trial_id"]) == MAX_RESULTS
    second, again = _run(tmp_path, method, "hartmann3", overrides, "b")
    assert again == columns, "the same seed gave different results"
    assert second["best"] == first["best"]


@pytest.mark.parametrize("poll_interval", [0, 5])
@pytest.mark.parametrize("method", METHODS)
def test_contract_on_tiny_finite_space(method: str, poll_interval: float, tmp_path: Path) -> None:
    # 2^3 = 8 configurations: every method must try each at most once and then end, also with
    # the reference tuner's polls (results and free workers seen only every 5 s)
    overrides = ["benchmark.blackbox.grid_size=2", "benchmark.blackbox.max_epoch=9",
                 "stopping=evaluations", "stopping.max_num_evaluations=500", "n_workers=2",
                 f"backend.poll_interval={poll_interval}"]
    metadata, columns = _run(tmp_path, method, "hartmann3", overrides, "tiny")
    keys = _check_contract(metadata, columns, 500)
    assert len(keys) <= 8
    assert metadata["stop_reason"] in ("space_exhausted", "no_more_work", "max_num_evaluations")


@pytest.mark.parametrize("method", METHODS)
def test_contract_on_non_cumulative_fidelity(method: str, tmp_path: Path) -> None:
    # trainsize_toy: the fidelity is a training-set fraction, each level trained from scratch
    # and charged in full (docs/simulator.md#non-cumulative); every method must cope
    overrides = [f"stopping.max_num_evaluations={MAX_RESULTS}", "seed=3"]
    metadata, columns = _run(tmp_path, method, "trainsize_toy", overrides, "trainsize")
    _check_contract(metadata, columns, MAX_RESULTS)
    assert len(columns["trial_id"]) == MAX_RESULTS
    assert metadata["blackbox"]["fidelity_is_cumulative"] is False
    # a result arrives at least its own evaluation's time after the trial's previous result
    # (its start, for the first): no level is charged less than in full
    trials = np.asarray(columns["trial_id"])
    times, seconds = np.asarray(columns["sim_time"]), np.asarray(columns["elapsed_time"])
    for trial in np.unique(trials):
        mine = trials == trial
        gaps = np.diff(times[mine], prepend=0.0)
        assert np.all(gaps >= seconds[mine] - 1e-9), f"trial {trial} was charged less than its evaluations"


@pytest.mark.parametrize("method", METHODS)
def test_contract_on_default_nb201(method: str, tmp_path: Path, converted_fixtures: Path) -> None:
    benchmark = _nb201_benchmark()
    if benchmark is None:
        pytest.skip("no NB201 benchmark is defined in conf/benchmark")
    metadata, columns = _run(tmp_path, method, benchmark, [f"stopping.max_num_evaluations={MAX_RESULTS}"], "nb")
    _check_contract(metadata, columns, MAX_RESULTS)
