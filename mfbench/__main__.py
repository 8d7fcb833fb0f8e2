"""``python -m mfbench``: see :mod:`mfbench.cli.main`."""
from mfbench.cli.main import main

if __name__ == "__main__":
    main()
