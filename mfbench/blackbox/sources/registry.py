"""The registry of data sources: what ``python -m mfbench.data`` can download, convert and verify.

A *data source* is one kind of benchmark data (the NB201 table, the offline NB201 tables,
the YAHPO LCBench surrogate). Everything about it lives in ONE module of this package,
which declares a module-level ``SOURCE = DataSource(...)``:

* ``name``: what the user types (``python -m mfbench.data convert NAME``);
* ``description``: one line, shown by ``list`` and in the commands' help;
* ``remotes``: where the data can be downloaded (:class:`Remote`: base URL, files, sha256,
  the hint for a manual download), the first one being the default of ``--source``; or
  none, with ``no_remote`` saying why (e.g. the data is built from an installed package);
* ``convert``: the converter, called as
  ``convert(path, cache_dir, progress=..., report=..., **options)`` where ``path`` is the
  downloaded file or folder (``None`` when ``needs_input`` is false), ``report`` prints one
  line per finished step, and ``options`` are the source's own ``convert`` options
  (:class:`ConvertOption`, e.g. ``--allow-partial``); it returns the directory it wrote;
* ``factory``: the blackbox factory that ``conf/benchmark/*.yaml`` names as ``_target_``;
* ``entries``: the cache folders the source writes, each with the command that rebuilds
  it (what ``verify`` and the factory's errors show when it is missing or corrupt);
* ``missing``: what ``list`` says while the data is not in the cache (default: the
  ``download`` command, or ``convert`` for a source without remotes).

:func:`sources` finds the sources by importing every module of this package and collecting
its ``SOURCE``; the data command (:mod:`mfbench.data.cli`) and the contract test
(``tests/blackbox/sources/test_sources_contract.py``) iterate over them, so neither names a
source.

How to add a data source (one module + one YAML)
    1. Write ``mfbench/blackbox/sources/<name>.py`` with the converter (it writes the cache
       folder through :func:`mfbench.blackbox.stored.write_tabular` for a table, or
       :func:`mfbench.blackbox.cache.staging` + :func:`~mfbench.blackbox.cache.write_manifest`
       for other files), the factory (it opens the folder with
       :func:`mfbench.blackbox.stored.open_tabular` or
       :func:`~mfbench.blackbox.cache.read_manifest`, quoting the rebuild command of its
       entry in every error), and ``SOURCE = DataSource(...)``. Import heavy dependencies
       inside the functions: ``list`` imports every source module.
    2. Write ``conf/benchmark/<name>.yaml`` whose ``blackbox._target_`` is the factory
       (``mfbench.blackbox.sources.<name>.<factory>``).
    3. Run ``tests/blackbox/sources/test_sources_contract.py``: it checks every registered
       source the same way (remotes or a reason for none, the converter on a small fixture in
       the source's original layout, the factory opening the converted data). Give it the
       fixture by adding the source's name to its ``FIXTURES``; a source without one fails
       there, not silently.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from mfbench.blackbox.cache import BlackboxDataError

#: the command every hint names
COMMAND = "python -m mfbench.data"


@dataclass(frozen=True)
class Remote:
    """One download location of a source: ``base`` URL + file names, optional checksums.

    Attributes:
        name: what ``--source`` calls it (e.g. ``syne-tune``).
        base: the base URL; the files are ``base/<file>`` (a single file with a query string,
            e.g. a Google Drive link, is the URL itself).
        files: the file names, downloaded into one folder.
        sha256: the expected hex digest per file (``None``: not known; the server's sha256
            header is still checked where it sends one).
        manual: how to download by hand and convert, appended to every download error.
        convert_file: the converter reads the (single) downloaded file, not its folder.
        direct: ``base`` is the URL of the (single) file itself, a download link that names no
            file (figshare's ``ndownloader/files/<id>``); ``files`` then only names the
            downloaded copy. ``--url`` replaces the link in the same way.
    """

    name: str
    base: str
    files: tuple[str, ...]
    sha256: tuple[str | None, ...] | None = None
    manual: str = ""
    convert_file: bool = False
    direct: bool = False

    def __post_init__(self) -> None:
        if self.sha256 is not None and len(self.sha256) != len(self.files):
            raise ValueError(f"remote {self.name!r}: {len(self.sha256)} checksums for {len(self.files)} files")
        if self.convert_file and len(self.files) != 1:
            raise ValueError(f"remote {self.name!r}: convert_file needs exactly one file")
        if self.direct and len(self.files) != 1:
            raise ValueError(f"remote {self.name!r}: a direct link downloads exactly one file")

    def url(self, file: str, base: str | None = None) -> str:
        """The URL of ``file`` under ``base`` (default: :attr:`base`; ``--url`` gives a mirror)."""
        base = base or self.base
        if len(self.files) == 1 and (self.direct or "?" in base):  # the link is the file's own URL
            return base
        return base.rstrip("/") + "/" + file

    def checksums(self) -> tuple[str | None, ...]:
        """The expected sha256 of each file (``None`` where unknown)."""
        return self.sha256 if self.sha256 is not None else (None,) * len(self.files)


@dataclass(frozen=True)
class ConvertOption:
    """A ``convert`` command-line option that a source understands.

    Attributes:
        flag: the option (e.g. ``--allow-partial``); sources may share one.
        keyword: the converter's keyword argument it sets (e.g. ``allow_partial``).
        help: what it does for this source.
        is_switch: a flag without a value (``store_true``); otherwise it takes one string.
    """

    flag: str
    keyword: str
    help: str
    is_switch: bool = False


@dataclass(frozen=True)
class DataSource:
    """One data source: its name, remotes, converter, factory and cache entries.

    See the module docstring for the meaning of each field and how to add a source.
    """

    name: str
    description: str
    convert: Callable[..., Path]
    factory: Callable[..., Any]
    entries: Mapping[str, str]
    remotes: tuple[Remote, ...] = ()
    no_remote: str = ""
    needs_input: bool = True
    options: tuple[ConvertOption, ...] = ()
    missing: str = ""

    def __post_init__(self) -> None:
        if not self.remotes and not self.no_remote:
            raise ValueError(f"data source {self.name!r}: declare remotes, or say in no_remote why there are none")
        if not self.entries:
            raise ValueError(f"data source {self.name!r}: declare the cache folders it writes (entries)")
        if len({r.name for r in self.remotes}) != len(self.remotes):
            raise ValueError(f"data source {self.name!r}: two remotes share a name")

    @property
    def downloadable(self) -> bool:
        """Whether ``download NAME`` fetches anything."""
        return bool(self.remotes)

    def missing_hint(self) -> str:
        """What ``list`` says while the source's data is not in the cache."""
        if self.missing:
            return self.missing
        return f"not converted: {COMMAND} {'download' if self.remotes else 'convert'} {self.name}"

    def remote(self, name: str | None) -> Remote:
        """The remote called ``name`` (``None``: the default, the first one).

        Raises:
            BlackboxDataError: the source has no remote of that name.
        """
        if not self.remotes:
            raise BlackboxDataError(f"nothing to download for {self.name!r} ({self.name} {self.no_remote})")
        if name is None:
            return self.remotes[0]
        for remote in self.remotes:
            if remote.name == name:
                return remote
        raise BlackboxDataError(f"unknown --source {name!r} for {self.name}; choose one of "
                                f"{sorted(r.name for r in self.remotes)}")

    def run_convert(self, path: Path | None, cache_dir: str | None, progress: bool,
                    report: Callable[[str], None], options: Mapping[str, Any]) -> Path:
        """Call the converter with the options this source declares (the others are ignored).

        Raises:
            BlackboxDataError: the source needs ``--from PATH`` and got none, or takes no input
                and got one (it would be ignored: say so rather than build from something else).
        """
        if self.needs_input and path is None:
            raise BlackboxDataError(f"convert {self.name} needs --from PATH (the downloaded data)")
        if not self.needs_input and path is not None:
            raise BlackboxDataError(f"convert {self.name} takes no --from: {self.description}; drop --from {path}")
        own = {option.keyword: options[option.keyword] for option in self.options if option.keyword in options}
        return self.convert(path, cache_dir, progress=progress, report=report, **own)


def _discover() -> dict[str, DataSource]:
    """Import every module of this package and collect its ``SOURCE``, by name."""
    package = importlib.import_module(__name__.rpartition(".")[0])
    found: dict[str, DataSource] = {}
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if module_info.name == __name__.rpartition(".")[2]:
            continue
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        source = getattr(module, "SOURCE", None)
        if not isinstance(source, DataSource):
            continue
        if source.name in found:
            raise ValueError(f"two modules declare the data source {source.name!r}")
        found[source.name] = source
    return found


_SOURCES: dict[str, DataSource] | None = None


def sources() -> dict[str, DataSource]:
    """Every registered data source, by name (sorted)."""
    global _SOURCES
    if _SOURCES is None:  # imported once: the modules do not change while the process runs
        _SOURCES = dict(sorted(_discover().items()))
    return _SOURCES


def get(name: str) -> DataSource:
    """The source called ``name``.

    Raises:
        BlackboxDataError: no such source (the message lists the known ones).
    """
    try:
        return sources()[name]
    except KeyError:
        raise BlackboxDataError(f"unknown blackbox {name!r}; known: {list(sources())}") from None


def owner(entry: str) -> DataSource | None:
    """The source that writes the cache folder ``entry`` (``None``: no registered source does)."""
    for source in sources().values():
        if entry in source.entries:
            return source
    return None
