"""``python -m mfbench.analyze <folder>``: the same command as ``python -m mfbench.analysis``."""
from __future__ import annotations

import sys

if __name__ == "__main__":
    from mfbench.analysis.__main__ import main

    sys.exit(main())
