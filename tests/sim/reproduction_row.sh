#!/usr/bin/env bash
# The committed results cannot drift from the code: replays the committed one-layer slice of the main
# job's SWAT-U 80% trace (results/reproduction/check/) on swat-neurips2020 and checks that its
# forward and weight-gradient cycles equal the committed per-layer table (results/reproduction/
# layers-swat-u-80.csv). reproduction_row.sh SWATSIM SRC WORK
set -euo pipefail
swatsim=$1 src=$2 work=$3
case=reproduction-row
source "$src/tests/cli_lib.sh"
rm -rf "$work"; mkdir -p "$work"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
check=$src/results/reproduction/check
layer=$(cat "$check/layer.txt")
"$swatsim" run --arch "$src/configs/arch/swat-neurips2020.json" --trace "$check/swat-u-80-$layer.swt" -q --csv "$work/r.csv"
/usr/bin/python3 - "$work/r.csv" "$src/results/reproduction/layers-swat-u-80.csv" "$layer" <<'PY' || fail "the committed row no longer follows from the code"
import csv, sys
new = {r["pass"]: r for r in csv.DictReader(open(sys.argv[1]))}
old = {r["pass"]: r for r in csv.DictReader(open(sys.argv[2])) if r["design"] == "swat-neurips2020" and r["name"] == sys.argv[3]}
assert set(new) == {"forward", "weight-grad"} and set(new) <= set(old), (new.keys(), old.keys())
for p in new:
    assert new[p]["cycles"] == old[p]["cycles"] and new[p]["baseline_cycles"] == old[p]["baseline_cycles"], (p, new[p], old[p])
PY
echo "PASS ($case)"
