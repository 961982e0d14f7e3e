#!/usr/bin/python3
"""Writes DRAM request traces ('0xADDRESS READ|WRITE CYCLE' per line, the form swatsim dram,
DRAMsim3 and Ramulator read) for the tests and benchmarks.

  dram-traces.py KIND -n N -o OUT [--interval C] [--span BYTES] [--write-fraction F] [--seed S]

KIND: seq-read, seq-write (consecutive 64-byte bursts from 0), random-read (uniform over --span,
default 1 GiB, burst-aligned), mix (random over --span, each a write with probability
--write-fraction, default 1/3). Request i has cycle i * C (default C = 0: every request is ready at
cycle 0 and enters as fast as the memory takes it). --dramsim3-tail appends a line whose cycle is
never reached, which DRAMsim3's trace reader needs to read the last real line (see
../shared/refsims/README.md); swatsim reads it as one more request, so use it only for DRAMsim3.
Deterministic: the same arguments give the same file. Needs numpy (Debian python3-numpy).
"""
import argparse
import os
import sys

import numpy as np

BURST = 64


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("kind", choices=["seq-read", "seq-write", "random-read", "mix"])
    ap.add_argument("-n", type=int, required=True, help="number of requests")
    ap.add_argument("-o", "--out", required=True, help="output file")
    ap.add_argument("--interval", type=int, default=0, help="cycles between requests (default 0)")
    ap.add_argument("--span", type=int, default=1 << 30, help="bytes the random streams cover (default 1 GiB)")
    ap.add_argument("--write-fraction", type=float, default=1 / 3, help="mix: probability of a write")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dramsim3-tail", action="store_true", help="append a never-reached line (for DRAMsim3)")
    a = ap.parse_args(argv)
    if a.n < 1 or a.interval < 0 or a.span < BURST or not 0 <= a.write_fraction <= 1:
        ap.error("expected -n >= 1, --interval >= 0, --span >= 64 and 0 <= --write-fraction <= 1")
    rng = np.random.default_rng(a.seed)
    if a.kind.startswith("seq"):
        addresses = np.arange(a.n, dtype=np.uint64) * BURST
    else:
        addresses = rng.integers(0, a.span // BURST, size=a.n, dtype=np.uint64) * BURST
    writes = np.full(a.n, a.kind == "seq-write")
    if a.kind == "mix":
        writes = rng.random(a.n) < a.write_fraction
    cycles = np.arange(a.n, dtype=np.uint64) * a.interval
    kinds = np.where(writes, "WRITE", "READ")
    lines = [f"0x{int(x):x} {k} {int(c)}" for x, k, c in zip(addresses, kinds, cycles)]
    if a.dramsim3_tail:
        lines.append(f"0x0 READ {int(cycles[-1]) + 10**15}")
    tmp = f"{a.out}.tmp.{os.getpid()}"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
