#!/usr/bin/env bash
# `swatsim sweep slurm` on a real single-node Slurm cluster started for the test (slurm_cluster.sh):
# a small sweep as a 3-shard job array, --wait, and the tables byte-identical to a local run. Every
# daemon is stopped by its pid on exit, also when the test fails. Exit 77 (skipped) without root or
# without slurm-wlm/munge. Usage: slurm_test.sh SWATSIM SRC WORK
set -euo pipefail
swatsim=$1 src=$2 work=$3
if [ "$(id -u)" -ne 0 ] || ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  echo "skipped: needs root and Debian's slurm-wlm and munge (scripts/setup.sh installs them)"; exit 77
fi
source "$src/scripts/slurm_cluster.sh"
rm -rf "$work"; mkdir -p "$work"; cd "$work"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
fail() { echo "FAIL (slurm): $*" >&2; exit 1; }
cp "$src/traces/samples/sample.swt" sample.swt
cat > sweep.json <<'J'
{"name": "slurm-small",
 "base": {"name": "td", "pe": {"type": "tensordash"}},
 "axes": [{"/pe/lookahead": [1, 2, 3]}, {"/tiles": [1, 4]}],
 "traces": ["sample.swt"]}
J
"$swatsim" sweep run sweep.json --out local --jobs 2 -q
t0=$(date +%s%N)
slurm_start "$work/cluster"
echo "cluster up in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
"$swatsim" sweep slurm sweep.json --out viaslurm --shards 3 --wait > slurm.txt || fail "sweep slurm: $(cat slurm.txt)"
grep -q "6 tasks: 6 done, 0 failed, 0 running, 0 missing" slurm.txt || fail "status: $(cat slurm.txt)"
grep -q -- "--array=0-2" viaslurm/slurm/sweep.sbatch || fail "script: $(cat viaslurm/slurm/sweep.sbatch)"
[ "$(ls viaslurm/slurm/task-*.out | wc -l)" -eq 3 ] || fail "array task logs: $(ls viaslurm/slurm)"
for f in results.csv results.jsonl totals.csv; do cmp local/$f viaslurm/$f || fail "$f differs from the local run"; done
# a failing task under --wait: the array ends, the tables and the status say what failed, exit 1
head -c 1000 sample.swt > broken.swt
sed 's/"sample.swt"/"sample.swt", "broken.swt"/' sweep.json > broken.json
set +e; "$swatsim" sweep slurm broken.json --out withfailures --shards 2 --wait > failures.txt; rc=$?; set -e
[ $rc -eq 1 ] || fail "exit $rc with failed tasks: $(cat failures.txt)"
grep -q "12 tasks: 6 done, 6 failed, 0 running, 0 missing" failures.txt || fail "status: $(cat failures.txt)"
[ "$(wc -l < withfailures/totals.csv)" -eq 7 ] || fail "tables of the finished tasks"
# without --wait: submitted, the job id printed
"$swatsim" sweep slurm sweep.json --out later --shards 2 > submit.txt
grep -q "^submitted job array [0-9]* (2 shards)" submit.txt || fail "submit: $(cat submit.txt)"
for _ in $(seq 1 600); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.05; done
"$swatsim" sweep status later > later.txt || fail "the submitted array did not finish: $(cat later.txt)"
slurm_stop
# scripts/slurm-local.sh, the users' way to the same cluster: up, a sweep through it, down by its pids
"$src/scripts/slurm-local.sh" start "$work/local-cluster" > local.txt || fail "slurm-local start: $(cat local.txt)"
grep -q "export SLURM_CONF=$work/local-cluster/etc/slurm.conf" local.txt || fail "slurm-local: $(cat local.txt)"
pids=$(cat "$work/local-cluster/run/daemons.pids")
SLURM_CONF=$work/local-cluster/etc/slurm.conf "$swatsim" sweep slurm sweep.json --out vialocal --shards 2 --wait > vl.txt ||
  { "$src/scripts/slurm-local.sh" stop "$work/local-cluster"; fail "sweep through slurm-local: $(cat vl.txt)"; }
"$src/scripts/slurm-local.sh" stop "$work/local-cluster" > /dev/null
for p in $pids; do ! kill -0 "$p" 2>/dev/null || fail "daemon $p still runs after slurm-local stop"; done
cmp local/results.csv vialocal/results.csv || fail "results through slurm-local differ"
echo "ok: slurm"
