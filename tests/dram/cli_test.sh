#!/usr/bin/env bash
# `swatsim dram` end to end, one named case per ctest test: cli_test.sh SWATSIM SRC WORK CASE
set -euo pipefail
swatsim=$1 src=$2 work=$3 case=$4
py=/usr/bin/python3
mkdir -p "$work/$case"
cd "$work/$case"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
echo '{"preset": "ddr4-3200", "refresh": "off"}' > ddr4.json
cli=("$swatsim" dram)
source "$src/tests/cli_lib.sh"
json() { $py -c "import json,sys; r=json.load(open('$1')); print(eval(sys.argv[1]))" "$2"; }

case $case in
  idle-read)  # REFERENCE §4: 1 + tRCD + CL + burst = 49 cycles after it enters at trace cycle + 1
    echo "0x0 READ 0" > t.trace
    "$swatsim" dram --dram ddr4.json --trace t.trace --out r.json -q
    [ "$(json r.json 'r["cycles"]')" = 50 ] || fail "cycles $(json r.json 'r["cycles"]')"
    [ "$(json r.json 'r["read_latency_cycles"]["max"]')" = 49 ] || fail "latency"
    [ "$(json r.json '(r["commands"]["act"], r["commands"]["rd"], r["commands"]["ref"])')" = "(1, 1, 0)" ] || fail "commands"
    # tests/dram/system_test.cpp works 33060 pJ by hand for 49 cycles; one more precharged cycle of
    # both ranks (8 x 1.2 V x 37 mA x 0.625 ns = 222 pJ each) before the request enters.
    [ "$(json r.json 'r["energy_pj"]["total"]')" = 33504.0 ] || fail "energy $(json r.json 'r["energy_pj"]')"
    [ "$(json r.json 'r["bytes"]')" = 64 ] || fail "bytes"
    [ "$(json r.json 'round(r["bandwidth_gbps"], 6)')" = "$($py -c 'print(round(64 / (50 * 0.625e-9) / 1e9, 6))')" ] || fail bandwidth
    ;;
  summary-and-commands)
    printf '0x0 READ 0\n0x40 READ 0\n# a comment\n\n0x10000000 WRITE 10\n' > t.trace
    "$swatsim" dram --dram ddr4.json --trace t.trace --commands cmds.txt > summary.txt
    grep -q "^requests        3 (2 reads, 1 writes), 192 bytes" summary.txt || fail "summary: $(cat summary.txt)"
    grep -q "^row hit rate    0.3333" summary.txt || fail "row hits: $(cat summary.txt)"
    [ "$(head -2 cmds.txt)" = "$(printf '2 0 ACT 0 0 0 0\n24 0 RD 0 0 0 0')" ] || fail "commands: $(cat cmds.txt)"
    # The first line names the DRAM: its preset and what a section changes, or the preset a full set is.
    grep -q "^ddr4-3200 with refresh changed: 1 channel(s)" summary.txt || fail "name: $(head -1 summary.txt)"
    "$swatsim" dram --dram hbm2 --trace t.trace > s2.txt && grep -q "^hbm2: 8 channel(s)" s2.txt || fail "name: $(head -1 s2.txt)"
    "$swatsim" dram --dram ddr4.json --trace t.trace --out full.json -q
    $py -c "import json; d = json.load(open('full.json'))['dram']; d.pop('preset'); d['refresh'] = 'on'; json.dump(d, open('full-set.json', 'w'))"
    "$swatsim" dram --dram full-set.json --trace t.trace > s3.txt
    grep -q "^ddr4-3200 (every parameter given): 1 channel(s)" s3.txt || fail "name: $(head -1 s3.txt)"
    ;;
  deterministic)
    $py "$src/scripts/dram-traces.py" mix -n 20000 --interval 2 -o mix.trace
    echo '{"preset": "hbm2"}' > hbm2.json
    "$swatsim" dram --dram hbm2.json --trace mix.trace --issue-per-cycle 2 --out a.json -q
    "$swatsim" dram --dram hbm2.json --trace mix.trace --issue-per-cycle 2 --out b.json -q
    cmp a.json b.json || fail "reports differ"
    [ "$(json a.json 'r["requests"]')" = 20000 ] || fail "requests"
    [ "$(json a.json 'r["reads"] + r["writes"]')" = 20000 ] || fail "reads + writes"
    [ "$(json a.json 'r["commands"]["rd"] + r["reads_merged"] + r["reads_forwarded"] == r["reads"]')" = True ] || fail "reads"
    ;;
  fast-engine)  # the same trace on both engines: the same requests served, the fast log sorted by cycle
    $py "$src/scripts/dram-traces.py" mix -n 5000 --interval 3 -o mix.trace
    for e in cycle fast; do
      echo "{\"preset\": \"ddr4-3200\", \"engine\": \"$e\"}" > $e.json
      "$swatsim" dram --dram $e.json --trace mix.trace --commands $e.cmds --out $e.json.out -q
      "$swatsim" dram --dram $e.json --trace mix.trace --commands $e.cmds2 --out $e.json.out2 -q
      cmp $e.json.out $e.json.out2 && cmp $e.cmds $e.cmds2 || fail "$e: two runs differ"
      sort -s -n -k1,1 $e.cmds | cmp -s - $e.cmds || fail "$e: --commands not in cycle order"
      [ "$(json $e.json.out 'r["requests"]')" = 5000 ] || fail "$e: requests"
      [ "$(grep -c ' RD ' $e.cmds)" = "$(json $e.json.out 'r["commands"]["rd"]')" ] || fail "$e: RD lines"
    done
    [ "$(json fast.json.out 'r["dram"]["engine"]')" = fast ] || fail "the report names the engine"
    [ "$(json cycle.json.out 'r["dram"]["engine"]')" = cycle ] || fail "the report names the engine"
    $py - cycle.json.out fast.json.out <<'PY' || fail "fast engine far from the cycle engine"
import json, sys
c, f = (json.load(open(p)) for p in sys.argv[1:])
assert abs(f["cycles"] / c["cycles"] - 1) < 0.10, (c["cycles"], f["cycles"])
assert f["reads"] == c["reads"] and f["writes"] == c["writes"]
PY
    echo '{"preset": "ddr4-3200", "engine": "quick"}' > bad-engine.json
    expect_error 'bad-engine.json: /engine: expected one of "cycle", "fast", got "quick"' --dram bad-engine.json --trace mix.trace
    ;;
  long-gaps)  # idle gaps of any length, a buffered write waiting through them, in closed form on both engines
    printf '0x0 WRITE 0\n0x40 READ 1000000000000\n0x80 WRITE 4611686018427387000\n0x2000 READ 4611686018427387001\n' > t.trace
    for engine in cycle fast; do
      echo "{\"preset\": \"ddr4-3200\", \"engine\": \"$engine\"}" > e.json
      timeout 10 "$swatsim" dram --dram e.json --trace t.trace --out $engine.json -q || fail "$engine: a long gap took over 10 s or failed"
      # about one refresh per tREFI / ranks = 6240 cycles of the 2^62-cycle run
      [ "$(json $engine.json 'r["commands"]["ref"] > 7e14')" = True ] || fail "$engine: refreshes $(json $engine.json 'r["commands"]["ref"]')"
    done
    ;;
  bad-input)
    # A refresh interval too short for one request between refreshes: no request could ever finish.
    echo '{"preset": "ddr4-3200", "tRFC": 22, "tREFI": 23}' > dead.json
    printf '0x0 READ 0\n' > t.trace
    expect_error "dead.json: /tREFI: expected at least tRFC + tRP + tRC + max(tRCD_RD, tRCD_WR) + max(tCL, tCWL) + burst + tWR + tRTP (one request between refreshes)" --dram dead.json --trace t.trace
    # A preset's name, as accelerator configs take it.
    "$swatsim" dram --dram hbm2 --trace t.trace -q --out hbm2.json || fail "--dram hbm2"
    grep -q '"preset": "hbm2"' hbm2.json || fail "--dram hbm2 is not the preset"
    printf '0x0 READ 1\n0x40 READ\0 junk 2\n0x80 READ 3\n' > t.trace
    expect_error "t.trace:2: a NUL byte in the line: not a request trace" --dram ddr4.json --trace t.trace
    printf '0x0 READ 1\n0x40 READX 2\n' > t.trace
    expect_error "t.trace:2: expected READ or WRITE after the address, got 'READX'" --dram ddr4.json --trace t.trace
    echo "0x0 READX 0" > t.trace
    expect_error "t.trace:1: expected READ or WRITE after the address, got 'READX'" --dram ddr4.json --trace t.trace
    printf '0x0 READ 5\n0x40 READ 4\n' > t.trace
    expect_error "t.trace:2: the trace must be sorted by cycle: cycle 4 after cycle 5" --dram ddr4.json --trace t.trace
    printf '0x0 READ 5\n40 READ 6\n' > t.trace
    expect_error "t.trace:2: expected 'ADDRESS READ|WRITE CYCLE' with a hex address starting with 0x, got '40'" --dram ddr4.json --trace t.trace
    printf '0x0 READ -1\n' > t.trace
    expect_error "t.trace:1: expected a cycle (an integer in [0, 2^62)) after READ, got '-1'" --dram ddr4.json --trace t.trace
    printf '0x0 READ 1 extra\n' > t.trace
    expect_error "t.trace:1: expected the end of the line after the cycle, got 'extra'" --dram ddr4.json --trace t.trace
    printf '0x400000000 READ 1\n' > t.trace
    expect_error "t.trace:1: address 0x400000000 is beyond the capacity of 17179869184 bytes (--wrap-addresses folds it)" \
      --dram ddr4.json --trace t.trace
    "$swatsim" dram --dram ddr4.json --trace t.trace --wrap-addresses -q --out w.json
    [ "$(json w.json 'r["cycles"]')" = 51 ] || fail "wrapped request"
    head -c 5000 /dev/zero | tr '\0' x > long.trace
    expect_error "long.trace:1: line longer than 4096 bytes: not a request trace" --dram ddr4.json --trace long.trace
    expect_error "--issue-per-cycle: expected an integer in [1, 1024], got '0'" --dram ddr4.json --trace t.trace --issue-per-cycle 0
    expect_error "missing.trace: cannot open request trace: no such file" --dram ddr4.json --trace missing.trace
    mkdir -p d
    expect_error "d: is a directory, not a request trace" --dram ddr4.json --trace d
    expect_error "--out: names an input file ('t.trace'); it would be overwritten" --dram ddr4.json --trace t.trace --out t.trace
    echo '{"preset": "ddr4-3200", "tRC": 10}' > bad.json
    expect_error "bad.json: /tRC: expected at least tRAS + tRP = 74, got 10" --dram bad.json --trace t.trace
    echo '{"channels": 1}' > custom.json
    expect_error "custom.json: /: missing key \"ranks\"" --dram custom.json --trace t.trace
    [ ! -e w.json.tmp.* ] 2>/dev/null || fail "temporary left behind"
    ;;
  *) fail "unknown case" ;;
esac
echo "ok: $case"
