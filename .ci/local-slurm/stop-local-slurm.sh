#!/usr/bin/env bash
# stop-local-slurm.sh - stop ONLY the daemons that start-local-slurm.sh launched, using the
# pid files in $LOCAL_SLURM_DIR/run (never by process name). A pid is signalled only if the
# process is alive and its /proc/PID/comm matches the expected daemon.
# LOCAL_SLURM_PURGE=1 additionally deletes $LOCAL_SLURM_DIR (job state, accounting db, logs).
# Called by .ci/slurm-tests.sh (as root) once the SLURM tests are done, only when it started the cluster.
set -uo pipefail

D=${LOCAL_SLURM_DIR:-/tmp/local-slurm}
RUN=$D/run
rc=0

# alive = exists and not a zombie (a dead daemon may linger as a zombie until PID 1 reaps it)
alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

stop_one() { # stop_one NAME COMM-REGEX
  local name=$1 re=$2 f=$RUN/$1.pid pid i
  [ -s "$f" ] || { echo "[local-slurm] $name: no pid file, skipping"; return 0; }
  pid=$(tr -dc 0-9 <"$f")
  if [ -z "$pid" ] || [ ! -r "/proc/$pid/comm" ] || ! grep -qE "$re" "/proc/$pid/comm"; then
    echo "[local-slurm] $name: pid '${pid}' not running (or not $name), removing stale pid file"
    rm -f "$f"
    return 0
  fi
  echo "[local-slurm] stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 100; i++)); do # up to 20 s
    alive "$pid" || break
    sleep 0.2
  done
  if alive "$pid"; then
    echo "[local-slurm] $name (pid $pid) ignored SIGTERM, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null
    sleep 0.5
  fi
  if alive "$pid"; then
    echo "[local-slurm] ERROR: $name (pid $pid) still alive" >&2
    rc=1
  else
    rm -f "$f"
  fi
}

# cancel jobs still on our cluster first, so no slurmstepd/job processes are orphaned
if [ "${LOCAL_SLURM_CANCEL_JOBS:-1}" = 1 ] && [ -s "$RUN/slurmctld.pid" ] &&
  grep -qx slurmctld "/proc/$(tr -dc 0-9 <"$RUN/slurmctld.pid")/comm" 2>/dev/null &&
  [ -n "$(squeue -h -o %i 2>/dev/null)" ]; then
  echo "[local-slurm] cancelling remaining jobs"
  scancel --full --signal=KILL $(squeue -h -o %A) 2>/dev/null
  for ((i = 0; i < 75; i++)); do # up to 15 s
    [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
    sleep 0.2
  done
fi

# reverse start order
stop_one slurmd '^slurmd$'
stop_one slurmctld '^slurmctld$'
stop_one slurmdbd '^slurmdbd$'
stop_one mysqld '^(mariadbd|mysqld)$'
stop_one munged '^munged$'

if [ "${LOCAL_SLURM_PURGE:-0}" = 1 ] && [ $rc = 0 ]; then
  echo "[local-slurm] purging $D"
  rm -rf "$D"
fi
exit $rc
