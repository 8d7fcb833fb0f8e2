"""A non-editable install must carry the config tree inside the package."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_ships_every_yaml_of_conf(tmp_path):
    pytest.importorskip("setuptools")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(REPO)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    wheel = next(tmp_path.glob("mfbench-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"mfbench/conf/{p.relative_to(REPO / 'conf').as_posix()}" for p in (REPO / "conf").rglob("*.yaml")}
    assert expected and expected <= names
    assert "mfbench/__main__.py" in names
    # the vendored test fixtures (tests/data, third-party files) are not part of the package
    assert not [n for n in names if n.startswith("tests/") or n.endswith((".onnx", ".pbz2"))]
