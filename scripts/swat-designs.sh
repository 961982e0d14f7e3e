#!/usr/bin/env bash
# Design-space search for SWAT's published speedups (issue 13, section 2), on synthetic ResNet-50 masks
# (SWAT-U 80% and 90%, batch 2; real traces from swat-train replace them in the main job): sweeps PE
# shape at equal multipliers, lookahead and lookaside (configs/sweeps/swat-designs.json) with ideal
# memory, then ranks the designs by distance to the poster's four numbers (scripts/swat_designs.py).
# Writes results/designs/designs.csv; with --real also records short real runs (swat-train, ResNet-50
# ImageNet form at 64x64 on Fashion-MNIST, 20 iterations, batch 8, SWAT-U 80% and 90%) and writes
# results/designs/designs-real.csv. About 20 s, or 1.5 min with --real, after the build on 2 cores.
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
if [ "${1:-}" = --real ]; then
  for s in 80 90; do
    [ -f results/tmp/r50-real-swat$s.swt ] ||
      build/bin/swat-train --model resnet50-imagenet --dataset fashion-mnist --input-size 64 --sparsity 0.$s --batch 8 \
        --iterations 20 --threads 2 --no-eval --quiet --no-progress --trace results/tmp/r50-real-swat$s.swt \
        --trace-start 19 --trace-samples 2 --seed 1
  done
  build/bin/swatsim sweep run configs/sweeps/swat-designs-real.json --out results/tmp/designs-real --jobs 2 -q
  /usr/bin/python3 scripts/swat_designs.py results/tmp/designs-real --out results/tmp/designs-real-table
  cp results/tmp/designs-real-table/designs.csv results/designs/designs-real.csv
fi
