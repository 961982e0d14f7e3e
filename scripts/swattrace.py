#!/usr/bin/python3
"""Reader for swatsim trace files (format v1, docs/trace-format.md), NumPy only.

    import swattrace
    t = swattrace.Trace("traces/samples/sample.swt")
    t.header["model"], [l["name"] for l in t.layers]
    mask = t.mask(iteration=0, layer=1, tensor="weight")      # bool array, shape (K, C/groups, R, S)
    mask, values = t.read(0, 1, "weight")                      # values: float32 non-zeros or None
    dense = t.dense(0, 1, "weight")                            # float32 tensor (0/1 without values)
"""
import json
import struct
import sys
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


if __name__ == "__main__":
    t = Trace(sys.argv[1])
    print(f"{t.header['model']} on {t.header['dataset']}: {len(t.layers)} layers, iterations {t.iterations}")
    for i, l in enumerate(t.layers):
        dens = []
        for k in TENSORS:
            key = (t.iterations[0], i, TENSORS.index(k))
            dens.append(f"{k}={t.mask(*key).mean():.3f}" if key in t._by_key else f"{k}=-")
        print(f"  {l['name']:<20} " + " ".join(dens))
