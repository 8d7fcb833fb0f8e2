"""Fit the NB201-offline learning-curve model on the real NATS-Bench records; report the fit.

    python benchmarks/calibrate_nas201_offline.py [FOLDER]

FOLDER defaults to tests/data/nats-tss-v1_0-3ffb9-simple (3 real architectures). Prints
the parameters to paste into mfbench/blackbox/sources/nas201_offline.py (PARAMETERS) and,
per dataset and architecture, the RMSE (error units) of the model against the real mean
curve and against the per-seed curves, and the largest runtime error of the eval-time ratio.

The fit itself (:func:`calibrate`) lives here, not in the package: only this script and its
test (tests/blackbox/sources/test_nas201_offline.py) use it; the package holds the model
(:func:`~mfbench.blackbox.sources.nas201_offline.mean_curve`) and the fitted PARAMETERS.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's mfbench, even where another one is installed

from mfbench.blackbox.sources.nas201_offline import (FIDELITY_VALUES, TASKS, cosine_factor,  # noqa: E402
                                                     mean_curve)


def real_curves(folder: str | os.PathLike[str], task: str) -> dict[int, np.ndarray]:
    """Real per-epoch error curves ``(3 seeds, 200)`` of every architecture file in ``folder``.

    The split is the one the model stands for: ``x-valid`` of ``cifar10-valid`` for
    ``cifar10``, ``ori-test`` for cifar100 and ImageNet16-120 (their only per-epoch split).
    """
    from mfbench.blackbox.safe_pickle import safe_load

    dataset = TASKS[task][1]
    split = "x-valid" if dataset == "cifar10-valid" else "ori-test"
    curves = {}
    for path in sorted(Path(folder).glob("[0-9]*.pickle.pbz2")):
        record = safe_load(path)["200"]
        curves[record["arch_index"]] = np.array([
            [1 - record["all_results"][(dataset, seed)]["eval_acc1es"][f"{split}@{e}"] / 100 for e in range(200)]
            for seed in (777, 888, 999)
        ])
    return curves


def eval_time_ratios(folder: str | os.PathLike[str], task: str) -> np.ndarray:
    """Per-epoch evaluation / training time of each architecture file in ``folder``."""
    from mfbench.blackbox.safe_pickle import safe_load

    dataset = TASKS[task][1]
    split = "x-valid" if dataset == "cifar10-valid" else "ori-test"
    ratios = []
    for path in sorted(Path(folder).glob("[0-9]*.pickle.pbz2")):
        result = safe_load(path)["200"]["all_results"][(dataset, 777)]
        ratios.append(result["eval_times"][f"{split}@0"] / result["train_times"][0])
    return np.array(ratios)


def calibrate(folder: str | os.PathLike[str], task: str) -> dict[str, Any]:
    """Fit ``(a0, a1, tau, p, s, q, rho)`` on the real curves in ``folder``; report the fit.

    Returns:
        ``parameters`` (tuple), ``rmse_mean`` ``{arch: RMSE of the model vs the mean real
        curve}``, ``rmse_seeds`` ``{arch: RMSE vs the per-seed curves}``, and ``rho_error``
        (largest relative error of the estimated per-epoch runtime).
    """
    from scipy.optimize import least_squares

    curves = real_curves(folder, task)
    archs = sorted(curves)
    errors = np.stack([curves[a] for a in archs])  # (A, 3, 200)
    final = errors[:, :, -1]
    mean_final = final.mean(axis=1, keepdims=True)

    def residuals(x: np.ndarray) -> np.ndarray:
        return (mean_curve(final, mean_final, task, x) - errors).ravel()

    fit = least_squares(residuals, [0.5, 0.0, 0.05, 1.0], bounds=([-5, -10, 1e-3, 0.05], [5, 10, 1, 5]))
    model = mean_curve(final, mean_final, task, fit.x)
    rms = np.sqrt(((model - errors) ** 2).mean(axis=(0, 1)))  # per epoch
    c = cosine_factor(FIDELITY_VALUES / 200.0)
    noise = least_squares(lambda y: np.log(rms + 1e-4) - np.log(y[0] * c ** y[1] + 1e-4), [0.05, 0.5],
                          bounds=([0, 0], [1, 5]))
    ratios = eval_time_ratios(folder, task)
    rho = float(ratios.mean())
    parameters = tuple(round(float(v), 4) for v in (*fit.x, *noise.x, rho))
    model = mean_curve(final, mean_final, task, parameters)
    return {
        "parameters": parameters,
        "rmse_mean": {a: float(np.sqrt(((model[i].mean(0) - errors[i].mean(0)) ** 2).mean())) for i, a in enumerate(archs)},
        "rmse_seeds": {a: float(np.sqrt(((model[i] - errors[i]) ** 2).mean())) for i, a in enumerate(archs)},
        "rho_error": float(np.max(np.abs((1 + rho) / (1 + ratios) - 1))),
    }


def main() -> None:
    """Fit every task on FOLDER (argv[1]) and print the parameters and the fit table."""
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
