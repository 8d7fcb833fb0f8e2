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
    blocks_for_a_difference,
    cliques,
    critical_difference,
    friedman,
    nemenyi_pvalues,
    nemenyi_q,
    rank_rows,
)

if TYPE_CHECKING:
    import pandas as pd

#: What a block is, in the words of the texts that speak of blocks (statistics.md, the report,
#: the CD diagram): ``"seed"``, one seed of one benchmark; ``"instance"``, one benchmark instance of
#: a suite with its seeds averaged (Demšar 2006's data sets; :mod:`mfbench.analysis.suite`).
BLOCK_WORDS: dict[str, dict[str, str]] = {
    "seed": {"short": "benchmark x seed", "plural": "benchmarks x seeds",
             "definition": "one seed of one benchmark on which every method ran",
             "more": "Run more seeds or benchmarks."},
    "instance": {"short": "benchmark instance", "plural": "benchmark instances",
                 "definition": "one benchmark instance of the suite, each method's final best averaged over the "
                               "seeds on which every method ran",
                 "more": "Add benchmark instances (more seeds do not add blocks)."},
}


@dataclass
class RankAnalysis:
    """Ranks of ``k`` setups on ``N`` blocks.

    Attributes:
        setups: the ``k`` compared setups (sorted).
        blocks: ``N`` rows with columns ``benchmark``, ``seed`` (``unit="instance"``:
            ``benchmark``, ``n_seeds``).
        final_values: shape ``(N, k)``, each run's best metric at the end of the budget
            (``unit="instance"``: its mean over the instance's seeds).
        final_ranks: shape ``(N, k)``, ranks within each block (1 = best, ties averaged).
        over_time: long format with columns ``scope`` (``"all"`` or a benchmark),
            ``fraction`` (of the simulated budget), ``setup``, ``average_rank``, ``n_blocks``.
        alpha: significance level of the Nemenyi test.
        friedman: the Friedman test on ``final_ranks`` (None if ``N < 2`` or ``k < 2``).
        q_alpha, cd: Nemenyi quantile and critical difference (None when not computed).
        pvalues: pairwise Nemenyi p-values, shape ``(k, k)`` (None when not computed).
        cliques: groups of setups (indices into ``setups``) not significantly different.
        report: what was left out and why.
        unit: what a block is, a key of :data:`BLOCK_WORDS`.
        fractions: shape ``(T,)``, the time grid of ``values_over_time`` (fractions of the
            budget); None when nothing was ranked.
        values_over_time: shape ``(N, T, k)``, each ranked run's best metric so far on the
            grid (the suite analysis aggregates it over instances); None when nothing was ranked.
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
    unit: str = "seed"
    fractions: np.ndarray | None = None
    values_over_time: np.ndarray | None = None

    @property
    def words(self) -> dict[str, str]:
        """How the texts name a block of this analysis (:data:`BLOCK_WORDS`)."""
        return BLOCK_WORDS[self.unit]

    @property
    def average_ranks(self) -> np.ndarray:
        """Average final rank of each setup, shape ``(k,)``."""
        return self.final_ranks.mean(axis=0) if len(self.final_ranks) else np.full(len(self.setups), np.nan)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable statistics."""
        out: dict[str, Any] = {
            "setups": self.setups,
            "n_blocks": int(len(self.blocks)),
            "blocks": ([{"benchmark": b, "seed": int(s)} for b, s in zip(self.blocks["benchmark"], self.blocks["seed"])]
                       if self.unit == "seed" else
                       [{"benchmark": b, "n_seeds": int(n)} for b, n in zip(self.blocks["benchmark"],
                                                                            self.blocks["n_seeds"])]),
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
    common = _setups_on_every_benchmark(results, report)
    blocks = _complete_blocks(results, common, report)
    k = len(common)
    block_frame = pd.DataFrame(blocks.keys, columns=["benchmark", "seed"])
    if k < 2 or not blocks.keys:
        if k < 2:  # a study of one method is not an error: there is just nothing to rank it against
            report.info("ranks", f"{k} method(s) on every benchmark ({', '.join(common) or 'none'}): nothing to "
                                 f"rank against, so no ranks, tests or critical-difference diagram.")
        else:
            report.warn("ranks", f"no (benchmark, seed) block in which all {k} methods have a run; no ranks or "
                                 f"critical-difference diagram.")
        empty = pd.DataFrame(columns=["scope", "fraction", "setup", "average_rank", "n_blocks"])
        return RankAnalysis(common, block_frame, np.empty((0, k)), np.empty((0, k)), empty, alpha, report=report)

    fractions = _budget_fractions(results, blocks, grid_size, report)
    _report_time_limits(results, blocks, report)
    values = _best_so_far_on_grid(results, blocks, fractions)
    ranks = _rank_within_blocks(values, blocks.modes)
    over_time = _average_ranks_over_time(results.benchmarks, block_frame, common, fractions, ranks)
    analysis = RankAnalysis(common, block_frame, values[:, -1, :], ranks[:, -1, :], over_time, alpha, report=report,
                            fractions=fractions, values_over_time=values)
    if len(blocks.keys) < 2:
        report.warn("ranks", "one block only: no Friedman test or critical difference (run more seeds).")
        return analysis
    fill_tests(analysis)
    for note in power_notes(analysis):
        report.warn("power", note)
    return analysis


#: Fewest blocks for the Friedman statistic's chi-square approximation (Demšar 2006, Section 3.2.2).
FEW_BLOCKS = 10


def power_notes(analysis: RankAnalysis) -> list[str]:
    """Warnings that the tests have too few blocks (benchmark x seed, or instances) to find differences.

    With fewer than :data:`FEW_BLOCKS` blocks the Friedman chi-square approximation is
    poor and both tests have little power; with fewer than
    :func:`~mfbench.analysis.stats.blocks_for_a_difference` blocks the critical
    difference exceeds the largest possible rank difference, so no pair can differ.
    """
    n, k = analysis.final_ranks.shape
    if analysis.cd is None or k < 2:
        return []
    notes = []
    words = analysis.words
    needed = blocks_for_a_difference(k, analysis.alpha)
    if n < needed:
        notes.append(f"with {n} blocks the critical difference {analysis.cd:.3g} exceeds {k - 1}, the largest "
                     f"possible difference of average ranks of {k} methods: no pair can be declared different. "
                     f"Use at least {needed} blocks ({words['plural']}).")
    if n < FEW_BLOCKS:
        notes.append(f"only {n} blocks ({words['plural']}): the tests have little power, so a difference they do "
                     f"not find may well exist; Demšar (2006) asks for more than {FEW_BLOCKS} blocks for the "
                     f"Friedman test's chi-square approximation. {words['more']}")
    return notes


@dataclass
class _Blocks:
    """The ``N`` ranked (benchmark, seed) blocks, in benchmark then seed order.

    Attributes:
        keys: ``N`` pairs ``(benchmark, seed)``.
        runs: ``N`` lists of ``k`` row positions in ``results.runs``, one per compared
            setup, in the order of the sorted common setups.
        modes: ``N`` modes (``"min"`` or ``"max"``) of the blocks' benchmarks.
        budgets: ``N`` simulated budgets in seconds (the benchmark's, see
            :meth:`~mfbench.analysis.load.Results.benchmark_info`).
    """

    keys: list[tuple[str, int]] = field(default_factory=list)
    runs: list[list[int]] = field(default_factory=list)
    modes: list[str] = field(default_factory=list)
    budgets: list[float] = field(default_factory=list)


def _setups_on_every_benchmark(results: Results, report: Report) -> list[str]:
    """The setups (sorted) that ran on every benchmark; warns about each benchmark's others.

    Ranks compare every setup in every block, so a setup missing from one benchmark
    would leave that benchmark's blocks incomplete; it is left out instead.
    """
    per_benchmark = {b: set(results.setups(b)) for b in results.benchmarks}
    common = sorted(set.intersection(*per_benchmark.values())) if per_benchmark else []
    for benchmark, setups in per_benchmark.items():
        extra = sorted(setups - set(common))
        if extra:
            report.warn("ranks", f"{extra} ran on {benchmark} but not on every benchmark; left out of the ranks.")
    return common


def _complete_blocks(results: Results, common: list[str], report: Report) -> _Blocks:
    """The (benchmark, seed) blocks in which every setup of ``common`` has a run with values.

    A seed of a benchmark that lacks one of them (no run, or a run without a single
    non-NaN metric value) is left out and reported.
    """
    first_time = results.runs["first_time"].to_numpy(dtype=np.float64)
    seed_of = results.runs["seed"].to_numpy()
    blocks = _Blocks()
    for benchmark in results.benchmarks:
        info = results.benchmark_info(benchmark)
        by_setup = {}  # setup -> {seed: row position} of its runs with at least one value
        for setup in common:
            positions = results.run_indices(benchmark, setup)
            by_setup[setup] = {int(seed_of[p]): int(p) for p in positions if not np.isnan(first_time[p])}
        # Seeds of any setup of the benchmark, so that a seed only a left-out setup has is reported too.
        all_seeds = sorted({int(seed_of[p]) for s in results.setups(benchmark)
                            for p in results.run_indices(benchmark, s)})
        for seed in all_seeds:
            missing = [s for s in common if seed not in by_setup[s]]
            if missing:
                report.warn("ranks", f"{benchmark} seed {seed} is left out of the ranks: no run with values of "
                                     f"{missing}.")
                continue
            blocks.keys.append((benchmark, seed))
            blocks.runs.append([by_setup[s][seed] for s in common])
            blocks.modes.append(info["mode"])
            blocks.budgets.append(info["budget"])
    return blocks


def _budget_fractions(results: Results, blocks: _Blocks, grid_size: int, report: Report) -> np.ndarray:
    """The time grid: sorted unique fractions of the budget, shape ``(T,)`` with ``T <= grid_size + 1``.

    Log-spaced from the first fraction at which every ranked run has a result (before
    that some ranks would compare against nothing) to 1, which is always included.
    """
    first_time = results.runs["first_time"].to_numpy(dtype=np.float64)
    start = max(first_time[p] / budget for positions, budget in zip(blocks.runs, blocks.budgets) for p in positions)
    start = min(max(start, 1e-9), 1.0)  # geomspace needs a positive start
    fractions = np.unique(np.concatenate([np.geomspace(start, 1.0, grid_size), [1.0]]))
    report.info("ranks", f"ranks over time start at {start:.3g} of the budget, when every run has a result.")
    return fractions


def _report_time_limits(results: Results, blocks: _Blocks, report: Report) -> None:
    """Note, per benchmark, what its budget fraction is measured against and which runs end early."""
    simulated = results.runs["simulated_time"].to_numpy(dtype=np.float64)
    run_budget = results.runs["budget"].to_numpy(dtype=np.float64)
    for benchmark in results.benchmarks:
        used = [p for (b, _), positions in zip(blocks.keys, blocks.runs) if b == benchmark for p in positions]
        if not used:
            continue
        budget = blocks.budgets[[b for b, _ in blocks.keys].index(benchmark)]
        if not np.isfinite(run_budget[used]).any():
            report.info("ranks", f"{benchmark}: the runs have no simulated time limit; time is measured as a fraction "
                                 f"of the longest run ({budget:.6g} s).")
        early = int(np.sum(simulated[used] < budget * (1 - 1e-9)))
        if early:
            report.info("ranks", f"{benchmark}: {early} of {len(used)} ranked runs end before {budget:.6g} s; from "
                                 f"their end on they count with their final best.")


def _best_so_far_on_grid(results: Results, blocks: _Blocks, fractions: np.ndarray) -> np.ndarray:
    """Each ranked run's best metric so far at each fraction of its block's budget.

    Returns shape ``(N, T, k)``: blocks, ``fractions``, setups; in the metric's units.
    """
    best = results.trajectories["best"].to_numpy()
    times = results.trajectories["sim_time"].to_numpy()
    values = np.empty((len(blocks.keys), len(fractions), len(blocks.runs[0])))
    for i, (positions, budget) in enumerate(zip(blocks.runs, blocks.budgets)):
        for j, position in enumerate(positions):
            rows = results.rows_of(position)
            t, b = times[rows], best[rows]
            keep = ~np.isnan(b)  # before the first value there is no best to rank
            t, b = t[keep], b[keep]
            if np.any(t[1:] < t[:-1]):  # step_values needs ascending times
                order = np.argsort(t, kind="stable")
                t, b = t[order], b[order]
            values[i, :, j] = step_values(t, b, fractions * budget)
    return values


def _rank_within_blocks(values: np.ndarray, modes: list[str]) -> np.ndarray:
    """Ranks of the setups within each block and time, shape ``(N, T, k)`` like ``values``.

    1 = best in the block's mode; ties share the average rank.
    """
    ranks = np.empty_like(values)
    for i, mode in enumerate(modes):
        ranks[i] = rank_rows(values[i], mode)
    return ranks


def _average_ranks_over_time(benchmarks: list[str], block_frame: "pd.DataFrame", setups: list[str],
                             fractions: np.ndarray, ranks: np.ndarray) -> "pd.DataFrame":
    """Mean rank over blocks, long format (:attr:`RankAnalysis.over_time`).

    One scope ``"all"`` over every block and, when there are several benchmarks, one per
    benchmark over its blocks; ``T * k`` rows per scope.
    """
    import pandas as pd

    frames = []
    scopes = [("all", np.ones(len(block_frame), dtype=bool))]
    if len(benchmarks) > 1:
        scopes += [(b, block_frame["benchmark"].to_numpy() == b) for b in benchmarks]
    for scope, mask in scopes:
        if not mask.any():
            continue
        mean = ranks[mask].mean(axis=0)  # (T, k)
        for j, setup in enumerate(setups):
            frames.append(pd.DataFrame({"scope": scope, "fraction": fractions, "setup": setup,
                                        "average_rank": mean[:, j], "n_blocks": int(mask.sum())}))
    return pd.concat(frames, ignore_index=True)


def fill_tests(analysis: RankAnalysis) -> None:
    """Fill in the Friedman test, Nemenyi ``q_alpha``, critical difference, p-values and cliques.

    Needs ``N >= 2`` blocks and ``k >= 2`` setups (``final_ranks`` of shape ``(N, k)``).
    """
    n, k = analysis.final_ranks.shape
    analysis.friedman = friedman(analysis.final_ranks)
    analysis.q_alpha = nemenyi_q(k, analysis.alpha)
    analysis.cd = critical_difference(k, n, analysis.alpha)
    analysis.pvalues = nemenyi_pvalues(analysis.average_ranks, n)
    analysis.cliques = cliques(analysis.average_ranks, analysis.cd)
