"""Issue #13's "done when": a researcher's own method, from nothing to a comparison, following only the docs.

In a temporary folder outside the repository the test writes the method's file and YAML as
docs/writing-a-method.md shows them, then runs the commands at the top of that page, verbatim:
the contract check, a sweep of the method against two reference methods, and the analysis. The
outputs must exist and name the new method.
"""
from __future__ import annotations

import csv
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GUIDE = REPO / "docs" / "writing-a-method.md"


def _guide_commands() -> list[list[str]]:
    """The commands of the guide's first bash block, comments removed, ``python`` = this interpreter."""
    block = re.search(r"```bash\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)
    assert block is not None, "docs/writing-a-method.md lost its first bash block"
    commands = []
    for line in block.group(1).splitlines():
        words = shlex.split(line, comments=True)
        if words:
            assert words[0] == "python", line
            commands.append([sys.executable, *words[1:]])
    return commands


def _guide_files() -> dict[str, str]:
    return dict(re.findall(r"<!-- file: (\S+) -->\n```\w+\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S))


def test_own_method_from_a_file_to_a_comparison(tmp_path: Path) -> None:
    folder = tmp_path / "my_folder"
    for name, text in _guide_files().items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    assert (folder / "my_method.py").is_file() and (folder / "conf" / "method" / "my_method.yaml").is_file()

    check, run, sweep, analysis = _guide_commands()
    assert check[1:3] == ["-m", "mfbench.check"] and sweep[1:3] == ["-m", "mfbench"] and "-m" in sweep[3:]
    assert analysis[1:3] == ["-m", "mfbench.analysis"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "HYDRA_FULL_ERROR": "0", "MPLBACKEND": "Agg"}
    outputs = {}
    for name, command in [("check", check), ("run", run), ("sweep", [*sweep, "progress=false"]),
                          ("analysis", analysis)]:
        done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, f"{name}: {' '.join(command)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        outputs[name] = done.stdout
    assert "all 36 checks passed" in outputs["check"]

    experiment = folder / "outputs" / "mine"
    for method in ("my_method", "asha_stop", "random_search"):
        for seed in (0, 1):
            metadata = json.loads((experiment / "hartmann3" / method / f"seed_{seed}" / "metadata.json").read_text())
            assert metadata["method"] == method
    assert json.loads((experiment / "hartmann3" / "my_method" / "seed_0" / "metadata.json").read_text())[
        "config"]["method"]["_target_"] == "my_method.py:MedianStopping"

    result = experiment / "analysis"
    for name in ("report.md", "final_table.md", "final_table.csv", "runs.csv", "trajectories.parquet"):
        assert (result / name).is_file(), f"the analysis wrote no {name}"
    assert list(result.glob("anytime_hartmann3.*")), "no anytime curves"
    assert "my_method" in (result / "final_table.md").read_text() and "my_method" in (result / "report.md").read_text()
    with open(result / "runs.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sum("my_method" in row.values() for row in rows) == 2, rows
