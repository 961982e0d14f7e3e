"""One trace specification, two readers: a corpus of hostile traces (built here from the bundled sample,
with valid checksums so that every check behind them is reached, plus the fuzzers' seeds and findings)
goes through `swatsim trace validate` and through swatsim.trace's Trace(...).validate(). A file the C++
validator refuses is a TraceError in Python and one it accepts reads in Python; Python raises no other
exception type. Run by ctest with /usr/bin/python3 -m pytest; SWATSIM and SWATSIM_SRC name the binary
and the source tree."""
import copy
import glob
import json
import os
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest

SRC = os.environ["SWATSIM_SRC"]
SWATSIM = os.environ["SWATSIM"]
sys.path.insert(0, os.path.join(SRC, "python"))
from swatsim import trace  # noqa: E402

SAMPLE = os.path.join(SRC, "traces/samples/sample.swt")


def split(data):
    """(header text, blobs, index entries, footer fields) of a trace's bytes."""
    _, header_len, _, _ = struct.unpack("<4I", data[8:24])
    header = data[24:24 + header_len]
    index_offset, count, _, _ = struct.unpack("<QQII", data[-32:-8])
    blobs = data[24 + header_len:index_offset]
    index = np.frombuffer(data[index_offset:index_offset + count * 64], dtype=trace.ENTRY).copy()
    return header, blobs, index


def join(header, blobs, index, fix_offsets=True, pre_reserved=0, foot_reserved=0, count=None, version=1):
    """Bytes of a trace with every checksum right (so the checks behind them are reached)."""
    index = index.copy()
    base = 24 + len(header)
    if fix_offsets:
        old_base = int(index["offset"][0]) if len(index) else base
        index["offset"] = index["offset"] - np.uint64(old_base) + np.uint64(base)
    raw_index = index.tobytes()
    pre = trace.MAGIC + struct.pack("<4I", version, len(header), zlib.crc32(header), pre_reserved)
    index_offset = base + len(blobs)
    foot = struct.pack("<QQII", index_offset, len(index) if count is None else count, zlib.crc32(raw_index),
                       foot_reserved) + trace.END_MAGIC
    return pre + header + blobs + raw_index + foot


def header_json(h):
    return json.dumps(h, sort_keys=True, separators=(",", ":")).encode()


def corpus(tmp):
    data = open(SAMPLE, "rb").read()
    header, blobs, index = split(data)
    h = json.loads(header)
    cases = {"sample": data}

    def with_header(name, edit):
        g = copy.deepcopy(h)
        edit(g)
        cases[name] = join(header_json(g), blobs, index)

    def set_layer(key, value, layer=1):
        return lambda g: g["layers"][layer].__setitem__(key, value)

    for key, value in [("K", 0), ("stride", 0), ("groups", 0), ("groups", 3), ("Ho", 999), ("N", -1), ("N", 1.5),
                       ("N", True), ("N", "3"), ("N", 2 ** 32), ("name", "a b"), ("name", "."), ("name", "x" * 256),
                       ("name", "é"), ("kind", "fc"), ("tensors", ["input_act", "output_grad"]),
                       ("tensors", ["input_act", "weight", "weight", "output_grad"]), ("tensors", "input_act"),
                       ("tensors", ["input_act", "weight", "output_grad", "bias"]), ("extra", 1), ("padding", 2 ** 20),
                       ("H", 2 ** 21), ("R", 5000), ("stride", 2 ** 21)]:
        with_header(f"layer-{key}-{str(value)[:12]}", set_layer(key, value))
    with_header("duplicate-layer-name", lambda g: g["layers"][1].__setitem__("name", g["layers"][0]["name"]))
    with_header("layers-not-a-list", lambda g: g.__setitem__("layers", {}))
    with_header("no-model", lambda g: g.pop("model"))
    with_header("extra-top-key", lambda g: g.__setitem__("extra", 1))
    with_header("header-version-2", lambda g: g.__setitem__("version", 2))
    with_header("format", lambda g: g.__setitem__("format", "other"))
    with_header("producer-extra", lambda g: g["producer"].__setitem__("x", 1))
    with_header("seed-2^64", lambda g: g.__setitem__("seed", 2 ** 64))
    with_header("batch-negative", lambda g: g.__setitem__("batch_size", -1))
    with_header("sparsity-1", lambda g: g["swat"].__setitem__("sparsity", 1.0))
    with_header("sparsity-string", lambda g: g["swat"].__setitem__("sparsity", "0.5"))
    with_header("topk-0", lambda g: g["swat"].__setitem__("topk_period", 0))
    with_header("distribution", lambda g: g["swat"].__setitem__("distribution", "x"))
    with_header("sparsify-first-int", lambda g: g["swat"].__setitem__("sparsify_first", 1))
    with_header("swat-missing", lambda g: g.pop("swat"))
    with_header("deep-but-legal-extra", lambda g: g.__setitem__("extra", json.loads("[" * 100 + "]" * 100)))
    text = header_json(h)
    raw_cases = {
        "duplicate-key": text[:-1] + b',"model":"again"}',
        "nested-200": text[:-1] + b',"extra":' + b"[" * 200 + b"]" * 200 + b"}",
        "nested-100000": text[:-1] + b',"extra":' + b"[" * 100000 + b"]" * 100000 + b"}",
        "nan": text.replace(b'"seed":', b'"seed":NaN,"x":'),
        "1e400": text.replace(b'"seed":', b'"seed":1e400,"x":'),
        "bad-utf8": text.replace(b'"model":"', b'"model":"\xff'),
        "trailing": text + b"x",
        "not-json": b"{",
    }
    for name, raw in raw_cases.items():
        cases["raw-" + name] = join(raw, blobs, index)

    def with_index(name, edit, **kw):
        i = index.copy()
        edit(i)
        cases["index-" + name] = join(header, blobs, i, **kw)

    with_index("nnz+1", lambda i: i["nnz"].__setitem__(0, i["nnz"][0] + 1))
    with_index("nnz-huge", lambda i: i["nnz"].__setitem__(0, 2 ** 62))
    with_index("shape", lambda i: i["shape"][0].__setitem__(0, i["shape"][0][0] + 1))
    with_index("layer", lambda i: i["layer"].__setitem__(0, 200))
    with_index("kind", lambda i: i["kind"].__setitem__(0, 7))
    with_index("values", lambda i: i["values"].__setitem__(0, 3))
    with_index("codec", lambda i: i["codec"].__setitem__(0, 2))
    with_index("reserved", lambda i: i["reserved"][0].__setitem__(1, 1))
    with_index("raw-size", lambda i: i["raw_size"].__setitem__(0, i["raw_size"][0] + 1))
    with_index("unsorted", lambda i: i.__setitem__(slice(0, 2), i[1::-1].copy()), fix_offsets=False)
    with_index("duplicate", lambda i: i.__setitem__(1, i[0]), fix_offsets=False)
    with_index("offset", lambda i: i["offset"].__setitem__(1, i["offset"][1] + 1), fix_offsets=False)
    with_index("stored-size", lambda i: i["stored_size"].__setitem__(0, i["stored_size"][0] + 1))
    cases["footer-reserved"] = join(header, blobs, index, foot_reserved=1)
    cases["preamble-reserved"] = join(header, blobs, index, pre_reserved=1)
    cases["footer-count"] = join(header, blobs, index, count=len(index) + 1)
    cases["version-2"] = join(header, blobs, index, version=2)
    cases["no-index"] = join(header, blobs, index[:0])
    cases["missing-tensor"] = join(header, blobs[int(index["stored_size"][0]):], index[1:])

    # Blob damage with the entry's checksum fixed: a bit past the last element, a count that disagrees.
    def with_blob(name, k, edit):
        e = index[k]
        off = int(e["offset"]) - (24 + len(header))
        stored = bytearray(blobs[off:off + int(e["stored_size"])])
        raw = bytearray(zlib.decompress(bytes(stored)) if int(e["codec"]) == 1 else bytes(stored))
        edit(raw, e)
        packed = bytes(raw) if int(e["codec"]) == 0 else zlib.compress(bytes(raw))
        i = index.copy()
        i["crc32"][k] = zlib.crc32(packed)
        i["stored_size"][k] = len(packed)
        cases["blob-" + name] = join(header, blobs[:off] + packed + blobs[off + int(e["stored_size"]):], i)

    numel = [int(np.prod(e["shape"].astype(np.uint64))) for e in index]
    tail = next(k for k in range(len(index)) if numel[k] % 8)

    def past_end(raw, e):
        raw[(numel[tail] + 7) // 8 - 1] |= 0x80

    with_blob("bit-past-end", tail, past_end)
    with_blob("nnz-disagrees", 0, lambda raw, e: raw.__setitem__(0, raw[0] ^ 1))
    with_blob("not-deflate", 0, lambda raw, e: None)  # recompressed: still valid (both readers accept)

    # Truncations at many lengths.
    for n in sorted({1, 8, 23, 24, 100, len(header) + 24, len(data) // 2, len(data) - 33, len(data) - 32,
                     len(data) - 1} | set(range(0, len(data), max(1, len(data) // 40)))):
        cases[f"truncated-{n}"] = data[:n]
    # The fuzzers' trace seeds and every finding kept as a regression.
    for p in sorted(glob.glob(os.path.join(SRC, "tests/fuzz/corpus/trace/*")) +
                    glob.glob(os.path.join(SRC, "tests/fuzz/regressions/trace/*"))):
        cases["fuzz-" + os.path.basename(p)] = open(p, "rb").read()
    paths = {}
    for name, body in cases.items():
        path = os.path.join(tmp, name.replace("/", "_") + ".swt")
        open(path, "wb").write(body)
        paths[name] = path
    return paths


def python_verdict(path):
    try:
        trace.Trace(path).validate()
    except trace.TraceError as e:
        return False, str(e)
    return True, ""


def test_both_readers_refuse_the_same_traces(tmp_path):
    paths = corpus(str(tmp_path))
    assert len(paths) > 90
    mismatches, refused = [], 0
    for name, path in paths.items():
        c = subprocess.run([SWATSIM, "trace", "validate", path], capture_output=True, text=True)
        assert c.returncode in (0, 2), (name, c.returncode, c.stderr)
        ok, message = python_verdict(path)  # any exception but TraceError fails the test here
        refused += c.returncode == 2
        if ok != (c.returncode == 0):
            mismatches.append((name, c.stderr.strip()[:150], message[:150]))
    assert not mismatches, mismatches
    assert refused > 80  # the corpus is hostile: a reader that accepts everything would fail above


def test_writer_refuses_what_the_reader_refuses(tmp_path):
    layer = trace.conv_layer("c", N=1, C=4, H=8, W=8, K=4, R=3, S=3, padding=1)
    layer["Ho"] = 7
    with pytest.raises(trace.TraceError):
        trace.TraceWriter(str(tmp_path / "x.swt"), trace.header("m", [layer]))
    assert not os.path.exists(tmp_path / "x.swt")


def test_random_mutations_agree(tmp_path):
    """A small fuzz of the Python reader against the C++ validator: 300 seeded mutations (a byte of the
    header text, an index entry or a blob set at random, every checksum then made right again)."""
    rng = np.random.default_rng(2026)
    data = open(SAMPLE, "rb").read()
    header, blobs, index = split(data)
    disagreements = []
    for n in range(300):
        h, b, i = bytearray(header), bytearray(blobs), index.copy()
        region = n % 3
        if region == 0:
            h[int(rng.integers(len(h)))] = int(rng.integers(32, 127))
        elif region == 1:
            raw = bytearray(i.tobytes())
            raw[int(rng.integers(len(raw)))] = int(rng.integers(256))
            i = np.frombuffer(bytes(raw), dtype=trace.ENTRY).copy()
        else:
            k = int(rng.integers(len(i)))
            off = int(i["offset"][k]) - (24 + len(header))
            size = int(i["stored_size"][k])
            if size:
                b[off + int(rng.integers(size))] ^= 1 << int(rng.integers(8))
                i["crc32"][k] = zlib.crc32(bytes(b[off:off + size]))
        path = str(tmp_path / f"m{n}.swt")
        open(path, "wb").write(join(bytes(h), bytes(b), i, fix_offsets=region != 1))
        c = subprocess.run([SWATSIM, "trace", "validate", path], capture_output=True, text=True)
        assert c.returncode in (0, 2), (n, c.stderr)
        ok, message = python_verdict(path)
        if ok != (c.returncode == 0):
            disagreements.append((n, c.stderr.strip()[:150], message[:150]))
    assert not disagreements, disagreements
