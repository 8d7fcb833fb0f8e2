"""The fewest ``python -m mfbench -m ...`` lines that cover a set of runs.

Runs are lists of ``key=value`` overrides. Runs with the same keys are merged into cartesian
blocks, one dimension at a time from the last key to the first: ``method=a seed=1``,
``method=a seed=2``, ``method=b seed=1``, ``method=b seed=2`` become
``method=a,b seed=1,2``. Each block is one Hydra multirun command that runs exactly its runs
(a resumed sweep skips finished runs anyway, so a block that covers more is harmless).
"""
from __future__ import annotations

import shlex
from collections import OrderedDict
from typing import Iterable, Sequence

PROGRAM = "python -m mfbench"


def split_override(override: str) -> tuple[str, str]:
    """``"method=asha_stop"`` -> ``("method", "asha_stop")``."""
    key, sep, value = override.partition("=")
    if not sep:
        raise ValueError(f"not a key=value override: {override!r}")
    return key, value


def _merge_dimension(blocks: list[tuple[tuple[str, ...], ...]], dim: int) -> list[tuple[tuple[str, ...], ...]]:
    merged: OrderedDict[tuple[tuple[str, ...], ...], list[str]] = OrderedDict()
    for block in blocks:
        rest = block[:dim] + block[dim + 1:]
        values = merged.setdefault(rest, [])
        values.extend(v for v in block[dim] if v not in values)
    return [rest[:dim] + (tuple(values),) + rest[dim:] for rest, values in merged.items()]


def cartesian_blocks(runs: Iterable[Sequence[str]]) -> list[list[tuple[str, tuple[str, ...]]]]:
    """Cover ``runs`` with cartesian blocks; each block is ``[(key, values), ...]``.

    Args:
        runs: each a list of ``key=value`` overrides.

    Returns:
        Blocks whose products are exactly the given runs (duplicates removed).
    """
    groups: OrderedDict[tuple[str, ...], list[tuple[tuple[str, ...], ...]]] = OrderedDict()
    for run in runs:
        pairs = [split_override(o) for o in run]
        keys = tuple(k for k, _ in pairs)
        block = tuple((v,) for _, v in pairs)
        if block not in groups.setdefault(keys, []):
            groups[keys].append(block)
    result = []
    for keys, blocks in groups.items():
        for dim in reversed(range(len(keys))):
            blocks = _merge_dimension(blocks, dim)
        result.extend([list(zip(keys, block)) for block in blocks])
    return result


def format_values(values: Sequence[str]) -> str:
    """``1,2,3,4`` as ``range(1,5)`` when the values are >= 3 consecutive integers, else comma-joined."""
    try:
        numbers = [int(v) for v in values]
    except ValueError:
        return ",".join(values)
    if any(str(n) != v for n, v in zip(numbers, values)):  # e.g. "007" or "+1": keep as written
        return ",".join(values)
    numbers.sort()
    if len(numbers) >= 3 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"range({numbers[0]},{numbers[-1] + 1})"
    return ",".join(str(n) for n in numbers)


def commands(runs: Iterable[Sequence[str]], hydra_overrides: Sequence[str] = (), program: str = PROGRAM) -> list[str]:
    """Shell command lines that run exactly ``runs`` (as a multirun each).

    Args:
        runs: each a list of ``key=value`` task overrides.
        hydra_overrides: overrides of the ``hydra`` node to repeat (launcher choice, ...).
        program: the command that starts mfbench.
    """
    lines = []
    for block in cartesian_blocks(runs):
        parts = [program, "-m"] + [shlex.quote(o) for o in hydra_overrides]
        parts += [shlex.quote(f"{key}={format_values(values)}") for key, values in block]
        lines.append(" ".join(parts))
    return lines
