"""A study over several benchmarks analysed as one suite: blocks are instances, seeds averaged per instance.

Hand-made runs check the numbers; a real sweep of the ``quick_suite`` preset (2 seeds) checks the
outputs, the summary table and the rendered suite figure; the suite presets compose.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mfbench.analysis.load import load_results
from mfbench.analysis.pipeline import analyze
from mfbench.analysis.ranking import rank_analysis
from mfbench.analysis.suite import normalised_regret, suite_analysis

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "HYDRA_FULL_ERROR": "0"}
QUICK_SUITE = ["function_example", "hartmann3", "hartmann6", "trainsize_toy"]
METHODS = ["asha_prom", "asha_stop", "random_search"]


@pytest.fixture
def three_benchmarks(tmp_path, run_factory) -> Path:
    """Benchmarks b1, b2 (min) and b3 (max), methods A, B, C, seeds 0 and 1; each run one result at t=1.

    Final values per seed (seed 0, seed 1) and their seed means:
      b1: A (1, 3) -> 2;  B (2, 2) -> 2;  C (5, 5) -> 5        ranks A 1.5, B 1.5, C 3 (a tie)
      b2: A (4, 4) -> 4;  B (1, 3) -> 2;  C (3, 3) -> 3        ranks A 3, B 1, C 2
      b3: A (9, 7) -> 8;  B (1, 1) -> 1;  C (5, 5) -> 5 (max)  ranks A 1, B 3, C 2
    Seed blocks disagree with seed means on b1: seed 0 ranks A first, seed 1 B first.
    """
    root = tmp_path / "suite"
    finals = {"b1": {"A": (1, 3), "B": (2, 2), "C": (5, 5)}, "b2": {"A": (4, 4), "B": (1, 3), "C": (3, 3)},
              "b3": {"A": (9, 7), "B": (1, 1), "C": (5, 5)}}
    for benchmark, methods in finals.items():
        for method, values in methods.items():
            for seed, value in enumerate(values):
                run_factory(root, benchmark, method, seed, [1.0, 2.0], [10.0 if benchmark != "b3" else 0.0, value],
                            mode="max" if benchmark == "b3" else "min", budget=4)
    return root


def test_blocks_are_instances_with_the_seeds_averaged(three_benchmarks):
    results = load_results(three_benchmarks)
    seed_ranks = rank_analysis(results)
    assert len(seed_ranks.blocks) == 6  # the seed analysis is unchanged: benchmark x seed
    suite = suite_analysis(results, seed_ranks, statistic="mean")
    assert suite is not None and suite.instances == ["b1", "b2", "b3"] and suite.setups == ["A", "B", "C"]
    assert suite.n_seeds.tolist() == [2, 2, 2]
    np.testing.assert_allclose(suite.ranks.final_values, [[2, 2, 5], [4, 2, 3], [8, 1, 5]])
    np.testing.assert_allclose(suite.ranks.final_ranks, [[1.5, 1.5, 3], [3, 1, 2], [1, 3, 2]])
    np.testing.assert_allclose(suite.ranks.average_ranks, [5.5 / 3, 5.5 / 3, 7 / 3])
    assert suite.ranks.friedman.n_blocks == 3 and suite.ranks.cd is not None
    # A against B: wins b3, ties b1, loses b2; A against C: wins b1 and b3, loses b2
    assert (suite.wins[0, 1], suite.ties[0, 1], suite.wins[1, 0]) == (1, 1, 1)
    assert (suite.wins[0, 2], suite.ties[0, 2], suite.wins[2, 0]) == (2, 0, 1)
    summary = suite.summary_table()
    assert summary["setup"].tolist() == ["A", "B", "C"] and (summary["n_instances"] == 3).all()
    assert summary.set_index("setup").loc["A", ["n_best", "wins", "ties", "losses"]].tolist() == [2, 3, 1, 2]
    pairwise = suite.pairwise_table()
    assert len(pairwise) == 6 and (pairwise["wins"] + pairwise["ties"] + pairwise["losses"] == 3).all()
    stats = suite.to_dict()
    assert stats["n_instances"] == 3 and stats["blocks"][0] == {"benchmark": "b1", "n_seeds": 2}
    assert stats["pairwise"]["A"]["B"] == {"wins": 1, "ties": 1, "losses": 1}


def test_normalised_regret_per_instance(three_benchmarks):
    results = load_results(three_benchmarks)
    suite = suite_analysis(results, rank_analysis(results), statistic="mean")
    # b3 (max): best so far over the grid spans 0 .. 9; A's seeds end at 9 and 7: regret 0 and 2/9
    final = suite.regret[:, -1, :]
    np.testing.assert_allclose(final[2], [(0 + 2 / 9) / 2, 1 - 1 / 9, 1 - 5 / 9])
    assert suite.regret.min() >= 0 and suite.regret.max() <= 1
    np.testing.assert_allclose(normalised_regret(np.array([2.0, 4.0, 6.0]), "min"), [0, 0.5, 1])
    np.testing.assert_allclose(normalised_regret(np.array([2.0, 4.0, 6.0]), "max"), [1, 0.5, 0])
    assert normalised_regret(np.ones(3), "min").tolist() == [0, 0, 0]


def test_one_benchmark_is_no_suite(toy_runs):
    results = load_results(toy_runs)
    assert suite_analysis(results, rank_analysis(results)) is None


def test_many_benchmarks_get_the_suite_figure_not_one_each(three_benchmarks, tmp_path):
    few = analyze(three_benchmarks, out=tmp_path / "few", formats=("png",), per_benchmark_figures=False)
    names = {p.name for p in few.files}
    assert {"suite.png", "cd_diagram_suite.png", "suite_summary.md", "suite_pairwise.csv"} <= names
    assert not any(name.startswith("anytime_") for name in names)
    every = analyze(three_benchmarks, out=tmp_path / "every", formats=("png",))  # 3 <= 8: drawn by default
    assert {"anytime_b1.png", "anytime_b2.png", "anytime_b3.png"} <= {p.name for p in every.files}


# ------------------------------------------------------------------ a real suite sweep
@pytest.fixture(scope="module")
def suite_sweep(tmp_path_factory) -> Path:
    """The quick_suite preset with 2 seeds: 4 benchmarks x 3 methods x 2 seeds = 24 runs (seconds)."""
    root = tmp_path_factory.mktemp("suite_sweep")
    done = subprocess.run([sys.executable, "-m", "mfbench", "-m", "experiment=quick_suite", "seed=0,1",
                           "progress=false", f"hydra.sweep.dir={root / 'quick_suite'}"],
                          cwd=root, env=ENV, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return root / "quick_suite"


def test_a_real_suite_sweep_is_analysed_as_one_study(suite_sweep):
    done = subprocess.run([sys.executable, "-m", "mfbench.analysis", str(suite_sweep), "--formats", "png"],
                          cwd=suite_sweep, env=ENV, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "24 finished runs" in done.stdout and "suite of 4 benchmarks, average ranks over instances" in done.stdout
    out = suite_sweep / "analysis"
    for name in ("suite.png", "cd_diagram_suite.png", "cd_diagram.png", "ranks.png", "suite_summary.csv",
                 "suite_summary.md", "suite_summary.tex", "suite_pairwise.csv", "suite_over_time.csv",
                 "statistics.md", "statistics.json", "final_table.md"):
        assert (out / name).is_file() and (out / name).stat().st_size > 100, name
    assert {f"anytime_{b}.png" for b in QUICK_SUITE} <= {p.name for p in out.iterdir()}  # 4 <= 8: drawn
    stats = json.loads((out / "statistics.json").read_text())
    assert stats["n_blocks"] == 8  # the seed ranks: benchmark x seed, as for one benchmark
    suite = stats["suite"]
    assert suite["n_instances"] == 4 and [b["benchmark"] for b in suite["blocks"]] == QUICK_SUITE
    assert all(b["n_seeds"] == 2 for b in suite["blocks"]) and set(suite["average_ranks"]) == set(METHODS)
    assert sum(suite["average_ranks"].values()) == pytest.approx(6.0)  # ranks 1..3 in each instance
    summary = pd.read_csv(out / "suite_summary.csv")
    assert sorted(summary["setup"]) == METHODS and (summary["n_instances"] == 4).all()
    assert (summary["wins"] + summary["ties"] + summary["losses"] == 4 * 2).all()
    markdown = (out / "suite_summary.md").read_text()
    assert markdown.startswith("Suite of 4 benchmark instances (2 seeds each, averaged per instance)")
    assert all(f"| {m} |" in markdown for m in METHODS)
    statistics = (out / "statistics.md").read_text()
    assert "# The suite: rank statistics over 4 benchmark instances" in statistics
    assert "in each of 4 blocks (a block is one benchmark instance of the suite" in statistics
    over_time = pd.read_csv(out / "suite_over_time.csv")
    assert set(over_time["setup"]) == set(METHODS) and over_time["fraction"].max() == 1.0
    assert over_time["center"].between(0, 1).all()


def test_the_suite_figure_renders(suite_sweep):
    from mfbench.analysis.plots import plot_suite, setup_styles

    results = load_results(suite_sweep, exclude=[suite_sweep / "analysis"])
    suite = suite_analysis(results, rank_analysis(results))
    styles = setup_styles(METHODS)
    fig = plot_suite(suite, styles=styles)
    regret_ax, rank_ax = fig.axes
    assert "Suite of 4 benchmark instances, 2 seeds each" in fig._suptitle.get_text()
    assert regret_ax.get_ylabel().startswith("normalised regret") and rank_ax.get_ylim() == (3.2, 0.8)
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    assert (pixels < 250).any(axis=-1).mean() > 0.05  # not blank
    from matplotlib.colors import to_rgb

    for ax in (regret_ax, rank_ax):  # every method's colour is drawn in both panels
        box = ax.get_window_extent()
        inside = pixels[int(pixels.shape[0] - box.y1):int(pixels.shape[0] - box.y0), int(box.x0):int(box.x1)]
        for method in METHODS:
            target = np.array(to_rgb(styles[method]["color"])) * 255
            assert (np.abs(inside.astype(int) - target).max(axis=-1) < 30).sum() > 50, (ax, method)


@pytest.mark.parametrize("preset, narrowed, runs, first", [
    # one method and seed of the big ones: planning their 2040 / 600 runs takes a minute (measured: 67 s / 18 s)
    ("lcbench_suite", ["method=random_search", "seed=0"], 34, "yahpo_lcbench_3945/random_search/seed_0"),
    ("rbv2_xgboost_suite", ["method=random_search", "seed=0"], 10, "yahpo_rbv2_xgboost_29/random_search/seed_0"),
    ("quick_suite", [], 36, "hartmann3/asha_stop/seed_0"),
])
def test_the_suite_presets_compose(tmp_path, preset, narrowed, runs, first):
    done = subprocess.run([sys.executable, "-m", "mfbench", "-m", f"experiment={preset}", *narrowed,
                           "hydra.sweeper.dry_run=true"], cwd=tmp_path, env=ENV, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"sweep outputs/{preset}: {runs} runs" in done.stdout and f"would run {first} (missing)" in done.stdout
    # every benchmark instance in a folder of its own
    folders = {line.split()[2].split("/")[0] for line in done.stdout.splitlines() if line.strip().startswith("would")}
    assert len(folders) == {"lcbench_suite": 34, "rbv2_xgboost_suite": 10, "quick_suite": 4}[preset]
