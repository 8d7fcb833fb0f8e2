"""The allow-list unpickler refuses globals outside the list and reads the real data."""
from __future__ import annotations

import bz2
import collections
import os
import pickle

import numpy as np
import pytest

from mfbench.blackbox.safe_pickle import ForbiddenPickleGlobal, safe_load, safe_loads
from tests.conftest import FIXTURES


class _Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_a_pickle_naming_os_system_is_refused():
    payload = pickle.dumps(_Exploit())
    with pytest.raises(ForbiddenPickleGlobal, match="os.system|posix.system"):
        safe_loads(payload)


def test_a_pickle_naming_builtins_eval_is_refused():
    payload = b"cbuiltins\neval\n(S'1+1'\ntR."  # protocol-0 GLOBAL + REDUCE
    with pytest.raises(ForbiddenPickleGlobal, match="builtins.eval"):
        safe_loads(payload)


def test_allowed_types_round_trip(tmp_path):
    value = collections.OrderedDict(a=np.float64(1.5), b=[1, 2.0, "x"], c={"k": (1, 2)})
    path = tmp_path / "data.pickle.pbz2"
    path.write_bytes(bz2.compress(pickle.dumps(value)))
    loaded = safe_load(path)
    assert loaded == value and isinstance(loaded["a"], np.float64)


def test_real_nats_record_loads():
    path = FIXTURES / "nats-tss-v1_0-3ffb9-simple" / "000000.pickle.pbz2"
    record = safe_load(path)
    assert record["200"]["arch_index"] == 0
