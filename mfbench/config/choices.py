"""Words for a name the config does not have: did-you-mean and the list of what exists.

One wording for every way a name can be wrong: an option of a group (``method=asha_promo``),
a group or top-level key (``methd=asha_stop``, ``+n_workrs=2``) or a key inside a node
(``method.grace_perod=2``), whether it comes from a single run (:mod:`mfbench.cli.main`),
a sweep (:mod:`mfbench.sweeps.sweeper`) or the validation of a node
(:mod:`mfbench.config.validation`).

Long families of numbered options (the 34 ``yahpo_lcbench_<task>`` benchmarks) are listed
as one entry, so that a list of options stays one readable line; the did-you-mean still
looks at every option.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

#: a numbered member of a family, e.g. ``yahpo_lcbench_3945``
_NUMBERED = re.compile(r"^(?P<family>.+)_(?P<number>\d+)$")
#: fewer numbered options than this are listed one by one (not worth a placeholder)
MIN_FAMILY = 4


def close_matches(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The candidates closest to ``name``, best first: difflib's ratio >= 0.6 and within 0.05 of
    the best one (``yahpo_lcbench_3946``: ``yahpo_lcbench_3945``, not also ``..._34539``); one that differs
    only in case or starts with ``name`` counts as close too."""
    candidates = list(dict.fromkeys(candidates))
    scored = sorted(((difflib.SequenceMatcher(None, name, c).ratio(), c) for c in candidates), key=lambda x: -x[0])
    best = scored[0][0] if scored else 0.0
    matches = [c for ratio, c in scored if ratio >= 0.6 and ratio >= best - 0.05]
    # difflib misses a prefix typed in full (``hyper`` for ``hypertune_indep``): add those
    matches += [c for c in candidates if c not in matches and (c.lower() == name.lower() or c.startswith(name))]
    return matches[:n]


def did_you_mean(name: str, candidates: Iterable[str], prefix: str = "") -> str:
    """``"did you mean asha_prom?"`` (or ``"... a or b?"``), ``""`` when nothing is close;
    ``prefix`` is put before each match (``method.`` for a key of ``method``)."""
    matches = [prefix + match for match in close_matches(name, candidates)]
    if not matches:
        return ""
    return "did you mean " + (matches[0] if len(matches) == 1 else ", ".join(matches[:-1]) + " or " + matches[-1]) + "?"


def collapse_options(options: Sequence[str], shown: int = 3) -> list[str]:
    """``options`` with each family of at least :data:`MIN_FAMILY` numbered options as one entry.

    ``yahpo_lcbench_3945 ... yahpo_lcbench_7593`` (34 of them) becomes
    ``yahpo_lcbench_<task> (34 tasks: 3945, 7593, 34539, ..., 189909)``, in the place of the
    family's first member; the numbers are sorted as numbers, ``shown`` of them and the last.
    """
    families: dict[str, list[str]] = {}
    for option in options:
        match = _NUMBERED.match(option)
        if match:
            families.setdefault(match["family"], []).append(match["number"])
    collapsed = {family: sorted(numbers, key=int) for family, numbers in families.items() if len(numbers) >= MIN_FAMILY}
    result: list[str] = []
    listed_families: set[str] = set()
    for option in options:
        match = _NUMBERED.match(option)
        if not match or match["family"] not in collapsed:
            result.append(option)
        elif match["family"] not in listed_families:  # the family's first member stands for all of them
            listed_families.add(match["family"])
            numbers = collapsed[match["family"]]
            listed = numbers if len(numbers) <= shown + 1 else numbers[:shown] + ["...", numbers[-1]]
            result.append(f"{match['family']}_<task> ({len(numbers)} tasks: {', '.join(listed)})")
    return result


def options_text(options: Sequence[str]) -> str:
    """The options as one line: comma-separated, numbered families collapsed."""
    return ", ".join(collapse_options(options))


@dataclass(frozen=True)
class UnknownName:
    """A name that the config tree or a config node does not have.

    Attributes:
        kind: what was looked for, as the message names it: a group (``method``: an option of
            it), ``"group or key"`` (top level) or ``"key"`` (inside a node).
        name: what was given (``asha_promo``, ``methd``, ``grace_perod``).
        options: what exists there, in the order to list them.
        listing: how the list is introduced (``"method options (conf/method/)"``).
        node: the node of a key (``method``), shown before the name and the suggestions.
    """

    kind: str
    name: str
    options: tuple[str, ...]
    listing: str
    node: str = ""

    @classmethod
    def option(cls, group: str, name: str, options: Iterable[str]) -> "UnknownName":
        """``group=name`` names no YAML of the group."""
        return cls(group, name, tuple(options), f"{group} options (conf/{group}/)")

    @classmethod
    def key(cls, node: str, name: str, keys: Iterable[str]) -> "UnknownName":
        """``name`` is no key of ``node`` (``""``: the top level, whose groups count as keys)."""
        keys = tuple(k for k in keys if not k.startswith("_") and k != "hydra")  # not for the user to set
        if not node:
            return cls("group or key", name, keys, "groups and keys")
        return cls("key", name, keys, f"keys of {node}", node)

    def _full(self, name: str) -> str:
        return f"{self.node}.{name}" if self.node else name

    def headline(self, runs: int | None = None) -> str:
        """``unknown method 'asha_promo' (did you mean asha_prom?)``; ``runs``: how many runs of a sweep."""
        notes = [f"{runs} run{'s' if runs != 1 else ''}"] if runs is not None else []
        hint = did_you_mean(self.name, self.options, prefix=self._full(""))
        notes += [hint] if hint else []
        return f"unknown {self.kind} '{self._full(self.name)}'" + (f" ({'; '.join(notes)})" if notes else "")

    def available(self) -> str:
        """``method options (conf/method/): asha6_stop, asha_prom, ...``."""
        return f"{self.listing}: {options_text(self.options) or 'none'}"

    def message(self) -> str:
        """The whole of it on one line."""
        return f"{self.headline()}; {self.available()}"


def unknown_name(error: BaseException) -> UnknownName | None:
    """What a Hydra composition error says is unknown, or None for any other error.

    Recognised: an option missing from a group (Hydra's ``MissingConfigException``, which
    carries the group's options) and an override of a key that does not exist (a
    ``ConfigCompositionException`` caused by OmegaConf's key error, which carries the node).
    Only composition errors qualify: a key error raised while a run runs is a bug to report
    as it is, not a typo on the command line.
    """
    from hydra.errors import ConfigCompositionException, MissingConfigException
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError

    if isinstance(error, MissingConfigException):
        options = getattr(error, "options", None)
        group, _, name = str(getattr(error, "missing_cfg_file", "") or "").rpartition("/")
        if options and group:  # no options: the primary config or a group that does not exist
            return UnknownName.option(group, name, sorted(options))
        return None
    if not isinstance(error, ConfigCompositionException):
        return None
    cause = error.__cause__
    if not isinstance(cause, (ConfigKeyError, ConfigAttributeError)):
        return None  # e.g. a value of the wrong type: Hydra's own message says it well
    full_key = str(getattr(cause, "full_key", "") or "")
    parent = getattr(cause, "parent_node", None)
    if not full_key or parent is None:
        return None
    node, _, name = full_key.rpartition(".")
    keys = [str(key) for key in parent.keys()]
    return UnknownName.key(node, name, with_top_level_groups(keys) if not node else keys)


def with_top_level_groups(keys: Iterable[str]) -> list[str]:
    """The top-level ``keys`` and the groups of the tree that are no key (a preset group such as
    ``experiment`` puts its values elsewhere, yet ``experiment=...`` is typed at the top level)."""
    from mfbench.config.tree import config_groups

    keys = list(keys)
    return keys + [group for group in config_groups() if "/" not in group and group not in keys and group != "hydra"]
