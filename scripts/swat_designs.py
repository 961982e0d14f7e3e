#!/usr/bin/python3
"""Which TensorDash-like designs reproduce SWAT's published speedups (issue 13, section 2)?

Reads a `swatsim sweep` directory whose traces are SWAT runs at 80% and 90% sparsity, computes per
design the forward speedup (forward baseline cycles / cycles) and the backward speedup (input-grad plus
weight-grad baseline cycles / cycles) at each sparsity, and ranks the designs by their distance to the
poster's four numbers (forward / backward 3.3 / 3.4 at 80%, 5.6 / 6.3 at 90%): the root mean square
of the relative errors. Writes OUT/designs.csv and prints the table.

    scripts/swat_designs.py SWEEP_DIR --out results/designs
"""
import argparse
import csv
import math
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
from swatsim import results  # noqa: E402
from swatsim import trace as swtrace  # noqa: E402

PUBLISHED = {(0.8, "forward"): 3.3, (0.8, "backward"): 3.4, (0.9, "forward"): 5.6, (0.9, "backward"): 6.3}


def rank(sweep):
    """[(distance, {axis: value}, {(sparsity, direction): speedup})] for every design of a sweep directory
    whose traces hold 80% and 90% runs, closest first."""
    rows = results.load_sweep(sweep)
    axes = [c for c in rows.columns if c.startswith("/")]
    # Trace paths are as the sweep file wrote them: relative to that file's directory.
    import json
    sweep_file = json.load(open(os.path.join(sweep, "sweep.json"))).get("sweep_file", "")
    base = os.path.dirname(os.path.abspath(sweep_file)) if sweep_file else os.getcwd()
    where = lambda t: t if os.path.isabs(t) else os.path.join(base, t)  # noqa: E731
    sparsity = {t: round(swtrace.Trace(where(t)).header["swat"]["sparsity"], 3) for t in rows["trace"].unique()}
    rows["sparsity"] = rows["trace"].map(sparsity).astype(float)
    rows["direction"] = rows["pass"].map({"forward": "forward", "input-grad": "backward", "weight-grad": "backward"})
    g = rows.groupby(axes + ["sparsity", "direction"], observed=True)[["cycles", "baseline_cycles"]].sum()
    g["speedup"] = g["baseline_cycles"] / g["cycles"]
    designs = []
    for key, sub in g.groupby(level=list(range(len(axes)))):
        key = key if isinstance(key, tuple) else (key,)
        got, errs = {}, []
        for (s, d), want in PUBLISHED.items():
            idx = key + (s, d)
            if idx in sub.index:
                got[(s, d)] = float(sub.loc[idx, "speedup"])
                errs.append((got[(s, d)] - want) / want)
        if len(errs) == len(PUBLISHED):
            designs.append((math.sqrt(sum(e * e for e in errs) / len(errs)), dict(zip(axes, key)), got))
    designs.sort(key=lambda x: x[0])
    return designs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sweep")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    designs = rank(a.sweep)
    axes = list(designs[0][1]) if designs else []
    header = axes + ["fwd80", "bwd80", "fwd90", "bwd90", "distance"]
    table = [[*(str(v) for v in key.values()), *(f"{got[k]:.3f}" for k in PUBLISHED), f"{dist:.4f}"]
             for dist, key, got in designs]
    print(" ".join(f"{h:>14}" for h in header))
    print(" ".join(f"{'published':>14}" for _ in axes), *(f"{v:>14.3f}" for v in PUBLISHED.values()))
    for r in table:
        print(" ".join(f"{x:>14}" for x in r))
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        with open(os.path.join(a.out, "designs.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(table)


if __name__ == "__main__":
    main()
