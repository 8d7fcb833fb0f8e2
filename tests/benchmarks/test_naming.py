"""A bring-your-own benchmark is named after its file / callable: run folders, metadata, analysis, status.

Also: two files with the same stem are refused, ``benchmark.name`` names one explicitly, the
name is not part of the fingerprint, and a run finished in the old ``table/`` folder is
recognised there, not recomputed.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mfbench.api import compose
from mfbench.blackbox.long_table import COMPRESSION_SUFFIXES
from mfbench.config import benchmark_name as naming
from mfbench.config.fingerprint import config_fingerprint
from mfbench.config.resolve import resolve_config
from mfbench.errors import ConfigError
from tests.blackbox.sources.byo_fixtures import SMALL_CSV_OVERRIDES, write_small_csv

REPO = Path(__file__).resolve().parents[2]
TABLE = ["benchmark=table", *SMALL_CSV_OVERRIDES, "progress=false", "method=random_search"]


def mfbench(cwd: Path, *args: str, module: str = "mfbench") -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HYDRA_FULL_ERROR": "0", "MFBENCH_CACHE": str(cwd / "cache")}
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def _tables(root: Path) -> None:
    for relative in ("a/curves.csv", "b/curves.csv", "other.csv"):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        write_small_csv(root / relative)


def _done(root: Path) -> list[str]:
    return sorted(p.parent.relative_to(root / "outputs").as_posix() for p in (root / "outputs").rglob("DONE"))


# ------------------------------------------------------------------------------ names
@pytest.mark.parametrize("path, name", [
    ("curves.csv", "curves"), ("data/curves.csv.gz", "curves"), ("/x/curves.parquet", "curves"),
    ("run.v2.tsv.bz2", "run.v2"), ("my curves (1).csv", "my_curves__1_"), (".hidden.csv", "hidden"),
])
def test_a_table_is_named_after_its_file_stem(path, name):
    assert naming.benchmark_name("table", {"path": path, "name": None}) == name


def test_callables_explicit_names_and_other_options():
    assert naming.benchmark_name("function", {"target": "pkg.mod.objective"}) == "objective"
    assert naming.benchmark_name("function", {"target": "dir/file.py:objective"}) == "objective"
    assert naming.benchmark_name("table", {"path": "a/curves.csv", "name": "curves_b"}) == "curves_b"
    # a benchmark YAML of its own keeps its option's name, even one built on function / table
    assert naming.benchmark_name("function_example", {"target": "m.synthetic_curve", "name": None}) == \
        "function_example"
    assert naming.benchmark_name("hartmann3", None) == "hartmann3"
    assert naming.benchmark_name("table", {"path": None}) == "table"  # no path yet: its own error comes later
    with pytest.raises(ConfigError, match=r"benchmark\.name='\.\./x' names the run folder.*benchmark\.name=_x"):
        naming.benchmark_name("table", {"path": "curves.csv", "name": "../x"})


def test_the_compression_suffixes_are_those_the_reader_knows():
    assert naming._COMPRESSION_SUFFIXES == COMPRESSION_SUFFIXES


def test_run_dirs_and_fingerprints(tmp_path):
    def composed(*overrides: str) -> tuple[str, str, str]:
        cfg = compose(list(overrides))
        return str(cfg.hydra.run.dir), str(cfg.hydra.sweep.subdir), config_fingerprint(resolve_config(cfg))

    run_dir, subdir, fingerprint = composed("benchmark=table", f"benchmark.path={tmp_path}/curves.csv.gz")
    assert run_dir == "outputs/default/curves/asha_stop/seed_0" and subdir == "curves/asha_stop/seed_0"
    named = composed("benchmark=table", f"benchmark.path={tmp_path}/curves.csv.gz", "benchmark.name=mine")
    assert named[0] == "outputs/default/mine/asha_stop/seed_0"
    assert named[2] == fingerprint  # the name only says where a run is stored
    assert composed("benchmark=hartmann3")[0] == "outputs/default/hartmann3/asha_stop/seed_0"
    assert composed("benchmark=function_example")[0] == "outputs/default/function_example/asha_stop/seed_0"
    function = composed("benchmark=function", "benchmark.target=mfbench.examples.learning_curves.synthetic_curve",
                        "benchmark.hyperparameters=[{name: x, type: float, lower: 0, upper: 1}]",
                        "benchmark.max_fidelity=3")
    assert function[0] == "outputs/default/synthetic_curve/asha_stop/seed_0"


def test_a_table_config_without_a_name_key_keeps_its_fingerprint(tmp_path):
    # a table run finished before benchmark.name existed is recognised by the same fingerprint
    config = resolve_config(compose(["benchmark=table", f"benchmark.path={tmp_path}/curves.csv"]))
    before = {**config, "benchmark": {k: v for k, v in config["benchmark"].items() if k != "name"}}
    assert config_fingerprint(before) == config_fingerprint(config)


def test_the_analysis_names_old_table_runs_after_their_file():
    from mfbench.analysis.load import _benchmark_name

    assert _benchmark_name({"benchmark": "table", "config": {"benchmark": {"path": "x/curves.csv"}}}) == "curves"
    assert _benchmark_name({"benchmark": "curves_b", "config": {"benchmark": {"path": "c.csv", "name": "curves_b"}}}) \
        == "curves_b"
    assert _benchmark_name({"benchmark": "hartmann3", "config": {}}) == "hartmann3"


# ------------------------------------------------------------------------ end to end
def test_two_tables_in_one_sweep_are_two_benchmarks(tmp_path):
    from mfbench.analysis.load import load_results

    _tables(tmp_path)
    done = mfbench(tmp_path, "-m", *TABLE, "benchmark.path=a/curves.csv,other.csv", "seed=0,1")
    assert done.returncode == 0, done.stderr
    assert _done(tmp_path) == [f"default/{name}/random_search/seed_{seed}" for name in ("curves", "other")
                               for seed in (0, 1)]
    metadata = json.loads((tmp_path / "outputs/default/curves/random_search/seed_0/metadata.json").read_text())
    assert metadata["benchmark"] == "curves"
    assert metadata["benchmark_source"] == str((tmp_path / "a/curves.csv").resolve())
    assert load_results(tmp_path / "outputs/default").benchmarks == ["curves", "other"]
    status = mfbench(tmp_path, "outputs/default", "--all", module="mfbench.status")
    assert "other/random_search/seed_1" in status.stdout and "4 done" in status.stdout, status.stdout + status.stderr


def test_two_files_with_one_stem_are_refused_with_the_fix(tmp_path):
    _tables(tmp_path)
    refused = mfbench(tmp_path, "-m", *TABLE, "benchmark.path=a/curves.csv,b/curves.csv")
    assert refused.returncode != 0 and not (tmp_path / "outputs/default/curves").exists()
    assert "are both named 'curves'" in refused.stderr and "benchmark.name=NAME" in refused.stderr
    assert mfbench(tmp_path, *TABLE, "benchmark.path=a/curves.csv").returncode == 0
    # later, into the same study: a single run and a sweep are refused too (another method: another folder)
    for args in ([], ["-m"]):
        later = mfbench(tmp_path, *args, *TABLE, "benchmark.path=b/curves.csv", "method=asha_stop")
        assert later.returncode != 0 and "b/curves.csv', are both named 'curves'" in later.stderr, later.stderr
    named = mfbench(tmp_path, *TABLE, "benchmark.path=b/curves.csv", "benchmark.name=curves_b")
    assert named.returncode == 0, named.stderr
    assert _done(tmp_path) == ["default/curves/random_search/seed_0", "default/curves_b/random_search/seed_0"]


def test_a_run_finished_in_the_old_table_folder_is_not_recomputed(tmp_path):
    _tables(tmp_path)
    old = "outputs/default/table/random_search/seed_0"
    assert mfbench(tmp_path, *TABLE, "benchmark.path=a/curves.csv", f"hydra.run.dir={old}").returncode == 0
    before = (tmp_path / old / "DONE").stat().st_mtime_ns
    again = mfbench(tmp_path, *TABLE, "benchmark.path=a/curves.csv")
    assert again.returncode == 0 and f"already finished in {tmp_path / old}" in again.stdout, again.stdout
    sweep = mfbench(tmp_path, "-m", *TABLE, "benchmark.path=a/curves.csv,other.csv")
    assert sweep.returncode == 0, sweep.stderr
    assert _done(tmp_path) == ["default/other/random_search/seed_0", "default/table/random_search/seed_0"]
    assert (tmp_path / old / "DONE").stat().st_mtime_ns == before
    status = mfbench(tmp_path, "outputs/default", module="mfbench.status")
    assert "2 done" in status.stdout and "Complete" in status.stdout, status.stdout
    # another table in the old folder is not this run: it is computed in its own folder
    assert mfbench(tmp_path, *TABLE, "benchmark.path=b/curves.csv", "benchmark.name=b").returncode == 0
    assert (tmp_path / "outputs/default/b/random_search/seed_0/DONE").exists()
