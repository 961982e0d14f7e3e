#!/usr/bin/env bash
# Runs every libFuzzer harness of the fuzz build: first over its regression inputs (each crash ever
# found, tests/fuzz/regressions/HARNESS/), then fuzzing from the seed corpus for SECONDS (default 60).
# Usage: tests/fuzz/run.sh BUILD_DIR [SECONDS] [HARNESS...]. Prints one line per harness (executions,
# corpus growth) and exits 1 on any finding, leaving the crashing input in $WORK/HARNESS-crash-*.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$1; seconds=${2:-60}; shift $(( $# > 1 ? 2 : 1 ))
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(trace header npy config plan)
work=${FUZZ_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/swatsim-fuzz-run.XXXXXX")}
mkdir -p "$work"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for h in "${harnesses[@]}"; do
  bin=$build/bin/fuzz_$h
  [ -x "$bin" ] || { echo "fuzz: $bin is not built (cmake --preset fuzz && cmake --build --preset fuzz)" >&2; exit 2; }
  regress=$root/tests/fuzz/regressions/$h
  if [ -d "$regress" ] && [ -n "$(ls -A "$regress")" ]; then
    "$bin" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=20 "$regress"/* > "$work/$h-regressions.log" 2>&1 ||
      { echo "fuzz $h: a regression input fails again (see $work/$h-regressions.log)"; status=1; continue; }
  fi
  rm -rf "$work/$h-corpus"; cp -r "$root/tests/fuzz/corpus/$h" "$work/$h-corpus"
  seeds=$(ls "$work/$h-corpus" | wc -l)
  set +e
  "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=20 -print_final_stats=1 \
    -artifact_prefix="$work/$h-" "$work/$h-corpus" > "$work/$h.log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$h.log" | tail -1)
  found=$(ls "$work/$h-corpus" | wc -l)
  if [ $rc -ne 0 ]; then
    echo "fuzz $h: FINDING after ${execs:-?} executions (exit $rc): $(ls "$work" | grep "^$h-\(crash\|leak\|oom\|timeout\)" | head -3) (log $work/$h.log)"
    status=1
  else
    echo "fuzz $h: ${execs:-?} executions in ${seconds} s, no finding; corpus $seeds -> $found inputs"
  fi
done
exit $status
