"""Reference predictions of yahpo-gym 1.0.2 for fixed configurations: the fixture of our YAHPO parity test.

Runs in its own virtual environment, never in the project's, and never imports mfbench::

    python3 -m venv /tmp/yahpo-venv && /tmp/yahpo-venv/bin/pip install yahpo-gym==1.0.2 onnxruntime
    /tmp/yahpo-venv/bin/python benchmarks/reference/yahpo_reference_values.py \\
        --data tests/data --out tests/data/yahpo_reference_values.json

(resolved to numpy 1.26.4, ConfigSpace 0.6.1, onnxruntime 1.32.0). ``--data`` holds the
scenario folders as ``yahpo-<scenario>/`` (the vendored ones) or ``<scenario>/`` (a yahpo_data
checkout); they are linked into a temporary yahpo_data layout for yahpo-gym.

For each scenario, 12 configurations are drawn with a fixed seed from the *full* search space
(every hyperparameter has a value, the inactive ones of a conditional space included, as our
searchers propose them), plus the space's default configuration; rbv2_xgboost's boosters are
cycled so that gblinear, gbtree and dart each appear. Each configuration is evaluated exactly
as Syne Tune 0.13's YAHPO wrapper does (``_prepare_yahpo_configuration``): the fidelity is
added, the inactive hyperparameters are dropped (ConfigSpace's ``get_active_hyperparameters``
on a ``Configuration(..., allow_inactive_with_values=True)``), and ``BenchmarkSet(scenario,
instance=..., check=True).objective_function`` predicts (``check=True``: yahpo-gym validates
the configuration it receives). The fidelities: epochs 1, the middle and the last for epoch
scenarios; trainsize ``0.05 k`` for the levels k = 1, 10, 20 (Syne Tune's ``k * 0.05``) with
rbv2's ``repl`` at 10.

The JSON: ``{"generator": ..., "scenarios": {scenario: [{"instance", "config", "fidelity",
"level", "targets": {name: value}}]}}``; ``config`` holds the full configuration under
yahpo's names (nb301's prefix dropped, as ours), ``fidelity`` the model's fidelity input and
``level`` our fidelity value (the epoch, or the trainsize level).
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
from pathlib import Path

SCENARIO_FIDELITY = {"lcbench": "epoch", "nb301": "epoch", "fcnet": "epoch"}  # the rest: trainsize
NB301_PREFIX = "NetworkSelectorDatasetInfo_COLON_darts_COLON_"
NUM_RANDOM = 12


def _sample(hp, rng: random.Random):
    """A value of one ConfigSpace hyperparameter, drawn uniformly (on the log scale where log)."""
    import ConfigSpace.hyperparameters as CSH

    if isinstance(hp, CSH.CategoricalHyperparameter):
        return rng.choice(list(hp.choices))
    if isinstance(hp, CSH.OrdinalHyperparameter):
        return rng.choice(list(hp.sequence))
    lower, upper = float(hp.lower), float(hp.upper)
    if isinstance(hp, CSH.UniformIntegerHyperparameter):
        if hp.log:
            return int(min(max(round(math.exp(rng.uniform(math.log(lower), math.log(upper)))), hp.lower), hp.upper))
        return rng.randint(hp.lower, hp.upper)
    if hp.log:
        return math.exp(rng.uniform(math.log(lower), math.log(upper)))
    return rng.uniform(lower, upper)


def _configs(bench, scenario: str, seed: int) -> list[dict]:
    """The default configuration and ``NUM_RANDOM`` random ones of the optimisation space (full)."""
    fixed = set(bench.config.fidelity_params) | {bench.config.instance_names, "replication"}
    space = bench.config_space
    hps = [hp for hp in space.get_hyperparameters() if hp.name not in fixed]
    rng = random.Random(seed)
    configs = [{hp.name: hp.default_value for hp in hps}]
    for i in range(NUM_RANDOM):
        config = {hp.name: _sample(hp, rng) for hp in hps}
        for booster in ("booster", "xgboost.booster"):  # every booster of a conditional xgboost space
            if booster in config:
                config[booster] = ("gblinear", "gbtree", "dart")[i % 3]
        configs.append(config)
    return configs


def _active(bench, values: dict) -> dict:
    """``values`` restricted to the active hyperparameters (Syne Tune 0.13's ``_prepare_yahpo_configuration``)."""
    import ConfigSpace

    configuration = ConfigSpace.Configuration(bench.config_space, values=values, allow_inactive_with_values=True)
    active = bench.config_space.get_active_hyperparameters(configuration)
    return {k: v for k, v in values.items() if k in active}


def reference(data: Path, scenarios: list[str], instances_per_scenario: int, seed: int) -> dict:
    from yahpo_gym import local_config
    from yahpo_gym.benchmark_set import BenchmarkSet

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for scenario in scenarios:
            folder = data / f"yahpo-{scenario}" if (data / f"yahpo-{scenario}").is_dir() else data / scenario
            (root / scenario).symlink_to(folder.resolve(), target_is_directory=True)
        local_config.init_config()
        local_config.set_data_path(str(root))
        out: dict = {}
        for scenario in scenarios:
            probe = BenchmarkSet(scenario, active_session=False)
            instances = [str(i) for i in probe.instances][:instances_per_scenario]
            epochs = SCENARIO_FIDELITY.get(scenario) == "epoch"
            fidelity = probe.config.fidelity_params[0]
            rows = []
            for n, instance in enumerate(instances):
                bench = BenchmarkSet(scenario, instance=instance, check=True, multithread=False)
                if epochs:
                    hp = bench.config_space.get_hyperparameter(fidelity)
                    levels = [(e, e) for e in (hp.lower, (hp.lower + hp.upper) // 2, hp.upper)]
                else:
                    levels = [(k, k * 0.05) for k in (1, 10, 20)]  # Syne Tune: fidelity_value * 0.05
                for config in _configs(bench, scenario, seed + n):
                    for level, value in levels:
                        values = {**config, fidelity: value}
                        if "repl" in bench.config.fidelity_params:
                            values["repl"] = 10
                        if "replication" in bench.config.cont_names:
                            values["replication"] = 1
                        if bench.config.instance_names:  # Syne Tune's configuration holds the instance
                            values[bench.config.instance_names] = instance
                        values = _active(bench, values)
                        result = bench.objective_function(values)[0]
                        ours = {k.removeprefix(NB301_PREFIX): v for k, v in config.items()}
                        rows.append({"instance": instance, "config": ours, "fidelity": value, "level": level,
                                     "targets": {k: float(v) for k, v in result.items()}})
            out[scenario] = rows
            print(f"{scenario}: {len(rows)} predictions", file=sys.stderr)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with yahpo-<scenario>/ or <scenario>/ folders")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--scenarios", nargs="+", default=["lcbench", "iaml_glmnet", "rbv2_rpart", "rbv2_xgboost"])
    parser.add_argument("--instances", type=int, default=2, help="instances per scenario (the first ones)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import ConfigSpace
    import numpy
    import onnxruntime

    scenarios = reference(args.data, args.scenarios, args.instances, args.seed)
    generator = {"script": "benchmarks/reference/yahpo_reference_values.py", "yahpo_gym": "1.0.2",
                 "versions": {"ConfigSpace": ConfigSpace.__version__, "numpy": numpy.__version__,
                              "onnxruntime": onnxruntime.__version__},
                 "seed": args.seed, "instances_per_scenario": args.instances}
    args.out.write_text(json.dumps({"generator": generator, "scenarios": scenarios}, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
