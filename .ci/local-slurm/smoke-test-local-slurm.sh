#!/usr/bin/env bash
# smoke-test-local-slurm.sh - checks a running local cluster end to end:
# srun, sbatch, sacct, submitit (success / exception / scancel), Hydra submitit_slurm multirun.
# PY = a python with submitit, hydra-core and hydra-submitit-launcher (default: python on PATH;
#      mfbench's .venv/bin/python has them). Independent of mfbench: run it after
#      start-local-slurm.sh to tell a broken cluster from a failing mfbench SLURM test.
set -euo pipefail
PY=${PY:-python}
W=$(mktemp -d /tmp/slurm-smoke.XXXXXX)
cd "$W"
[ "$(timeout 30 srun -t 1 hostname)" = "$(hostname -s)" ] || { echo "srun failed"; exit 1; }
timeout 60 sbatch --wait -t 1 -o "$W/sb.out" --wrap 'echo hi' >/dev/null && grep -qx hi "$W/sb.out"
sacct -n -X -P -o State -j "$(sbatch --parsable -t 1 --wait --wrap true)" | grep -qx COMPLETED
cat >"$W/t.py" <<'PYEOF'
import subprocess, time, submitit
ex = submitit.AutoExecutor(folder="logs/%j")
ex.update_parameters(slurm_partition="debug", timeout_min=2, cpus_per_task=1)
assert ex.submit(pow, 3, 4).result() == 81
try:
    ex.submit(int, "x").result(); raise SystemExit("expected failure")
except submitit.core.utils.FailedJobError:
    pass
j = ex.submit(time.sleep, 300)
while j.state != "RUNNING": time.sleep(0.5)
subprocess.run(["scancel", j.job_id], check=True)
try:
    j.result(); raise SystemExit("expected cancel error")
except submitit.core.utils.UncompletedJobError as e:
    assert "CANCELLED" in str(e), e
print("submitit OK")
PYEOF
timeout 120 "$PY" "$W/t.py"
cat >"$W/app.py" <<'PYEOF'
import hydra, os
from hydra.core.hydra_config import HydraConfig
@hydra.main(version_base=None, config_path=None, config_name=None)
def main(cfg):
    open(os.path.join(HydraConfig.get().runtime.output_dir, "out.txt"), "w").write(str(cfg.seed ** 2))
if __name__ == "__main__":
    main()
PYEOF
timeout 180 "$PY" "$W/app.py" -m hydra/launcher=submitit_slurm +seed=0,1,2 hydra.launcher.partition=debug \
  hydra.launcher.timeout_min=2 hydra.sweep.dir="$W/multirun" >/dev/null 2>&1
[ "$(cat "$W"/multirun/0/out.txt)$(cat "$W"/multirun/1/out.txt)$(cat "$W"/multirun/2/out.txt)" = 014 ] || { echo "hydra multirun outputs wrong"; exit 1; }
echo "hydra OK"
rm -rf "$W"
echo "local slurm smoke test PASSED"
