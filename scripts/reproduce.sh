#!/usr/bin/env bash
# The main job: installs what is missing, builds swatsim (reusing an existing build) and shows the
# bundled sample trace. Idempotent.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
cmake --preset default >/dev/null
cmake --build --preset default -j "${SWATSIM_JOBS:-2}"
build/bin/swatsim trace validate traces/samples/sample.swt
build/bin/swatsim trace info traces/samples/sample.swt
echo
mkdir -p results/reproduce
build/bin/swatsim run --arch configs/arch/tensordash-td.json --trace traces/samples/sample.swt \
  --out results/reproduce/sample-tensordash.json --csv results/reproduce/sample-tensordash.csv
