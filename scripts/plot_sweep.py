#!/usr/bin/python3
"""Plots of a sweep directory (matplotlib, PNG and SVG):

  plot_sweep.py DIR [--out OUTDIR] [--point N] [--x COLUMN --y COLUMN] [--x-better min|max] [--y-better min|max]

- speedup.{png,svg}: total speedup of every design point, one bar group per point, one bar per trace.
- layers.{png,svg}: speedup per layer and pass of one point (--point, default: the fastest point on
  the first trace).
- pareto.{png,svg}: every (point, trace) by two metrics of totals.csv and their Pareto front. Default
  x = cycles (lower is better) and y = energy.total_pj (lower) when the sweep reports energy, else
  y = the hardware's peak MACs per cycle, i.e. its multipliers (lower is cheaper): speed vs cost.
OUTDIR defaults to DIR. Needs Debian's python3-matplotlib and python3-pandas; swatsim.results comes
from python/ next to this script.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from swatsim import results  # noqa: E402

plt.rcParams["svg.hashsalt"] = "swatsim"  # deterministic SVG ids


def save(fig, out, name):
    for ext in ("png", "svg"):
        path = os.path.join(out, f"{name}.{ext}")
        tmp = f"{path}.tmp.{os.getpid()}.{ext}"
        fig.savefig(tmp, dpi=120, bbox_inches="tight", metadata={"Date": None} if ext == "svg" else {"Software": None})
        os.replace(tmp, path)
    plt.close(fig)


def label(row, axes):
    return ", ".join(f"{a.rsplit('/', 1)[-1]}={row[a]}" for a in axes) or f"point {row['point']}"


def pareto(points, x_better, y_better):
    """Indices of the points no other point beats on both metrics."""
    sx = 1 if x_better == "min" else -1
    sy = 1 if y_better == "min" else -1
    order = sorted(range(len(points)), key=lambda i: (sx * points[i][0], sy * points[i][1]))
    front, best = [], None
    for i in order:
        y = sy * points[i][1]
        if best is None or y < best:
            front.append(i)
            best = y
    return front


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--out")
    ap.add_argument("--point", type=int)
    ap.add_argument("--x", default="cycles")
    ap.add_argument("--y")
    ap.add_argument("--x-better", choices=["min", "max"], default="min")
    ap.add_argument("--y-better", choices=["min", "max"])
    a = ap.parse_args(argv)
    out = a.out or a.dir
    os.makedirs(out, exist_ok=True)
    totals = results.load_totals(a.dir)
    rows = results.load_sweep(a.dir)
    axes = [c for c in totals.columns if c.startswith("/")]
    if totals.empty:
        sys.exit(f"{a.dir}: no finished tasks to plot")
    traces = list(totals["trace"].cat.categories)

    # speedup per design point
    points = totals.drop_duplicates("point").sort_values("point")
    fig, ax = plt.subplots(figsize=(max(6, 0.25 * len(points) * len(traces)), 4))
    width = 0.8 / len(traces)
    for k, t in enumerate(traces):
        sub = totals[totals["trace"] == t].sort_values("point")
        ax.bar(sub["point"] + k * width, sub["speedup"], width, label=t)
    ax.set_xticks(points["point"] + 0.4 - width / 2)
    ax.set_xticklabels([label(r, axes) for _, r in points.iterrows()], rotation=90, fontsize=6)
    ax.set_ylabel("speedup over the baseline (all passes)")
    ax.set_title("speedup per design point")
    ax.legend(fontsize=7)
    save(fig, out, "speedup")

    # per-layer breakdown of one point
    first = totals[totals["trace"] == traces[0]]
    point = a.point if a.point is not None else int(first.loc[first["cycles"].idxmin(), "point"])
    sub = rows[(rows["point"] == point) & (rows["trace"] == traces[0])]
    per = sub.groupby(["layer", "name", "pass"], observed=True)[["cycles", "baseline_cycles"]].sum().reset_index()
    fig, ax = plt.subplots(figsize=(max(6, 0.5 * per["layer"].nunique()), 4))
    passes = list(per["pass"].unique())
    layers = sorted(per["layer"].unique())
    w = 0.8 / max(1, len(passes))
    for k, p in enumerate(passes):
        q = per[per["pass"] == p]
        ax.bar([layers.index(l) + k * w for l in q["layer"]], q["baseline_cycles"] / q["cycles"], w, label=str(p))
    names = per.drop_duplicates("layer").sort_values("layer")["name"]
    ax.set_xticks([i + 0.4 - w / 2 for i in range(len(layers))])
    ax.set_xticklabels(names, rotation=90, fontsize=7)
    ax.set_ylabel("speedup")
    ax.set_title(f"point {point} ({label(points[points['point'] == point].iloc[0], axes)}), {traces[0]}")
    ax.legend(fontsize=7)
    save(fig, out, "layers")

    # Pareto front of two metrics
    if a.y:
        y, y_better, ylabel = a.y, a.y_better or "min", a.y
        yv = totals[y]
    elif "energy.total_pj" in totals.columns:
        y, y_better, ylabel = "energy.total_pj", a.y_better or "min", "energy (pJ)"
        yv = totals[y]
    else:
        # peak MACs = macs.effectual / utilization, over the cycles: the multipliers of the design
        y, y_better, ylabel = "peak_macs_per_cycle", a.y_better or "min", "peak MACs per cycle (multipliers)"
        yv = (totals["macs.effectual"] / totals["utilization"] / totals["cycles"]).round()
    xv = totals[a.x]
    pts = list(zip(xv, yv))
    front = pareto(pts, a.x_better, y_better)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.scatter(xv, yv, s=12, alpha=0.6, label="design points")
    fx = [pts[i] for i in front]
    ax.plot([p[0] for p in fx], [p[1] for p in fx], "r.-", label="Pareto front")
    ax.set_xlabel(a.x)
    ax.set_ylabel(ylabel)
    ax.set_title("design space")
    ax.legend(fontsize=7)
    save(fig, out, "pareto")
    print(f"wrote speedup, layers and pareto (.png, .svg) to {out}; Pareto front: "
          + ", ".join(str(int(totals.iloc[i]["point"])) for i in front))


if __name__ == "__main__":
    main()
