"""Inject the faults a careful user meets, and check that no result is ever wrong or lost.

    python benchmarks/fault_injection.py [--workdir DIR] [--kills 5] [--seed 0]

Every scenario drives the real command line (``python -m mfbench -m ... hydra/launcher=local``)
on the offline NB201 table, in a private cache and a temporary working directory:

1. **kill -9** of a whole local sweep (the sweep process and its jobs) at random moments,
   re-running the same command after each kill until the sweep is complete;
2. **a flipped byte in a cache entry** (the table a run reads): the next run must refuse it
   and name the rebuild command, which must work;
3. **damaged finished results** (a flipped byte, a truncated file, an emptied metadata file):
   the status command must report them as corrupt, and a re-run must redo exactly those;
4. **two identical sweeps at once** on one folder: every run computed once ("runs redone" counts
   the runs both computed: must be 0; "detected": the second sweep saw runs the first held).

After all of it, every run's results must be bit-identical to a clean sweep of the same grid
(a fault may cost time, never correctness). It prints one table: fault, injected, detected,
runs redone (for the kills: runs a kill cut short, found interrupted and computed again),
finished files lost (must be 0), and exits 1 if anything went wrong.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from checkout_env import checkout_env  # noqa: E402

GRID = ["benchmark=nas201_offline_cifar100", "method=asha_stop,asha_prom,random_search,synchb", "seed=range(6)",
        "progress=false", "hydra/launcher=local", "hydra.launcher.runs_per_job=2"]
RUNS = 24


def _env(cache: Path) -> dict[str, str]:
    return checkout_env(REPO, MFBENCH_CACHE=str(cache))


def _mfbench(work: Path, env: dict[str, str], *args: str, module: str = "mfbench") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=work, env=env, capture_output=True, text=True,
                          timeout=900)


def _status(work: Path, env: dict[str, str], sweep: str) -> dict[str, str]:
    done = _mfbench(work, env, sweep, "--json", module="mfbench.status")
    return {run["subdir"]: run["state"] for run in json.loads(done.stdout)["runs"]}


def _digests(sweep: Path) -> dict[str, str]:
    """SHA-256 of every finished run's results.parquet, by run."""
    return {str(p.parent.relative_to(sweep)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(sweep.glob("*/*/seed_*/results.parquet")) if (p.parent / "DONE").is_file()}


def _content(sweep: Path) -> dict[str, str]:
    """A fingerprint of every finished run's results *content* (independent of the parquet writer)."""
    import pandas as pd

    out = {}
    for path in sorted(sweep.glob("*/*/seed_*/results.parquet")):
        if (path.parent / "DONE").is_file():
            frame = pd.read_parquet(path)
            out[str(path.parent.relative_to(sweep))] = hashlib.sha256(
                pd.util.hash_pandas_object(frame.astype({c: str for c in frame.columns if frame[c].dtype == object}),
                                           index=True).values.tobytes()).hexdigest()
    return out


def _flip(path: Path, rng: random.Random) -> None:
    data = bytearray(path.read_bytes())
    offset = rng.randrange(len(data))
    data[offset] ^= 1 << rng.randrange(8)
    with open(path, "r+b") as handle:  # in place: same inode and size
        handle.write(bytes(data))


def kills(work: Path, env: dict[str, str], n_kills: int, rng: random.Random) -> dict[str, object]:
    """kill -9 the sweep at random moments; re-run until complete; nothing finished may change."""
    sweep = work / "outputs" / "kills"
    args = [sys.executable, "-m", "mfbench", "-m", *GRID, "experiment_name=kills"]
    injected = detected = lost = redone = 0
    finished_before: dict[str, str] = {}
    for _ in range(n_kills):
        process = subprocess.Popen(args, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        time.sleep(rng.uniform(1.5, 4.0))
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            injected += 1
        process.wait()
        now = _digests(sweep)
        lost += sum(1 for run, digest in finished_before.items() if now.get(run) != digest)
        finished_before = now
        states = _status(work, env, "outputs/kills")
        cut = sum(s in ("interrupted", "failed") for s in states.values())  # runs the kill cut short
        detected += cut > 0 or len(now) == RUNS
        redone += cut
    for _ in range(3):
        rerun = _mfbench(work, env, "-m", *GRID, "experiment_name=kills")
        if rerun.returncode == 0 and len(_digests(sweep)) == RUNS:
            break
    now = _digests(sweep)
    lost += sum(1 for run, digest in finished_before.items() if now.get(run) != digest)
    return {"fault": "kill -9 of the sweep", "injected": injected, "detected": detected, "redone": redone,
            "lost": lost, "complete": len(now) == RUNS}


def cache_flip(work: Path, env: dict[str, str], rng: random.Random) -> dict[str, object]:
    """A flipped byte in the cached table: refused with the rebuild command, which works."""
    table = Path(env["MFBENCH_CACHE"]) / "nas201_offline_cifar100" / "cifar100.npy"
    _flip(table, rng)
    refused = _mfbench(work, env, "benchmark=nas201_offline_cifar100", "hydra.run.dir=outputs/cacheflip/a",
                       "progress=false")
    match = re.search(r"rebuild with: (python -m mfbench\.data [^\n]+)", refused.stderr)
    detected = int(refused.returncode == 2 and "does not match its checksum" in refused.stderr and match is not None)
    rebuilt = match is not None and _mfbench(work, env, *match.group(1).split()[3:], module="mfbench.data").returncode == 0
    after = _mfbench(work, env, "benchmark=nas201_offline_cifar100", "hydra.run.dir=outputs/cacheflip/a",
                     "progress=false")
    return {"fault": "flipped byte in the cached table", "injected": 1, "detected": detected,
            "redone": int(rebuilt and after.returncode == 0), "lost": 0, "complete": after.returncode == 0}


def result_damage(work: Path, env: dict[str, str], rng: random.Random) -> dict[str, object]:
    """Flip, truncate, empty finished files: reported corrupt, exactly those redone, the rest untouched."""
    sweep = work / "outputs" / "kills"
    runs = sorted(_digests(sweep))
    victims = rng.sample(runs, 3)
    untouched = {run: digest for run, digest in _digests(sweep).items() if run not in victims}
    _flip(sweep / victims[0] / "results.parquet", rng)
    results = sweep / victims[1] / "results.parquet"
    results.write_bytes(results.read_bytes()[: len(results.read_bytes()) // 2])
    (sweep / victims[2] / "metadata.json").write_text("")
    states = _status(work, env, "outputs/kills")
    detected = sum(states[v] == "corrupt" for v in victims)
    rerun = _mfbench(work, env, "-m", *GRID, "experiment_name=kills")
    redone = sum(int(n) for n in re.findall(r"(\d+) of \d+ launched runs computed", rerun.stdout))
    now = _digests(sweep)
    lost = sum(1 for run, digest in untouched.items() if now.get(run) != digest)
    return {"fault": "flipped / truncated / emptied results", "injected": 3, "detected": detected, "redone": redone,
            "lost": lost, "complete": rerun.returncode == 0 and len(now) == RUNS}


def concurrent(work: Path, env: dict[str, str]) -> dict[str, object]:
    """Two identical sweeps at once: each run computed once, nothing left behind."""
    args = [sys.executable, "-m", "mfbench", "-m", *GRID, "experiment_name=twice"]
    first = subprocess.Popen(args, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(0.3)
    second = subprocess.Popen(args, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    outputs = [p.communicate(timeout=900)[0] for p in (first, second)]
    sweep = work / "outputs" / "twice"
    logs = "".join(p.read_text(errors="replace") for p in (sweep / ".submitit").rglob("*.out")) + "".join(outputs)
    computed = re.findall(r"files: (\S+)/results\.parquet", logs)
    duplicates = len(computed) - len(set(computed))
    leftovers = [p for p in sweep.rglob("*") if p.name in ("FAILED", "RUNNING", "QUEUED")]
    skipped = sum(int(n) for n in re.findall(r"(\d+) skipped because another sweep", "".join(outputs)))
    return {"fault": "two identical sweeps at once", "injected": 1, "detected": int(skipped > 0),
            "redone": duplicates, "lost": 0, "complete": len(_digests(sweep)) == RUNS and not leftovers}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument("--kills", type=int, default=5, help="how many times the sweep is killed")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault moments and positions")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="mfbench_faults_") as tmp:
        work = (args.workdir or Path(tmp)).resolve()
        work.mkdir(parents=True, exist_ok=True)
        env = _env(work / "cache")
        clean = _mfbench(work, env, "-m", *GRID, "experiment_name=clean")
        if clean.returncode != 0:
            print(clean.stderr[-3000:], file=sys.stderr)
            return 1
        rows = [kills(work, env, args.kills, rng), result_damage(work, env, rng), cache_flip(work, env, rng),
                concurrent(work, env)]
        reference = _content(work / "outputs" / "clean")
        mismatched = [run for sweep in ("kills", "twice") for run, digest in _content(work / "outputs" / sweep).items()
                      if reference.get(run) != digest]
    print(f"{'fault':<40} {'injected':>8} {'detected':>8} {'redone':>7} {'lost':>5}  complete")
    for row in rows:
        print(f"{row['fault']:<40} {row['injected']:>8} {row['detected']:>8} {row['redone']:>7} {row['lost']:>5}  "
              f"{row['complete']}")
    print(f"results identical to a clean sweep: {'yes' if not mismatched else 'NO: ' + ', '.join(mismatched)}")
    ok = not mismatched and all(row["lost"] == 0 and row["complete"] for row in rows)
    ok = ok and rows[1]["detected"] == 3 and rows[1]["redone"] == 3 and rows[2]["detected"] == 1
    ok = ok and rows[3]["redone"] == 0  # no run computed by both sweeps
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
