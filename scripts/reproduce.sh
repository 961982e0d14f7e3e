#!/usr/bin/env bash
# The main job: installs what is missing, builds swatsim (reusing an existing build), checks the
# bundled sample trace and replays a small SWAT-U 80% small-cnn run (results/reproduce/), then runs
# scripts/reproduction.py: real ResNet-50 SWAT traces, the design-space ranking against SWAT's four
# published speedups, the speedup / energy / FLOP tables with ideal memory, DDR4-3200 and HBM2, plots
# and a README (results/reproduction/). Idempotent: a rerun reuses finished traces, sweep points and
# reports. `scripts/reproduce.sh --quick` runs only the small-cnn form of the pipeline (results/reproduction-quick/).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default -j "${SWATSIM_JOBS:-2}"
bin=build/bin
if [ "${1:-}" = --quick ]; then
  /usr/bin/python3 scripts/reproduction.py --quick --jobs "${SWATSIM_JOBS:-2}"
  exit 0
fi
out=results/reproduce
mkdir -p "$out"

echo "== bundled sample trace"
$bin/swatsim trace validate traces/samples/sample.swt
$bin/swatsim trace info traces/samples/sample.swt
$bin/swatsim run --arch configs/arch/tensordash-td.json --trace traces/samples/sample.swt \
  --out "$out/sample-tensordash.json" --csv "$out/sample-tensordash.csv" >"$out/sample-tensordash.txt"
tail -5 "$out/sample-tensordash.txt"

echo
echo "== SWAT-U 80% training of small-cnn on Fashion-MNIST, traced at iterations 50 and 150"
$bin/swat-train --model small-cnn --dataset fashion-mnist --sparsity 0.8 --topk-period 10 --iterations 200 \
  --batch 64 --lr 0.05 --seed 1 --threads "${SWATSIM_JOBS:-2}" --eval-samples 2000 --no-progress \
  --trace "$out/small-cnn-swat80.swt" --trace-start 50 --trace-every 100 --trace-samples 2 \
  --report "$out/small-cnn-swat80-flops.json" | tail -4
$bin/swatsim trace info "$out/small-cnn-swat80.swt" | tail -8
for arch in tensordash-td two-sided dense-systolic-32x32; do
  echo
  echo "== replay on configs/arch/$arch.json"
  $bin/swatsim run --arch "configs/arch/$arch.json" --trace "$out/small-cnn-swat80.swt" \
    --out "$out/small-cnn-swat80-$arch.json" --csv "$out/small-cnn-swat80-$arch.csv" >"$out/small-cnn-swat80-$arch.txt"
  tail -5 "$out/small-cnn-swat80-$arch.txt"
done

echo
echo "== the main job: SWAT's speedups on real ResNet-50 traces, with memory and energy"
/usr/bin/python3 scripts/reproduction.py --jobs "${SWATSIM_JOBS:-2}"
sed -n '/## Speedup, measured beside published/,/^TensorDash/p' results/reproduction/README.md
