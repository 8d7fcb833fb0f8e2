"""End to end through ``python -m mfbench``, as a user runs it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

REPO = Path(__file__).resolve().parents[1]
FAST = ["benchmark=hartmann3", "benchmark.max_wallclock_time=3600", "progress=false"]


def mfbench(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HYDRA_FULL_ERROR": "0"}
    return subprocess.run([sys.executable, "-m", "mfbench", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def _run_dir(root: Path, method: str = "asha_stop", seed: int = 0, experiment: str = "default") -> Path:
    return root / "outputs" / experiment / "hartmann3" / method / f"seed_{seed}"


def _without_real_time(metadata: dict) -> dict:
    return {k: v for k, v in metadata.items() if k != "real_time"}


def test_run_writes_results_metadata_marker_and_summary(tmp_path):
    done = mfbench(tmp_path, *FAST, "method=asha_prom", "seed=3")
    assert done.returncode == 0, done.stderr
    run_dir = _run_dir(tmp_path, "asha_prom", 3)
    assert {"results.parquet", "metadata.json", "DONE"} <= {p.name for p in run_dir.iterdir()}
    assert "best value (min)" in done.stdout and str(run_dir) in done.stdout
    table = pq.read_table(run_dir / "results.parquet")
    assert {"trial_id", "worker", "epoch", "value", "elapsed_time", "sim_time", "decision", "config_x0"} <= set(
        table.column_names)
    metadata = json.loads((run_dir / "metadata.json").read_text())
    assert metadata["method"] == "asha_prom" and metadata["seed"] == 3 and metadata["benchmark"] == "hartmann3"
    assert metadata["num_results"] == table.num_rows > 0
    assert max(table.column("sim_time").to_pylist()) <= 3600
    assert metadata["versions"]["numpy"] and metadata["config"]["method"]["type"] == "promotion"


def test_same_seed_is_bit_identical_and_other_seeds_differ(tmp_path):
    for experiment, seed in [("a", 1), ("b", 1), ("c", 2)]:
        assert mfbench(tmp_path, *FAST, f"experiment_name={experiment}", f"seed={seed}").returncode == 0
    a, b, c = (_run_dir(tmp_path, seed=s, experiment=e) for e, s in [("a", 1), ("b", 1), ("c", 2)])
    assert (a / "results.parquet").read_bytes() == (b / "results.parquet").read_bytes()
    meta_a, meta_b = (json.loads((d / "metadata.json").read_text()) for d in (a, b))
    meta_a["config"].pop("experiment_name"), meta_b["config"].pop("experiment_name")
    meta_a.pop("experiment"), meta_b.pop("experiment"), meta_a.pop("config_fingerprint"), meta_b.pop("config_fingerprint")
    assert _without_real_time(meta_a) == _without_real_time(meta_b)
    assert (a / "results.parquet").read_bytes() != (c / "results.parquet").read_bytes()


def test_rerun_of_a_finished_run_is_skipped_and_a_changed_one_refused(tmp_path):
    assert mfbench(tmp_path, *FAST).returncode == 0
    results = _run_dir(tmp_path) / "results.parquet"
    before = results.stat().st_mtime_ns
    again = mfbench(tmp_path, *FAST)
    assert again.returncode == 0 and "skipping" in again.stdout
    changed = mfbench(tmp_path, *FAST, "method.reduction_factor=2")
    assert changed.returncode == 2 and "different configuration" in changed.stderr
    assert results.stat().st_mtime_ns == before
    replaced = mfbench(tmp_path, *FAST, "method.reduction_factor=2", "overwrite=true")
    assert replaced.returncode == 0 and results.stat().st_mtime_ns != before


@pytest.mark.parametrize(
    "override,message",
    [
        ("method=nope", "unknown method 'nope'; method options (conf/method/): "),
        ("n_workers=-1", "n_workers must be >= 1"),
        ("n_workrs=2", "unknown group or key 'n_workrs' (did you mean n_workers?)"),
        ("+n_workrs=2", "unknown group or key 'n_workrs' (did you mean n_workers?)"),  # Hydra adds it; nobody reads it
        ("+method.grace_perod=2", "method.grace_perod: unknown option for mfbench.schedulers.asha.ASHA (did you mean "
                                  "method.grace_period?)"),
        ("seed=abc", "could not be converted to Integer"),
        ("stopping.max_num_evaluations=0", "max_num_evaluations must be >= 1"),
        ("benchmark.max_wallclock_time=-5", "max_wallclock_time must be > 0"),
    ],
)
def test_bad_input_fails_fast_with_a_clear_message(tmp_path, override, message):
    done = mfbench(tmp_path, *FAST, override)
    assert done.returncode != 0
    assert message in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "outputs" / "default" / "hartmann3" / "asha_stop" / "seed_0" / "DONE").exists()


def test_unknown_method_lists_the_available_ones(tmp_path):
    done = mfbench(tmp_path, "method=nope")
    for name in ("asha_stop", "asha_prom", "asha6_stop", "random_search"):
        assert name in done.stderr


@pytest.mark.parametrize("override,headline,listing", [
    ("method=asha_promo", "unknown method 'asha_promo' (did you mean asha_prom?)",
     "method options (conf/method/): asha6_stop, asha_prom, asha_stop, bohb,"),
    ("benchmark=hartman6", "unknown benchmark 'hartman6' (did you mean hartmann6?)",
     "yahpo_lcbench, yahpo_lcbench_<task> (34 tasks: 3945, 7593, 34539, ..., 189909)"),
    ("benchmark=yahpo_lcbench_3946", "unknown benchmark 'yahpo_lcbench_3946' (did you mean yahpo_lcbench_3945?)",
     "benchmark options (conf/benchmark/): "),
    ("experiment=quik", "unknown experiment 'quik' (did you mean quick?)", "experiment options (conf/experiment/): "),
    ("methd=asha_stop", "unknown group or key 'methd' (did you mean method?)",
     "groups and keys: benchmark, method, backend, stopping, seed, n_workers"),
    ("method.grace_perod=2", "unknown key 'method.grace_perod' (did you mean method.grace_period?)",
     "keys of method: type, brackets, grace_period, reduction_factor, searcher"),
])
def test_a_typo_in_a_single_run_is_one_line_with_a_did_you_mean(tmp_path, override, headline, listing):
    done = mfbench(tmp_path, *FAST, override)
    assert done.returncode == 2
    assert done.stderr.startswith(f"mfbench: error: {headline}; ") and listing in done.stderr
    assert done.stderr.count("\n") == 1  # one line: no search path, no option per line, no traceback
    assert not (tmp_path / "outputs").exists()


def test_typos_are_explained_in_every_mode_and_other_hydra_errors_stay_hydras(tmp_path):
    for mode in (["-m", "hydra.sweeper.dry_run=true"], ["--cfg", "job"], ["--help"]):
        done = mfbench(tmp_path, *mode, "methd=asha_stop")
        assert done.returncode == 2 and done.stderr.startswith("mfbench: error: unknown group or key 'methd'"), mode
    swept = mfbench(tmp_path, "-m", "hydra.sweeper.dry_run=true", "method=asha_stop,asha_promo", "seed=0,1")
    assert swept.returncode == 2
    assert "unknown method 'asha_promo' (2 runs; did you mean asha_prom?)" in swept.stderr
    assert mfbench(tmp_path, "--cfg", "job", "method=asha_prom").returncode == 0
    wrong_type = mfbench(tmp_path, "seed=abc")
    assert wrong_type.returncode == 1 and "could not be converted to Integer" in wrong_type.stderr
    full = subprocess.run([sys.executable, "-m", "mfbench", "method=asha_promo"], cwd=tmp_path, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(REPO), "HYDRA_FULL_ERROR": "1"})
    assert full.returncode == 1 and "Traceback" in full.stderr  # whoever asks for the full error gets it


def test_help_is_fast_and_does_not_import_heavy_packages(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    code = ("import sys, runpy; sys.argv=['mfbench','--help']\n"
            "try:\n runpy.run_module('mfbench', run_name='__main__')\nexcept SystemExit: pass\n"
            "heavy = [m for m in ('torch','gpytorch','pandas','pyarrow','matplotlib','scipy') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert "HEAVY []" in done.stdout, done.stdout + done.stderr
    assert "benchmark" in done.stdout and "method" in done.stdout


def test_ctrl_c_ends_with_a_line_and_status_130_not_a_traceback(monkeypatch, capsys):
    import mfbench.cli.main as cli_main

    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_main, "_main", interrupted)
    monkeypatch.setattr(cli_main.sys, "argv", ["mfbench", "method=asha_stop"])
    with pytest.raises(SystemExit) as stopped:
        cli_main.main()
    assert stopped.value.code == 130
    assert "interrupted by Ctrl-C: finished runs are kept" in capsys.readouterr().err


@pytest.mark.parametrize("overrides, message", [
    (["benchmark=nas201_offline_cifar100", "benchmark.max_fidelity=300"],
     "benchmark.max_fidelity=300 is not a fidelity of the blackbox"),
    (["benchmark.metric=foo"], "benchmark.metric='foo' is not an objective of this benchmark; its objectives are"),
    (["benchmark.blackbox.grid_size=1"], "benchmark.blackbox: hartmann_blackbox: need grid_size >= 2"),
    (["stopping.max_wallclock_time=inf", "stopping.max_num_evaluations=null"],
     "without a wall-clock budget (max_wallclock_time=inf) the run needs another limit"),
    (["method.reduction_factor=1.5"], "method.reduction_factor >= 2"),
])
def test_impossible_values_met_when_the_run_is_built_are_one_line_errors(tmp_path, overrides, message):
    """Values checked when the benchmark opens or the stopping criterion is resolved, not by the
    config schema: a one-line error and status 2, not a traceback."""
    done = mfbench(tmp_path, *FAST, "method=asha_stop", *overrides)
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]  # (after a note that the offline table is being built)
    assert last.startswith("mfbench: error: ") and message in last and "Traceback" not in done.stderr


def test_a_launcher_option_out_of_range_is_a_one_line_error(tmp_path):
    done = mfbench(tmp_path, "-m", *FAST, "method=asha_stop", "seed=0,1", "hydra/launcher=local",
                   "hydra.launcher.runs_per_job=0")
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "mfbench: error: hydra.launcher.runs_per_job must be >= 1, got 0"
