"""The on-disk result of one run: ``results.parquet``, ``metadata.json`` and a ``DONE`` marker.

Files are written to a temporary name and renamed, and the marker is written last, so a
run directory either holds a complete result (marker present) or no result at all. A
finished run is never overwritten unless explicitly asked.

``DONE`` records what it vouches for: the size and SHA-256 of the results and the metadata.
A finished run is trusted only while both still match (:meth:`RunDirectory.verify`); a run
whose files were truncated, emptied or edited after it finished is *corrupt*: the status
command reports it, a resumed sweep or a re-run redoes it, and its files are kept beside the
new ones with the suffix ``.corrupt``. Markers written before DONE carried checksums
(the text ``complete``) are checked by reading the files instead.
"""
from __future__ import annotations

import hashlib
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
#: the ``format`` field of the JSON a DONE marker holds
DONE_FORMAT = "mfbench-done"
#: what a quarantined corrupt file's name gets appended
CORRUPT_SUFFIX = ".corrupt"


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

    def has_marker(self) -> bool:
        """Whether a ``DONE`` marker is here (the run claims to be finished; see :meth:`verify`)."""
        return self.marker_path.is_file()

    def verify(self) -> str | None:
        """What is wrong with the finished run here, or None if its files are what DONE vouches for.

        Cost: one read of the results and the metadata (a run's results are kilobytes to a
        few megabytes). Without a ``DONE`` marker there is no finished run to check: None.
        """
        if not self.has_marker():
            return None
        for path in (self.results_path, self.metadata_path):
            if not path.is_file():
                return f"{path.name} is missing"
        try:
            vouched = json.loads(self.marker_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            vouched = None
        if isinstance(vouched, dict) and vouched.get("format") == DONE_FORMAT:
            problem = _compare_files(self.path, vouched.get("files") or {})
        else:  # a marker of an older mfbench (or a mangled one): check that the files read
            problem = _readable(self.results_path, self.metadata_path)
        if problem is None:
            try:
                metadata = self.read_metadata()
            except (OSError, ValueError) as error:
                return f"{self.metadata_path.name} does not read as JSON ({error})"
            if not isinstance(metadata, dict):
                return f"{self.metadata_path.name} does not hold a JSON object"
        return problem

    def is_complete(self) -> bool:
        """A ``DONE`` marker whose results and metadata verify."""
        return self.has_marker() and self.verify() is None

    def read_metadata(self) -> dict[str, Any]:
        with open(self.metadata_path, encoding="utf-8") as f:
            return json.load(f)

    def finished_fingerprint(self) -> str | None:
        """The config fingerprint of the finished run here (under today's class names), or None if
        there is none or it is corrupt."""
        if not self.is_complete():
            return None
        return self.stored_fingerprint()

    def stored_fingerprint(self) -> str | None:
        """The fingerprint in the metadata, under today's class names (no verification)."""
        try:
            metadata = self.read_metadata()
        except (OSError, ValueError):
            return None
        config = metadata.get("config")
        stored = metadata.get("config_fingerprint")
        return current_fingerprint(config, stored) if isinstance(config, dict) else stored

    def quarantine(self) -> list[Path]:
        """Move a corrupt run's files aside (``<name>.corrupt``, replacing older ones); return them.

        Nothing is deleted: a corrupt result is not trusted, but it stays for inspection.
        """
        moved = []
        for path in (self.marker_path, self.results_path, self.metadata_path):
            if path.exists():
                target = path.with_name(path.name + CORRUPT_SUFFIX)
                os.replace(path, target)
                moved.append(target)
        return moved

    def write(self, columns: dict[str, Any], metadata: dict[str, Any], overwrite: bool = False) -> None:
        """Write results and metadata atomically, then the marker.

        Raises :class:`FinishedRunExists` if a finished run is here and ``overwrite`` is off.
        """
        import pyarrow.parquet as pq

        from mfbench.results.arrow_columns import arrow_table

        if self.is_complete() and not overwrite:
            raise FinishedRunExists(f"a finished run is already in {self.path}; pass overwrite=true to replace it")
        self.path.mkdir(parents=True, exist_ok=True)
        if self.has_marker():
            if self.verify() is not None:
                self.quarantine()  # a corrupt run is redone, its files kept aside
            else:
                self.marker_path.unlink()  # an overwritten run is unfinished until its new marker exists
        table = arrow_table(columns)  # pyarrow.table(columns), without importing pandas
        _atomic(self.results_path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))
        text = json.dumps(metadata, indent=2, sort_keys=True, default=str) + "\n"
        _atomic(self.metadata_path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
        vouched = {"format": DONE_FORMAT, "version": 1,
                   "files": {path.name: _file_record(path) for path in (self.results_path, self.metadata_path)}}
        marker = json.dumps(vouched, indent=1, sort_keys=True) + "\n"
        _atomic(self.marker_path, lambda tmp: Path(tmp).write_text(marker, encoding="utf-8"))


def _file_record(path: Path) -> dict[str, Any]:
    return {"bytes": path.stat().st_size, "sha256": _sha256(path)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _compare_files(directory: Path, vouched: dict[str, Any]) -> str | None:
    """The first file whose size or checksum differs from what DONE vouches for, worded."""
    for name in (RESULTS_FILE, METADATA_FILE):
        record = vouched.get(name)
        if not isinstance(record, dict):
            return f"DONE does not vouch for {name}"
        path = directory / name
        size = path.stat().st_size
        if size != record.get("bytes"):
            return f"{name} is {size} bytes, DONE vouches for {record.get('bytes')}"
        if _sha256(path) != record.get("sha256"):
            return f"{name} has other contents than DONE vouches for (checksum differs)"
    return None


def _readable(results: Path, metadata: Path) -> str | None:
    """For markers without checksums: the results must open as parquet, the metadata as JSON."""
    import pyarrow.parquet as pq

    try:
        pq.read_metadata(results)
    except Exception as error:  # pyarrow raises several types for a broken file
        return f"{results.name} does not read as parquet ({type(error).__name__})"
    try:
        json.loads(metadata.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return f"{metadata.name} does not read as JSON ({error})"
    return None


def file_mode() -> int:
    """``0o666`` less the process umask: what ``open()`` gives a new file (``mkstemp`` gives 0600,
    which would hide a shared study from the rest of a group)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _atomic(target: Path, write: Any) -> None:
    """Call ``write(tmp_path)`` on a temporary file beside ``target``, then rename it."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, file_mode())
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
