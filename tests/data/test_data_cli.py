"""``python -m mfbench.data``: offline failure, download via a local server, convert, verify, export."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pyarrow.parquet as pq
import pytest

from mfbench.data.cli import main
from tests.conftest import FIXTURES, REPO, YAHPO_VENDORED

NATS = FIXTURES / "nats-tss-v1_0-3ffb9-simple"
YAHPO = FIXTURES / "yahpo-lcbench"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def file_server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_offline_download_fails_fast_with_a_clear_message_and_no_litter(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "MFBENCH_CACHE": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-m", "mfbench.data", "download", "nas201", "--url",
                           "http://127.0.0.1:9/nasbench201/", "--timeout", "5", "--no-progress"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "cannot reach 127.0.0.1:9" in done.stderr and "convert nas201 --from" in done.stderr
    assert "Traceback" not in done.stderr
    assert not any(p.is_file() for p in (tmp_path / "cache").rglob("*"))


@pytest.fixture
def yahpo_vendored_remote(monkeypatch):
    """The yahpo source with its remote cut to the vendored scenarios' files: the local server
    has only those 4 of the 15 scenarios (nothing else of the download path changes)."""
    from dataclasses import replace

    from mfbench.blackbox.sources import registry, yahpo

    remote = yahpo.SOURCE.remotes[0]
    keep = [i for i, file in enumerate(remote.files) if file.split("/")[0] in YAHPO_VENDORED]
    cut = replace(remote, files=tuple(remote.files[i] for i in keep),
                  sha256=tuple(remote.checksums()[i] for i in keep))
    assert all(cut.sha256)  # the vendored files are the pinned ones
    monkeypatch.setitem(registry.sources(), "yahpo", replace(yahpo.SOURCE, remotes=(cut,)))


def _serve_yahpo(root):
    for scenario in YAHPO_VENDORED:
        (root / scenario).mkdir()
        for name in ("model.onnx", "config_space.json", "encoding.json"):
            (root / scenario / name).write_bytes((FIXTURES / f"yahpo-{scenario}" / name).read_bytes())


def test_download_yahpo_from_a_mirror_converts_and_verifies(file_server, yahpo_vendored_remote, tmp_path, capsys):
    root, base = file_server
    _serve_yahpo(root)
    cache = tmp_path / "cache"
    assert main(["download", "yahpo", "--url", f"{base}/", "--cache-dir", str(cache), "--no-progress"]) == 0
    assert not (cache / "downloads" / "yahpo" / "yahpo_data").exists()  # removed after conversion
    for scenario in YAHPO_VENDORED:
        assert (cache / f"yahpo_{scenario}" / "manifest.json").is_file()
        assert main(["verify", f"yahpo_{scenario}", "--cache-dir", str(cache)]) == 0
    assert main(["list", "--cache-dir", str(cache)]) == 0
    listed = capsys.readouterr().out
    assert "yahpo_rbv2_xgboost" in listed
    line = next(line for line in listed.splitlines() if line.split()[:1] == ["yahpo"])
    assert f"data source: {len(YAHPO_VENDORED)} folder(s) converted" in line  # not "not converted"


def test_download_with_a_bad_checksum_leaves_no_blackbox(file_server, yahpo_vendored_remote, tmp_path, capsys):
    root, base = file_server
    _serve_yahpo(root)
    (root / "lcbench" / "encoding.json").write_text('{"OpenML_task_id": {}}')
    cache = tmp_path / "cache"
    assert main(["download", "yahpo", "--url", f"{base}/", "--cache-dir", str(cache), "--no-progress"]) == 2
    assert "checksum mismatch" in capsys.readouterr().err
    assert not list(cache.glob("yahpo_*"))
    assert not list((cache / "downloads").rglob("*.part")) and not list(cache.rglob("lcbench/encoding.json"))


def test_convert_nas201_and_export_the_benchmark(tmp_path, capsys):
    cache = tmp_path / "cache"
    assert main(["convert", "nas201", "--from", str(NATS), "--cache-dir", str(cache), "--no-progress"]) == 2
    assert "--allow-partial" in capsys.readouterr().err and not (cache / "nas201").exists()
    assert main(["convert", "nas201", "--from", str(NATS), "--allow-partial", "--cache-dir", str(cache),
                 "--no-progress"]) == 0
    out = tmp_path / "nb201.parquet"
    assert main(["export", "nas201_cifar100", "--out", str(out), "--cache-dir", str(cache)]) == 0
    table = pq.read_table(out).to_pandas()
    assert len(table) == 3 * 3 * 200
    assert list(table.columns) == ["hp_x0", "hp_x1", "hp_x2", "hp_x3", "hp_x4", "hp_x5", "seed", "hp_epoch",
                                   "metric_valid_error", "metric_train_error", "metric_runtime",
                                   "metric_elapsed_time", "metric_latency", "metric_flops", "metric_params"]
    row = table[(table.hp_x0 == "avg_pool_3x3") & (table.hp_x1 == "nor_conv_1x1") & (table.seed == 0)
                & (table.hp_epoch == 1)]
    assert row.metric_valid_error.item() == pytest.approx(0.9134, abs=1e-6)  # arch 0, ori-test@0 = 8.66 %
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["metric"] == "metric_valid_error" and sidecar["elapsed_time"] == "metric_elapsed_time"
    assert sidecar["max_wallclock_time"] == 21600 and sidecar["n_workers"] == 4


def test_missing_data_for_a_benchmark_names_the_command(tmp_path, capsys):
    assert main(["export", "nas201_cifar10", "--out", str(tmp_path / "x.parquet"), "--cache-dir",
                 str(tmp_path)]) == 2
    assert "python -m mfbench.data download nas201" in capsys.readouterr().err
    assert not (tmp_path / "x.parquet").exists()


def test_export_of_a_continuous_surrogate_needs_sample_configs(tmp_path, capsys):
    data_dir = f"benchmark.blackbox.data_dir={YAHPO}"
    out = tmp_path / "lcbench.parquet"
    assert main(["export", "yahpo_lcbench", "--out", str(out), data_dir]) == 2
    assert "--sample-configs" in capsys.readouterr().err and not out.exists()
    assert main(["export", "yahpo_lcbench", "--out", str(out), "--sample-configs", "4", data_dir]) == 0
    table = pq.read_table(out)
    assert table.num_rows == 4 * 52 and "val_accuracy" in table.column_names
    assert json.loads(out.with_suffix(".json").read_text())["exported_from"] == "surrogate tabulated on 4 configurations"


def test_choices_and_help_come_from_the_registry(capsys):
    from mfbench.blackbox.sources import registry
    from mfbench.data.cli import parser

    help_of = {}
    for command in ("download", "convert"):
        with pytest.raises(SystemExit):
            parser().parse_args([command, "--help"])
        help_of[command] = " ".join(capsys.readouterr().out.split())
        assert "{" + ",".join(registry.sources()) + "}" in help_of[command]
    # each source's part of the help, in the registry's (alphabetical) order
    assert "--source SOURCE fcnet: ml4aad (default); lcbench: figshare (default); nas201: syne-tune (default) or " \
           "nats-file" in help_of["download"]
    assert "--allow-partial fcnet: " in help_of["convert"]
    assert "nas201: convert an incomplete NATS archive" in help_of["convert"]
    assert "--task TASK nas201_offline: only this task" in help_of["convert"]


def test_verify_names_the_command_that_rebuilds_the_entry(tmp_path, capsys):
    assert main(["verify", "nas201_offline_cifar100", "--cache-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "python -m mfbench.data convert nas201_offline --task cifar100" in err and "download" not in err
    assert main(["verify", "nas201_offline", "--cache-dir", str(tmp_path)]) == 2
    assert "verify one of ['nas201_offline_cifar10'" in capsys.readouterr().err
    assert main(["verify", "nas201", "--cache-dir", str(tmp_path)]) == 2
    assert "python -m mfbench.data download nas201" in capsys.readouterr().err
    assert main(["verify", "no_such_thing", "--cache-dir", str(tmp_path)]) == 2
    assert "nothing named 'no_such_thing'" in capsys.readouterr().err


def test_download_of_a_source_without_remotes_says_why(tmp_path, capsys):
    assert main(["download", "nas201_offline", "--cache-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "nothing to download for 'nas201_offline'" in err and "needs no download" in err
    assert main(["convert", "nas201", "--cache-dir", str(tmp_path)]) == 2
    assert "needs --from PATH" in capsys.readouterr().err


@pytest.mark.parametrize("content", [b"not bz2 at all" * 50, b"BZh91AY&SY" + b"\x00" * 100])
def test_a_junk_nats_file_is_a_one_line_error_not_a_traceback(tmp_path, capsys, content):
    junk = tmp_path / "NATS-tss-v1_0-3ffb9.pickle.pbz2"
    junk.write_bytes(content)
    assert main(["convert", "nas201", "--from", str(junk), "--cache-dir", str(tmp_path / "cache"),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "does not read as a data pickle" in err and "Traceback" not in err
    assert not (tmp_path / "cache" / "nas201").exists()


def test_a_malicious_pickle_is_a_one_line_error(tmp_path, capsys):
    import bz2
    import pickle

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    evil = tmp_path / "NATS-tss-v1_0-3ffb9.pickle.pbz2"
    evil.write_bytes(bz2.compress(pickle.dumps(Evil())))
    assert main(["convert", "nas201", "--from", str(evil), "--cache-dir", str(tmp_path / "cache"),
                 "--no-progress"]) == 2
    captured = capsys.readouterr()
    assert "refusing to unpickle the global" in captured.err and "pwned" not in captured.out


def test_a_source_without_input_refuses_from(tmp_path, capsys):
    assert main(["convert", "nas201_offline", "--from", str(tmp_path), "--cache-dir", str(tmp_path / "c")]) == 2
    assert "takes no --from" in capsys.readouterr().err
