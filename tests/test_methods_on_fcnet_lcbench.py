"""Every method runs the checks of ``python -m mfbench.check`` on a converted FCNet table and on
LCBench through its 1-NN surrogate (the benchmarks' own YAMLs, on the fixtures that conftest's
``converted_fixtures`` writes in the original layouts and converts)."""
from __future__ import annotations

from pathlib import Path

import pytest

from mfbench.cli.check import CheckResult, run_scenario, table_scenario

REPO = Path(__file__).resolve().parents[1]
METHODS = sorted(p.stem for p in (REPO / "conf" / "method").glob("*.yaml"))
#: a plain table (24 configurations of the FCNet grid, 4 seeds, 100 epochs) and a surrogate over
#: one (a continuous space): the two kinds of benchmark these sources give
BENCHMARKS = ("fcnet_naval", "lcbench_189908")


def _assert_all_passed(results: list[CheckResult]) -> None:
    failed = [r for r in results if r.passed is not True]
    assert not failed, "\n".join([results[0].scenario, *(r.line() for r in failed)])


@pytest.mark.parametrize("benchmark", BENCHMARKS)
@pytest.mark.parametrize("method", METHODS)
def test_contract_on_fcnet_and_lcbench(method: str, benchmark: str, tmp_path: Path, converted_fixtures: Path) -> None:
    _assert_all_passed(run_scenario(table_scenario(benchmark), [f"method={method}"], tmp_path, method))
