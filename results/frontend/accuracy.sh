#!/usr/bin/env bash
# SWAT-U 80% and 90% vs dense training of the same model with the same budget on Fashion-MNIST.
# Usage: results/frontend/accuracy.sh [BUILD_BIN_DIR]   (default: build/bin)
# Writes results/frontend/accuracy.md and accuracy.json beside this script; the logs go to
# results/tmp/frontend-accuracy/. Budget: small-cnn, 3 epochs, batch 128 (minutes on 2 cores).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${1:-$root/build/bin}
tmp=$root/results/tmp/frontend-accuracy
mkdir -p "$tmp"
common=(--model small-cnn --dataset fashion-mnist --epochs 3 --batch 128 --lr 0.05 --momentum 0.9
        --weight-decay 5e-4 --schedule cosine --warmup 50 --topk-period 10 --seed 1 --no-progress
        --threads "$(nproc)")
runs=("dense:0" "swat-u-80:0.8" "swat-u-90:0.9")
for r in "${runs[@]}"; do
  name=${r%%:*}; s=${r##*:}
  echo "== $name (sparsity $s)"
  start=$(date +%s)
  "$bin/swat-train" "${common[@]}" --sparsity "$s" --log "$tmp/$name.jsonl" --report "$tmp/$name-report.json" \
    > "$tmp/$name.out"
  echo "$(( $(date +%s) - start ))" > "$tmp/$name.seconds"
  grep -E "top-1" "$tmp/$name.out" | tail -1
done
/usr/bin/python3 - "$tmp" "$here" "${common[*]}" <<'PY'
import json, sys, os
tmp, here, common = sys.argv[1], sys.argv[2], sys.argv[3]
rows = []
for name in ["dense", "swat-u-80", "swat-u-90"]:
    final = None
    evals = []
    for line in open(os.path.join(tmp, name + ".jsonl")):
        j = json.loads(line)
        if j.get("final"): final = j
        if "top1" in j and not j.get("final"): evals.append(j["top1"])
    rep = json.load(open(os.path.join(tmp, name + "-report.json")))
    secs = int(open(os.path.join(tmp, name + ".seconds")).read())
    rows.append(dict(run=name, sparsity=final["sparsity"], top1=final["top1"], epoch_top1=evals,
                     iterations=final["iterations"], seconds=secs,
                     training_flop_reduction=rep["totals"]["training_flop_reduction"],
                     inference_flop_reduction=rep["totals"]["inference_flop_reduction"]))
dense = rows[0]["top1"]
for r in rows: r["delta_vs_dense_points"] = round(100 * (r["top1"] - dense), 2)
json.dump(dict(command="swat-train " + common + " --sparsity S", runs=rows), open(os.path.join(here, "accuracy.json"), "w"), indent=2)
with open(os.path.join(here, "accuracy.md"), "w") as f:
    f.write("# SWAT-U vs dense on Fashion-MNIST (small-cnn)\n\n")
    f.write("Produced by `results/frontend/accuracy.sh`. Command (S = 0, 0.8, 0.9):\n\n")
    f.write("    swat-train " + common + " --sparsity S\n\n")
    f.write("| run | sparsity | test top-1 | Δ vs dense (points) | top-1 after each epoch | training FLOP reduction | inference FLOP reduction | wall s |\n|---|---|---|---|---|---|---|---|\n")
    for r in rows:
        f.write("| {run} | {sparsity} | {t:.2f}% | {delta_vs_dense_points:+.2f} | {e} | {tr:.1f}% | {inf:.1f}% | {seconds} |\n".format(
            t=100 * r["top1"], e=", ".join("%.2f" % (100 * x) for x in r["epoch_top1"]),
            tr=100 * r["training_flop_reduction"], inf=100 * r["inference_flop_reduction"], **r))
    ok = abs(rows[1]["delta_vs_dense_points"]) <= 1.5
    f.write("\nSWAT-U 80%% within 1.5 points of dense: **%s** (%+.2f points).\n" % ("yes" if ok else "no", rows[1]["delta_vs_dense_points"]))
    f.write("FLOP reductions are from the densities measured in the last training iteration (see docs/frontend.md).\n")
    f.write("Wall times are from a shared machine (other jobs were running) and are not a speed measurement;\n"
            "see results/perf/frontend.md for the step-time benchmark.\n")
print(open(os.path.join(here, "accuracy.md")).read())
PY
