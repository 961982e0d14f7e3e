#!/usr/bin/python3
"""The same SWAT in C++ and in PyTorch (issue 10, docs/python.md): trains a model with swat-train and
again with swatsim.torch from the same initial weights (--save-init) and batches (--dump-batches), both
recording traces, and compares per-layer densities of every recorded tensor and the replayed speedups.

    scripts/python_equivalence.py --model resnet18 --iterations 30 --trace-every 10 --out results/python

Writes OUT/densities.csv (iteration, layer, tensor, C++ and PyTorch density), OUT/speedups.csv and
OUT/README.md. Needs the Release build (build/bin/swat-train, build/bin/swatsim) and python3-torch.
"""
import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))

import torch  # noqa: E402
from torch import nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from swatsim import torch as st  # noqa: E402
from swatsim import trace  # noqa: E402


class SmallCnn(nn.Module):
    """frontend/models/models.cpp: SmallCnn, names included."""

    def __init__(self, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1, bias=False)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, classes)
        self.bn1 = nn.BatchNorm2d(32)
        self.bn2 = nn.BatchNorm2d(64)

    def forward(self, x):
        x = F.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(torch.relu(self.bn2(self.conv2(x))), 2)
        return self.fc2(torch.relu(self.fc1(F.adaptive_avg_pool2d(x, (7, 7)).flatten(1))))


class BasicBlock(nn.Module):
    """frontend/models/models.cpp: BasicBlock (registration order = the C++ one)."""

    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = self.shortcut_bn = None
        if stride != 1 or cin != planes:
            self.shortcut = nn.Conv2d(cin, planes, 1, stride, 0, bias=False)
            self.shortcut_bn = nn.BatchNorm2d(planes)

    def forward(self, x):
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        s = self.shortcut_bn(self.shortcut(x)) if self.shortcut is not None else x
        return torch.relu(out + s)


class ResNet18(nn.Module):
    """frontend/models/models.cpp: ResNet, CIFAR form, BasicBlocks 2-2-2-2."""

    def __init__(self, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        cin = 64
        for stage in range(4):
            planes = 64 << stage
            blocks = []
            for i in range(2):
                blocks.append(BasicBlock(cin, planes, 2 if i == 0 and stage > 0 else 1))
                cin = planes
            setattr(self, f"layer{stage + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        for stage in range(4):
            x = getattr(self, f"layer{stage + 1}")(x)
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


MODELS = {"small-cnn": (SmallCnn, "fashion-mnist"), "resnet18": (ResNet18, "fashion-mnist")}


def replay(swatsim, arch, path, csv_path):
    subprocess.run([swatsim, "run", "--arch", arch, "--trace", path, "-q", "--csv", csv_path], check=True,
                   capture_output=True)
    by_pass = {}
    for r in csv.DictReader(open(csv_path)):
        c, b = by_pass.setdefault(r["pass"], [0, 0]), None
        c[0] += int(r["cycles"])
        c[1] += int(r["baseline_cycles"])
    return {p: v[1] / v[0] for p, v in sorted(by_pass.items())}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="small-cnn", choices=sorted(MODELS))
    ap.add_argument("--sparsity", type=float, default=0.8)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--trace-every", type=int, default=5)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="directory for densities.csv, speedups.csv and README.md")
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "bin"))
    a = ap.parse_args()
    torch.set_num_threads(1)
    model_cls, dataset = MODELS[a.model]
    swat_train, swatsim = os.path.join(a.build, "swat-train"), os.path.join(a.build, "swatsim")
    work = tempfile.mkdtemp(prefix="swatsim-equivalence.")
    cmd = [swat_train, "--model", a.model, "--dataset", dataset, "--sparsity", str(a.sparsity), "--batch", str(a.batch),
           "--iterations", str(a.iterations), "--schedule", "constant", "--lr", str(a.lr), "--seed", str(a.seed),
           "--threads", "1", "--no-eval", "--quiet", "--no-progress", "--save-init", f"{work}/init.pt",
           "--dump-batches", f"{work}/batches", "--trace", f"{work}/cpp.swt", "--trace-every", str(a.trace_every),
           "--trace-samples", "2"]
    t0 = time.time()
    subprocess.run(cmd, check=True)
    t_cpp = time.time() - t0
    m = model_cls(10)
    st.swat(m, a.sparsity)
    st.load_cpp_checkpoint(m, f"{work}/init.pt")
    opt = torch.optim.SGD(m.parameters(), lr=a.lr, momentum=0.9, weight_decay=5e-4)  # swat-train's defaults
    t0 = time.time()
    with st.TraceRecorder(m, f"{work}/py.swt", every=a.trace_every, samples=2, values=None,
                          swat_settings={"sparsity": a.sparsity}) as rec:
        for it in range(a.iterations):
            x, y = st.load_cpp_batch(f"{work}/batches/iteration-{it}.pt")
            loss = F.cross_entropy(m(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            rec.step()
    t_py = time.time() - t0
    c, p = trace.Trace(f"{work}/cpp.swt"), trace.Trace(f"{work}/py.swt")
    assert p.layers == c.layers, "layer tables differ"
    rows, worst, identical, total = [], 0.0, 0, 0
    for it in c.iterations:
        for i, layer in enumerate(c.layers):
            for t in layer["tensors"]:
                mc, mp = c.mask(it, i, t), p.mask(it, i, t)
                dc, dp = float(mc.mean()), float(mp.mean())
                worst = max(worst, abs(dc - dp))
                identical += int((mc == mp).all())
                total += 1
                rows.append((it, layer["name"], t, f"{dc:.6f}", f"{dp:.6f}", f"{100 * abs(dc - dp):.4f}"))
    arch = os.path.join(ROOT, "configs", "arch", "tensordash-16tiles.json")
    sc, sp = replay(swatsim, arch, f"{work}/cpp.swt", f"{work}/cpp.csv"), replay(swatsim, arch, f"{work}/py.swt", f"{work}/py.csv")
    print(f"{a.model}: {total} recorded tensors, {identical} identical masks, largest density difference "
          f"{100 * worst:.4f} points; speedups C++ {sc} PyTorch {sp}")
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        with open(os.path.join(a.out, f"{a.model}-densities.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["iteration", "layer", "tensor", "cpp_density", "pytorch_density", "difference_points"])
            w.writerows(rows)
        with open(os.path.join(a.out, f"{a.model}-speedups.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["pass", "cpp_speedup", "pytorch_speedup", "difference_percent"])
            for k in sc:
                w.writerow([k, f"{sc[k]:.6f}", f"{sp[k]:.6f}", f"{100 * abs(sc[k] - sp[k]) / sc[k]:.4f}"])
        with open(os.path.join(a.out, f"{a.model}-summary.txt"), "w") as f:
            f.write(f"command: scripts/python_equivalence.py {' '.join(sys.argv[1:])}\n")
            f.write(f"swat-train: {' '.join(os.path.basename(x) if x.startswith(work) or x == swat_train else x for x in cmd)}\n")
            f.write(f"recorded tensors {total}, identical masks {identical}, largest density difference "
                    f"{100 * worst:.4f} points (target <= 0.1)\n")
            for k in sc:
                f.write(f"{k}: speedup C++ {sc[k]:.4f}, PyTorch {sp[k]:.4f} (target: within 1%)\n")
            f.write(f"training time: C++ {t_cpp:.1f} s, PyTorch {t_py:.1f} s (one thread each)\n")
    ok = worst <= 0.001 and all(abs(sc[k] - sp[k]) <= 0.01 * sc[k] for k in sc)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
