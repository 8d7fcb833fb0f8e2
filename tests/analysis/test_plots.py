"""Figures: titles, axes, legends and bands are there, and files are written."""
from __future__ import annotations

import numpy as np
import pytest

from mfbench.analysis.aggregate import aggregate
from mfbench.analysis.load import load_results
from mfbench.analysis.plots import (
    auto_log,
    plot_anytime,
    plot_cd_diagram,
    plot_ranks,
    safe_name,
    save_figure,
    setup_styles,
)
from mfbench.analysis.ranking import rank_analysis


@pytest.fixture
def results(toy_runs):
    return load_results(toy_runs)


def _bands(ax):
    from matplotlib.collections import PolyCollection

    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def test_anytime_figure(results):
    curves = aggregate(results, statistic="iqm")
    fig = plot_anytime(curves.table, "toy", "iqm", "best loss so far (min)", reference=("best in table", 0.5))
    ax = fig.axes[0]
    assert ax.get_title() == "toy: IQM, band: 95% bootstrap CI"
    assert ax.get_xlabel() == "simulated time (s)" and ax.get_ylabel() == "best loss so far (min)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["A (n=3)", "B (n=2)", "best in table (0.5)"]
    assert len(_bands(ax)) == 2
    assert ax.get_xscale() == "linear"  # times 1..6 span less than two decades
    with pytest.raises(ValueError, match="no curves"):
        plot_anytime(curves.table, "other", "iqm", "y")


def test_regret_on_log_axis_draws_zero_at_the_bottom():
    import pandas as pd

    curves = pd.DataFrame({"benchmark": "b", "setup": "A", "time": [1.0, 10.0, 1000.0], "center": [1.0, 0.1, 0.0],
                           "lower": [0.5, 0.0, 0.0], "upper": [2.0, 0.2, 0.0], "n_seeds": 3})
    fig = plot_anytime(curves, "b", "mean", "regret", log_x=True, log_y=True)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_ylim()[0] == pytest.approx(0.05)  # half the smallest positive value
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [1.0, 0.1, 0.05])  # regret 0 at the bottom
    assert auto_log(curves["time"].to_numpy())  # so the default also picks a log time axis


def test_auto_log():
    assert auto_log(np.array([1.0, 1000.0]))
    assert not auto_log(np.array([1.0, 50.0]))
    assert not auto_log(np.array([-3.0, -1.0]))
    assert not auto_log(np.array([-1.0, 1000.0]))


def test_rank_and_cd_figures(tmp_path, run_factory):
    root = tmp_path / "exp"
    for seed, values in enumerate([(1, 2, 3), (1, 3, 2), (2, 1, 3)]):
        for method, value in zip("ABC", values):
            run_factory(root, "b", method, seed, [1, 5], [value + 1, value])
    ranks = rank_analysis(load_results(root))
    fig = plot_ranks(ranks)
    ax = fig.axes[0]
    assert ax.get_title() == "Average rank over time (3 blocks: benchmarks x seeds)"
    assert ax.get_ylabel() == "average rank (1 = best)" and ax.get_ylim()[0] > ax.get_ylim()[1]  # 1 at the top
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["A", "B", "C"]
    fig = plot_cd_diagram(ranks)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any(t.startswith("CD = ") for t in texts)
    assert "A (1.33)" in texts and "B (2.00)" in texts and "C (2.67)" in texts
    paths = save_figure(fig, tmp_path / "figs" / "cd", ("png", "pdf"))
    png, pdf = (p.read_bytes() for p in paths)
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    assert pdf.startswith(b"%PDF") and len(pdf) > 5_000


def test_styles_and_names():
    styles = setup_styles([f"m{i}" for i in range(12)])
    assert len({(s["color"], s["linestyle"]) for s in styles.values()}) == 12
    assert safe_name("nb201/cifar 10") == "nb201_cifar_10"
