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


def _pixels(fig) -> np.ndarray:
    """The figure rendered by Agg, as an RGB array of shape (height, width, 3)."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3]


def _painted(fig, ax, color) -> int:
    """How many pixels inside ``ax`` have (nearly) ``color``: the line is really drawn there."""
    from matplotlib.colors import to_rgb

    pixels = _pixels(fig)
    box = ax.get_window_extent()
    height = pixels.shape[0]
    inside = pixels[int(height - box.y1):int(height - box.y0), int(box.x0):int(box.x1)].astype(int)
    target = np.array(to_rgb(color)) * 255
    return int((np.abs(inside - target).max(axis=-1) < 30).sum())


def _converging_curves(n_seeds: int = 5):
    """Two setups that start at 1.0 and end in a bundle at 0.30 and 0.31 (the case the zoom is for)."""
    import pandas as pd

    time = np.array([10.0, 100.0, 1000.0, 5000.0, 8000.0, 10000.0])
    rows = []
    for setup, center in (("A", [1.0, 0.6, 0.34, 0.32, 0.305, 0.30]), ("B", [1.0, 0.8, 0.5, 0.33, 0.32, 0.31])):
        c = np.array(center)
        rows.append(pd.DataFrame({"benchmark": "nb", "setup": setup, "time": time, "center": c, "lower": c - 0.004,
                                  "upper": c + 0.004, "n_seeds": n_seeds}))
    return pd.concat(rows, ignore_index=True)


def test_anytime_figure(results):
    curves = aggregate(results, statistic="iqm")
    fig = plot_anytime(curves.table, "toy", "iqm", "best loss so far (min)", reference=("best in table", 0.5))
    main, zoom = fig.axes
    assert fig.get_suptitle() == ("toy: best loss so far (min)\nIQM over 2-3 seeds (n per method in legend), band: "
                                  "95% bootstrap CI of the IQM")
    assert main.get_xlabel() == "simulated time (s)" and main.get_ylabel() == "best loss so far (min)"
    assert main.get_title() == "whole simulated time" and zoom.get_title() == "zoom: last 50% of the time"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["A (n=3)", "B (n=2)", "best in table (0.5)"]
    assert len(_bands(main)) == len(_bands(zoom)) == 2
    assert main.get_xscale() == "linear"  # times 1..6 span less than two decades
    assert zoom.get_xlim() == pytest.approx((3.0, 6.0))  # the second half of the time up to the end, 6 s
    styles = setup_styles(["A", "B"])
    for ax in (main, zoom):  # both lines are really drawn, in their colours, in both panels
        assert _painted(fig, ax, styles["A"]["color"]) > 50 and _painted(fig, ax, styles["B"]["color"]) > 50
    with pytest.raises(ValueError, match="no curves"):
        plot_anytime(curves.table, "other", "iqm", "y")


def test_zoom_panel_shows_the_final_differences():
    curves = _converging_curves()
    fig = plot_anytime(curves, "nb", "mean", "best error so far (min)", reference=("best in table", 0.29))
    main, zoom = fig.axes
    assert main.get_xscale() == "log" and zoom.get_xscale() == "linear"
    low, high = main.get_ylim()
    assert low < 0.3 and high > 1.0  # the whole range: the final 0.30 vs 0.31 is a hair apart there
    low, high = zoom.get_ylim()
    # fitted to the second half: A from 0.32 to 0.30, B 0.33 to 0.31, and the reference 0.29, padded
    assert 0.28 < low < 0.29 and 0.33 < high < 0.34
    assert (high - low) < 0.1 * (main.get_ylim()[1] - main.get_ylim()[0])
    assert zoom.get_xlim() == pytest.approx((5000.0, 10000.0))
    assert fig.get_suptitle().endswith("mean over 5 seeds, band: ±1 standard error")
    pixels = _pixels(fig)
    assert (pixels < 250).any(axis=-1).mean() > 0.05  # not blank
    # a reference far below the curves stays off the zoom, which would squash them
    far = plot_anytime(curves, "nb", "mean", "y", reference=("optimum", 0.0))
    assert far.axes[1].get_ylim()[0] > 0.28
    assert len(plot_anytime(curves, "nb", "mean", "y", zoom_from=None).axes) == 1


def test_titles_say_which_band_is_drawn():
    fig = plot_anytime(_converging_curves(n_seeds=1), "nb", "iqm", "y")
    assert fig.get_suptitle().endswith("one seed per method: each line is that run's best so far, no band")
    assert not _bands(fig.axes[0])
    mixed = _converging_curves()
    mixed.loc[mixed["setup"] == "B", "n_seeds"] = 1
    fig = plot_anytime(mixed, "nb", "median", "y")
    assert fig.get_suptitle().endswith("median over 1-5 seeds (n per method in legend), band: 25-75% quantiles "
                                       "where n > 1")
    assert len(_bands(fig.axes[0])) == 1


def test_regret_on_log_axis_draws_zero_at_the_bottom():
    import pandas as pd

    curves = pd.DataFrame({"benchmark": "b", "setup": "A", "time": [1.0, 10.0, 1000.0], "center": [1.0, 0.1, 0.0],
                           "lower": [0.5, 0.0, 0.0], "upper": [2.0, 0.2, 0.0], "n_seeds": 3})
    fig = plot_anytime(curves, "b", "mean", "regret", log_x=True, log_y=True)
    ax, zoom = fig.axes
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log" and zoom.get_yscale() == "log"
    assert ax.get_ylabel() == "regret, log scale"
    assert ax.get_ylim()[0] == pytest.approx(0.05)  # half the smallest positive value
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [1.0, 0.1, 0.05])  # regret 0 at the bottom
    low, high = zoom.get_ylim()  # from 500 s on: 0.1, then 0 drawn at 0.05; padded by 10% of the decades
    assert 0.04 < low < 0.05 and 0.1 < high < 0.11
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
    styles = setup_styles(ranks.setups)
    fig = plot_cd_diagram(ranks, styles=styles)
    texts = {t.get_text(): t for t in fig.axes[0].texts}
    assert any(t.startswith("CD = ") for t in texts)
    assert "A (1.33)" in texts and "B (2.00)" in texts and "C (2.67)" in texts
    # each method in the colour it has in the curves and the rank plot
    assert texts["B (2.00)"].get_color() == styles["B"]["color"] == ax.get_lines()[1].get_color()
    assert fig.axes[0].get_title().endswith("few blocks: the tests have little power (see statistics.md)")
    assert (_pixels(fig) < 250).any(axis=-1).mean() > 0.01  # not blank
    paths = save_figure(fig, tmp_path / "figs" / "cd", ("png", "pdf"))
    png, pdf = (p.read_bytes() for p in paths)
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    assert pdf.startswith(b"%PDF") and len(pdf) > 5_000


def test_styles_and_names():
    styles = setup_styles([f"m{i}" for i in range(12)])
    assert len({(s["color"], s["linestyle"]) for s in styles.values()}) == 12
    assert safe_name("nb201/cifar 10") == "nb201_cifar_10"


def test_a_curve_that_ends_early_is_in_the_zoom_and_marked():
    curves = _converging_curves()
    curves = curves[~((curves["setup"] == "B") & (curves["time"] > 1000.0))]  # B's search space ran out at 1000 s
    fig = plot_anytime(curves, "nb", "mean", "y")
    main, zoom = fig.axes
    assert zoom.get_xlim() == pytest.approx((500.0, 10000.0)) and zoom.get_xscale() == "log"
    assert zoom.get_title() == "zoom: last 95% of the time"
    assert zoom.get_ylim()[1] > 0.5  # B's final 0.5 is in the fitted range
    ends = [line for line in main.get_lines() if line.get_marker() == "o"]
    assert len(ends) == 1 and list(ends[0].get_xdata()) == [1000.0]
