"""The expected runs of a sweep directory, recorded by every sweep into it.

Each ``python -m mfbench -m ...`` writes ``<sweep dir>/.mfbench/sweeps/<time>-<pid>.json``
before it launches anything: the command, its Hydra overrides and every run of the grid
(directory relative to the sweep dir, overrides, config fingerprint). The status command
takes the union of all manifests as the expected set, so a run that never started is known
as *missing*, and can rebuild a command that completes the sweep.
"""
from __future__ import annotations

import datetime
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from mfbench.results.store import file_mode

MANIFEST_DIR = Path(".mfbench") / "sweeps"
VERSION = 1


@dataclass(frozen=True)
class ExpectedRun:
    """A run some sweep into the directory asked for.

    Attributes:
        subdir: run directory relative to the sweep directory.
        overrides: its task overrides.
        fingerprint: its config fingerprint when the sweep was planned.
        hydra_overrides: the Hydra overrides of that sweep (launcher, ...).
        manifest: the manifest file it comes from.
    """

    subdir: str
    overrides: tuple[str, ...]
    fingerprint: str | None
    hydra_overrides: tuple[str, ...]
    manifest: Path


def write_manifest(sweep_dir: str | Path, runs: Iterable[Any], hydra_overrides: Sequence[str],
                   task_overrides: Sequence[str], argv: Sequence[str] | None = None) -> Path:
    """Record a sweep's runs (objects with ``subdir``, ``overrides``, ``fingerprint``).

    Returns:
        The manifest file written.
    """
    now = datetime.datetime.now(datetime.timezone.utc)
    folder = Path(sweep_dir) / MANIFEST_DIR
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "version": VERSION,
        "created_at": now.isoformat(timespec="seconds"),
        "argv": list(sys.argv if argv is None else argv),
        "cwd": os.getcwd(),
        "sweep_dir": str(Path(sweep_dir).resolve()),  # a copied or moved folder is told by it
        "hydra_overrides": list(hydra_overrides),
        "task_overrides": list(task_overrides),
        "runs": [{"subdir": r.subdir, "overrides": list(r.overrides), "fingerprint": r.fingerprint} for r in runs],
    }
    target = folder / f"{now.strftime('%Y%m%dT%H%M%S.%f')}-{os.getpid()}.json"
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
    os.chmod(tmp, file_mode())  # readable by whoever may read the study (umask), not only its owner
    os.replace(tmp, target)
    return target


def read_manifests(sweep_dir: str | Path) -> list[dict[str, Any]]:
    """All readable manifests of ``sweep_dir``, oldest first (each with a ``path`` key)."""
    folder = Path(sweep_dir) / MANIFEST_DIR
    manifests = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("runs"), list):
            data["path"] = path
            manifests.append(data)
    return manifests


def expected_runs(sweep_dir: str | Path) -> dict[str, ExpectedRun]:
    """The union of the runs of all manifests, by subdir (a later sweep's entry wins)."""
    expected: dict[str, ExpectedRun] = {}
    for manifest in read_manifests(sweep_dir):
        hydra_overrides = _writing_here(tuple(str(o) for o in manifest.get("hydra_overrides", [])), manifest,
                                        Path(sweep_dir))
        for run in manifest["runs"]:
            subdir = str(run.get("subdir", ""))
            if subdir:
                expected[subdir] = ExpectedRun(subdir, tuple(str(o) for o in run.get("overrides", [])),
                                               run.get("fingerprint"), hydra_overrides, manifest["path"])
    return expected


def _writing_here(hydra_overrides: tuple[str, ...], manifest: dict[str, Any], sweep_dir: Path) -> tuple[str, ...]:
    """The sweep's Hydra overrides, with ``hydra.sweep.dir`` pointing at ``sweep_dir`` if the sweep
    wrote elsewhere (the folder was copied or moved since): a command that completes the folder
    must write into it, not into the one it was copied from."""
    here = sweep_dir.resolve()
    given = [o for o in hydra_overrides if o.startswith("hydra.sweep.dir=")]
    if given:
        value = Path(given[-1].split("=", 1)[1].strip("'\""))
        written = value if value.is_absolute() else Path(str(manifest.get("cwd") or ".")) / value
    elif manifest.get("sweep_dir"):
        written = Path(str(manifest["sweep_dir"]))
    else:  # an older manifest and the default folder: nothing to compare with
        return hydra_overrides
    if written.resolve() == here:
        return hydra_overrides
    return tuple(o for o in hydra_overrides if not o.startswith("hydra.sweep.dir=")) + (f"hydra.sweep.dir={here}",)
