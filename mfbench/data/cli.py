"""``python -m mfbench.data``: download, convert, list, verify and export blackbox data.

    python -m mfbench.data list
    python -m mfbench.data download nas201            # Syne Tune's converted NB201 (~790 MB)
    python -m mfbench.data convert nas201 --from PATH  # NATS simple folder / single file / Syne Tune folder
    python -m mfbench.data download yahpo
    python -m mfbench.data convert yahpo --from YAHPO_DATA
    python -m mfbench.data convert nas201_offline      # build the offline NB201 tables now
    python -m mfbench.data verify nas201               # checksums of the cached files
    python -m mfbench.data export nas201_offline_cifar100 --out table.parquet

Every command takes ``--cache-dir`` (default: ``$MFBENCH_CACHE`` or
``~/.cache/mfbench/blackboxes``). Errors print one line saying what to do and exit 2.

The data sources (their names, download locations, converters, options and cache folders)
are declared by their own modules and collected by :mod:`mfbench.blackbox.sources.registry`;
this module names none of them, so a new source needs no change here.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any, Sequence

from mfbench.blackbox.cache import BlackboxDataError, cache_root
from mfbench.blackbox.sources import registry

#: where ``download`` stages the files before converting them (under the cache root)
DOWNLOADS = "downloads"


def _print(message: str) -> None:
    """One line of the command's output, prefixed by its name."""
    print(f"mfbench.data: {message}")


# ---------------------------------------------------------------------------- commands
def cmd_list(args: argparse.Namespace) -> int:
    """Print every registered source and every cache folder: its manifest, or how to build it."""
    root = cache_root(args.cache_dir)
    _print(f"cache: {root}")
    sources = registry.sources()
    names = sorted({*sources, *(p.name for p in root.glob("*") if p.is_dir() and not p.name.startswith("."))})
    for name in names:
        manifest = root / name / "manifest.json"
        owner = sources.get(name) or registry.owner(name)
        if manifest.is_file():
            data = json.loads(manifest.read_text())
            size = sum(entry["bytes"] for entry in data.get("files", {}).values())
            print(f"  {name:28s} {data.get('kind', '?'):9s} {size / 2**20:9.1f} MiB  tasks: {len(data.get('tasks', []))}"
                  f"  source: {data.get('source', {}).get('kind', '?')}  (format {data.get('format_version')})")
        elif name in sources and (converted := [n for n in names if n != name and registry.owner(n) is sources[name]
                                                and (root / n / "manifest.json").is_file()]):
            # a source kept in one folder per part (yahpo_<scenario>): those folders are listed below
            print(f"  {name:28s} data source: {len(converted)} folder(s) converted ({', '.join(converted[:4])}"
                  f"{', ...' if len(converted) > 4 else ''})")
        elif owner is not None:
            print(f"  {name:28s} {owner.missing_hint()}")
        elif name == DOWNLOADS:
            print(f"  {name:28s} downloaded files (kept by --keep-download, or a partial download to resume)")
        else:
            print(f"  {name:28s} no manifest.json: not a converted blackbox of any data source {list(sources)}")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    """Download a source's files (resumable, checked), convert them, remove them unless kept."""
    from mfbench.data.download import download

    source = registry.get(args.name)
    if not source.downloadable:
        downloadable = [name for name, s in registry.sources().items() if s.downloadable]
        raise BlackboxDataError(f"nothing to download for {args.name!r}; downloadable: {downloadable} "
                                f"({args.name} {source.no_remote})")
    remote = source.remote(args.source)
    staging = cache_root(args.cache_dir) / DOWNLOADS / source.name / remote.name
    for file, sha256 in zip(remote.files, remote.checksums()):
        target = staging / file
        if target.is_file():  # fetched (and checked) by an earlier, interrupted run of this command
            continue
        url = remote.url(file, args.url)
        _print(f"downloading {url}")
        try:
            download(url, target, expected_sha256=sha256, progress=not args.no_progress, timeout=args.timeout,
                     manual_hint=remote.manual)
        except BaseException:
            _remove_empty_folders(staging, cache_root(args.cache_dir))
            raise
    path = staging / remote.files[0] if remote.convert_file else staging
    directory = source.run_convert(path, args.cache_dir, not args.no_progress, _print, {})
    if not args.keep_download:
        shutil.rmtree(staging, ignore_errors=True)
    _print(f"{source.name} is ready in {directory}")
    return 0


def _remove_empty_folders(folder: Path, stop: Path) -> None:
    """Remove ``folder`` and its parents below ``stop`` while they hold no file (no litter)."""
    while folder != stop and folder.is_dir() and not any(p.is_file() for p in folder.rglob("*")):
        shutil.rmtree(folder, ignore_errors=True)
        folder = folder.parent


def cmd_convert(args: argparse.Namespace) -> int:
    """Convert downloaded data (``--from PATH``), or build a source that needs no input."""
    source = registry.get(args.name)
    path = Path(args.source_path).expanduser() if args.source_path else None
    if path is not None and not path.exists():
        raise BlackboxDataError(f"--from {path}: no such file or folder")
    options = {option.keyword: getattr(args, option.keyword) for option in _convert_options()}
    directory = source.run_convert(path, args.cache_dir, not args.no_progress, _print, options)
    _print(f"{args.name} is ready in {directory}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Check every checksum of a cache folder against its manifest."""
    from mfbench.blackbox.cache import read_manifest, verify_checksums

    directory = cache_root(args.cache_dir) / args.name
    manifest = read_manifest(directory, args.name, _rebuild_hint(args.name, directory))
    bad = verify_checksums(directory, manifest)
    if bad:
        raise BlackboxDataError(f"{directory}: checksum mismatch in {bad}; delete the folder and rebuild it")
    _print(f"{directory}: {len(manifest.get('files', {}))} files, all checksums match")
    return 0


def _rebuild_hint(entry: str, directory: Path) -> str:
    """The command that rebuilds the cache folder ``entry``, from the source that writes it.

    Raises:
        BlackboxDataError: ``entry`` is neither in the cache nor a registered source's folder.
    """
    owner = registry.owner(entry)
    if owner is not None:
        return owner.entries[entry]
    if entry in registry.sources():  # a source's name that is not one of its folders (nas201_offline)
        folders = list(registry.get(entry).entries)
        raise BlackboxDataError(f"{entry!r} is a data source, not a cache folder: verify one of {folders}")
    if not directory.is_dir():
        known = [folder for source in registry.sources().values() for folder in source.entries]
        raise BlackboxDataError(f"nothing named {entry!r} in the cache {directory.parent}; the data sources write "
                                f"{known} (python -m mfbench.data list shows what is there)")
    return "the run that made it (it belongs to no data source; mfbench rebuilds it when a run needs it again)"


def cmd_export(args: argparse.Namespace) -> int:
    """Export a benchmark's blackbox (composed and instantiated like a run's) as long-format parquet."""
    from mfbench.api import compose
    from mfbench.config.resolve import instantiate, resolve_config
    from mfbench.blackbox.export import export_long_format, parquet_path

    parquet_path(args.out)  # before the benchmark is built: a wrong name is refused at once
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


def _convert_options() -> list[registry.ConvertOption]:
    """The ``convert`` options of every source, one per keyword (sources may share one)."""
    options: dict[str, registry.ConvertOption] = {}
    for source in registry.sources().values():
        for option in source.options:
            options.setdefault(option.keyword, option)
    return list(options.values())


def _add_convert_options(command: argparse.ArgumentParser) -> None:
    """Add each source's ``convert`` options, the help naming the sources that read it."""
    for option in _convert_options():
        helps = [f"{name}: {own.help}" for name, source in registry.sources().items() for own in source.options
                 if own.keyword == option.keyword]
        kwargs: dict[str, Any] = {"action": "store_true"} if option.is_switch else {"default": None}
        command.add_argument(option.flag, dest=option.keyword, help="; ".join(helps), **kwargs)


def parser() -> argparse.ArgumentParser:
    """The command line, its choices and help texts derived from the registry of data sources."""
    sources = registry.sources()
    main = argparse.ArgumentParser(prog="python -m mfbench.data", description=__doc__.split("\n")[0],
                                   epilog="data sources:\n" + "\n".join(f"  {name:16s} {source.description}"
                                                                         for name, source in sources.items()),
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--cache-dir", default=None, help="cache root (default: $MFBENCH_CACHE or ~/.cache/mfbench/blackboxes)")
    common.add_argument("--no-progress", action="store_true", help="no progress bars")
    sub = main.add_subparsers(dest="command", required=True)
    sub.add_parser("list", parents=[common], help="what is in the cache").set_defaults(func=cmd_list)
    p = sub.add_parser("download", parents=[common], help="download and convert a blackbox")
    p.add_argument("name", choices=list(sources))
    remotes = [f"{name}: {' or '.join(r.name + (' (default)' if i == 0 else '') for i, r in enumerate(s.remotes))}"
               for name, s in sources.items() if s.downloadable]
    p.add_argument("--source", default=None, help="; ".join(remotes))
    p.add_argument("--url", default=None, help="another base URL (a mirror) for the files")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the server (default 30)")
    p.add_argument("--keep-download", action="store_true", help="keep the downloaded files after conversion")
    p.set_defaults(func=cmd_download)
    p = sub.add_parser("convert", parents=[common], help="convert downloaded data into the cache")
    p.add_argument("name", choices=list(sources))
    p.add_argument("--from", dest="source_path", default=None, help="the downloaded file or folder")
    _add_convert_options(p)
    p.set_defaults(func=cmd_convert)
    p = sub.add_parser("verify", parents=[common], help="check the checksums of a converted blackbox")
    p.add_argument("name", help="a folder of the cache (python -m mfbench.data list shows them), e.g. "
                                + ", ".join(folder for source in sources.values() for folder in source.entries))
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
    """Run the data command; return its exit code (2: a user error, printed as one line)."""
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
