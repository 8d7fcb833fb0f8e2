"""Time ``python -m mfbench --help`` (it should take about a second), optionally against a revision.

Runs the command ``--repeat`` times in fresh processes and reports the minimum and the median
wall time, beside the bare interpreter's start-up and ``import hydra`` (what any Hydra
command pays). With ``--rev REV`` the same is timed on ``git archive REV`` of this checkout
(in a temporary folder), alternating the two so that a busy machine hurts both alike.

    python benchmarks/time_cli_help.py --repeat 15 --rev HEAD~1
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def wall(command: list[str], checkout: Path) -> float:
    """Seconds of one run of ``command`` with ``checkout`` first on the path (output discarded)."""
    env = {**os.environ, "PYTHONPATH": str(checkout), "HYDRA_FULL_ERROR": "0"}
    start = time.perf_counter()
    done = subprocess.run(command, cwd=tempfile.gettempdir(), env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed in {checkout}:\n{done.stderr[-2000:]}")
    return elapsed


def report(name: str, times: list[float]) -> str:
    return f"{name:<34} min {min(times):6.3f} s   median {statistics.median(times):6.3f} s   ({len(times)} runs)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="runs of each command (default 10)")
    parser.add_argument("--rev", help="also time this git revision of the checkout, e.g. HEAD~1 or main")
    args = parser.parse_args()

    checkouts = {"this checkout": REPO}
    with tempfile.TemporaryDirectory() as tmp:
        if args.rev:
            archive = subprocess.run(["git", "-C", str(REPO), "archive", args.rev], check=True, capture_output=True)
            subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
            checkouts[f"{args.rev}"] = Path(tmp)
        commands = {"python (start-up only)": [sys.executable, "-c", "pass"],
                    "python -c 'import hydra'": [sys.executable, "-c", "import hydra"]}
        times: dict[str, list[float]] = {name: [] for name in commands}
        times.update({f"--help, {name}": [] for name in checkouts})
        for _ in range(args.repeat):  # interleaved: load on the machine affects every command alike
            for name, command in commands.items():
                times[name].append(wall(command, REPO))
            for name, checkout in checkouts.items():
                times[f"--help, {name}"].append(wall([sys.executable, "-m", "mfbench", "--help"], checkout))
    for name, values in times.items():
        print(report(name, values))


if __name__ == "__main__":
    main()
