"""Result columns to Arrow without pandas: the same table as ``pyarrow.table``, pandas left unimported."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from mfbench.results.arrow_columns import arrow_array, arrow_table

COLUMNS = {
    "trial_id": np.array([0, 0, 1], dtype=np.int64),
    "metric": np.array([0.5, np.nan, -1e300]),
    "decision": ["continue", "stop", "é ü 字"],
    "config_int": [16, 512, 3],
    "config_float": [0.1, 1e-5, 3.0],
    "config_np_int": [np.int64(4), np.int64(5), np.int64(6)],
    "config_str": ["nor_conv_3x3", "none", ""],
}


def test_the_table_and_its_file_equal_pyarrows_own(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    monkeypatch.delitem(sys.modules, "pandas", raising=False)  # the buffers (a run's own process)
    ours, theirs = arrow_table(COLUMNS), pa.table(COLUMNS)
    assert ours.schema == theirs.schema
    assert np.isnan(ours.column("metric").to_numpy()[1]) and ours.column("metric").null_count == 0  # NaN stays a value
    for name, table in (("ours", ours), ("theirs", theirs)):
        pq.write_table(table, tmp_path / f"{name}.parquet", compression="zstd")
    assert (tmp_path / "ours.parquet").read_bytes() == (tmp_path / "theirs.parquet").read_bytes()


@pytest.mark.parametrize("values", [
    [True, False], [1, 2.5], [None, "a"], ["a", 1], [], np.array([1, 2], dtype=np.int32),
    np.array([[1.0, 2.0]]).ravel()[::-1], [2**63], np.array([True, False]),
    [np.int32(3), np.int32(4)], [np.float32(0.1)] * 2, [np.uint64(1)], [np.int8(1), 2], [np.float16(1.5)],
    [np.longdouble(1.5)], np.ma.masked_array([1.0, 2.0], mask=[False, True]), [np.bool_(True)],
], ids=["bool", "mixed-numbers", "none", "mixed", "empty", "int32", "strided", "beyond-int64", "np-bool",
        "np-int32-items", "np-float32-items", "np-uint64-items", "np-int8-and-int", "np-float16-items",
        "np-longdouble-items", "masked", "np-bool-items"])
def test_other_columns_are_built_as_pyarrow_builds_them(values):
    try:
        expected = pa.array(values)
    except (OverflowError, TypeError, pa.ArrowException) as error:
        with pytest.raises(type(error)):
            arrow_array(values)
        return
    ours = arrow_array(values)
    assert ours.type == expected.type and ours.equals(expected) and ours.null_count == expected.null_count


def test_writing_a_run_leaves_pandas_unimported(tmp_path):
    code = ("import sys, numpy as np\n"
            "from mfbench.results.store import RunDirectory\n"
            f"RunDirectory({str(tmp_path)!r}).write({{'a': np.arange(3.0), 'b': ['x', 'y', 'z'], 'c': [1, 2, 3]}}, {{}})\n"
            "print('pandas' in sys.modules)\n"
            "import pyarrow.parquet as pq\n"
            f"assert pq.read_table({str(tmp_path / 'results.parquet')!r}).num_rows == 3\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
