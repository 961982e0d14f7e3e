"""swatsim.torch: the recorder does not change training, records a trace the C++ tools accept and
replay, and SWAT in PyTorch keeps the C++ frontend's top-K counts on the same layer table (checked
against a trace swat-train records). Needs Debian's python3-torch (scripts/setup.sh installs it)."""
import os
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

SRC = os.environ["SWATSIM_SRC"]
SWATSIM = os.environ["SWATSIM"]
SWAT_TRAIN = os.environ.get("SWAT_TRAIN", "")
sys.path.insert(0, os.path.join(SRC, "python"))
from swatsim import trace  # noqa: E402
from swatsim import torch as st  # noqa: E402

torch.set_num_threads(1)


class SmallCnn(nn.Module):
    """The C++ frontend's small-cnn (frontend/models): conv 1->32, pool, conv 32->64, pool, fc 3136->128, fc 128->10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc2(torch.relu(self.fc1(x.flatten(1))))


def model(seed=0):
    torch.manual_seed(seed)
    return SmallCnn()


def train(m, steps, recorder=None, batch=8):
    g = torch.Generator().manual_seed(1)
    opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(steps):
        x = torch.rand(batch, 1, 28, 28, generator=g)
        y = torch.randint(0, 10, (batch,), generator=g)
        loss = nn.functional.cross_entropy(m(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if recorder is not None:
            recorder.step()
        else:
            st.next_iteration(m)
    return losses


@pytest.mark.parametrize("use_swat", [False, True])
def test_recording_does_not_change_training(tmp_path, use_swat):
    plain = model()
    recorded = model()
    if use_swat:
        st.swat(plain, 0.8, topk_period=2)
        st.swat(recorded, 0.8, topk_period=2)
    a = train(plain, 5)
    with st.TraceRecorder(recorded, str(tmp_path / "r.swt"), every=2, samples=2) as rec:
        b = train(recorded, 5, rec)
    assert a == b
    t = trace.Trace(str(tmp_path / "r.swt"))
    assert t.iterations == [0, 2, 4]
    assert [l["name"] for l in t.layers] == ["conv1", "conv2", "fc1", "fc2"]


def test_recorded_trace_validates_and_replays(tmp_path):
    m = st.swat(model(), 0.8)
    p = str(tmp_path / "swat.swt")
    with st.TraceRecorder(m, p, every=1, samples=2, swat_settings={"sparsity": 0.8}) as rec:
        train(m, 2, rec)
    assert subprocess.run([SWATSIM, "trace", "validate", p], capture_output=True).returncode == 0
    r = subprocess.run([SWATSIM, "run", "--arch", os.path.join(SRC, "configs/arch/tensordash-td.json"), "--trace", p,
                        "-q", "--csv", str(tmp_path / "r.csv")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    t = trace.Trace(p)
    assert t.header["swat"]["sparsity"] == 0.8
    # SWAT: the first layer dense (no saved activation), the others save their top-K activation.
    assert [l["tensors"] for l in t.layers][0] == ["input_act", "weight", "output_grad"]
    assert all("saved_act" in l["tensors"] for l in t.layers[1:])
    for i, l in enumerate(t.layers[1:], 1):
        w = t.mask(0, i, "weight")
        assert int(w.sum()) == st.keep_count(0.8, w.size)


@pytest.mark.skipif(not SWAT_TRAIN, reason="SWAT_TRAIN (the C++ frontend) not given")
def test_same_layer_table_and_topk_counts_as_the_cpp_frontend(tmp_path):
    cpp = str(tmp_path / "cpp.swt")
    subprocess.run([SWAT_TRAIN, "--model", "small-cnn", "--dataset", "synthetic", "--sparsity", "0.8", "--batch", "8",
                    "--iterations", "1", "--trace", cpp, "--trace-samples", "2", "--threads", "1", "--no-eval",
                    "--quiet"], check=True, capture_output=True)
    m = st.swat(model(), 0.8)
    py = str(tmp_path / "py.swt")
    with st.TraceRecorder(m, py, every=1, samples=2) as rec:
        train(m, 1, rec)
    c, p = trace.Trace(cpp), trace.Trace(py)
    assert [l for l in p.layers] == [l for l in c.layers]  # geometry, names and tensor lists
    for i in range(len(c.layers)):
        assert int(p.mask(0, i, "weight").sum()) == int(c.mask(c.iterations[0], i, "weight").sum())


class CppSmallCnn(nn.Module):
    """swat-train's small-cnn exactly (frontend/models/models.cpp), parameter names included."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1, bias=False)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)
        self.bn1 = nn.BatchNorm2d(32)
        self.bn2 = nn.BatchNorm2d(64)

    def forward(self, x):
        f = nn.functional
        x = f.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
        x = f.max_pool2d(torch.relu(self.bn2(self.conv2(x))), 2)
        x = f.adaptive_avg_pool2d(x, (7, 7)).flatten(1)
        return self.fc2(torch.relu(self.fc1(x)))


def replay_speedup(path, tmp_path, tag):
    csv = str(tmp_path / f"{tag}.csv")
    subprocess.run([SWATSIM, "run", "--arch", os.path.join(SRC, "configs/arch/tensordash-16tiles.json"), "--trace", path,
                    "-q", "--csv", csv], check=True, capture_output=True)
    import csv as csvmod
    rows = list(csvmod.DictReader(open(csv)))
    return sum(int(r["baseline_cycles"]) for r in rows) / sum(int(r["cycles"]) for r in rows)


@pytest.mark.skipif(not SWAT_TRAIN, reason="SWAT_TRAIN (the C++ frontend) not given")
@pytest.mark.parametrize("distribution, period", [("uniform", 1), ("erk", 2), ("momentum", 2)])
def test_same_swat_as_the_cpp_frontend(tmp_path, distribution, period):
    """The same model, initial weights (swat-train --save-init), data (--dump-batches) and sparsity: every
    recorded mask of 4 iterations agrees between the C++ frontend and swatsim.torch (the issue asks for
    densities within 0.1 point; on one thread with the same LibTorch they are identical), and so do the
    replayed speedups."""
    d = tmp_path
    subprocess.run([SWAT_TRAIN, "--model", "small-cnn", "--dataset", "synthetic", "--sparsity", "0.8", "--batch", "16",
                    "--iterations", "4", "--schedule", "constant", "--lr", "0.05", "--threads", "1", "--no-eval",
                    "--distribution", distribution, "--topk-period", str(period),
                    "--quiet", "--no-progress", "--save-init", str(d / "init.pt"), "--dump-batches", str(d / "batches"),
                    "--trace", str(d / "cpp.swt"), "--trace-samples", "2"], check=True, capture_output=True)
    m = CppSmallCnn()
    opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)  # swat-train's defaults
    st.swat(m, 0.8, distribution=distribution, topk_period=period, optimizer=opt)
    assert st.load_cpp_checkpoint(m, str(d / "init.pt")) == 0
    with st.TraceRecorder(m, str(d / "py.swt"), every=1, samples=2, values=None) as rec:
        for it in range(4):
            x, y = st.load_cpp_batch(str(d / "batches" / f"iteration-{it}.pt"))
            loss = nn.functional.cross_entropy(m(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            rec.step()
    c, p = trace.Trace(str(d / "cpp.swt")), trace.Trace(str(d / "py.swt"))
    assert p.layers == c.layers and p.iterations == c.iterations == [0, 1, 2, 3]
    for it in c.iterations:
        for i, layer in enumerate(c.layers):
            for t in layer["tensors"]:
                a, b = c.mask(it, i, t), p.mask(it, i, t)
                assert abs(a.mean() - b.mean()) <= 0.001, (it, layer["name"], t)
                if t == "weight":
                    assert int(a.sum()) == int(b.sum())
    sc, sp = replay_speedup(str(d / "cpp.swt"), d, "cpp"), replay_speedup(str(d / "py.swt"), d, "py")
    assert abs(sc - sp) <= 0.01 * sc, (sc, sp)


def test_topk_rules():
    x = torch.tensor([3.0, -3.0, 1.0, 2.0, -2.0, 0.5])
    mask, kth = st.topk_mask(x.abs(), 3)
    assert mask.tolist() == [True, True, False, True, False, False] and kth == 2.0  # tie at 2: lowest index
    assert st.keep_count(0.8, 18432) == 3687 and st.keep_count(0.9, 10) == 1 and st.keep_count(0.0, 7) == 7
    # ERK: the weights kept, a dense layer's included, hit the target; small layers get more.
    shapes = [(16, 16, 3, 3), (256, 16, 3, 3), (10, 4096)]
    d = st._erk_densities(shapes, 0.8, dense_numel=432)
    n = [float(np.prod(sh)) for sh in shapes]
    assert abs((432 + sum(di * ni for di, ni in zip(d, n))) / (432 + sum(n)) - 0.2) < 1e-9
    assert d[0] > d[1]
    # SWAT-M: shares by momentum, capped at dense, at least one weight each.
    assert st._share_densities([100, 100], [3.0, 1.0], 0.5) == [0.75, 0.25]
    assert st._share_densities([10, 1000], [1.0, 1.0], 0.5) == [1.0, 0.495]


def test_bad_models_are_refused(tmp_path):
    with pytest.raises(trace.TraceError, match="dilation"):
        st.TraceRecorder(nn.Conv2d(1, 2, 3, dilation=2), str(tmp_path / "d.swt"))
    with pytest.raises(trace.TraceError, match="unequal stride"):
        st.TraceRecorder(nn.Conv2d(1, 2, 3, stride=(1, 2)), str(tmp_path / "s.swt"))
    with pytest.raises(trace.TraceError, match="no Conv2d or Linear"):
        st.TraceRecorder(nn.ReLU(), str(tmp_path / "n.swt"))
    with pytest.raises(ValueError, match="sparsity"):
        st.swat(model(), 1.0)
    assert os.listdir(tmp_path) == []
