#!/usr/bin/python3
"""Checks scripts/swattrace.py against the C++ writer: every mask and value of the bundled sample
equals what `swatsim trace export-npy` writes, and a zlib-compressed synthetic trace reads back."""
import os
import subprocess
import sys
import tempfile

import numpy as np

swatsim, root = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(root, "scripts"))
import swattrace  # noqa: E402

sample = os.path.join(root, "traces", "samples", "sample.swt")
suffix = {"input_act": "act", "weight": "wgt", "saved_act": "act_saved", "output_grad": "grad"}
checked = 0
with tempfile.TemporaryDirectory() as tmp:
    t = swattrace.Trace(sample)
    assert t.header["format"] == "swatsim-trace" and t.header["version"] == 1
    for it in t.iterations:
        out = os.path.join(tmp, f"it{it}")
        subprocess.run([swatsim, "trace", "export-npy", sample, "-o", out, "--iteration", str(it)],
                       check=True, stdout=subprocess.DEVNULL)
        for i, layer in enumerate(t.layers):
            for name in layer["tensors"]:
                want = np.load(os.path.join(out, f"{layer['name']}-{suffix[name]}.npy"))
                got = t.dense(it, i, name)
                assert got.shape == want.shape, (layer["name"], name, got.shape, want.shape)
                assert np.array_equal(got, want), (it, layer["name"], name)
                assert np.array_equal(t.mask(it, i, name), want != 0)
                checked += 1
    # A compressed trace without values: masks are 0/1.
    synth = os.path.join(tmp, "r50.swt")
    subprocess.run([swatsim, "trace", "synth", "--model", "resnet50-imagenet", "--samples", "1", "--sparsity",
                    "0.9", "-o", synth], check=True, stdout=subprocess.DEVNULL)
    r = swattrace.Trace(synth)
    assert len(r.layers) == 54
    w = r.mask(0, "fc", "weight")
    assert w.shape == (1000, 2048, 1, 1) and int(w.sum()) == 204800, int(w.sum())
    # A truncated file is refused.
    with open(synth, "rb") as f:
        data = f.read()
    with open(synth, "wb") as f:
        f.write(data[:-10])
    try:
        swattrace.Trace(synth)
        raise SystemExit("truncated trace accepted")
    except swattrace.TraceError as e:
        assert "truncated" in str(e)
    # A flipped bit in a blob is a TraceError naming the tensor, not a crash.
    with open(sample, "rb") as f:
        data = bytearray(f.read())
    t = swattrace.Trace(sample)
    data[int(t.index[1]["offset"])] ^= 0x01
    bad = os.path.join(tmp, "bad.swt")
    with open(bad, "wb") as f:
        f.write(data)
    try:
        swattrace.Trace(bad).read(0, 0, "weight")
        raise SystemExit("corrupt blob accepted")
    except swattrace.TraceError as e:
        assert "iteration 0, layer 0, weight: blob checksum mismatch" in str(e), str(e)
print(f"swattrace.py: {checked} tensors agree with the C++ writer")
