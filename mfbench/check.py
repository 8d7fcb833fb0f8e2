"""``python -m mfbench.check <overrides>``: run a method through the contract every method honours.

The implementation is :mod:`mfbench.cli.check` (shared with ``tests/test_method_contract.py``);
the guide is docs/writing-a-method.md.
"""
from __future__ import annotations

import sys

from mfbench.cli.check import main

if __name__ == "__main__":
    sys.exit(main())
