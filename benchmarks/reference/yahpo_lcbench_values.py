"""The reference's LCBench values for fixed configurations: the fixture of our LCBench parity test.

Runs in the Syne Tune 0.13.0 venv (``benchmarks/reference/README.md``), never in mfbench's::

    /work/st-venv/bin/python benchmarks/reference/yahpo_lcbench_values.py \\
        --data tests/data/yahpo-lcbench --out tests/data/yahpo_lcbench_syne_tune_values.json

Two things, both through the reference blackbox of ``yahpo_lcbench_blackbox.py``:

1. **Against yahpo-gym 1.0.2.** Every lcbench row of ``tests/data/yahpo_reference_values.json``
   (yahpo-gym's own predictions, ``yahpo_reference_values.py``) through
   ``Blackbox.objective_function(config, fidelity={"epoch": e})``; the largest absolute and
   relative differences go into the JSON (``yahpo_gym_check``), and the script fails beyond
   ``--tolerance`` (relative, default 1e-6).
2. **The fixture.** ``--configs`` configurations per instance drawn by Syne Tune's own
   ``Domain.sample`` (``np.random.RandomState(--seed)``) from the blackbox's space, plus the
   space's midpoint, each evaluated at every epoch the way the simulator fetches a trial:
   ``UserBlackboxBackend.config_objectives`` (``metrics_for_configuration``, all 52 epochs of
   ``objective_function(config)`` at once, ``epochs=52``). ``tests/blackbox/sources/
   test_yahpo_lcbench_parity.py`` checks that mfbench's ``yahpo_lcbench`` benchmark gives the
   same values.

The JSON: ``{"generator": {...}, "yahpo_gym_check": {...}, "objectives": [...], "epochs":
[1..52], "rows": [{"instance", "config", "values": [[6 objectives] x 52 epochs]}]}``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from yahpo_lcbench_blackbox import FIDELITY, INSTANCE_PARAM, make_blackbox  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def midpoint(space: dict) -> dict:
    """Syne Tune's midpoint configuration of the space (what its searchers try first)."""
    from syne_tune.optimizer.schedulers.searchers.searcher import impute_points_to_evaluate

    (config,) = impute_points_to_evaluate(None, space)
    return config


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=REPO / "tests" / "data" / "yahpo-lcbench")
    p.add_argument("--instances", nargs="+", default=["3945", "189908"])
    p.add_argument("--configs", type=int, default=4, help="random configurations per instance (plus the midpoint)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--yahpo-gym-values", type=Path, default=REPO / "tests" / "data" / "yahpo_reference_values.json")
    p.add_argument("--tolerance", type=float, default=1e-6)
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args(argv)

    import onnxruntime
    import syne_tune
    from syne_tune.blackbox_repository.simulated_tabular_backend import UserBlackboxBackend
    from syne_tune.config_space import Domain

    # 1. the reference blackbox against yahpo-gym's own predictions
    rows = json.loads(a.yahpo_gym_values.read_text(encoding="utf-8"))["scenarios"]["lcbench"]
    blackboxes = {}
    worst_abs, worst_rel = 0.0, 0.0
    for row in rows:
        bb = blackboxes.setdefault(row["instance"], make_blackbox(a.data, row["instance"]))
        got = bb.objective_function({INSTANCE_PARAM: row["instance"], **row["config"]},
                                    fidelity={FIDELITY: row["level"]})
        for name, expected in row["targets"].items():
            diff = abs(got[name] - expected)
            worst_abs = max(worst_abs, diff)
            worst_rel = max(worst_rel, diff / max(abs(expected), 1e-12))
    check = {"rows": len(rows), "max_abs_diff": worst_abs, "max_rel_diff": worst_rel, "tolerance": a.tolerance}
    print(f"against yahpo-gym 1.0.2: {len(rows)} rows, max |diff| {worst_abs:.3g}, max rel {worst_rel:.3g}")
    if worst_rel > a.tolerance:
        raise SystemExit(f"the reference blackbox differs from yahpo-gym beyond {a.tolerance} (relative)")

    # 2. the fixture: configurations drawn by Syne Tune, every epoch as the simulator fetches them
    rng = np.random.RandomState(a.seed)
    out_rows = []
    for instance in a.instances:
        bb = make_blackbox(a.data, instance)
        backend = UserBlackboxBackend(blackbox=bb, elapsed_time_attr="time", max_resource_attr="epochs")
        space = bb.configuration_space
        configs = [midpoint(space)] + [{k: (v.sample(random_state=rng) if isinstance(v, Domain) else v)
                                        for k, v in space.items()} for _ in range(a.configs)]
        for config in configs:
            config = {k: (v.item() if hasattr(v, "item") else v) for k, v in config.items()}
            results = backend.config_objectives({**config, "epochs": int(bb.fidelity_values[-1])}, seed=None)
            assert [r[FIDELITY] for r in results] == bb.fidelity_values.tolist()
            out_rows.append({"instance": instance,
                             "config": {k: v for k, v in config.items() if k != INSTANCE_PARAM},
                             "values": [[float(r[name]) for name in bb.objectives_names] for r in results]})
    summary = {
        "generator": {"script": "benchmarks/reference/yahpo_lcbench_values.py", "seed": a.seed,
                      "versions": {"syne_tune": syne_tune.__version__, "numpy": np.__version__,
                                   "onnxruntime": onnxruntime.__version__}},
        "yahpo_gym_check": check,
        "objectives": list(bb.objectives_names),
        "epochs": bb.fidelity_values.tolist(),
        "rows": out_rows,
    }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(summary) + "\n", encoding="utf-8")
    print(f"{len(out_rows)} configurations x {len(summary['epochs'])} epochs -> {a.out}")
    return summary


if __name__ == "__main__":
    main()
