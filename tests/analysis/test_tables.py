"""The final table: hand-computed statistics and its Markdown, LaTeX and CSV forms."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from mfbench.analysis.load import load_results
from mfbench.analysis.tables import final_table, to_latex, to_markdown, write_tables


@pytest.fixture
def table(toy_runs):
    return final_table(load_results(toy_runs))


def test_final_table_values(table):
    a, b = (table[table["setup"] == s].iloc[0] for s in ("A", "B"))
    # A's final bests (4, 1, 2): mean 7/3, variance 7/3 -> SE sqrt(7/9), median 2, IQM 1/6 + 2*2/3 + 4/6
    assert a["n_seeds"] == 3
    assert a["mean"] == pytest.approx(7 / 3) and a["se"] == pytest.approx(math.sqrt(7 / 9))
    assert a["median"] == 2 and a["iqm"] == pytest.approx(13 / 6)
    assert a["real_seconds_mean"] == 2 and a["real_seconds_total"] == 6
    # B's final bests (2, 5): SE = std(ddof=1)/sqrt(2) = 1.5
    assert b["n_seeds"] == 2 and b["mean"] == 3.5 and b["se"] == pytest.approx(1.5) and b["iqm"] == 3.5
    assert b["real_seconds_total"] == 1


def test_final_table_regret(toy_runs):
    regret = final_table(load_results(toy_runs), references={"toy": 0.5})
    assert regret.set_index("setup").loc["A", "mean"] == pytest.approx(7 / 3 - 0.5)
    # what was optimised and the regret reference are columns too
    assert regret[["metric", "mode", "reference"]].values.tolist() == [["loss", "min", 0.5]] * 2


def test_captions_say_what_the_numbers_are(table):
    caption = "Final best loss (min) of each run."
    assert to_markdown(table, {"toy": "min"}, caption=caption).splitlines()[:3] == [caption, "", to_markdown(
        table, {"toy": "min"}).splitlines()[0]]
    latex = to_latex(table, {"toy": "min"}, caption="A 50% & long " * 20).splitlines()
    assert latex[0].startswith("% A 50% & long") and all(len(line) <= 100 for line in latex if line[0] == "%")
    assert latex[[line[0] == "%" for line in latex].index(False)].startswith("\\begin{tabular}")


def test_markdown_bolds_the_best(table):
    text = to_markdown(table, {"toy": "min"})
    lines = text.splitlines()
    assert lines[0].startswith("| benchmark | method | seeds | final best mean ± SE |")
    assert lines[2] == "| toy | A | 3 | **2.333 ± 0.88** | **2** | **2.167** | 2 | 6 |"
    assert lines[3] == "| toy | B | 2 | 3.5 ± 1.5 | 3.5 | 3.5 | 0.5 | 1 |"
    flipped = to_markdown(table, {"toy": "max"}).splitlines()
    assert flipped[3].startswith("| toy | B | 2 | **3.5 ± 1.5** |")


def test_latex_escapes_and_bolds(table):
    table = table.assign(setup=["asha_stop", "B&B"])
    text = to_latex(table, {"toy": "min"})
    assert text.startswith("\\begin{tabular}{llrrrrrr}\n\\toprule\n")
    assert "toy & asha\\_stop & 3 & \\textbf{2.333 $\\pm$ 0.88} & \\textbf{2} & \\textbf{2.167} & 2 & 6 \\\\" in text
    assert "B\\&B" in text and text.rstrip().endswith("\\end{tabular}")


def test_write_tables(table, tmp_path):
    paths = write_tables(table, {"toy": "min"}, tmp_path)
    assert [p.name for p in paths] == ["final_table.csv", "final_table.md", "final_table.tex"]
    back = pd.read_csv(paths[0])
    assert back["mean"].tolist() == pytest.approx(table["mean"].tolist())
