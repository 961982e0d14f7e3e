#!/usr/bin/env bash
# Trace I/O benchmark: streaming mask-read throughput (target >= 500 MB/s of uncompressed bitmap on
# one core) and the size of one ResNet-50 (ImageNet form) iteration at batch 2.
set -euo pipefail
bin=$1
out=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
rows=()
for s in 0.8 0.9; do
  "$bin/swatsim" trace synth --model resnet50-imagenet --samples 2 --sparsity "$s" -o "$tmp/r50-$s.swt" >/dev/null
  file_bytes=$(stat -c %s "$tmp/r50-$s.swt")
  json=$(taskset -c 0 "$bin/trace_read_bench" "$tmp/r50-$s.swt" 10)
  rows+=("{\"sparsity\": $s, \"file_bytes\": $file_bytes, \"read\": $json}")
done
{
  echo "{\"benchmark\": \"traces\", \"host_cores\": $(nproc), \"runs\": ["
  (IFS=,; echo "${rows[*]}")
  echo "]}"
} >"$out/traces.json.tmp" && mv "$out/traces.json.tmp" "$out/traces.json"
/usr/bin/python3 - "$out/traces.json" "$out/traces.md" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
lines = ["# Trace I/O benchmark", "",
         "ResNet-50 (ImageNet form, 54 layers) synthetic trace, one iteration, batch 2, all four tensors per layer;",
         "masks read one after another through `TraceReader::read_into` on one core (best of 10), the file in the page cache",
         "(it was just written): this measures decoding, not the disk. Target: >= 500 MB/s.", "",
         "| sparsity | file bytes / iteration | bitmap bytes | stored bytes | read MB/s (bitmap) |", "|---|---|---|---|---|"]
for r in d["runs"]:
    x = r["read"]
    lines.append(f"| {r['sparsity']} | {r['file_bytes']:,} | {x['bitmap_bytes']:,} | {x['stored_bytes']:,} | {x['bitmap_mb_per_s']:.0f} |")
lines.append("")
lines.append("Regenerate with `scripts/bench.sh traces`.")
open(sys.argv[2] + ".tmp", "w").write("\n".join(lines) + "\n")
import os; os.replace(sys.argv[2] + ".tmp", sys.argv[2])
PY
cat "$out/traces.md"
