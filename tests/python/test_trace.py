"""swatsim.trace against the C++ library: the Python writer's raw-blob traces are byte-identical to
`swatsim trace slice --raw`, every file it writes validates, and bad input raises before anything is
left at the path. Run by ctest with /usr/bin/python3 -m pytest; SWATSIM and SWATSIM_SRC name the binary
and the source tree."""
import os
import subprocess
import sys

import numpy as np
import pytest

SRC = os.environ["SWATSIM_SRC"]
SWATSIM = os.environ["SWATSIM"]
sys.path.insert(0, os.path.join(SRC, "python"))
from swatsim import trace  # noqa: E402

SAMPLE = os.path.join(SRC, "traces/samples/sample.swt")
VALUE_TYPES = {0: None, 1: "float32", 2: "bfloat16"}


def validate(path):
    return subprocess.run([SWATSIM, "trace", "validate", path], capture_output=True, text=True)


def rewrite(src, dst, compress):
    """Every tensor of `src` written again with the Python writer (values in their stored type)."""
    t = trace.Trace(src)
    with trace.TraceWriter(dst, t.header, compress=compress) as w:
        for e in t.index:
            it, layer, kind, vt = int(e["iteration"]), int(e["layer"]), int(e["kind"]), int(e["values"])
            mask, values = t.read(it, layer, kind)
            if values is None:
                w.write_tensor(it, layer, trace.TENSORS[kind], mask)
            else:
                dense = np.zeros(mask.shape, dtype=np.float32)
                dense[mask] = values
                w.write_tensor(it, layer, trace.TENSORS[kind], dense, values=VALUE_TYPES[vt])
    return t


def test_raw_blobs_are_byte_identical_to_the_cpp_writer(tmp_path):
    py, cpp = str(tmp_path / "py.swt"), str(tmp_path / "cpp.swt")
    rewrite(SAMPLE, py, compress=False)
    subprocess.run([SWATSIM, "trace", "slice", SAMPLE, "--iterations", "0-1", "--raw", "-o", cpp], check=True,
                   capture_output=True)
    assert open(py, "rb").read() == open(cpp, "rb").read()


def test_compressed_traces_validate_and_read_back(tmp_path):
    py = str(tmp_path / "z.swt")
    t = rewrite(SAMPLE, py, compress=True)
    r = validate(py)
    assert r.returncode == 0, r.stderr
    back = trace.Trace(py)
    assert back.header == t.header
    for e in t.index:
        key = (int(e["iteration"]), int(e["layer"]), int(e["kind"]))
        m1, v1 = t.read(*key)
        m2, v2 = back.read(*key)
        assert np.array_equal(m1, m2) and (v1 is None) == (v2 is None)
        if v1 is not None:
            assert np.array_equal(v1, v2)


def test_a_compressible_blob_is_compressed_and_validates(tmp_path):
    p = str(tmp_path / "c.swt")
    h = trace.header("big", [trace.conv_layer("conv", N=1, C=64, H=32, W=32, K=64, R=3, S=3, padding=1,
                                              tensors=["input_act", "weight", "output_grad"])])
    act = np.zeros((1, 64, 32, 32), dtype=np.float32)
    act[0, :, ::8, ::8] = 1.5  # 1/64 dense: the bitmap deflates far beyond 25%
    with trace.TraceWriter(p, h) as w:
        w.write_tensor(0, "conv", "input_act", act)
        w.write_tensor(0, "conv", "weight", np.ones((64, 64, 3, 3), dtype=bool))
        w.write_tensor(0, "conv", "output_grad", np.ones((1, 64, 32, 32), dtype=np.float32), values=None)
    t = trace.Trace(p)
    assert [int(c) for c in t.index["codec"]] == [1, 1, 1]
    assert validate(p).returncode == 0
    mask, values = t.read(0, "conv", "input_act")
    assert np.array_equal(mask, act != 0) and np.all(values == 1.5)


def small_header():
    return trace.header("tiny", [trace.conv_layer("conv1", N=2, C=3, H=5, W=5, K=4, R=3, S=3, padding=1,
                                                  tensors=["input_act", "weight", "output_grad"]),
                                 trace.linear_layer("fc", N=2, C=8, K=3)], sparsity=0.5)


def write_small(path, masks_only=False):
    rng = np.random.default_rng(0)
    with trace.TraceWriter(path, small_header()) as w:
        for it in (0, 3):
            for name, shapes in (("conv1", {"input_act": (2, 3, 5, 5), "weight": (4, 3, 3, 3), "output_grad": (2, 4, 5, 5)}),
                                 ("fc", {"input_act": (2, 8), "weight": (3, 8), "saved_act": (2, 8), "output_grad": (2, 3)})):
                for tensor in trace.TENSORS:
                    if tensor in shapes:
                        a = rng.standard_normal(shapes[tensor]).astype(np.float32) * (rng.random(shapes[tensor]) < 0.4)
                        w.write_tensor(it, name, tensor, a, values=None if masks_only else "bfloat16")


def test_a_new_trace_validates_and_replays(tmp_path):
    p = str(tmp_path / "new.swt")
    write_small(p)
    assert validate(p).returncode == 0
    r = subprocess.run([SWATSIM, "run", "--arch", os.path.join(SRC, "configs/arch/tensordash-td.json"), "--trace", p,
                        "-q", "--csv", str(tmp_path / "r.csv")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert trace.Trace(p).iterations == [0, 3]


@pytest.mark.parametrize("bad, message", [
    (lambda w: w.write_tensor(0, "conv1", "weight", np.zeros((4, 3, 3, 2))), "disagrees with the layer table"),
    (lambda w: w.write_tensor(0, "conv9", "weight", np.zeros((4, 3, 3, 3))), "no layer"),
    (lambda w: w.write_tensor(0, "conv1", "saved_act", np.zeros((2, 3, 5, 5))), "does not list saved_act"),
    (lambda w: (w.write_tensor(0, "conv1", "weight", np.ones((4, 3, 3, 3))),
                w.write_tensor(0, "conv1", "input_act", np.ones((2, 3, 5, 5)))), "order"),
    (lambda w: w.write_tensor(0, "conv1", "input_act", np.full((2, 3, 5, 5), np.nan)), "NaN"),
    (lambda w: (w.write_tensor(0, "conv1", "input_act", np.ones((2, 3, 5, 5))), w.close()), "lacks"),
])
def test_bad_input_raises_and_leaves_nothing(tmp_path, bad, message):
    p = str(tmp_path / "bad.swt")
    with pytest.raises(trace.TraceError, match=message):
        with trace.TraceWriter(p, small_header()) as w:
            bad(w)
    assert os.listdir(tmp_path) == [], os.listdir(tmp_path)


def test_an_existing_path_is_kept_unless_overwrite(tmp_path):
    p = tmp_path / "exists.swt"
    p.write_bytes(b"mine")
    with pytest.raises(trace.TraceError, match="exists"):
        trace.TraceWriter(str(p), small_header())
    assert p.read_bytes() == b"mine"
    write_small(str(tmp_path / "new.swt"))
    h = trace.Trace(str(tmp_path / "new.swt")).header
    with trace.TraceWriter(str(p), h, overwrite=True) as w:
        t = trace.Trace(str(tmp_path / "new.swt"))
        for e in t.index:
            it, layer, kind = int(e["iteration"]), int(e["layer"]), int(e["kind"])
            w.write_tensor(it, layer, trace.TENSORS[kind], t.mask(it, layer, kind))
    assert validate(str(p)).returncode == 0


def test_bad_headers_are_refused_before_writing(tmp_path):
    h = small_header()
    h["layers"][1]["name"] = "conv1"
    with pytest.raises(trace.TraceError, match="unique"):
        trace.TraceWriter(str(tmp_path / "h.swt"), h)
    h = small_header()
    h["layers"][0]["Ho"] = 7
    with pytest.raises(trace.TraceError, match="Ho/Wo"):
        trace.TraceWriter(str(tmp_path / "h.swt"), h)
    assert os.listdir(tmp_path) == []


def test_a_killed_writer_leaves_no_trace(tmp_path):
    p = str(tmp_path / "k.swt")
    code = ("import sys, os, numpy as np; sys.path.insert(0, %r); from swatsim import trace; "
            "w = trace.TraceWriter(%r, trace.header('m', [trace.linear_layer('fc', N=1, C=4, K=2)])); "
            "w.write_tensor(0, 'fc', 'input_act', np.ones((1, 4))); os._exit(9)") % (os.path.join(SRC, "python"), p)
    assert subprocess.run([sys.executable, "-c", code]).returncode == 9
    assert not os.path.exists(p)
    assert validate(p).returncode == 2


def test_pip_installs_the_package_offline(tmp_path):
    """pip install --no-build-isolation ./python (Debian's setuptools, no network) gives an importable package."""
    import shutil
    src = tmp_path / "src"
    shutil.copytree(os.path.join(SRC, "python"), src, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    target = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps", "--no-index",
                        "--target", str(target), str(src)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    code = "import swatsim.trace, swatsim.results; print(swatsim.trace.__file__)"
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(target)},
                         capture_output=True, text=True, cwd=str(tmp_path))
    assert out.returncode == 0 and out.stdout.startswith(str(target)), out.stderr
