"""How error messages name what is wrong in a table: rows, configurations, fidelity ranges.

A message shows at most :data:`SHOWN` offenders: enough to find the pattern, short enough
to read on one screen even for a table of millions of rows.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from mfbench.blackbox.stored import decode_configurations
from mfbench.space import Hyperparameter

#: how many offending configurations / rows an error message lists
SHOWN = 5


class RowNames:
    """How rows are named in messages: ``row 3`` (parquet) or ``line 4`` (CSV, header = line 1).

    A CSV is opened in a text editor, which numbers lines; a parquet file in a data-frame
    viewer, which numbers rows from 1.
    """

    def __init__(self, csv: bool) -> None:
        self.csv = csv

    def __call__(self, rows: Sequence[int] | np.ndarray) -> str:
        rows = [int(r) for r in list(rows)[:SHOWN]]
        if self.csv:
            return ("lines " if len(rows) > 1 else "line ") + ", ".join(str(r + 2) for r in rows)
        return ("rows " if len(rows) > 1 else "row ") + ", ".join(str(r + 1) for r in rows)


def ranges(values: Sequence[int]) -> str:
    """``[1, 2, 3, 7]`` -> ``"1..3, 7"``."""
    parts, start = [], None
    values = list(values)
    for i, v in enumerate(values):
        if start is None:
            start = v
        if i + 1 == len(values) or values[i + 1] != v + 1:
            parts.append(str(start) if start == v else f"{start}..{v}")
            start = None
    return ", ".join(parts)


def describe_config(configurations: np.ndarray, hps: Sequence[Hyperparameter], index: int) -> str:
    """Configuration ``index`` as the user wrote it: ``{lr: 0.01, optimizer: 'sgd'}``."""
    row = decode_configurations(hps, configurations[index : index + 1])[0]
    return "{" + ", ".join(f"{hp.name}: {v!r}" for hp, v in zip(hps, row)) + "}"
