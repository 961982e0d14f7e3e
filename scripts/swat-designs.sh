#!/usr/bin/env bash
# Design-space search for SWAT's published speedups (issue 13, section 2), on synthetic ResNet-50 masks
# (SWAT-U 80% and 90%, batch 2; real traces from swat-train replace them in the main job): sweeps PE
# shape at equal multipliers, lookahead and lookaside (configs/sweeps/swat-designs.json) with ideal
# memory, then ranks the designs by distance to the poster's four numbers (scripts/swat_designs.py).
# Writes results/designs/designs.csv. About 20 s after the build on 2 cores. The same search on real
# swat-train traces is part of the main job (scripts/reproduction.py, results/reproduction/).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
mkdir -p results/tmp
for s in 80 90; do
  [ -f results/tmp/r50-swat$s.swt ] ||
    build/bin/swatsim trace synth --model resnet50-imagenet --samples 2 --sparsity 0.$s -o results/tmp/r50-swat$s.swt > /dev/null
done
build/bin/swatsim sweep run configs/sweeps/swat-designs.json --out results/tmp/designs --jobs 2 -q
/usr/bin/python3 scripts/swat_designs.py results/tmp/designs --out results/designs
