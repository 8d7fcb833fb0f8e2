"""The contract every method in conf/method/ honours (one parametrised test per YAML).

A method here is any YAML in ``conf/method``; methods added later are tested without
changing this file. The checks are :mod:`mfbench.cli.check`, the ones a researcher runs on
their own method with ``python -m mfbench.check``: on the analytic benchmark (and on the
default NB201 benchmark when its data is available) a short run must

* respect the budget (number of results, simulated time) and the worker count;
* only evaluate configurations of the (tabulated) search space, none twice;
* resume paused trials from their checkpoint;
* be reproducible: the same seed gives bit-identical results;
* on a tiny finite space, end cleanly once every configuration was tried (also with the
  simulator polling like the reference tuner);
* cope with a non-cumulative fidelity (a training-set fraction, ``trainsize_toy``), where
  every level a trial reports is charged in full.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from mfbench.cli.check import ANALYTIC, NON_CUMULATIVE, CheckResult, finite_space, run_scenario, table_scenario

REPO = Path(__file__).resolve().parents[1]
CONF = REPO / "conf"
METHODS = sorted(p.stem for p in (CONF / "method").glob("*.yaml"))


def _nb201_benchmark() -> str | None:
    """The config's default benchmark if it is an NB201 one (else the first NB201 YAML), or None."""
    import yaml

    defaults = yaml.safe_load((CONF / "config.yaml").read_text(encoding="utf-8"))["defaults"]
    default = next((d["benchmark"] for d in defaults if isinstance(d, dict) and "benchmark" in d), None)
    if default is not None and default.startswith(("nb201", "nas201")):
        return default
    names = sorted(p.stem for p in (CONF / "benchmark").glob("*.yaml"))
    return next((n for n in names if n.startswith(("nb201", "nas201"))), None)


def _assert_all_passed(results: list[CheckResult]) -> None:
    failed = [r for r in results if r.passed is not True]
    assert not failed, "\n".join([results[0].scenario, *(r.line() for r in failed)])


@pytest.mark.parametrize("method", METHODS)
def test_contract_on_analytic_benchmark(method: str, tmp_path: Path) -> None:
    _assert_all_passed(run_scenario(ANALYTIC, [f"method={method}"], tmp_path, method))


@pytest.mark.parametrize("poll_interval", [0, 5])
@pytest.mark.parametrize("method", METHODS)
def test_contract_on_tiny_finite_space(method: str, poll_interval: float, tmp_path: Path) -> None:
    _assert_all_passed(run_scenario(finite_space(poll_interval), [f"method={method}"], tmp_path, method))


@pytest.mark.parametrize("method", METHODS)
def test_contract_on_non_cumulative_fidelity(method: str, tmp_path: Path) -> None:
    # trainsize_toy: the fidelity is a training-set fraction, each level trained from scratch
    # and charged in full (docs/simulator.md#non-cumulative); every method must cope
    _assert_all_passed(run_scenario(NON_CUMULATIVE, [f"method={method}"], tmp_path, method))


@pytest.mark.parametrize("method", METHODS)
def test_contract_on_default_nb201(method: str, tmp_path: Path, converted_fixtures: Path) -> None:
    benchmark = _nb201_benchmark()
    if benchmark is None:
        pytest.skip("no NB201 benchmark is defined in conf/benchmark")
    _assert_all_passed(run_scenario(table_scenario(benchmark), [f"method={method}"], tmp_path, method))
