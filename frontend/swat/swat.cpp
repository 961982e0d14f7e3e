#include "swat/swat.hpp"
#include "swatsim/traces/format.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "swatsim/common/error.hpp"

namespace swatsim::frontend {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

Structure structure_from_string(const std::string& s) {
  if (s == "unstructured") return Structure::Unstructured;
  if (s == "channel") return Structure::Channel;
  if (s == "filter") return Structure::Filter;
  throw InputError("--structure", "unknown structure '" + s + "' (expected unstructured, channel or filter)");
}
Distribution distribution_from_string(const std::string& s) {
  if (s == "uniform") return Distribution::Uniform;
  if (s == "erk") return Distribution::Erk;
  if (s == "momentum") return Distribution::Momentum;
  throw InputError("--distribution", "unknown distribution '" + s + "' (expected uniform, erk or momentum)");
}
const char* to_string(Structure s) {
  switch (s) {
    case Structure::Unstructured: return "unstructured";
    case Structure::Channel: return "channel";
    case Structure::Filter: return "filter";
  }
  return "?";
}
const char* to_string(Distribution d) {
  switch (d) {
    case Distribution::Uniform: return "uniform";
    case Distribution::Erk: return "erk";
    case Distribution::Momentum: return "momentum";
  }
  return "?";
}

int64_t keep_count(double sparsity, int64_t n) {
  return n <= 0 ? 0 : int64_t(traces::topk_keep_count(sparsity, uint64_t(n)));
}

torch::Tensor topk_mask(const torch::Tensor& mag, int64_t k, double* threshold) {
  const int64_t n = mag.numel();
  auto flat = mag.reshape({-1});
  if (k >= n) {
    if (threshold) *threshold = 0.0;  // with ">= 0" every element is kept
    return torch::ones_like(mag, torch::kBool);
  }
  // k-th largest = (n-k+1)-th smallest.
  auto kth = std::get<0>(flat.kthvalue(n - k + 1));
  if (threshold) *threshold = kth.item<double>();
  auto ge = flat >= kth;
  if (ge.sum().item<int64_t>() == k) return ge.reshape(mag.sizes());  // no tie straddles the cut
  auto gt = flat > kth;
  const int64_t above = gt.sum().item<int64_t>();
  auto eq = flat == kth;
  // Tie rule: among elements equal to the k-th largest, keep the lowest flat indices.
  auto keep_eq = eq & (eq.cumsum(0) <= (k - above));
  return (gt | keep_eq).reshape(mag.sizes());
}

namespace {

struct SwatConvFn : public torch::autograd::Function<SwatConvFn> {
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor x, torch::Tensor w, torch::Tensor b,
                               torch::Tensor w_s, torch::Tensor x_s, int64_t stride, int64_t padding,
                               int64_t groups) {
    (void)w;
    ctx->save_for_backward({x_s, w_s});
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["padding"] = padding;
    ctx->saved_data["groups"] = groups;
    const bool has_bias = b.numel() > 0;  // no bias: an empty placeholder (apply rejects undefined inputs)
    ctx->saved_data["bias"] = has_bias;
    return torch::conv2d(x, w_s, has_bias ? b : torch::Tensor(), {stride, stride}, {padding, padding}, {1, 1},
                         groups);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto& x_s = saved[0];
    const auto& w_s = saved[1];
    const int64_t stride = ctx->saved_data["stride"].toInt();
    const int64_t padding = ctx->saved_data["padding"].toInt();
    const int64_t groups = ctx->saved_data["groups"].toInt();
    const bool has_bias = ctx->saved_data["bias"].toBool();
    std::vector<int64_t> bias_sizes{w_s.size(0)};
    // dX = conv_backward_input(dY, topK(W)); dW = conv_backward_weight(dY, topK(X)); dY dense.
    auto r = at::convolution_backward(
        grads[0].contiguous(), x_s, w_s,
        has_bias ? at::OptionalIntArrayRef(bias_sizes) : at::OptionalIntArrayRef(c10::nullopt),
        {stride, stride}, {padding, padding}, {1, 1}, false, {0, 0}, groups,
        {ctx->needs_input_grad(0), ctx->needs_input_grad(1), has_bias && ctx->needs_input_grad(2)});
    return {std::get<0>(r), std::get<1>(r), has_bias ? std::get<2>(r) : torch::Tensor(),
            torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

struct SwatLinearFn : public torch::autograd::Function<SwatLinearFn> {
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor x, torch::Tensor w, torch::Tensor b,
                               torch::Tensor w_s, torch::Tensor x_s) {
    (void)w;
    ctx->save_for_backward({x_s, w_s});
    const bool has_bias = b.numel() > 0;
    ctx->saved_data["bias"] = has_bias;
    return torch::linear(x, w_s, has_bias ? b : torch::Tensor());
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto& x_s = saved[0];
    const auto& w_s = saved[1];
    const bool has_bias = ctx->saved_data["bias"].toBool();
    const auto& dy = grads[0];
    torch::Tensor dx, dw, db;
    if (ctx->needs_input_grad(0)) dx = dy.mm(w_s);      // dx = dy . W_s
    if (ctx->needs_input_grad(1)) dw = dy.t().mm(x_s);  // dW = dy^T . x_s
    if (has_bias && ctx->needs_input_grad(2)) db = dy.sum(0);
    return {dx, dw, db, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

SwatLayerImpl::SwatLayerImpl(SwatLayerOptions o, std::shared_ptr<SwatContext> ctx)
    : opt_(o), ctx_(std::move(ctx)) {
  if (opt_.linear) {
    weight = register_parameter("weight", torch::empty({opt_.out, opt_.in}));
    // LibTorch's default Linear init: kaiming_uniform(a=sqrt(5)), bias U(-1/sqrt(fan_in), ..).
    torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
  } else {
    weight = register_parameter(
        "weight", torch::empty({opt_.out, opt_.in / opt_.groups, opt_.kernel, opt_.kernel}));
    torch::nn::init::kaiming_normal_(weight, 0.0, torch::kFanOut, torch::kReLU);
  }
  if (opt_.bias) {
    const double fan_in = double(weight.numel() / weight.size(0));
    const double bound = 1.0 / std::sqrt(fan_in);
    bias = register_parameter("bias", torch::empty({opt_.out}).uniform_(-bound, bound));
  }
}

bool SwatLayerImpl::due(int64_t computed_at, double sparsity_at, double sparsity) const {
  if (computed_at < 0 || sparsity_at != sparsity) return true;
  if (!is_training()) return false;
  const int64_t it = ctx_->iteration;
  return it < computed_at || it - computed_at >= std::max<int64_t>(1, ctx_->topk_period);
}

double SwatLayerImpl::target_weight_density() const {
  if (dense || weight_sparsity <= 0.0) return 1.0;
  const int64_t n = weight.numel();
  int64_t units = n;  // elements
  if (structure == Structure::Filter) units = weight.size(0);
  else if (structure == Structure::Channel && !opt_.linear) units = weight.size(0) * weight.size(1);
  return double(keep_count(weight_sparsity, units)) / double(units);
}

torch::Tensor SwatLayerImpl::sparse_weight(double* density) {
  torch::NoGradGuard ng;
  auto w = weight.detach();
  if (density) *density = 1.0;
  if (dense || weight_sparsity <= 0.0) return w;
  const bool recompute = due(w_computed_at, w_sparsity_at, weight_sparsity);
  torch::Tensor mask;
  auto select = [&](const torch::Tensor& score) {
    if (recompute) {
      auto m = topk_mask(score, keep_count(weight_sparsity, score.numel()), &w_threshold);
      w_computed_at = ctx_->iteration;
      w_sparsity_at = weight_sparsity;
      return m;
    }
    return score >= w_threshold;  // reused threshold: the density drifts
  };
  switch (structure) {
    case Structure::Unstructured: mask = select(w.abs()); break;
    case Structure::Channel: {
      if (opt_.linear) { mask = select(w.abs()); break; }
      auto m = select(w.abs().sum({2, 3}));  // (K, C/g): L1 norm of each kernel slice
      mask = m.unsqueeze(-1).unsqueeze(-1).expand_as(w);
      break;
    }
    case Structure::Filter: {
      auto m = select(w.abs().reshape({w.size(0), -1}).sum(1));  // (K): L1 norm of each filter
      std::vector<int64_t> shape(size_t(w.dim()), 1);
      shape[0] = w.size(0);
      mask = m.reshape(shape).expand_as(w);
      break;
    }
  }
  if (density) *density = double(mask.sum().item<int64_t>()) / double(mask.numel());
  return w.masked_fill(mask.logical_not(), 0.0);
}

torch::Tensor SwatLayerImpl::sparse_activation(const torch::Tensor& x, double* density) {
  torch::NoGradGuard ng;
  auto xd = x.detach();
  *density = 1.0;
  if (dense || act_sparsity <= 0.0) return xd;
  auto mag = xd.abs();
  torch::Tensor mask;
  if (due(a_computed_at, a_sparsity_at, act_sparsity)) {
    mask = topk_mask(mag, keep_count(act_sparsity, mag.numel()), &a_threshold);
    a_computed_at = ctx_->iteration;
    a_sparsity_at = act_sparsity;
  } else {
    mask = mag >= a_threshold;
  }
  *density = double(mask.sum().item<int64_t>()) / double(mask.numel());
  return xd.masked_fill(mask.logical_not(), 0.0);
}

torch::Tensor SwatLayerImpl::forward(const torch::Tensor& x) {
  in_shape = x.sizes().vec();
  if (opt_.linear) in_shape = {x.size(0), x.size(1), 1, 1};
  if (ctx_->probe) ctx_->probe->push_back(this);
  torch::Tensor y;
  if (ctx_->plain) {
    y = opt_.linear ? torch::linear(x, weight, bias)
                    : torch::conv2d(x, weight, bias, {opt_.stride, opt_.stride}, {opt_.padding, opt_.padding},
                                    {1, 1}, opt_.groups);
    out_shape = y.sizes().vec();
    if (opt_.linear) out_shape = {y.size(0), y.size(1), 1, 1};
    return y;
  }
  double w_density = 1.0, a_density = 1.0;
  auto w_s = sparse_weight(is_training() && ctx_->track_density ? &w_density : nullptr);
  if (!is_training()) {
    y = opt_.linear ? torch::linear(x, w_s, bias)
                    : torch::conv2d(x, w_s, bias, {opt_.stride, opt_.stride},
                                    {opt_.padding, opt_.padding}, {1, 1}, opt_.groups);
  } else {
    auto x_s = sparse_activation(x, &a_density);
    if (ctx_->track_density) {
      weight_density = w_density;
      act_density = a_density;
    }
    if (!no_bias_.defined()) no_bias_ = torch::empty({0}, weight.options().requires_grad(false));
    const auto& b = bias.defined() ? bias : no_bias_;
    y = opt_.linear ? SwatLinearFn::apply(x, weight, b, w_s, x_s)
                    : SwatConvFn::apply(x, weight, b, w_s, x_s, opt_.stride, opt_.padding, opt_.groups);
    if (ctx_->record && y.requires_grad()) {
      const int64_t b = std::min<int64_t>(ctx_->record_samples, x.size(0));
      rec_x = x.detach().slice(0, 0, b).clone();
      rec_xs = x_s.slice(0, 0, b).clone();
      rec_w = w_s.clone();
      y.register_hook([this, b](torch::Tensor g) {
        rec_dy = g.detach().slice(0, 0, b).clone();
        return torch::Tensor();
      });
    }
  }
  out_shape = y.sizes().vec();
  if (opt_.linear) out_shape = {y.size(0), y.size(1), 1, 1};
  return y;
}

std::vector<double> erk_densities(const std::vector<std::vector<int64_t>>& shapes, double sparsity,
                                  int64_t dense_numel) {
  const size_t L = shapes.size();
  std::vector<double> n(L), raw(L), d(L, 1.0);
  double total = double(dense_numel);
  for (size_t i = 0; i < L; ++i) {
    double prod = 1.0, sum = 0.0;
    for (auto v : shapes[i]) { prod *= double(v); sum += double(v); }
    n[i] = prod;
    raw[i] = sum / prod;
    total += prod;
  }
  const double keep = (1.0 - sparsity) * total;
  if (L > 0 && double(dense_numel) >= keep)
    throw InputError("--sparsity", fmt::format("ERK at {} cannot reach its global target: the dense layers alone "
                                               "hold {} of the {:.0f} weights it may keep",
                                               sparsity, dense_numel, keep));
  std::vector<bool> is_dense(L, false);
  for (;;) {
    double rest = keep - double(dense_numel), denom = 0.0;
    for (size_t i = 0; i < L; ++i) {
      if (is_dense[i]) rest -= n[i]; else denom += raw[i] * n[i];
    }
    if (denom <= 0.0) break;
    const double eps = rest / denom;
    size_t worst = L;
    for (size_t i = 0; i < L; ++i)
      if (!is_dense[i] && eps * raw[i] > 1.0 && (worst == L || raw[i] > raw[worst])) worst = i;
    if (worst == L) {
      for (size_t i = 0; i < L; ++i) d[i] = is_dense[i] ? 1.0 : eps * raw[i];
      break;
    }
    is_dense[worst] = true;
  }
  return d;
}

std::vector<double> share_densities(const std::vector<int64_t>& numels, const std::vector<double>& scores,
                                    double sparsity) {
  const size_t L = numels.size();
  double total = 0.0, score_sum = 0.0;
  for (size_t i = 0; i < L; ++i) { total += double(numels[i]); score_sum += scores[i]; }
  std::vector<double> d(L, 1.0 - sparsity);
  if (!(score_sum > 0.0)) return d;
  const double keep = (1.0 - sparsity) * total;
  std::vector<bool> capped(L, false);
  for (;;) {
    double rest = keep, denom = 0.0;
    for (size_t i = 0; i < L; ++i) {
      if (capped[i]) rest -= double(numels[i]); else denom += scores[i];
    }
    if (denom <= 0.0) break;
    const double eps = rest / denom;
    bool changed = false;
    for (size_t i = 0; i < L; ++i) {
      if (!capped[i] && eps * scores[i] > double(numels[i])) { capped[i] = true; changed = true; }
    }
    if (!changed) {
      for (size_t i = 0; i < L; ++i) d[i] = capped[i] ? 1.0 : eps * scores[i] / double(numels[i]);
      break;
    }
  }
  // A layer with zero momentum would get no weights at all; keep at least one.
  for (size_t i = 0; i < L; ++i) d[i] = std::clamp(d[i], 1.0 / double(numels[i]), 1.0);
  return d;
}

void apply_distribution(const std::vector<SwatLayerImpl*>& layers, const DistributionSpec& spec,
                        const std::vector<double>& momentum_mean_abs) {
  std::vector<SwatLayerImpl*> sparse;
  for (size_t i = 0; i < layers.size(); ++i) {
    auto* l = layers[i];
    l->structure = spec.structure;
    // Only the first layer is never sparsified; weight and activation sparsity of the others are
    // decided per tensor below (--sparsity 0 --act-sparsity A sparsifies activations only).
    l->dense = i == 0 && !spec.sparsify_first;
    if (l->dense) {
      l->weight_sparsity = 0.0;
      l->act_sparsity = 0.0;
    } else {
      sparse.push_back(l);
    }
  }
  std::vector<double> density(sparse.size(), 1.0 - spec.sparsity);
  if (spec.sparsity <= 0.0) {
    // dense weights: nothing to distribute
  } else if (spec.distribution == Distribution::Erk) {
    std::vector<std::vector<int64_t>> shapes;
    for (auto* l : sparse) shapes.push_back(l->weight.sizes().vec());
    int64_t dense_numel = 0;  // the dense first layer is charged against the global budget (RigL)
    for (auto* l : layers)
      if (l->dense) dense_numel += l->weight.numel();
    density = erk_densities(shapes, spec.sparsity, dense_numel);
  } else if (spec.distribution == Distribution::Momentum && !momentum_mean_abs.empty()) {
    std::vector<int64_t> numels;
    std::vector<double> scores;
    for (size_t i = 0, j = 0; i < layers.size(); ++i) {
      if (layers[i]->dense) continue;
      numels.push_back(sparse[j++]->weight.numel());
      scores.push_back(momentum_mean_abs[i]);
    }
    density = share_densities(numels, scores, spec.sparsity);
  }
  for (size_t j = 0; j < sparse.size(); ++j) {
    sparse[j]->weight_sparsity = std::clamp(1.0 - density[j], 0.0, 1.0);
    sparse[j]->act_sparsity = spec.act_sparsity >= 0.0 ? spec.act_sparsity : sparse[j]->weight_sparsity;
  }
}

}  // namespace swatsim::frontend
