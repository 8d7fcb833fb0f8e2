"""Fit the NB201-offline learning-curve model on the real NATS-Bench records; report the fit.

    python benchmarks/calibrate_nas201_offline.py [FOLDER]

FOLDER defaults to tests/data/nats-tss-v1_0-3ffb9-simple (3 real architectures). Prints
the parameters to paste into mfbench/blackbox/sources/nas201_offline.py (PARAMETERS) and,
per dataset and architecture, the RMSE (error units) of the model against the real mean
curve and against the per-seed curves, and the largest runtime error of the eval-time ratio.
"""
from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's mfbench, even where another one is installed

from mfbench.blackbox.sources.nas201_offline import TASKS, calibrate  # noqa: E402


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "tests" / "data" / "nats-tss-v1_0-3ffb9-simple"
    print("PARAMETERS = {")
    reports = {task: calibrate(folder, task) for task in TASKS}
    for task, report in reports.items():
        print(f'    "{task}": {report["parameters"]},')
    print("}\n")
    print("| task | arch | RMSE vs mean curve | RMSE vs seeds | max runtime error |")
    print("|---|---|---|---|---|")
    for task, report in reports.items():
        for arch in report["rmse_mean"]:
            print(f"| {task} | {arch} | {report['rmse_mean'][arch]:.4f} | {report['rmse_seeds'][arch]:.4f} "
                  f"| {report['rho_error']:.1%} |")


if __name__ == "__main__":
    main()
