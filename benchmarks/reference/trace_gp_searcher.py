#!/usr/bin/env python
"""Trace the decisions of Syne Tune 0.13.0's GP searchers (run in the reference venv).

Runs ``syne_tune_runner.py`` unchanged, with ``_get_config_modelbased`` of the GP searchers
wrapped: after every model-based proposal, one JSON line is appended to ``<out>.gp.jsonl``
with what the proposal was computed from and what it chose:

* ``r_acq``: the level expected improvement is computed at (``value_for_last_pos``);
* ``current_best``: the incumbent value EI uses (``predictor.current_best()``, one value
  per fantasy sample, averaged here; in the metric's units as the predictor reports them);
* ``best_at_r_acq``: the smallest posterior mean at ``r_acq`` over the configurations
  observed or pending *at* ``r_acq``; ``best_any_level``: over every observed or pending
  (configuration, level) pair at its own level (what ``TuningJobState`` hands
  ``current_best``), with the level the minimum was found at;
* ``num_observations`` per level, ``num_pending``, the fitted parameters, the chosen
  configuration and its posterior mean / std at ``r_acq``;
* for Hyper-Tune (``r_acq`` is ``"ensemble"``; the level-wise quantities above are left
  out): the learnt bracket distribution's head and the ensemble weights per level, and
  ``current_best`` with the level its incumbents are filtered to (``incumbent_level``) and
  their number (``num_incumbents``).

Example (NB201-offline CIFAR-10, 4 workers, 1 h)::

    /work/st-venv/bin/python benchmarks/reference/trace_gp_searcher.py --method mobster_joint --seed 0 \\
        --table ~/.cache/mfbench/exports/nas201_offline_cifar10.parquet --n-workers 4 \\
        --max-wallclock-time 3600 --out /tmp/ref/mobster_joint-0.parquet

``--dump-data`` adds each proposal's model inputs (encoded inputs, normalised targets with
the fantasy samples, the criterion at the fitted parameters, the latent posterior at the
chosen configuration), which ``benchmarks/trace_gp_searcher.py --replay`` evaluates with
our model on identical inputs.

It is a diagnostic of the reference, not a way to run methods: the wrapper only reads the
searcher's state after each proposal and changes no draw.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _out_path(argv: list[str]) -> Path:
    return Path(argv[argv.index("--out") + 1]).with_suffix(".gp.jsonl")


def _means_at(predictor, hp_ranges, configs: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means ``(len(configs), num_fantasies)`` and standard deviations
    ``(len(configs),)`` of extended configurations, in the metric's units."""
    inputs = hp_ranges.to_ndarray_matrix(configs)
    prediction = predictor.predict(inputs)[0]
    means = prediction["mean"]
    return means.reshape(len(configs), -1), prediction["std"].reshape(len(configs))


def _model_inputs(predictor, hp_ranges, chosen: dict) -> dict[str, Any]:
    """What the proposal's posterior was computed from, for a replay on identical inputs:
    the encoded inputs ``(n + p, d + 1)`` (observed rows, then pending), the normalised
    targets ``(n + p, m)`` (observed values broadcast, fantasies), the normalisation, the
    criterion (negative log marginal likelihood plus negative log priors, on the observed
    rows) at the fitted parameters, and the latent posterior at the chosen configuration
    ``(m,)`` means and variance, normalised units."""
    from syne_tune.optimizer.schedulers.searchers.bayesopt.datatypes.tuning_job_state import TuningJobState
    from syne_tune.optimizer.schedulers.searchers.bayesopt.gpautograd.optimization_utils import (
        add_regularizer_to_criterion)
    from syne_tune.optimizer.schedulers.searchers.bayesopt.models.estimator import transform_state_to_data

    state = predictor.state
    fantasies = predictor.fantasy_samples
    full = TuningJobState(hp_ranges=state.hp_ranges, config_for_trial=state.config_for_trial,
                          trials_evaluations=state.trials_evaluations, failed_trials=state.failed_trials,
                          pending_evaluations=fantasies)
    num_samples = fantasies[0].fantasies[predictor.active_metric].size if fantasies else 1
    data = transform_state_to_data(full, predictor.active_metric, True, num_samples)
    observed = transform_state_to_data(
        TuningJobState(hp_ranges=state.hp_ranges, config_for_trial=state.config_for_trial,
                       trials_evaluations=state.trials_evaluations, failed_trials=state.failed_trials),
        predictor.active_metric, True, 1)
    gpmodel = predictor._gpmodel
    likelihood = gpmodel.likelihood
    criterion = add_regularizer_to_criterion(likelihood, [{"features": observed.features,
                                                            "targets": observed.targets}])
    x = hp_ranges.to_ndarray_matrix([chosen])
    mean, variance = gpmodel.predict(x)[0]
    return {"features": data.features.tolist(), "targets": np.asarray(data.targets).tolist(),
            "num_observed": int(observed.features.shape[0]), "mean": data.mean, "std": data.std,
            "criterion": float(np.asarray(criterion).reshape(-1)[0]), "chosen_x": x[0].tolist(),
            "chosen_latent_mean": np.asarray(mean).reshape(-1).tolist(),
            "chosen_latent_variance": float(np.asarray(variance).reshape(-1)[0])}


def install(trace_file: Path, dump_data: bool = False) -> None:
    from syne_tune.optimizer.schedulers.searchers.model_based_searcher import BayesianOptimizationSearcher

    original = BayesianOptimizationSearcher._get_config_modelbased
    trace_file.parent.mkdir(parents=True, exist_ok=True)
    trace_file.write_text("", encoding="utf-8")

    def traced(self, exclusion_candidates, **kwargs):
        captured: dict[str, Any] = {}
        transformer = self.state_transformer
        fit = transformer.fit

        def capturing_fit(*args, **kw):
            captured["predictor"] = predictor = fit(*args, **kw)
            return predictor

        transformer.fit = capturing_fit
        try:
            config = original(self, exclusion_candidates, **kwargs)
        finally:
            del transformer.fit
        predictor = captured.get("predictor")
        ext = getattr(self, "config_space_ext", None)
        if predictor is None or ext is None or config is None:
            return config
        hp = ext.hp_ranges_ext
        r_acq = hp.value_for_last_pos
        name = hp.name_last_pos
        state = predictor.state
        observed, _ = state.observed_data_for_metric()
        pending = state.pending_configurations()
        pairs = observed + pending
        levels = [int(c[name]) for c in pairs]
        gpmodel = getattr(predictor, "_gpmodel", None)
        hypertune = hasattr(gpmodel, "hypertune_bracket_distribution")
        record: dict[str, Any] = {"r_acq": "ensemble" if hypertune else int(r_acq), "num_pending": len(pending),
                                  "num_observations": {}}
        for c in observed:
            key = str(int(c[name]))
            record["num_observations"][key] = record["num_observations"].get(key, 0) + 1
        record["chosen"] = {k: (v if isinstance(v, (int, float, str)) else str(v)) for k, v in config.items()}
        if not hypertune:  # Hyper-Tune predicts an ensemble over levels at configurations without a level
            record["current_best"] = float(np.mean(predictor.current_best()[0]))
            means, _ = _means_at(predictor, hp, pairs)
            record["best_any_level"] = float(means.min(axis=0).mean())
            record["best_any_level_at"] = levels[int(np.argmin(means.mean(axis=1)))]
            at_level = [c for c, r in zip(pairs, levels) if r == r_acq]
            if at_level:
                m, _ = _means_at(predictor, hp, at_level)
                record["best_at_r_acq"] = float(m.min(axis=0).mean())
            m, s = _means_at(predictor, hp, [dict(config, **{name: int(r_acq)})])
            record["chosen_mean"] = float(m.mean())
            record["chosen_std"] = float(s[0])
        if hypertune:  # the learnt distributions, and the incumbent of the ensemble's EI
            # current_best: the ensemble's mean, minimised over the configurations the predictor's
            # filter keeps (those observed or pending at the level fixed for this decision)
            record["current_best"] = float(np.mean(predictor.current_best()[0]))
            record["incumbent_level"] = int(r_acq)
            record["num_incumbents"] = len(predictor._current_best_filter_candidates(list(pairs)))
            head = gpmodel.hypertune_bracket_distribution()
            ensemble = gpmodel.hypertune_ensemble_distribution()
            record["hypertune_bracket_head"] = None if head is None else np.asarray(head).tolist()
            record["hypertune_ensemble"] = None if ensemble is None else {str(k): float(v) for k, v in ensemble.items()}
        if dump_data and not hypertune:
            record["data"] = _model_inputs(predictor, hp, dict(config, **{name: int(r_acq)}))
        try:
            record["params"] = {k: np.asarray(v).tolist() for k, v in transformer.get_params().items()}
        except Exception as error:  # noqa: BLE001 - a diagnostic: keep the trace going
            record["params"] = repr(error)
        with trace_file.open("a", encoding="utf-8") as stream:
            stream.write(json.dumps(record) + "\n")
        return config

    BayesianOptimizationSearcher._get_config_modelbased = traced


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    import syne_tune_runner

    # the runner imports Syne Tune inside main(); install once the class is importable
    dump_data = "--dump-data" in argv
    if dump_data:
        argv.remove("--dump-data")
    install(_out_path(argv), dump_data)
    syne_tune_runner.main(argv)


if __name__ == "__main__":
    main()
