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
    """Every problem with a trace file or header: the C++ reader's refusals, one type (docs/python.md)."""


# The C++ reader's limits (traces/src/format.cpp, traces/include/swatsim/traces/format.hpp,
# common/include/swatsim/common/strict_json.hpp): the same file is refused by both readers.
_U32 = 0xFFFFFFFF
_MAX_JSON_DEPTH = 128
_MAX_MAP_SIDE = 1 << 20
_MAX_KERNEL_SIDE = 4096
_MAX_PADDING_GROWTH = 16
_MAX_TENSOR_ELEMENTS = 1 << 34
_DEFLATE_MAX_RATIO = 1032


def _json_depth_ok(raw):
    """Whether no object or array nests deeper than the limit (scanned before parsing: Python's json
    recurses once per level)."""
    depth, in_string, escaped = 0, False, False
    for c in raw:
        if in_string:
            if escaped:
                escaped = False
            elif c == 0x5C:  # backslash
                escaped = True
            elif c == 0x22:
                in_string = False
        elif c == 0x22:
            in_string = True
        elif c in (0x5B, 0x7B):
            depth += 1
            if depth > _MAX_JSON_DEPTH:
                return False
        elif c in (0x5D, 0x7D):
            depth -= 1
    return True


def _strict_json(raw, where):
    """JSON as the C++ reader takes it: no repeated key, no NaN/Infinity, no number beyond double
    range, nesting at most 128 levels."""
    if not _json_depth_ok(raw):
        raise TraceError(f"{where}: nested deeper than {_MAX_JSON_DEPTH} levels of objects and arrays")

    def pairs(items):
        seen = set()
        for k, _ in items:
            if k in seen:
                raise TraceError(f"{where}: duplicate key {k!r}")
            seen.add(k)
        return dict(items)

    def bad_constant(name):
        raise TraceError(f"{where}: is not valid JSON ({name})")

    def real(text):
        v = float(text)
        if v in (float("inf"), float("-inf")):
            raise TraceError(f"{where}: is not valid JSON (number {text[:40]} beyond double range)")
        return v

    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=pairs, parse_constant=bad_constant, parse_float=real)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise TraceError(f"{where}: is not valid JSON: {str(e)[:200]}") from None


class _Fields:
    """An object of the header checked key by key, as the C++ reader's Fields (traces/src/header_json.cpp)."""

    def __init__(self, obj, path, where):
        self.obj, self.path, self.where, self.seen = obj, path, where, set()
        if not isinstance(obj, dict):
            self.fail(path, "expected an object")

    def fail(self, key_path, what):
        raise TraceError(f"{self.where}: header {key_path or '/'}: {what}")

    def at(self, key):
        self.seen.add(key)
        if key not in self.obj:
            self.fail(f"{self.path}/{key}", "missing")
        return self.obj[key]

    def str(self, key):
        v = self.at(key)
        if not isinstance(v, str):
            self.fail(f"{self.path}/{key}", f"expected a string, got {json.dumps(v)[:80]}")
        return v

    def uint(self, key, most):
        v = self.at(key)
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= most:
            self.fail(f"{self.path}/{key}", f"expected an integer in [0, {most}], got {json.dumps(v)[:80]}")
        return v

    def real(self, key, lo, hi_exclusive):
        v = self.at(key)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not lo <= v < hi_exclusive:
            self.fail(f"{self.path}/{key}", f"expected a number in [{lo}, {hi_exclusive}), got {json.dumps(v)[:80]}")
        return v

    def boolean(self, key):
        v = self.at(key)
        if not isinstance(v, bool):
            self.fail(f"{self.path}/{key}", f"expected true or false, got {json.dumps(v)[:80]}")
        return v

    def no_unknown_keys(self):
        for k in self.obj:
            if k not in self.seen:
                self.fail(f"{self.path}/{k}", "unknown key")


def _layer_error(l):
    """The C++ check_layer (traces/src/format.cpp): None, or what is wrong with the layer."""
    name = l["name"]
    if not _NAME_RE.fullmatch(name) or name in (".", ".."):
        return f"name {name!r} must be 1-255 letters, digits, '_', '-' or '.' (it names files on export)"
    if min(l[k] for k in ("N", "C", "H", "W", "K", "R", "S")) == 0:
        return "every dimension (N,C,H,W,K,R,S) must be >= 1"
    if l["stride"] == 0:
        return "stride must be >= 1"
    if l["groups"] == 0 or l["C"] % l["groups"] or l["K"] % l["groups"]:
        return f"groups {l['groups']} must divide C={l['C']} and K={l['K']}"
    for dims in ((l["N"], l["C"], l["H"], l["W"]), (l["K"], l["C"] // l["groups"], l["R"], l["S"]),
                 (l["N"], l["K"], l["Ho"], l["Wo"])):
        if dims[0] * dims[1] * dims[2] * dims[3] > _MAX_TENSOR_ELEMENTS:
            return f"a tensor of shape {list(dims)} exceeds {_MAX_TENSOR_ELEMENTS} elements"
    p, st = l["padding"], l["stride"]
    eho = (l["H"] + 2 * p - l["R"]) // st + 1 if l["H"] + 2 * p >= l["R"] else 0
    ewo = (l["W"] + 2 * p - l["S"]) // st + 1 if l["W"] + 2 * p >= l["S"] else 0
    if eho == 0 or ewo == 0:
        return "the kernel does not fit the input with padding"
    if l["Ho"] != eho or l["Wo"] != ewo:
        return f"output size {l['Ho']}x{l['Wo']} disagrees with the geometry: {eho}x{ewo}"
    if l["kind"] == "linear" and (l["H"], l["W"], l["R"], l["S"], l["stride"], p) != (1, 1, 1, 1, 1, 0):
        return "a linear layer must have 1x1 maps, a 1x1 kernel, stride 1 and padding 0"
    if l["H"] > _MAX_MAP_SIDE or l["W"] > _MAX_MAP_SIDE:
        return f"the input map exceeds {_MAX_MAP_SIDE} per side"
    if l["R"] > _MAX_KERNEL_SIDE or l["S"] > _MAX_KERNEL_SIDE:
        return f"the kernel exceeds {_MAX_KERNEL_SIDE} per side"
    if st > _MAX_MAP_SIDE:
        return f"stride {st} exceeds {_MAX_MAP_SIDE}"
    if (l["H"] + 2 * p) * (l["W"] + 2 * p) > _MAX_PADDING_GROWTH * max(l["H"] * l["W"], l["R"] * l["S"]):
        return f"padding {p} makes the padded map more than {_MAX_PADDING_GROWTH} times the input map and the kernel"
    for t in ("input_act", "weight", "output_grad"):
        if t not in l["tensors"]:
            return "input_act, weight and output_grad are needed by every pass and may not be absent"
    return None


def _validate_header(h, where):
    """The header checks of the C++ reader (header_from_json, check_swat, check_layer, unique names)."""
    top = _Fields(h, "", where)
    if top.str("format") != "swatsim-trace":
        top.fail("/format", 'expected "swatsim-trace"')
    version = top.uint("version", _U32)
    producer = _Fields(top.at("producer"), "/producer", where)
    producer.str("name")
    producer.str("version")
    producer.no_unknown_keys()
    top.str("model")
    top.str("dataset")
    top.uint("seed", 2 ** 64 - 1)
    top.uint("batch_size", _U32)
    swat = _Fields(top.at("swat"), "/swat", where)
    swat.real("sparsity", 0.0, 1.0)
    swat.real("activation_sparsity", 0.0, 1.0)
    if swat.str("distribution") not in ("uniform", "erk", "momentum"):
        raise TraceError(f"{where}: header /swat: distribution must be uniform, erk or momentum")
    if swat.str("structure") not in ("unstructured", "channel", "filter"):
        raise TraceError(f"{where}: header /swat: structure must be unstructured, channel or filter")
    if swat.uint("topk_period", _U32) == 0:
        raise TraceError(f"{where}: header /swat: top-K period must be >= 1")
    swat.boolean("sparsify_first")
    swat.no_unknown_keys()
    layers = top.at("layers")
    if not isinstance(layers, list):
        top.fail("/layers", "expected an array")
    if len(layers) > 0xFFFF:
        top.fail("/layers", "more than 65535 layers")
    names = set()
    for i, layer in enumerate(layers):
        f = _Fields(layer, f"/layers/{i}", where)
        f.str("name")
        if f.str("kind") not in ("conv", "linear"):
            f.fail(f"/layers/{i}/kind", 'expected "conv" or "linear"')
        for k in ("N", "C", "H", "W", "K", "R", "S", "stride", "padding", "groups", "Ho", "Wo"):
            f.uint(k, _U32)
        tensors = f.at("tensors")
        if not isinstance(tensors, list):
            f.fail(f"/layers/{i}/tensors", "expected an array of tensor names")
        for t, name in enumerate(tensors):
            if name not in TENSORS or tensors.index(name) != t:
                f.fail(f"/layers/{i}/tensors/{t}", "expected one of input_act, weight, saved_act, output_grad, each once")
        f.no_unknown_keys()
        err = _layer_error(layer)
        if err:
            raise TraceError(f"{where}: layer {i} ({layer['name']}): {err}")
        if layer["name"] in names:
            raise TraceError(f"{where}: layer {i} ({layer['name']}): layer names must be unique")
        names.add(layer["name"])
    top.no_unknown_keys()
    return version


class Trace:
    """A trace opened for reading: the preamble, header, index and footer are checked as the C++
    reader checks them (the same files are refused, with a TraceError and no other exception)."""

    def __init__(self, path):
        self.path = os.fspath(path)
        try:
            self._f = open(self.path, "rb")
        except OSError as e:
            raise TraceError(f"{path}: cannot open: {e.strerror}") from None
        try:
            self._open()
        except TraceError:
            self._f.close()
            raise
        except (MemoryError, OverflowError, ValueError, struct.error) as e:  # a bug if reached: still one error type
            self._f.close()
            raise TraceError(f"{self.path}: cannot be read: {type(e).__name__}: {str(e)[:200]}") from None

    def _open(self):
        path, f = self.path, self._f
        if os.path.isdir(path) or not os.path.isfile(path):
            raise TraceError(f"{path}: is not a regular file")
        f.seek(0, 2)
        size = f.tell()
        f.seek(0)
        pre = f.read(24)
        if len(pre) < 24 or pre[:8] != MAGIC:
            raise TraceError(f"{path}: not a swatsim trace (bad magic number)")
        version, header_len, header_crc, reserved = struct.unpack("<4I", pre[8:])
        if version != VERSION:
            raise TraceError(f"{path}: unknown format version {version} (this reader supports {VERSION})")
        if 24 + header_len + 32 > size:
            raise TraceError(f"{path}: truncated: the file ends inside the header")
        if reserved != 0:
            raise TraceError(f"{path}: corrupt preamble: reserved bytes 20-23 are not zero")
        raw = f.read(header_len)
        if zlib.crc32(raw) != header_crc:
            raise TraceError(f"{path}: header checksum mismatch")
        self.header = _strict_json(raw, f"{path}: header")
        if _validate_header(self.header, path) != version:
            raise TraceError(f"{path}: header version disagrees with the file's version {version}")
        self.layers = self.header["layers"]
        f.seek(size - 32)
        foot = f.read(32)
        if foot[24:] != END_MAGIC:
            raise TraceError(f"{path}: truncated or unfinished: no end-of-trace footer")
        index_offset, count, index_crc, foot_reserved = struct.unpack("<QQII", foot[:24])
        data_start = 24 + header_len
        footer_start = size - 32
        if foot_reserved != 0:
            raise TraceError(f"{path}: corrupt footer: reserved bytes 20-23 are not zero")
        if (not data_start <= index_offset <= footer_start or (footer_start - index_offset) % ENTRY.itemsize
                or count != (footer_start - index_offset) // ENTRY.itemsize):
            raise TraceError(f"{path}: corrupt footer: the index does not fill the bytes before the footer")
        f.seek(index_offset)
        index = f.read(count * ENTRY.itemsize)
        if zlib.crc32(index) != index_crc:
            raise TraceError(f"{path}: index checksum mismatch")
        self.index = np.frombuffer(index, dtype=ENTRY)
        self._check_index(data_start, index_offset)
        self._by_key = {(int(e["iteration"]), int(e["layer"]), int(e["kind"])): i for i, e in enumerate(self.index)}

    def _check_index(self, data_start, index_offset):
        """Each entry as the C++ reader checks it (traces/src/reader.cpp, read_index)."""
        shapes = [{t: _shape_of(l, t) for t in l["tensors"]} for l in self.layers]
        next_blob, last = data_start, None
        for i, e in enumerate(self.index):
            layer, kind, vt, codec = int(e["layer"]), int(e["kind"]), int(e["values"]), int(e["codec"])
            where = f"{self.path}: index entry {i}"
            if e["reserved"].any():
                raise TraceError(f"{where}: reserved bytes 61-63 are not zero")
            if layer >= len(self.layers):
                raise TraceError(f"{where}: no such layer in the layer table")
            if kind >= len(TENSORS) or vt > 2 or codec > 1:
                raise TraceError(f"{where}: unknown tensor, value type or codec")
            tensor = TENSORS[kind]
            if tensor not in shapes[layer]:
                raise TraceError(f"{where}: stored, but the layer table does not list this tensor")
            shape = tuple(int(d) for d in e["shape"])
            if shape != shapes[layer][tensor]:
                raise TraceError(f"{where}: shape {shape} disagrees with the layer table's {shapes[layer][tensor]}")
            numel = shape[0] * shape[1] * shape[2] * shape[3]
            nnz, stored, raw = int(e["nnz"]), int(e["stored_size"]), int(e["raw_size"])
            if nnz > numel:
                raise TraceError(f"{where}: non-zero count {nnz} exceeds {numel} elements")
            if raw != (numel + 7) // 8 + nnz * (0, 4, 2)[vt]:
                raise TraceError(f"{where}: blob size {raw} disagrees with shape and non-zero count")
            if codec == 0 and stored != raw:
                raise TraceError(f"{where}: raw blob whose stored size is not its size")
            if codec == 1 and raw > stored * _DEFLATE_MAX_RATIO + 64:
                raise TraceError(f"{where}: compressed blob of {stored} bytes cannot hold {raw} bytes")
            if int(e["offset"]) != next_blob or stored > index_offset - next_blob:
                raise TraceError(f"{where}: blob is not where the previous one ends or overruns the index")
            next_blob += stored
            key = (int(e["iteration"]), layer, kind)
            if last is not None and key <= last:
                raise TraceError(f"{where}: index is not sorted by (iteration, layer, tensor) or holds a tensor twice")
            last = key
        if next_blob != index_offset:
            raise TraceError(f"{self.path}: corrupt index: bytes between the last blob and the index belong to no tensor")

    @property
    def iterations(self):
        return sorted({int(i) for i in self.index["iteration"]})

    def _entry(self, iteration, layer, tensor):
        try:
            kind = TENSORS.index(tensor) if isinstance(tensor, str) else int(tensor)
            if isinstance(layer, str):
                layer = [l["name"] for l in self.layers].index(layer)
        except ValueError:
            raise TraceError(f"{self.path}: no tensor {tensor!r} of layer {layer!r}") from None
        key = (int(iteration), int(layer), kind)
        if key not in self._by_key:
            name = TENSORS[kind] if 0 <= kind < len(TENSORS) else kind
            raise TraceError(f"{self.path}: iteration {iteration}, layer {layer}, {name} is not stored")
        return self.index[self._by_key[key]]

    def read(self, iteration, layer, tensor):
        """(mask as a bool array of the tensor's shape, float32 non-zero values or None)."""
        e = self._entry(iteration, layer, tensor)
        kind, vt, codec = int(e["kind"]), int(e["values"]), int(e["codec"])
        where = f"{self.path}: iteration {iteration}, layer {layer}, {TENSORS[kind]}"
        try:
            return self._read(e, where, vt, codec)
        except MemoryError:
            raise TraceError(f"{where}: needs more memory than this process may allocate "
                             f"({int(np.prod(e['shape'], dtype=object))} elements)") from None

    def _read(self, e, where, vt, codec):
        shape = tuple(int(d) for d in e["shape"])
        numel = shape[0] * shape[1] * shape[2] * shape[3]
        nbytes = (numel + 7) // 8
        nnz, raw_size = int(e["nnz"]), int(e["raw_size"])
        self._f.seek(int(e["offset"]))
        stored = self._f.read(int(e["stored_size"]))
        if len(stored) != int(e["stored_size"]):
            raise TraceError(f"{where}: cannot read the blob (file truncated?)")
        if zlib.crc32(stored) != int(e["crc32"]):
            raise TraceError(f"{where}: blob checksum mismatch")
        if codec == 1:
            d = zlib.decompressobj()
            try:
                raw = d.decompress(stored, raw_size + 1)  # never inflate more than the record claims
            except zlib.error as err:
                raise TraceError(f"{where}: blob does not decompress: {err}") from None
        else:
            raw = stored
        if len(raw) != raw_size:
            raise TraceError(f"{where}: blob does not decompress to its recorded {raw_size} bytes")
        bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8, count=nbytes), bitorder="little")
        if bits[numel:].any():
            raise TraceError(f"{where}: bitmap has bits set past the tensor's last element")
        mask = bits[:numel].astype(bool).reshape(shape)
        if int(np.count_nonzero(mask)) != nnz:
            raise TraceError(f"{where}: bitmap non-zero count disagrees with the index")
        values = None
        if vt == 1:
            values = np.frombuffer(raw, dtype="<f4", count=nnz, offset=nbytes).copy()
        elif vt == 2:
            b = np.frombuffer(raw, dtype="<u2", count=nnz, offset=nbytes).astype(np.uint32) << 16
            values = b.view(np.float32)
        return mask, values

    def validate(self):
        """What `swatsim trace validate` checks beyond opening: every recorded iteration stores every
        tensor its layers list, and every tensor reads (bitmap, counts, no stored value zero).
        Returns (iterations, tensors); raises TraceError."""
        for it in self.iterations:
            for li, l in enumerate(self.layers):
                for t in l["tensors"]:
                    if (it, li, TENSOR_CODES[t]) not in self._by_key:
                        raise TraceError(f"{self.path}: iteration {it}, layer {li} ({l['name']}), {t}: missing: "
                                         "the layer table lists it but the iteration does not store it")
        for e in self.index:
            it, li, kind = int(e["iteration"]), int(e["layer"]), int(e["kind"])
            _, values = self.read(it, li, kind)
            if values is not None and (values == 0).any():
                raise TraceError(f"{self.path}: iteration {it}, layer {li}, {TENSORS[kind]}: a stored value is zero "
                                 "where the mask has a non-zero")
        return len(self.iterations), len(self.index)

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
        _validate_header(header, "header")
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
