#!/usr/bin/env python
"""Run ``syne_tune_runner.py`` with a trace of Syne Tune 0.13.0's Hyperband decisions.

For the ASHA family (``asha_stop``, ``asha_prom``, ``asha6_stop``): besides the runner's own
outputs (``--out`` and its ``.json`` summary) it writes ``--out`` with suffix
``.trace.json``::

    {"brackets": {"<trial_id>": s, ...},          # bracket drawn for each new trial
     "decisions": [{"trial", "level", "value", "n", "cutoff", "decision"}, ...]}

``decisions`` holds every stopping-rung decision in the order Syne Tune took it: the rung
level, the trial's metric value, the rung's size after adding it (``n``), the rung's
quantile cutoff (``None`` below two entries) and ``continue`` / ``stop``. It patches two
methods of the reference (``HyperbandBracketManager.on_task_add`` and
``StoppingRungSystem._task_continues``), calling the originals, so the run itself is the
runner's run, result for result. ``benchmarks/replay_reference_draws.py`` reads both files
to replay the run in mfbench. Use the Syne Tune venv::

    /work/st-venv/bin/python benchmarks/reference/trace_hyperband.py --table T.parquet \\
        --method asha6_stop --seed 0 --n-workers 8 --max-wallclock-time 28800 \\
        --no-charge-decision-time --out /tmp/ref/asha6_stop-0.parquet
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import syne_tune_runner  # noqa: E402  (this folder, put on the path above)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = syne_tune_runner.parse_args(argv)
    with syne_tune_runner._quiet(args.verbose):  # the runner's silencing of Syne Tune's import notices
        from syne_tune.optimizer.schedulers import hyperband, hyperband_stopping

    trace: dict[str, Any] = {"brackets": {}, "decisions": []}
    manager = hyperband.HyperbandBracketManager
    rungs = hyperband_stopping.StoppingRungSystem
    original_add, original_continues = manager.on_task_add, rungs._task_continues

    def on_task_add(self, trial_id: str, **kwargs: Any) -> list[int]:
        if kwargs.get("new_config", True):  # a resumed trial keeps the bracket it was started in
            trace["brackets"][str(trial_id)] = int(kwargs["bracket"])
        return original_add(self, trial_id, **kwargs)

    def task_continues(self, trial_id: str, metric_val: float, rung: Any) -> bool:
        goes_on = original_continues(self, trial_id=trial_id, metric_val=metric_val, rung=rung)
        trace["decisions"].append({"trial": int(trial_id), "level": int(rung.level), "value": float(metric_val),
                                   "n": len(rung), "cutoff": rung.quantile(),
                                   "decision": "continue" if goes_on else "stop"})
        return goes_on

    manager.on_task_add, rungs._task_continues = on_task_add, task_continues
    try:
        summary = syne_tune_runner.main(argv)
    finally:
        manager.on_task_add, rungs._task_continues = original_add, original_continues
    args.out.with_suffix(".trace.json").write_text(json.dumps(trace) + "\n", encoding="utf-8")
    return summary


if __name__ == "__main__":
    main()
