#!/usr/bin/env bash
# Hostile inputs, one class per named ctest test: every one is expect_error with one line on stderr
# naming the place, exit status 2, no crash, no hang, no output file. hostile_test.sh SWATSIM SRC WORK CASE
set -euo pipefail
swatsim=$1 src=$2 work=$3 case=$4
rm -rf "$work/$case"; mkdir -p "$work/$case"; cd "$work/$case"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
py=/usr/bin/python3
cli=("$swatsim")
source "$src/tests/cli_lib.sh"
sample=$src/traces/samples/sample.swt
arch=$src/configs/arch/tensordash-td.json

case $case in
  config-values)  # numbers out of range, duplicate keys, NUL and over-long paths
    echo '{"name": "x", "pe": {"type": "tensordash", "lookahead": 1e400}}' > big.json
    expect_error "big.json: invalid JSON" config validate big.json
    echo '{"name": "x", "pe": {"type": "tensordash", "lookahead": 2, "lookahead": 3}}' > dup.json
    expect_error "dup.json: /pe/lookahead: duplicate key" config validate dup.json
    echo '{"name": "x", "name": "y", "pe": {"type": "tensordash"}}' > dup2.json
    expect_error "dup2.json: /name: duplicate key" run --arch dup2.json --trace "$sample"
    printf '{"name": "x", "pe": "pe\\u0000.json"}' > nul.json
    expect_error "nul.json" config validate nul.json
    long=$(head -c 300 /dev/zero | tr '\0' a)
    echo "{\"name\": \"x\", \"pe\": \"$long.json\"}" > long.json
    expect_error "long.json: /pe: section file '$long.json': File name too long" config validate long.json
    # An error line shows an excerpt of a long value, never all of it.
    $py -c "import json; json.dump({'pe': {'type': 'tensordash', 'shape': 'é' * 50000}}, open('longv.json', 'w'))"
    expect_error 'longv.json: /pe/shape: expected one of "T", "L", got "éééé' config validate longv.json
    grep -q '\.\.\. (100000 bytes)$' err.txt && [ "$(wc -c < err.txt)" -lt 300 ] || fail "long value echoed: $(wc -c < err.txt) bytes"
    echo '{"preset": "hbm2", "tRP": 14, "tRP": 15}' > dram.json
    expect_error "dram.json: /tRP: duplicate key" dram --dram dram.json --trace dram.json
    ;;
  bounded-memory)  # a small trace cannot make a reader allocate without bound or die unnamed
    # 1.0 MB on disk: a linear layer whose input (65536 x 131072 = 2^33 elements) is a 1 GiB bitmap of
    # zeros, zlib-compressed. Under a 700 MB address-space limit reading it cannot succeed: one line
    # naming the tensor and the memory it needs, exit 2.
    PYTHONPATH="$src/python" $py - big.swt <<'PY'
import sys, zlib
import numpy as np
from swatsim import trace as T
h = T.header("big", [T.linear_layer("fc", 65536, 131072, 1, tensors=["input_act", "weight", "output_grad"])])
w = T.TraceWriter(sys.argv[1], h)
raw_size = (65536 * 131072) // 8
z = zlib.compressobj(9)
chunk = bytes(1 << 24)
stored = b"".join(z.compress(chunk) for _ in range(raw_size // len(chunk))) + z.flush()
entry = np.zeros(1, dtype=T.ENTRY)
e = entry[0]
e["iteration"], e["layer"], e["kind"], e["values"] = 0, 0, T.TENSOR_CODES["input_act"], 0
e["shape"] = (65536, 131072, 1, 1)
e["nnz"], e["offset"], e["stored_size"], e["raw_size"] = 0, w._offset, len(stored), raw_size
e["crc32"], e["codec"] = zlib.crc32(stored), 1
w._f.write(stored)
w._entries.append(entry.tobytes())
w._offset += len(stored)
w._last = (0, 0, T.TENSOR_CODES["input_act"])
w._iteration = 0
w._expected = {(0, T.TENSOR_CODES["weight"]), (0, T.TENSOR_CODES["output_grad"])}
w.write_tensor(0, "fc", "weight", np.zeros((1, 131072), dtype=bool))
w.write_tensor(0, "fc", "output_grad", np.zeros((65536, 1), dtype=bool))
w.close()
PY
    [ "$(stat -c %s big.swt)" -lt 2000000 ] || fail "the crafted trace is $(stat -c %s big.swt) bytes"
    if [ "${SWATSIM_SANITIZED:-0}" = 0 ]; then
      (ulimit -v 700000; expect_error "big.swt: iteration 0, layer 0 (fc), input_act: needs about" trace validate big.swt)
      grep -q "of memory to read (8589934592 elements, 0 non-zeros)" err.txt || fail "$(cat err.txt)"
    fi
    # A tensor over 2^34 elements is refused by the layer table before anything is read.
    PYTHONPATH="$src/python" $py - <<'PY' || fail "the Python writer accepted a tensor over 2^34 elements"
from swatsim import trace as T
try:
    T.TraceWriter("huge.swt", T.header("huge", [T.linear_layer("fc", 1 << 18, 1 << 17, 1)]))
except T.TraceError as e:
    assert "2^34" in str(e) or "17179869184" in str(e), e
else:
    raise SystemExit(1)
PY
    ;;
  command-lines)  # one line and "see --help", never the usage text; no negative numbers wrapping
    expect_error "unrecognised option '--bogus'; see --help" run --bogus
    expect_error "unknown command 'rn'; see swatsim --help" rn
    expect_error "unknown verb 'bogus'; see swatsim config --help" config bogus
    expect_error "--batch: expected a non-negative number, got '-1'" trace import-npy x -o y.swt --batch -1
    expect_error "--seed: expected a non-negative number, got '-1'" trace synth --model sample-cnn -o y.swt --seed -1
    expect_error "--iteration: expected a non-negative number, got '-1'" trace export-npy "$sample" -o d --iteration -1
    expect_error "--batch: expected a non-negative number, got '-1'" trace import-npy x -o y.swt --batch=-1
    expect_error "--iterations: expected a non-negative number, got '-1'" trace synth --model sample-cnn -o y.swt --iterations=-1
    expect_error "-1.swt: cannot open" trace info -- -1.swt
    expect_error "--out: expected a value, got an empty string" run --arch "$arch" --trace "$sample" --out ''
    expect_error "--output: expected a value, got an empty string" trace synth --model sample-cnn -o ''
    [ ! -e y.swt ] && [ ! -e d ] || fail "an output was written"
    ;;
  npy-dumps)  # NaN/Inf values, control characters in headers, trailing commas, --batch 0, FIFOs
    "$swatsim" trace export-npy "$sample" -o d > /dev/null
    cp -r d nan && $py -c "import numpy as np; a=np.load('nan/conv2-grad.npy'); a.flat[5]=np.nan; np.save('nan/conv2-grad.npy', a)"
    expect_error "nan/conv2-grad.npy: element 5 is NaN" trace import-npy nan -o x.swt
    cp -r d inf && $py -c "import numpy as np; a=np.load('inf/fc-act.npy'); a.flat[0]=np.inf; np.save('inf/fc-act.npy', a)"
    expect_error "inf/fc-act.npy: element 0 is infinite" trace import-npy inf -o x.swt
    cp -r d ctl && $py - <<'PY'
h = open('ctl/fc-wgt.npy', 'rb').read()
open('ctl/fc-wgt.npy', 'wb').write(h.replace(b"'<f4'", b"'\x1b[31m'", 1))
PY
    expect_error "dtype '\\x1b[31m' is not supported" trace import-npy ctl -o x.swt
    cp -r d comma && sed -i 's/^fc,1,0$/fc,1,0,/' comma/layers.csv
    expect_error "comma/layers.csv: line 4: a trailing comma" trace import-npy comma -o x.swt
    expect_error "--batch: expected an integer >= 1, got 0" trace import-npy d -o x.swt --batch 0
    cp -r d fifo && rm fifo/layers.csv && mkfifo fifo/layers.csv
    expect_error "fifo/layers.csv: is not a regular file (a FIFO or device)" trace import-npy fifo -o x.swt
    cp -r d fifo2 && rm fifo2/conv1-act.npy && mkfifo fifo2/conv1-act.npy
    expect_error "fifo2/conv1-act.npy: is not a regular file (a FIFO or device)" trace import-npy fifo2 -o x.swt
    cp -r d fifo3 && rm fifo3/trace-header.json && mkfifo fifo3/trace-header.json
    expect_error "fifo3/trace-header.json: is not a regular file (a FIFO or device)" trace import-npy fifo3 -o x.swt
    [ ! -e x.swt ] || fail "an output was written"
    ;;
  outputs)  # an output never replaces an input, a device or a pipe; signals and kills leave nothing
    cp "$sample" t.swt
    expect_error "--out: names an input file ('t.swt')" run --arch "$arch" --trace t.swt --out t.swt
    expect_error "--output: names an input file ('t.swt')" trace slice t.swt --iterations 0 -o t.swt
    cmp t.swt "$sample" || fail "the trace was changed"
    # devices and pipes are written, not replaced; - is standard output
    ln -s /dev/null null && "$swatsim" run --arch "$arch" --trace t.swt --out null -q
    [ -L null ] && [ -c /dev/null ] || fail "/dev/null was replaced"
    # (the reader drains the pipe: a reader that closes early would SIGPIPE the writer)
    "$swatsim" run --arch "$arch" --trace t.swt --csv - -q | { head -1; cat > /dev/null; } | grep -q "^iteration,layer,pass," || fail "--csv -"
    mkfifo pipe; cat pipe > from-pipe.json & catpid=$!; sleep 0.3
    timeout 20 "$swatsim" run --arch "$arch" --trace t.swt --out pipe -q || fail "writing into a FIFO: exit $?"
    wait $catpid
    [ -p pipe ] && grep -q '"total"' from-pipe.json || fail "writing into a FIFO"
    # SIGTERM and SIGINT remove the temporary; the next write removes those of dead processes
    for sig in TERM INT; do
      env --default-signal=INT "$swatsim" trace synth --model resnet50-imagenet --samples 4 --iterations 2 -o big.swt > /dev/null &
      pid=$!; sleep 1; kill -$sig $pid; set +e; wait $pid; rc=$?; set -e
      [ $rc -ge 128 ] || fail "synth was not interrupted by SIG$sig (exit $rc): make the job longer"
      [ -z "$(ls | grep 'big.swt')" ] || fail "SIG$sig left: $(ls | grep big.swt)"
    done
    # an interrupted export-npy leaves no temporary directory either
    "$swatsim" trace synth --model resnet50-imagenet --samples 4 --iterations 1 -o exp.swt > /dev/null
    for sig in TERM INT; do
      env --default-signal=INT "$swatsim" trace export-npy exp.swt -o expdir > /dev/null &
      pid=$!; sleep 0.7; kill -$sig $pid; set +e; wait $pid; rc=$?; set -e
      [ $rc -ge 128 ] || fail "export-npy was not interrupted by SIG$sig (exit $rc): make the job longer"
      [ -z "$(ls | grep expdir)" ] || fail "SIG$sig left: $(ls | grep expdir)"
    done
    rm -f exp.swt
    host=$(hostname | tr '/.' '__')
    touch "r.json.tmp.$host.999999999" "r.json.tmp.$host.1" r.json.tmp.otherhost.999999999
    "$swatsim" run --arch "$arch" --trace t.swt --out r.json -q
    [ ! -e "r.json.tmp.$host.999999999" ] || fail "a dead process's temporary was left"
    [ -e "r.json.tmp.$host.1" ] || fail "a live process's temporary (pid 1) was removed"
    [ -e r.json.tmp.otherhost.999999999 ] || fail "another host's temporary was removed"
    # - into a redirected file, and a trace to stdout is a whole trace
    "$swatsim" run --arch "$arch" --trace t.swt --csv - > csv.txt
    head -1 csv.txt | grep -q "^iteration,layer,pass," || fail "--csv - redirected: $(head -2 csv.txt)"
    [ -L /dev/stdout ] || [ -c /dev/stdout ] || fail "/dev/stdout was replaced"
    "$swatsim" trace slice t.swt --iterations 1 -o - > piped.swt
    "$swatsim" trace validate piped.swt > /dev/null || fail "a trace written to stdout"
    mkfifo lonely
    expect_error "lonely: is a FIFO with no reader" run --arch "$arch" --trace t.swt --out lonely -q
    "$swatsim" trace export-npy t.swt -o dump > /dev/null
    expect_error "is a file the import reads in the dump directory" trace import-npy dump -o dump/layers.csv
    ;;
  permissions)  # unreadable traces and configs, unwritable output directories: one line naming the path
    # Root reads everything: run the commands as nobody (setpriv) when this is root, else as we are.
    as=()
    if [ "$(id -u)" = 0 ]; then
      command -v setpriv > /dev/null || { echo "SKIP ($case): root without setpriv"; exit 0; }
      as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
      "${as[@]}" "$swatsim" --help > /dev/null 2>&1 || { echo "SKIP ($case): nobody cannot run $swatsim"; exit 0; }
      chmod 755 .
    fi
    cli=("${as[@]}" "$swatsim")
    mkdir locked; cp "$sample" locked/t.swt; cp "$arch" locked/a.json; cp "$arch" a.json; chmod 644 a.json; chmod 000 locked
    expect_error "locked/t.swt: cannot open: Permission denied" run --arch a.json --trace locked/t.swt
    expect_error "locked/a.json" config validate locked/a.json
    expect_error "locked/r.json: cannot open for writing: Permission denied" run --arch a.json --trace "$sample" --out locked/r.json -q
    expect_error "locked/x.swt" trace synth --model sample-cnn -o locked/x.swt
    chmod 755 locked
    ;;
  damaged-mid-replay)  # an error found while replaying: one line, exit 2 (and no sanitizer report under asan)
    cp "$sample" t.swt
    $py -c "f=open('t.swt','r+b'); f.seek(300000); b=f.read(1); f.seek(300000); f.write(bytes([b[0]^0xff]))"
    expect_error "checksum" run --arch "$arch" --trace t.swt --out r.json
    [ ! -e r.json ] || fail "a report was written"
    ;;
  *) fail "unknown case" ;;
esac
echo "ok: $case"
