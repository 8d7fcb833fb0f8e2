"""The fingerprint of a resolved config: what a finished run is recognised by.

A run directory holds the fingerprint of the config that produced it; a re-run with the same
fingerprint is skipped, one with another is refused (``overwrite=true`` replaces it). Moving a
class to another module changes its ``_target_`` and so the fingerprint, though the run is the
same: :data:`MOVED_TARGETS` lists every such move, and :func:`current_fingerprint` gives a
finished run's fingerprint under today's names, so a sweep started before a move resumes after it.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping

#: top-level keys that change how a run is shown or stored, not what it computes
_NON_SEMANTIC = {"overwrite", "progress"}
#: keys of the ``benchmark`` node that only name the run's folder (``benchmark.name`` of the
#: table / function benchmarks): left out, so that a table run finished before the key
#: existed keeps its fingerprint, and renaming a benchmark does not make it another run
_NON_SEMANTIC_BENCHMARK = {"name"}

#: options added to a group node after runs were fingerprinted, whose ``None`` means the behaviour
#: of before they existed: a key at ``None`` hashes like an absent key, so YAMLs can declare them
#: (``benchmark.surrogate=knn`` then needs no ``+``) and the runs of before keep their fingerprint.
#: Only these keys: dropping every ``None`` would change the fingerprint of every finished run
#: whose config holds one (e.g. ``cache_dir: null``).
OPTIONAL_KEYS: dict[str, frozenset[str]] = {
    "benchmark": frozenset({"surrogate", "surrogate_kwargs", "config_space_surrogate", "surrogate_seeds"}),
}

#: ``_target_`` names that moved (old -> new); the objects they build are unchanged
MOVED_TARGETS: dict[str, str] = {
    "mfbench.benchmark.Benchmark": "mfbench.benchmarks.base.Benchmark",
    "mfbench.stopping.StoppingCriterion": "mfbench.backend.stopping.StoppingCriterion",
    "mfbench.schedulers.fifo.FIFOScheduler": "mfbench.schedulers.random_search.RandomSearch",
    "mfbench.searchers.kde.KDESearcher": "mfbench.searchers.bohb_kde.KDESearcher",
    "mfbench.blackbox.sources.user_table.table_benchmark": "mfbench.benchmarks.table.table_benchmark",
    "mfbench.blackbox.sources.user_function.function_benchmark": "mfbench.benchmarks.function.function_benchmark",
}


def config_fingerprint(config: Mapping[str, Any]) -> str:
    """sha256 of the semantic part of a resolved config (what determines the results)."""
    semantic = {k: _without_unset_options(k, v) for k, v in config.items() if k not in _NON_SEMANTIC}
    benchmark = semantic.get("benchmark")
    if isinstance(benchmark, Mapping):
        semantic["benchmark"] = {k: v for k, v in benchmark.items() if k not in _NON_SEMANTIC_BENCHMARK}
    return hashlib.sha256(json.dumps(semantic, sort_keys=True, default=str).encode()).hexdigest()


def _without_unset_options(group: str, node: Any) -> Any:
    """``node`` without the :data:`OPTIONAL_KEYS` of ``group`` that are ``None``."""
    optional = OPTIONAL_KEYS.get(group)
    if not optional or not isinstance(node, Mapping):
        return node
    return {k: v for k, v in node.items() if not (k in optional and v is None)}


def upgrade_targets(node: Any) -> Any:
    """A copy of a config (node) with every moved ``_target_`` renamed to its current name."""
    if isinstance(node, Mapping):
        return {key: (MOVED_TARGETS.get(value, value) if key == "_target_" and isinstance(value, str)
                      else upgrade_targets(value)) for key, value in node.items()}
    if isinstance(node, list):
        return [upgrade_targets(value) for value in node]
    return node


def current_fingerprint(config: Mapping[str, Any], stored: str | None) -> str | None:
    """The fingerprint of a stored run's ``config`` under today's ``_target_`` names.

    ``stored`` (the fingerprint written with the run) is returned unchanged unless the config
    names a moved target and really hashes to ``stored``: a config that does not match its
    own fingerprint is never vouched for by a recomputed one.
    """
    upgraded = upgrade_targets(config)
    if upgraded == config or config_fingerprint(config) != stored:
        return stored
    return config_fingerprint(upgraded)
