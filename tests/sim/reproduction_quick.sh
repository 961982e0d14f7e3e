#!/usr/bin/env bash
# The main job's pipeline on small-cnn (scripts/reproduction.py --quick): every output exists, and the
# numbers are consistent with the reports they come from. reproduction_quick.sh SRC BUILD_BIN WORK
set -euo pipefail
src=$1 bin=$2 work=$3
case=reproduction-quick
source "$src/tests/cli_lib.sh"
rm -rf "$work"; mkdir -p "$work"
/usr/bin/python3 "$src/scripts/reproduction.py" --quick --out "$work/out" --build "$bin" --jobs 2 > "$work/log.txt"
for f in README.md tables.json speedups.csv energy.csv flops.csv designs.csv layers-swat-u-80.csv \
         speedup-vs-sparsity.png speedup-per-layer.png energy-breakdown.png design-space.png; do
  [ -s "$work/out/$f" ] || fail "missing $f"
done
/usr/bin/python3 - "$work/out" <<'PY' || fail "numbers disagree with their reports"
import csv, json, os, sys
out = sys.argv[1]
speed = list(csv.DictReader(open(os.path.join(out, "speedups.csv"))))
assert len(speed) == 2 * 3 * 3, len(speed)  # designs x memories x runs
for x in speed:
    suffix = {"ideal": "", "DDR4-3200": "-ddr4", "HBM2": "-hbm2"}[x["memory"]]
    r = json.load(open(os.path.join(out, "work", "reports", f"{x['design']}{suffix}-{x['run']}.json")))
    p = {t["pass"]: t for t in r["pass_totals"]}
    fwd = p["forward"]["baseline_cycles"] / p["forward"]["cycles"]
    assert abs(fwd - float(x["forward"])) < 1e-3, (x, fwd)
    assert abs(r["total"]["energy_efficiency"] - float(x["energy_efficiency"])) < 1e-3
    assert (x["memory"] == "ideal") == (float(x["dram_mb"]) == 0.0), x
# Energy per training iteration: the report's energy x batch / recorded samples, by component.
energy = list(csv.DictReader(open(os.path.join(out, "energy.csv"))))
assert energy
for x in energy:
    suffix = {"ideal": "", "DDR4-3200": "-ddr4", "HBM2": "-hbm2"}[x["memory"]]
    r = json.load(open(os.path.join(out, "work", "reports", f"{x['design']}{suffix}-{x['run']}.json")))
    scale = float(x["batch"]) / float(x["samples_recorded"])
    assert abs(r["total"]["energy.total_pj"] * scale / 1e6 - float(x["total_uj"])) <= 1e-3 * float(x["total_uj"]) + 1e-3, x
    parts = sum(float(x[k]) for k in x if k.endswith("_uj") and k not in ("total_uj", "baseline_total_uj"))
    assert abs(parts - float(x["total_uj"])) <= 1e-3 * float(x["total_uj"]) + 0.01, (x, parts)
flops = list(csv.DictReader(open(os.path.join(out, "flops.csv"))))
u80 = next(r for r in flops if r["run"] == "swat-u-80")
assert abs(float(u80["training_flop_reduction"]) - 0.761) < 0.05, u80  # beside the paper's 76.1%
PY
# A rerun reuses everything and gives the same numbers.
cp "$work/out/tables.json" "$work/first.json"
/usr/bin/python3 "$src/scripts/reproduction.py" --quick --out "$work/out" --build "$bin" --jobs 2 > "$work/log2.txt"
grep -q "trace swat-u-80: reused" "$work/log2.txt" || fail "the rerun did not reuse the traces"
cmp -s "$work/first.json" "$work/out/tables.json" || fail "a rerun changed the numbers"
echo "PASS ($case)"
