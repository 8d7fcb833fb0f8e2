#!/usr/bin/env bash
# slurm-tests.sh - start the single-node SLURM test cluster (.ci/local-slurm/, needs
# root), run the SLURM tests (pytest -m slurm, tests/slurm/), stop the cluster again, even when
# the tests fail or are interrupted. A cluster that was already up is used and left running.
#
#   .ci/slurm-tests.sh            (from the repository root, or anywhere)
# Env: PY (python with mfbench's dependencies; default .venv/bin/python, else python3),
#      LOCAL_SLURM_TOOLS (default .ci/local-slurm), LOCAL_SLURM_CPUS (default 8:
#      the tests run up to 4 jobs at once), SLURM_TESTS_TIMEOUT (default 600 s for pytest).
# Exit status: pytest's, or 1 if the cluster cannot be started.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
REPO=$(pwd)
PY=${PY:-$([ -x "$REPO/.venv/bin/python" ] && echo "$REPO/.venv/bin/python" || command -v python3)}
TOOLS=${LOCAL_SLURM_TOOLS:-$REPO/.ci/local-slurm}
export LOCAL_SLURM_CPUS=${LOCAL_SLURM_CPUS:-8}
TIMEOUT=${SLURM_TESTS_TIMEOUT:-600}

log() { echo "[slurm-tests] $*" >&2; }
[ -x "$TOOLS/start-local-slurm.sh" ] || { log "no $TOOLS/start-local-slurm.sh"; exit 1; }

ours=0
if command -v scontrol >/dev/null && timeout 10 scontrol ping 2>/dev/null | grep -q UP; then
  log "a SLURM cluster is already up: using it, leaving it running"
else
  ours=1
fi
stop() {
  if [ $ours = 1 ]; then
    log "stopping the cluster"
    timeout 120 "$TOOLS/stop-local-slurm.sh" >&2 || log "WARNING: stop-local-slurm.sh failed"
  fi
}
trap stop EXIT
trap 'exit 130' INT TERM

if [ $ours = 1 ]; then
  log "starting the local cluster (LOCAL_SLURM_CPUS=$LOCAL_SLURM_CPUS)"
  timeout 900 "$TOOLS/start-local-slurm.sh" || { log "could not start the SLURM cluster"; exit 1; }
fi
log "running pytest -m slurm with $PY (limit ${TIMEOUT}s)"
timeout --kill-after=20 "$TIMEOUT" "$PY" -m pytest -m slurm tests/slurm -q -rs -p no:cacheprovider
rc=$?
[ $rc = 124 ] && log "the SLURM tests ran out of time (${TIMEOUT}s)"
exit $rc
