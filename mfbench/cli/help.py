"""The parts of ``python -m mfbench --help`` that are read from the config tree.

``conf/hydra/help/mfbench.yaml`` holds the help's prose (what mfbench does, examples,
companion commands) and calls the resolver ``${mfbench_help:SECTION}`` for the lists that
must not go stale: the config groups and their options, the top-level keys, which
benchmarks need data, the experiment presets and the launchers. They are derived from the
folders of ``conf/`` and the data registry when ``--help`` is asked for, so a new YAML shows
up by itself; Hydra's raw listing (``$APP_CONFIG_GROUPS``: one line of 46 benchmarks) is not
used. ``--hydra-help`` stays Hydra's.

Cheap on purpose (``--help`` takes about a second): YAML files and the data registry are read
only inside the resolver, the data section once. And only when the help is shown: Hydra
dereferences the template whenever it merges its own config over ``hydra.help``, that is at
every composition (twice per run), so until :func:`render_help_sections` is called the resolver
answers a placeholder; building the sections there would cost a run ~0.15 s, a seventh of a
short run's process. (``--cfg all --resolve`` therefore shows the placeholder too.) The registry's import (it imports numpy,
nothing heavier) is most of what this adds to Hydra's own help: ``benchmarks/time_cli_help.py``
measures it.
"""
from __future__ import annotations

import functools
import textwrap
from pathlib import Path
from typing import Any, Callable, Mapping

from omegaconf import DictConfig, OmegaConf

from mfbench.config.choices import collapse_options, options_text
from mfbench.config.tree import config_dir, config_groups, group_options, option_file

#: the resolver's name, as the help template calls it
RESOLVER = "mfbench_help"
#: the help's line width, and the indentation of the lists under a section title
WIDTH = 100
INDENT = "  "
#: a value that the user must set (OmegaConf's mandatory marker)
MANDATORY = "???"


#: what a section reads in a process that does not show the help (see :func:`render_help_sections`)
PLACEHOLDER = "(shown by python -m mfbench --help)"

_rendering = False


def register_help_resolver() -> None:
    """Register ``${mfbench_help:SECTION}`` (idempotent: a second registration is skipped)."""
    if not OmegaConf.has_resolver(RESOLVER):
        OmegaConf.register_new_resolver(RESOLVER, _resolve)


def render_help_sections(on: bool = True) -> None:
    """Let the resolver build the sections (the command line asks for ``--help``); before this
    call, and after ``render_help_sections(False)``, it answers :data:`PLACEHOLDER`."""
    global _rendering
    _rendering = on


def asks_for_help(argv: list[str]) -> bool:
    """Whether Hydra will show the application's help for these arguments (``--help``, ``-h``,
    read by Hydra's own parser, so its abbreviations count too)."""
    import contextlib
    import io

    from hydra._internal.utils import get_args_parser

    try:  # silently: Hydra parses the arguments again, and reports what is wrong with them itself
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            known, _ = get_args_parser().parse_known_args(argv)
    except SystemExit:  # malformed arguments, or --version: the help is not shown
        return False
    return bool(known.help)


def _resolve(section: str, *, _root_: DictConfig) -> str:
    """One section of the help; ``_root_`` is the composed config, with ``hydra`` (its choices)."""
    try:
        build = SECTIONS[section]
    except KeyError:
        raise ValueError(f"${{{RESOLVER}:{section}}}: no such help section; known: {', '.join(SECTIONS)}") from None
    if not _rendering:
        return PLACEHOLDER
    # the template goes through string.Template after this: a literal $ must be written $$
    return build(_root_, config_dir()).replace("$", "$$")


def _choices(root: DictConfig) -> Mapping[str, Any]:
    """The option each group has in the composed config (after the command line's overrides)."""
    try:
        return dict(root.hydra.runtime.choices)
    except Exception:  # composed without Hydra's runtime (a test): no current choices to mark
        return {}


#: textwrap breaks lines at ASCII whitespace only: a no-break space keeps a command on one line
_NO_BREAK = "\u00a0"


def _wrap(title: str, text: str, width: int = 18) -> str:
    """``title`` in a column of ``width``, ``text`` wrapped beside it (hanging indent)."""
    first = f"{INDENT}{title:<{width - 1}} " if title and len(title) < width - 1 else f"{INDENT}{title}"
    wrapped = textwrap.fill(text, WIDTH, initial_indent=first, subsequent_indent=" " * (len(INDENT) + width),
                            break_on_hyphens=False, break_long_words=False)
    return wrapped.replace(_NO_BREAK, " ")


def _unbroken(command: str) -> str:
    """``command`` kept on one line by :func:`_wrap`."""
    return command.replace(" ", _NO_BREAK)


def _user_groups(conf: str) -> list[str]:
    """The groups a user picks options of (not Hydra's own ``hydra/...``)."""
    return [group for group in config_groups(conf) if group.split("/")[0] != "hydra"]


def groups_section(root: DictConfig, conf: str) -> str:
    """Each group with its options; ``*`` marks the option of the composed config."""
    choices = _choices(root)
    lines = []
    for group in _user_groups(conf):
        options = group_options(group, conf)
        current = choices.get(group)
        marked = [f"{option}*" if option == current else option for option in collapse_options(options)]
        lines.append(_wrap(group, ", ".join(marked)))
    return "\n".join(lines)


def keys_section(root: DictConfig, conf: str) -> str:
    """The top-level keys that are not groups, with their values in the composed config."""
    groups = {group.split("/")[0] for group in config_groups(conf)}
    values = [f"{key}={_yaml_value(root[key])}" for key in root if key not in groups]
    return _wrap("", "  ".join(values), width=0)


def _yaml_value(value: Any) -> str:
    """A value as it is typed on the command line (``null``, ``true``)."""
    if value is None:
        return "null"
    return str(value).lower() if isinstance(value, bool) else str(value)


def _load(group: str, option: str, conf: str) -> dict[str, Any]:
    """``group=option`` with the options of its group that its defaults list names merged below it
    (``yahpo_lcbench_3945`` is ``yahpo_lcbench`` + its task), without interpolations resolved."""
    import yaml  # OmegaConf's own dependency, imported by it already

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's: 46 benchmark files in ~10 ms
    node = yaml.load(option_file(group, option, conf).read_text(), Loader=loader) or {}
    merged: dict[str, Any] = {}
    for entry in node.pop("defaults", None) or []:
        if isinstance(entry, str) and entry != "_self_" and option_file(group, entry, conf).is_file():
            merged = _merge(merged, _load(group, entry, conf))
    return _merge(merged, node)


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        merged[key] = _merge(merged[key], value) if isinstance(value, Mapping) and isinstance(
            merged.get(key), dict) else value
    return merged


def data_section(root: DictConfig, conf: str) -> str:
    """Which benchmarks need data first: see :func:`_data_lines`."""
    return _data_lines(conf)


@functools.lru_cache(maxsize=None)  # Hydra reads the template twice; the registry import is the cost of --help
def _data_lines(conf: str) -> str:
    """Which benchmarks need data first, and the command that gets it (from the data registry).

    A benchmark whose blackbox factory is a registered data source's needs that source's data
    (a factory that wraps another, or a benchmark factory, names its source in a
    ``data_source`` attribute):
    ``download NAME`` when the source has remotes, else what the registry says happens (the
    offline NB201 tables are built on first use). One with mandatory values (``???``) needs
    them from the user (``table``: the file). The others need nothing.
    """
    from mfbench.blackbox.sources.registry import sources

    by_factory = {f"{s.factory.__module__}.{s.factory.__name__}": s for s in sources().values()}
    download: dict[str, list[str]] = {}
    built: dict[str, list[str]] = {}
    yours: list[str] = []
    nothing: list[str] = []
    for option in group_options("benchmark", conf):
        node = _load("benchmark", option, conf)
        blackbox = node.get("blackbox")
        targets = [str(blackbox.get("_target_"))] if isinstance(blackbox, Mapping) else []
        source = next((by_factory[t] for t in targets if t in by_factory), None)
        if source is None:
            named = next(filter(None, (_declared_source(t) for t in [*targets, str(node.get("_target_"))])), None)
            source = sources().get(named) if named else None
        mandatory = [key for key, value in node.items() if value == MANDATORY]
        if source is not None and source.downloadable:
            download.setdefault(f"python -m mfbench.data download {source.name}", []).append(option)
        elif source is not None:
            built.setdefault(source.missing_hint(), []).append(option)
        elif mandatory:
            yours.append(f"{option} (" + " ".join(f"benchmark.{key}=..." for key in mandatory) + ")")
        else:
            nothing.append(option)
    lines = [_wrap("download first:", f"{_unbroken(command)} for {options_text(options)}")
             for command, options in download.items()]
    lines += [_wrap("no download:", f"{options_text(options)}: {hint}") for hint, options in built.items()]
    lines += [_wrap("your own data:", ", ".join(yours))] if yours else []
    lines += [_wrap("nothing needed:", options_text(nothing))] if nothing else []
    return "\n".join(lines)


def _declared_source(target: str) -> str | None:
    """The ``data_source`` a factory declares (None if it declares none or does not import)."""
    import importlib

    module, _, name = target.rpartition(".")
    if not module.startswith("mfbench."):
        return None
    try:
        return getattr(getattr(importlib.import_module(module), name, None), "data_source", None)
    except ImportError:
        return None


def _summary(path: Path) -> str:
    """The first line of a YAML's header comment, up to its first ``: `` or ``. `` (``A quick look
    (seconds)``); an unclosed parenthesis at the line's end is dropped."""
    for line in path.read_text().splitlines():
        text = line.lstrip("#").strip()
        if not line.startswith("#") or not text or text.startswith("@package"):
            continue
        for stop in (": ", ". "):
            text = text.split(stop, 1)[0]
        text = text.rstrip(".,;")
        if text.count("(") > text.count(")"):
            text = text[:text.rfind("(")].rstrip()
        return text
    return ""


def _described(group: str, conf: str) -> str:
    """Each option of ``group`` with the summary of its YAML."""
    return "\n".join(_wrap(option, _summary(option_file(group, option, conf)))
                     for option in group_options(group, conf))


def presets_section(root: DictConfig, conf: str) -> str:
    """The experiment presets (``experiment=NAME``)."""
    return _described("experiment", conf)


def launchers_section(root: DictConfig, conf: str) -> str:
    """The launcher presets of ``conf/hydra/launcher/`` (``hydra/launcher=NAME``)."""
    return _described("hydra/launcher", conf)


#: the sections the template can ask for
SECTIONS: dict[str, Callable[[DictConfig, str], str]] = {
    "groups": groups_section,
    "keys": keys_section,
    "data": data_section,
    "presets": presets_section,
    "launchers": launchers_section,
}
