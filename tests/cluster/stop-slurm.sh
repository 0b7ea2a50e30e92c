#!/usr/bin/env bash
# Stop what tests/cluster/start-slurm.sh started, by PID, in reverse order. Idempotent: does
# nothing for daemons that are not running. Leaves config, state and logs in place.
PIDDIR="${SLURM_DEV_PIDDIR:-/run/slurm-dev}"
for name in slurmd slurmctld; do
  f="$PIDDIR/$name.pid"
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  rm -f "$f"
done
if [ -f /run/munge/munged.pid ]; then
  kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
  rm -f /run/munge/munged.pid
fi
exit 0
