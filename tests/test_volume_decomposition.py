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
    reference, ours = script.decompose(tmp_path, "asha_prom", [1, 2], OVERRIDES, skip_first=0)
    assert reference == ours
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
