"""Final results per benchmark and method: best metric at the end of the budget and real time.

One row per (benchmark, setup): number of seeds, mean ± standard error, median and IQM
of the runs' final best metric (or regret), and the real (wall-clock) seconds the runs
took. Written as CSV (full precision), Markdown and LaTeX (best entry per benchmark in
bold). A suite (several benchmarks) gets a summary table too (:func:`write_suite_tables`):
average rank over instances, wins / ties / losses, and the pairwise wins / ties / losses.
"""
from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mfbench.analysis.iqm import iqm
from mfbench.analysis.load import Results
from mfbench.analysis.plots import STATISTIC_NAMES

if TYPE_CHECKING:
    import pandas as pd

    from mfbench.analysis.suite import SuiteAnalysis

#: Columns of :func:`final_table`.
TABLE_COLUMNS = ("benchmark", "setup", "n_seeds", "mean", "se", "median", "iqm", "real_seconds_mean",
                 "real_seconds_total", "metric", "mode", "reference")


def final_table(results: Results, references: dict[str, float | None] | None = None) -> "pd.DataFrame":
    """Final best metric per (benchmark, setup) over seeds.

    Args:
        results: from :func:`~mfbench.analysis.load.load_results`.
        references: per benchmark, a regret reference (see
            :func:`~mfbench.analysis.aggregate.regret_reference`); the table then holds
            regrets instead of metric values.

    Returns:
        Columns :data:`TABLE_COLUMNS`; ``se`` is ``std(ddof=1)/sqrt(n)`` (NaN for one
        seed); real seconds are per run (mean) and summed; ``metric`` and ``mode`` say
        what was optimised, ``reference`` what regret is taken against (NaN without
        regret). Runs without any non-NaN metric are left out (``load_results`` reports
        them).
    """
    import pandas as pd

    rows = []
    for benchmark in results.benchmarks:
        info = results.benchmark_info(benchmark)
        mode = info["mode"]
        reference = (references or {}).get(benchmark)
        for setup in results.setups(benchmark):
            runs = results.runs[(results.runs["benchmark"] == benchmark) & (results.runs["setup"] == setup)]
            finals = runs["final_best"].to_numpy(dtype=np.float64)
            keep = ~np.isnan(finals)
            finals = finals[keep]
            if finals.size == 0:
                continue
            if reference is not None:
                finals = (finals - reference) if mode == "min" else (reference - finals)
            n = finals.size
            real = runs["real_seconds"].to_numpy(dtype=np.float64)[keep]
            rows.append({
                "benchmark": benchmark, "setup": setup, "n_seeds": n,
                "mean": float(finals.mean()),
                "se": float(finals.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan,
                "median": float(np.median(finals)), "iqm": float(iqm(finals)),
                "real_seconds_mean": float(np.nanmean(real)) if np.isfinite(real).any() else math.nan,
                "real_seconds_total": float(np.nansum(real)),
                "metric": info["metric"], "mode": mode,
                "reference": math.nan if reference is None else float(reference),
            })
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def _fmt(x: float, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}g}"


def _best_rows(table: "pd.DataFrame", modes: dict[str, str], column: str) -> set[int]:
    """Index labels of the best row per benchmark in ``column`` (regret and min: smallest)."""
    best: set[int] = set()
    for benchmark, group in table.groupby("benchmark", sort=False):
        values = group[column].to_numpy(dtype=np.float64)
        if np.isnan(values).all():
            continue
        target = np.nanmin(values) if modes.get(benchmark, "min") == "min" else np.nanmax(values)
        best.update(group.index[values == target].tolist())
    return best


def _cells(table: "pd.DataFrame", modes: dict[str, str], bold: tuple[str, str]) -> list[list[str]]:
    bests = {c: _best_rows(table, modes, c) for c in ("mean", "median", "iqm")}
    rows = []
    for index, row in table.iterrows():
        def mark(text: str, column: str) -> str:
            return f"{bold[0]}{text}{bold[1]}" if index in bests[column] else text
        mean = _fmt(row["mean"]) + ("" if math.isnan(row["se"]) else f" ± {_fmt(row['se'], 2)}")
        rows.append([str(row["benchmark"]), str(row["setup"]), str(int(row["n_seeds"])), mark(mean, "mean"),
                     mark(_fmt(row["median"]), "median"), mark(_fmt(row["iqm"]), "iqm"),
                     _fmt(row["real_seconds_mean"], 3), _fmt(row["real_seconds_total"], 3)])
    return rows


def _headers(quantity: str) -> list[str]:
    return ["benchmark", "method", "seeds", f"{quantity} mean ± SE", "median", "IQM", "real s / run",
            "real s total"]


def to_markdown(table: "pd.DataFrame", modes: dict[str, str], quantity: str = "final best",
                caption: str | None = None) -> str:
    """A Markdown table; the best mean, median and IQM per benchmark in bold.

    ``modes`` maps benchmark to ``"min"``/``"max"`` (use ``"min"`` for regret);
    ``caption``, a sentence saying what the numbers are, goes above the table.
    """
    headers = _headers(quantity)
    lines = [caption, ""] if caption else []
    lines += ["| " + " | ".join(headers) + " |", "|" + "|".join(["---"] * 2 + ["---:"] * (len(headers) - 2)) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in _cells(table, modes, ("**", "**"))]
    return "\n".join(lines) + "\n"


def _latex_escape(text: str) -> str:
    text = text.replace("\\", "\x00")
    for a, b in (("&", r"\&"), ("%", r"\%"), ("$", r"\$"), ("#", r"\#"), ("_", r"\_"), ("{", r"\{"),
                 ("}", r"\}"), ("~", r"\textasciitilde{}"), ("^", r"\^{}")):
        text = text.replace(a, b)
    return text.replace("\x00", r"\textbackslash{}")


def to_latex(table: "pd.DataFrame", modes: dict[str, str], quantity: str = "final best",
             caption: str | None = None) -> str:
    """A booktabs LaTeX tabular; the best mean, median and IQM per benchmark in bold.

    ``caption`` goes above as ``%`` comment lines: a tabular holds no caption, and the
    table environment around it is the paper's (copy the sentence into its ``\\caption``).
    """
    headers = [_latex_escape(h).replace("±", r"$\pm$") for h in _headers(quantity)]
    lines = [f"% {line}" for line in textwrap.wrap(caption, 98)] if caption else []
    lines += [r"\begin{tabular}{llr" + "r" * (len(headers) - 3) + "}", r"\toprule", " & ".join(headers) + r" \\",
              r"\midrule"]
    previous = None
    for cells in _cells(table, modes, ("\x01", "\x02")):
        if previous is not None and cells[0] != previous:
            lines.append(r"\midrule")
        previous = cells[0]
        escaped = [_latex_escape(c).replace("±", r"$\pm$").replace("–", "--")
                   .replace("\x01", r"\textbf{").replace("\x02", "}") for c in cells]
        lines.append(" & ".join(escaped) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def write_tables(table: "pd.DataFrame", modes: dict[str, str], out: Path, stem: str = "final_table",
                 quantity: str = "final best", caption: str | None = None) -> list[Path]:
    """Write ``<stem>.csv``, ``<stem>.md`` and ``<stem>.tex`` into ``out``; return their paths.

    ``quantity`` heads the statistic columns, ``caption`` says what the numbers are
    (see :func:`to_markdown`, :func:`to_latex`).
    """
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{stem}.csv", out / f"{stem}.md", out / f"{stem}.tex"]
    table.to_csv(paths[0], index=False)
    paths[1].write_text(to_markdown(table, modes, quantity, caption), encoding="utf-8")
    paths[2].write_text(to_latex(table, modes, quantity, caption), encoding="utf-8")
    return paths


#: Columns of the suite summary in its Markdown and LaTeX forms, with their headings.
_SUITE_HEADERS = (("setup", "method"), ("average_rank", "average rank"), ("n_instances", "instances"),
                  ("n_best", "best on"), ("wins", "wins"), ("ties", "ties"), ("losses", "losses"),
                  ("final_normalised_regret", "final normalised regret"))


def suite_caption(suite: "SuiteAnalysis") -> str:
    """What the suite tables' numbers are, in one paragraph."""
    n = len(suite.instances)
    seeds = (f"{suite.n_seeds.min()}" if suite.n_seeds.min() == suite.n_seeds.max()
             else f"{suite.n_seeds.min()}-{suite.n_seeds.max()}")
    return (f"Suite of {n} benchmark instances ({seeds} seeds each, averaged per instance). Average rank: the mean "
            f"over instances of each method's rank of its seed-mean final best (1 = best, ties share the average "
            f"rank). Best on: instances where it ranks first (shared firsts count). Wins / ties / losses: summed over "
            f"every other method and instance, comparing seed means. Final normalised regret: "
            f"{STATISTIC_NAMES.get(suite.statistic, suite.statistic)} over instances of the seed-mean regret at the "
            f"end of the budget, min-max normalised per instance (0 = the best value any run reached, 1 = the worst "
            f"best-so-far).")


def _suite_rows(suite: "SuiteAnalysis") -> list[list[str]]:
    rows = []
    for _, row in suite.summary_table().iterrows():
        cells = []
        for key, _heading in _SUITE_HEADERS:
            value = row[key]
            cells.append(str(value) if key == "setup" else
                         f"{value:.3f}" if key in ("average_rank", "final_normalised_regret") else str(int(value)))
        rows.append(cells)
    return rows


def _pairwise_cells(suite: "SuiteAnalysis") -> list[list[str]]:
    """Rows of the pairwise matrix: ``wins/ties/losses`` of the row method against the column method."""
    rows = []
    for i, a in enumerate(suite.setups):
        rows.append([a] + ["–" if i == j else f"{suite.wins[i, j]}/{suite.ties[i, j]}/{suite.wins[j, i]}"
                           for j in range(len(suite.setups))])
    return rows


def suite_markdown(suite: "SuiteAnalysis") -> str:
    """The suite summary and the pairwise wins / ties / losses as Markdown, under :func:`suite_caption`."""
    headers = [heading for _, heading in _SUITE_HEADERS]
    lines = [suite_caption(suite), "", "| " + " | ".join(headers) + " |",
             "|---|" + "---:|" * (len(headers) - 1)]
    lines += ["| " + " | ".join(cells) + " |" for cells in _suite_rows(suite)]
    lines += ["", f"Pairwise wins/ties/losses of the row method against the column method over "
                  f"{len(suite.instances)} instances:", "",
              "| | " + " | ".join(suite.setups) + " |", "|---|" + "---:|" * len(suite.setups)]
    lines += ["| " + " | ".join(cells) + " |" for cells in _pairwise_cells(suite)]
    return "\n".join(lines) + "\n"


def suite_latex(suite: "SuiteAnalysis") -> str:
    """The suite summary and the pairwise matrix as two booktabs tabulars, the caption as ``%`` comments."""
    headers = [_latex_escape(heading) for _, heading in _SUITE_HEADERS]
    lines = [f"% {line}" for line in textwrap.wrap(suite_caption(suite), 98)]
    lines += [r"\begin{tabular}{l" + "r" * (len(headers) - 1) + "}", r"\toprule", " & ".join(headers) + r" \\",
              r"\midrule"]
    lines += [" & ".join(_latex_escape(c) for c in cells) + r" \\" for cells in _suite_rows(suite)]
    lines += [r"\bottomrule", r"\end{tabular}", "",
              "% pairwise wins/ties/losses of the row method against the column method",
              r"\begin{tabular}{l" + "r" * len(suite.setups) + "}", r"\toprule",
              " & " + " & ".join(_latex_escape(s) for s in suite.setups) + r" \\", r"\midrule"]
    lines += [" & ".join(_latex_escape(c).replace("–", "--") for c in cells) + r" \\"
              for cells in _pairwise_cells(suite)]
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def write_suite_tables(suite: "SuiteAnalysis", out: Path) -> list[Path]:
    """Write ``suite_summary.csv|md|tex`` and ``suite_pairwise.csv`` into ``out``; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "suite_summary.csv", out / "suite_summary.md", out / "suite_summary.tex", out / "suite_pairwise.csv"]
    suite.summary_table().to_csv(paths[0], index=False)
    paths[1].write_text(suite_markdown(suite), encoding="utf-8")
    paths[2].write_text(suite_latex(suite), encoding="utf-8")
    suite.pairwise_table().to_csv(paths[3], index=False)
    return paths
