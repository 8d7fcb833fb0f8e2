"""benchmarks/gp_memory.py: one run per checkout, measured by kind, and the report's comparison."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO, load_script

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads /proc (Linux)")


@pytest.fixture(scope="module")
def script():
    return load_script("benchmarks/gp_memory.py")


def _rows(out: Path) -> dict:
    return json.loads(sorted(out.glob("memory-*.json"))[0].read_text())


def test_measures_runs_of_two_checkouts_and_compares_their_results(script, tmp_path):
    # the baseline is this very checkout: the same results, and the same memory give or take
    argv = ["--methods", "asha_stop", "--benchmark", "hartmann6", "--budget", "3600", "--baseline", str(REPO),
            "--repeats", "2", "--out", str(tmp_path)]
    assert script.main(argv) == 0
    record = _rows(tmp_path)
    rows = record["rows"]
    assert [r["code"] for r in rows] == ["baseline", "this checkout", "this checkout", "baseline"]  # ABBA
    for row in rows:
        assert 20 < row["VmHWM_mb"] < 4000 and row["VmRSS_mb"] <= row["VmHWM_mb"] + 1e-9
        assert abs(row["RssAnon_mb"] + row["RssFile_mb"] - row["VmRSS_mb"]) < 2.0  # plus a little shared memory
        assert row["maxrss_mb"] >= 0.9 * row["VmHWM_mb"]  # wait4's reading also counts the launcher's pages
        assert row["cpu_s"] > 0 and row["final_best"] is not None
    assert len({r["results_sha256"] for r in rows}) == 1
    assert record["checkouts"]["baseline"]["commit"] == record["checkouts"]["this checkout"]["commit"]
    assert record["machine"]["cpus"] and record["failure"] is None
    text = sorted(tmp_path.glob("memory-*.md"))[0].read_text()
    assert "| asha_stop | 0 |" in text and "| yes |" in text and "peak ratio" in text and "commit `" in text


def _fake_checkout(root: Path, value: float) -> Path:
    """A 'checkout' whose ``python -m mfbench`` writes a run with best ``value`` and a marker."""
    package = root / "mfbench"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(textwrap.dedent(f"""
        import json, pathlib, sys
        run = pathlib.Path(next(a.split("=", 1)[1] for a in sys.argv if a.startswith("hydra.run.dir=")))
        run.mkdir(parents=True)
        (run / "metadata.json").write_text(json.dumps({{"best": {{"value": {value}}}}}))
        (run / "results.parquet").write_bytes(b"{value}")
        if {value} < 0:
            sys.exit(3)
    """))
    return root


def test_each_checkout_runs_its_own_code(script, tmp_path):
    """The baseline's mfbench runs, not this checkout's (installed in editable mode)."""
    baseline = _fake_checkout(tmp_path / "base", 0.25)
    assert script.main(["--methods", "asha_stop", "--benchmark", "hartmann6", "--budget", "600",
                        "--baseline", str(baseline), "--out", str(tmp_path / "out")]) == 0
    rows = {r["code"]: r for r in _rows(tmp_path / "out")["rows"]}
    assert rows["baseline"]["final_best"] == 0.25
    assert rows["this checkout"]["final_best"] != 0.25  # a real run of asha_stop
    text = sorted((tmp_path / "out").glob("memory-*.md"))[0].read_text()
    assert "**no**" in text  # different results.parquet


def test_a_failing_run_stops_the_script_after_reporting_the_runs_before(script, tmp_path):
    baseline = _fake_checkout(tmp_path / "base", -1.0)  # exits with an error
    with pytest.raises(SystemExit, match="run failed"):
        script.main(["--methods", "asha_stop", "--baseline", str(baseline), "--budget", "600",
                     "--out", str(tmp_path / "out")])
    record = _rows(tmp_path / "out")
    assert record["failure"].startswith("run failed") and record["rows"] == []
    assert "Stopped early" in sorted((tmp_path / "out").glob("memory-*.md"))[0].read_text()


def test_a_baseline_that_is_not_a_checkout_is_refused(script, tmp_path):
    with pytest.raises(SystemExit):
        script.main(["--baseline", str(tmp_path), "--out", str(tmp_path)])
