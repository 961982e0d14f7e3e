"""swatsim traces (format v1, docs/trace-format.md) in Python, NumPy only: read them, and write them
the way the C++ library does (docs/python.md).

    from swatsim import trace
    t = trace.Trace("traces/samples/sample.swt")
    mask, values = t.read(iteration=0, layer=1, tensor="weight")   # bool array; float32 non-zeros or None

    header = trace.header(model="mine", layers=[trace.conv_layer("conv1", N=2, C=3, H=32, W=32, K=16, R=3, S=3,
                                                                   padding=1)])
    with trace.TraceWriter("mine.swt", header) as w:
        w.write_tensor(0, "conv1", "input_act", array)   # a NumPy array (its non-zeros) or a bool mask

A writer writes to `PATH.tmp.HOST.PID` and renames it into place when it closes without an error: an
exception (or a kill) never leaves a file at PATH, let alone one that validates. Tensors must come in
(iteration, layer, tensor) order, every tensor its layer lists for each iteration.
"""
import json
import os
import socket
import struct
import zlib

import numpy as np

MAGIC = b"SWATTRC\0"
END_MAGIC = b"SWATEND\0"
VERSION = 1
TENSORS = ("input_act", "weight", "saved_act", "output_grad")
ENTRY = np.dtype([("iteration", "<u4"), ("layer", "<u2"), ("kind", "u1"), ("values", "u1"),
                  ("shape", "<u4", (4,)), ("nnz", "<u8"), ("offset", "<u8"), ("stored_size", "<u8"),
                  ("raw_size", "<u8"), ("crc32", "<u4"), ("codec", "u1"), ("reserved", "u1", (3,))])
assert ENTRY.itemsize == 64


class TraceError(Exception):
    pass


class Trace:
    def __init__(self, path):
        self.path = path
        try:
            self._f = open(path, "rb")
        except OSError as e:
            raise TraceError(f"{path}: cannot open: {e.strerror}") from None
        f = self._f
        f.seek(0, 2)
        size = f.tell()
        f.seek(0)
        pre = f.read(24)
        if len(pre) < 24 or pre[:8] != MAGIC:
            raise TraceError(f"{path}: not a swatsim trace")
        version, header_len, header_crc, reserved = struct.unpack("<4I", pre[8:])
        if version != VERSION:
            raise TraceError(f"{path}: unknown format version {version} (this reader supports {VERSION})")
        if 24 + header_len + 32 > size:
            raise TraceError(f"{path}: truncated: the file ends inside the header")
        raw = f.read(header_len)
        if zlib.crc32(raw) != header_crc or reserved != 0:
            raise TraceError(f"{path}: header checksum mismatch or reserved bytes set")
        try:
            self.header = json.loads(raw)
        except ValueError as e:
            raise TraceError(f"{path}: header is not valid JSON: {e}") from None
        if self.header.get("format") != "swatsim-trace" or self.header.get("version") != VERSION:
            raise TraceError(f"{path}: header does not describe a swatsim-trace v{VERSION}")
        self.layers = self.header["layers"]
        f.seek(size - 32)
        foot = f.read(32)
        if foot[24:] != END_MAGIC:
            raise TraceError(f"{path}: truncated or unfinished (no footer)")
        index_offset, count, index_crc, foot_reserved = struct.unpack("<QQII", foot[:24])
        data_start = 24 + header_len
        if (foot_reserved != 0 or not (data_start <= index_offset <= size - 32)
                or (size - 32 - index_offset) != count * ENTRY.itemsize):
            raise TraceError(f"{path}: corrupt footer")
        f.seek(index_offset)
        index = f.read(count * ENTRY.itemsize)
        if zlib.crc32(index) != index_crc:
            raise TraceError(f"{path}: index checksum mismatch")
        self.index = np.frombuffer(index, dtype=ENTRY)
        # Blobs are contiguous in index order, from the end of the header to the index.
        ends = np.cumsum(self.index["stored_size"].astype(np.uint64)) + np.uint64(data_start)
        starts = np.concatenate(([np.uint64(data_start)], ends[:-1])) if count else ends
        if (self.index["reserved"].any() or not np.array_equal(self.index["offset"], starts)
                or (count and int(ends[-1]) != index_offset) or (not count and index_offset != data_start)):
            raise TraceError(f"{path}: corrupt index (reserved bytes, or blobs not contiguous)")
        self._by_key = {(int(e["iteration"]), int(e["layer"]), int(e["kind"])): i for i, e in enumerate(self.index)}

    @property
    def iterations(self):
        return sorted({int(i) for i in self.index["iteration"]})

    def _entry(self, iteration, layer, tensor):
        kind = TENSORS.index(tensor) if isinstance(tensor, str) else int(tensor)
        if isinstance(layer, str):
            layer = [l["name"] for l in self.layers].index(layer)
        key = (iteration, layer, kind)
        if key not in self._by_key:
            raise KeyError(f"{self.path}: iteration {iteration}, layer {layer}, {TENSORS[kind]} is not stored")
        return self.index[self._by_key[key]]

    def read(self, iteration, layer, tensor):
        """(mask as a bool array of the tensor's shape, float32 non-zero values or None)."""
        e = self._entry(iteration, layer, tensor)
        kind, vt, codec = int(e["kind"]), int(e["values"]), int(e["codec"])
        where = f"{self.path}: iteration {iteration}, layer {layer}, {TENSORS[kind] if kind < 4 else kind}"
        shape = tuple(int(d) for d in e["shape"])
        numel = int(np.prod(shape, dtype=np.uint64))
        nbytes = (numel + 7) // 8
        nnz = int(e["nnz"])
        if vt not in (0, 1, 2) or codec not in (0, 1) or nnz > numel:
            raise TraceError(f"{where}: corrupt index entry")
        raw_size = nbytes + nnz * (0, 4, 2)[vt]
        if int(e["raw_size"]) != raw_size:
            raise TraceError(f"{where}: blob size disagrees with shape and non-zero count")
        self._f.seek(int(e["offset"]))
        stored = self._f.read(int(e["stored_size"]))
        if len(stored) != int(e["stored_size"]) or zlib.crc32(stored) != int(e["crc32"]):
            raise TraceError(f"{where}: blob truncated or checksum mismatch")
        if codec == 1:
            d = zlib.decompressobj()
            try:
                raw = d.decompress(stored, raw_size + 1)  # never inflate more than the record claims
            except zlib.error as err:
                raise TraceError(f"{where}: blob does not decompress: {err}") from None
        else:
            raw = stored
        if len(raw) != raw_size:
            raise TraceError(f"{where}: blob does not hold its recorded {raw_size} bytes")
        bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8, count=nbytes), bitorder="little")
        if bits[numel:].any():
            raise TraceError(f"{where}: bitmap has bits set past the tensor's last element")
        mask = bits[:numel].astype(bool).reshape(shape)
        if int(mask.sum()) != nnz:
            raise TraceError(f"{where}: bitmap non-zero count disagrees with the index")
        values = None
        if vt == 1:
            values = np.frombuffer(raw, dtype="<f4", count=nnz, offset=nbytes).copy()
        elif vt == 2:
            b = np.frombuffer(raw, dtype="<u2", count=nnz, offset=nbytes).astype(np.uint32) << 16
            values = b.view(np.float32)
        return mask, values

    def mask(self, iteration, layer, tensor):
        return self.read(iteration, layer, tensor)[0]

    def dense(self, iteration, layer, tensor):
        mask, values = self.read(iteration, layer, tensor)
        out = np.zeros(mask.shape, dtype=np.float32)
        out[mask] = 1.0 if values is None else values
        return out




# --------------------------------------------------------------------------------------------------
# Writing

TENSOR_CODES = {name: code for code, name in enumerate(TENSORS)}
# The largest tensor a trace may hold (the C++ kMaxTensorElements, traces/include/swatsim/traces/format.hpp).
MAX_TENSOR_ELEMENTS = 1 << 34
_NAME_RE = __import__("re").compile(r"^[A-Za-z0-9_.\-]{1,255}$")


def conv_layer(name, N, C, H, W, K, R, S, stride=1, padding=0, groups=1, tensors=None, kind="conv"):
    """A layer-table entry; Ho and Wo follow from the geometry."""
    Ho = (H + 2 * padding - R) // stride + 1
    Wo = (W + 2 * padding - S) // stride + 1
    return {"name": name, "kind": kind, "N": N, "C": C, "H": H, "W": W, "K": K, "R": R, "S": S, "stride": stride,
            "padding": padding, "groups": groups, "Ho": Ho, "Wo": Wo,
            "tensors": list(tensors or ["input_act", "weight", "saved_act", "output_grad"])}


def linear_layer(name, N, C, K, tensors=None):
    return conv_layer(name, N, C, 1, 1, K, 1, 1, tensors=tensors, kind="linear")


def header(model, layers, dataset="custom", seed=0, batch_size=None, sparsity=0.0, activation_sparsity=None,
           distribution="uniform", structure="unstructured", topk_period=1, sparsify_first=False,
           producer="swatsim-python", producer_version="0.1.0"):
    """A trace header (docs/trace-format.md) with SWAT settings."""
    return {"format": "swatsim-trace", "version": VERSION,
            "producer": {"name": producer, "version": producer_version},
            "model": model, "dataset": dataset, "seed": int(seed),
            "batch_size": int(batch_size if batch_size is not None else (layers[0]["N"] if layers else 1)),
            "swat": {"sparsity": float(sparsity),
                     "activation_sparsity": float(sparsity if activation_sparsity is None else activation_sparsity),
                     "distribution": distribution, "structure": structure, "topk_period": int(topk_period),
                     "sparsify_first": bool(sparsify_first)},
            "layers": layers}


def _shape_of(layer, tensor):
    l = layer
    if tensor in ("input_act", "saved_act"):
        return (l["N"], l["C"], l["H"], l["W"])
    if tensor == "weight":
        return (l["K"], l["C"] // l["groups"], l["R"], l["S"])
    return (l["N"], l["K"], l["Ho"], l["Wo"])


def _check_header(h):
    """The checks the C++ writer makes before it writes anything (a subset of the reader's)."""
    if not isinstance(h, dict) or h.get("format") != "swatsim-trace" or h.get("version") != VERSION:
        raise TraceError("header: not a swatsim-trace v1 header")
    s = h["swat"]
    if not (0 <= s["sparsity"] < 1 and 0 <= s["activation_sparsity"] < 1):
        raise TraceError("header /swat: sparsities must be in [0, 1)")
    if s["distribution"] not in ("uniform", "erk", "momentum") or s["structure"] not in ("unstructured", "channel", "filter"):
        raise TraceError("header /swat: unknown distribution or structure")
    if len(h["layers"]) > 0xFFFF:
        raise TraceError("header: more than 65535 layers")
    names = set()
    for i, l in enumerate(h["layers"]):
        where = f"layer {i} ({l.get('name')})"
        if not _NAME_RE.match(str(l["name"])) or l["name"] in (".", ".."):
            raise TraceError(f"{where}: a name is 1 to 255 characters of A-Z a-z 0-9 _ - .")
        if l["name"] in names:
            raise TraceError(f"{where}: layer names must be unique")
        names.add(l["name"])
        if l["kind"] not in ("conv", "linear"):
            raise TraceError(f"{where}: kind must be conv or linear")
        for k in ("N", "C", "H", "W", "K", "R", "S", "stride", "groups", "Ho", "Wo"):
            if not isinstance(l[k], int) or l[k] < 1:
                raise TraceError(f"{where}: {k} must be an integer >= 1")
        if l["C"] % l["groups"] or l["K"] % l["groups"]:
            raise TraceError(f"{where}: groups must divide C and K")
        for t in ("input_act", "weight", "output_grad"):
            if int(np.prod(_shape_of(l, t), dtype=object)) > MAX_TENSOR_ELEMENTS:
                raise TraceError(f"{where}: a {t} of shape {_shape_of(l, t)} exceeds 2^34 = {MAX_TENSOR_ELEMENTS} elements")
        if l["Ho"] != (l["H"] + 2 * l["padding"] - l["R"]) // l["stride"] + 1 or \
                l["Wo"] != (l["W"] + 2 * l["padding"] - l["S"]) // l["stride"] + 1:
            raise TraceError(f"{where}: Ho/Wo disagree with the geometry")
        for t in ("input_act", "weight", "output_grad"):
            if t not in l["tensors"]:
                raise TraceError(f"{where}: tensors must list {t}")
        if any(t not in TENSORS for t in l["tensors"]) or len(set(l["tensors"])) != len(l["tensors"]):
            raise TraceError(f"{where}: tensors must be distinct names of {TENSORS}")


def _json_bytes(h):
    # The C++ writer's nlohmann::json dump: keys sorted, no spaces, UTF-8 as it is.
    return json.dumps(h, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class _Finishing:
    """A `with` block finishes the object (close()) on success and drops its output (abort()) on an error."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False


class TraceWriter(_Finishing):
    """Streams tensors into a trace; see the module's docstring. An existing file at `path` is an error
    unless `overwrite` (it is then replaced only when the new trace is complete). `compress`: store a blob zlib-compressed
    when that saves at least `min_saving` of it (the C++ writer's rule; Python's zlib bytes differ from
    libdeflate's, so byte-identity with the C++ writer holds for raw blobs: compress=False)."""

    def __init__(self, path, header, compress=True, level=1, min_saving=0.25, overwrite=False):
        _check_header(header)
        self.path = os.fspath(path)
        if os.path.isdir(self.path):
            raise TraceError(f"{self.path}: is a directory")
        if os.path.lexists(self.path) and not overwrite:
            raise TraceError(f"{self.path}: exists (pass overwrite=True to replace it when the new trace is complete)")
        self.header = header
        self._layers = {l["name"]: i for i, l in enumerate(header["layers"])}
        self._compress, self._level, self._min_saving = compress, level, min_saving
        host = socket.gethostname().replace("/", "_").replace(".", "_") or "host"
        self._tmp = f"{self.path}.tmp.{host}.{os.getpid()}"
        self._f = open(self._tmp, "wb")
        self._entries = []
        self._last = None
        self._expected = None  # tensors still due in the current iteration: {(layer, code)}
        self._iteration = None
        raw = _json_bytes(header)
        self._f.write(MAGIC + struct.pack("<4I", VERSION, len(raw), zlib.crc32(raw), 0) + raw)
        self._offset = 24 + len(raw)

    def abort(self):
        """Drops the temporary: nothing is written at the path."""
        if self._f is not None:
            self._f.close()
            self._f = None
            try:
                os.unlink(self._tmp)
            except FileNotFoundError:
                pass

    def _finish_iteration(self):
        if self._iteration is not None and self._expected:
            missing = ", ".join(f"{self.header['layers'][l]['name']} {TENSORS[k]}" for l, k in sorted(self._expected))
            raise TraceError(f"{self.path}: iteration {self._iteration} lacks {missing}")

    def write_tensor(self, iteration, layer, tensor, data, values="float32"):
        """One tensor: `data` is a NumPy array (its non-zeros are the mask, and with `values` "float32" or
        "bfloat16" their values are stored too) or a bool mask; `values=None` stores the mask only."""
        if self._f is None:
            raise TraceError(f"{self.path}: the writer is closed")
        li = self._layers.get(layer, layer) if isinstance(layer, str) else int(layer)
        if isinstance(li, str) or not 0 <= li < len(self.header["layers"]):
            raise TraceError(f"{self.path}: no layer {layer!r} in the layer table")
        l = self.header["layers"][li]
        if tensor not in l["tensors"]:
            raise TraceError(f"{self.path}: layer {l['name']} does not list {tensor}")
        code = TENSOR_CODES[tensor]
        key = (int(iteration), li, code)
        if self._last is not None and key <= self._last:
            raise TraceError(f"{self.path}: tensors must come in (iteration, layer, tensor) order, once each: "
                             f"{key} after {self._last}")
        if key[0] != self._iteration:
            self._finish_iteration()
            self._iteration = key[0]
            self._expected = {(i, TENSOR_CODES[t]) for i, ll in enumerate(self.header["layers"]) for t in ll["tensors"]}
        shape = _shape_of(l, tensor)
        a = np.asarray(data)
        if a.ndim == 2 and shape[2:] == (1, 1):  # fully connected: (N, C) / (K, C)
            a = a.reshape(a.shape + (1, 1))
        if tuple(a.shape) != shape:
            raise TraceError(f"{self.path}: layer {l['name']} {tensor}: shape {tuple(a.shape)} disagrees with the "
                             f"layer table's {shape}")
        if a.dtype == bool:
            mask, vals, vt = a, None, 0
        else:
            af = a.astype(np.float32)
            if not np.isfinite(af).all():
                raise TraceError(f"{self.path}: layer {l['name']} {tensor}: NaN or infinite values")
            mask = af != 0
            vt = {None: 0, "float32": 1, "bfloat16": 2}[values]
            vals = af[mask] if vt else None
            if vt == 2:
                b = (vals.view(np.uint32) >> 16).astype("<u2")
                if (b & 0x7FFF == 0).any():
                    raise TraceError(f"{self.path}: layer {l['name']} {tensor}: a non-zero rounds to 0 in bfloat16")
        bits = np.packbits(mask.reshape(-1), bitorder="little").tobytes()
        nnz = int(mask.sum())
        raw = bits + (b"" if vt == 0 else vals.astype("<f4").tobytes() if vt == 1 else b.tobytes())
        stored, codec = raw, 0
        if self._compress and len(raw) > 64:
            packed = zlib.compress(raw, self._level)
            if len(packed) <= len(raw) * (1 - self._min_saving):
                stored, codec = packed, 1
        self._f.write(stored)
        entry = np.zeros(1, dtype=ENTRY)
        e = entry[0]
        e["iteration"], e["layer"], e["kind"], e["values"] = key[0], li, code, vt
        e["shape"] = shape
        e["nnz"], e["offset"], e["stored_size"], e["raw_size"] = nnz, self._offset, len(stored), len(raw)
        e["crc32"], e["codec"] = zlib.crc32(stored), codec
        self._entries.append(entry.tobytes())
        self._offset += len(stored)
        self._last = key
        self._expected.discard((li, code))

    def close(self):
        """Writes the index and footer, syncs and renames into place."""
        if self._f is None:
            return
        try:
            self._finish_iteration()
            index = b"".join(self._entries)
            self._f.write(index + struct.pack("<QQII", self._offset, len(self._entries), zlib.crc32(index), 0) + END_MAGIC)
            self._f.flush()
            os.fsync(self._f.fileno())
            self._f.close()
            self._f = None
            os.replace(self._tmp, self.path)
        except BaseException:
            self.abort()
            raise
