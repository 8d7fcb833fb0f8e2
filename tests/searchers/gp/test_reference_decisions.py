"""Our GPs (``gp_multitask``, ``gp_independent``) against Syne Tune 0.13.0's on decisions recorded from its runs.

Each fixture holds three proposals of the reference's ``mobster_joint`` (joint model) or
``mobster_indep`` (one GP per level) on NB201-offline ImageNet16-120 with 8 workers (9 to
41 observations), recorded by
``benchmarks/reference/trace_gp_searcher.py --dump-data`` and kept by
``benchmarks/trace_gp_searcher.py --make-fixture``: the model's encoded inputs (observed rows,
then pending rows), its normalised targets (observed values broadcast over the 20 fantasy
columns, then the fantasies it drew), the hyperparameters it fitted, its MAP criterion there
and its latent posterior at the configuration it chose. With the same inputs and
parameters our model must give the same posterior, and a criterion that differs from the
reference's by one constant (the priors' normalising constants), so that both fits minimise
the same function; our fit from our initial values must reach the reference's optimum.
The conversions (the reference's parameter names and resource encoding) are the trace
script's, which the diagnostics of ``benchmarks/`` use as well.
"""
from __future__ import annotations

import pytest

from tests.conftest import FIXTURES, load_script

pytest.importorskip("torch")

MAX_FIDELITY = 200  # NB201's epochs; the reference encodes r as (r - 0.5) / 200


FIXTURE = {"joint": ("syne_tune_gp_decisions.json", [9, 21, 41]),
           "independent": ("syne_tune_gp_decisions_independent.json", [9, 23, 40])}


@pytest.fixture(scope="module", params=sorted(FIXTURE))
def model(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def rows(model) -> list[dict]:
    script = load_script("benchmarks/trace_gp_searcher.py")
    return script.replay_rows(FIXTURES / FIXTURE[model][0], MAX_FIDELITY)


def test_the_fixture_holds_decisions_with_pending_evaluations(rows, model) -> None:
    assert [row["n"] for row in rows] == FIXTURE[model][1]


def test_posterior_at_the_chosen_configuration_equals_the_reference(rows) -> None:
    for row in rows:  # 20 fantasy columns of posterior means, one variance
        assert row["mean_error"] < 1e-7 and row["variance_error"] < 1e-7, row


def test_criterion_equals_the_reference_up_to_one_constant(rows) -> None:
    offsets = [row["criterion_reference"] - row["criterion_ours"] for row in rows]
    # three data sets of different sizes, three different parameter vectors: one offset
    assert max(offsets) - min(offsets) < 1e-6, offsets


def test_our_fit_reaches_the_reference_optimum(rows) -> None:
    # from our initial values, two starts: the same optimum or one within a small margin
    for row in rows:
        assert row["fitted"] <= row["criterion_ours"] + 1.5, row
