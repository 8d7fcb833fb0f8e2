"""Figures: anytime curves per benchmark, average rank over time, critical-difference diagram.

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


def plot_anytime(curves: "pd.DataFrame", benchmark: str, statistic: str, ylabel: str,
                 log_x: bool | None = None, log_y: bool | None = None,
                 reference: tuple[str, float] | None = None,
                 styles: dict[str, dict[str, Any]] | None = None, title: str | None = None) -> "Figure":
    """Anytime curves of one benchmark: the statistic as a step line, its band shaded.

    Args:
        curves: the rows of :attr:`~mfbench.analysis.aggregate.Curves.table` (any
            benchmarks; those of ``benchmark`` are drawn).
        benchmark: which benchmark.
        statistic: ``"iqm"``, ``"mean"`` or ``"median"`` (for the title).
        ylabel: what the y axis shows.
        log_x, log_y: log-scaled axes; None decides from the data (:func:`auto_log`).
            On a log y axis, values <= 0 (zero regret) are drawn at the bottom.
        reference: ``(label, value)`` of a dashed horizontal line (e.g. best in table).
        styles: from :func:`setup_styles`.
        title: default ``"<benchmark>: <statistic and band>"``.
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
    floor = None
    if log_y:
        values = data[["center", "lower"]].to_numpy(dtype=np.float64).ravel()
        positive = values[values > 0]
        floor = float(positive.min()) / 2 if positive.size else 1e-12

    decreasing = bool(data.groupby("setup", observed=True)["center"].agg(lambda c: c.iloc[-1] <= c.iloc[0]).mean()
                      >= 0.5)
    fig, ax = plt.subplots(figsize=(7.0, 4.4), dpi=150)
    for setup in setups:
        curve = data[data["setup"] == setup]
        time = curve["time"].to_numpy(dtype=np.float64)
        keep = _thin(time, log_x)
        time = time[keep]
        center, lower, upper = (curve[c].to_numpy(dtype=np.float64)[keep] for c in ("center", "lower", "upper"))
        if floor is not None:
            center, lower, upper = (np.maximum(v, floor) for v in (center, lower, upper))
        n = int(curve["n_seeds"].iloc[0])
        style = styles.get(setup, {})
        ax.step(time, center, where="post", label=f"{setup} (n={n})", linewidth=1.8, **style)
        if n > 1:
            ax.fill_between(time, lower, upper, step="post", alpha=0.18, color=style.get("color"), linewidth=0)
    if reference is not None and reference[1] is not None and np.isfinite(reference[1]):
        ax.axhline(reference[1], color="0.35", linestyle=(0, (4, 3)), linewidth=1.0,
                   label=f"{reference[0]} ({reference[1]:.4g})")
    if log_x:
        ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
        ax.set_ylim(bottom=floor)
    ax.set_xlabel("simulated time (s)" + (", log scale" if log_x else ""))
    ax.set_ylabel(ylabel)
    ax.set_title(title or f"{benchmark}: {BAND_LABELS.get(statistic, statistic)}", fontsize=11)
    ax.grid(True, which="major", alpha=0.3)
    _legend(ax, len(setups), "lower left" if decreasing else "upper left")
    return fig


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


def plot_cd_diagram(ranks: "RankAnalysis", title: str | None = None) -> "Figure":
    """Critical-difference diagram (Demšar 2006, Fig. 1) of the final average ranks.

    The axis runs from rank 1 (best, left) to ``k``; each setup hangs from its
    average rank; thick bars join setups whose ranks differ by less than the Nemenyi
    critical difference (shown as a bar above the axis).
    """
    plt = _pyplot()
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
            ax.plot([x, x, end], [0, y, y], color="0.25", linewidth=1.0)
            text = f"{ranks.setups[index]} ({x:.2f})"
            ax.text(end + (-0.02 if side == "left" else 0.02) * (hi - lo), y, text, va="center",
                    ha="right" if side == "left" else "left", fontsize=10)
    for y, group in zip(bar_y, ranks.cliques):
        xs = average[group]
        ax.plot([xs.min() - 0.03, xs.max() + 0.03], [y, y], color="k", linewidth=3.5, solid_capstyle="round")
    f = ranks.friedman
    subtitle = (f"Friedman χ² = {f.chi2:.3g}, p = {f.p_chi2:.3g}; N = {f.n_blocks} blocks" if f is not None else "")
    ax.set_title((title or "Critical-difference diagram, final average ranks") + ("\n" + subtitle if subtitle else ""),
                 fontsize=11)
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
