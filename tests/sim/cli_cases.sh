#!/usr/bin/env bash
# `swatsim` command-line cases a user hit, one named case per ctest test: cli_cases.sh SWATSIM SRC WORK CASE
set -euo pipefail
swatsim=$1 src=$2 work=$3 case=$4
rm -rf "$work/$case"; mkdir -p "$work/$case"; cd "$work/$case"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
cli=("$swatsim")
source "$src/tests/cli_lib.sh"
sample=$src/traces/samples/sample.swt
arch=$src/configs/arch/tensordash-td.json

case $case in
  help-and-usage)
    for verb in validate show types; do
      "$swatsim" config $verb --help > h.txt || fail "config $verb --help exit $?"
      grep -q "^usage: swatsim config VERB" h.txt || fail "config $verb --help: $(cat h.txt)"
    done
    expect_error "types takes no arguments" config types extra
    "$swatsim" run --help | grep -q -- "\[--progress\] \[-q\] \[--timing\]" || fail "run usage line"
    "$swatsim" run --arch "$arch" --trace "$sample" > table.txt
    grep -q "^util: effectual MACs / (cycles x tiles x multipliers per tile); row-imbal:" table.txt || fail "legend: $(tail -5 table.txt)"
    ;;
  empty-and-odd-inputs)
    expect_error "the selection (--iterations, --layers, --passes) has no work" \
      run --arch "$arch" --trace "$sample" --passes input-grad --layers 0
    expect_error "--model: which layer table? expected one of sample-cnn, resnet50-imagenet" trace synth -o x.swt
    mkdir -p adir
    expect_error "adir: is a directory, not a trace" run --arch "$arch" --trace adir
    expect_error "adir: is a directory, not a trace" trace info adir
    mkfifo afifo
    expect_error "afifo: is not a regular file (a FIFO or device), not a trace" trace validate afifo
    expect_error "--iterations: iteration 4000000000 is not recorded" run --arch "$arch" --trace "$sample" --iterations 4000000000
    expect_error "--iterations: expected a list like 0,2,5-7 of numbers below 2^32, got '4294967296'" \
      run --arch "$arch" --trace "$sample" --iterations 4294967296
    ;;
  outputs-never-clobber-inputs)
    cp "$sample" t.swt; cp "$arch" a.json
    expect_error "--out: names an input file ('t.swt'); it would be overwritten" run --arch a.json --trace t.swt --out t.swt
    expect_error "--csv: names an input file ('a.json'); it would be overwritten" run --arch a.json --trace t.swt --csv a.json
    expect_error "--csv: names the same file as --out ('r.json')" run --arch a.json --trace t.swt --out r.json --csv r.json
    cmp t.swt "$sample" && cmp a.json "$arch" || fail "an input was changed"
    ;;
  symlinked-config)  # a config reached through a symlink resolves its sections next to the real file
    mkdir -p real/pe elsewhere
    echo '{"type": "tensordash", "lookahead": 3}' > real/pe/td.json
    echo '{"name": "linked", "pe": "pe/td.json"}' > real/acc.json
    ln -s "$PWD/real/acc.json" elsewhere/acc.json
    "$swatsim" config show elsewhere/acc.json | grep -q '"lookahead": 3' || fail "section not resolved next to the target"
    ;;
  *) fail "unknown case" ;;
esac
echo "ok: $case"
