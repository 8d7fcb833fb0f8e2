"""Ranks of the methods over time and at the end of the budget, over (benchmark, seed) blocks.

Each block is one seed of one benchmark in which every compared setup has a run; setups
missing from some benchmark and blocks missing some setup are left out and reported.
Time is the fraction of each benchmark's simulated budget, so benchmarks with
different budgets share one axis. At each time a run's value is its running best so far
(its final best after it ended).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from mfbench.analysis.aggregate import step_values
from mfbench.analysis.load import Results
from mfbench.analysis.report import Report
from mfbench.analysis.stats import (
    FriedmanResult,
    cliques,
    critical_difference,
    friedman,
    nemenyi_pvalues,
    nemenyi_q,
    rank_rows,
)

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class RankAnalysis:
    """Ranks of ``k`` setups on ``N`` blocks.

    Attributes:
        setups: the ``k`` compared setups (sorted).
        blocks: ``N`` rows with columns ``benchmark``, ``seed``.
        final_values: shape ``(N, k)``, each run's best metric at the end of the budget.
        final_ranks: shape ``(N, k)``, ranks within each block (1 = best, ties averaged).
        over_time: long format with columns ``scope`` (``"all"`` or a benchmark),
            ``fraction`` (of the simulated budget), ``setup``, ``average_rank``, ``n_blocks``.
        alpha: significance level of the Nemenyi test.
        friedman: the Friedman test on ``final_ranks`` (None if ``N < 2`` or ``k < 2``).
        q_alpha, cd: Nemenyi quantile and critical difference (None when not computed).
        pvalues: pairwise Nemenyi p-values, shape ``(k, k)`` (None when not computed).
        cliques: groups of setups (indices into ``setups``) not significantly different.
        report: what was left out and why.
    """

    setups: list[str]
    blocks: "pd.DataFrame"
    final_values: np.ndarray
    final_ranks: np.ndarray
    over_time: "pd.DataFrame"
    alpha: float
    friedman: FriedmanResult | None = None
    q_alpha: float | None = None
    cd: float | None = None
    pvalues: np.ndarray | None = None
    cliques: list[list[int]] = field(default_factory=list)
    report: Report = field(default_factory=Report)

    @property
    def average_ranks(self) -> np.ndarray:
        """Average final rank of each setup, shape ``(k,)``."""
        return self.final_ranks.mean(axis=0) if len(self.final_ranks) else np.full(len(self.setups), np.nan)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable statistics."""
        out: dict[str, Any] = {
            "setups": self.setups,
            "n_blocks": int(len(self.blocks)),
            "blocks": [{"benchmark": b, "seed": int(s)} for b, s in zip(self.blocks["benchmark"], self.blocks["seed"])],
            "average_ranks": dict(zip(self.setups, map(float, self.average_ranks))),
            "alpha": self.alpha,
        }
        if self.friedman is not None:
            f = self.friedman
            out["friedman"] = {"chi2": f.chi2, "df": f.n_methods - 1, "p_value": f.p_chi2,
                               "iman_davenport_f": f.f_stat, "f_df": list(f.df), "f_p_value": f.p_f}
        if self.cd is not None:
            out["nemenyi"] = {
                "q_alpha": self.q_alpha, "critical_difference": self.cd,
                "p_values": {a: {b: float(self.pvalues[i, j]) for j, b in enumerate(self.setups)}
                             for i, a in enumerate(self.setups)} if self.pvalues is not None else None,
                "not_significantly_different": [[self.setups[i] for i in g] for g in self.cliques],
            }
        return out


def rank_analysis(results: Results, alpha: float = 0.05, grid_size: int = 100) -> RankAnalysis:
    """Ranks over time and the Friedman/Nemenyi tests at the end of the budget.

    Args:
        results: from :func:`~mfbench.analysis.load.load_results`.
        alpha: significance level of the Nemenyi critical difference.
        grid_size: number of time points (log-spaced fractions of the budget from where
            every run has a result to 1).
    """
    import pandas as pd

    report = Report()
    per_benchmark = {b: set(results.setups(b)) for b in results.benchmarks}
    common = sorted(set.intersection(*per_benchmark.values())) if per_benchmark else []
    for benchmark, setups in per_benchmark.items():
        extra = sorted(setups - set(common))
        if extra:
            report.warn("ranks", f"{extra} ran on {benchmark} but not on every benchmark; left out of the ranks.")
    first_time = results.runs["first_time"].to_numpy(dtype=np.float64)
    seed_of = results.runs["seed"].to_numpy()
    blocks: list[tuple[str, int]] = []
    block_runs: list[list[int]] = []  # row positions in results.runs, in the order of `common`
    modes: list[str] = []
    budgets: list[float] = []
    for benchmark in results.benchmarks:
        info = results.benchmark_info(benchmark)
        by_setup = {}
        for setup in common:
            positions = results.run_indices(benchmark, setup)
            by_setup[setup] = {int(seed_of[p]): int(p) for p in positions if not np.isnan(first_time[p])}
        all_seeds = sorted({int(seed_of[p]) for s in results.setups(benchmark)
                            for p in results.run_indices(benchmark, s)})
        for seed in all_seeds:
            missing = [s for s in common if seed not in by_setup[s]]
            if missing:
                report.warn("ranks", f"{benchmark} seed {seed} is left out of the ranks: no run with values of "
                                     f"{missing}.")
                continue
            blocks.append((benchmark, seed))
            block_runs.append([by_setup[s][seed] for s in common])
            modes.append(info["mode"])
            budgets.append(info["budget"])

    k = len(common)
    empty = pd.DataFrame(columns=["scope", "fraction", "setup", "average_rank", "n_blocks"])
    block_frame = pd.DataFrame(blocks, columns=["benchmark", "seed"])
    if k < 2 or not blocks:
        report.warn("ranks", f"ranks need >= 2 methods on >= 1 common block (have {k} methods, "
                             f"{len(blocks)} blocks); no ranks or critical-difference diagram.")
        return RankAnalysis(common, block_frame, np.empty((0, k)), np.empty((0, k)), empty, alpha, report=report)

    start = max(first_time[p] / budget for positions, budget in zip(block_runs, budgets) for p in positions)
    start = min(max(start, 1e-9), 1.0)
    fractions = np.unique(np.concatenate([np.geomspace(start, 1.0, grid_size), [1.0]]))
    report.info("ranks", f"ranks over time start at {start:.3g} of the budget, when every run has a result.")
    simulated = results.runs["simulated_time"].to_numpy(dtype=np.float64)
    run_budget = results.runs["budget"].to_numpy(dtype=np.float64)
    for benchmark in results.benchmarks:
        used = [p for (b, _), positions in zip(blocks, block_runs) if b == benchmark for p in positions]
        if not used:
            continue
        budget = budgets[[b for b, _ in blocks].index(benchmark)]
        if not np.isfinite(run_budget[used]).any():
            report.info("ranks", f"{benchmark}: the runs have no simulated time limit; time is measured as a fraction "
                                 f"of the longest run ({budget:.6g} s).")
        early = int(np.sum(simulated[used] < budget * (1 - 1e-9)))
        if early:
            report.info("ranks", f"{benchmark}: {early} of {len(used)} ranked runs end before {budget:.6g} s; from "
                                 f"their end on they count with their final best.")
    best = results.trajectories["best"].to_numpy()
    times = results.trajectories["sim_time"].to_numpy()
    values = np.empty((len(blocks), len(fractions), k))
    for i, (positions, budget) in enumerate(zip(block_runs, budgets)):
        for j, position in enumerate(positions):
            rows = results.rows_of(position)
            t, b = times[rows], best[rows]
            keep = ~np.isnan(b)
            t, b = t[keep], b[keep]
            if np.any(t[1:] < t[:-1]):
                order = np.argsort(t, kind="stable")
                t, b = t[order], b[order]
            values[i, :, j] = step_values(t, b, fractions * budget)
    ranks = np.empty_like(values)
    for i, mode in enumerate(modes):
        ranks[i] = rank_rows(values[i], mode)

    frames = []
    scopes = [("all", np.ones(len(blocks), dtype=bool))]
    if len(results.benchmarks) > 1:
        scopes += [(b, block_frame["benchmark"].to_numpy() == b) for b in results.benchmarks]
    for scope, mask in scopes:
        if not mask.any():
            continue
        mean = ranks[mask].mean(axis=0)  # (T, k)
        for j, setup in enumerate(common):
            frames.append(pd.DataFrame({"scope": scope, "fraction": fractions, "setup": setup,
                                        "average_rank": mean[:, j], "n_blocks": int(mask.sum())}))
    analysis = RankAnalysis(common, block_frame, values[:, -1, :], ranks[:, -1, :],
                            pd.concat(frames, ignore_index=True), alpha, report=report)
    n = len(blocks)
    if n < 2:
        report.warn("ranks", "one block only: no Friedman test or critical difference (run more seeds).")
        return analysis
    analysis.friedman = friedman(analysis.final_ranks)
    analysis.q_alpha = nemenyi_q(k, alpha)
    analysis.cd = critical_difference(k, n, alpha)
    analysis.pvalues = nemenyi_pvalues(analysis.average_ranks, n)
    analysis.cliques = cliques(analysis.average_ranks, analysis.cd)
    return analysis
