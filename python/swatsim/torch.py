"""Record swatsim traces from any PyTorch training loop (docs/python.md).

    from swatsim.torch import TraceRecorder
    with TraceRecorder(model, "run.swt", every=100, samples=2) as rec:
        for x, y in loader:
            loss = loss_fn(model(x), y); opt.zero_grad(); loss.backward(); opt.step()
            rec.step()                       # marks the end of an iteration

Every `nn.Conv2d` and `nn.Linear` (grouped and strided convolutions included; equal stride and padding
in both dimensions, no dilation) becomes a layer named by its module name. For every `every`-th
iteration (0, every, 2*every, ...) the recorder keeps, for the first `samples` samples of the batch,
the layer's input activation (forward pre-hook), the weights the forward used, the saved activation
when the layer saves a different one than its input (SWAT does: `swatsim.torch.swat`), and the output
gradient (a tensor hook on the output). Hooks only read detached copies: training is unchanged.
The file is written atomically when the recorder closes (`close()` or the end of a `with` block); an
exception inside the block leaves nothing at the path.
"""
import math
import os
import sys

import torch
from torch import nn
import torch.nn.functional as F

from . import trace as _trace

TraceError = _trace.TraceError


def _pair(v, what, name):
    if isinstance(v, (tuple, list)):
        if len(set(v)) != 1:
            raise TraceError(f"layer '{name}': unequal {what} {'x'.join(map(str, v))} is not supported by the format")
        return int(v[0])
    return int(v)


class TraceRecorder(_trace._Finishing):
    def __init__(self, model, path, every=1, samples=2, layers=None, values="float32", dataset="custom",
                 model_name=None, seed=0, swat_settings=None, overwrite=False):
        if every < 1 or samples < 1:
            raise ValueError("every and samples must be >= 1")
        self.path, self.every, self.samples, self.values = path, int(every), int(samples), values
        self._model = model
        self._overwrite = overwrite
        if os.path.lexists(path) and not overwrite:  # say so now, not after the first recorded iteration
            raise TraceError(f"{path}: exists (pass overwrite=True to replace it when the new trace is complete)")
        self.model_name = model_name or type(model).__name__
        self.dataset, self.seed, self.swat_settings = dataset, seed, dict(swat_settings or {})
        self.iteration = 0
        self._modules = []
        for name, m in model.named_modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)) and (layers is None or name in layers):
                if isinstance(m, nn.Conv2d):
                    if _pair(m.dilation, "dilation", name) != 1:
                        raise TraceError(f"layer '{name}': dilation {m.dilation} is not supported by the format")
                    if isinstance(m.padding, str):
                        raise TraceError(f"layer '{name}': padding '{m.padding}': give it as a number")
                    _pair(m.stride, "stride", name), _pair(m.padding, "padding", name)
                self._modules.append((name, m))
        if layers is not None:
            missing = set(layers) - {n for n, _ in self._modules}
            if missing:
                raise TraceError(f"no Conv2d or Linear named {sorted(missing)} in the model")
        if not self._modules:
            raise TraceError("the model has no Conv2d or Linear layer to record")
        self._geometry = {}  # name -> layer-table entry, from the first forward
        self._pending = {}   # name -> {tensor: numpy array} for the iteration being recorded
        self._writer = None
        self._handles = []
        for name, m in self._modules:
            self._handles.append(m.register_forward_pre_hook(self._pre_hook(name)))
            self._handles.append(m.register_forward_hook(self._post_hook(name)))

    # -- hooks ----------------------------------------------------------------------------------------
    def _recording(self):
        return self.iteration % self.every == 0

    def _pre_hook(self, name):
        def hook(module, inputs):
            x = inputs[0]
            if name not in self._geometry:
                self._geometry[name] = self._layer_entry(name, module, x)
            if self._recording():
                self._pending.setdefault(name, {})["input_act"] = self._cut(x)
        return hook

    def _post_hook(self, name):
        def hook(module, inputs, output):
            if not self._recording():
                return
            p = self._pending.setdefault(name, {})
            w = getattr(module, "_swatsim_effective_weight", None)
            p["weight"] = (w if w is not None else module.weight).detach().cpu().numpy().copy()
            saved = getattr(module, "_swatsim_saved_input", None)
            if saved is not None:
                p["saved_act"] = self._cut(saved)
            if output.requires_grad:
                def grad_hook(g, p=p):
                    p["output_grad"] = self._cut(g)
                output.register_hook(grad_hook)
        return hook

    def _cut(self, t):
        a = t.detach()[: self.samples].cpu().numpy().copy()
        return a.reshape(a.shape + (1, 1)) if a.ndim == 2 else a

    def _layer_entry(self, name, m, x):
        n = min(self.samples, x.shape[0])
        if n < self.samples:
            raise TraceError(f"layer '{name}': batch {x.shape[0]} is smaller than samples={self.samples}")
        if isinstance(m, nn.Linear):
            if x.dim() != 2:
                raise TraceError(f"layer '{name}': a Linear input of {x.dim()} dimensions (the format holds (N, C))")
            e = _trace.linear_layer(name, N=n, C=m.in_features, K=m.out_features)
        else:
            e = _trace.conv_layer(name, N=n, C=m.in_channels, H=int(x.shape[2]), W=int(x.shape[3]), K=m.out_channels,
                                  R=m.kernel_size[0], S=m.kernel_size[1], stride=_pair(m.stride, "stride", name),
                                  padding=_pair(m.padding, "padding", name), groups=m.groups)
        # As swat-train: a saved activation of its own for a sparse layer whose activation sparsity is
        # above 0 when the table is made (a dense layer saves its input itself).
        st = getattr(m, "_swatsim_state", None)
        saves = st is not None and not st.dense and st.act_sparsity > 0
        e["tensors"] = ["input_act", "weight"] + (["saved_act"] if saves else []) + ["output_grad"]
        return e

    # -- iterations -----------------------------------------------------------------------------------
    def step(self):
        """Ends the current iteration: writes what it recorded (and counts the iteration for SWAT layers)."""
        if self._recording() and self._pending:
            self._flush()
        self._pending = {}
        self.iteration += 1
        next_iteration(self._model)

    def _flush(self):
        if self._writer is None:
            missing = [n for n, _ in self._modules if n not in self._geometry]
            if missing:
                raise TraceError(f"layers {missing} did not run in iteration {self.iteration}")
            layers = [self._geometry[n] for n, _ in self._modules]
            s = self.swat_settings
            h = _trace.header(self.model_name, layers, dataset=self.dataset, seed=self.seed,
                              batch_size=s.get("batch_size"), sparsity=s.get("sparsity", 0.0),
                              activation_sparsity=s.get("activation_sparsity"),
                              distribution=s.get("distribution", "uniform"), structure=s.get("structure", "unstructured"),
                              topk_period=s.get("topk_period", 1), sparsify_first=s.get("sparsify_first", False))
            self._writer = _trace.TraceWriter(self.path, h, overwrite=self._overwrite)
        for name, _ in self._modules:
            got = self._pending.get(name, {})
            for t in _trace.TENSORS:
                if t in self._geometry[name]["tensors"]:
                    if t not in got:
                        raise TraceError(f"iteration {self.iteration}, layer '{name}': no {t} was seen "
                                         f"(did backward run before step()?)")
                    self._writer.write_tensor(self.iteration, name, t, got[t], values=self.values)

    def _unhook(self):
        for h in self._handles:
            h.remove()
        self._handles = []

    def close(self):
        """Removes the hooks and finishes the trace (renamed into place)."""
        self._unhook()
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def abort(self):
        """Removes the hooks and drops the unfinished trace."""
        self._unhook()
        if self._writer is not None:
            self._writer.abort()
            self._writer = None


# --------------------------------------------------------------------------------------------------
# SWAT (Raihan & Aamodt, NeurIPS 2020), the same rules as the C++ frontend (frontend/swat/swat.cpp)

def keep_count(sparsity, n):
    """Top-K keeps K = ceil((1-s) n) elements (at least 1), computed as the C++ library does
    (traces::topk_keep_count: a guard of 64 ulps against (1-s) n landing a hair above an integer)."""
    if n <= 0:
        return 0
    k = math.ceil((1.0 - sparsity) * n - 64.0 * sys.float_info.epsilon * n)
    return min(max(k, 1), n)


def topk_mask(mag, k):
    """The k largest of `mag` (ties at the cut: the lowest flat indices), and the k-th largest value."""
    flat = mag.reshape(-1)
    n = flat.numel()
    if k >= n:
        return torch.ones_like(mag, dtype=torch.bool), 0.0
    kth = flat.kthvalue(n - k + 1).values
    ge = flat >= kth
    if int(ge.sum()) == k:
        return ge.reshape(mag.shape), float(kth)
    gt = flat > kth
    eq = flat == kth
    keep_eq = eq & (eq.cumsum(0) <= (k - int(gt.sum())))
    return (gt | keep_eq).reshape(mag.shape), float(kth)


class _SwatState:
    """Per layer: sparsities, structure, and the thresholds reused between top-K recomputations."""

    def __init__(self, weight_sparsity, act_sparsity, structure, period, dense):
        self.weight_sparsity, self.act_sparsity = weight_sparsity, act_sparsity
        self.structure, self.period, self.dense = structure, period, dense
        self.w_threshold = self.a_threshold = None
        self.w_at = self.a_at = -1
        self.w_sparsity_at = self.a_sparsity_at = None
        self.iteration = 0

    def due(self, at, sparsity_at, sparsity):
        """A threshold is recomputed when never computed, when the sparsity changed (SWAT-M) or every
        `period` iterations (frontend/swat/swat.cpp: SwatLayerImpl::due)."""
        return at < 0 or sparsity_at != sparsity or self.iteration < at or self.iteration - at >= max(1, self.period)


def _sparse_weight(st, w, training):
    if st.dense or st.weight_sparsity <= 0:
        return w
    if st.structure == "filter":
        score = w.abs().reshape(w.shape[0], -1).sum(1)
    elif st.structure == "channel" and w.dim() == 4:
        score = w.abs().sum((2, 3))
    else:
        score = w.abs()
    if st.w_threshold is None or st.w_sparsity_at != st.weight_sparsity or (training and st.due(st.w_at, st.w_sparsity_at, st.weight_sparsity)):
        mask, st.w_threshold = topk_mask(score, keep_count(st.weight_sparsity, score.numel()))
        st.w_at, st.w_sparsity_at = st.iteration, st.weight_sparsity
    else:
        mask = score >= st.w_threshold  # the reused threshold: density drifts between recomputations
    while mask.dim() < w.dim():
        mask = mask.unsqueeze(-1)
    return w.masked_fill(~mask.expand_as(w), 0.0)


def _sparse_activation(st, x, training):
    if st.dense or st.act_sparsity <= 0:
        return x
    mag = x.abs()
    if st.a_threshold is None or st.a_sparsity_at != st.act_sparsity or (training and st.due(st.a_at, st.a_sparsity_at, st.act_sparsity)):
        mask, st.a_threshold = topk_mask(mag, keep_count(st.act_sparsity, mag.numel()))
        st.a_at, st.a_sparsity_at = st.iteration, st.act_sparsity
    else:
        mask = mag >= st.a_threshold
    return x.masked_fill(~mask, 0.0)


class _SwatFunction(torch.autograd.Function):
    """y = op(x, topK(W)); backward: dX from topK(W), dW from the saved topK(X); dY stays dense."""

    @staticmethod
    def forward(ctx, x, w, b, ws, xs, conv):
        ctx.conv = conv
        ctx.has_bias = b is not None
        ctx.save_for_backward(ws, xs)
        if conv is None:
            return F.linear(x, ws, b)
        stride, padding, groups = conv
        return F.conv2d(x, ws, b, stride, padding, 1, groups)

    @staticmethod
    def backward(ctx, gy):
        ws, xs = ctx.saved_tensors
        if ctx.conv is None:
            gx, gw = gy @ ws, gy.t() @ xs
            gb = gy.sum(0) if ctx.has_bias else None
        else:  # the C++ frontend's call, so that both give the same numbers
            stride, padding, groups = ctx.conv
            gx, gw, gb = torch.ops.aten.convolution_backward(
                gy.contiguous(), xs, ws, [ws.shape[0]] if ctx.has_bias else None, list(stride), list(padding), [1, 1],
                False, [0, 0], groups, [True, True, ctx.has_bias])
            gb = gb if ctx.has_bias else None
        return gx, gw, gb, None, None, None


def _erk_densities(shapes, sparsity, dense_numel):
    """SWAT-ERK (RigL's Erdos-Renyi-kernel): density proportional to sum(shape) / prod(shape), scaled so
    that the weights kept, the dense layers' included, are (1 - sparsity) of all; a layer that would
    exceed density 1 is made dense (the largest first) and the rest rescaled (frontend: erk_densities)."""
    n = [float(math.prod(sh)) for sh in shapes]
    raw = [sum(sh) / math.prod(sh) for sh in shapes]
    keep = (1.0 - sparsity) * (dense_numel + sum(n))
    if shapes and dense_numel >= keep:
        raise ValueError(f"ERK at {sparsity} cannot reach its global target: the dense layers alone hold {dense_numel} "
                         f"of the {keep:.0f} weights it may keep")
    dense, d = [False] * len(shapes), [1.0] * len(shapes)
    while True:
        rest = keep - dense_numel - sum(n[i] for i in range(len(n)) if dense[i])
        denom = sum(raw[i] * n[i] for i in range(len(n)) if not dense[i])
        if denom <= 0:
            return d
        eps = rest / denom
        over = [i for i in range(len(n)) if not dense[i] and eps * raw[i] > 1.0]
        if not over:
            return [1.0 if dense[i] else eps * raw[i] for i in range(len(n))]
        dense[max(over, key=lambda i: (raw[i], -i))] = True


def _share_densities(numels, scores, sparsity):
    """SWAT-M: the kept weights shared in proportion to each layer's mean |momentum|, capped at dense, at
    least one weight per layer (frontend: share_densities)."""
    total, score_sum = float(sum(numels)), float(sum(scores))
    d = [1.0 - sparsity] * len(numels)
    if not score_sum > 0:
        return d
    keep = (1.0 - sparsity) * total
    capped = [False] * len(numels)
    while True:
        rest = keep - sum(float(numels[i]) for i in range(len(numels)) if capped[i])
        denom = sum(scores[i] for i in range(len(numels)) if not capped[i])
        if denom <= 0:
            break
        eps = rest / denom
        changed = False
        for i in range(len(numels)):
            if not capped[i] and eps * scores[i] > numels[i]:
                capped[i] = changed = True
        if not changed:
            d = [1.0 if capped[i] else eps * scores[i] / numels[i] for i in range(len(numels))]
            break
    return [min(max(x, 1.0 / numels[i]), 1.0) for i, x in enumerate(d)]


def swat(model, sparsity=0.8, distribution="uniform", structure="unstructured", topk_period=1,
         sparsify_first=False, activation_sparsity=None, optimizer=None):
    """Makes every Conv2d and Linear of `model` train with SWAT: forward with top-K weights, backward with
    top-K weights (input gradient) and the top-K activation saved in the forward (weight gradient).
    The first layer stays dense unless `sparsify_first`. A layer's activation sparsity equals its weight
    sparsity unless `activation_sparsity` is given. Thresholds are recomputed every `topk_period`
    training iterations (counted by `swatsim.torch.next_iteration(model)` or a TraceRecorder's step()), and
    reused in between. distribution: "uniform" (SWAT-U), "erk" (SWAT-ERK) or "momentum" (SWAT-M: every
    `topk_period` iterations the kept weights are reshared in proportion to each layer's mean |momentum|,
    read from `optimizer`, a torch.optim.SGD with momentum). The same rules as the C++ frontend
    (frontend/swat/swat.cpp). Returns the model."""
    if not 0 <= sparsity < 1:
        raise ValueError(f"sparsity {sparsity} is outside [0, 1)")
    if distribution not in ("uniform", "erk", "momentum"):
        raise ValueError(f"distribution {distribution!r}: uniform, erk or momentum")
    if distribution == "momentum" and optimizer is None:
        raise ValueError("SWAT-M reshares the weights by the optimizer's momentum: pass optimizer=")
    if structure not in ("unstructured", "channel", "filter"):
        raise ValueError(f"structure {structure!r}: unstructured, channel or filter")
    if activation_sparsity is not None and not 0 <= activation_sparsity < 1:
        raise ValueError(f"activation_sparsity {activation_sparsity} is outside [0, 1)")
    layers = [(n, m) for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    states = []
    for i, (name, m) in enumerate(layers):
        dense = i == 0 and not sparsify_first
        st = _SwatState(0.0, 0.0, structure, topk_period, dense)
        conv = (m.stride, m.padding, m.groups) if isinstance(m, nn.Conv2d) else None

        def forward(x, m=m, st=st, conv=conv):
            w_s = _sparse_weight(st, m.weight.detach(), m.training)
            x_s = _sparse_activation(st, x.detach(), m.training)
            m._swatsim_effective_weight = w_s
            m._swatsim_saved_input = x_s if not st.dense else None
            return _SwatFunction.apply(x, m.weight, m.bias, w_s, x_s, conv)

        m.forward = forward
        m._swatsim_state = st
        states.append((m, st))
    model._swatsim_swat = {"sparsity": sparsity, "activation_sparsity": activation_sparsity,
                           "distribution": distribution, "period": max(1, int(topk_period)), "optimizer": optimizer,
                           "layers": states, "iteration": 0}
    _distribute(model._swatsim_swat, None)
    return model


def _distribute(spec, momentum):
    """Sets every sparse layer's weight and activation sparsity (frontend: apply_distribution)."""
    sparse = [(m, st) for m, st in spec["layers"] if not st.dense]
    s = spec["sparsity"]
    density = [1.0 - s] * len(sparse)
    if s > 0 and spec["distribution"] == "erk":
        dense_numel = sum(m.weight.numel() for m, st in spec["layers"] if st.dense)
        density = _erk_densities([tuple(m.weight.shape) for m, _ in sparse], s, dense_numel)
    elif s > 0 and spec["distribution"] == "momentum" and momentum is not None:
        density = _share_densities([m.weight.numel() for m, _ in sparse], momentum, s)
    for (m, st), d in zip(sparse, density):
        st.weight_sparsity = min(max(1.0 - d, 0.0), 1.0)
        a = spec["activation_sparsity"]
        st.act_sparsity = a if a is not None else st.weight_sparsity


def next_iteration(model):
    """Counts one training iteration for every SWAT layer of `model` (the top-K period), and for SWAT-M
    reshares the weights every period; a TraceRecorder's step() does it for the model it records."""
    for m in model.modules():
        st = getattr(m, "_swatsim_state", None)
        if st is not None:
            st.iteration += 1
    spec = getattr(model, "_swatsim_swat", None)
    if spec is None:
        return
    spec["iteration"] += 1
    if spec["distribution"] == "momentum" and spec["iteration"] % spec["period"] == 0:
        mom = []
        for m, st in spec["layers"]:
            if st.dense:
                continue
            buf = spec["optimizer"].state.get(m.weight, {}).get("momentum_buffer")
            mom.append(float(buf.abs().mean()) if buf is not None else 0.0)
        _distribute(spec, mom)


def load_cpp_checkpoint(model, path):
    """Copies the weights and buffers of a `swat-train --checkpoint/--save-init` file into `model`, whose
    parameter names must be the C++ model's (`conv1.weight`, `bn1.running_mean`, ...). Returns the
    checkpoint's iteration. A missing or extra name is a TraceError naming it."""
    archive = torch.jit.load(path, map_location="cpu")
    stored = dict(archive.named_parameters())
    stored.update(dict(archive.named_buffers()))
    stored.update({n: getattr(archive, n) for n in dir(archive) if n.startswith(("param.", "buffer.", "meta."))
                   and n not in stored})
    state = model.state_dict()
    for name in state:
        key = ("buffer." if name.split(".")[-1] in ("running_mean", "running_var", "num_batches_tracked") else "param.") + name
        if key not in stored:
            raise TraceError(f"{path}: no {key} (the C++ model's names must match the PyTorch model's)")
        state[name] = stored[key].detach().clone() if isinstance(stored[key], torch.Tensor) else torch.tensor(stored[key])
    extra = {k for k in stored if k.startswith("param.") and k[6:] not in state}
    if extra:
        raise TraceError(f"{path}: the PyTorch model lacks {sorted(extra)}")
    model.load_state_dict(state)
    it = stored.get("meta.iteration")
    return int(it) if it is not None else 0


def load_cpp_batch(path):
    """(inputs, labels) of one `swat-train --dump-batches` iteration file."""
    archive = torch.jit.load(path, map_location="cpu")
    stored = dict(archive.named_buffers())
    stored.update(dict(archive.named_parameters()))
    x = stored.get("x", getattr(archive, "x", None))
    y = stored.get("y", getattr(archive, "y", None))
    return x.detach().clone(), y.detach().clone()
