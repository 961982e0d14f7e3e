#!/usr/bin/env bash
# Benchmark: one SWAT training step vs the dense LibTorch step of the same model and batch,
# measured side by side (interleaved) in one process. ResNet-18 (CIFAR form), batch 32,
# Fashion-MNIST images at 32x32 replicated to 3 channels, SWAT-U 80%, --topk-period 20.
# Usage: frontend.sh BUILD_BIN_DIR RESULTS_PERF_DIR   (writes RESULTS_PERF_DIR/frontend.md)
set -euo pipefail
bin=$1
out=$2
mkdir -p "$out"
steps=${SWATSIM_FRONTEND_BENCH_STEPS:-40}
threads=$(nproc)
json=$("$bin/swat-train" --model resnet18 --batch 32 --sparsity 0.8 --topk-period 20 \
        --bench-steps "$steps" --threads "$threads" --quiet | tail -1)
json1=$("$bin/swat-train" --model resnet18 --batch 32 --sparsity 0.8 --topk-period 1 \
        --bench-steps 6 --threads "$threads" --quiet | tail -1)
/usr/bin/python3 - "$out/frontend.md" "$json" "$json1" "$(nproc)" "$(date -u +%Y-%m-%dT%H:%MZ)" <<'PY'
import json, sys
path, j20, j1, cores, when = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4], sys.argv[5]
with open(path, "w") as f:
    f.write("# swat-train step time: SWAT vs dense LibTorch (scripts/bench.d/frontend.sh)\n\n")
    f.write("ResNet-18 CIFAR form, batch 32, Fashion-MNIST at 32x32 (3 channels), SWAT-U 80%%, CPU, %s threads on %s cores, %s.\n" % (j20["threads"], cores, when))
    f.write("Each round times one SWAT step (forward, backward, SGD update, top-K masking; threshold recomputed\n")
    f.write("every `topk_period` iterations) and then one step of the same model built from plain LibTorch layers.\n\n")
    f.write("| topk-period | steps | SWAT step mean s | dense step mean s | ratio (means) | SWAT median s | dense median s | ratio (medians) |\n|---|---|---|---|---|---|---|---|\n")
    for j in (j20, j1):
        f.write("| %d | %d | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |\n" % (j["topk_period"], j["steps"], j["swat_step_s"]["mean"], j["dense_step_s"]["mean"], j["ratio_mean"], j["swat_step_s"]["median"], j["dense_step_s"]["median"], j["ratio_median"]))
    f.write("\nTarget (issue 4): ratio <= 1.3 with --topk-period 20. The mean includes the top-K recomputations\n(one step in 20); --topk-period 1 shows their cost.\n")
print(open(path).read())
PY
