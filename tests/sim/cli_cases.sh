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
  reports-deterministic)  # the same inputs give byte-identical reports and tables; CSV shape
    for i in 1 2; do "$swatsim" run --arch "$arch" --trace "$sample" --out r$i.json --csv r$i.csv > t$i.txt; done
    cmp -s r1.json r2.json && cmp -s r1.csv r2.csv && cmp -s t1.txt t2.txt || fail "identical runs differ"
    # the start-up heap preparation (sim/cli/start_heap.cpp) changes where blocks live, never a result
    SWATSIM_HEAP_PREPARE=0 "$swatsim" run --arch "$arch" --trace "$sample" --out r3.json --csv r3.csv > t3.txt
    cmp -s r1.json r3.json && cmp -s r1.csv r3.csv && cmp -s t1.txt t3.txt || fail "SWATSIM_HEAP_PREPARE=0 changes the report"
    for prep in 1 0; do
      SWATSIM_HEAP_PREPARE=$prep "$swatsim" run --arch "$src/configs/arch/tensordash-micro2020-ddr4.json" --trace "$sample" \
        --out m$prep.json -q
    done
    cmp -s m1.json m0.json || fail "SWATSIM_HEAP_PREPARE=0 changes the memory-hierarchy report"
    head -1 r1.csv | grep -q "^iteration,layer,pass,cycles,baseline_cycles,speedup,name,samples," || fail "CSV header: $(head -1 r1.csv)"
    [ "$(wc -l < r1.csv)" -eq 23 ] || fail "CSV has $(wc -l < r1.csv) lines, expected 1 + 22"
    grep -q "^0,0,forward,1176,3528,3.000000,conv1,2," r1.csv || fail "conv1 forward row: $(sed -n 2p r1.csv)"
    [ -z "$(ls | grep '\.tmp')" ] || fail "temporaries left: $(ls)"
    ;;
  selections-and-baselines)
    "$swatsim" run --arch "$arch" --trace "$sample" --iterations 0 --layers 1-2 --passes forward -q \
      --baseline "$src/configs/arch/dense-systolic-32x32.json" --csv sel.csv
    [ "$(wc -l < sel.csv)" -eq 3 ] || fail "selection gave $(wc -l < sel.csv) CSV lines, expected 3"
    cut -d, -f1-3 sel.csv | tail -2 | tr '\n' ' ' | grep -q "^0,1,forward 0,2,forward $" || fail "selected rows: $(cat sel.csv)"
    "$swatsim" run --arch "$arch" --trace "$sample" --layers conv2,3 --iterations 1 -q --csv names.csv
    [ "$(wc -l < names.csv)" -eq 7 ] || fail "--layers conv2,3 gave $(wc -l < names.csv) CSV lines, expected 7"
    [ "$(cut -d, -f7 names.csv | tail -6 | sort -u | tr '\n' ' ')" = "conv2 fc " ] || fail "names: $(cut -d, -f7 names.csv)"
    "$swatsim" run --arch "$arch" --trace "$sample" --csv all.csv -q
    "$swatsim" run --arch "$arch" --trace "$sample" -q --iterations 0-999999999 --layers 0-999999999 --csv huge.csv
    cmp -s all.csv huge.csv || fail "--iterations/--layers 0-999999999 differ from the default selection"
    expect_error "range 100-999999999 selects no recorded iteration" run --arch "$arch" --trace "$sample" --iterations 100-999999999
    expect_error "--layers" run --arch "$arch" --trace "$sample" --layers 50-999999999
    expect_error "conv9" run --arch "$arch" --trace "$sample" --layers conv9
    "$swatsim" run --arch "$arch" --trace "$sample" -q --baseline "$arch" --baseline-sparsity off --csv bs-off.csv
    cmp -s bs-off.csv all.csv || fail "--baseline same --baseline-sparsity off differs from the default baseline"
    expect_error "--baseline-sparsity" run --arch "$arch" --trace "$sample" --baseline-sparsity off
    expect_error "--baseline-sparsity" run --arch "$arch" --trace "$sample" --baseline "$arch" --baseline-sparsity maybe
    "$swatsim" run --help | grep -q "baseline-sparsity" || fail "run --help does not document --baseline-sparsity"
    for c in two-sided tensordash-16tiles dense-systolic-32x32; do
      "$swatsim" run --arch "$src/configs/arch/$c.json" --trace "$sample" -q --csv $c.csv
      [ "$(wc -l < $c.csv)" -eq 23 ] || fail "$c: $(wc -l < $c.csv) lines"
    done
    ;;
  config-verbs)
    "$swatsim" config validate "$arch" "$src/configs/arch/tensordash-16tiles.json" > v.txt
    "$swatsim" config show "$src/configs/arch/tensordash-16tiles.json" > show.json
    grep -q '"lookaside": 5' show.json || fail "config show: $(cat show.json)"
    "$swatsim" config types > types.json
    /usr/bin/python3 -c "import json,sys; d=json.load(open('types.json')); assert set(d)=={'accelerator','pe','memory','memory_levels','dram','energy'}, list(d); assert set(d['memory_levels'])=={'sram','network','tile_buffers'}; assert [p['name'] for p in d['memory_levels']['sram']['params']]==['name','kib','banks','bank_bytes']; assert [p['name'] for p in d['accelerator']]==['name','clock_ghz','tiles','pe','memory','dram','energy','area','reference']" || fail "config types: $(head -c 300 types.json)"
    ;;
  bad-inputs)
    echo '{"pe": {"type": "tensordash", "lookahead": -2}}' > bad.json
    expect_error "bad.json: /pe/lookahead: expected an integer in [1, 64], got -2" run --arch bad.json --trace "$sample"
    expect_error "bad.json: /pe/lookahead" config validate bad.json
    expect_error "missing.swt" run --arch "$arch" --trace missing.swt
    expect_error "backward" run --arch "$arch" --trace "$sample" --passes backward
    expect_error "--layers" run --arch "$arch" --trace "$sample" --layers 9
    expect_error "--iterations" run --arch "$arch" --trace "$sample" --iterations 5
    expect_error "--arch" run --trace "$sample"
    printf SWAT > trunc.swt
    expect_error "trunc.swt" run --arch "$arch" --trace trunc.swt
    mkdir -p cfgdir
    expect_error "cfgdir: is a directory" run --arch cfgdir --trace "$sample"
    echo '{"pe": "cfgdir"}' > secdir.json
    expect_error "secdir.json: /pe: section file" config validate secdir.json
    echo '{"pe": {"type": "two-sided", "lanes": 16, "pairs_per_cycle": 32}}' > ts.json
    expect_error "ts.json: /pe/pairs_per_cycle: expected an integer in [1, lanes=16], got 32" config validate ts.json
    # outputs: an unwritable --csv fails before the replay and leaves no JSON (and no temporaries)
    expect_error "x.csv" run --arch "$arch" --trace "$sample" -q --out both.json --csv no/such/dir/x.csv
    [ ! -e both.json ] || fail "--out written although --csv cannot be"
    expect_error "cfgdir: is a directory" run --arch "$arch" --trace "$sample" -q --out both.json --csv cfgdir
    [ ! -e both.json ] || fail "--out written although --csv is a directory"
    expect_error "same.out" run --arch "$arch" --trace "$sample" -q --out same.out --csv same.out
    [ -z "$(ls | grep '\.tmp')" ] || fail "temporaries left: $(ls)"
    ;;
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
    # Files a config reads its sections from are inputs too: a section file, a reference and its sections.
    mkdir -p sec
    echo '{"type": "tensordash", "lookahead": 3}' > sec/pe.json
    echo '{"name": "ref", "pe": "pe.json"}' > sec/ref.json
    echo '{"name": "s", "pe": "sec/pe.json", "reference": "sec/ref.json"}' > s.json
    cp sec/pe.json pe.orig; cp sec/ref.json ref.orig
    expect_error "--out: names an input file ('sec/pe.json'); it would be overwritten" run --arch s.json --trace t.swt --out sec/pe.json
    expect_error "--csv: names an input file ('sec/ref.json'); it would be overwritten" run --arch s.json --trace t.swt --csv sec/ref.json
    expect_error "--out: names an input file ('sec/pe.json')" run --arch a.json --reference sec/ref.json --trace t.swt --out sec/pe.json
    cmp sec/pe.json pe.orig && cmp sec/ref.json ref.orig || fail "a section file was changed"
    ;;
  deep-json)  # nesting that would overflow the stack when copied is refused in one line
    /usr/bin/python3 -c "open('deep.json','w').write('{\"pe\": {\"type\": \"tensordash\", \"shape\": ' + '[' * 150000 + ']' * 150000 + '}}')"
    expect_error "deep.json: /pe/shape/0/0/" config validate deep.json
    grep -q "nested deeper than 128 levels" err.txt || fail "no depth message: $(cut -c1-200 err.txt)"
    /usr/bin/python3 -c "open('ok.json','w').write('{\"pe\": {\"type\": \"tensordash\"}, \"name\": ' + '[' * 100 + ']' * 100 + '}')"
    expect_error "ok.json: /name: expected a string" config validate ok.json
    ;;
  compare)  # several designs, one trace, one reference: the figures of separate runs, in one table
    a=$src/configs/arch/tensordash-micro2020-ddr4.json b=$src/configs/arch/two-sided-ddr4.json
    ref=$src/configs/arch/dense-systolic-16x32x32-ddr4.json
    "$swatsim" compare --trace "$sample" --arch "$a" --arch "$b" --format json --out cmp.json
    "$swatsim" run --arch "$a" --trace "$sample" --reference "$ref" --out ra.json -q
    "$swatsim" run --arch "$b" --trace "$sample" --reference "$ref" --out rb.json -q
    /usr/bin/python3 - <<'PY' || fail "compare disagrees with separate runs"
import json
c = json.load(open("cmp.json"))
rows = {(r["design"], r["pass"]): r for r in c["summary"]}
for name, f in (("tensordash-micro2020-ddr4", "ra.json"), ("two-sided-ddr4", "rb.json")):
    t = json.load(open(f))["total"]
    r = rows[(name, "all")]
    assert r["cycles"] == t["cycles"], (name, r["cycles"], t["cycles"])
    assert abs(r["vs_reference"] - t["reference_speedup"]) < 1e-3 and abs(r["area_mm2"] - t["area.total_mm2"]) < 1e-3, name
    assert abs(r["dram_mb"] - (t["dram.read_bytes"] + t["dram.write_bytes"]) / 1e6) < 1e-3, name
    for p in ("forward", "input-grad", "weight-grad"):
        assert (name, p) in rows
top = [r for r in c["top_layers"] if r["design"] == "two-sided-ddr4"]
assert [r["rank"] for r in top] == [1, 2, 3, 4] and abs(sum(r["share"] for r in top) - 1) < 1e-3, top
assert c["reference"]["config"]["name"] == "dense-systolic-16x32x32-ddr4"
PY
    "$swatsim" compare --trace "$sample" --arch "$a" --arch "$b" --format csv --top 2 > cmp.csv
    [ "$(head -1 cmp.csv)" = "design,pass,cycles,vs_reference,vs_sparsity_off,energy_uj,energy_eff_vs_reference,area_mm2,gmacs_per_s_per_mm2,vs_reference_at_equal_area,dram_mb" ] ||
      fail "csv: $(head -1 cmp.csv)"
    [ "$(wc -l < cmp.csv)" -eq 9 ] || fail "csv rows: $(wc -l < cmp.csv)"
    "$swatsim" compare --trace "$sample" --arch "$a" --arch "$b" --passes forward > cmp.txt
    grep -q "^tensordash-micro2020-ddr4  forward" cmp.txt && ! grep -q "weight-grad" cmp.txt || fail "text: $(cat cmp.txt)"
    expect_error "--arch: compare needs two or more designs" compare --trace "$sample" --arch "$a"
    expect_error "--format: expected text, csv or json, got 'x'" compare --trace "$sample" --arch "$a" --arch "$b" --format x
    expect_error "design tensordash-micro2020-ddr4: --layers: layer 99 does not exist" compare --trace "$sample" --arch "$a" --arch "$b" --layers 99
    echo '{"name": "noref", "pe": {"type": "tensordash"}}' > noref.json
    expect_error "--reference: missing: noref.json names no reference" compare --trace "$sample" --arch noref.json --arch "$a"
    "$swatsim" compare --trace "$sample" --arch noref.json --arch "$a" --reference none --format json > none.json 2> none.err ||
      fail "--reference none"
    /usr/bin/python3 -c "
import json
c = json.load(open('none.json'))
assert c['reference'] is None
for r in c['summary']:
    assert r['vs_reference'] is None and r['vs_reference_at_equal_area'] is None and isinstance(r['cycles'], int), r
" || fail "against no reference: $(head -c 300 none.json)"
    grep -q "warning: the designs' memory types differ" none.err || fail "no warning for ideal beside hierarchy: $(cat none.err)"
    # --out never replaces an input (a design's config, the trace, the reference)
    cp noref.json mine.json; cp "$sample" mine.swt
    for target in mine.json mine.swt; do
      expect_error "--out" compare --trace mine.swt --arch mine.json --arch "$a" --reference none --out $target
    done
    cmp mine.json noref.json && cmp mine.swt "$sample" || fail "compare --out replaced an input"
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
