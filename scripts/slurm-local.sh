#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, to try `swatsim sweep slurm` (docs/sweeps.md):
#   scripts/slurm-local.sh start [DIR]   starts munged, slurmctld and slurmd (as root) with their state,
#                                        config and sockets in DIR (default /tmp/swatsim-slurm), and
#                                        prints the SLURM_CONF line to paste into your shell
#   scripts/slurm-local.sh stop [DIR]    stops them, by the pids recorded in DIR
# Needs Debian's slurm-wlm and munge (scripts/setup.sh installs them) and root.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/slurm_cluster.sh"
verb=${1:-}
dir=${2:-/tmp/swatsim-slurm}
case $verb in
  start)
    if [ -f "$dir/run/daemons.pids" ]; then
      echo "slurm-local: a cluster is recorded in $dir already: scripts/slurm-local.sh stop $dir first" >&2
      exit 2
    fi
    slurm_start "$dir" --keep
    echo "single-node Slurm cluster up (logs in $dir/log); in your shell:"
    echo "  export SLURM_CONF=$dir/etc/slurm.conf"
    ;;
  stop)
    slurm_stop "$dir"
    echo "stopped the cluster of $dir"
    ;;
  *)
    echo "usage: scripts/slurm-local.sh start|stop [DIR]" >&2
    exit 2
    ;;
esac
