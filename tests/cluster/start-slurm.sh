#!/usr/bin/env bash
# Start a single-node SLURM "cluster" on this machine for tests/test_slurm.py: munge, slurmctld
# and slurmd started by hand (no systemd), one partition "main", and one fake GPU through
# gres.conf (backed by /dev/null: jobs that ask --gpus=1 or --gres=gpu:1 get CUDA_VISIBLE_DEVICES=0).
# No accounting database: `sacct` does not work here, so the profile polls with squeue.
#
# Usage (as root):  bash tests/cluster/start-slurm.sh     # idempotent: a running cluster is kept
# Stop with tests/cluster/stop-slurm.sh. PIDs are kept in $SLURM_DEV_PIDDIR (/run/slurm-dev).
# Recipe and traps: ../shared/reference/system-recipes.md, section 2.
set -euo pipefail
PIDDIR="${SLURM_DEV_PIDDIR:-/run/slurm-dev}"
mkdir -p "$PIDDIR"

alive() {  # name: is the daemon we started (pid file) still running?
  local f="$PIDDIR/$1.pid"
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

node_ready() {
  sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)'
}

if alive slurmctld && alive slurmd && node_ready; then
  echo "start-slurm: already running"
  sinfo
  exit 0
fi

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurm-wlm >/dev/null
fi

H="$(hostname)"
getent hosts "$H" >/dev/null || echo "127.0.0.1 $H" >> /etc/hosts
# RealMemory must be set (the executor plugin always passes a memory request): what slurmd
# reports, minus 1 GiB headroom.
MEM=$(( $(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p') - 1024 ))
NCPU=$(nproc)

mkdir -p /etc/slurm
# DefMemPerCPU: without it a job with no memory request takes the whole node and blocks the rest.
# proctrack/linuxproc + task/none: no cgroup plugins (a container's cgroups are not usable).
cat > /etc/slurm/slurm.conf <<EOF
ClusterName=localcluster
SlurmctldHost=${H}
SlurmUser=slurm
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
MailProg=/bin/true
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmdSpoolDir=/var/lib/slurm/slurmd
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=600
# the test of a job past its time limit: SIGKILL 5 s after the SIGTERM, not the default 30
KillWait=5
GresTypes=gpu
NodeName=${H} CPUs=${NCPU} RealMemory=${MEM} Gres=gpu:1 State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
cat > /etc/slurm/gres.conf <<EOF
AutoDetect=off
NodeName=${H} Name=gpu Count=1 File=/dev/null
EOF
mkdir -p /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm
chown slurm:slurm /var/lib/slurm/slurmctld /var/log/slurm

# munge (Debian's postinst creates the key; create it if missing)
if [ ! -s /etc/munge/munge.key ]; then mungekey --create --keyfile=/etc/munge/munge.key; fi
chown munge:munge /etc/munge/munge.key && chmod 600 /etc/munge/munge.key
mkdir -p /run/munge && chown munge:munge /run/munge && chmod 755 /run/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged          # daemonizes; pid in /run/munge/munged.pid
  for _ in $(seq 1 20); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.5; done
fi

start_bg() {  # name, command...: start in its own session, remember the pid
  local name=$1; shift
  if alive "$name"; then return 0; fi
  setsid "$@" > "/var/log/slurm/$name.out" 2>&1 < /dev/null &
  echo $! > "$PIDDIR/$name.pid"
}

start_bg slurmctld /usr/sbin/slurmctld -D
for _ in $(seq 1 40); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.5; done
start_bg slurmd /usr/sbin/slurmd -D
for _ in $(seq 1 60); do node_ready && break; sleep 0.5; done
# a node left DOWN/DRAIN by an earlier unclean stop
if ! node_ready; then
  scontrol update NodeName="$H" State=RESUME 2>/dev/null || true
  for _ in $(seq 1 20); do node_ready && break; sleep 0.5; done
fi
if ! node_ready; then
  echo "start-slurm: the node did not become ready; see /var/log/slurm/" >&2
  sinfo >&2 || true
  tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
  exit 1
fi
sinfo
