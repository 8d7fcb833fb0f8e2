"""Figures: anytime curves per benchmark, average rank over time, critical-difference diagram, a suite's curves.

matplotlib is imported inside the functions with the non-interactive Agg backend, so
figures can be written on machines without a display. Each setup keeps one colour and
line style in every figure (:func:`setup_styles`).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from mfbench.analysis.aggregate import BAND_LABELS

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from mfbench.analysis.ranking import RankAnalysis
    from mfbench.analysis.suite import SuiteAnalysis

#: Most points drawn per curve; longer curves are sampled (exactly, as a step function).
MAX_POINTS = 3000
_LINESTYLES = ("-", "--", "-.", ":")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def setup_styles(setups: Sequence[str]) -> dict[str, dict[str, Any]]:
    """A colour and line style per setup (stable for a given sorted list of setups)."""
    plt = _pyplot()
    cmap = plt.get_cmap("tab10" if len(setups) <= 10 else "tab20")
    n = 10 if len(setups) <= 10 else 20
    return {s: {"color": cmap(i % n), "linestyle": _LINESTYLES[(i // n) % len(_LINESTYLES)]}
            for i, s in enumerate(setups)}


def _log_floor(data: Any, default: float) -> float:
    """Where a log y-axis bottoms out: half the smallest positive centre or lower band value
    (a zero regret cannot be drawn on a log axis), ``default`` if there is none."""
    values = data[["center", "lower"]].to_numpy(dtype=np.float64).ravel()
    positive = values[values > 0]
    return float(positive.min()) / 2 if positive.size else default


def auto_log(values: np.ndarray, ratio: float = 100.0) -> bool:
    """True if the positive ``values`` span more than ``ratio`` (then a log axis helps)."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0 or (values <= 0).all():
        return False
    positive = values[values > 0]
    return bool((values >= 0).all() and positive.max() / positive.min() > ratio)


def _thin(time: np.ndarray, log: bool) -> np.ndarray:
    """Indices of at most :data:`MAX_POINTS` points that draw the same step function on a grid."""
    if len(time) <= MAX_POINTS:
        return np.arange(len(time))
    lo, hi = time[0], time[-1]
    targets = np.geomspace(lo, hi, MAX_POINTS) if log and lo > 0 else np.linspace(lo, hi, MAX_POINTS)
    index = np.searchsorted(time, targets, side="right") - 1
    return np.unique(np.concatenate([[0], np.clip(index, 0, len(time) - 1), [len(time) - 1]]))


#: Name of each statistic in titles.
STATISTIC_NAMES = {"iqm": "IQM", "mean": "mean", "median": "median"}
#: What the band of each statistic shows, in titles.
BAND_NAMES = {"iqm": "95% bootstrap CI of the IQM", "mean": "±1 standard error", "median": "25-75% quantiles"}
#: Default start of the zoomed panel, as a fraction of the shortest curve's end: the second half of the
#: budget, where the methods have converged to a bundle that the whole-budget panel cannot separate.
ZOOM_FROM = 0.5


def anytime_subtitle(statistic: str, seeds: Sequence[int]) -> str:
    """What the lines and bands of an anytime figure are, e.g. ``"IQM over 5 seeds, band: ..."``.

    ``seeds`` holds the number of seeds of each drawn setup; no band is named when none is
    drawn (every setup has one seed).
    """
    low, high = min(seeds), max(seeds)
    if high == 1:  # a statistic of one value is that value: say what the line is instead
        return "one seed per method: each line is that run's best so far, no band"
    count = f"{low} seed{'s' if low > 1 else ''}" if low == high else f"{low}-{high} seeds (n per method in legend)"
    band = f"band: {BAND_NAMES.get(statistic, statistic)}" if high > 1 else "no band (one seed)"
    if 1 == low < high:
        band += " where n > 1"
    return f"{STATISTIC_NAMES.get(statistic, statistic)} over {count}, {band}"


def plot_anytime(curves: "pd.DataFrame", benchmark: str, statistic: str, ylabel: str,
                 log_x: bool | None = None, log_y: bool | None = None,
                 reference: tuple[str, float] | None = None,
                 styles: dict[str, dict[str, Any]] | None = None, title: str | None = None,
                 zoom_from: float | None = ZOOM_FROM) -> "Figure":
    """Anytime curves of one benchmark: the statistic as a step line, its band shaded.

    Two panels: the whole simulated time (left) and, zoomed, its last part (right, from
    ``zoom_from`` times the end of the shortest curve, usually the budget), whose y range is
    fitted to the curves there:
    on the whole range the curves start high and end in a bundle that hides the final
    differences. A dashed box on the left panel marks the zoomed region. The legend sits
    below the panels, so it never covers a curve.

    Args:
        curves: the rows of :attr:`~mfbench.analysis.aggregate.Curves.table` (any
            benchmarks; those of ``benchmark`` are drawn).
        benchmark: which benchmark.
        statistic: ``"iqm"``, ``"mean"`` or ``"median"`` (for the title).
        ylabel: what the y axis shows (also the title's first line).
        log_x, log_y: log-scaled axes; None decides from the data (:func:`auto_log`).
            On a log y axis, values <= 0 (zero regret) are drawn at the bottom.
        reference: ``(label, value)`` of a dashed horizontal line (e.g. best in table).
        styles: from :func:`setup_styles`.
        title: default ``"<benchmark>: <ylabel>"`` over :func:`anytime_subtitle`.
        zoom_from: start of the zoomed panel as a fraction of the shortest curve's end; None
            (or a start before the curves begin) draws the whole range only.

    Returns:
        The figure; ``fig.axes[0]`` is the whole range, ``fig.axes[1]`` the zoom (if drawn).
    """
    plt = _pyplot()
    data = curves[curves["benchmark"] == benchmark]
    if data.empty:
        raise ValueError(f"no curves for benchmark {benchmark!r}")
    setups = sorted(data["setup"].unique().tolist())
    styles = styles or setup_styles(setups)
    if log_x is None:
        log_x = auto_log(data["time"].to_numpy())
    if log_y is None:
        log_y = auto_log(data["center"].to_numpy(), ratio=30.0)
    floor = _log_floor(data, 1e-12) if log_y else None

    lines = []  # (setup, time, center, lower, upper, n) as drawn
    for setup in setups:
        curve = data[data["setup"] == setup]
        time = curve["time"].to_numpy(dtype=np.float64)
        keep = _thin(time, log_x)
        center, lower, upper = (curve[c].to_numpy(dtype=np.float64)[keep] for c in ("center", "lower", "upper"))
        if floor is not None:
            center, lower, upper = (np.maximum(v, floor) for v in (center, lower, upper))
        lines.append((setup, time[keep], center, lower, upper, int(curve["n_seeds"].iloc[0])))
    t_first = float(data["time"].min())
    t_last = float(data["time"].max())
    # the zoom starts at zoom_from of the shortest curve's end, so that a curve that ends early (a
    # search space exhausted) is in it too; usually every curve ends at the budget and this is zoom_from * t_last
    shortest = min(float(time[-1]) for _, time, *_ in lines)
    zoom_start = None if zoom_from is None else zoom_from * shortest
    zoomed = zoom_start is not None and t_first < zoom_start < t_last

    fig = plt.figure(figsize=(10.5 if zoomed else 7.0, 4.6), dpi=150, layout="constrained")
    axes = fig.subplots(1, 2, width_ratios=[3, 2]) if zoomed else [fig.subplots()]
    has_reference = reference is not None and reference[1] is not None and np.isfinite(reference[1])
    for ax, alpha in zip(axes, (0.18, 0.1)):  # in the zoom the bands overlap most: lighter there
        for setup, time, center, lower, upper, n in lines:
            style = styles.get(setup, {})
            ax.step(time, center, where="post", label=f"{setup} (n={n})", linewidth=1.8, **style)
            if n > 1:
                ax.fill_between(time, lower, upper, step="post", alpha=alpha, color=style.get("color"), linewidth=0)
            if time[-1] < t_last:  # a curve that ends early (shortest seed ended): mark where, it is easy to miss
                ax.plot(time[-1:], center[-1:], marker="o", markersize=4, color=style.get("color"), linestyle="none")
        if has_reference:
            ax.axhline(reference[1], color="0.35", linestyle=(0, (4, 3)), linewidth=1.0,  # type: ignore[index]
                       label=f"{reference[0]} ({reference[1]:.4g})")  # type: ignore[index]
        if log_y:
            ax.set_yscale("log")
        ax.set_ylabel(ylabel + (", log scale" if log_y else ""))
        ax.grid(True, which="major", alpha=0.3)
    main = axes[0]
    if log_x:
        main.set_xscale("log")
    if log_y:
        main.set_ylim(bottom=floor)
    main.set_xlabel("simulated time (s)" + (", log scale" if log_x else ""))
    if zoomed:
        zoom = axes[1]
        bottom, top = _zoom_ylim([(t, c) for _, t, c, _, _, _ in lines], zoom_start, log_y,  # type: ignore[arg-type]
                                 reference[1] if has_reference else None)  # type: ignore[index]
        # the zoom usually spans a factor 1 / zoom_from of time, where a linear axis reads better than a log one
        if log_x and t_last > 10 * zoom_start:  # type: ignore[operator]
            zoom.set_xscale("log")
        zoom.set_xlim(zoom_start, t_last)
        zoom.set_ylim(bottom, top)
        zoom.set_xlabel("simulated time (s)" + (", log scale" if zoom.get_xscale() == "log" else ""))
        zoom.set_ylabel("")
        zoom.set_title(f"zoom: last {1 - zoom_start / t_last:.0%} of the time", fontsize=10)  # type: ignore[operator]
        main.set_title("whole simulated time", fontsize=10)
        main.indicate_inset([zoom_start, bottom, t_last - zoom_start, top - bottom], edgecolor="0.3",
                            linestyle="--", linewidth=1.0, alpha=0.8)
    subtitle = anytime_subtitle(statistic, [n for *_, n in lines])
    fig.suptitle(f"{title or f'{benchmark}: {ylabel}'}\n{subtitle}", fontsize=11)
    handles, labels = main.get_legend_handles_labels()
    # one row up to 6 entries, else balanced rows (no lone entry on a last row)
    columns = len(labels) if len(labels) <= 6 else -(-len(labels) // -(-len(labels) // 5))
    fig.legend(handles, labels, loc="outside lower center", ncol=columns, fontsize=9, frameon=False)
    return fig


def _zoom_ylim(lines: Sequence[tuple[np.ndarray, np.ndarray]], start: float, log: bool,
               reference: float | None) -> tuple[float, float]:
    """y limits that fit every step curve ``(time, center)`` from ``start`` on, padded by 10%.

    The value in effect at ``start`` counts (a step function holds it). A reference line
    is included when it lies within one span of the curves; farther away it would squash
    them (it is then off the zoomed panel, still on the whole-range one). On a log axis
    the padding and the span are taken in decades.
    """
    values = []
    for time, center in lines:
        first = max(int(np.searchsorted(time, start, side="right")) - 1, 0)
        values.append(center[first:])
    both = np.concatenate(values)
    both = both[np.isfinite(both)]
    scale = (np.log10 if log else (lambda v: v))
    low, high = float(scale(both.min())), float(scale(both.max()))
    span = high - low
    if reference is not None and np.isfinite(reference) and (not log or reference > 0):
        r = float(scale(reference))
        if low - max(span, 1e-12) <= r <= high + max(span, 1e-12):
            low, high = min(low, r), max(high, r)
            span = high - low
    if span <= 0:  # one flat value: a window of 1% of it (or 0.1 decades, or +-1 around zero)
        span = 0.1 if log else (abs(low) * 0.02 or 2.0)
        low, high = low - span / 2, high + span / 2
    low, high = low - 0.1 * span, high + 0.1 * span
    return (10 ** low, 10 ** high) if log else (low, high)


def plot_ranks(ranks: "RankAnalysis", scope: str = "all", log_x: bool = True,
               styles: dict[str, dict[str, Any]] | None = None) -> "Figure":
    """Average rank of each setup against the fraction of the simulated budget (1 = best, at the top)."""
    plt = _pyplot()
    data = ranks.over_time[ranks.over_time["scope"] == scope]
    if data.empty:
        raise ValueError(f"no ranks over time for scope {scope!r}")
    styles = styles or setup_styles(ranks.setups)
    fig, ax = plt.subplots(figsize=(7.0, 4.4), dpi=150)
    for setup in ranks.setups:
        curve = data[data["setup"] == setup]
        ax.plot(curve["fraction"], curve["average_rank"], label=setup, linewidth=1.8, drawstyle="steps-post",
                **styles.get(setup, {}))
    if log_x:
        ax.set_xscale("log")
    k = len(ranks.setups)
    ax.set_ylim(k + 0.2, 0.8)
    ax.set_yticks(np.arange(1, k + 1))
    n_blocks = int(data["n_blocks"].iloc[0])
    ax.set_xlabel("fraction of the simulated budget" + (", log scale" if log_x else ""))
    ax.set_ylabel("average rank (1 = best)")
    where = "benchmarks x seeds" if scope == "all" else f"seeds of {scope}"
    ax.set_title(f"Average rank over time ({n_blocks} blocks: {where})", fontsize=11)
    ax.grid(True, alpha=0.3)
    _legend(ax, k, None)
    return fig


def plot_cd_diagram(ranks: "RankAnalysis", title: str | None = None,
                    styles: dict[str, dict[str, Any]] | None = None) -> "Figure":
    """Critical-difference diagram (Demšar 2006, Fig. 1) of the final average ranks.

    The axis runs from rank 1 (best, left) to ``k``; each setup hangs from its
    average rank; thick bars join setups whose ranks differ by less than the Nemenyi
    critical difference (shown as a bar above the axis). Labels take the setups' colours
    from ``styles`` (:func:`setup_styles`), as in the other figures. The subtitle says
    when the blocks are too few for the tests to have power
    (:func:`~mfbench.analysis.ranking.power_notes`).
    """
    from mfbench.analysis.ranking import power_notes

    plt = _pyplot()
    styles = styles or setup_styles(ranks.setups)
    if ranks.cd is None:
        raise ValueError("no critical difference was computed (needs >= 2 methods and >= 2 blocks)")
    average = ranks.average_ranks
    k = len(average)
    order = np.argsort(average, kind="stable")
    left = order[: (k + 1) // 2]
    right = order[(k + 1) // 2:][::-1]
    rows = max(len(left), len(right))
    step = 0.35
    bar_y = [0.25 + 0.12 * i for i in range(len(ranks.cliques))]
    label_top = (max(bar_y) + 0.2) if bar_y else 0.35
    height = 1.4 + step * rows + 0.12 * len(ranks.cliques)
    fig, ax = plt.subplots(figsize=(7.0, height), dpi=150)
    lo, hi = 1, max(k, 2)
    ax.set_xlim(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
    ax.set_ylim(label_top + step * rows + 0.1, -0.75)
    ax.axis("off")
    ax.plot([lo, hi], [0, 0], color="k", linewidth=1.2)
    for r in range(lo, hi + 1):
        ax.plot([r, r], [0, -0.08], color="k", linewidth=1.0)
        ax.text(r, -0.12, str(r), ha="center", va="bottom", fontsize=9)
    for r in np.arange(lo + 0.5, hi, 1.0):
        ax.plot([r, r], [0, -0.04], color="k", linewidth=0.8)
    # Critical difference bar.
    ax.plot([lo, lo + ranks.cd], [-0.5, -0.5], color="k", linewidth=1.5)
    for x in (lo, lo + ranks.cd):
        ax.plot([x, x], [-0.45, -0.55], color="k", linewidth=1.2)
    ax.text(lo + ranks.cd / 2, -0.56, f"CD = {ranks.cd:.3g} (Nemenyi, α = {ranks.alpha:g})", ha="center",
            va="bottom", fontsize=9)
    for side, members in (("left", left), ("right", right)):
        for i, index in enumerate(members):
            y = label_top + step * i
            x = average[index]
            end = lo - 0.03 * (hi - lo) if side == "left" else hi + 0.03 * (hi - lo)
            color = styles.get(ranks.setups[index], {}).get("color", "0.25")
            ax.plot([x, x, end], [0, y, y], color=color, linewidth=1.2)
            text = f"{ranks.setups[index]} ({x:.2f})"
            ax.text(end + (-0.02 if side == "left" else 0.02) * (hi - lo), y, text, va="center",
                    ha="right" if side == "left" else "left", fontsize=10, color=color)
    for y, group in zip(bar_y, ranks.cliques):
        xs = average[group]
        ax.plot([xs.min() - 0.03, xs.max() + 0.03], [y, y], color="k", linewidth=3.5, solid_capstyle="round")
    f = ranks.friedman
    subtitle = (f"Friedman χ² = {f.chi2:.3g}, p = {f.p_chi2:.3g}; N = {f.n_blocks} blocks ({ranks.words['short']})"
                if f is not None else "")
    if power_notes(ranks):
        subtitle += "\nfew blocks: the tests have little power (see statistics.md)"
    ax.set_title((title or "Critical-difference diagram, final average ranks") + ("\n" + subtitle if subtitle else ""),
                 fontsize=11)
    return fig


def plot_suite(suite: "SuiteAnalysis", styles: dict[str, dict[str, Any]] | None = None, log_x: bool = True,
               log_y: bool | None = None) -> "Figure":
    """A suite's anytime curves, aggregated over its benchmark instances (:mod:`mfbench.analysis.suite`).

    Left: the normalised regret (0 = the best value any run reached on the instance, 1 = the
    worst best-so-far), the seed mean per instance summarised over instances with the suite's
    statistic and its band. Right: the average rank over instances of the seed means (1 = best,
    at the top). Both against the fraction of each instance's simulated budget, so instances
    with different budgets share the axis. One figure however many instances: the per-benchmark
    figures are optional (``analyze(per_benchmark_figures=...)``).

    Args:
        suite: from :func:`~mfbench.analysis.suite.suite_analysis`.
        styles: from :func:`setup_styles`.
        log_x: log-scaled fraction axis (the default: most happens early).
        log_y: log-scaled regret axis; None decides from the data (:func:`auto_log`); zero
            regret is then drawn at the bottom.

    Returns:
        The figure; ``fig.axes[0]`` the regret, ``fig.axes[1]`` the ranks.
    """
    plt = _pyplot()
    styles = styles or setup_styles(suite.setups)
    data = suite.over_time()
    if log_y is None:
        log_y = auto_log(data["center"].to_numpy(), ratio=30.0)
    floor = _log_floor(data, 1e-6) if log_y else None
    fig = plt.figure(figsize=(10.5, 4.6), dpi=150, layout="constrained")
    regret_ax, rank_ax = fig.subplots(1, 2)
    for setup in suite.setups:
        curve = data[data["setup"] == setup]
        style = styles.get(setup, {})
        fraction = curve["fraction"].to_numpy(dtype=np.float64)
        center, lower, upper = (curve[c].to_numpy(dtype=np.float64) for c in ("center", "lower", "upper"))
        if floor is not None:
            center, lower, upper = (np.maximum(v, floor) for v in (center, lower, upper))
        regret_ax.step(fraction, center, where="post", label=setup, linewidth=1.8, **style)
        if len(suite.instances) > 1:
            regret_ax.fill_between(fraction, lower, upper, step="post", alpha=0.15, color=style.get("color"),
                                   linewidth=0)
        rank_ax.step(fraction, curve["average_rank"], where="post", linewidth=1.8, **style)
    k = len(suite.setups)
    rank_ax.set_ylim(k + 0.2, 0.8)
    rank_ax.set_yticks(np.arange(1, k + 1))
    rank_ax.set_ylabel("average rank over instances (1 = best)")
    regret_ax.set_ylabel("normalised regret of best so far" + (", log scale" if log_y else ""))
    if log_y:
        regret_ax.set_yscale("log")
        regret_ax.set_ylim(bottom=floor)
    for ax in (regret_ax, rank_ax):
        if log_x:
            ax.set_xscale("log")
        ax.set_xlabel("fraction of the simulated budget" + (", log scale" if log_x else ""))
        ax.grid(True, which="major", alpha=0.3)
    regret_ax.set_title(f"{STATISTIC_NAMES.get(suite.statistic, suite.statistic)} over instances, band: "
                        f"{BAND_NAMES.get(suite.statistic, suite.statistic)}", fontsize=10)
    rank_ax.set_title("ranks of the seed means per instance", fontsize=10)
    seeds = (f"{suite.n_seeds.min()}" if suite.n_seeds.min() == suite.n_seeds.max()
             else f"{suite.n_seeds.min()}-{suite.n_seeds.max()}")
    fig.suptitle(f"Suite of {len(suite.instances)} benchmark instances, {seeds} seeds each (averaged per "
                 f"instance)", fontsize=11)
    handles, labels = regret_ax.get_legend_handles_labels()
    columns = len(labels) if len(labels) <= 6 else -(-len(labels) // -(-len(labels) // 5))
    fig.legend(handles, labels, loc="outside lower center", ncol=columns, fontsize=9, frameon=False)
    return fig


def _legend(ax: Any, entries: int, inside: str | None) -> None:
    """A legend at a fixed place (matplotlib's "best" search is slow on long curves).

    Inside the axes at ``inside`` for up to 6 entries, otherwise (or if ``inside`` is
    None) to the right of the axes.
    """
    if inside is not None and entries <= 6:
        ax.legend(fontsize=9, framealpha=0.9, loc=inside)
    else:
        ax.legend(fontsize=9, framealpha=0.9, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)


def safe_name(text: str) -> str:
    """``text`` as a file-name part (letters, digits, ``._-``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "unnamed"


def save_figure(fig: "Figure", stem: Path, formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """Write ``fig`` as ``<stem>.<format>`` for each format, close it, return the paths."""
    plt = _pyplot()
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = stem.with_name(f"{stem.name}.{fmt}")
        fig.savefig(path, bbox_inches="tight")
        paths.append(path)
    plt.close(fig)
    return paths
