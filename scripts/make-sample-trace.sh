#!/usr/bin/env bash
# Regenerates traces/samples/sample.swt (the test Synth.SampleTraceIsReproducedByteForByte checks it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 "${1:-$root/build/bin/swatsim}" trace synth --model sample-cnn --samples 2 \
  --iterations 2 --sparsity 0.8 --seed 1 --values -o "$root/traces/samples/sample.swt"
