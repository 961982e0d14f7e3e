#!/usr/bin/env bash
# Regenerates the committed example sweep: runs configs/sweeps/lookahead-vs-tiles.json (45 TensorDash
# variants on the bundled sample trace) and writes its tables and plots to
# results/sweeps/lookahead-vs-tiles/. Same command twice, same bytes. Usage: scripts/sweep-example.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default --target swatsim
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
name=lookahead-vs-tiles
work=$(mktemp -d "${TMPDIR:-/tmp}/swatsim-sweep.XXXXXX")
trap 'rm -rf "$work"' EXIT
build/bin/swatsim sweep run "configs/sweeps/$name.json" --out "$work/$name" --progress
out=results/sweeps/$name
mkdir -p "$out"
cp "$work/$name/results.csv" "$work/$name/totals.csv" "$out/"
/usr/bin/python3 scripts/plot_sweep.py "$work/$name" --out "$out"
echo "wrote $out"
