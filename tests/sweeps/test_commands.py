from __future__ import annotations

import pytest

from mfbench.sweeps.commands import cartesian_blocks, commands, format_values, split_override


def test_split_override() -> None:
    assert split_override("method=asha_stop") == ("method", "asha_stop")
    assert split_override("hydra.launcher.own_job=['a=b']") == ("hydra.launcher.own_job", "['a=b']")
    with pytest.raises(ValueError, match="not a key=value override"):
        split_override("seed")


def test_full_grid_is_one_block() -> None:
    runs = [[f"method={m}", f"seed={s}"] for m in ("a", "b") for s in (1, 2)]
    assert cartesian_blocks(runs) == [[("method", ("a", "b")), ("seed", ("1", "2"))]]


def test_partial_grid_is_covered_exactly() -> None:
    # a: seeds 0,1,2; b: seeds 0,1,2; c: seed 2 only  ->  {a,b} x {0,1,2}  and  {c} x {2}
    runs = [[f"method={m}", f"seed={s}"] for m in ("a", "b") for s in (0, 1, 2)] + [["method=c", "seed=2"]]
    blocks = cartesian_blocks(runs)
    assert blocks == [[("method", ("a", "b")), ("seed", ("0", "1", "2"))], [("method", ("c",)), ("seed", ("2",))]]
    covered = {(m, s) for block in blocks for m in block[0][1] for s in block[1][1]}
    assert covered == {(r[0][7:], r[1][5:]) for r in runs}


def test_runs_with_other_keys_get_their_own_commands_and_duplicates_vanish() -> None:
    runs = [["method=a", "seed=0"], ["method=a", "seed=0"], ["experiment=quick", "method=a", "seed=1"]]
    assert cartesian_blocks(runs) == [[("method", ("a",)), ("seed", ("0",))],
                                      [("experiment", ("quick",)), ("method", ("a",)), ("seed", ("1",))]]


def test_format_values() -> None:
    assert format_values(["2", "0", "1", "3"]) == "range(0,4)"
    assert format_values(["0", "1"]) == "0,1"  # two values: a range is no shorter
    assert format_values(["0", "2", "3"]) == "0,2,3"
    assert format_values(["007", "8", "9"]) == "007,8,9"
    assert format_values(["b", "a"]) == "b,a"


def test_commands_quote_for_the_shell() -> None:
    runs = [["method=a", "seed=0"], ["method=a", "seed=1"], ["method=a", "seed=2"]]
    assert commands(runs, ["hydra/launcher=local"]) == [
        "python -m mfbench -m hydra/launcher=local method=a 'seed=range(0,3)'"]
    assert commands([["x=[1,2]"]]) == ["python -m mfbench -m 'x=[1,2]'"]
