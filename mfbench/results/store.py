"""The on-disk result of one run: ``results.parquet``, ``metadata.json`` and a ``DONE`` marker.

Files are written to a temporary name and renamed, and the marker is written last, so a
run directory either holds a complete result (marker present) or no result at all. A
finished run is never overwritten unless explicitly asked.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from mfbench.config.fingerprint import current_fingerprint

RESULTS_FILE = "results.parquet"
METADATA_FILE = "metadata.json"
DONE_MARKER = "DONE"


class FinishedRunExists(RuntimeError):
    """A finished run with a different configuration occupies the run directory."""


class RunDirectory:
    """A run's directory (derived from the config: experiment/benchmark/method/seed)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    @property
    def results_path(self) -> Path:
        return self.path / RESULTS_FILE

    @property
    def metadata_path(self) -> Path:
        return self.path / METADATA_FILE

    @property
    def marker_path(self) -> Path:
        return self.path / DONE_MARKER

    def is_complete(self) -> bool:
        return self.marker_path.is_file() and self.results_path.is_file() and self.metadata_path.is_file()

    def read_metadata(self) -> dict[str, Any]:
        with open(self.metadata_path, encoding="utf-8") as f:
            return json.load(f)

    def finished_fingerprint(self) -> str | None:
        """The config fingerprint of the finished run here (under today's class names), or None if there is none."""
        if not self.is_complete():
            return None
        try:
            metadata = self.read_metadata()
        except (OSError, ValueError):
            return None
        config = metadata.get("config")
        stored = metadata.get("config_fingerprint")
        return current_fingerprint(config, stored) if isinstance(config, dict) else stored

    def write(self, columns: dict[str, Any], metadata: dict[str, Any], overwrite: bool = False) -> None:
        """Write results and metadata atomically, then the marker.

        Raises :class:`FinishedRunExists` if a finished run is here and ``overwrite`` is off.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.is_complete() and not overwrite:
            raise FinishedRunExists(f"a finished run is already in {self.path}; pass overwrite=true to replace it")
        self.path.mkdir(parents=True, exist_ok=True)
        if self.marker_path.exists():
            self.marker_path.unlink()  # an overwritten run is unfinished until its new marker exists
        table = pa.table(columns)
        _atomic(self.results_path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))
        text = json.dumps(metadata, indent=2, sort_keys=True, default=str) + "\n"
        _atomic(self.metadata_path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
        _atomic(self.marker_path, lambda tmp: Path(tmp).write_text("complete\n", encoding="utf-8"))


def _atomic(target: Path, write: Any) -> None:
    """Call ``write(tmp_path)`` on a temporary file beside ``target``, then rename it."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def remove_stale_temporaries(path: Path) -> None:
    """Delete temporary files an interrupted write left in ``path``."""
    for leftover in path.glob(".*.tmp"):
        if leftover.is_file():
            leftover.unlink()
        elif leftover.is_dir():
            shutil.rmtree(leftover)
