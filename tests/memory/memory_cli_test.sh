#!/usr/bin/env bash
# swatsim run with memory, one class per named ctest test. memory_cli_test.sh SWATSIM SRC WORK CASE
#  ideal-equals-compute-only: with ideal memory every column the compute-only model reported is
#    byte-identical to what it reported before the memory hierarchy existed (tests/memory/golden/,
#    written by the previous release on the sample trace), for every PE type.
#  presets-run: every accelerator preset with DRAM replays the sample trace; reports are
#    deterministic; energy components add up; a memory-bound layer says so.
#  errors: memory config errors are one line naming the key.
#  independence: an accelerator's statistics are byte-identical whatever baseline it is compared
#    with, and a baseline's whatever accelerator it is compared with.
#  mapping: --map-only prints every row's mapping and estimate, simulates no cycle, and chooses what
#    the full run chooses; the JSON report names each design's mapping as a loop nest.
#  mapper: on every ResNet-50 layer the mapper's choice is never worse (DRAM bytes) than either old
#    fixed loop order, and on the sample trace it is the optimum of every forced mapping.
#  samples: the speedup over the sparsity-off twin moves by less than 8% between 2 and 8 samples.
#  levels: a preset's memory written as `levels` equals its flat form; an L2 is a config change
#    whose counters and energy appear in the report; energy.total_pj is the sum of the published
#    energy components; a zero-gated dense array multiplies only non-zero pairs, at the same cycles.
#  liveness: a design that once spun forever (a corrupt global-buffer index) completes, and 200
#    random valid hierarchy designs (the first 50 under the sanitizers: DESIGNS, the fifth argument)
#    all complete on the sample trace.
set -euo pipefail
swatsim=$1 src=$2 work=$3 case=$4 designs=${5:-200}
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
    for c in tensordash-micro2020-ddr4 tensordash-micro2020-hbm2 two-sided-ddr4 dense-systolic-16x32x32-ddr4 \
             tensordash-micro2020-hbm2x2 tensordash-1tile-ddr4; do
      "$swatsim" run --arch "$src/configs/arch/$c.json" --trace "$sample" --out a.json --csv a.csv -q
      "$swatsim" run --arch "$src/configs/arch/$c.json" --trace "$sample" --out b.json --csv b.csv -q
      cmp -s a.json b.json && cmp -s a.csv b.csv || fail "$c: two runs differ"
      $py - a.json "$c" <<'PY' || fail "$c: report checks"
import json, sys
r = json.load(open(sys.argv[1]))
parts = ["energy.mac_pj", "energy.idle_slots_pj", "energy.pe_control_pj", "energy.gbuf_pj", "energy.tile_buffers_pj", "energy.noc_pj", "energy.dram_io_pj",
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
# A dense array multiplies the real MACs of its GEMM at the table's price (bf16: 1.5 pJ), no more:
# the padding of partial folds is clocked, never priced as a MAC (forward: mapped = dense MACs).
if r["config"]["pe"]["type"] == "dense-systolic":
    for x in r["rows"]:
        if x["pass"] == "forward":
            assert abs(x["energy.mac_pj"] - 1.5 * x["macs.dense"]) <= 1e-9 * x["energy.mac_pj"], x
            assert x["energy.idle_slots_pj"] == 0.15 * (x["macs.issued"] - x["macs.dense"]) or \
                abs(x["energy.idle_slots_pj"] - 0.15 * (x["macs.issued"] - x["macs.dense"])) < 1e-6 * x["energy.idle_slots_pj"], x
# Traffic by operand adds up: DRAM reads and global-buffer sends to the tiles.
kinds = ("input_activation", "weight", "saved_activation", "output_gradient")
for x in r["rows"] + [r["total"]]:
    assert x["dram.read_bytes"] == sum(x["dram.read_bytes." + k] for k in kinds + ("partial_sum",)), x
    assert x["dram.read_bytes.partial_sum"] == x["dram.write_bytes.partial_sum"], x  # every spilled byte comes back
    assert x["gbuf.read_bytes"] == sum(x["gbuf.read_bytes." + k] for k in kinds) + x["dram.write_bytes"], x
# DRAM interface energy: bits moved x the preset's pJ per bit (DDR4-3200: 5.69 read, 6.41 write; HBM2: none).
io = {"ddr4-3200": (5.69, 6.41), "hbm2": (0.0, 0.0)}[r["config"]["dram"]["preset"]]
for x in r["rows"]:
    want = 8 * (x["dram.read_bytes"] * io[0] + x["dram.write_bytes"] * io[1])
    assert abs(x["energy.dram_io_pj"] - want) <= 1e-9 * max(1.0, want), (x["energy.dram_io_pj"], want)
# Physics: no row moves its DRAM bytes faster than the DRAM's peak bandwidth, on any design.
for x in r["rows"]:
    for who in ("", "baseline.", "reference."):
        if who + "dram.peak_cycles" in x:
            assert x[who + "cycles"] >= x[who + "dram.peak_cycles"], (who, x[who + "cycles"], x[who + "dram.peak_cycles"])
# The sample's layers are tiny: on the published presets every one is memory-bound on DRAM.
if sys.argv[2] not in ("tensordash-micro2020-hbm2x2", "tensordash-1tile-ddr4"):
    assert all(x["roofline.memory_bound"] == 1 for x in r["rows"]), sys.argv[2]
assert r["config"]["dram"]["preset"] in ("ddr4-3200", "hbm2")
PY
    done
    # The roofline plot of the last preset: PNG and SVG; a report without DRAM is refused in one line.
    $py "$src/scripts/plot_roofline.py" a.json --out roof > /dev/null
    [ -s roof.png ] && [ -s roof.svg ] || fail "no roofline plot"
    "$swatsim" run --arch "$src/configs/arch/tensordash-micro2020.json" --trace "$sample" --out ideal.json -q
    set +e; $py "$src/scripts/plot_roofline.py" ideal.json --out none 2> err.txt; rc=$?; set -e
    [ $rc -eq 2 ] && grep -q "no row with DRAM traffic" err.txt && [ "$(wc -l < err.txt)" -eq 1 ] ||
      fail "roofline of an ideal-memory report: $(cat err.txt)"
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
  levels)
    $py - "$src/configs/arch/tensordash-micro2020-ddr4.json" "$src/configs/arch/dense-systolic-32x32-ddr4.json" <<'PY'
import json, os, sys
preset, dense = sys.argv[1], sys.argv[2]
c = json.load(open(preset))
mem = json.load(open(os.path.join(os.path.dirname(preset), c["memory"])))
c["reference"] = os.path.join(os.path.dirname(preset), c["reference"])
flat = {"sram": {"kib": "gbuf_kib", "banks": "gbuf_banks", "bank_bytes": "gbuf_bank_bytes"},
        "network": {"bytes_per_cycle": "noc_bytes_per_cycle", "hops": "noc_hops", "hop_cycles": "noc_hop_cycles",
                    "multicast": "noc_multicast"},
        "tile_buffers": {"operand_kib": "tile_buffer_kib", "output_kib": "tile_output_kib",
                         "bytes_per_cycle": "tile_buffer_bytes_per_cycle"}}
names = {"sram": "gbuf", "network": "noc", "tile_buffers": "tile"}
levels = []
for t, keys in flat.items():
    level = {"type": t, "name": names[t]}
    for param, key in keys.items():
        if key in mem:
            level[param] = mem.pop(key)
    levels.append(level)
c["memory"] = dict(mem, levels=levels)
json.dump(c, open("levels.json", "w"))
c["memory"]["levels"] = [{"type": "sram", "name": "l2", "kib": 8192, "banks": 8, "bank_bytes": 64}] + levels
json.dump(c, open("l2.json", "w"))
d = json.load(open(dense))
d["reference"] = None
d["memory"] = os.path.join(os.path.dirname(dense), d["memory"]) if isinstance(d["memory"], str) else d["memory"]
json.dump(d, open("dense.json", "w"))
d["pe"]["zero_gating"] = "on"
json.dump(d, open("gated.json", "w"))
PY
    "$swatsim" run --arch "$src/configs/arch/tensordash-micro2020-ddr4.json" --trace "$sample" --out flat.out.json -q
    for c in levels l2 dense gated; do "$swatsim" run --arch $c.json --trace "$sample" --out $c.out.json -q; done
    $py - <<'PY' || fail "levels, L2 or zero gating"
import json
def load(f): return json.load(open(f))
flat, levels, l2, dense, gated = (load(f"{c}.out.json") for c in ("flat", "levels", "l2", "dense", "gated"))
for part in ("rows", "pass_totals"):
    assert flat[part] == levels[part], part  # the levels form of the flat keys: every figure equal
t = l2["total"]
assert t["l2.read_bytes"] > 0 and t["energy.l2_pj"] > 0 and t["dram.read_bytes"] <= flat["total"]["dram.read_bytes"], t
for rep in (flat, l2, dense, gated):
    for row in rep["rows"] + [rep["total"]]:
        for who in ("", "baseline.", "reference."):
            parts = [k for k in row if k.startswith(who + "energy.") and k.endswith("_pj") and k.count(".") == who.count(".") + 1
                     and not k.endswith(("total_pj", "per_effectual_mac_pj", "per_dense_mac_pj"))]
            if not parts:
                continue
            total = row[who + "energy.total_pj"]
            assert abs(sum(row[k] for k in parts) - total) <= 1e-9 * total, (who, parts)
# Zero gating: the same cycles, MAC energy only for non-zero pairs (bf16 at 1.5 pJ).
for a, b in zip(dense["rows"], gated["rows"]):
    assert a["cycles"] == b["cycles"], (a["name"], a["pass"])
    assert 0 < b["macs.nonzero"] < b["macs.dense"], (b["name"], b["macs.nonzero"], b["macs.dense"])
    assert abs(b["energy.mac_pj"] - 1.5 * b["macs.nonzero"]) <= 1e-9 * b["energy.mac_pj"], b["name"]
    assert "macs.nonzero" not in a
    # the sparsity-off baseline does not gate: it multiplies what the ungated array does
    assert "baseline.macs.nonzero" not in b and b["baseline.energy.mac_pj"] == a["energy.mac_pj"], b["name"]
assert gated["total"]["energy.total_pj"] < dense["total"]["energy.total_pj"]
PY
    ;;
  area)  # area = parts x table, by hand from configs/area/45nm.json for the published TensorDash preset
    "$swatsim" run --arch "$src/configs/arch/tensordash-micro2020-ddr4.json" --trace "$sample" --out a.json -q
    $py - "$src/configs/area/45nm.json" <<'PY' || fail "area"
import json, math, sys
table = json.load(open(sys.argv[1]))
c = {k: v["value"] for k, v in table["components"].items()}
pts = table["sram"]["points"]
def sram(b):  # log-log interpolation, the nearest segment outside
    i = 1
    while i + 1 < len(pts) and math.log(b) > math.log(pts[i][0]):
        i += 1
    (x0, y0), (x1, y1) = pts[i - 1], pts[i]
    return math.exp(math.log(y0) + (math.log(y1) - math.log(y0)) * (math.log(b) - math.log(x0)) / (math.log(x1) - math.log(x0)))
tiles, mults, rows, lanes = 16, 4 * 16 * 16, 4, 4 * 16 * 16
want = {"area.multipliers_mm2": tiles * mults * c["mac.bf16"],  # 16 tiles of 4x16 PEs x 16 lanes, bf16
        "area.pe_control_mm2": tiles * (lanes * c["pe.mux_lane"] + rows * c["pe.scheduler_row"]),
        "area.gbuf_mm2": sram(2048 * 1024),
        "area.noc_mm2": tiles * 512 * c["noc.port_byte"],
        "area.tile_buffers_mm2": tiles * (2 * sram(64 * 1024) + sram(32 * 1024))}
r = json.load(open("a.json"))
t = r["total"]
for k, um2 in want.items():
    assert abs(t[k] - um2 * 1e-6) <= 1e-9 * t[k], (k, t[k], um2 * 1e-6)
total = sum(want.values()) * 1e-6
assert abs(t["area.total_mm2"] - total) <= 1e-9 * total
control = want["area.pe_control_mm2"]
rest = want["area.multipliers_mm2"] + want["area.tile_buffers_mm2"]
assert abs(t["area.sparse_support_overhead"] - control / rest) < 1e-12
assert t["reference.area.pe_control_mm2"] == 0 and t["baseline.area.total_mm2"] == t["area.total_mm2"]
seconds = t["cycles"] / 1e9
assert abs(t["throughput_per_mm2"] - t["macs.dense"] / seconds / 1e9 / total) <= 1e-9 * t["throughput_per_mm2"]
ratio = t["reference.cycles"] * t["reference.area.total_mm2"] / (t["cycles"] * t["area.total_mm2"])
assert abs(t["reference_speedup_per_area"] - ratio) <= 1e-12 * ratio
for row in r["rows"]:  # the same design in every row
    assert row["area.total_mm2"] == t["area.total_mm2"]
assert r["stats"]["area.total_mm2"]["unit"] == "mm^2"
PY
    # the area key: a built-in table or a file; errors name the key
    echo '{"pe": {"type": "tensordash"}, "area": "7nm"}' > ar.json
    expect_error 'ar.json: /area: expected a built-in area table (45nm) or a table file, got "7nm" (no such file)' config validate ar.json
    $py -c "import json; t = json.load(open('$src/configs/area/45nm.json')); del t['components']['pe.mux_lane']; json.dump(t, open('t.json', 'w'))"
    echo '{"pe": {"type": "tensordash"}, "area": "t.json"}' > at.json
    expect_error 't.json: /components: missing component "pe.mux_lane"' config validate at.json
    # one area table prices the design, its baseline and its reference (as one energy table does)
    $py -c "import json; t = json.load(open('$src/configs/area/45nm.json')); t['components']['mac.bf16']['value'] = 3090; json.dump(t, open('t2.json', 'w'))"
    $py -c "import json, os; p = '$src/configs/arch/tensordash-micro2020-ddr4.json'; c = json.load(open(p)); d = os.path.dirname(p); c['memory'] = os.path.join(d, c['memory']); c['reference'] = os.path.join(d, c['reference']); c['area'] = 't2.json'; json.dump(c, open('mine.json', 'w'))"
    "$swatsim" run --arch mine.json --trace "$sample" --out m.json -q
    $py -c "
import json
t = json.load(open('m.json'))['total']
for who in ('', 'baseline.', 'reference.'):
    assert abs(t[who + 'area.multipliers_mm2'] - 16384 * 3090e-6) < 1e-9, (who, t[who + 'area.multipliers_mm2'])
" || fail "the reference was not priced by the design's area table"
    ;;
  independence)
    acc=$src/configs/arch/tensordash-micro2020-ddr4.json
    dense=$src/configs/arch/dense-systolic-16x32x32-ddr4.json
    "$swatsim" run --arch "$acc" --trace "$sample" --out a.json -q
    "$swatsim" run --arch "$acc" --trace "$sample" --baseline "$src/configs/arch/dense-systolic-16x32x32.json" --out b.json -q
    "$swatsim" run --arch "$acc" --trace "$sample" --baseline "$dense" --out c.json -q
    "$swatsim" run --arch "$src/configs/arch/two-sided-ddr4.json" --trace "$sample" --baseline "$dense" --out d.json -q
    "$swatsim" run --arch "$dense" --trace "$sample" --out e.json -q
    # The same dense design as the baseline (sparsity off) and as the reference: the same statistics.
    "$swatsim" run --arch "$acc" --trace "$sample" --baseline "$dense" --baseline-sparsity off --reference "$dense" --out f.json -q
    "$swatsim" run --arch "$acc" --trace "$sample" --reference none --out g.json -q
    $py - a.json b.json c.json d.json e.json f.json g.json <<'PY' || fail "statistics depend on the partner"
import json, sys
a, b, c, d, e, f, g = (json.load(open(f)) for f in sys.argv[1:])
def own(row):  # the accelerator's own statistics and mapping: nothing about another design or a ratio to it
    out = {k: v for k, v in row.items()
           if not (k.startswith(("baseline", "reference")) or "speedup" in k or k in ("energy_efficiency", "edp_gain", "mapping"))}
    if "mapping" in row:
        out["mapping"] = row["mapping"]["accelerator"]
    return out
for x in (b, c):
    for ra, rx in zip(a["rows"] + [a["total"]], x["rows"] + [x["total"]]):
        assert own(ra) == own(rx), (ra["layer"] if "layer" in ra else "total", own(ra), own(rx))
# The same dense design as the baseline of two accelerators, and run alone: the same cycles.
for rc, rd, re in zip(c["rows"], d["rows"], e["rows"]):
    assert rc["baseline_cycles"] == rd["baseline_cycles"] == re["cycles"], (rc["baseline_cycles"], rd["baseline_cycles"], re["cycles"])
# Every baseline statistic of a row is the baseline's own, run alone (c's baseline is e's design, as built).
for rc, re in zip(c["rows"] + [c["total"]], e["rows"] + [e["total"]]):
    if "mapping" in re:
        assert rc["mapping"]["baseline"] == re["mapping"]["accelerator"]
    for k, v in own(re).items():
        if k in ("iteration", "layer", "name", "samples", "pass", "mapping"):
            continue
        assert rc["baseline." + k] == v, (k, rc["baseline." + k], v)
# The reference and the sparsity-off baseline are one design treated alike: equal statistics, and the
# preset's reference (the same dense design) gives the same reference columns as --reference.
for rf, ra in zip(f["rows"] + [f["total"]], a["rows"] + [a["total"]]):
    refs = {k[len("reference."):]: v for k, v in rf.items() if k.startswith("reference.")}
    assert refs and all(rf["baseline." + k] == v for k, v in refs.items()), rf
    assert abs(rf["reference_speedup"] - rf["reference.cycles"] / rf["cycles"]) < 1e-12
    assert {k: v for k, v in rf.items() if k.startswith("reference")} == {k: v for k, v in ra.items() if k.startswith("reference")}
assert a["reference"]["config"]["name"] == "dense-systolic-16x32x32-ddr4" and "reference" not in g
assert not any(k.startswith("reference") for k in g["total"]), "--reference none still reports a reference"
PY
    ;;
  mapping)
    acc=$src/configs/arch/tensordash-micro2020-ddr4.json
    "$swatsim" run --arch "$acc" --trace "$sample" --out full.json -q
    "$swatsim" run --arch "$acc" --trace "$sample" --map-only --out map.json > map.txt
    grep -q "^iteration 0 layer 3 fc weight-grad" map.txt || fail "no mapping printed for fc weight-grad"
    grep -q "  reference " map.txt || fail "the reference's mapping is not printed"
    $py - full.json map.json <<'PY' || fail "map-only disagrees with the full run"
import json, sys
full, m = (json.load(open(f)) for f in sys.argv[1:])
assert len(full["rows"]) == len(m["rows"]) > 0
for a, b in zip(full["rows"], m["rows"]):
    assert a["mapping"] == b["mapping"], (a["mapping"], b["mapping"])
    for who in ("", "baseline.", "reference."):
        assert a[who + "tiling.estimated_dram_read_bytes"] == b[who + "tiling.estimated_dram_read_bytes"] > 0
    assert "cycles" not in b and "energy.total_pj" not in b and "dram.read_bytes" not in b, b  # nothing simulated
    nest = a["mapping"]["accelerator"]
    assert nest.startswith(("a-outer: ", "b-outer: ")) and "for sample in 2" in nest, nest
    if a["pass"] == "weight-grad":  # the batch is the reduction: samples innermost, in chains
        assert "{ for sample in 2 { unit } } }" in nest and "chains of up to" in nest, nest
PY
    "$swatsim" run --arch "$acc" --trace "$sample" --map-only --csv map.csv -q
    head -1 map.csv | grep -q "^iteration,layer,pass,name,samples,tiling\." || fail "map-only CSV: $(head -1 map.csv)"
    head -1 map.csv | grep -q "energy\.\|energy_efficiency" && fail "map-only CSV has unsimulated figures"
    expect_error "--map-only: $src/configs/arch/tensordash-micro2020.json has ideal memory: nothing to map" \
      run --arch "$src/configs/arch/tensordash-micro2020.json" --trace "$sample" --map-only
    ;;
  mapper)  # the mapper's choice against the old fixed orders and against brute force
    $py - "$src/configs/arch/tensordash-micro2020-ddr4.json" <<'PY'
import json, os, sys
preset = sys.argv[1]
c = json.load(open(preset))
mem = json.load(open(os.path.join(os.path.dirname(preset), c["memory"])))
c.pop("reference")
for order in ("auto", "a-outer", "b-outer"):
    for res in ("auto", "none", "operand0", "operand1", "both"):
        c["memory"] = dict(mem, loop_order=order, gbuf_residency=res)
        json.dump(c, open(f"m-{order}-{res}.json", "w"))
        for prefix, objective in (("d", "dram_bytes"), ("e", "energy"), ("p", "edp")):
            c["memory"]["mapper_objective"] = objective
            json.dump(c, open(f"{prefix}-{order}-{res}.json", "w"))
PY
    "$swatsim" trace synth --model resnet50-imagenet --samples 2 --sparsity 0.8 --iterations 1 -o r50.swt > /dev/null
    for m in auto-auto a-outer-none b-outer-none; do
      for p in m d e p; do "$swatsim" run --arch "$p-$m.json" --trace r50.swt --map-only --out "r50$p-$m.json" -q; done
    done
    for p in m e p; do
      for order in a-outer b-outer; do
        for res in none operand0 operand1 both; do
          "$swatsim" run --arch "$p-$order-$res.json" --trace "$sample" --map-only --out "s$p-$order-$res.json" -q
        done
      done
      "$swatsim" run --arch $p-auto-auto.json --trace "$sample" --map-only --out s$p-auto-auto.json -q
    done
    $py - <<'PY' || fail "the mapper is worse than an enumerated mapping"
import json
def rows(f): return json.load(open(f))["rows"]
est = "tiling.estimated_dram_read_bytes"
obj = "tiling.estimated_memory_cycles"
# Every ResNet-50 layer and pass, accelerator and baseline: never worse than either old fixed order on
# the objective: cycles (default; the longer of compute and memory time), DRAM bytes, movement energy or EDP.
for prefix, key in (("r50m", "tiling.estimated_objective"), ("r50d", est), ("r50e", "tiling.estimated_objective"),
                    ("r50p", "tiling.estimated_objective")):
    auto, a, b = (rows(f"{prefix}-{m}.json") for m in ("auto-auto", "a-outer-none", "b-outer-none"))
    better = 0
    for x, y, z in zip(auto, a, b):
        for who in ("", "baseline."):
            assert x[who + key] <= min(y[who + key], z[who + key]), (prefix, x["name"], x["pass"], who)
            better += x[who + key] < min(y[who + key], z[who + key])
    assert better > 0, "residency never helped: the test would not notice a mapper that ignores it"
# The sample trace: the mapper's choice is the optimum of all eight forced mappings (ties: DRAM bytes),
# for the objectives cycles, energy and EDP.
for p in "mep":
    forced = [rows(f"s{p}-{o}-{r}.json") for o in ("a-outer", "b-outer") for r in ("none", "operand0", "operand1", "both")]
    key = "tiling.estimated_objective"
    for i, x in enumerate(rows(f"s{p}-auto-auto.json")):
        for who in ("", "baseline."):
            best = min((f[i][who + key], f[i][who + est]) for f in forced)
            assert (x[who + key], x[who + est]) == best, (p, x["name"], x["pass"], who, (x[who + key], x[who + est]), best)
            if p == "m":
                # cycles: the longer of the balanced compute and the memory time
                assert x[who + key] >= x[who + obj] - 1, (x[who + key], x[who + obj])
            else:
                assert x[who + "tiling.estimated_movement_energy_pj"] > 0
PY
    ;;
  samples)  # a speedup no longer depends on how many samples of the batch were recorded
    for n in 2 8; do
      "$swatsim" trace synth --model sample-cnn --samples $n --sparsity 0.8 --iterations 1 --seed 3 -o s$n.swt > /dev/null
      for c in tensordash-micro2020-ddr4 tensordash-micro2020-hbm2 tensordash-1tile-ddr4; do
        "$swatsim" run --arch "$src/configs/arch/$c.json" --trace s$n.swt --out "s$n-$c.json" -q
      done
    done
    $py - <<'PY' || fail "the speedup moves with the samples recorded"
import json
for c in ("tensordash-micro2020-ddr4", "tensordash-micro2020-hbm2", "tensordash-1tile-ddr4"):
    a, b = (json.load(open(f"s{n}-{c}.json"))["total"] for n in (2, 8))
    # Measured: 1.552 / 1.456, 1.343 / 1.313, 2.262 / 2.198 (before the batch dataflow, per-sample
    # weight re-reads and dW writes moved the DDR4 forward speedup from 4.18 to 6.76 on ResNet-50).
    assert abs(b["speedup"] / a["speedup"] - 1) < 0.08, (c, a["speedup"], b["speedup"])
    assert b["dram.write_bytes"] - b["dram.write_bytes.partial_sum"] > 0
    # The mapping names what the weight gradient did: samples innermost in chains, or spilled.
    for x in json.load(open(f"s8-{c}.json"))["rows"]:
        if x["pass"] == "weight-grad":
            spilled = "partial sums written after each sample" in x["mapping"]["accelerator"]
            assert spilled == (x["tiling.spilled_jobs"] == 1), x["mapping"]["accelerator"]
            assert spilled or "{ for sample in 8 { unit } }" in x["mapping"]["accelerator"]
PY
    ;;
  liveness)
    "$swatsim" trace synth --model resnet50-imagenet --samples 2 --sparsity 0.8 --iterations 1 -o r50.swt > /dev/null
    cat > hang.json <<J
{"name": "hang", "tiles": 8,
 "pe": {"type": "tensordash", "rows": 8, "cols": 16, "lanes": 16, "lookahead": 1, "lookaside": 5},
 "memory": {"type": "hierarchy", "gbuf_kib": 256}, "dram": {"preset": "hbm2", "engine": "fast", "channels": 4}}
J
    timeout 120 "$swatsim" run --arch hang.json --trace r50.swt --layers 0-25 --out hang-out.json -q ||
      fail "the once-hanging design did not complete (exit $?)"
    $py - hang-out.json <<'PY' || fail "a ResNet-50 row moved its DRAM bytes faster than the DRAM's peak"
import json, sys
for x in json.load(open(sys.argv[1]))["rows"]:
    for who in ("", "baseline."):
        assert x[who + "cycles"] >= x[who + "dram.peak_cycles"], (x["name"], x["pass"], who)
PY
    $py - "$designs" <<'PY'
import json, random, sys
rng = random.Random(2026)
for i in range(int(sys.argv[1])):
    kind = rng.choice(["tensordash", "two-sided", "dense-systolic"])
    pe = {"type": kind}
    if kind == "tensordash":
        lanes = rng.choice([1, 2, 4, 8, 16, 32])
        pe.update(rows=rng.randint(1, 16), cols=rng.randint(1, 32), lanes=lanes, lookahead=rng.randint(1, 6),
                  lookaside=rng.randint(0, lanes - 1), shape=rng.choice(["T", "L"]))
    elif kind == "dense-systolic":
        pe.update(rows=rng.randint(1, 64), cols=rng.randint(1, 64), dataflow=rng.choice(["os", "ws", "is"]))
    fmt = ["dense", "bitmap", "csr", "rle"]
    mem = {"type": "hierarchy", "data_type": rng.choice(["bf16", "fp32"]),
           "activation_format": rng.choice(fmt), "weight_format": rng.choice(fmt), "gradient_format": rng.choice(fmt),
           "gbuf_kib": rng.choice([1, 2, 7, 64, 256, 2048, 16384]), "gbuf_banks": rng.randint(1, 64),
           "gbuf_bank_bytes": rng.choice([1, 8, 32, 128]), "tile_buffer_kib": rng.choice([1, 3, 16, 64, 512]),
           "tile_output_kib": rng.choice([1, 4, 32]), "tile_buffer_bytes_per_cycle": rng.choice([1, 16, 512, 4096]),
           "noc_bytes_per_cycle": rng.choice([1, 16, 256, 2048]), "noc_hops": rng.randint(1, 8),
           "noc_hop_cycles": rng.randint(0, 8), "noc_multicast": rng.choice(["on", "off"]),
           "double_buffering": rng.choice(["on", "off"]), "loop_order": rng.choice(["auto", "a-outer", "b-outer"])}
    preset = rng.choice(["ddr4-3200", "hbm2"])
    dram = {"preset": preset, "engine": rng.choice(["fast", "cycle"]),
            "channels": rng.choice([1, 2]) if preset == "ddr4-3200" else rng.choice([1, 2, 4, 8])}
    cfg = {"name": f"random{i}", "tiles": rng.randint(1, 16), "clock_ghz": rng.choice([0.5, 1.0, 2.0]),
           "pe": pe, "memory": mem, "dram": dram}
    json.dump(cfg, open(f"random{i}.json", "w"))
PY
    for i in $(seq 0 $((designs - 1))); do
      timeout 120 "$swatsim" run --arch "random$i.json" --trace "$sample" --out "random$i.out.json" -q ||
        fail "random$i.json did not complete (exit $?): $(cat random$i.json)"
    done
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
    echo '{"pe": {"type": "tensordash"}, "memory": {"type": "hierarchy", "gbuf_residency": "all"}, "dram": "hbm2"}' > r.json
    expect_error 'r.json: /memory/gbuf_residency: expected one of "auto", "none", "operand0", "operand1", "both", got "all"' config validate r.json
    echo '{"pe": {"type": "tensordash"}, "memory": {"type": "hierarchy", "mapper_objective": 3}, "dram": "hbm2"}' > o.json
    expect_error 'o.json: /memory/mapper_objective: expected one of "cycles", "dram_bytes", "energy", "edp", got 3' config validate o.json
    echo '{"pe": {"type": "tensordash"}, "memory": {"type": "hierarchy"}, "dram": {"preset": "ddr4-3200", "io_read_pj_per_bit": -1}}' > i.json
    expect_error "i.json: /dram/io_read_pj_per_bit: expected a number in [0, 1000], got -1" config validate i.json
    echo '{"pe": {"type": "tensordash"}, "reference": "nowhere.json"}' > e.json
    expect_error "e.json: /reference: section file" config validate e.json
    echo '{"pe": {"type": "tensordash"}, "reference": {"pe": {"type": "dense-systolic", "rows": 0}}}' > f.json
    expect_error "f.json: /reference/pe/rows: expected an integer in [1, 4096], got 0" config validate f.json
    echo '{"pe": {"type": "tensordash"}, "reference": {"pe": {"type": "dense-systolic"}, "reference": "f.json"}}' > g.json
    expect_error "g.json: /reference/reference: a reference accelerator names no reference of its own" config validate g.json
    # the same rule for --reference
    echo '{"pe": {"type": "dense-systolic"}, "reference": {"pe": {"type": "dense-systolic"}}}' > own.json
    echo '{"pe": {"type": "tensordash"}}' > v.json
    expect_error "own.json: /reference: a reference accelerator names no reference of its own" run --arch v.json --trace "$sample" --reference own.json
    # levels: names whose statistics or energy rows would be another's
    lv() { echo "{\"pe\": {\"type\": \"tensordash\"}, \"dram\": \"ddr4-3200\", \"memory\": {\"type\": \"hierarchy\", \"levels\": [$1, {\"type\": \"network\"}, {\"type\": \"tile_buffers\"${2:-}}]}}" > lv.json; }
    for name in total mac leakage dram_io per_dense_mac idle_slots pe_control; do
      lv "{\"type\": \"sram\", \"name\": \"$name\"}"
      expect_error "lv.json: /memory/levels/0/name: \"$name\" would report its energy as energy.${name}_pj, which is taken" config validate lv.json
    done
    lv '{"type": "sram", "name": "x_buffers"}' ', "name": "x"'
    expect_error "lv.json: /memory/levels/2/name: \"x\" would report its energy as energy.x_buffers_pj, which is taken" config validate lv.json
    lv '{"type": "sram", "kib": 64}, {"type": "sram"}'
    expect_error 'lv.json: /memory/levels/1/name: "gbuf" is levels/0'"'"'s name too (names are unique; an sram level'"'"'s name defaults to "gbuf": name the others)' config validate lv.json
    lv '{"type": "sram", "name": "a\nb"}'
    expect_error 'lv.json: /memory/levels/0/name: expected a lowercase word of at most 32 characters (a-z, 0-9, _; a letter first), got "a\x0ab"' config validate lv.json
    lv '{"type": "sram", "name": "reference"}'
    expect_error 'lv.json: /memory/levels/0/name: "reference" is taken' config validate lv.json
    echo '{"pe": {"type": "tensordash"}, "memory": {"type": "hierarchy", "levels": [{"type": "network"}, {"type": "tile_buffers"}]}, "dram": "hbm2"}' > lv.json
    expect_error "lv.json: /memory/levels: expected an array of 3 to 16 levels" config validate lv.json
    # energy tables whose values would make energies infinite
    echo '{"pe": {"type": "tensordash"}, "energy": {"table": "45nm", "node_nm": 1e308}}' > en.json
    expect_error "en.json: /energy/node_nm: expected a number in [1, 1000], got 1e+308" config validate en.json
    echo '{"pe": {"type": "tensordash"}, "energy": "22nm"}' > nm.json
    expect_error 'nm.json: /energy: expected a built-in table (45nm) or a table file, got "22nm" (no such file)' config validate nm.json
    # valid but implausible: a warning naming the key, and exit 0
    echo '{"pe": {"type": "tensordash"}, "memory": {"type": "hierarchy", "gbuf_kib": 262144}, "dram": "ddr4-3200"}' > kib.json
    "$swatsim" config validate kib.json > out.txt 2> err.txt || fail "gbuf_kib 262144 refused"
    grep -q "warning: kib.json: /memory/gbuf_kib: 262144 KiB is 256 MiB of on-chip SRAM" err.txt || fail "no warning: $(cat err.txt)"
    lv '{"type": "sram", "name": "l2", "kib": 1048576}, {"type": "sram"}'
    "$swatsim" config validate lv.json > out.txt 2> err.txt && grep -q "/memory/levels/0/kib: 1048576 KiB is 1024 MiB" err.txt ||
      fail "no warning for a level: $(cat err.txt)"
    echo '{"pe": {"type": "tensordash"}, "clock_ghz": 5e-324}' > ck.json
    expect_error "ck.json: /clock_ghz: expected a number in [0.001, 100]" config validate ck.json
    ;;
  *) fail "unknown case" ;;
esac
echo "PASS ($case)"
