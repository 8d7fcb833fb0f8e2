"""A suite: many benchmark instances (34 LCBench tasks, rbv2 instances) analysed as one study.

The ranks of :mod:`mfbench.analysis.ranking` count one block per (benchmark, seed). Seeds of
one benchmark are not independent data sets, though, and a suite's question is "which method
is better across instances", so here, as in Demšar (JMLR 2006) with its data sets, **a block
is one benchmark instance**:

- per instance, each method's final best value (in the benchmark's mode) is averaged over
  the seeds on which every method ran (the complete (benchmark, seed) blocks of
  :func:`~mfbench.analysis.ranking.rank_analysis`; Demšar averages over cross-validation folds),
  and the methods are ranked on these means (1 = best, ties share the average rank);
- the average rank of a method is the mean of its ranks over the ``M`` instances; the
  Friedman and Nemenyi tests and the critical-difference diagram use ``N = M`` blocks;
- a method *wins* against another on an instance when its seed mean is better, *ties* when
  they are equal (equal ranks), *loses* otherwise;
- over time (fractions of each instance's budget, the grid of the seed ranks), the same
  ranks of seed means give the suite's average rank curve, and a **normalised regret** puts
  instances with different metrics and scales on one axis: per instance, min-max over every
  ranked run's best-so-far on the grid, 0 = the best value any run reached, 1 = the worst
  best-so-far on the grid (at its start), so ``(best - lowest) / (highest - lowest)`` for
  ``mode=min`` and ``(highest - best) / (highest - lowest)`` for ``mode=max``; the seed mean
  per instance is then summarised over instances with the analysis' statistic (IQM, mean or
  median, and its band).

Everything is computed from :class:`~mfbench.analysis.ranking.RankAnalysis` (its complete blocks
and best-so-far grid), so the suite and the seed ranks always use the same runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mfbench.analysis.aggregate import summarize
from mfbench.analysis.load import Results
from mfbench.analysis.ranking import RankAnalysis, fill_tests, power_notes
from mfbench.analysis.report import Report
from mfbench.analysis.stats import rank_rows

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class SuiteAnalysis:
    """The suite's statistics over ``M`` benchmark instances and ``k`` setups, ``T`` time points.

    Attributes:
        ranks: the ranks with one block per instance (``unit="instance"``): ``final_values``
            the seed means ``(M, k)``, ``final_ranks`` their ranks, the Friedman / Nemenyi
            tests, ``over_time`` the average rank over instances (scope ``"suite"``).
        n_seeds: shape ``(M,)``, the seeds averaged per instance.
        regret: shape ``(M, T, k)``, the seed mean of the normalised regret of each setup on each
            instance at each fraction of the budget (``ranks.fractions``).
        statistic: what summarises the normalised regret over instances (``"iqm"``, ``"mean"``,
            ``"median"``).
        wins, ties: shape ``(k, k)``; ``wins[i, j]``: instances on which setup ``i`` is better
            than setup ``j``; ``ties[i, j]``: on which they are equal (losses: ``wins.T``).
    """

    ranks: RankAnalysis
    n_seeds: np.ndarray
    regret: np.ndarray
    statistic: str
    wins: np.ndarray
    ties: np.ndarray

    @property
    def setups(self) -> list[str]:
        """The ``k`` compared setups (sorted)."""
        return self.ranks.setups

    @property
    def instances(self) -> list[str]:
        """The ``M`` benchmark instances (sorted)."""
        return self.ranks.blocks["benchmark"].tolist()

    def summary_table(self) -> "pd.DataFrame":
        """One row per setup, best average rank first.

        Columns: ``setup``, ``average_rank`` (over instances), ``n_instances``, ``n_best``
        (instances on which it ranks first, shared firsts included), ``wins``, ``ties``,
        ``losses`` (summed over every other setup and instance), ``final_normalised_regret``
        (the statistic over instances of the seed-mean normalised regret at the end of the budget).
        """
        import pandas as pd

        final = self.regret[:, -1, :]
        centre = summarize(final, self.statistic)[0] if len(final) else np.full(len(self.setups), np.nan)
        best = self.ranks.final_ranks == self.ranks.final_ranks.min(axis=1, keepdims=True)
        rows = [{"setup": setup, "average_rank": float(self.ranks.average_ranks[j]),
                 "n_instances": len(self.instances), "n_best": int(best[:, j].sum()),
                 "wins": int(self.wins[j].sum()), "ties": int(self.ties[j].sum() - self.ties[j, j]),
                 "losses": int(self.wins[:, j].sum()), "final_normalised_regret": float(centre[j])}
                for j, setup in enumerate(self.setups)]
        return pd.DataFrame(rows).sort_values("average_rank", kind="stable").reset_index(drop=True)

    def pairwise_table(self) -> "pd.DataFrame":
        """Wins, ties and losses of every ordered pair, long format.

        Columns: ``setup``, ``opponent``, ``wins``, ``ties``, ``losses``, ``n_instances``.
        """
        import pandas as pd

        rows = [{"setup": a, "opponent": b, "wins": int(self.wins[i, j]), "ties": int(self.ties[i, j]),
                 "losses": int(self.wins[j, i]), "n_instances": len(self.instances)}
                for i, a in enumerate(self.setups) for j, b in enumerate(self.setups) if i != j]
        return pd.DataFrame(rows, columns=["setup", "opponent", "wins", "ties", "losses", "n_instances"])

    def over_time(self) -> "pd.DataFrame":
        """The suite's curves, long format: ``fraction``, ``setup``, ``average_rank``, normalised regret
        ``center`` / ``lower`` / ``upper`` (the statistic over instances and its band), ``n_instances``,
        ``statistic``."""
        import pandas as pd

        ranks = self.ranks.over_time
        frames = []
        for j, setup in enumerate(self.setups):
            center, lower, upper = summarize(self.regret[:, :, j], self.statistic)
            rank = ranks[ranks["setup"] == setup]["average_rank"].to_numpy()
            frames.append(pd.DataFrame({"fraction": self.ranks.fractions, "setup": setup, "average_rank": rank,
                                        "center": center, "lower": lower, "upper": upper,
                                        "n_instances": len(self.instances), "statistic": self.statistic}))
        return pd.concat(frames, ignore_index=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable statistics (the ranks' :meth:`~RankAnalysis.to_dict` plus wins, ties, losses)."""
        out = self.ranks.to_dict()
        out["n_instances"] = out.pop("n_blocks")
        out["seeds_per_instance"] = dict(zip(self.instances, map(int, self.n_seeds)))
        out["pairwise"] = {a: {b: {"wins": int(self.wins[i, j]), "ties": int(self.ties[i, j]),
                                   "losses": int(self.wins[j, i])}
                               for j, b in enumerate(self.setups) if i != j}
                           for i, a in enumerate(self.setups)}
        return out


def suite_analysis(results: Results, seed_ranks: RankAnalysis, statistic: str = "iqm") -> SuiteAnalysis | None:
    """The suite statistics of a study over several benchmarks (None for fewer than 2 ranked benchmarks
    or fewer than 2 setups: there is no suite to speak of).

    Args:
        results: the loaded runs (for each benchmark's mode).
        seed_ranks: :func:`~mfbench.analysis.ranking.rank_analysis` of the same results: its
            complete (benchmark, seed) blocks and best-so-far grid are averaged per instance.
        statistic: summarises the normalised regret over instances (``"iqm"``, ``"mean"``, ``"median"``).
    """
    import pandas as pd

    values = seed_ranks.values_over_time
    if values is None or len(seed_ranks.setups) < 2:
        return None
    keys = seed_ranks.blocks["benchmark"].to_numpy()
    instances = sorted(set(keys.tolist()))
    if len(instances) < 2:
        return None
    k, fractions = len(seed_ranks.setups), seed_ranks.fractions
    assert fractions is not None
    means = np.empty((len(instances), len(fractions), k))  # seed mean of the best so far
    regret = np.empty_like(means)  # seed mean of the normalised regret
    n_seeds = np.empty(len(instances), dtype=np.int64)
    modes = []
    for m, benchmark in enumerate(instances):
        block = values[keys == benchmark]  # (seeds, T, k)
        mode = results.benchmark_info(benchmark)["mode"]
        modes.append(mode)
        n_seeds[m] = len(block)
        means[m] = block.mean(axis=0)
        regret[m] = normalised_regret(block, mode).mean(axis=0)
    ranks = np.stack([rank_rows(means[m], mode) for m, mode in enumerate(modes)])  # (M, T, k)

    report = Report()
    frame = pd.DataFrame({"benchmark": instances, "n_seeds": n_seeds})
    over_time = pd.concat([pd.DataFrame({"scope": "suite", "fraction": fractions, "setup": setup,
                                         "average_rank": ranks[:, :, j].mean(axis=0), "n_blocks": len(instances)})
                           for j, setup in enumerate(seed_ranks.setups)], ignore_index=True)
    by_instance = RankAnalysis(seed_ranks.setups, frame, means[:, -1, :], ranks[:, -1, :], over_time,
                               seed_ranks.alpha, report=report, unit="instance", fractions=fractions,
                               values_over_time=means)
    fill_tests(by_instance)
    for note in power_notes(by_instance):
        report.warn("suite", note)
    if n_seeds.min() != n_seeds.max():
        report.info("suite", f"seeds averaged per instance: {n_seeds.min()} to {n_seeds.max()} (the seeds on which "
                             f"every method ran); each instance counts once however many it has.")
    final = ranks[:, -1, :]
    wins = (final[:, :, None] < final[:, None, :]).sum(axis=0)
    ties = (final[:, :, None] == final[:, None, :]).sum(axis=0)
    return SuiteAnalysis(by_instance, n_seeds, regret, statistic, wins, ties)


def normalised_regret(values: np.ndarray, mode: str) -> np.ndarray:
    """Min-max normalised regret of best-so-far values of one instance, same shape as ``values``.

    ``values`` holds every ranked run's best so far on the time grid (any shape, no NaN);
    0 is the best of them (``min`` for ``mode="min"``), 1 the worst; all 0 when they are equal.
    """
    low, high = float(values.min()), float(values.max())
    span = high - low
    if span <= 0:
        return np.zeros_like(values)
    return (values - low) / span if mode == "min" else (high - values) / span
