#!/usr/bin/env bash
# The speedup and energy table of issue 13 section 3, so far on the short real runs of
# scripts/swat-designs.sh --real: tensordash-micro2020 and swat-neurips2020, each with ideal memory,
# DDR4-3200 and HBM2, at SWAT-U 80% and 90%, forward and backward speedups beside the published ones,
# energy efficiency against the same hardware with sparsity off. Writes results/designs/speedup-table.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
work=results/tmp/speedup-table
mkdir -p "$work"
for s in 80 90; do
  [ -f results/tmp/r50-real-swat$s.swt ] || { echo "run scripts/swat-designs.sh --real first" >&2; exit 2; }
  for c in tensordash-micro2020 tensordash-micro2020-ddr4 tensordash-micro2020-hbm2 swat-neurips2020 swat-neurips2020-ddr4 swat-neurips2020-hbm2; do
    [ -f "$work/$c-$s.json" ] || build/bin/swatsim run --arch configs/arch/$c.json --trace results/tmp/r50-real-swat$s.swt -q --out "$work/$c-$s.json"
  done
done
/usr/bin/python3 - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
pub = {("80", "fwd"): 3.3, ("80", "bwd"): 3.4, ("90", "fwd"): 5.6, ("90", "bwd"): 6.3}
lines = ["| design | memory | sparsity | forward (published) | backward (published) | backward without inserted zeros | energy efficiency | DRAM MB |",
         "|---|---|---|---|---|---|---|---|"]
for base in ("tensordash-micro2020", "swat-neurips2020"):
    for mem, suffix in (("ideal", ""), ("DDR4-3200", "-ddr4"), ("HBM2", "-hbm2")):
        for s in ("80", "90"):
            r = json.load(open(os.path.join(work, f"{base}{suffix}-{s}.json")))
            p = {t["pass"]: t for t in r["pass_totals"]}
            fwd = p["forward"]["baseline_cycles"] / p["forward"]["cycles"]
            bc = p["input-grad"]["cycles"] + p["weight-grad"]["cycles"]
            bwd = (p["input-grad"]["baseline_cycles"] + p["weight-grad"]["baseline_cycles"]) / bc
            fair = (p["input-grad"]["baseline_cycles_without_inserted_zeros"] + p["weight-grad"]["baseline_cycles"]) / bc
            t = r["total"]
            dram = (t.get("dram.read_bytes", 0) + t.get("dram.write_bytes", 0)) / 1e6
            lines.append(f"| {base} | {mem} | {s}% | {fwd:.2f} ({pub[(s, 'fwd')]}) | {bwd:.2f} ({pub[(s, 'bwd')]}) | {fair:.2f} | "
                         f"{t['energy_efficiency']:.2f} | {dram:.1f} |")
out = "\n".join(lines) + "\n"
print(out)
open("results/designs/speedup-table.md", "w").write(
    "# Speedup and energy, measured beside published (short real runs; `scripts/speedup-table.sh`)\n\n"
    "ResNet-50 (ImageNet form, 64x64, Fashion-MNIST, 20 iterations of swat-train, iteration 19, 2 samples;\n"
    "`scripts/swat-designs.sh --real`). Baseline: the same hardware with sparsity exploitation off (with\n"
    "memory: the same buffers and DRAM, dense operands). Energy: configs/energy/45nm.json (docs/energy.md).\n\n" + out)
PY
