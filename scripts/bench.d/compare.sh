#!/usr/bin/env bash
# Side by side with DNNsim, the TensorDash authors' simulator (issue 12): the same .npy dumps through both,
# whole processes timed (medians of alternating runs pinned to one core), per layer/pass cycles compared.
# Workloads: four ResNet-50 layers at batch 2 (../shared/refsims/gen_r50_layers.py) and the 16 residual-block
# convolutions of a short ResNet-18 SWAT run (swat-train --trace, trace slice, trace export-npy). Also times the
# replay of a whole ResNet-50 batch-2 iteration (trace synth). Targets: `run` alone >= 40x DNNsim, import-npy + run
# >= 20x, same cycles; the ResNet-50 iteration under 1 s.
# Runs only when told where a DNNsim binary is: DNNSIM=/path/to/DNNsim (built by ../shared/refsims/build-dnnsim.sh;
# nothing in the project needs it) and REFSIMS=/path/to/refsims (dnnsim_td.py, gen_r50_layers.py; default
# ../shared/refsims next to the repository). Otherwise it says so and exits 0 without touching the results.
# Knobs: COMPARE_ROUNDS (10), COMPARE_CPU (the last CPU), COMPARE_PROFILE (1: perf profiles when perf works).
# Usage: compare.sh BIN_DIR RESULTS_DIR. Writes RESULTS_DIR/compare.md and RESULTS_DIR/compare.json.
set -euo pipefail
bin=$1
out=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
py=/usr/bin/python3
if [ -z "${DNNSIM:-}" ]; then
  echo "skipped: set DNNSIM=... (see ../shared/refsims/README.md)"
  exit 0
fi
[ -x "$DNNSIM" ] || { echo "compare: DNNSIM=$DNNSIM is not an executable" >&2; exit 1; }
refsims=${REFSIMS:-$root/../shared/refsims}
for f in dnnsim_td.py gen_r50_layers.py; do
  [ -f "$refsims/$f" ] || { echo "compare: no $f in $refsims (set REFSIMS=...)" >&2; exit 1; }
done
refsims=$(cd "$refsims" && pwd)
dnnsim=$(cd "$(dirname "$DNNSIM")" && pwd)/$(basename "$DNNSIM")
$py -c 'import numpy' 2>/dev/null || { echo "compare: $py lacks numpy (python3-numpy)" >&2; exit 1; }
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
work=$(mktemp -d "${TMPDIR:-/tmp}/swatsim-bench-compare.XXXXXX")
trap 'rm -rf "$work"' EXIT
cpu=${COMPARE_CPU:-$(($(nproc) - 1))}
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c "$cpu"); fi

# a copy of the binaries, so that a rebuild during the run cannot change what is measured
mkdir -p "$work/bin" "$work/t"
cp "$bin/swatsim" "$bin/swat-train" "$work/bin/"
sw=$work/bin/swatsim
echo '{"name": "td1", "tiles": 1, "memory": {"type": "ideal"},
 "pe": {"type": "tensordash", "rows": 4, "cols": 16, "lanes": 16, "lookahead": 2, "lookaside": 5, "shape": "T"}}' \
  >"$work/td1.json"

# workload 1: four ResNet-50 layers at batch 2 (numpy, fixed seed)
$py "$refsims/gen_r50_layers.py" "$work/r50" >"$work/r50-gen.txt"

# workload 2: a short ResNet-18 SWAT run (Fashion-MNIST when installed, else synthetic data), one recorded iteration
# (the third), two samples; its 16 residual-block convolutions (no stem conv, no 1x1 shortcuts, no fc) as npy dumps
r18_data=fashion-mnist
[ -d /usr/share/datasets/fashion-mnist ] || r18_data=synthetic
t0=$(date +%s.%N)
"${pin[@]}" "$work/bin/swat-train" --model resnet18 --dataset "$r18_data" --input-size 32 --batch 8 --sparsity 0.8 \
  --iterations 3 --trace "$work/r18-run.swt" --trace-start 2 --trace-count 1 --trace-samples 2 --threads 1 --seed 0 \
  --no-eval --no-progress --quiet
t1=$(date +%s.%N)
r18_layers=$(for s in 1 2 3 4; do for b in 0 1; do for c in 1 2; do printf 'layer%d.%d.conv%d,' $s $b $c; done; done; done)
r18_layers=${r18_layers%,}
"$sw" trace slice "$work/r18-run.swt" --layers "$r18_layers" -o "$work/r18-16.swt" >/dev/null
"$sw" trace export-npy "$work/r18-16.swt" -o "$work/r18" >/dev/null
# DNNsim has one activation per layer; SWAT's sparser saved activation (act_saved) would make swatsim's
# weight-gradient pass use other data, so both simulators get the same act/wgt/grad files
rm -f "$work"/r18/*-act_saved.npy

# the whole ResNet-50 (ImageNet form) iteration at batch 2
"$sw" trace synth --model resnet50-imagenet --samples 2 --sparsity 0.8 -o "$work/r50-iter.swt" >/dev/null

# cycles: one untimed pass through both simulators per workload (it also warms the page cache)
for w in r50 r18; do
  "$sw" trace import-npy "$work/$w" -o "$work/$w.swt" >/dev/null
  "$sw" run --arch "$work/td1.json" --trace "$work/$w.swt" -q --csv "$work/$w-swatsim.csv"
  $py "$refsims/dnnsim_td.py" prepare "$work/$w" "$work/dw-$w" >/dev/null
  (cd "$work/dw-$w" && "$dnnsim" td.batch --quiet >/dev/null)
  $py "$refsims/dnnsim_td.py" parse "$work/dw-$w" -o "$work/$w-dnnsim.csv"
done

dnnsim_commit=unknown
[ -f "$(dirname "$dnnsim")/COMMIT" ] && dnnsim_commit=$(cat "$(dirname "$dnnsim")/COMMIT")
swatsim_commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null | wc -l)
export WORK=$work SW=$sw DNNSIM_BIN=$dnnsim CPU=$cpu ROUNDS=${COMPARE_ROUNDS:-10} OUT=$out \
  PROFILE=${COMPARE_PROFILE:-1} R18_DATA=$r18_data R18_TRAIN_S=$(echo "$t1 - $t0" | bc) \
  DNNSIM_COMMIT=$dnnsim_commit SWATSIM_COMMIT=$swatsim_commit SWATSIM_DIRTY=$dirty \
  SWATSIM_BUILT=$(date -u -r "$bin/swatsim" +%Y-%m-%dT%H:%M:%SZ) \
  SWATSIM_SHA=$(sha256sum "$sw" | cut -c1-12) DNNSIM_SHA=$(sha256sum "$dnnsim" | cut -c1-12) \
  PIN=$([ ${#pin[@]} -gt 0 ] && echo 1 || echo 0)
$py - <<'PY'
import csv, json, os, re, shutil, statistics, subprocess, sys, time
E = os.environ
W, SW, DN, CPU, OUT = E["WORK"], E["SW"], E["DNNSIM_BIN"], E["CPU"], E["OUT"]
ROUNDS = int(E["ROUNDS"])
PIN = ["taskset", "-c", CPU] if E["PIN"] == "1" else []
ARCH = W + "/td1.json"
WL = {"r50": "four ResNet-50 layers, batch 2", "r18": "16 layers of a ResNet-18 run, batch 2 recorded"}


def run_cmd(w, trace, csvp):
    return [SW, "run", "--arch", ARCH, "--trace", trace, "-q", "--timing", "--csv", csvp]


def imp(w, dst):
    return [SW, "trace", "import-npy", W + "/" + w, "-o", dst]


cases = {}
for w in WL:
    cases[w + "/dnnsim"] = [(W + "/dw-" + w, [DN, "td.batch", "--quiet"])]
    cases[w + "/import"] = [(W, imp(w, W + "/t/%s-i.swt" % w))]
    cases[w + "/run"] = [(W, run_cmd(w, W + "/%s.swt" % w, W + "/t/%s-r.csv" % w))]
    cases[w + "/import+run"] = [(W, imp(w, W + "/t/%s-e.swt" % w)),
                                (W, run_cmd(w, W + "/t/%s-e.swt" % w, W + "/t/%s-e.csv" % w))]
cases["r50-iter/run"] = [(W, run_cmd("", W + "/r50-iter.swt", W + "/t/iter.csv"))]
cases["startup/swatsim --version"] = [(W, [SW, "--version"])]
# the same two with the start-up heap preparation off (sim/cli/start_heap.cpp)
NO_PREP = {"SWATSIM_HEAP_PREPARE": "0"}
cases["r50/run, heap preparation off"] = [(W, run_cmd("r50", W + "/r50.swt", W + "/t/r50-r.csv"), NO_PREP)]
cases["startup/swatsim --version, heap preparation off"] = [(W, [SW, "--version"], NO_PREP)]


def one(steps):
    """wall: first fork to last exit; cpu: user+sys of every process; replay: `run --timing`'s own wall."""
    t0, cpu, replay = time.perf_counter(), 0.0, None
    for cwd, argv, *extra in steps:
        env = dict(os.environ, **extra[0]) if extra else None
        p = subprocess.Popen(PIN + argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, ru = os.wait4(p.pid, 0)
        err = p.stderr.read().decode(); p.stderr.close()
        if status != 0 or (argv[0] == DN and err.strip()):
            sys.exit("compare: failed (%d): %s\n%s" % (status, " ".join(argv), err))
        cpu += ru.ru_utime + ru.ru_stime
        m = re.search(r" in ([0-9.e+-]+) s wall", err)
        if m:
            replay = float(m.group(1))
    return time.perf_counter() - t0, cpu, replay


for c in cases:  # one untimed round
    one(cases[c])
raw = []
for i in range(ROUNDS):  # the cases alternate within each round
    for c in cases:
        wall, cpu, replay = one(cases[c])
        raw.append({"round": i, "case": c, "wall_s": wall, "cpu_s": cpu, "replay_s": replay})


def stats(c):
    r = [x for x in raw if x["case"] == c]
    s = {"median_wall_s": statistics.median(x["wall_s"] for x in r), "median_cpu_s": statistics.median(x["cpu_s"] for x in r),
         "min_wall_s": min(x["wall_s"] for x in r), "max_wall_s": max(x["wall_s"] for x in r)}
    if r[0]["replay_s"] is not None:
        s["median_replay_s"] = statistics.median(x["replay_s"] for x in r)
    return s


med = {c: stats(c) for c in cases}
startup = med["startup/swatsim --version"]["median_wall_s"]
startup_off = med["startup/swatsim --version, heap preparation off"]["median_wall_s"]


# cycles, row by row
def layers_csv(w):
    return {r[0]: int(r[1]) for r in csv.reader(open("%s/%s/layers.csv" % (W, w))) if r and not r[0].startswith("#")}


DIFF_WHY = ("stride-2 input gradient: DNNsim splits the transposed convolution into stride^2 sub-kernel convolutions "
            "(`channel_first_dilated_convolution`), which never visit the zeros a dilated dY holds, and so schedules a "
            "different, smaller problem; swatsim follows REFERENCE section 2 (the forward mapping over dY dilated by the "
            "stride, whose inserted zeros TensorDash then skips)")
cyc = {}
for w in WL:
    strides = layers_csv(w)
    d = {(r["layer"], r["pass"]): r for r in csv.DictReader(open("%s/%s-dnnsim.csv" % (W, w)))}
    s = {(r["name"], r["pass"]): r for r in csv.DictReader(open("%s/%s-swatsim.csv" % (W, w)))}
    rows = []
    for k in list(d) + [k for k in s if k not in d]:
        a, b = d.get(k), s.get(k)
        row = {"layer": k[0], "pass": k[1], "stride": strides.get(k[0]),
               "dnnsim_cycles": int(a["cycles"]) if a else None, "dnnsim_base": int(a["base_cycles"]) if a else None,
               "swatsim_cycles": int(b["cycles"]) if b else None, "swatsim_base": int(b["baseline_cycles"]) if b else None}
        row["match"] = bool(a and b) and row["dnnsim_cycles"] == row["swatsim_cycles"] and row["dnnsim_base"] == row["swatsim_base"]
        row["explained"] = row["match"] or (bool(a and b) and k[1] == "input-grad" and (row["stride"] or 1) > 1)
        rows.append(row)
    fwd = {r["name"]: int(r["macs.dense"]) for r in s.values() if r["pass"] == "forward"}
    npass = {}
    for (n, _) in s:
        npass[n] = npass.get(n, 0) + 1
    cyc[w] = {"rows": rows, "matching": sum(r["match"] for r in rows), "total": len(rows),
              "unexplained": [r for r in rows if not r["explained"]],
              "dense_macs": sum(fwd[n] * npass[n] for n in fwd),
              "npy_bytes": sum(os.path.getsize(os.path.join(W, w, f)) for f in os.listdir(os.path.join(W, w)) if f.endswith(".npy")),
              "trace_bytes": os.path.getsize("%s/%s.swt" % (W, w))}
    same = [r for r in rows if r["match"]]
    cyc[w]["matching_totals"] = {"cycles": sum(r["swatsim_cycles"] for r in same), "base": sum(r["swatsim_base"] for r in same)}
iter_macs = sum(int(r["macs.dense"]) for r in csv.DictReader(open(W + "/t/iter.csv")))

# where the time goes: perf self-time profiles (cpu-clock), when perf can record here
prof = {}
if E["PROFILE"] == "1" and shutil.which("perf"):
    def perf(name, cwd, argv, n):
        data = "%s/t/%s.perf" % (W, name)
        loop = "for i in $(seq %d); do %s >/dev/null 2>&1; done" % (n, " ".join(argv))
        r = subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "4999", "-o", data, "--"] + PIN + ["sh", "-c", loop],
                           cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r.returncode != 0:
            return None
        rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "dso,sym", "-q",
                              "--percent-limit", "1.5"], capture_output=True, text=True).stdout
        top = []
        for l in rep.splitlines():
            m = re.match(r"^\s*([0-9.]+)%\s+(\S+)\s+\[(.)\]\s+(.*?)\s*$", l)
            if m:
                sym = m.group(4)
                if sym.startswith("0x"):  # a stripped library: name it by its file
                    sym = "%s+%s" % (m.group(2), hex(int(sym, 16)))
                top.append({"percent": float(m.group(1)), "dso": m.group(2), "symbol": sym})
        return top[:10]
    for w in WL:
        prof[w + "/run"] = perf(w + "-run", W, [SW, "run", "--arch", ARCH, "--trace", "%s/%s.swt" % (W, w), "-q"], 10)
        prof[w + "/import"] = perf(w + "-import", W, imp(w, W + "/t/p.swt"), 10)
    prof["r50/dnnsim"] = perf("r50-dnnsim", W + "/dw-r50", [DN, "td.batch", "--quiet"], 1)
    prof = {k: v for k, v in prof.items() if v}

ratio = {}
for w in WL:
    dn = med[w + "/dnnsim"]
    ratio[w] = {c: {"median_wall": dn["median_wall_s"] / med[w + "/" + c]["median_wall_s"],
                    "median_cpu": dn["median_cpu_s"] / med[w + "/" + c]["median_cpu_s"],
                    "min_over_min": dn["min_wall_s"] / med[w + "/" + c]["min_wall_s"]} for c in ("import", "run", "import+run")}
it = med["r50-iter/run"]
prov = {"date": time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime()), "host_cores": os.cpu_count(), "pinned_cpu": CPU if PIN else None,
        "rounds": ROUNDS, "swatsim_commit": E["SWATSIM_COMMIT"], "swatsim_tracked_files_modified": int(E["SWATSIM_DIRTY"]),
        "swatsim_built": E["SWATSIM_BUILT"], "swatsim_sha256": E["SWATSIM_SHA"], "dnnsim_commit": E["DNNSIM_COMMIT"],
        "dnnsim_sha256": E["DNNSIM_SHA"], "r18_dataset": E["R18_DATA"], "r18_training_s": float(E["R18_TRAIN_S"])}
doc = {"benchmark": "compare", "provenance": prov, "config": json.load(open(ARCH)), "medians": med, "ratios": ratio,
       "targets": {"run_alone_min_ratio": 40, "end_to_end_min_ratio": 20, "r50_iteration_max_s": 1.0},
       "r50_iteration": {"dense_macs": iter_macs, **it}, "cycles": cyc, "profiles": prof, "raw": raw,
       "r50_gen": open(W + "/r50-gen.txt").read()}
os.makedirs(OUT, exist_ok=True)
with open(OUT + "/compare.json.tmp", "w") as f:
    json.dump(doc, f, indent=1)


def ms(x):
    return "%.0f ms" % (1e3 * x) if x < 1 else "%.2f s" % x


def yes(ok):
    return "yes" if ok else "**no**"


L = ["# swatsim vs DNNsim (the TensorDash authors' simulator): speed and cycles", "",
     "Both simulators read the same `.npy` dumps (per layer: input activation, weights, output gradient; float32) and",
     "simulate one TensorDash tile of 4x16 PEs with 16 lanes, lookahead H=2, lookaside D=5, T-shape, all three passes",
     "(no input gradient for the first layer), every sample of the dump. DNNsim (isakedo/DNNsim @%s, serial)"
     % prov["dnnsim_commit"][:7],
     "runs on a working directory laid out by `dnnsim_td.py prepare`; swatsim runs `trace import-npy` (masks only, the",
     "default) and then `run` with the same tile (`%s`). Times are whole processes (fork to exit, start-up included),"
     % json.dumps(doc["config"], separators=(",", ":")),
     "medians of %d rounds in which every case below runs once, in turn, after one untimed round, each process pinned "
     "with `taskset -c %s`; cpu = user + sys. Ratios are DNNsim's median over swatsim's (min/min in brackets)." % (ROUNDS, CPU), "",
     "Regenerate: `DNNSIM=/path/to/DNNsim scripts/bench.sh compare` (DNNsim built by `../shared/refsims/build-dnnsim.sh`;",
     "`REFSIMS=...` if the reference scripts are not in `../shared/refsims`). Without `DNNSIM` the script skips. This run:",
     "`DNNSIM=%s bash scripts/bench.d/compare.sh build/bin results/perf`, %s, %d cores; swatsim %s (%s tracked files "
     "modified; binary built %s, sha256 %s...), DNNsim sha256 %s...." % (DN, prov["date"], prov["host_cores"], prov["swatsim_commit"],
                                                        prov["swatsim_tracked_files_modified"], prov["swatsim_built"],
                                                        prov["swatsim_sha256"], prov["dnnsim_sha256"]), "",
     "## Summary", "",
     "| workload | dense MACs | DNNsim | import | run | import + run | DNNsim / run (target >= 40x) | DNNsim / (import + run) (target >= 20x) | cycles agree |",
     "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
for w in WL:
    c = cyc[w]
    L.append("| %s | %.3g | %s | %s | %s | %s | **%.1fx** (%.1fx) | **%.1fx** (%.1fx) | %d/%d rows%s |" % (
        WL[w], c["dense_macs"], ms(med[w + "/dnnsim"]["median_wall_s"]), ms(med[w + "/import"]["median_wall_s"]),
        ms(med[w + "/run"]["median_wall_s"]), ms(med[w + "/import+run"]["median_wall_s"]),
        ratio[w]["run"]["median_wall"], ratio[w]["run"]["min_over_min"],
        ratio[w]["import+run"]["median_wall"], ratio[w]["import+run"]["min_over_min"], c["matching"], c["total"],
        "" if not c["unexplained"] else ", %d unexplained" % len(c["unexplained"])))
L += ["", "Whole ResNet-50 (ImageNet form) iteration at batch 2: `swatsim trace synth --model resnet50-imagenet --samples 2",
      "--sparsity 0.8`, then `swatsim run` with the same tile, ideal memory, three passes (%.3g dense MACs): **%s** median"
      % (iter_macs, ms(it["median_wall_s"])),
      "whole process (min %s, max %s; replay alone %s as `--timing` reports it). Target: under 1 s: %s." % (
          ms(it["min_wall_s"]), ms(it["max_wall_s"]), ms(it["median_replay_s"]), yes(it["median_wall_s"] < 1.0))]

for w, title, how in (
        ("r50", "Workload 1: four ResNet-50 layers at batch 2",
         "`gen_r50_layers.py` (fixed seed): conv1 (stride 2, dense image input), layer1.0.conv2, layer3.0.conv2 and "
         "layer4.0.conv2 (stride 1); weights 80% sparse (top-K), activations about 50% zeros, dense output gradients."),
        ("r18", "Workload 2: 16 layers of a ResNet-18 run",
         "`swat-train --model resnet18 --dataset %s --input-size 32 --batch 8 --sparsity 0.8 --iterations 3 --trace "
         "R.swt --trace-start 2 --trace-count 1 --threads 1 --seed 0` (%.1f s on one core), then `swatsim trace slice "
         "R.swt --layers layer1.0.conv1,...,layer4.1.conv2` (the 16 3x3 convolutions of the residual blocks: ResNet-18 "
         "less its stem conv and fc; the three 1x1 shortcut convolutions left out too) and `swatsim trace export-npy` "
         "(masks written as 0/1 float32; two samples). The exported `*-act_saved.npy` files are deleted: DNNsim has one "
         "activation per layer, and with them swatsim's weight-gradient pass would use SWAT's sparser saved activation. "
         "Three of the layers have stride 2." % (E["R18_DATA"], float(E["R18_TRAIN_S"])))):
    c = cyc[w]
    L += ["", "## " + title, "", how + " Dump: %.1f MB of .npy; swatsim trace (masks only): %.2f MB."
          % (c["npy_bytes"] / 1e6, c["trace_bytes"] / 1e6), "",
          "| case | median wall | median cpu | min .. max wall | `run --timing` replay | DNNsim / this (wall, cpu, min/min) |",
          "|---|---:|---:|---:|---:|---:|"]
    for k in ("dnnsim", "import", "run", "import+run"):
        m = med[w + "/" + k]
        name = {"dnnsim": "DNNsim `td.batch`", "import": "`swatsim trace import-npy`", "run": "`swatsim run`",
                "import+run": "import-npy, then run"}[k]
        rr = "" if k == "dnnsim" else "%.1fx, %.1fx, %.1fx" % (ratio[w][k]["median_wall"], ratio[w][k]["median_cpu"], ratio[w][k]["min_over_min"])
        L.append("| %s | %s | %s | %s .. %s | %s | %s |" % (name, ms(m["median_wall_s"]), ms(m["median_cpu_s"]), ms(m["min_wall_s"]),
                                                            ms(m["max_wall_s"]), ms(m["median_replay_s"]) if "median_replay_s" in m else "",
                                                            rr))

L += ["", "## Cycle agreement", "",
      "Per layer and pass, sparse cycles and dense baseline (`base`) cycles as DNNsim reports them (samples summed) against",
      "swatsim's `cycles` and `baseline_cycles` from the same tile. Differing rows are listed with the reason.", ""]
for w in WL:
    c = cyc[w]
    L.append("**%s**: %d of %d rows identical (cycles and base); over those rows %d sparse / %d dense cycles (%.3fx)."
             % (WL[w], c["matching"], c["total"], c["matching_totals"]["cycles"], c["matching_totals"]["base"],
                c["matching_totals"]["base"] / max(1, c["matching_totals"]["cycles"])))
    L.append("")
    show = c["rows"] if w == "r50" else [r for r in c["rows"] if not r["match"]]
    if show:
        L += ["| layer | pass | stride | DNNsim cycles | swatsim cycles | DNNsim base | swatsim base | same |", "|---|---|---:|---:|---:|---:|---:|---|"]
        for r in show:
            L.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (r["layer"], r["pass"], r["stride"], r["dnnsim_cycles"], r["swatsim_cycles"],
                                                                r["dnnsim_base"], r["swatsim_base"], "yes" if r["match"] else ("no, see below" if r["explained"] else "**NO, unexplained**")))
        L.append("")
if any(not r["match"] and r["explained"] for w in WL for r in cyc[w]["rows"]):
    L += ["Rows that differ by design: " + DIFF_WHY + ". DNNsim's cycles equal its base there (no zeros to skip in dense "
          "gradients); swatsim's baseline is stride^2 times the forward pass's and its sparse cycles come from skipping the "
          "inserted zeros. `../shared/refsims/README.md` warns about these rows.", ""]
for w in WL:
    for r in cyc[w]["unexplained"]:
        L.append("**Unexplained difference** (%s): %s %s: DNNsim %s/%s, swatsim %s/%s." % (w, r["layer"], r["pass"], r["dnnsim_cycles"],
                                                                                       r["dnnsim_base"], r["swatsim_cycles"], r["swatsim_base"]))

L += ["", "## Where the time goes", ""]
for w in WL:
    m = med
    run, rep, imp_, e2e = m[w + "/run"]["median_wall_s"], m[w + "/run"]["median_replay_s"], m[w + "/import"]["median_wall_s"], m[w + "/import+run"]["median_wall_s"]
    L.append("- %s: `run` %s = replay %s (`--timing`: reading the trace and simulating) + %s process start-up, exit and "
             "reports; process start-up alone (`swatsim --version`) is %s. import-npy is %.0f%% of import + run, and end to "
             "end pays the start-up twice." % (WL[w], ms(run), ms(rep), ms(run - rep), ms(startup), 100 * imp_ / e2e))
L.append("- Start-up heap preparation (sim/cli/start_heap.cpp: blocks up to 64 MB from the heap, its first 8 MB "
         "populated at once as huge pages, before libsystemc's constructors zero their 3 MB): `swatsim --version` %s "
         "with it, %s without (`SWATSIM_HEAP_PREPARE=0`); the four-layer ResNet-50 `run` %s with it, %s without "
         "(DNNsim / run %.1fx without)." % (ms(startup), ms(startup_off), ms(med["r50/run"]["median_wall_s"]),
                                           ms(med["r50/run, heap preparation off"]["median_wall_s"]),
                                           med["r50/dnnsim"]["median_wall_s"] / med["r50/run, heap preparation off"]["median_wall_s"]))
if prof:
    L += ["", "Self time by function (`perf record -e cpu-clock`, 10 back-to-back processes pinned like the timings; "
          "`[k]` kernel; functions above 1.5%):", ""]
    for k, top in prof.items():
        L.append("- %s: " % k + "; ".join("%.1f%% %s%s" % (t["percent"], "[k] " if t["dso"].startswith("[kernel") else "",
                                                             (t["symbol"] if len(t["symbol"]) < 70 else t["symbol"][:67] + "...")) for t in top))
else:
    L.append("- (no perf profile: perf missing, not permitted here, or COMPARE_PROFILE=0)")
L += ["", "Raw rows, medians, per-row cycles and profiles: `compare.json`."]
with open(OUT + "/compare.md.tmp", "w") as f:
    f.write("\n".join(L) + "\n")
os.replace(OUT + "/compare.json.tmp", OUT + "/compare.json")
os.replace(OUT + "/compare.md.tmp", OUT + "/compare.md")
if any(cyc[w]["unexplained"] for w in WL):
    print("compare: cycles differ in rows that no known mapping difference explains (see compare.md)", file=sys.stderr)
    sys.exit(1)
PY
cat "$out/compare.md"
