"""A hand-made learning-curve CSV shared by the user-table tests and the benchmark contract test.

Six configurations (optimizer, lr, width) x seeds 7 and 9 x epochs 1..9, written in an
order a person might log them (per configuration: seed 7 then seed 9, epochs ascending):

    val_loss(config, seed, epoch) = base + 0.5 / epoch + 0.001 * (seed - 8)
    epoch_seconds(config)          = width / 8          (seconds of each epoch: 4, 8 or 16)

with ``base`` given per configuration below. The columns are deliberately not in the
export's order, the time is per epoch (accumulated by ``elapsed_time_is_per_epoch``), and
the seed labels are not 0-based.
"""
from __future__ import annotations

from pathlib import Path

#: (optimizer, lr, width) -> base loss, in order of first appearance in the file
CONFIGS: dict[tuple[str, float, int], float] = {
    ("adam", 0.001, 32): 0.30,
    ("adam", 0.01, 64): 0.10,
    ("sgd", 0.1, 32): 0.40,
    ("sgd", 0.01, 128): 0.20,
    ("adam", 0.1, 128): 0.50,
    ("sgd", 0.001, 64): 0.25,
}
SEEDS = (7, 9)
EPOCHS = tuple(range(1, 10))


def val_loss(config: tuple[str, float, int], seed: int, epoch: int) -> float:
    """The table's value (as written, rounded to 6 decimals)."""
    return round(CONFIGS[config] + 0.5 / epoch + 0.001 * (seed - 8), 6)


def epoch_seconds(config: tuple[str, float, int]) -> float:
    return config[2] / 8


def small_csv_text() -> str:
    lines = ["optimizer,lr,width,seed,epoch,val_loss,epoch_seconds"]
    for config in CONFIGS:
        for seed in SEEDS:
            for epoch in EPOCHS:
                optimizer, lr, width = config
                lines.append(f"{optimizer},{lr},{width},{seed},{epoch},{val_loss(config, seed, epoch)},"
                             f"{epoch_seconds(config)}")
    return "\n".join(lines) + "\n"


def write_small_csv(path: Path) -> Path:
    path.write_text(small_csv_text(), encoding="utf-8")
    return path


#: the overrides that run the small CSV (metric and per-epoch time are not inferable)
SMALL_CSV_OVERRIDES = ("benchmark.metric=val_loss", "benchmark.elapsed_time=epoch_seconds",
                       "benchmark.elapsed_time_is_per_epoch=true")


def template_overrides(option: str, tmp_path: Path) -> list[str]:
    """What the bring-your-own benchmark templates (mandatory ``???`` keys) need to run."""
    if option == "table":  # an exported Hartmann-3 grid (1331 configurations: enough for any short run)
        from mfbench.blackbox.analytic import hartmann_blackbox
        from mfbench.blackbox.export import export_long_format

        path = export_long_format(hartmann_blackbox(3), tmp_path / "h3.parquet", metric="value",
                                  elapsed_time_attr="elapsed_time")
        return [f"benchmark.path={path}"]
    if option == "function":
        return ["benchmark.target=mfbench.examples.learning_curves.synthetic_curve", "benchmark.max_fidelity=9",
                "benchmark.hyperparameters={learning_rate: {type: float, lower: 0.0001, upper: 1, log: true}, "
                "width: {type: integer, lower: 16, upper: 512}, optimizer: {type: categorical, choices: [adam, sgd]}}"]
    return []
