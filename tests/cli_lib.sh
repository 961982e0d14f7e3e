# Shared by the command-line test scripts (sourced). Before sourcing, set `case` (the test's name) and
# `cli`, the command line every expect_error call starts with, e.g. cli=("$swatsim" dram).
fail() { echo "FAIL ($case): $*" >&2; exit 1; }
# expect_error MESSAGE ARGS...: "${cli[@]}" ARGS exits 2 with one line on stderr containing MESSAGE
# (within 20 s: a hang is a failure too).
expect_error() {
  local want=$1; shift
  set +e; timeout 20 "${cli[@]}" "$@" >out.txt 2>err.txt; local rc=$?; set -e
  [ $rc -eq 2 ] || fail "exit $rc, expected 2 for: $* :: $(cat err.txt)"
  [ "$(wc -l < err.txt)" -eq 1 ] || fail "expected one line on stderr for: $* :: $(cat err.txt)"
  grep -qF -- "$want" err.txt || fail "expected '$want' in: $(cat err.txt)"
}
