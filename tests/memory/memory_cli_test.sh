#!/usr/bin/env bash
# swatsim run with memory, one class per named ctest test. memory_cli_test.sh SWATSIM SRC WORK CASE
#  ideal-equals-compute-only: with ideal memory every column the compute-only model reported is
#    byte-identical to what it reported before the memory hierarchy existed (tests/memory/golden/,
#    written by the previous release on the sample trace), for every PE type.
#  presets-run: every accelerator preset with DRAM replays the sample trace; reports are
#    deterministic; energy components add up; a memory-bound layer says so.
#  errors: memory config errors are one line naming the key.
set -euo pipefail
swatsim=$1 src=$2 work=$3 case=$4
rm -rf "$work/$case"; mkdir -p "$work/$case"; cd "$work/$case"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
py=/usr/bin/python3
cli=("$swatsim")
source "$src/tests/cli_lib.sh"
sample=$src/traces/samples/sample.swt

case $case in
  ideal-equals-compute-only)
    for c in tensordash-16tiles tensordash-td two-sided dense-systolic-32x32; do
      golden=$src/tests/memory/golden/sample-$c.csv
      n=$(head -1 "$golden" | tr ',' '\n' | wc -l)
      "$swatsim" run --arch "$src/configs/arch/$c.json" --trace "$sample" --csv new.csv -q
      cut -d, -f1-"$n" new.csv | cmp -s - "$golden" || fail "$c: ideal memory changed the compute-only columns"
      # and the new columns are there: energy, but no memory traffic
      head -1 new.csv | grep -q ",energy.total_pj," || fail "$c: no energy column"
      head -1 new.csv | grep -q "dram.read_bytes" && fail "$c: ideal memory reports DRAM traffic"
    done
    ;;
  presets-run)
    for c in tensordash-micro2020-ddr4 tensordash-micro2020-hbm2 two-sided-ddr4 dense-systolic-16x32x32-ddr4; do
      "$swatsim" run --arch "$src/configs/arch/$c.json" --trace "$sample" --out a.json --csv a.csv -q
      "$swatsim" run --arch "$src/configs/arch/$c.json" --trace "$sample" --out b.json --csv b.csv -q
      cmp -s a.json b.json && cmp -s a.csv b.csv || fail "$c: two runs differ"
      $py - a.json "$c" <<'PY' || fail "$c: report checks"
import json, sys
r = json.load(open(sys.argv[1]))
parts = ["energy.mac_pj", "energy.pe_control_pj", "energy.gbuf_pj", "energy.tile_buffers_pj", "energy.noc_pj",
         "energy.dram_pj", "energy.leakage_pj"]
for row in r["rows"] + r["pass_totals"] + [r["total"]]:
    total = sum(row[p] for p in parts)
    assert abs(total - row["energy.total_pj"]) <= 1e-6 * max(1.0, total), (row, total)
    assert row["dram.read_bytes"] > 0 and row["dram.write_bytes"] > 0, row
    assert row["energy.dram_pj"] > 0 and row["baseline.energy.total_pj"] > 0, row
    stalls = sum(row[k] for k in ("stall.dram_cycles", "stall.network_cycles", "stall.buffer_width_cycles", "stall.output_cycles"))
    assert stalls == row["tiles.memory_wait_cycles"], (row, stalls)
    assert row["tiles.busy_cycles"] + row["tiles.memory_wait_cycles"] + row["tiles.wait_cycles"] == row["cycles"] * r["config"]["tiles"], row
# Totals are sums of rows.
for key in ("cycles", "dram.read_bytes", "dram.write_bytes", "gbuf.hits"):
    assert r["total"][key] == sum(x[key] for x in r["rows"]), key
# The sample's layers are tiny: every one is memory-bound on DRAM.
assert all(x["roofline.memory_bound"] == 1 for x in r["rows"]), sys.argv[2]
assert r["config"]["dram"]["preset"] in ("ddr4-3200", "hbm2")
PY
    done
    ;;
  sweep-memory)  # one sweep axis switches ideal memory / DDR4 / HBM2 (null drops the dram key)
    cat > m.json <<J
{"name": "mem", "base": "$src/configs/arch/tensordash-micro2020-ddr4.json",
 "axes": [{"/memory": [{"type": "ideal"}, {"type": "hierarchy", "gbuf_kib": 512}, {"type": "hierarchy", "gbuf_kib": 512}],
           "/dram": [null, "ddr4-3200", "hbm2"]}],
 "traces": ["$sample"]}
J
    "$swatsim" sweep run m.json --out out -q
    $py - out/totals.csv <<'PY' || fail "sweep totals"
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["pass"] == "all"]
assert len(rows) == 3, rows
ideal, ddr4, hbm2 = (int(r["cycles"]) for r in rows)
assert ideal < hbm2 < ddr4, (ideal, hbm2, ddr4)
assert rows[0]["/dram"] == "null" and rows[1]["/dram"] == "ddr4-3200"
assert float(rows[1]["dram.read_bytes"]) > 0 and rows[0]["dram.read_bytes"] in ("", "0")
PY
    ;;
  errors)
    echo '{"pe": {"type": "tensordash"}, "memory": {"type": "hierarchy", "gbuf_kib": 0}, "dram": "ddr4-3200"}' > a.json
    expect_error "a.json: /memory/gbuf_kib: expected an integer in [1, 4194304], got 0" config validate a.json
    echo '{"pe": {"type": "tensordash"}, "memory": {"type": "hierarchy"}, "dram": {"preset": "hbm2", "channels": 3}}' > b.json
    expect_error "b.json: /dram/channels" config validate b.json
    echo '{"pe": {"type": "tensordash"}, "memory": {"type": "hierarchy"}, "dram": "hbm2", "energy": {"table": "missing.json"}}' > c.json
    expect_error "missing.json" config validate c.json
    echo '{"name": "t", "node_nm": 45, "voltage": 0.9, "source": "s", "actions": {"mac.bf16": {"value": 1, "unit": "pJ", "source": "x"}}}' > t.json
    echo '{"pe": {"type": "tensordash"}, "energy": "t.json"}' > d.json
    expect_error "t.json: /actions: missing action \"mac.fp32\"" config validate d.json
    ;;
  *) fail "unknown case" ;;
esac
echo "PASS ($case)"
