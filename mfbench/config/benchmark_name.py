"""A benchmark's name: the folder of its runs, ``benchmark`` in their metadata, the analysis' grouping.

A benchmark YAML is named after its option (``benchmark=hartmann3`` -> ``hartmann3``). The
two bring-your-own options are generic, so their option name would put every table (every
callable) of a study into one folder; they are named after what they read instead:

- ``benchmark=table``: the table file's stem, without its format and compression suffixes
  (``data/curves.csv.gz`` -> ``curves``);
- ``benchmark=function``: the callable's name (``my_module.objective`` or
  ``path/file.py:objective`` -> ``objective``);
- either, with ``benchmark.name=NAME``: ``NAME`` (for two files with the same stem).

A YAHPO Gym benchmark is one instance (an OpenML task) of a scenario, and its YAML's instance
is a key a sweep can vary (``benchmark=yahpo_rbv2_xgboost benchmark.blackbox.instance=29,1220``),
so its name ends with the instance, and for ``benchmark=yahpo`` with the scenario too
(``yahpo_rbv2_xgboost_1220``, ``yahpo_lcbench_7593``): two instances never share a folder. A
part the option already names is not repeated (``yahpo_lcbench_3945`` stays as it is, and so
does a name read back from a run's metadata). Runs finished before this naming live in the
option's folder (``yahpo_rbv2_xgboost/``); :mod:`mfbench.results.benchmark_folder` finds them
there by their fingerprint, which the name is no part of.

A derived name is made filesystem-safe (every character but letters, digits, ``.``, ``_``
and ``-`` becomes ``_``); an explicit one must already be. The run directory of
``conf/config.yaml`` gets the name from the resolver ``${mfbench_benchmark_name:<option>}``
(:func:`register_resolver`, registered before Hydra composes), the metadata from
:func:`benchmark_name`: both read the same config, so the sweeper's plan, the job's run
directory and the metadata agree.
"""
from __future__ import annotations

import re
from pathlib import PurePath
from typing import Any, Mapping

from mfbench.errors import ConfigError

#: the generic options, and the key of their config node the name is derived from
GENERIC_OPTIONS: dict[str, str] = {"table": "path", "function": "target"}
#: the key of a benchmark node that names the benchmark explicitly (``benchmark.name=...``)
NAME_KEY = "name"
#: compression suffixes a table file may end with (those :mod:`mfbench.blackbox.long_table` reads)
_COMPRESSION_SUFFIXES = (".gz", ".bz2", ".zst", ".lz4")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_SAFE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")
#: the OmegaConf resolver ``conf/config.yaml`` names the run directory with
RESOLVER = "mfbench_benchmark_name"
#: ``_target_`` prefixes of YAHPO Gym benchmarks (of the node, or of its ``blackbox``): the
#: generic ``benchmark=yahpo`` factory and the two YAHPO data sources' blackbox factories
YAHPO_TARGETS = ("mfbench.benchmarks.yahpo.", "mfbench.blackbox.sources.yahpo.",
                 "mfbench.blackbox.sources.yahpo_lcbench.")
#: the keys of a YAHPO node (or of its ``blackbox``) that name the benchmark's instance, in name order
INSTANCE_KEYS = ("scenario", "instance")


def benchmark_name(option: str, node: Mapping[str, Any] | None) -> str:
    """The name of the benchmark chosen as ``benchmark=<option>`` with config ``node``.

    Args:
        option: the chosen option of the group ``benchmark`` (e.g. ``"table"``).
        node: the resolved ``benchmark`` node (or None: the option names it).

    Raises:
        ConfigError: an explicit ``benchmark.name`` that is not filesystem-safe.
    """
    node = node or {}
    explicit = node.get(NAME_KEY)
    if explicit is not None:
        return check_name(str(explicit))
    if option not in GENERIC_OPTIONS:
        return option + instance_suffix(option, node)
    source = node.get(GENERIC_OPTIONS[option])
    if not isinstance(source, str) or not source:  # a missing path (``???``): its error comes later, at resolve
        return option
    derived = table_stem(source) if option == "table" else callable_name(source)
    return safe_name(derived) or option


def instance_suffix(option: str, node: Mapping[str, Any]) -> str:
    """``"_<scenario>_<instance>"`` of a YAHPO benchmark node, without the parts ``option`` names already.

    ``""`` for any other benchmark (its option names it), and for a part that is unset
    (``instance: null``, the scenario's default: the option plus the scenario names it).
    A part counts as named when it is one or more whole ``_``-separated words of the option
    (``rbv2_xgboost`` in ``yahpo_rbv2_xgboost``, ``3945`` in ``yahpo_lcbench_3945``, not
    ``29`` in ``yahpo_lcbench_2900``).
    """
    blackbox = node.get("blackbox")
    blackbox = blackbox if isinstance(blackbox, Mapping) else {}
    if not any(str(where.get("_target_") or "").startswith(YAHPO_TARGETS) for where in (node, blackbox)):
        return ""
    suffix = ""
    for key in INSTANCE_KEYS:
        value = node.get(key)
        value = blackbox.get(key) if value is None else value
        if value is None or value == "" or f"_{value}_" in f"_{option}{suffix}_":
            continue
        suffix += f"_{safe_name(str(value))}"
    return suffix


def table_stem(path: str) -> str:
    """``data/curves.csv.gz`` -> ``curves``: the file name without its compression and format suffixes."""
    name = PurePath(path).name
    for suffix in _COMPRESSION_SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return PurePath(name).stem if "." in name.lstrip(".") else name


def callable_name(target: str) -> str:
    """``pkg.module.objective`` or ``path/file.py:objective`` -> ``objective``."""
    return target.rsplit(":", 1)[-1].rsplit(".", 1)[-1]


def safe_name(name: str) -> str:
    """``name`` with every character that is not a letter, digit, ``.``, ``_`` or ``-`` replaced by ``_``.

    Leading dots are dropped too: a hidden folder is skipped by the status command.
    """
    return _UNSAFE.sub("_", name).lstrip(".")


def check_name(name: str) -> str:
    """An explicit name, if it is a safe folder name (letters, digits, ``.``, ``_``, ``-``; no leading dot)."""
    if not _SAFE.fullmatch(name):
        raise ConfigError(f"benchmark.name={name!r} names the run folder: use letters, digits, '.', '_' and '-' "
                          f"only, not starting with '.' (e.g. benchmark.name={safe_name(name) or 'my_table'})")
    return name


def _resolve(option: str, *, _root_: Any) -> str:
    """The resolver: the name from the option and the composed config's ``benchmark`` node.

    Missing values (``benchmark.path=???``) are read as None rather than raised here: the
    run directory is resolved before the run, whose own check words that error.
    """
    from omegaconf import OmegaConf

    def select(key: str) -> Any:
        return OmegaConf.select(_root_, f"benchmark.{key}", default=None, throw_on_missing=False)

    # only the keys the name is made of: the rest of the node may hold values missing until the run
    keys = (NAME_KEY, *GENERIC_OPTIONS.values(), "_target_", *INSTANCE_KEYS)
    node: dict[str, Any] = {key: select(key) for key in keys}
    node["blackbox"] = {key: select(f"blackbox.{key}") for key in ("_target_", *INSTANCE_KEYS)}
    return benchmark_name(option, node)


def register_resolver() -> None:
    """Register ``${mfbench_benchmark_name:<option>}`` with OmegaConf (idempotent)."""
    from omegaconf import OmegaConf

    if not OmegaConf.has_resolver(RESOLVER):
        OmegaConf.register_new_resolver(RESOLVER, _resolve)


def benchmark_source(option: str, node: Mapping[str, Any] | None) -> str | None:
    """What a generic benchmark reads, to tell two benchmarks of the same name apart (None: not generic).

    ``benchmark=table``: the table's absolute path; ``benchmark=function``: the target and its
    ``target_kwargs``. A benchmark YAML of its own (``hartmann3``, ``function_example``) is one
    benchmark by construction: None.
    """
    import json
    from pathlib import Path

    node = node or {}
    if option == "table" and isinstance(node.get("path"), str):
        return str(Path(node["path"]).expanduser().resolve())
    if option == "function" and isinstance(node.get("target"), str):
        kwargs = node.get("target_kwargs")
        return node["target"] + (f" {json.dumps(kwargs, sort_keys=True, default=str)}" if kwargs else "")
    return None
