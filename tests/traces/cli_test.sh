#!/usr/bin/env bash
# End-to-end checks of `swatsim trace`: exit codes and messages for bad input, and a synth/validate/info run.
set -u
swatsim=$1
root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
checks=0

# expect CODE NEEDLE CMD...: the command exits with CODE and its stderr contains NEEDLE.
expect() {
  local code=$1 needle=$2
  checks=$((checks + 1))
  shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" -ne "$code" ] || ! grep -qF -- "$needle" "$tmp/err" "$tmp/out"; then
    echo "FAIL: $* -> exit $got (want $code), wanted '$needle' in:"; cat "$tmp/err" "$tmp/out"
    fails=$((fails + 1))
  fi
}

sample="$root/traces/samples/sample.swt"
expect 0 "valid: 2 iterations, 30 tensors" "$swatsim" trace validate "$sample"
expect 0 "sample-cnn" "$swatsim" trace info "$sample"
expect 2 "/nonexistent.swt: cannot open" "$swatsim" trace info /nonexistent.swt
expect 2 "unknown verb 'trace frobnicate'" "$swatsim" trace frobnicate
expect 2 "unknown command 'frobnicate'" "$swatsim" frobnicate
expect 2 "--sparsity: expected a number in [0, 1), got 1.5" "$swatsim" trace synth -o "$tmp/x.swt" --sparsity 1.5
expect 2 "unknown model 'resnet7'" "$swatsim" trace synth -o "$tmp/x.swt" --model resnet7
expect 2 "unrecognised option '--bogus'" "$swatsim" trace validate "$sample" --bogus
head -c 1000 "$sample" >"$tmp/cut.swt"
head -c 300000 "$sample" >"$tmp/cut2.swt"
expect 2 "cut2.swt: truncated or unfinished: no end-of-trace footer" "$swatsim" trace validate "$tmp/cut2.swt"
expect 2 "cut.swt: truncated" "$swatsim" trace validate "$tmp/cut.swt"
echo "not a trace at all, but long enough to be read as one........................" >"$tmp/junk.swt"
expect 2 "not a swatsim trace" "$swatsim" trace validate "$tmp/junk.swt"
expect 2 "layers.csv: cannot open" "$swatsim" trace import-npy "$tmp" -o "$tmp/y.swt"
expect 2 "$tmp/none: does not exist (expected a directory of .npy dumps)" "$swatsim" trace import-npy "$tmp/none" -o "$tmp/y.swt"
# An npy run's JSON files: strict, and nesting bounded (10^5 levels once overflowed the stack).
mkdir -p "$tmp/deep"
/usr/bin/python3 -c "import sys; open(sys.argv[1], 'w').write('[' * 100000 + ']' * 100000)" "$tmp/deep/trace-header.json"
expect 2 "nested deeper than 128 levels" "$swatsim" trace import-npy "$tmp/deep" -o "$tmp/y.swt"
# Header text reaches the terminal escaped: no ESC sequence or BEL from a trace.
PYTHONPATH="$root/python" /usr/bin/python3 -c "
import sys
from swatsim import trace as T
h = T.header('m', [T.linear_layer('fc', 1, 8, 4)], dataset='x\x1b[31mred\x07')
with T.TraceWriter(sys.argv[1], h) as w:
    pass
" "$tmp/esc.swt"
expect 0 'dataset      x\x1b[31mred\x07' "$swatsim" trace info "$tmp/esc.swt"
checks=$((checks + 1))
! grep -q "$(printf '\033')" "$tmp/out" || { echo "FAIL: trace info printed an ESC byte"; fails=$((fails + 1)); }
checks=$((checks + 1))
[ ! -e "$tmp/y.swt" ] || { echo "FAIL: failed import left $tmp/y.swt"; fails=$((fails + 1)); }

# Determinism: the same synth twice gives the same bytes.
"$swatsim" trace synth --model sample-cnn --iterations 3 --seed 9 --sparsity 0.9 -o "$tmp/a.swt" >/dev/null
"$swatsim" trace synth --model sample-cnn --iterations 3 --seed 9 --sparsity 0.9 -o "$tmp/b.swt" >/dev/null
checks=$((checks + 1))
cmp -s "$tmp/a.swt" "$tmp/b.swt" || { echo "FAIL: synth is not deterministic"; fails=$((fails + 1)); }
# Export and re-import round-trip byte for byte (values included), and export never overwrites.
"$swatsim" trace export-npy "$sample" -o "$tmp/npy" --iteration 1 >/dev/null &&
"$swatsim" trace import-npy "$tmp/npy" -o "$tmp/re.swt" --values >/dev/null
expect 0 "valid: 1 iteration, 15 tensors" "$swatsim" trace validate "$tmp/re.swt"
"$swatsim" trace export-npy "$tmp/re.swt" -o "$tmp/npy2" >/dev/null &&
"$swatsim" trace import-npy "$tmp/npy2" -o "$tmp/re2.swt" --values >/dev/null
checks=$((checks + 1))
cmp -s "$tmp/re.swt" "$tmp/re2.swt" || { echo "FAIL: export/import is not a byte-for-byte round trip"; fails=$((fails + 1)); }
expect 2 "already exists and is not an empty directory" "$swatsim" trace export-npy "$sample" -o "$tmp/npy"
expect 2 "iteration 5 is not recorded" "$swatsim" trace export-npy "$sample" -o "$tmp/npy3" --iteration 5
"$swatsim" trace export-npy "$sample" -o "$tmp/slash/" >/dev/null
checks=$((checks + 1))
[ -f "$tmp/slash/layers.csv" ] || { echo "FAIL: export to a path with a trailing slash"; fails=$((fails + 1)); }
checks=$((checks + 1))
[ ! -e "$tmp/npy3" ] || { echo "FAIL: a failed export left $tmp/npy3"; fails=$((fails + 1)); }

echo "$((checks - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
