"""The local blackbox cache: where converted blackboxes live, their manifests, atomic writes.

Layout: ``<cache root>/<name>/`` holds one converted blackbox (all its tasks) and a
``manifest.json`` stamping it with :data:`FORMAT_VERSION`, its source and the size and
sha256 of every file. The root is, in order of precedence:

1. an explicit ``cache_dir`` (e.g. ``benchmark.blackbox.cache_dir=...`` or ``--cache-dir``),
2. the environment variable ``MFBENCH_CACHE``,
3. ``$XDG_CACHE_HOME/mfbench/blackboxes`` (``~/.cache/mfbench/blackboxes`` by default).

A blackbox directory is written under a temporary name beside its final place and renamed
into place only when complete (:func:`staging`), so an interrupted conversion leaves nothing
that looks like a blackbox.

Opening checks the manifest (format version, kind, file sizes) and the SHA-256 of every file
(:func:`verify_cached`), so a cache edited or damaged after it was written is refused with the
command that rebuilds it, never simulated. A file is hashed once per version: the stamp
``.verified.json`` remembers each verified file by size, modification and change time, inode
and device, and a file whose stat differs in any of them is hashed again. The change time
(``st_ctime``) is set by the kernel on every write and cannot be set back by a user, so an
in-place edit cannot pass as the verified version. After the first open a full-size table
costs a few ``stat`` calls. Where the cache directory is not writable (a shared read-only
cache) the stamp goes to the user's own cache (``$XDG_CACHE_HOME/mfbench/verified/``).
"""
from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any, Iterator, Mapping

from mfbench.errors import DataError

#: version of the on-disk format written by this mfbench; bump on any incompatible change
FORMAT_VERSION = 1
#: the ``format`` field of every manifest we write
FORMAT_NAME = "mfbench-blackbox"
MANIFEST = "manifest.json"
#: per-directory record of the files whose checksums were verified (see the module docstring)
STAMP = ".verified.json"
ENV_VAR = "MFBENCH_CACHE"


class BlackboxDataError(DataError):
    """A blackbox's data is missing, stale, foreign or corrupt; the message says how to fix it."""


def cache_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The cache root (see the module docstring for the precedence)."""
    if cache_dir:
        return Path(cache_dir).expanduser()
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    return _user_cache() / "blackboxes"


def _user_cache() -> Path:
    """``$XDG_CACHE_HOME/mfbench`` (``~/.cache/mfbench`` by default)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")).expanduser() / "mfbench"


def sha256_of(path: str | os.PathLike[str], chunk: int = 1 << 22) -> str:
    """Hex sha256 of a file, read in 4 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def file_entries(directory: Path, checksums: bool = True) -> dict[str, dict[str, Any]]:
    """``{relative path: {"bytes", "sha256"}}`` of every file under ``directory`` but the manifest."""
    entries = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file() and p.name not in (MANIFEST, STAMP)):
        entry: dict[str, Any] = {"bytes": path.stat().st_size}
        if checksums:
            entry["sha256"] = sha256_of(path)
        entries[path.relative_to(directory).as_posix()] = entry
    return entries


def write_manifest(directory: Path, name: str, kind: str, source: Mapping[str, Any], body: Mapping[str, Any],
                   checksums: bool = True) -> dict[str, Any]:
    """Write ``directory/manifest.json`` (call last, once every data file is in place)."""
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "name": name,
        "kind": kind,
        "source": dict(source),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **body,
        "files": file_entries(directory, checksums),
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=1, default=str) + "\n", encoding="utf-8")
    return manifest


def read_manifest(directory: Path, name: str, rebuild: str, kind: str | None = None,
                  verify: bool = True) -> dict[str, Any]:
    """The manifest of a converted blackbox, after checking it is ours, current and intact.

    Args:
        directory: the blackbox directory.
        name: the blackbox name (for messages).
        rebuild: the command that (re)builds it, quoted in every error.
        kind: the expected ``kind`` (``"tabular"`` / ``"surrogate"``), or ``None``.
        verify: also check every file's SHA-256 (:func:`verify_cached`); off only for a look
            at the manifest that trusts no data (e.g. "is this build current?").

    Raises:
        BlackboxDataError: missing, foreign, stale (other format version), truncated or
            corrupt data (a checksum mismatch).
    """
    path = directory / MANIFEST
    if not directory.is_dir():
        raise BlackboxDataError(
            f"the blackbox {name!r} is not in the cache ({directory} does not exist). Fetch it with: {rebuild} "
            f"(the cache is {directory.parent}; set {ENV_VAR} or benchmark.blackbox.cache_dir=... to use another)"
        )
    if not path.is_file():
        raise BlackboxDataError(
            f"{directory} has no {MANIFEST}: it was not written by mfbench's data command (or the conversion was "
            f"interrupted). Delete it and rebuild with: {rebuild}"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BlackboxDataError(f"{path} is unreadable ({error}); delete {directory} and rebuild with: {rebuild}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME or manifest.get("name") != name:
        raise BlackboxDataError(
            f"{directory} does not hold mfbench's converted {name!r} blackbox (foreign manifest). Delete it and "
            f"rebuild with: {rebuild}"
        )
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BlackboxDataError(
            f"{directory} was written in blackbox format version {manifest.get('format_version')}, this mfbench "
            f"reads version {FORMAT_VERSION}. Rebuild it with: {rebuild}"
        )
    if kind is not None and manifest.get("kind") != kind:
        raise BlackboxDataError(f"{directory} holds a {manifest.get('kind')} blackbox, expected {kind}; rebuild with: {rebuild}")
    for relative, entry in manifest.get("files", {}).items():
        file = directory / relative
        if not file.is_file() or file.stat().st_size != entry["bytes"]:
            raise BlackboxDataError(
                f"{file} is missing or has the wrong size (expected {entry['bytes']} bytes): the cache is corrupt. "
                f"Delete {directory} and rebuild with: {rebuild}"
            )
    if verify:
        verify_cached(directory, manifest, rebuild)
    return manifest


def verify_cached(directory: Path, manifest: Mapping[str, Any], rebuild: str) -> None:
    """Check the SHA-256 of every file of ``manifest``, hashing only files changed since their last check.

    Raises:
        BlackboxDataError: a file whose contents differ from its checksum (names the file and
            the command that rebuilds the blackbox).
    """
    stamp_path = _stamp_path(directory)
    stamp = _read_stamp(stamp_path)
    changed = False
    for relative, entry in manifest.get("files", {}).items():
        if "sha256" not in entry:
            continue  # written without checksums: only its size is checked
        file = directory / relative
        record = {"stat": _stat_key(file), "sha256": entry["sha256"]}
        if stamp.get(relative) == record:
            continue
        if sha256_of(file) != entry["sha256"]:
            raise BlackboxDataError(
                f"{file} does not match its checksum in {directory / MANIFEST}: the cache was changed or damaged "
                f"after it was written, and is not used. Delete {directory} and rebuild with: {rebuild}"
            )
        stamp[relative] = record
        changed = True
    if changed:
        _write_stamp(stamp_path, stamp)


def _stat_key(path: Path) -> list[int]:
    info = path.stat()
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev]


def _stamp_path(directory: Path) -> Path:
    """The stamp beside the data if we may write there, else in the user's own cache."""
    if os.access(directory, os.W_OK):
        return directory / STAMP
    key = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:24]
    return _user_cache() / "verified" / f"{key}.json"


def _read_stamp(path: Path) -> dict[str, Any]:
    try:
        stamp = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stamp if isinstance(stamp, dict) else {}


def _write_stamp(path: Path, stamp: Mapping[str, Any]) -> None:
    """Write the stamp atomically; a stamp that cannot be written only costs a re-hash next time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        tmp.write_text(json.dumps(stamp, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError, UnboundLocalError):
            tmp.unlink()


def verify_checksums(directory: Path, manifest: Mapping[str, Any]) -> list[str]:
    """Files whose sha256 differs from the manifest (empty list: all good)."""
    bad = []
    for relative, entry in manifest.get("files", {}).items():
        if "sha256" in entry and sha256_of(directory / relative) != entry["sha256"]:
            bad.append(relative)
    return bad


@contextlib.contextmanager
def staging(target: Path, replace: bool = True) -> Iterator[Path]:
    """A fresh temporary directory that becomes ``target`` when the block ends without error.

    On error the temporary directory is removed and ``target`` is left as it was. If
    ``replace`` is false and ``target`` appears meanwhile (another process finished the
    same build), the new copy is discarded.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{target.name}.tmp-*"):
        # leftovers of a killed build of the same blackbox (older than a day, or of a dead process)
        with contextlib.suppress(OSError, ValueError):
            pid = int(stale.name.rsplit("-", 2)[-2])
            if not _pid_alive(pid):
                shutil.rmtree(stale, ignore_errors=True)
    temporary = target.parent / f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    temporary.mkdir()
    try:
        yield temporary
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    if target.exists():
        if not replace:
            shutil.rmtree(temporary, ignore_errors=True)
            return
        old = target.parent / f".{target.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        os.replace(target, old)
        os.replace(temporary, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        try:
            os.replace(temporary, target)
        except OSError:  # another process renamed its copy first
            shutil.rmtree(temporary, ignore_errors=True)
            if not target.exists():
                raise


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
