#!/usr/bin/env python
"""Trace the decisions of our GP searcher, line for line comparable with
``benchmarks/reference/trace_gp_searcher.py`` (Syne Tune 0.13.0's).

Runs one ``mfbench`` simulation in-process with the searcher's model-based proposal wrapped:
after every one, a JSON line goes to ``--out`` with the acquisition level ``r_acq``, the
observations per level, the number of pending evaluations, the incumbent value EI used
(``current_best``, averaged over fantasy samples, in the metric's units), the chosen
configuration's posterior mean and standard deviation at ``r_acq`` and the fitted
hyperparameters under the reference's names. The wrapper draws nothing from the run's
random streams, so the run is the one ``python -m mfbench`` makes.

    .venv/bin/python benchmarks/trace_gp_searcher.py --out /tmp/ours/mobster_joint-0.gp.jsonl \\
        method=mobster_joint benchmark=nas201_offline_imagenet16 seed=0 n_workers=8 \\
        stopping.max_wallclock_time=1800 backend.charge_decision_time=false
    .venv/bin/python benchmarks/trace_gp_searcher.py --compare /tmp/ref/*.gp.jsonl -- /tmp/ours/*.gp.jsonl

``--compare`` prints, for two sets of traces, the mean of each traced quantity by decision
phase (``r_acq``) side by side.

``--forced-from`` makes the traced run take every configuration it runs (and every table
seed) from a reference run (the ``--out`` parquet of ``benchmarks/reference/trace_gp_searcher.py``),
as ``benchmarks/replay_reference_draws.py`` does for the random searcher: our scheduler and
simulator then reproduce the reference's run result for result, so each of our searcher's
proposals (computed and traced as usual, but not run) is made on exactly the reference's
state. ``--decision-quality`` then scores those would-be proposals against the reference's
actual ones at the same states, by where the configuration's final value ranks in the table
(0 = the best configuration): a difference there is in the searcher alone::

    .venv/bin/python benchmarks/trace_gp_searcher.py --out /tmp/forced/mobster_indep-0.gp.jsonl \\
        --forced-from /tmp/ref/mobster_indep-0.parquet method=mobster_indep \\
        benchmark=nas201_offline_imagenet16 seed=0 n_workers=8 stopping.max_wallclock_time=7200 \\
        backend.charge_decision_time=false backend.poll_interval=5
    .venv/bin/python benchmarks/trace_gp_searcher.py --decision-quality nas201_offline_imagenet16 /tmp/forced/*.gp.jsonl

More ``seed=`` values on the same ``--forced-from`` run give replicates of our proposals on
the same states (the forced draws do not depend on the seed).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))  # replay_reference_draws (forced draws)


def _scalar(value: Any) -> float:
    """A traced parameter as a float (the reference writes some as one-element lists)."""
    return float(np.asarray(value).reshape(-1)[0])


def _reference_names(model: Any) -> dict[str, float]:
    """Our fitted hyperparameters under Syne Tune's parameter names (the inverse of
    :func:`_set_reference_params`): ``kernel_kernelx_*`` and ``kernel_alpha`` ... for the joint
    model, ``kernel_inv_bw*``, ``covariance_scale<r>`` and ``mean<r>_mean_value`` per level
    ``r`` for the independent one."""
    from mfbench.searchers.gp.models import IndependentGP, MultiTaskGP

    joint = isinstance(model, MultiTaskGP)
    out: dict[str, float] = {"noise_variance": float(model.noise_variance.detach())}
    ib = (1.0 / model.kernel_x.lengthscale.detach().reshape(-1)).tolist()
    prefix = "kernel_kernelx_inv_bw" if joint else "kernel_inv_bw"
    out.update({f"{prefix}{k}": float(v) for k, v in enumerate(ib)})
    if joint:
        out["kernel_alpha"] = float(model.resource.alpha)
        out["kernel_mean_lam"] = float(model.resource.mean_lam)
        out["kernel_gamma"] = float(model.resource.gamma)
        out["kernel_kernelx_covariance_scale"] = float(model.outputscale)
        out["kernel_meanx_mean_value"] = float(model.constant)
    elif isinstance(model, IndependentGP):
        for level, scale, mean in zip(model.levels, model.outputscales.tolist(), model.constants.tolist()):
            out[f"covariance_scale{level}"] = float(scale)
            out[f"mean{level}_mean_value"] = float(mean)
    return out


@contextlib.contextmanager
def forcing_reference_configurations(reference: Path, brackets_needed: bool) -> Iterator[None]:
    """For the run inside: the GP searcher computes its proposal as usual, but the trial runs
    the reference's configuration of that trial, and table seeds (and brackets) are the
    reference's (:func:`replay_reference_draws.forced_draws`)."""
    import pandas as pd

    import replay_reference_draws
    from mfbench.searchers.gp.searcher import GPSearcher

    rows = pd.read_parquet(reference)
    trace = reference.with_suffix(".trace.json")
    if trace.is_file():
        brackets = {int(k): int(v) for k, v in json.loads(trace.read_text(encoding="utf-8"))["brackets"].items()}
    elif brackets_needed:
        raise SystemExit(f"--forced-from {reference}: the method draws brackets, but there is no {trace.name} with "
                         f"the reference's (benchmarks/reference/trace_hyperband.py writes one)")
    else:
        brackets = {}
    configs = replay_reference_draws.reference_configurations(rows)
    counter = {"trial": 0}
    original = GPSearcher.suggest

    def suggest(self: Any) -> dict[str, Any]:
        trial = counter["trial"]
        counter["trial"] += 1
        if self._initial:  # the first trial: the initial configuration on both sides
            self._initial.pop(0)
        elif not self.exhausted:
            self._propose()  # our proposal on this state: traced, not run
        config = replay_reference_draws.trial_configuration(configs, trial, self.space.names)
        self.mark_seen(config)
        return config

    GPSearcher.suggest = suggest
    try:
        with replay_reference_draws.forced_draws(rows, brackets):
            yield
    finally:
        GPSearcher.suggest = original


def trace_run(overrides: list[str], out: Path, dump_data: bool = False,
              forced_from: Path | None = None) -> dict[str, Any]:
    import torch

    import mfbench.searchers.gp.acquisition as acquisition
    import mfbench.searchers.gp.posterior as posterior_module
    from mfbench.api import compose, simulate
    from mfbench.searchers.gp.searcher import GPSearcher

    captured: dict[str, Any] = {}
    block_posterior = posterior_module.BlockPosterior
    score_candidates = acquisition.score_candidates

    class CapturingPosterior(block_posterior):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            captured["posterior"] = self

    def capturing_score(scoring, means, stds, best, jitter, rng):
        captured["best"] = best
        return score_candidates(scoring, means, stds, best, jitter, rng)

    original = GPSearcher._propose_with_model
    original_target = GPSearcher._acquisition_target
    out.parent.mkdir(parents=True, exist_ok=True)
    stream = out.open("w", encoding="utf-8")

    def target(self, data, pending):
        weights, incumbents = original_target(self, data, pending)
        captured["weights"] = weights
        captured["counts"] = data.level_counts()
        captured["num_incumbents"] = int(incumbents.shape[0])
        captured["pending"] = len(pending)
        captured["units"] = (data.mean, data.std)
        captured["inputs"] = {"observations": [[int(t), int(r), float(v)] for t, r, v in data.observations],
                              "pending": [[int(t), int(r)] for t, r in pending]}
        return weights, incumbents

    def traced(self):
        config = original(self)
        if config is None or "posterior" not in captured:
            return config
        posterior, weights = captured.pop("posterior"), captured.pop("weights")
        with torch.no_grad():
            encoded = torch.from_numpy(self.space.encode(config)[None, :])
            means, variances = posterior.predict_mixture(encoded, weights, False)
            model = self.models.model_for(self._all_levels())
            params = _reference_names(model)
        shift, scale = captured.pop("units")  # normalised -> the metric's units
        record_counts = captured.pop("counts")
        record = {
            # Hyper-Tune: "ensemble" even while one level has all the weight (as the reference trace)
            "r_acq": "ensemble" if self.hypertune else int(max(weights, key=weights.get)),
            "num_observations": {str(k): int(v) for k, v in sorted(record_counts.items())},
            "num_pending": captured.pop("pending"),
            "current_best": shift + scale * float(captured.pop("best").double().mean()),
            "chosen_mean": shift + scale * float(means.double().mean()),
            "chosen_std": scale * float(variances.double().mean().sqrt()),
            "chosen": {k: (v if isinstance(v, (int, float, str)) else str(v)) for k, v in config.items()},
            "params": params,
            "inputs": captured.pop("inputs"),
        }
        num_incumbents = captured.pop("num_incumbents")
        if self.hypertune:  # the learnt distributions and the incumbents, as the reference trace records them
            from mfbench.searchers.gp.acquisition import acquisition_level

            record["incumbent_level"] = acquisition_level(record_counts, self.proposal.resource_acq_threshold)
            record["num_incumbents"] = num_incumbents
            learnt = self.hypertune_state.describe()
            record["hypertune_bracket_head"] = learnt["hypertune_bracket_head"]
            record["hypertune_ensemble"] = learnt["hypertune_ensemble"] or None
        if forced_from is not None:
            record["forced_from"] = str(forced_from)
        if dump_data and getattr(model, "max_fidelity", None):
            block = posterior.block(0)  # the joint model's one block, fantasies included
            z_all = block.z.numpy()
            features = np.column_stack([z_all[:, :-1], (z_all[:, -1] - 0.5) / model.max_fidelity])
            record["data"] = {"features": features.tolist(), "targets": block.targets.numpy().tolist(),
                              "num_observed": len(record["inputs"]["observations"]), "mean": shift, "std": scale}
        stream.write(json.dumps(record) + "\n")
        return config

    posterior_module.BlockPosterior = CapturingPosterior
    acquisition.score_candidates = capturing_score
    GPSearcher._propose_with_model = traced
    GPSearcher._acquisition_target = target
    try:
        cfg = compose(overrides)
        if forced_from is None:
            columns, metadata = simulate(cfg)
        else:
            with forcing_reference_configurations(forced_from, int(cfg.method.get("brackets") or 1) > 1):
                columns, metadata = simulate(cfg)
    finally:
        posterior_module.BlockPosterior = block_posterior
        acquisition.score_candidates = score_candidates
        GPSearcher._propose_with_model = original
        GPSearcher._acquisition_target = original_target
        stream.close()
    return metadata


def _set_reference_params(model: Any, params: dict[str, Any]) -> None:
    """Write Syne Tune's fitted parameters (its names, positive values) into our model: the
    joint one (``kernel_kernelx_*``, ``kernel_alpha`` ...) or the independent one
    (``kernel_inv_bw*``, ``covariance_scale<r>``, ``mean<r>_mean_value`` per level ``r``)."""
    import torch

    from mfbench.searchers.gp.models import MultiTaskGP

    value = {k: _scalar(v) for k, v in params.items()}
    joint = isinstance(model, MultiTaskGP)
    prefix = "kernel_kernelx_inv_bw" if joint else "kernel_inv_bw"
    inverse_bandwidths = torch.tensor([value[f"{prefix}{k}"] for k in range(model.dim)], dtype=torch.float64)
    with torch.no_grad():
        model.kernel_x.raw_lengthscale.copy_((-torch.log(inverse_bandwidths)).reshape(model.kernel_x.raw_lengthscale.shape))
        model.raw_noise.fill_(math.log(value["noise_variance"]))
        if joint:
            model.raw_outputscale.fill_(math.log(value["kernel_kernelx_covariance_scale"]))
            model.constant.fill_(value["kernel_meanx_mean_value"])
            for name in ("alpha", "mean_lam", "gamma"):
                getattr(model.resource, f"raw_{name}").fill_(math.log(value[f"kernel_{name}"]))
            return
        for k, level in enumerate(model.levels):
            model.raw_outputscales[k] = math.log(value[f"covariance_scale{level}"])
            model.constants[k] = value[f"mean{level}_mean_value"]


def _reference_levels(params: dict[str, Any]) -> list[int] | None:
    """The levels of the reference's independent model (None: the joint model)."""
    if "kernel_alpha" in params:
        return None
    return sorted(int(k[len("covariance_scale"):]) for k in params if k.startswith("covariance_scale"))


def new_model(params: dict[str, Any], dim: int, max_fidelity: int) -> Any:
    """Our model of the reference's kind, with our initial parameters."""
    from mfbench.searchers.gp.models import IndependentGP, MultiTaskGP

    levels = _reference_levels(params)
    return MultiTaskGP(dim, max_fidelity) if levels is None else IndependentGP(dim, levels)


def read_records(path: Path) -> list[dict[str, Any]]:
    """The records of a trace (JSON lines) or of a fixture (``{"decisions": [...]}``)."""
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if len(records) == 1 and "decisions" in records[0]:  # a fixture: one JSON document
        return records[0]["decisions"]
    return records


def reference_inputs(encoded: np.ndarray, max_fidelity: int) -> np.ndarray:
    """The reference's encoded rows ``(n, d + 1)`` as our extended inputs: its last column
    encodes the level as ``(r - 0.5) / max_t``; ours holds ``r`` itself."""
    return np.column_stack([encoded[:, :-1], np.rint(encoded[:, -1] * max_fidelity + 0.5)])


def reference_model(params: dict[str, Any], dim: int, max_fidelity: int) -> Any:
    """Our model (joint or independent, as the reference's) with the reference's fitted hyperparameters."""
    model = new_model(params, dim, max_fidelity)
    _set_reference_params(model, params)
    return model


def model_decisions(trace: Path, max_fidelity: int) -> Iterator[tuple[dict[str, Any], Any, Any]]:
    """The records of a ``--dump-data`` trace that hold model inputs (``gp_multitask`` or
    ``gp_independent``), with those inputs as our tensors: ``(record, z (n + p, d + 1),
    targets (n + p, m))``."""
    import torch

    for r in read_records(trace):
        if r.get("data") is None or not isinstance(r.get("params"), dict):
            continue
        z = torch.from_numpy(reference_inputs(np.asarray(r["data"]["features"]), max_fidelity))
        yield r, z, torch.from_numpy(np.asarray(r["data"]["targets"], dtype=np.float64))


def replay_rows(trace: Path, max_fidelity: int, seed: int = 0) -> list[dict[str, Any]]:
    """Evaluate our model on the reference's exact inputs, decision by decision.

    For every record of a ``--dump-data`` reference trace (joint or independent model): with the
    reference's fitted parameters, our criterion on its observed rows (``criterion_ours``,
    to be compared with ``criterion_reference`` up to the priors' constant) and the largest
    differences of our latent posterior at its chosen configuration (with its fantasy
    columns) from its own; then our MAP fit from our initial values on the same rows
    (``fitted``, our criterion): below ``criterion_ours`` means our fit found a better optimum.
    """
    import torch

    from mfbench.searchers.gp.fit import _Criterion, fit_map
    from mfbench.searchers.gp.posterior import GPPosterior

    rows = []
    rng = np.random.default_rng(seed)
    for r, z, y in model_decisions(trace, max_fidelity):
        data = r["data"]
        d = z.shape[1] - 1
        n = data["num_observed"]
        model = reference_model(r["params"], d, max_fidelity)
        with torch.no_grad():
            ours = float(_Criterion(model, z[:n], y[:n, 0]).value())
            zq = torch.from_numpy(reference_inputs(np.asarray([data["chosen_x"]]), max_fidelity))
            means, variances = GPPosterior(model, z, y).predict(zq)
        fresh = new_model(r["params"], d, max_fidelity)
        fresh.reset_parameters(y[:n, 0])
        fit = fit_map(fresh, z[:n], y[:n, 0], rng)
        rows.append({
            "r_acq": r["r_acq"], "n": n, "criterion_reference": data["criterion"], "criterion_ours": ours,
            "mean_error": float(np.max(np.abs(means.numpy().reshape(-1) - np.asarray(data["chosen_latent_mean"])))),
            "variance_error": abs(float(variances[0]) - data["chosen_latent_variance"]),
            "fitted": fit.criterion,
        })
    return rows


def replay(trace: Path, max_fidelity: int, seed: int = 0) -> str:
    """:func:`replay_rows` as a Markdown table."""
    rows = replay_rows(trace, max_fidelity, seed)
    lines = ["| r_acq | n | reference criterion | ours, same parameters | offset | max abs diff posterior mean |"
             " variance | ours fitted from our start | fitted - ours at the reference's |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['r_acq']} | {row['n']} | {row['criterion_reference']:.6f} | {row['criterion_ours']:.6f} | "
                     f"{row['criterion_reference'] - row['criterion_ours']:.6f} | {row['mean_error']:.2e} | "
                     f"{row['variance_error']:.2e} | {row['fitted']:.6f} | {row['fitted'] - row['criterion_ours']:+.4f} |")
    diffs = np.array([row["fitted"] - row["criterion_ours"] for row in rows])
    if len(diffs):
        lines.append(f"\nfitted - reference's optimum (both in our criterion): mean {diffs.mean():+.4f}, median "
                     f"{np.median(diffs):+.4f}; ours lower in {int((diffs < -1e-4).sum())} of {len(diffs)}, "
                     f"higher in {int((diffs > 1e-4).sum())}")
    return "\n".join(lines)


def open_benchmark(name: str) -> Any:
    """The benchmark object of ``conf/benchmark/<name>.yaml``, instantiated (not yet opened)."""
    from hydra.utils import instantiate

    from mfbench.api import compose
    from mfbench.config.resolve import resolve_config

    cfg = compose([f"benchmark={name}"])
    return instantiate(resolve_config(cfg, dict(cfg.hydra.runtime.choices))["benchmark"])


def replay_proposals(trace: Path, benchmark: str, out: Path, replicates: int = 4, seed: int = 0,
                     own_fit: bool = False) -> int:
    """Our proposal step on the reference's exact model inputs (MOBSTER, joint or independent model).

    For every record of a ``--dump-data`` reference trace: our model of the same kind with the
    reference's fitted parameters, conditioned on its observed rows and its fantasy
    columns; the incumbent over the configurations at ``r_acq``; ``num_init_candidates``
    random configurations not in the data, ranked by independent Thompson draws; the
    local optimisation of EI from the best. ``replicates`` proposals per record (different
    draws) are written to ``out`` as JSON lines like a trace's (``r_acq``, ``chosen``), so
    their quality can be compared with the reference's own choices on the same inputs.
    With ``own_fit`` the hyperparameters are ours instead, fitted (as our searcher does, from
    the initial values) on the reference's observed rows; the fantasy columns stay the
    reference's.
    """
    import torch

    from mfbench.searchers.gp.acquisition import score_candidates
    from mfbench.searchers.gp.candidates import locally_optimize
    from mfbench.searchers.gp.fit import fit_map
    from mfbench.searchers.gp.posterior import BlockPosterior, GPPosterior

    bench = open_benchmark(benchmark)
    space = bench.open().config_space
    max_fidelity = int(max(bench.fidelities))
    table = space.encode_table()
    rng = np.random.default_rng(seed)
    written = 0

    class Seen:
        def __init__(self, keys: set[tuple]) -> None:
            self.space, self.allow_duplicates, self._keys = space, False, keys

        def is_seen(self, config: dict) -> bool:
            return tuple(space.encode(config)) in self._keys

        def unseen_rows(self) -> None:
            return None

    with out.open("w", encoding="utf-8") as stream:
        for r, z, y in model_decisions(trace, max_fidelity):
            data = r["data"]
            d = z.shape[1] - 1
            x = z.numpy()
            levels = x[:, d]
            if own_fit:
                n = data["num_observed"]
                model = new_model(r["params"], d, max_fidelity)
                model.reset_parameters(y[:n, 0])
                fit_map(model, z[:n], y[:n, 0], rng)
            else:
                model = reference_model(r["params"], d, max_fidelity)
            r_acq = int(r["r_acq"])
            posterior = BlockPosterior(model, z[: data["num_observed"]], y[: data["num_observed"], 0])
            with torch.no_grad():
                ids = model.block_ids(z)
                for b in torch.unique(ids).tolist():  # the reference's rows, fantasy columns included
                    posterior._blocks[int(b)] = GPPosterior(model.block_model(int(b)), z[ids == b], y[ids == b])
                posterior.num_columns = y.shape[1]
                incumbents = z[levels == r_acq, :d]
                best = posterior.predict_mixture(incumbents, {r_acq: 1.0}, True)[0].min(dim=0).values
                jitter = 0.01 / data["std"]
                keys = {tuple(row) for row in x[:, :d]}
                free = np.array([i for i in range(len(table)) if tuple(table[i]) not in keys])
                for _ in range(replicates):
                    rows = free[rng.choice(len(free), size=250, replace=False)]
                    means, variances = posterior.predict_mixture(torch.from_numpy(table[rows]), {r_acq: 1.0}, False)
                    scores = score_candidates("thompson_indep", means, variances.sqrt(), best, jitter, rng)
                    first = space.decode(table[rows[int(np.argsort(scores, kind="stable")[0])]])
                    chosen = locally_optimize(Seen(keys), posterior, {r_acq: 1.0}, first, best, jitter, 1000)
                    stream.write(json.dumps({"r_acq": r_acq, "chosen": chosen,
                                             "local_moved": chosen != first}) + "\n")
                    written += 1
    return written


def make_fixture(trace: Path, out: Path, sizes: tuple[int, ...] = (8, 20, 40)) -> None:
    """Keep, from a ``--dump-data`` reference trace, the first decision with at least each of
    ``sizes`` observations (model inputs, fitted parameters, criterion, posterior at the
    chosen configuration): the fixture of ``tests/searchers/gp/test_reference_decisions.py``."""
    records = [r for r in read_records(trace) if "data" in r and isinstance(r["params"], dict)]
    kept = []
    for size in sizes:
        match = next((r for r in records if r["data"]["num_observed"] >= size), None)
        if match is None:
            raise SystemExit(f"no decision with {size} observations in {trace}")
        kept.append({"r_acq": match["r_acq"], "params": match["params"], "data": match["data"]})
    out.write_text(json.dumps({"source": "benchmarks/reference/trace_gp_searcher.py --dump-data (Syne Tune 0.13.0)",
                               "decisions": kept}, indent=None) + "\n", encoding="utf-8")


def _phase_summary(paths: list[Path]) -> dict[str, dict[str, list[float]]]:
    table: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            phase = str(r["r_acq"])
            row = table[phase]
            row["decisions"].append(1.0)
            row["observations"].append(float(sum(r["num_observations"].values())))
            row["pending"].append(float(r["num_pending"]))
            row["current_best"].append(r["current_best"])
            row["chosen_mean - best"].append(r["chosen_mean"] - r["current_best"])
            row["chosen_std"].append(r["chosen_std"])
            params = r["params"] if isinstance(r["params"], dict) else {}
            for key in ("noise_variance", "kernel_alpha", "kernel_mean_lam", "kernel_gamma",
                        "kernel_kernelx_covariance_scale", "kernel_meanx_mean_value"):
                if key in params:
                    row[key].append(_scalar(params[key]))
            bws = [_scalar(v) for k, v in params.items() if k.startswith(("kernel_kernelx_inv_bw", "kernel_inv_bw"))]
            if bws:
                row["mean log10 inv_bw"].append(float(np.mean(np.log10(bws))))
            if "kernel_gamma" in params:
                row["gamma at upper bound"].append(float(_scalar(params["kernel_gamma"]) > 0.99))
                row["mean_lam at upper bound"].append(float(_scalar(params["kernel_mean_lam"]) > 49.5))
    return table


def compare(left: list[Path], right: list[Path]) -> str:
    a, b = _phase_summary(left), _phase_summary(right)
    lines = [f"| phase (r_acq) | quantity | reference ({len(left)} runs) | ours ({len(right)} runs) |", "|---|---|---|---|"]

    def key(phase: str) -> float:
        return float(phase) if phase.replace(".", "").isdigit() else math.inf

    for phase in sorted(set(a) | set(b), key=key):
        for q in dict.fromkeys([*a.get(phase, {}), *b.get(phase, {})]):
            va, vb = a.get(phase, {}).get(q, []), b.get(phase, {}).get(q, [])
            fmt = (lambda v: f"{len(v)}") if q == "decisions" else (
                lambda v: f"{np.mean(v):.4g}" if v else "-")
            lines.append(f"| {phase} | {q} | {fmt(va)} | {fmt(vb)} |")
    return "\n".join(lines)


#: random configurations a surrogate benchmark's final values are ranked among (fixed draw, seed 0)
SURROGATE_RANK_SAMPLE = 2000


def final_value_ranks(benchmark: str) -> Callable[[dict[str, Any]], float]:
    """A function ``config -> rank quantile`` of the configuration's final value (at the maximum
    fidelity): the fraction of configurations that are strictly better (0 = the best). On a
    table, among the table's configurations (mean over the table seeds); on a surrogate (a
    continuous space, e.g. YAHPO LCBench), among :data:`SURROGATE_RANK_SAMPLE` configurations
    drawn uniformly with seed 0, each evaluated at table seed 0."""
    bench = open_benchmark(benchmark)
    blackbox = bench.open()
    if getattr(blackbox, "evaluations", None) is None:
        return _surrogate_ranks(bench, blackbox)
    position = blackbox.fidelity_positions(np.array([int(blackbox.fidelity_values[-1])]))
    values = np.nanmean(np.asarray(blackbox.evaluations[:, :, position, blackbox.objective_index(bench.metric)],
                                   dtype=np.float64).reshape(len(blackbox.config_space.table), -1), axis=1)
    signed = np.sort(values if bench.mode == "min" else -values)
    space = blackbox.config_space

    def rank(config: dict[str, Any]) -> float:
        value = values[space.index_of(config)]
        return float(np.searchsorted(signed, value if bench.mode == "min" else -value, side="left") / len(signed))

    return rank


def _surrogate_ranks(bench: Any, blackbox: Any) -> Callable[[dict[str, Any]], float]:
    space = blackbox.config_space
    top = np.array([int(blackbox.fidelity_values[-1])])
    column = blackbox.objective_index(bench.metric)
    sign = 1.0 if bench.mode == "min" else -1.0

    def final(config: dict[str, Any]) -> float:
        return sign * float(np.asarray(blackbox.evaluate({k: config[k] for k in space.names}, 0, top))[0, column])

    rng = np.random.default_rng(0)
    signed = np.sort([final(space.sample(rng)) for _ in range(SURROGATE_RANK_SAMPLE)])
    return lambda config: float(np.searchsorted(signed, final(config), side="left") / len(signed))


def _state(record: dict[str, Any]) -> tuple[Any, ...]:
    return record["r_acq"], tuple(sorted(record["num_observations"].items())), record["num_pending"]


def decision_quality(benchmark: str, ours: list[Path], min_aligned: float = 0.5) -> str:
    """Our would-be proposals (traces made with ``--forced-from``) against the reference's
    proposals on the same states, by the rank quantile of the configuration's final value.

    A trace is compared decision by decision with its reference trace (``<forced-from>`` with
    the suffix ``.gp.jsonl``) as long as both are on the same state (level, observations per
    level, pending evaluations; a tie in the event order can make the forced run part from
    the reference's; a run where they part before ``min_aligned`` of the reference's decisions
    is listed but left out). Our traces of one reference run (several seeds) are averaged;
    the difference ours - reference per reference run gives mean ± se and ``z``.
    """
    rank = final_value_ranks(benchmark)
    by_reference: dict[str, list[list[dict[str, Any]]]] = defaultdict(list)
    for path in ours:
        records = read_records(path)
        if not records or "forced_from" not in records[0]:
            raise SystemExit(f"{path}: not a trace made with --forced-from")
        by_reference[records[0]["forced_from"]].append(records)
    lines = ["| reference run | our traces | decisions compared | reference | ours | ours - reference |",
             "|---|---|---|---|---|---|"]
    diffs = []
    for reference, runs in sorted(by_reference.items()):
        theirs = read_records(Path(reference).with_suffix(".gp.jsonl"))
        aligned = min(next((k for k, (a, b) in enumerate(zip(theirs, run)) if _state(a) != _state(b)),
                           min(len(theirs), len(run))) for run in runs)
        if aligned < min_aligned * len(theirs):  # a few early decisions: too few to say anything
            lines.append(f"| {Path(reference).name} | {len(runs)} | {aligned} of {len(theirs)} (left out: the states "
                         f"part early) | | | |")
            continue
        ref_q = float(np.mean([rank(r["chosen"]) for r in theirs[:aligned]]))
        our_q = float(np.mean([[rank(r["chosen"]) for r in run[:aligned]] for run in runs]))
        diffs.append(our_q - ref_q)
        lines.append(f"| {Path(reference).name} | {len(runs)} | {aligned} of {len(theirs)} | {ref_q:.3f} | "
                     f"{our_q:.3f} | {our_q - ref_q:+.3f} |")
    if len(diffs) >= 2:
        d = np.asarray(diffs)
        se = float(d.std(ddof=1) / math.sqrt(len(d)))
        lines.append(f"\nours - reference over {len(d)} reference runs: {d.mean():+.4f} ± {se:.4f} "
                     f"(z {d.mean() / se if se > 0 else 0.0:+.2f}; > 0: our proposals rank worse)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, help="JSON lines, one per model-based proposal")
    p.add_argument("--compare", nargs="+", type=Path, metavar="REFERENCE_TRACE",
                   help="compare reference traces with ours (ours after '--')")
    p.add_argument("--replay", type=Path, metavar="REFERENCE_TRACE",
                   help="evaluate our model on the exact inputs of a --dump-data reference trace")
    p.add_argument("--replay-proposals", nargs=3, metavar=("REFERENCE_TRACE", "BENCHMARK", "OUT"),
                   help="our proposal step on the exact inputs of a --dump-data reference trace")
    p.add_argument("--own-fit", action="store_true",
                   help="--replay-proposals: our fitted hyperparameters instead of the reference's")
    p.add_argument("--dump-data", action="store_true",
                   help="trace: add each proposal's model inputs (as the reference trace's --dump-data; "
                        "joint model only: the independent one predicts at r_acq's block alone)")
    p.add_argument("--make-fixture", nargs=2, type=Path, metavar=("REFERENCE_TRACE", "OUT"),
                   help="keep three decisions of a --dump-data reference trace as a test fixture")
    p.add_argument("--max-fidelity", type=int, default=200, help="--replay: the benchmark's max_t")
    p.add_argument("--forced-from", type=Path, metavar="REFERENCE_PARQUET",
                   help="trace: run the reference run's configurations and table seeds; our proposals are traced "
                        "on its states but not run")
    p.add_argument("--decision-quality", metavar="BENCHMARK",
                   help="score traces made with --forced-from (given as the rest) against the reference's proposals")
    p.add_argument("rest", nargs="*", help="Hydra overrides (trace) or our traces (compare)")
    a = p.parse_args(argv)
    if a.make_fixture:
        make_fixture(*a.make_fixture)
        return
    if a.replay_proposals:
        trace, benchmark, out = a.replay_proposals
        print(replay_proposals(Path(trace), benchmark, Path(out), own_fit=a.own_fit), "proposals written to", out)
        return
    if a.replay:
        print(replay(a.replay, a.max_fidelity))
        return
    if a.compare:
        print(compare(a.compare, [Path(x) for x in a.rest]))
        return
    if a.decision_quality:
        print(decision_quality(a.decision_quality, [Path(x) for x in a.rest]))
        return
    if a.out is None:
        p.error("--out is required to trace a run")
    metadata = trace_run(list(a.rest), a.out, a.dump_data, a.forced_from)
    print(json.dumps({"best": metadata.get("best"), "out": str(a.out)}))


if __name__ == "__main__":
    main()
