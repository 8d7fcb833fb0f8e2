"""Downloads against a local HTTP server: resume, unreachable host, partial file, bad checksum."""
from __future__ import annotations

import hashlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mfbench.data.download import DownloadError, download

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class _Handler(BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    cut_after: int | None = None  # close the connection after this many body bytes (once)
    html = False
    ranges: list[str] = []

    def log_message(self, *args):  # keep the test output clean
        pass

    def do_GET(self):
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        start = 0
        if "Range" in self.headers:
            type(self).ranges.append(self.headers["Range"])
            start = int(self.headers["Range"].split("=")[1].split("-")[0])
            self.send_response(206)
        else:
            self.send_response(200)
        self.send_header("Content-Type", "text/html" if self.html else "application/octet-stream")
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        data = body[start:]
        if type(self).cut_after is not None:
            data = data[: type(self).cut_after]
            type(self).cut_after = None
            self.wfile.write(data)
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(data)


@pytest.fixture
def server():
    handler = type("Handler", (_Handler,), {"files": {"/file.bin": PAYLOAD}, "cut_after": None, "html": False,
                                            "ranges": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd, handler, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_complete_download_with_checksum(server, tmp_path):
    _, _, base = server
    dest = download(f"{base}/file.bin", tmp_path / "file.bin", expected_sha256=SHA, progress=False)
    assert dest.read_bytes() == PAYLOAD and not (tmp_path / "file.bin.part").exists()


def test_unreachable_host_fails_fast_and_writes_nothing(tmp_path):
    with pytest.raises(DownloadError, match="cannot reach 127.0.0.1.*nothing was written.*by hand") as error:
        download(f"http://127.0.0.1:{_closed_port()}/file.bin", tmp_path / "f", progress=False, timeout=5,
                 manual_hint="Or download it by hand.")
    assert "Traceback" not in str(error.value)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_download_keeps_part_and_resumes(server, tmp_path):
    _, handler, base = server
    handler.cut_after = 300_000
    with pytest.raises(DownloadError, match="rerun the same command to resume"):
        download(f"{base}/file.bin", tmp_path / "file.bin", expected_sha256=SHA, progress=False, timeout=5)
    part = tmp_path / "file.bin.part"
    assert not (tmp_path / "file.bin").exists() and 0 < part.stat().st_size <= 300_000
    kept = part.stat().st_size
    dest = download(f"{base}/file.bin", tmp_path / "file.bin", expected_sha256=SHA, progress=False, timeout=5)
    assert handler.ranges == [f"bytes={kept}-"]
    assert dest.read_bytes() == PAYLOAD and not part.exists()


def test_bad_checksum_deletes_the_file(server, tmp_path):
    _, _, base = server
    with pytest.raises(DownloadError, match="checksum mismatch.*deleted"):
        download(f"{base}/file.bin", tmp_path / "file.bin", expected_sha256="0" * 64, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_wrong_size_and_web_page_are_refused(server, tmp_path):
    _, handler, base = server
    with pytest.raises(DownloadError, match="expected 5 bytes|expected 5"):
        download(f"{base}/file.bin", tmp_path / "a", expected_size=5, progress=False)
    handler.html = True
    with pytest.raises(DownloadError, match="web page"):
        download(f"{base}/file.bin", tmp_path / "b", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_http_error_is_explained(server, tmp_path):
    _, _, base = server
    with pytest.raises(DownloadError, match="HTTP 404"):
        download(f"{base}/missing.bin", tmp_path / "m", progress=False)
