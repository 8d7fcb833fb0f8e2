"""``python -m mfbench.data``: see :mod:`mfbench.data.cli`."""
import sys

from mfbench.data.cli import main

if __name__ == "__main__":
    sys.exit(main())
