#!/usr/bin/env bash
# A single-node Slurm cluster, from Debian's slurm-wlm and munge: its own state, config and sockets
# under a work directory; munged, slurmctld and slurmd on localhost with proctrack/linuxproc and
# task/none (no cgroups, no systemd). Used by the tests (tests/sweep/slurm_test.sh) and by
# scripts/slurm-local.sh for users. Source it, then:
#   slurm_start WORKDIR [--keep]   starts the daemons (as root), exports SLURM_CONF, waits until the
#                                  node is idle; their pids go to WORKDIR/run/daemons.pids
#   slurm_stop [WORKDIR]           stops every daemon started, by pid: this shell's, or WORKDIR's
# Without --keep the daemons are stopped when the shell exits (a test); with it they outlive it.
# Needs root (the daemons and job steps run as root).
_slurm_pids=()
slurm_stop() {
  local p
  if [ $# -gt 0 ]; then
    [ -f "$1/run/daemons.pids" ] || { echo "slurm_stop: no cluster started in $1" >&2; return 1; }
    mapfile -t _slurm_pids < "$1/run/daemons.pids"
  fi
  for p in "${_slurm_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${_slurm_pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$p" 2>/dev/null || true
  done
  [ $# -gt 0 ] && rm -f "$1/run/daemons.pids"
  _slurm_pids=()
}
_slurm_free_port() {  # a TCP port nothing listens on
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo $p; return; fi
  done
  return 1
}
slurm_start() {
  local w=$1 keep=${2:-}
  [ "$(id -u)" -eq 0 ] || { echo "slurm_start: needs root" >&2; return 1; }
  for t in munged slurmctld slurmd sbatch sinfo; do
    command -v $t >/dev/null || { echo "slurm_start: missing $t (apt-get install slurm-wlm munge)" >&2; return 1; }
  done
  rm -rf "$w"; mkdir -p "$w"/{etc,state,spool,log,run,munge}
  chmod 700 "$w/munge"
  head -c 1024 /dev/urandom > "$w/munge/munge.key"; chmod 400 "$w/munge/munge.key"
  [ "$keep" = --keep ] || trap slurm_stop EXIT
  munged -F -f --key-file="$w/munge/munge.key" --socket="$w/run/munge.sock" --pid-file="$w/run/munged.pid" \
    --log-file="$w/log/munged.log" --seed-file="$w/munge/seed" >"$w/log/munged.out" 2>&1 &
  _slurm_pids+=($!)
  local ctl_port slurmd_port
  ctl_port=$(_slurm_free_port); slurmd_port=$(_slurm_free_port)
  cat > "$w/etc/slurm.conf" <<CONF
ClusterName=swatsimtest
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctl_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$w/run/munge.sock
StateSaveLocation=$w/state
SlurmdSpoolDir=$w/spool
SlurmctldPidFile=$w/run/slurmctld.pid
SlurmdPidFile=$w/run/slurmd.pid
SlurmctldLogFile=$w/log/slurmctld.log
SlurmdLogFile=$w/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$w/etc/slurm.conf
  for _ in $(seq 1 100); do [ -S "$w/run/munge.sock" ] && break; sleep 0.02; done
  slurmctld -D -i -f "$SLURM_CONF" >"$w/log/slurmctld.out" 2>&1 &
  _slurm_pids+=($!)
  slurmd -D -N localhost -f "$SLURM_CONF" >"$w/log/slurmd.out" 2>&1 &
  _slurm_pids+=($!)
  printf '%s\n' "${_slurm_pids[@]}" > "$w/run/daemons.pids"
  for _ in $(seq 1 400); do
    if sinfo -h -N -o '%t' 2>/dev/null | grep -q '^idle'; then return 0; fi
    sleep 0.05
  done
  echo "slurm_start: the node did not become idle; logs in $w/log" >&2
  tail -5 "$w"/log/*.log >&2 || true
  return 1
}
