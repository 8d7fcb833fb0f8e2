"""benchmarks/volume_decomposition.py without Syne Tune: our own runs play the reference.

Written in the reference runner's format, our runs must decompose into exactly the figures
of the same runs simulated again (every z 0); the figures themselves are checked on a
hand-made run whose training times are known.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mfbench.api import compose, simulate
from tests.conftest import load_script

BUDGET = 1800.0
OVERRIDES = ["benchmark=hartmann3", f"stopping.max_wallclock_time={BUDGET}"]


@pytest.fixture(scope="module")
def script():
    return load_script("benchmarks/volume_decomposition.py")


def _as_reference_rows(method: str, seed: int) -> pd.DataFrame:
    """Our run of ``method`` as the reference runner writes its results: ``fidelity`` (as
    floats, as a parquet written by pandas may hold it), the configuration in ``config_*``."""
    columns, _ = simulate(compose([f"method={method}", f"seed={seed}", *OVERRIDES]))
    return pd.DataFrame({"trial_id": columns["trial_id"], "fidelity": np.asarray(columns["epoch"], dtype=float),
                         "metric": columns["value"], "table_seed": columns["table_seed"],
                         **{c: columns[c] for c in ("config_x0", "config_x1", "config_x2")}})


def test_our_runs_as_the_reference_give_the_same_figures(script, tmp_path):
    for seed in (1, 2):
        _as_reference_rows("asha_prom", seed).to_parquet(tmp_path / f"asha_prom-{seed}.parquet")
    reference, ours, model = script.decompose(tmp_path, "asha_prom", [1, 2], OVERRIDES, skip_first=0)
    assert reference == ours and model is None  # hartmann3: no categorical hyperparameters
    assert script.figure_names(ours) == list(script.FIGURES)
    assert ours[0]["results"] > 50 and 0.0 <= ours[0]["share not training"] < 1.0
    assert 0.0 < ours[0]["share of trials past the first fidelity"] < 1.0
    rows = script.compare(reference, ours)
    assert [row["figure"] for row in rows] == list(script.FIGURES)
    assert all(row["z"] == 0.0 for row in rows)


def test_main_reads_the_overrides_after_the_separator(script, tmp_path):
    for seed in (1, 2):
        _as_reference_rows("asha_prom", seed).to_parquet(tmp_path / f"asha_prom-{seed}.parquet")
    out = tmp_path / "volume.md"
    rows = script.main(["--reference-dir", str(tmp_path), "--method", "asha_prom", "--seeds", "1", "2",
                        "--out", str(out), "--", *OVERRIDES])
    assert all(row["z"] == 0.0 for row in rows)
    assert "| share not training |" in out.read_text()


def test_figures_of_a_hand_made_run(script):
    # trial 0 reaches fidelity 3, trial 1 fidelity 1, trial 2 fidelity 2; epoch k of trial t takes t + 1 seconds
    rows = pd.DataFrame({"trial_id": [0, 0, 0, 1, 2, 2], "epoch": [1, 2, 3, 1, 1, 2]})

    def elapsed_of(trial, fidelities):
        return (trial + 1.0) * np.asarray(fidelities, dtype=float)

    figures = script.run_figures(rows, "epoch", elapsed_of, budget=10.0, workers=2, skip_first=1)
    busy = 1.0 * 3 + 2.0 * 1 + 3.0 * 2
    assert figures["results"] == 6 and figures["trials with a result"] == 3
    assert figures["worker-seconds"] == busy
    assert figures["share not training"] == pytest.approx(1.0 - busy / 20.0)
    assert figures["seconds per result"] == pytest.approx(busy / 6)
    assert figures["first-fidelity seconds of the picks"] == pytest.approx((2.0 + 3.0) / 2)  # trial 0 skipped
    assert figures["share of trials past the first fidelity"] == pytest.approx(2 / 3)


def test_compare_gives_z_of_the_difference_of_means(script):
    reference = [dict.fromkeys(script.FIGURES, v) for v in (1.0, 3.0)]
    ours = [dict.fromkeys(script.FIGURES, v) for v in (4.0, 6.0)]
    for row in script.compare(reference, ours):
        assert row["reference"] == 2.0 and row["ours"] == 5.0
        assert row["z"] == pytest.approx(3.0 / math.hypot(1.0, 1.0))


def test_a_surrogates_seed_minus_one_is_its_one_seed(script):
    calls = []

    class OneSeedModel:  # the blackbox interface the elapsed function uses
        objective_names = ["loss", "time"]
        config_space = type("Space", (), {"names": ["x"]})()
        fidelity_values = np.arange(1, 4)

        def evaluate(self, config, seed, fidelities):
            calls.append((config, seed, fidelities.dtype))
            return np.column_stack([np.zeros(len(fidelities)), 2.0 * fidelities])

    elapsed_of = script._elapsed_function(OneSeedModel(), {0: {"x": 0.5, "extra": 1}}, {0: -1}, "time")
    assert list(elapsed_of(0, np.asarray([1.0, 3.0]))) == [2.0, 6.0]
    assert calls == [({"x": 0.5}, 0, np.dtype(int))]


def test_an_undefined_figure_has_no_z(script):
    reference = [dict.fromkeys(script.FIGURES, v) for v in (1.0, 3.0)]
    ours = [dict.fromkeys(script.FIGURES, math.nan) for _ in range(2)]
    assert all(math.isnan(row["z"]) for row in script.compare(reference, ours))


def test_a_missing_reference_run_names_the_command_that_keeps_it(script, tmp_path):
    with pytest.raises(SystemExit, match="--keep-reference-output"):
        script.decompose(tmp_path, "asha_prom", [1, 2], OVERRIDES, skip_first=0)


def test_one_seed_is_refused(script, tmp_path, capsys):
    with pytest.raises(SystemExit):
        script.main(["--reference-dir", str(tmp_path), "--method", "asha_prom", "--seeds", "1", "--", *OVERRIDES])
    assert "at least two" in capsys.readouterr().err


def test_overrides_without_the_separator_are_named(script, tmp_path, capsys):
    with pytest.raises(SystemExit):
        script.main(["--reference-dir", str(tmp_path), "--method", "asha_prom", "--seeds", "1", "2", *OVERRIDES])
    assert "put the overrides after '--'" in capsys.readouterr().err


def test_categorical_hyperparameters_with_the_same_choices_are_pooled(script):
    from mfbench.space import Categorical, ConfigSpace, Float

    ops = ("conv", "pool", "none")
    space = ConfigSpace((Categorical("edge0", ops), Float("lr", 0.1, 1.0), Categorical("edge1", ops),
                         Categorical("act", ("relu", "tanh")), Categorical("fixed", ("only",))))
    assert script.categorical_groups(space) == {"edge0..edge1": (["edge0", "edge1"], ops),
                                                "act": (["act"], ("relu", "tanh"))}  # a single choice: no group


def test_value_shares_of_a_hand_made_run(script):
    # trial 0: 3 results, both edges "conv"; trial 1: 1 result, edges "conv" and "none"
    rows = pd.DataFrame({"trial_id": [0, 0, 0, 1], "epoch": [1, 2, 3, 1]})
    configs = {0: {"edge0": "conv", "edge1": "conv", "lr": 0.5}, 1: {"edge0": "none", "edge1": "conv", "lr": 0.2}}
    groups = {"edge0..edge1": (["edge0", "edge1"], ("conv", "pool", "none"))}
    shares = script.value_shares(rows, configs, groups)
    assert shares["picks: edge0..edge1=conv"] == pytest.approx((1.0 + 0.5) / 2)
    assert shares["picks: edge0..edge1=none"] == pytest.approx(0.5 / 2)
    assert shares["picks: edge0..edge1=pool"] == 0.0
    assert shares["results: edge0..edge1=conv"] == pytest.approx((3 * 1.0 + 1 * 0.5) / 4)
    assert shares["results: edge0..edge1=none"] == pytest.approx(0.5 / 4)
    assert script.share_names([{**dict.fromkeys(script.FIGURES, 0.0), **shares}]) == list(shares)


def test_a_value_outside_the_choices_is_named(script):
    rows = pd.DataFrame({"trial_id": [0], "epoch": [1]})
    groups = {"width": (["width"], (16, 32))}
    with pytest.raises(SystemExit, match="width: value '16' is not one of the choices"):
        script.value_shares(rows, {0: {"width": "16"}}, groups)


def test_the_report_has_a_table_of_shares_where_the_space_has_categoricals(script):
    figures = [dict.fromkeys(script.FIGURES, v) for v in (1.0, 2.0)]
    shares = [{"picks: op=a": v, "results: op=a": v} for v in (0.25, 0.75)]
    runs = [{**f, **s} for f, s in zip(figures, shares)]
    assert script.figure_names(runs) == list(script.FIGURES)
    rows = script.compare(runs, runs, script.figure_names(runs))
    share_rows = script.compare(runs, runs, script.share_names(runs))
    assert [r["figure"] for r in share_rows] == ["picks: op=a", "results: op=a"]
    text = script.markdown(rows, [1, 2], "m", share_rows)
    assert "| picks: op=a | 0.5000 ± 0.2500 | 0.5000 ± 0.2500 | +0.00 |" in text
    assert script.MODELLED not in text  # no time model: no line about it
    assert "What the trials are made of" not in script.markdown(rows, [1, 2], "m", [])


class _LinearTimeBlackbox:
    """Two edges choosing among three operations; an epoch takes 1 s plus 2 s per "conv" and
    0.5 s per "pool" (exactly linear in the counts), constant over epochs."""

    objective_names = ["loss", "time"]
    fidelity_values = np.arange(1, 5)

    def __init__(self):
        from mfbench.space import Categorical, ConfigSpace

        ops = ("none", "conv", "pool")
        self.config_space = ConfigSpace((Categorical("edge0", ops), Categorical("edge1", ops)))

    def evaluate(self, config, seed, fidelities):
        per_epoch = 1.0 + sum(2.0 * (config[n] == "conv") + 0.5 * (config[n] == "pool") for n in ("edge0", "edge1"))
        return np.column_stack([np.zeros(len(fidelities)), per_epoch * np.asarray(fidelities, dtype=float)])


def test_the_time_model_recovers_a_linear_epoch_time(script):
    blackbox = _LinearTimeBlackbox()
    groups = script.categorical_groups(blackbox.config_space)
    model = script.fit_time_model(blackbox, groups, "time")
    assert model.coefficients == pytest.approx([1.0, 2.0, 0.5]) and model.r2 == pytest.approx(1.0)
    assert model.labels == ["edge0..edge1=conv", "edge0..edge1=pool"] and model.rank == 3
    assert "edge0..edge1=none" in model.describe() and "edge0..edge1=conv +2.00" in model.describe()
    # trial 0 (two convs, 5 s an epoch) reached epoch 3, trial 1 (nothing, 1 s) epoch 1: 16 s for 4 results
    rows = pd.DataFrame({"trial_id": [0, 0, 0, 1], "epoch": [1, 2, 3, 1]})
    configs = {0: {"edge0": "conv", "edge1": "conv"}, 1: {"edge0": "none", "edge1": "none"}}
    assert script.modelled_seconds_per_result(rows, "epoch", configs, model) == pytest.approx(16.0 / 4)
    # results at epochs 1 and 3 only (a coarse grid): the time is still that of the 3 epochs trained
    rows = pd.DataFrame({"trial_id": [0, 0, 1], "epoch": [1, 3, 1]})
    assert script.modelled_seconds_per_result(rows, "epoch", configs, model) == pytest.approx(16.0 / 3)


def test_a_value_the_time_model_never_sees_gets_no_weight(script):
    blackbox = _LinearTimeBlackbox()
    groups = {"edge0..edge1": (["edge0", "edge1"], ("none", "conv", "pool", "unused"))}
    model = script.fit_time_model(blackbox, groups, "time")
    assert model.rank == 3 and model.coefficients[3] == pytest.approx(0.0, abs=1e-9)
    assert "rank 3 of 4" in model.describe()


def test_a_categorical_benchmark_gets_its_shares_and_time_model(script, tmp_path):
    overrides = ["benchmark=nas201_offline_cifar100", "stopping.max_wallclock_time=3600"]
    for seed in (1, 2):
        columns, metadata = simulate(compose(["method=asha_prom", f"seed={seed}", *overrides]))
        names = [c for c in columns if c.startswith("config_hp_")]
        fidelity = np.asarray(columns[metadata["fidelity_attr"]], dtype=float)
        pd.DataFrame({"trial_id": columns["trial_id"], "fidelity": fidelity,
                      "table_seed": columns["table_seed"], **{c: columns[c] for c in names}}
                     ).to_parquet(tmp_path / f"asha_prom-{seed}.parquet")
    reference, ours, model = script.decompose(tmp_path, "asha_prom", [1, 2], overrides, skip_first=0)
    assert reference == ours and 0.5 < model.r2 <= 1.0
    shares = script.share_names(ours)
    assert script.MODELLED not in shares and script.figure_names(ours)[-1] == script.MODELLED
    assert sum(name.startswith("picks: ") for name in shares) == 5
    assert sum(ours[0][name] for name in shares if name.startswith("results: ")) == pytest.approx(1.0)
    # the model reproduces the measured seconds per result of this table closely
    assert ours[0][script.MODELLED] == pytest.approx(ours[0]["seconds per result"], rel=0.1)
