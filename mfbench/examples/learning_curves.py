"""An example callable for ``benchmark=function``: a synthetic, deterministic learning curve.

    python -m mfbench benchmark=function_example method=asha_stop

is ``conf/benchmark/function_example.yaml``, which declares this callable's space::

    learning_rate  float in [1e-4, 1], log scale
    width          integer in [16, 512], log scale
    optimizer      categorical: adam, sgd

A user's own callable has the same signature and may live in any module importable from
the current directory (``benchmark.target=my_module.my_function``) or in a file
(``benchmark.target=path/to/file.py:my_function``).
"""
from __future__ import annotations

import math
import zlib
from typing import Any, Mapping

#: seconds per epoch of the narrowest network; wider ones take longer (linearly in width)
BASE_EPOCH_SECONDS = 10.0


def final_error(config: Mapping[str, Any]) -> float:
    """The error the configuration converges to (the noise-free value at infinite epochs).

    Best near ``learning_rate = 10^-2.5`` for adam (``10^-1.5`` for sgd) and for wide networks:
    ``0.05 + 0.04 (log10 lr - optimum)^2 + 0.03 (1 - log(width / 16) / log(32))``.
    """
    optimum = -2.5 if config["optimizer"] == "adam" else -1.5
    distance = math.log10(config["learning_rate"]) - optimum
    narrowness = 1.0 - math.log(config["width"] / 16) / math.log(32)
    return 0.05 + 0.04 * distance**2 + 0.03 * narrowness


def synthetic_curve(config: Mapping[str, Any], fidelity: int, seed: int) -> dict[str, float]:
    """Validation error and cumulative training seconds after ``fidelity`` epochs.

    The error decays exponentially from 0.9 towards :func:`final_error` with a time constant
    ``tau = 3 + 2 |log10 lr + 2|`` epochs, plus noise uniform in ``±0.01 / sqrt(fidelity)``
    that depends only on ``(config, fidelity, seed)`` (a hash, so every call with the same
    arguments returns the same value, in any process). An epoch takes
    ``BASE_EPOCH_SECONDS * sqrt(width / 16)`` seconds.

    Args:
        config: ``{"learning_rate": float, "width": int, "optimizer": "adam" | "sgd"}``.
        fidelity: epochs trained, >= 1.
        seed: repetition index (the simulator passes 0..num_seeds-1).

    Returns:
        ``{"error": float in (0, 1), "elapsed_time": seconds}``.
    """
    floor = final_error(config)
    tau = 3.0 + 2.0 * abs(math.log10(config["learning_rate"]) + 2.0)
    clean = floor + (0.9 - floor) * math.exp(-fidelity / tau)
    key = f"{config['learning_rate']!r}|{config['width']}|{config['optimizer']}|{fidelity}|{seed}"
    uniform = (zlib.crc32(key.encode()) + 0.5) / 2**32  # deterministic in the arguments
    noise = 0.01 / math.sqrt(fidelity) * (2.0 * uniform - 1.0)
    error = min(max(clean + noise, 0.0), 1.0)
    return {"error": error, "elapsed_time": BASE_EPOCH_SECONDS * math.sqrt(config["width"] / 16) * fidelity}
