#!/usr/bin/env bash
# `swatsim sweep` end to end, one named case per ctest test: cli_test.sh SWATSIM SRC WORK CASE
set -euo pipefail
swatsim=$1 src=$2 work=$3 case=$4
rm -rf "$work/$case"; mkdir -p "$work/$case"
cd "$work/$case"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
cli=("$swatsim" sweep)
source "$src/tests/cli_lib.sh"
cp "$src/traces/samples/sample.swt" sample.swt
cat > td.json <<'J'
{"name": "td", "tiles": 1, "pe": {"type": "tensordash", "rows": 4, "cols": 16, "lanes": 16}}
J
# 3 x 2 x 2 = 12 points, two traces
cat > sweep.json <<'J'
{"name": "small",
 "base": "td.json",
 "axes": [{"/pe/lookahead": [1, 2, 4]},
          {"/pe/lookaside": [3, 5], "/pe/shape": ["T", "L"]},
          {"/tiles": [1, 4]}],
 "traces": ["sample.swt", "sample2.swt"],
 "run": {"passes": "forward,weight-grad", "iterations": "all"}}
J
cp sample.swt sample2.swt

case $case in
  expand)
    "$swatsim" sweep expand sweep.json > points.tsv 2> summary.txt
    [ "$(wc -l < points.tsv)" -eq 13 ] || fail "points: $(cat points.tsv)"
    [ "$(sed -n 1p points.tsv)" = "$(printf 'point\t/pe/lookahead\t/pe/lookaside\t/pe/shape\t/tiles')" ] || fail header
    [ "$(sed -n 2p points.tsv)" = "$(printf '0\t1\t3\t"T"\t1')" ] || fail "first point"
    [ "$(sed -n 4p points.tsv)" = "$(printf '2\t1\t5\t"L"\t1')" ] || fail "zipped group"
    [ "$(sed -n 13p points.tsv)" = "$(printf '11\t4\t5\t"L"\t4')" ] || fail "last point"
    grep -q "small: 12 points x 2 traces = 24 tasks" summary.txt || fail "summary: $(cat summary.txt)"
    ;;
  bad-sweeps)  # every point is checked before anything runs; nothing is created
    sed 's/"\/pe\/shape": \["T", "L"\]/"\/pe\/shape": ["T"]/' sweep.json > zip.json
    expect_error "zip.json: axis /pe/shape: 1 values, but /pe/lookaside has 2 (keys of one group are zipped)" run zip.json --out d1
    sed 's/\[1, 2, 4\]/[1, 2, 99]/' sweep.json > range.json
    expect_error "range.json: point 8 (/pe/lookahead=99, /pe/lookaside=3, /pe/shape=\"T\", /tiles=1): /pe/lookahead: expected an integer in [1, 64], got 99" run range.json --out d2
    sed 's/\/pe\/lookahead/\/pe\/lookahed/' sweep.json > key.json
    expect_error "key.json: point 0 (/pe/lookahed=1" expand key.json
    grep -q 'unknown key for pe type \\"tensordash\\"\|unknown key for pe type "tensordash"' err.txt || fail "unknown key: $(cat err.txt)"
    sed 's/sample2.swt/missing.swt/' sweep.json > trace.json
    expect_error "trace.json: /traces/1: trace 'missing.swt' does not exist" run trace.json --out d3
    sed 's/"forward,weight-grad"/"forward,backward"/' sweep.json > pass.json
    expect_error "pass.json: /run/passes: expected forward, input-grad or weight-grad, got 'backward'" run pass.json --out d4
    sed 's/"axes"/"axis"/' sweep.json > unknown.json
    expect_error "unknown.json: /axis: unknown key (known: name, base, axes, traces, run)" run unknown.json --out d5
    expect_error "--shard: expected I/N with 0 <= I < N, got '3/3'" run sweep.json --out d6 --shard 3/3
    sed 's/{"\/tiles": \[1, 4\]}/{"\/pe": [{"type": "tensordash", "lookahead": 3}]}/' sweep.json > overlap.json
    expect_error "overlap.json: axis /pe: overlaps axis /pe/lookahead (one sets a part of the other)" run overlap.json --out d7
    for d in d1 d2 d3 d4 d5 d6 d7; do [ ! -e $d ] || fail "$d was created"; done
    mkdir -p full && echo x > full/notes.txt
    expect_error "full: holds 'notes.txt' but no sweep.json (no stamp says which sweep it belongs to): use a new or empty --out directory" run sweep.json --out full
    [ "$(ls full)" = notes.txt ] || fail "a non-sweep directory was written into"
    # An array index past the end names no place (never a billion padding nulls).
    cat > lv.json <<'J'
{"name": "lv", "pe": {"type": "tensordash"}, "dram": "ddr4-3200", "memory": {"type": "hierarchy",
 "levels": [{"type": "sram"}, {"type": "network"}, {"type": "tile_buffers"}]}}
J
    for idx in 1000000000 3 01 -1 ../x/100000000; do
      printf '{"name": "i", "base": "lv.json", "axes": [{"/memory/levels/%s/kib": [64]}], "traces": ["sample.swt"]}' $idx > idx.json
      expect_error "the pointer names no place in the config" expand idx.json
    done
    # below a key the base lacks (or holds null), an array index would build the array from nothing
    sed -i 's/"name": "lv",/"name": "lv", "reference": null,/' lv.json
    for ptr in /x/100000000 /x/- /reference/5; do
      printf '{"name": "i", "base": "lv.json", "axes": [{"%s": [1]}], "traces": ["sample.swt"]}' "$ptr" > idx.json
      expect_error "axis $ptr: point 0 ($ptr=1): the pointer names no place in the config" expand idx.json
    done
    # A base's reference file resolves its own paths against its own directory.
    mkdir -p sub
    printf '{"name": "r", "pe": {"type": "tensordash"}, "reference": "%s"}' "$src/configs/arch/dense-systolic-16x32x32-ddr4.json" > sub/ref-base.json
    printf '{"name": "r", "base": "sub/ref-base.json", "axes": [{"/tiles": [1, 2]}], "traces": ["sample.swt"]}' > ref.json
    "${cli[@]}" expand ref.json > /dev/null 2> err.txt || fail "reference beside the base: $(cat err.txt)"
    # A sweep file (an axis value) nested 10^5 levels deep: one line, never a stack overflow.
    /usr/bin/python3 -c "open('deep.json', 'w').write('{\"name\": \"d\", \"base\": \"td.json\", \"axes\": [{\"/tiles\": [' + '[' * 100000 + ']' * 100000 + ']}], \"traces\": [\"sample.swt\"]}')"
    expect_error "deep.json: /axes/0/~1tiles/0/0/0/" expand deep.json
    grep -q "nested deeper than 128 levels" err.txt || fail "deep sweep file: $(cut -c1-200 err.txt)"
    # Run options are checked against the traces before anything runs.
    sed 's/"iterations": "all"/"iterations": "7"/' sweep.json > it.json
    expect_error "it.json: /run/iterations: iteration 7 is not recorded in" expand it.json
    sed 's/"iterations": "all"/"iterations": "all", "layers": "99"/' sweep.json > ly.json
    expect_error "ly.json: /run/layers: layer 99 does not exist" run ly.json --out d8
    sed 's/"iterations": "all"/"iterations": "all", "layers": "nosuchlayer"/' sweep.json > ln.json
    expect_error "ln.json: /run/layers: no layer named 'nosuchlayer' in" expand ln.json
    [ ! -e d8 ] || fail "d8 was created"
    # --help of a verb is help, not a path
    for verb in expand status; do
      "$swatsim" sweep $verb --help > help.txt || fail "sweep $verb --help"
      grep -q "usage: swatsim sweep expand" help.txt || fail "sweep $verb --help: $(head -2 help.txt)"
    done
    ;;
  resume-and-identity)  # a rerun does no work; a killed sweep resumes; jobs and shards give the same bytes
    "$swatsim" sweep run sweep.json --out one --jobs 1 -q
    [ "$(ls one/tasks | wc -l)" -eq 24 ] || fail "tasks: $(ls one/tasks)"
    [ "$(wc -l < one/totals.csv)" -eq 25 ] || fail "totals rows"
    head -1 one/results.csv | grep -q '^point,trace,/pe/lookahead,/pe/lookaside,/pe/shape,/tiles,iteration,layer,pass,name,samples,cycles,baseline_cycles,speedup,' || fail "columns: $(head -1 one/results.csv)"
    # 12 points x 2 traces x 2 iterations x 4 layers x 2 passes = 384 rows
    [ "$(wc -l < one/results.csv)" -eq 385 ] || fail "result rows: $(wc -l < one/results.csv)"
    [ "$(wc -l < one/results.jsonl)" -eq 384 ] || fail "jsonl rows"
    touch -d '2001-01-01' one/tasks/*.json
    "$swatsim" sweep run sweep.json --out one --jobs 2 -q
    [ -z "$(find one/tasks -newer one/sweep.json -name '*.json')" ] || fail "a finished task was run again"
    "$swatsim" sweep run sweep.json --out two --jobs 2 -q
    for s in 0 1 2; do "$swatsim" sweep run sweep.json --out shard$s --shard $s/3 --jobs 1 -q; done
    [ ! -e shard0/results.csv ] || fail "a shard wrote tables"
    set +e; "$swatsim" sweep merge shard0 shard1 --out partial > partial.txt; rc=$?; set -e
    [ $rc -eq 1 ] && grep -q "24 tasks: 16 done, 0 failed, 0 running, 8 missing" partial.txt || fail "partial merge: $(cat partial.txt)"
    "$swatsim" sweep merge shard0 shard1 shard2 --out merged > merge.txt || fail "merge: $(cat merge.txt)"
    grep -q "24 tasks: 24 done, 0 failed, 0 running, 0 missing" merge.txt || fail "merge: $(cat merge.txt)"
    # two shards started together into one directory (as a Slurm array does), then the tables
    "$swatsim" sweep run sweep.json --out shared --shard 0/2 --jobs 1 -q & p0=$!
    sleep 0.1; "$swatsim" sweep run sweep.json --out shared --shard 1/2 --jobs 1 -q || fail "shard 1 of a shared directory"
    wait $p0 || fail "shard 0 of a shared directory"
    "$swatsim" sweep merge shared --out shared > shared.txt || fail "shared: $(cat shared.txt)"
    # killed half way: SIGKILL a --jobs 1 run once some tasks are done, then resume
    ( "$swatsim" sweep run sweep.json --out killed --jobs 1 -q & echo $! > pid; wait ) &
    for i in $(seq 1 200); do [ "$(ls killed/tasks 2>/dev/null | grep -c json || true)" -ge 5 ] && break; sleep 0.02; done
    kill -9 "$(cat pid)" 2>/dev/null || true; wait || true
    set +e; "$swatsim" sweep status killed > st.txt; rc=$?; set -e
    [ $rc -eq 1 ] && grep -q "24 tasks: [0-9]* done, 0 failed, [0-9]* running, [1-9][0-9]* missing" st.txt || fail "not killed half way: $(cat st.txt)"
    "$swatsim" sweep run sweep.json --out killed --jobs 2 -q
    for d in two merged killed shared; do
      for f in results.csv results.jsonl totals.csv; do cmp one/$f $d/$f || fail "$d/$f differs"; done
    done
    ;;
  failures)  # a failing task is recorded, the others go on, exit 1; --retry-failed reruns only it
    head -c 1000 sample.swt > sample2.swt   # truncated: every task on it fails
    set +e; "$swatsim" sweep run sweep.json --out d --jobs 2 -q; rc=$?; set -e
    [ $rc -eq 1 ] || fail "exit $rc, expected 1"
    [ "$(ls d/tasks | wc -l)" -eq 12 ] || fail "done: $(ls d/tasks | wc -l)"
    [ "$(ls d/failed | wc -l)" -eq 12 ] || fail "failed: $(ls d/failed | wc -l)"
    set +e; "$swatsim" sweep status d > st.txt; rc=$?; set -e
    [ $rc -eq 1 ] || fail "status exit $rc"
    grep -q "24 tasks: 12 done, 12 failed, 0 running, 0 missing" st.txt || fail "status: $(cat st.txt)"
    grep -q "failed  p000000-t001: exit 2: swatsim run: error: .*sample2.swt" st.txt || fail "message: $(cat st.txt)"
    set +e; "$swatsim" sweep run sweep.json --out d --jobs 2 -q; rc=$?; set -e
    [ $rc -eq 1 ] && [ "$(ls d/failed | wc -l)" -eq 12 ] || fail "failed tasks are not rerun without --retry-failed"
    cp sample.swt sample2.swt
    touch -d '2001-01-01' d/tasks/*.json
    "$swatsim" sweep run sweep.json --out d --jobs 2 --retry-failed -q
    [ "$(ls d/tasks | wc -l)" -eq 24 ] && [ "$(ls d/failed | wc -l)" -eq 0 ] || fail "retry"
    [ "$(find d/tasks -newer d/sweep.json -name '*.json' | wc -l)" -eq 12 ] || fail "retry reran more than the failed tasks"
    ;;
  another-sweep)
    "$swatsim" sweep run sweep.json --out d --jobs 2 -q
    sed 's/"small"/"other"/' sweep.json > other.json
    expect_error "d: holds another sweep ('small', hash" run other.json --out d
    "$swatsim" sweep run other.json --out e --jobs 2 -q
    expect_error "holds another sweep" merge d e --out f
    # the same sweep file with a changed base config is another sweep
    sed -i 's/"lanes": 16/"lanes": 8/' td.json
    expect_error "d: holds another sweep ('small', hash" run sweep.json --out d
    sed -i 's/"lanes": 8/"lanes": 16/' td.json
    "$swatsim" sweep run sweep.json --out d --jobs 2 -q
    ;;
  corrupt-directory)  # damaged files in a sweep directory are errors naming them, never crashes
    "$swatsim" sweep run sweep.json --out d --jobs 2 -q
    cp -r d e
    # An unusable report never stops the tables of the others: it becomes a failed task, retried later.
    echo '{}' > d/tasks/p000000-t000.json
    echo '{"stats": {"cycles": {}}, "rows": [], "total": {"pass": "all", "cycles": null}}' > d/tasks/p000001-t000.json
    printf '\377' > d/tasks/p000002-t000.json  # not even UTF-8
    set +e; "$swatsim" sweep merge d --out d > st.txt; rc=$?; set -e
    [ $rc -eq 1 ] || fail "merge with unusable reports: exit $rc"
    grep -q "24 tasks: 21 done, 3 failed" st.txt || fail "merge status: $(cat st.txt)"
    [ -e d/failed/p000002-t000.json.report ] || fail "the unusable report was not kept aside"
    grep -q "failed  p000000-t000: unusable report: .*p000000-t000.json: /stats: expected an object (not a swatsim run report)" st.txt ||
      fail "unusable report message: $(cat st.txt)"
    grep -q "failed  p000001-t000: unusable report: .*/total/cycles: expected a number" st.txt || fail "null stat: $(cat st.txt)"
    [ "$(wc -l < d/totals.csv)" -eq 22 ] || fail "tables of the other 21 tasks: $(wc -l < d/totals.csv) lines"
    "$swatsim" sweep run sweep.json --out d --jobs 2 --retry-failed -q
    [ "$(ls d/tasks | wc -l)" -eq 24 ] && [ "$(wc -l < d/totals.csv)" -eq 25 ] || fail "retry of unusable reports"
    # An empty task file is not a result: not done, and a rerun makes it.
    : > d/tasks/p000002-t001.json
    set +e; "$swatsim" sweep status d > st.txt; rc=$?; set -e
    [ $rc -eq 1 ] && grep -q "23 done, 0 failed, 0 running, 1 missing" st.txt || fail "empty task file: $(cat st.txt)"
    "$swatsim" sweep run sweep.json --out d --jobs 2 -q
    [ -s d/tasks/p000002-t001.json ] || fail "empty task file not redone"
    # merge puts a report where the target holds only an empty task file
    : > d/tasks/p000003-t001.json
    "$swatsim" sweep run sweep.json --out full2 --jobs 2 -q
    "$swatsim" sweep merge full2 --out d > st.txt || fail "merge over an empty task file: $(cat st.txt)"
    [ -s d/tasks/p000003-t001.json ] || fail "merge left the empty task file"
    # a log that is a FIFO never blocks status or a run
    rm d/tasks/p000000-t000.json; rm -f d/logs/p000000-t000.log; mkfifo d/logs/p000000-t000.log
    set +e; timeout 20 "$swatsim" sweep status d > st.txt; rc=$?; set -e
    [ $rc -eq 1 ] && grep -q "1 missing" st.txt || fail "status with a FIFO log: exit $rc $(cat st.txt)"
    timeout 60 "$swatsim" sweep run sweep.json --out d --jobs 2 -q || fail "run with a FIFO log"
    [ -s d/tasks/p000000-t000.json ] && [ -f d/logs/p000000-t000.log ] || fail "the FIFO log's task"
    echo '[1]' > e/failed/p000001-t000.json; rm e/tasks/p000001-t000.json
    set +e; "$swatsim" sweep status e > st.txt; rc=$?; set -e
    [ $rc -eq 1 ] && grep -q "failed  p000001-t000: ?: ?" st.txt || fail "status: $(cat st.txt)"
    sed -i 's/"points": \[/"points": 5, "x": [/' e/sweep.json
    expect_error "e/sweep.json: /points: expected an array" status e
    ;;
  committed-example)  # results/sweeps/lookahead-vs-tiles/ is what scripts/sweep-example.sh makes today
    "$swatsim" sweep run "$src/configs/sweeps/lookahead-vs-tiles.json" --out ex --jobs 2 -q
    for f in results.csv totals.csv; do
      cmp ex/$f "$src/results/sweeps/lookahead-vs-tiles/$f" ||
        fail "results/sweeps/lookahead-vs-tiles/$f is stale: regenerate it with scripts/sweep-example.sh"
    done
    ;;
  directory-identity)  # a sweep directory belongs to one sweep
    sed 's/"small"/"other"/' sweep.json > other.json
    # Two different sweeps started on one new directory at once: exactly one takes it.
    for i in 1 2 3; do
      rm -rf race
      set +e
      "$swatsim" sweep run sweep.json --out race --jobs 1 -q 2> a.err & pa=$!
      "$swatsim" sweep run other.json --out race --jobs 1 -q 2> b.err & pb=$!
      wait $pa; ra=$?; wait $pb; rb=$?
      set -e
      [ $((ra + rb)) -eq 2 ] && { [ $ra -eq 2 ] || [ $rb -eq 2 ]; } || fail "race $i: exits $ra and $rb"
      grep -q "race: holds another sweep" a.err b.err || fail "race $i: $(cat a.err b.err)"
      winner=$([ $ra -eq 0 ] && echo small || echo other)
      grep -q "\"name\": \"$winner\"" race/sweep.json || fail "race $i: sweep.json is not the winner's"
      [ "$(ls race/tasks | wc -l)" -eq 24 ] && [ "$(ls race/failed | wc -l)" -eq 0 ] || fail "race $i: tasks"
      for t in race/tasks/*.json; do
        # Every report is the winner's point: its config equals the point file.
        p=$(basename "$t" .json); p=${p%-t*}
        /usr/bin/python3 -c "import json,sys; r=json.load(open('$t')); pt=json.load(open('race/points/$p.json')); sys.exit(r['config']['pe']!=pt['pe'])" ||
          fail "race $i: $t is not its point's report"
      done
    done
    # A directory with task results but no sweep.json (a shard that lost it) is adopted by no sweep.
    "$swatsim" sweep run sweep.json --out d --shard 0/2 --jobs 2 -q
    rm d/sweep.json
    expect_error "d: holds results in logs/ but no sweep.json (no stamp says which sweep it belongs to)" run other.json --out d
    expect_error "d: holds results in logs/ but no sweep.json" run sweep.json --out d
    [ "$(ls d/tasks | wc -l)" -eq 12 ] || fail "the refused runs touched d/tasks"
    # merge never writes into a directory that is not a sweep's.
    "$swatsim" sweep run sweep.json --out e --jobs 2 -q
    mkdir u; echo "mine" > u/results.csv
    expect_error "u: holds 'results.csv' but no sweep.json" merge e --out u
    [ "$(cat u/results.csv)" = mine ] || fail "merge overwrote u/results.csv"
    "$swatsim" sweep merge e --out f > /dev/null
    cmp e/results.csv f/results.csv || fail "merge into a new directory"
    # A name that would end a Slurm directive line.
    printf '{"name": "x\\nrm -rf /", "base": "td.json", "axes": [{"/tiles": [1]}], "traces": ["sample.swt"]}' > evil.json
    expect_error "evil.json: /name: expected at most 200 characters without control characters" expand evil.json
    expect_error "a Slurm output directory cannot contain white space" slurm sweep.json --out "dir with space" --shards 2
    [ ! -e "dir with space" ] || fail "slurm created the refused directory"
    for d in 'x#y' "a'b" 'c"d' 'e\f'; do
      expect_error "a Slurm output directory cannot contain white space, control characters, #, quotes or backslashes" slurm sweep.json --out "$d" --shards 2
    done
    printf '{"name": "c1 \xc2\x9b", "base": "td.json", "axes": [{"/tiles": [1]}], "traces": ["sample.swt"]}' > c1.json
    expect_error "c1.json: /name: expected at most 200 characters without control characters" expand c1.json
    /usr/bin/python3 -c "import json; json.dump({'name': 'é' * 200, 'base': 'td.json', 'axes': [{'/tiles': [1]}], 'traces': ['sample.swt']}, open('e200.json', 'w'))"
    "$swatsim" sweep expand e200.json > /dev/null 2>&1 || fail "200 characters of two bytes each were refused"
    # The generated batch script with a hostile (one-line) name: checked by bash, then run as a Slurm
    # array task would run it (a stand-in sbatch accepts the submission): nothing but the shard runs.
    mkdir -p fakebin
    printf '#!/bin/sh\necho 4242\n' > fakebin/sbatch; chmod +x fakebin/sbatch
    /usr/bin/python3 -c "import json; json.dump({'name': 'x \$(touch pwned) \"q\" \'a\' \`touch pwned2\` ; touch pwned3', 'base': 'td.json', 'axes': [{'/tiles': [1, 2]}], 'traces': ['sample.swt']}, open('evil2.json', 'w'))"
    PATH="$PWD/fakebin:$PATH" "$swatsim" sweep slurm evil2.json --out sl --shards 1 > /dev/null || fail "slurm with a hostile name"
    bash -n sl/slurm/sweep.sbatch || fail "the batch script does not parse"
    SLURM_ARRAY_TASK_ID=0 bash sl/slurm/sweep.sbatch > /dev/null 2>&1 || fail "the batch script failed"
    [ "$(ls sl/tasks | wc -l)" -eq 2 ] || fail "the batch script did not run the shard"
    [ ! -e pwned ] && [ ! -e pwned2 ] && [ ! -e pwned3 ] && [ ! -e sl/pwned ] || fail "a name ran a command"
    # a refused non-sweep directory keeps no lock file of ours
    [ ! -e u/.lock ] || fail "u/.lock left behind"
    # an edited run baseline is another sweep
    cp td.json base-b.json
    sed 's/"iterations": "all"}/"iterations": "all", "baseline": "base-b.json"}/' sweep.json > withb.json
    "$swatsim" sweep run withb.json --out wb --jobs 2 -q
    sed -i 's/"lanes": 16/"lanes": 8/' base-b.json
    expect_error "wb: holds another sweep" run withb.json --out wb
    ;;
  task-timeout)  # a task past --task-timeout is killed and recorded as failed; status shows running tasks
    "$swatsim" trace synth --model resnet50-imagenet --samples 2 --sparsity 0.8 -o r50.swt > /dev/null
    # A few seconds a task: the published TensorDash design with DDR4 on the cycle engine.
    /usr/bin/python3 - "$src/configs/arch/tensordash-micro2020-ddr4.json" <<'PY'
import json, os, sys
c = json.load(open(sys.argv[1]))
here = os.path.dirname(sys.argv[1])
c["memory"] = os.path.join(here, c["memory"])
c["reference"] = os.path.join(here, c["reference"])
c["dram"]["engine"] = "cycle"
json.dump(c, open("slow-base.json", "w"))
PY
    cat > slow.json <<'J'
{"name": "slow", "base": "slow-base.json", "axes": [{"/tiles": [16, 8]}], "traces": ["r50.swt"]}
J
    set +e; "$swatsim" sweep run slow.json --out s --jobs 2 --task-timeout 1 -q; rc=$?; set -e
    [ $rc -eq 1 ] || fail "timeout: exit $rc"
    set +e; "$swatsim" sweep status s > st.txt; set -e
    grep -q "2 tasks: 0 done, 2 failed, 0 running, 0 missing" st.txt || fail "timeout status: $(cat st.txt)"
    grep -q "failed  p000000-t000: timed out after 1 s (--task-timeout)" st.txt || fail "timeout message: $(cat st.txt)"
    # While a worker runs, status says so.
    "$swatsim" sweep run slow.json --out s --jobs 1 --retry-failed -q & pid=$!
    seen=0
    for _ in $(seq 100); do
      set +e; "$swatsim" sweep status s > st.txt; set -e
      if grep -q "1 running" st.txt && grep -q "running p000000-t000" st.txt; then seen=1; break; fi
      sleep 0.1
    done
    # SIGKILL of the sweep takes its workers with it: no orphan goes on writing results
    kill -9 $pid 2> /dev/null || true
    wait $pid 2> /dev/null || true
    gone=0
    for _ in $(seq 50); do
      pgrep -f "sweep run slow.json --out s" > /dev/null || { gone=1; break; }
      sleep 0.1
    done
    [ $gone -eq 1 ] || { pkill -9 -f "sweep run slow.json --out s"; fail "workers outlived a SIGKILLed sweep"; }
    [ $seen -eq 1 ] || fail "status never showed the running task: $(cat st.txt)"
    expect_error "--task-timeout: expected" run slow.json --out s --task-timeout x
    ;;
  *) fail "unknown case" ;;
esac
echo "ok: $case"
