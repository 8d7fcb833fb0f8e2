"""The whole analysis, through the Python API and the command, on hand-made runs and a real sweep."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from mfbench.analysis.__main__ import main
from mfbench.analysis.pipeline import analyze

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "HYDRA_FULL_ERROR": "0"}
DATA_FILES = ["final_table.csv", "final_table.md", "final_table.tex", "statistics.json", "statistics.md",
              "ranks_over_time.csv", "trajectories.parquet", "runs.csv", "curves.parquet", "report.md"]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """A real sweep: 3 methods x 3 seeds on hartmann3 with a 1-hour simulated budget."""
    root = tmp_path_factory.mktemp("sweep")
    done = subprocess.run(
        [sys.executable, "-m", "mfbench", "-m", "method=asha_stop,asha_prom,random_search", "seed=0,1,2",
         "benchmark=hartmann3", "benchmark.max_wallclock_time=3600", "experiment_name=demo", "progress=false",
         f"hydra.sweep.dir={root / 'demo'}"],
        cwd=root, env=ENV, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return root / "demo"


def _nontrivial(path: Path, size: int) -> bool:
    return path.is_file() and path.stat().st_size > size


def test_command_on_a_real_sweep(sweep, capsys):
    assert main([str(sweep)]) == 0
    out = sweep / "analysis"
    printed = capsys.readouterr().out
    assert "9 finished runs" in printed and "final average ranks" in printed and str(out) in printed
    for name in ("anytime_hartmann3", "ranks", "cd_diagram"):
        assert (out / f"{name}.png").read_bytes().startswith(b"\x89PNG") and _nontrivial(out / f"{name}.png", 20_000)
        assert (out / f"{name}.pdf").read_bytes().startswith(b"%PDF") and _nontrivial(out / f"{name}.pdf", 5_000)
    for name in DATA_FILES:
        assert _nontrivial(out / name, 100), name
    trajectories = pd.read_parquet(out / "trajectories.parquet")
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 9 and len(trajectories) == runs["num_results"].sum()
    assert set(trajectories["method"]) == {"asha_stop", "asha_prom", "random_search"}
    one = trajectories[trajectories["run_id"] == 0]
    assert (one["best"].diff().dropna() <= 0).all()  # running minimum
    stats = json.loads((out / "statistics.json").read_text())
    assert stats["n_blocks"] == 3 and set(stats["average_ranks"]) == {"asha_stop", "asha_prom", "random_search"}
    assert stats["nemenyi"]["critical_difference"] > 0
    table = pd.read_csv(out / "final_table.csv")
    assert table["n_seeds"].tolist() == [3, 3, 3] and (table["real_seconds_total"] > 0).all()
    statistics = (out / "statistics.md").read_text()
    assert "ranked by their final best value (min) in each of 3 blocks" in statistics
    assert "The Friedman test asks whether the methods differ at all" in statistics
    assert "**Warning:** only 3 blocks" in statistics  # too few for power, said where the p-values are
    assert (out / "final_table.md").read_text().startswith("Final best value (min) of each run")
    # a second analysis of the same folder does not pick up the first one's output
    regret = sweep / "regret"
    assert main([str(sweep), "--no-plots", "-s", "median", "--regret", "table", "-o", str(regret)]) == 0
    assert "9 finished runs" in capsys.readouterr().out
    # every run records the table's best, over configurations x table seeds at the max fidelity
    meta = json.loads(next(sweep.glob("hartmann3/*/seed_0/metadata.json")).read_text())["blackbox"]
    assert meta["best_in_table_definition"] == "min of value over 1331 configurations x 3 table seeds at fidelity 100"
    assert meta["best_in_table"] <= meta["best_in_table_seed_mean"]
    caption = (regret / "final_table.md").read_text().splitlines()[0]
    assert caption.startswith("Final regret of value (min) w.r.t. the best value in the table (hartmann3: ")
    assert "best in table = min of value over 1331 configurations x 3 table seeds at fidelity 100" in caption
    assert pd.read_csv(regret / "final_table.csv")[["metric", "mode"]].drop_duplicates().values.tolist() == [
        ["value", "min"]]


def test_one_method_reads_sensibly(tmp_path, run_factory, capsys):
    root = tmp_path / "alone"
    for seed in (0, 1, 2):
        run_factory(root, "b", "A", seed, [1, 5], [2 + seed, 1 + seed])
    assert main([str(root), "--formats", "png"]) == 0
    printed = capsys.readouterr()
    assert "final average ranks" not in printed.out and "warning: [ranks]" not in printed.err
    out = root / "analysis"
    assert (out / "anytime_b.png").is_file()
    assert not (out / "ranks.png").exists() and not (out / "cd_diagram.png").exists()
    assert "One method (A) ran on every benchmark: there is nothing to rank it against" in (
        out / "statistics.md").read_text()
    assert "no rank plot or critical-difference diagram: 1 method(s)" in (out / "report.md").read_text()


def test_analyze_toy_runs_writes_everything(toy_runs, tmp_path):
    analysis = analyze(toy_runs, out=tmp_path / "out", statistic="mean", formats=("png",))
    names = {p.name for p in analysis.files}
    assert {"anytime_toy.png", "ranks.png", "final_table.md"} <= names
    assert "cd_diagram.png" in names  # blocks: seeds 0 and 1 (seed 2 lacks B)
    for path in analysis.files:
        assert _nontrivial(path, 50), path
    report = (tmp_path / "out" / "report.md").read_text()
    assert "missing-seeds" in report and "toy/B" in report


def test_command_errors_are_messages(tmp_path, capsys):
    assert main([str(tmp_path / "nothing")]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_module_alias_and_cheap_import():
    done = subprocess.run([sys.executable, "-m", "mfbench.analyze", "--help"], cwd=REPO, env=ENV,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "--statistic" in done.stdout
    probe = ("import sys, mfbench.analysis; "
             "print(sorted(m for m in ('pandas', 'matplotlib', 'scipy', 'pyarrow') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=ENV, capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip() == "[]", done.stderr
