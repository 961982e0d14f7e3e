#!/usr/bin/python3
"""Kept for scripts that import it: the trace reader lives in python/swatsim/trace.py (swatsim.trace).

    python3 scripts/swattrace.py TRACE      # per-layer densities of the first recorded iteration
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from swatsim.trace import ENTRY, TENSORS, Trace, TraceError  # noqa: E402,F401

if __name__ == "__main__":
    t = Trace(sys.argv[1])
    print(f"{t.header['model']} on {t.header['dataset']}: {len(t.layers)} layers, iterations {t.iterations}")
    for i, l in enumerate(t.layers):
        dens = []
        for k in TENSORS:
            key = (t.iterations[0], i, TENSORS.index(k))
            dens.append(f"{k}={t.mask(*key).mean():.3f}" if key in t._by_key else f"{k}=-")
        print(f"  {l['name']:<20} " + " ".join(dens))
