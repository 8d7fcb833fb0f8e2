"""Package layout only (metadata lives in pyproject.toml).

The Hydra config tree is ``conf/`` at the top of the repository and is installed as the
package data ``mfbench/conf``, so ``python -m mfbench`` finds it after a non-editable install.
"""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["mfbench", "mfbench.*"]) + ["mfbench.conf"],
    package_dir={"mfbench.conf": "conf"},
    package_data={"mfbench.conf": ["*.yaml", "**/*.yaml"]},
)
