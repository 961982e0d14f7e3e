#!/usr/bin/env bash
# Runs every benchmark in scripts/bench.d/ (one script per area) against the Release build.
# Each writes its results to results/perf/. Usage: scripts/bench.sh [AREA...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default
mkdir -p results/perf
areas=("$@")
if [ ${#areas[@]} -eq 0 ]; then
  for f in scripts/bench.d/*.sh; do areas+=("$(basename "$f" .sh)"); done
fi
for a in "${areas[@]}"; do
  echo "== bench: $a"
  bash "scripts/bench.d/$a.sh" "$root/build/bin" "$root/results/perf"
done
