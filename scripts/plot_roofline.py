#!/usr/bin/python3
"""Roofline of a `swatsim run` report with a memory hierarchy (matplotlib, PNG and SVG):

  plot_roofline.py REPORT.json [--out PREFIX]

One point per layer and pass for each design in the report (the accelerator, its baseline and, if
named, the dense reference): x = operational intensity, the layer's MACs (`macs.dense`, the same work
for every design) per DRAM byte (reads and writes); y = the layer's MACs per cycle. The roofs are
each design's peak MACs per cycle (tiles x multipliers, from `utilization`) and the DRAM's peak
bandwidth (bytes per accelerator cycle, from `dram.peak_cycles`): a point under the slanted roof is
memory-bound, one under the flat roof compute-bound. A sparse design can rise above its flat roof:
it does the layer's work with fewer multiplications. Writes PREFIX.png and PREFIX.svg (default: the report's name without
.json, plus -roofline). Needs Debian's python3-matplotlib.
"""
import argparse
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams["svg.hashsalt"] = "swatsim"  # deterministic SVG ids

DESIGNS = (("", "accelerator", "tab:blue"), ("baseline.", "baseline", "tab:orange"),
           ("reference.", "dense reference", "tab:green"))
PASSES = {"forward": "o", "input-grad": "s", "weight-grad": "^"}  # marker per pass, colour per design


def fail(message):
    """One line on stderr and exit status 2, as every swatsim command does for bad input."""
    print(f"plot_roofline.py: {message}", file=sys.stderr)
    sys.exit(2)


def number(row, key):
    """A finite positive number, else None (missing, wrong type, NaN, zero)."""
    v = row.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
        return None
    return float(v)


def points(rows, prefix):
    """(intensity, attained, pass, peak MACs/cycle, peak bytes/cycle) of every row with traffic."""
    out = []
    for r in rows:
        if not isinstance(r, dict):
            continue
        cycles = number(r, prefix + "cycles" if prefix != "baseline." else "baseline_cycles")
        work, effectual = number(r, prefix + "macs.dense"), number(r, prefix + "macs.effectual")
        reads, writes = number(r, prefix + "dram.read_bytes"), number(r, prefix + "dram.write_bytes")
        util, peak_cycles = number(r, prefix + "utilization"), number(r, prefix + "dram.peak_cycles")
        dram = (reads or 0) + (writes or 0)
        if not (cycles and work and effectual and dram and util and peak_cycles):
            continue
        out.append((work / dram, work / cycles, str(r.get("pass")), effectual / (util * cycles), dram / peak_cycles))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("report")
    ap.add_argument("--out", help="output prefix (default: REPORT without .json, plus -roofline)")
    a = ap.parse_args()
    try:
        with open(a.report) as f:
            rep = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{a.report}: expected a swatsim run JSON report ({e.__class__.__name__}: {e})".replace("\n", " "))
    if not isinstance(rep, dict) or not isinstance(rep.get("rows"), list):
        fail(f"{a.report}: expected a swatsim run JSON report (an object with a list of rows)")
    rows = rep["rows"]
    prefix = a.out or (a.report[:-5] if a.report.endswith(".json") else a.report) + "-roofline"
    fig, ax = plt.subplots(figsize=(10, 5.5))
    xs_all = []
    plotted = 0
    roofs = {}  # (peak, bandwidth) -> designs with that roof: drawn once
    for key, label, colour in DESIGNS:
        pts = points(rows, key)
        if not pts:
            continue
        plotted += 1
        for p, marker in PASSES.items():
            sel = [q for q in pts if q[2] == p]
            if sel:
                ax.scatter([q[0] for q in sel], [q[1] for q in sel], marker=marker, s=24, color=colour,
                           alpha=0.7, label=f"{label}, {p}")
        peak, bw = round(max(q[3] for q in pts)), round(max(q[4] for q in pts), 1)
        xs_all += [q[0] for q in pts]
        roofs.setdefault((peak, bw), []).append((label, colour))
    if not plotted:
        fail(f"{a.report}: no row with DRAM traffic and cycles (a roofline needs a simulated memory hierarchy)")
    lo, hi = min(xs_all) / 2, max(xs_all) * 2
    for (peak, bw), who in roofs.items():
        knee = peak / bw
        roof_x = [lo] + ([knee] if lo < knee < hi else []) + [hi]
        ax.plot(roof_x, [min(peak, bw * x) for x in roof_x], color=who[0][1] if len(who) == 1 else "black", lw=1.2,
                ls="--", label=f"roof of {', '.join(w[0] for w in who)}: {peak:.0f} MACs/cycle, {bw:.1f} B/cycle")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("operational intensity (the layer's MACs per DRAM byte)")
    ax.set_ylabel("attained: the layer's MACs per cycle")
    cfg = rep.get("config") if isinstance(rep.get("config"), dict) else {}
    ax.set_title(f"Roofline: {cfg.get('name', '?')} on {os.path.basename(str(rep.get('trace', '?')))} "
                 "(one point per layer and pass)", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    for ext in ("png", "svg"):
        try:
            fig.savefig(f"{prefix}.{ext}", dpi=130)
        except OSError as e:
            fail(f"--out: cannot write {prefix}.{ext}: {e.strerror or e}")
    print(f"wrote {prefix}.png and {prefix}.svg")


if __name__ == "__main__":
    main()
