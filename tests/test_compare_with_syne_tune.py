"""benchmarks/compare_with_syne_tune.py: variants, statistics and the report, without Syne Tune.

The reference side comes from hand-written cache files (the script's ``--skip-reference``
mode), our side from real ``python -m mfbench`` runs on the analytic Hartmann-3 table.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import load_script


@pytest.fixture(scope="module")
def script():
    return load_script("benchmarks/compare_with_syne_tune.py")


def test_variants_are_parsed_and_applied_only_where_the_options_exist(script):
    args = script.parse_args(["--variant", "exact=opt_refit_growth=0,opt_warmstart=false"])
    assert args.variants == {"default": {}, "exact": {"opt_refit_growth": "0", "opt_warmstart": "false"}}
    assert script.variants_of(args, "mobster_joint") == ["default", "exact"]
    assert script.variants_of(args, "asha_stop") == ["default"]  # random searcher: no GP options


def test_backend_variants_apply_to_every_method(script):
    args = script.parse_args(["--variant", "poll5=backend.poll_interval=5",
                              "--variant", "both=backend.poll_interval=5,opt_warmstart=false"])
    assert script.variants_of(args, "asha_stop") == ["default", "poll5"]
    assert script.variants_of(args, "mobster_joint") == ["default", "poll5", "both"]
    assert script._command_overrides(args.variants["both"]) == ["backend.poll_interval=5",
                                                                "method.searcher.opt_warmstart=false"]


@pytest.mark.parametrize("bad", ["default=x=1", "=a=1", "fast=opt_refit_growth"])
def test_a_malformed_variant_is_refused(script, bad, capsys):
    with pytest.raises(SystemExit):
        script.parse_args(["--variant", bad])
    assert "--variant" in capsys.readouterr().err


def test_z_is_positive_when_ours_is_worse(script):
    assert script.mean_se([1.0, 3.0]) == (2.0, 1.0)
    assert script.z_worse([3.0, 5.0], [1.0, 3.0], sign=1.0) == pytest.approx(2.0 / math.sqrt(2.0))
    assert script.z_worse([3.0, 5.0], [1.0, 3.0], sign=-1.0) == pytest.approx(-2.0 / math.sqrt(2.0))


def test_report_from_cached_reference_runs(script, tmp_path):
    budget, workers = 200, 2
    reference = {0: -2.0, 1: -2.5}
    for suffix, seeds in (("", (0, 1)), ("-charged", (0,))):
        for seed in seeds:
            path = tmp_path / "results" / "reference" / f"hartmann3-{budget}s-{workers}w{suffix}" / "asha_stop"
            path.mkdir(parents=True, exist_ok=True)
            (path / f"seed_{seed}.json").write_text(json.dumps(
                {"final_best": reference[seed], "real_time_s": 1.0, "process_wall_s": 3.0, "process_cpu_s": 2.5}))
    argv = ["--benchmark", "hartmann3", "--methods", "asha_stop", "--seeds", "2", "--budget", str(budget),
            "--n-workers", str(workers), "--timing-seeds", "1", "--timing-budget", str(budget),
            "--timing-charge", "on", "--cached-timing", "--skip-reference", "--name", "t",
            "--results-dir", str(tmp_path / "results"), "--table-dir", str(tmp_path / "tables")]
    summary = script.main(argv)

    (row,) = summary["quality"]
    assert row["reference"]["values"] == [-2.0, -2.5]
    ours = row["default"]["values"]
    assert len(ours) == 2 and all(-4.5 < v < 0 for v in ours)  # Hartmann-3: minimum -3.86, plus noise
    (timing,) = summary["timing"]
    assert timing["speedup"] == pytest.approx(1.0 / timing["ours"]["real_time_s"])
    # our side of tuner.run(): the simulation alone, after building the objects and opening the table
    (run,) = timing["runs"]["ours"]
    assert timing["ours"]["loop_s"] == pytest.approx(run["simulation_s"])
    assert 0.0 < run["simulation_s"] < timing["ours"]["real_time_s"]
    assert timing["speedups"]["loop_s"] == pytest.approx(1.0 / timing["ours"]["loop_s"])
    assert [r["final_best"] for r in timing["runs"]["reference"]] == [-2.0]
    report = (tmp_path / "results" / "compare" / f"hartmann3-{workers}w" / "t.md").read_text()
    assert "| asha_stop | -2.2500 ± 0.2500 |" in report and "charge on" in report and "w/o imports" in report
    cached = sorted((tmp_path / "results" / "ours").rglob("seed_*.json"))
    assert len(cached) == 2 and json.loads(cached[0].read_text())["code"] == script.code_fingerprint()

    again = script.main(argv)  # our runs now come from the cache, with the same values
    assert again["quality"][0]["default"]["values"] == ours
    assert "Simulation volume" not in report  # the hand-written reference runs carry no counts


def test_the_report_compares_trials_and_results_where_both_sides_count_them(script, tmp_path):
    budget, counts = 300, {0: (40, 200), 1: (44, 220)}
    path = tmp_path / "results" / "reference" / f"hartmann3-{budget}s-4w" / "asha_stop"
    path.mkdir(parents=True)
    for seed, (trials, results) in counts.items():
        (path / f"seed_{seed}.json").write_text(json.dumps({"final_best": -2.0, "real_time_s": 1.0,
                                                            "num_trials": trials, "num_results": results}))
    summary = script.main(["--benchmark", "hartmann3", "--methods", "asha_stop", "--seeds", "2", "--budget",
                           str(budget), "--timing-seeds", "0", "--skip-reference", "--name", "v",
                           "--results-dir", str(tmp_path / "results"), "--table-dir", str(tmp_path / "tables")])
    (row,) = summary["quality"]
    assert row["reference"]["volume"]["num_trials"]["mean"] == 42.0
    ours = row["default"]["volume"]["num_trials"]
    assert ours["z"] == pytest.approx(script.z_worse(ours["values"], [40, 44], 1.0)) and len(ours["values"]) == 2
    report = (tmp_path / "results" / "compare" / "hartmann3-4w" / "v.md").read_text()
    assert "Simulation volume" in report and "| asha_stop | trials | 42.0 ± 2.0 |" in report
    assert "| asha_stop | results | 210.0 ± 10.0 |" in report


def test_runs_of_earlier_code_are_carried_over_only_once_a_rerun_matches(script, tmp_path):
    argv = ["--benchmark", "hartmann3", "--methods", "asha_stop", "--seeds", "3", "--budget", "200",
            "--n-workers", "2", "--timing-seeds", "0", "--only", "ours", "--results-dir", str(tmp_path)]
    script.main(argv)
    with pytest.raises(SystemExit):
        script.parse_args(argv + ["--carry-over", "0123456789abcdef"])  # no variant named
    cached = sorted((tmp_path / "ours").rglob("seed_*.json"))
    runs = [json.loads(path.read_text()) for path in cached]
    for path, run in zip(cached, runs):  # as if an earlier code had made them
        path.write_text(json.dumps({**run, "code": "0123456789abcdef"}))

    assert script.main(argv) == {}  # without --carry-over: all rerun
    assert all(json.loads(p.read_text())["code"] == script.code_fingerprint() for p in cached)

    for path, run in zip(cached, runs):
        path.write_text(json.dumps({**run, "code": "0123456789abcdef"}))
    assert script.parse_args(argv + ["--carry-over", "exact=0123456789abcdef"]).carry_over == {
        "exact": {"0123456789abcdef"}}
    args = script.parse_args(argv + ["--carry-over", "exact=0123456789abcdef"])  # another variant: all rerun
    assert script.run_ours(args, "hartmann3", "asha_stop", "default", 1, 2, 200.0, cached[1],
                           rerun=False).get("carried_over") is None
    cached[1].write_text(json.dumps({**runs[1], "code": "0123456789abcdef"}))
    args = script.parse_args(argv + ["--carry-over", "default=0123456789abcdef"])
    loaded = [script.run_ours(args, "hartmann3", "asha_stop", "default", s, 2, 200.0, cached[s], rerun=False)
              for s in range(3)]
    # seed 0 was rerun (and now is this code's); seeds 1 and 2 were carried over on its match
    assert json.loads(cached[0].read_text())["code"] == script.code_fingerprint()
    assert [r.get("carried_over") for r in loaded] == [None, "0123456789abcdef", "0123456789abcdef"]
    assert [r["final_best"] for r in loaded] == [r["final_best"] for r in runs]
    assert "3 runs were carried over" not in "".join(script.carry_over_note(loaded))
    assert "2 runs were carried over from earlier code 0123456789abcdef" in "".join(script.carry_over_note(loaded))
    # a later script run finds the group checked (seed 0's rerun is marked) and reruns nothing
    assert json.loads(cached[0].read_text())["carry_over_check"] == "0123456789abcdef"
    args = script.parse_args(argv + ["--carry-over", "default=0123456789abcdef"])
    again = script.run_ours(args, "hartmann3", "asha_stop", "default", 2, 2, 200.0, cached[2], rerun=False)
    assert again["carried_over"] == "0123456789abcdef" and again["carry_over_verified_by_seed"] == 0

    # a cached run the current code does not reproduce is refused, naming what differs
    cached[0].write_text(json.dumps({**runs[0], "code": "0123456789abcdef", "num_results": runs[0]["num_results"] + 1}))
    args = script.parse_args(argv + ["--carry-over", "default=0123456789abcdef"])
    with pytest.raises(SystemExit, match=r"differs in \['num_results'\]"):
        script.run_ours(args, "hartmann3", "asha_stop", "default", 0, 2, 200.0, cached[0], rerun=False)


def test_in_run_without_imports_subtracts_only_our_one_off_import(script):
    assert script.loop_seconds({"real_time_s": 5.0, "import_s": 2.0}, "ours") == pytest.approx(3.0)
    assert script.loop_seconds({"real_time_s": 5.0}, "ours") == pytest.approx(5.0)  # cached runs of older code
    assert script.loop_seconds({"real_time_s": 5.0, "import_s": 2.0}, "reference") == pytest.approx(5.0)


def test_yahpo_lcbench_gives_the_reference_the_same_surrogate(script, converted_fixtures):
    """A YAHPO LCBench benchmark is not exported: the reference runner gets the model folder and task."""
    from tests.conftest import FIXTURES

    cached = script.open_benchmark("yahpo_lcbench_189908")
    assert script.yahpo_lcbench_source(cached) == [
        "--yahpo-lcbench", str((converted_fixtures / "yahpo_lcbench").resolve()), "--instance", "189908"]
    vendored = script.open_benchmark("yahpo_lcbench", ["benchmark.blackbox.data_dir=tests/data/yahpo-lcbench"])
    assert script.yahpo_lcbench_source(vendored) == [
        "--yahpo-lcbench", str((FIXTURES / "yahpo-lcbench").resolve()), "--instance", "3945"]
    assert script.yahpo_lcbench_source(script.open_benchmark("hartmann3")) is None  # a table: exported


def test_report_on_yahpo_lcbench_from_cached_reference_runs(script, tmp_path, converted_fixtures):
    budget, workers = 300, 2
    path = tmp_path / "results" / "reference" / f"yahpo_lcbench-{budget}s-{workers}w" / "asha_prom"
    path.mkdir(parents=True)
    for seed, best in ((0, 90.0), (1, 91.0)):
        (path / f"seed_{seed}.json").write_text(json.dumps({"final_best": best, "real_time_s": 1.0}))
    argv = ["--benchmark", "yahpo_lcbench", "--benchmark-override", "benchmark.blackbox.data_dir=tests/data/yahpo-lcbench",
            "--methods", "asha_prom", "--seeds", "2", "--budget", str(budget), "--n-workers", str(workers),
            "--timing-seeds", "0", "--skip-reference", "--name", "t", "--results-dir", str(tmp_path / "results"),
            "--table-dir", str(tmp_path / "tables")]
    summary = script.main(argv)
    assert summary["reference_blackbox"] == "yahpo_lcbench_blackbox"
    assert not (tmp_path / "tables").exists()  # nothing exported
    ours = summary["quality"][0]["default"]["values"]
    assert len(ours) == 2 and all(0.0 < v <= 100.0 for v in ours)  # val_accuracy in %
    report = (tmp_path / "results" / "compare" / f"yahpo_lcbench-{workers}w" / "t.md").read_text()
    assert "same YAHPO LCBench ONNX surrogate" in report and "| asha_prom | 90.5000 ± 0.5000 |" in report


def test_a_malformed_benchmark_override_is_refused(script, capsys):
    with pytest.raises(SystemExit):
        script.parse_args(["--benchmark-override", "n_workers=3"])
    assert "benchmark.KEY=VALUE" in capsys.readouterr().err


def test_the_reference_runs_with_the_blas_threads_it_records(script, tmp_path, monkeypatch):
    """Each reference process gets the asked thread count in its environment, and its cached run says so."""
    seen = {}

    def fake_run(cmd, **kwargs):
        seen["env"] = kwargs.get("env")
        out = Path(cmd[cmd.index("--out") + 1])
        out.with_suffix(".json").write_text(json.dumps({"final_best": 0.5, "real_time_s": 1.0}))
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(script.subprocess, "run", fake_run)
    runner = tmp_path / "runner.py"
    runner.write_text("")
    for threads, expected in ((1, {"blas_threads": 1}), (0, {})):
        args = script.parse_args(["--methods", "asha_stop", "--reference-blas-threads", str(threads),
                                  "--reference-python", sys.executable, "--reference-runner", str(runner)])
        cache = tmp_path / f"seed_{threads}.json"
        result = script.run_reference(args, ["--table", "t.parquet"], "asha_stop", 0, 4, 100.0, False, cache, False)
        assert {k: v for k, v in result.items() if k == "blas_threads"} == expected
        assert json.loads(cache.read_text()).get("blas_threads") == expected.get("blas_threads")
        if threads:
            assert all(seen["env"][name] == "1" for name in script.BLAS_THREAD_VARIABLES)
        else:
            assert seen["env"] is None  # this process's own environment


def test_the_reference_output_is_kept_on_request(script, tmp_path, monkeypatch):
    """--keep-reference-output copies the run's parquet and summary before the temporary folder goes."""
    def fake_run(cmd, **kwargs):
        out = Path(cmd[cmd.index("--out") + 1])
        out.write_bytes(b"PAR1 results")
        out.with_suffix(".json").write_text(json.dumps({"final_best": 0.5, "real_time_s": 1.0}))
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(script.subprocess, "run", fake_run)
    runner = tmp_path / "runner.py"
    runner.write_text("")
    kept = tmp_path / "kept"
    args = script.parse_args(["--methods", "asha_stop", "--reference-python", sys.executable,
                              "--reference-runner", str(runner), "--keep-reference-output", str(kept)])
    script.run_reference(args, ["--table", "t.parquet"], "asha_stop", 3, 4, 100.0, False, tmp_path / "c.json", False)
    assert (kept / "asha_stop-3.parquet").read_bytes() == b"PAR1 results"
    assert json.loads((kept / "asha_stop-3.json").read_text())["final_best"] == 0.5


def test_from_seed_only_fills_a_cache(script):
    """--from-seed lets a second lane take the upper seeds; a report (no --only) needs all of them."""
    assert script.parse_args(["--only", "reference", "--seeds", "10", "--from-seed", "5"]).from_seed == 5
    for argv in (["--seeds", "10", "--from-seed", "5"], ["--only", "ours", "--seeds", "10", "--from-seed", "10"]):
        with pytest.raises(SystemExit):
            script.parse_args(argv)


def test_the_cached_reference_run_records_the_reference_versions(script, tmp_path, monkeypatch):
    """The versions the runner reports (SciPy, autograd, ... decide its numbers) are kept in the cache."""
    versions = {"syne-tune": "0.13.0", "numpy": "1.23.5", "scipy": "1.15.3", "autograd": "1.9.1"}

    def fake_run(cmd, **kwargs):
        out = Path(cmd[cmd.index("--out") + 1])
        out.with_suffix(".json").write_text(json.dumps({"final_best": 0.5, "real_time_s": 1.0,
                                                        "reference_versions": versions, "table": "ignored"}))
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(script.subprocess, "run", fake_run)
    runner = tmp_path / "runner.py"
    runner.write_text("")
    args = script.parse_args(["--methods", "asha_stop", "--reference-python", sys.executable,
                              "--reference-runner", str(runner)])
    cache = tmp_path / "seed_0.json"
    script.run_reference(args, ["--table", "t.parquet"], "asha_stop", 0, 4, 100.0, False, cache, False)
    stored = json.loads(cache.read_text())
    assert stored["reference_versions"] == versions and "table" not in stored


def test_the_runner_reports_the_installed_versions():
    from tests.conftest import load_script

    runner = load_script("benchmarks/reference/syne_tune_runner.py")
    versions = runner.reference_versions()
    assert set(versions) == set(runner.REFERENCE_DISTRIBUTIONS)
    import numpy

    assert versions["numpy"] == numpy.__version__  # this venv's: the function reads whatever is installed
