"""Resumable HTTP(S) downloads with a progress bar, size and checksum checks.

A download goes to ``DEST.part`` (created only once the first bytes arrive) and is renamed
to ``DEST`` only when complete and verified. An interrupted download keeps ``DEST.part``:
running the same command again resumes it with an HTTP ``Range`` request (or starts over
if the server ignores ranges). A file that fails its size or checksum check is deleted.
Every failure raises :class:`DownloadError` saying what happened and what to do.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """A download failed; the message says why and what to do."""


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url


def download(
    url: str,
    dest: Path,
    expected_sha256: str | None = None,
    expected_size: int | None = None,
    progress: bool = True,
    timeout: float = 30.0,
    manual_hint: str = "",
) -> Path:
    """Fetch ``url`` into ``dest`` (resuming ``dest.part``); return ``dest``.

    Args:
        url: http(s) or file URL.
        dest: final path; its parent is created.
        expected_sha256: hex digest the file must have (also taken from an ``X-Linked-Etag``
            / ``ETag`` header holding a sha256, as Hugging Face sends for large files).
        expected_size: exact size in bytes the file must have.
        progress: show a tqdm progress bar.
        timeout: seconds to wait for the connection and for each read.
        manual_hint: appended to errors (e.g. how to download by hand and convert).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    offset = part.stat().st_size if part.is_file() else 0
    hint = f" {manual_hint}" if manual_hint else ""
    headers = {"User-Agent": "mfbench-data/1"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:  # the partial file is already complete
            return _finish(part, dest, expected_sha256, expected_size, None, url, hint)
        raise DownloadError(f"{url} answered HTTP {error.code} ({error.reason}).{hint}") from None
    except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DownloadError(
            f"cannot reach {_host(url)} ({reason}). Check the network connection (or a proxy: HTTPS_PROXY) and rerun; "
            f"nothing was written.{hint}"
        ) from None
    with response:
        status = getattr(response, "status", 200)
        if offset and status != 206:  # the server ignored the range: start over
            offset = 0
        content_type = response.headers.get("Content-Type", "")
        if content_type.startswith("text/html") and not url.endswith((".html", ".htm")):
            raise DownloadError(f"{url} returned a web page instead of the file (a login, quota or confirmation "
                                f"page); nothing was written.{hint}")
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length is not None else None
        header_sha = _sha_from_headers(response.headers)
        if expected_size is not None and total is not None and total != expected_size:
            raise DownloadError(f"{url} has {total} bytes, expected {expected_size}: not the expected file; nothing "
                                f"was written.{hint}")
        from tqdm.auto import tqdm

        bar = tqdm(total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1024, desc=dest.name,
                   disable=not progress)
        handle = None
        received = offset
        try:
            while True:
                try:
                    chunk = response.read(CHUNK)
                except (socket.timeout, TimeoutError, ConnectionError, OSError, http.client.HTTPException) as error:
                    raise DownloadError(
                        f"the download of {url} broke off after {received} bytes ({error}). The partial file {part} "
                        f"is kept: rerun the same command to resume (or delete it to start over).{hint}"
                    ) from None
                if not chunk:
                    break
                if handle is None:
                    handle = open(part, "ab" if offset else "wb")
                handle.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
        finally:
            bar.close()
            if handle is not None:
                handle.close()
    if total is not None and received < total:
        raise DownloadError(
            f"the download of {url} ended after {received} of {total} bytes. The partial file {part} is kept: rerun "
            f"the same command to resume (or delete it to start over).{hint}"
        )
    if not part.is_file():
        part.write_bytes(b"")
    return _finish(part, dest, expected_sha256 or header_sha, expected_size, total, url, hint)


def _sha_from_headers(headers) -> str | None:
    for key in ("X-Linked-Etag", "ETag"):
        value = (headers.get(key) or "").strip('W/"')
        if re.fullmatch(r"[0-9a-f]{64}", value):
            return value
    return None


def _finish(part: Path, dest: Path, sha256: str | None, size: int | None, total: int | None, url: str,
            hint: str) -> Path:
    actual = part.stat().st_size
    for expected in (size, total):
        if expected is not None and actual != expected:
            part.unlink()
            raise DownloadError(f"{url}: got {actual} bytes, expected {expected}; the bad file was deleted, rerun "
                                f"to download it again.{hint}")
    if sha256 is not None:
        digest = hashlib.sha256()
        with open(part, "rb") as handle:
            while block := handle.read(1 << 22):
                digest.update(block)
        if digest.hexdigest() != sha256:
            part.unlink()
            raise DownloadError(
                f"{url}: checksum mismatch (sha256 {digest.hexdigest()}, expected {sha256}). The file is corrupt or "
                f"not the expected version; it was deleted. Rerun to download it again.{hint}"
            )
    os.replace(part, dest)
    return dest
