#!/usr/bin/env bash
# Trace tools for real runs, one named case per ctest test: tools_test.sh SWATSIM SRC WORK CASE
set -euo pipefail
swatsim=$1 src=$2 work=$3 case=$4
rm -rf "$work/$case"; mkdir -p "$work/$case"; cd "$work/$case"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
cli=("$swatsim" trace)
source "$src/tests/cli_lib.sh"
"$swatsim" trace synth --model sample-cnn --iterations 3 --sparsity 0.8 --values -o s3.swt > /dev/null

case $case in
  merge-and-slice)  # slices of a trace merge back into the same bytes; slices of layers renumber them
    "$swatsim" trace slice s3.swt --iterations 1 -o one.swt > /dev/null
    "$swatsim" trace slice s3.swt --iterations 0,2 -o two.swt > /dev/null
    "$swatsim" trace merge two.swt one.swt -o merged.swt > /dev/null
    cmp merged.swt s3.swt || fail "merge(slice) is not the original"
    "$swatsim" trace slice s3.swt --layers conv2,fc --iterations 1-2 -o sub.swt > /dev/null
    "$swatsim" trace validate sub.swt | grep -q "valid: 2 iterations, 16 tensors" || fail "slice of layers"
    "$swatsim" trace info sub.swt | grep -q "^  1 fc " || fail "fc is layer 1 of the slice: $("$swatsim" trace info sub.swt)"
    # the replay of the slice equals those rows of the whole trace (its first layer, now layer 0, has no
    # input-grad pass in a replay, as a network's first layer)
    "$swatsim" run --arch "$src/configs/arch/tensordash-td.json" --trace sub.swt --csv a.csv -q --passes forward,weight-grad
    "$swatsim" run --arch "$src/configs/arch/tensordash-td.json" --trace s3.swt --csv b.csv -q --layers conv2,fc \
      --iterations 1-2 --passes forward,weight-grad
    [ "$(cut -d, -f1,3- a.csv)" = "$(cut -d, -f1,3- b.csv)" ] || fail "replay of the slice differs"
    expect_error "one.swt: iteration 1 is also in s3.swt: merge takes each iteration once" merge s3.swt one.swt -o x.swt
    expect_error "sub.swt: not the same run as s3.swt: 4 vs 2 layers" merge s3.swt sub.swt -o x.swt
    "$swatsim" trace synth --model sample-cnn --sparsity 0.9 -o other.swt > /dev/null
    expect_error "other.swt: not the same run as one.swt: SWAT settings differ" merge one.swt other.swt -o x.swt
    expect_error "--iterations: iteration 9 is not recorded in s3.swt (recorded: 0-2)" slice s3.swt --iterations 9 -o x.swt
    expect_error "--layers: no layer named 'conv9' in s3.swt" slice s3.swt --layers conv9 -o x.swt
    expect_error "slice needs --iterations and/or --layers" slice s3.swt -o x.swt
    expect_error "--output: names an input file ('s3.swt'); it would be overwritten" slice s3.swt --iterations 0 -o s3.swt
    expect_error "--output: names an input file ('one.swt')" merge one.swt two.swt -o one.swt
    [ ! -e x.swt ] || fail "a failed command left x.swt"
    ;;
  import-iterations)  # one dump directory per iteration; masks only unless --values
    mkdir run
    for i in 0 1 2; do "$swatsim" trace export-npy s3.swt -o run/iter-000$i --iteration $i > /dev/null; done
    rm run/iter-000*/trace-export.json  # iterations from the directory names
    "$swatsim" trace import-npy run -o all.swt --values > /dev/null
    cmp all.swt s3.swt || fail "import of the run with --values is not the original"
    "$swatsim" trace import-npy run -o masks.swt > /dev/null
    "$swatsim" trace info masks.swt | grep -q "^values       masks only for 45 tensors" || fail "masks only: $("$swatsim" trace info masks.swt)"
    "$swatsim" run --arch "$src/configs/arch/tensordash-td.json" --trace masks.swt --csv m.csv -q
    "$swatsim" run --arch "$src/configs/arch/tensordash-td.json" --trace s3.swt --csv s.csv -q
    cmp m.csv s.csv || fail "masks-only replay differs"
    "$swatsim" trace import-npy -i run/iter-0002:7 -i run/iter-0000:3 -o named.swt --model resnet-x --dataset mine \
      --sparsity 0.5 --seed 42 --batch 64 > /dev/null
    "$swatsim" trace info named.swt > info.txt
    grep -q "^iterations   3,7" info.txt && grep -q "^model        resnet-x" info.txt && grep -q "^dataset      mine" info.txt &&
      grep -q "^seed         42" info.txt && grep -q "^batch size   64" info.txt && grep -q "sparsity 0.5" info.txt ||
      fail "header from options: $(cat info.txt)"
    expect_error "iteration 3 is also" import-npy run/iter-0000:3 run/iter-0001:3 -o x.swt
    cp -r run/iter-0001 nonumber
    expect_error "nonumber: cannot tell which iteration it holds: name it DIR:N" import-npy run/iter-0000 nonumber -o x.swt
    [ ! -e x.swt ] || fail "a failed import left x.swt"
    ;;
  import-refusals)  # unlisted files, unequal padding, dilation, different layer tables
    "$swatsim" trace export-npy s3.swt -o d > /dev/null
    cp d/conv2-act.npy d/extra-act.npy
    expect_error "d: extra-act.npy is not a tensor of a layer that layers.csv lists (1 such file); list its layer, or --ignore-unlisted" \
      import-npy d -o x.swt
    "$swatsim" trace import-npy d -o ok.swt --ignore-unlisted > /dev/null
    sed -i 's/^conv2,2,1/conv2,2,1x2/' d/layers.csv
    expect_error "d/layers.csv: line 2: layer 'conv2': unequal padding 1x2 (rows 1, columns 2) is not supported" \
      import-npy d -o x.swt --ignore-unlisted
    sed -i 's/^conv2,2,1x2/conv2,2,1,,2/' d/layers.csv
    expect_error "d/layers.csv: line 2: layer 'conv2': a dilated convolution (dilation 2) is not supported" \
      import-npy d -o x.swt --ignore-unlisted
    sed -i 's/^conv2,2,1,,2/conv2,2,2/' d/layers.csv   # the dumps of a dilation-2 layer with padding 2
    expect_error "a dilated convolution (dilation 2) gives that size, and dilation is not supported" \
      import-npy d -o x.swt --ignore-unlisted
    sed -i 's/^conv2,2,2/conv2,2,1/' d/layers.csv; rm d/extra-act.npy
    "$swatsim" trace synth --model sample-cnn --samples 3 -o other.swt > /dev/null
    "$swatsim" trace export-npy other.swt -o e > /dev/null
    expect_error "e: its layer table differs from d's" import-npy d:0 e:1 -o x.swt
    [ ! -e x.swt ] || fail "a failed import left x.swt"
    ;;
  *) fail "unknown case" ;;
esac
echo "ok: $case"
