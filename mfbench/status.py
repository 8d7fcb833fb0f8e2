"""``python -m mfbench.status <sweep dir>``: the state of a sweep's runs (see :mod:`mfbench.sweeps.status_report`)."""
from __future__ import annotations

import sys

from mfbench.sweeps.status_report import main

if __name__ == "__main__":
    sys.exit(main())
