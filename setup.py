"""Package layout only (metadata lives in pyproject.toml).

The Hydra config tree is ``conf/`` at the top of the repository and is installed as the
package data ``mfbench/conf``, so ``python -m mfbench`` finds it after a non-editable install;
``hydra_plugins/mfbench_sweeps`` holds the sweeper and launcher plugins.
"""
from setuptools import find_namespace_packages, find_packages, setup

setup(
    packages=find_packages(include=["mfbench", "mfbench.*"])
    + ["mfbench.conf"]
    # Hydra loads sweepers and launchers only from the hydra_plugins namespace package.
    + find_namespace_packages(include=["hydra_plugins", "hydra_plugins.*"]),
    package_dir={"mfbench.conf": "conf"},
    package_data={"mfbench.conf": ["*.yaml", "**/*.yaml"]},
)
