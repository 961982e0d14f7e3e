#!/usr/bin/env bash
# Builds swatsim and runs every test: the Release build with all of ctest, then the asan preset
# (AddressSanitizer + UndefinedBehaviorSanitizer) with every test that does not need LibTorch. Idempotent; reuses
# existing builds. Run from anywhere.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
jobs=${SWATSIM_JOBS:-2}

echo "== Release build and all tests"
cmake --preset default
cmake --build --preset default -j "$jobs"
ctest --preset default -j "$jobs"

echo "== AddressSanitizer + UBSan build, every test without LibTorch"
cmake --preset asan
cmake --build --preset asan -j "$jobs"
ctest --preset asan -j "$jobs"

if command -v clang++-14 >/dev/null; then
  echo "== libFuzzer harnesses (clang 14, ASan + UBSan), ${SWATSIM_FUZZ_SECONDS:-45} s each"
  cmake --preset fuzz
  cmake --build --preset fuzz -j "$jobs"
  bash tests/fuzz/run.sh build-fuzz "${SWATSIM_FUZZ_SECONDS:-45}"
else
  echo "== libFuzzer harnesses skipped: clang-14 is not installed (scripts/setup.sh installs it)"
fi
