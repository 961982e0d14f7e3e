// SWAT layers against LibTorch autograd, top-K, distributions, parameter counts, FLOP report.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "cli/options.hpp"
#include "cli/train.hpp"
#include "models/models.hpp"
#include "record/recorder.hpp"
#include "report/flops.hpp"
#include "swat/swat.hpp"
#include "swatsim/common/error.hpp"

using namespace swatsim::frontend;

namespace {

std::shared_ptr<SwatContext> make_ctx() { return std::make_shared<SwatContext>(); }

SwatLayer make_layer(const std::shared_ptr<SwatContext>& ctx, bool linear, bool bias, int64_t in, int64_t out,
                     int64_t k = 3, int64_t stride = 1, int64_t pad = 1, int64_t groups = 1) {
  SwatLayerOptions o;
  o.linear = linear; o.in = in; o.out = out; o.kernel = k; o.stride = stride; o.padding = pad; o.bias = bias;
  o.groups = groups;
  SwatLayer l(o, ctx);
  l->to(torch::kDouble);
  return l;
}

// Reference top-K with the documented tie rule, by a stable sort: largest magnitude first, ties by
// lowest flat index.
torch::Tensor ref_topk(const torch::Tensor& score, int64_t k) {
  auto flat = score.reshape({-1});
  auto order = std::get<1>(flat.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true));
  auto mask = torch::zeros({flat.numel()}, torch::kBool);
  mask.index_put_({order.slice(0, 0, k)}, true);
  return mask.reshape(score.sizes());
}

struct Grads {
  torch::Tensor y, dx, dw, db;
};

Grads run_layer(SwatLayer& l, const torch::Tensor& x0, const torch::Tensor& g) {
  auto x = x0.clone().requires_grad_(true);
  l->zero_grad();
  auto y = l->forward(x);
  y.backward(g);
  return {y.detach(), x.grad(), l->weight.grad().clone(), l->bias.defined() ? l->bias.grad().clone() : torch::Tensor()};
}

}  // namespace

TEST(TopK, KeepCount) {
  EXPECT_EQ(keep_count(0.8, 10), 2);
  EXPECT_EQ(keep_count(0.9, 100), 10);
  EXPECT_EQ(keep_count(0.0, 7), 7);
  EXPECT_EQ(keep_count(0.9, 7), 1);
  EXPECT_EQ(keep_count(0.5, 7), 4);
  EXPECT_EQ(keep_count(0.99, 10), 1);  // never empty
  // (1-0.9)*100,000,001 = 10,000,000.1: a relative slack of 1e-9 rounded this down to 10,000,000.
  EXPECT_EQ(keep_count(0.9, 100000001), 10000001);
  EXPECT_EQ(keep_count(0.9, 1000000001), 100000001);
  EXPECT_EQ(keep_count(0.8, 100000000), 20000000);
  EXPECT_EQ(keep_count(0.7, 10), 3);
}

TEST(TopK, ExactCountAndTieRule) {
  auto v = torch::tensor({3.0, 1.0, -3.0, 3.0, 2.0});
  double thr = 0;
  auto m = topk_mask(v.abs(), 2, &thr);
  EXPECT_TRUE(torch::equal(m, torch::tensor({true, false, true, false, false})));
  EXPECT_EQ(thr, 3.0);
  torch::manual_seed(1);
  for (int trial = 0; trial < 20; ++trial) {
    const int64_t n = 1 + (trial * 37) % 500;
    auto x = torch::randint(0, 7, {n}, torch::kFloat) - 3;  // many ties and zeros
    const double s = 0.05 * (trial % 19);
    const int64_t k = keep_count(s, n);
    auto mask = topk_mask(x.abs(), k, nullptr);
    EXPECT_EQ(mask.sum().item<int64_t>(), k);
    EXPECT_TRUE(torch::equal(mask, ref_topk(x.abs(), k))) << "trial " << trial;
  }
}

TEST(SwatConv, DenseEqualsAutogradExactly) {
  torch::manual_seed(2);
  auto ctx = make_ctx();
  for (bool bias : {false, true}) {
    auto l = make_layer(ctx, false, bias, 3, 5, 3, 2, 1);
    l->train();
    auto x = torch::randn({2, 3, 7, 7}, torch::kDouble);
    auto g = torch::randn({2, 5, 4, 4}, torch::kDouble);
    auto r = run_layer(l, x, g);
    auto xr = x.clone().requires_grad_(true);
    auto w = l->weight.detach().clone().requires_grad_(true);
    auto b = bias ? l->bias.detach().clone().requires_grad_(true) : torch::Tensor();
    auto y = torch::conv2d(xr, w, b, 2, 1);
    y.backward(g);
    EXPECT_TRUE(torch::equal(r.y, y.detach()));
    EXPECT_TRUE(torch::equal(r.dx, xr.grad()));
    EXPECT_TRUE(torch::equal(r.dw, w.grad()));
    if (bias) {
      EXPECT_TRUE(torch::equal(r.db, b.grad()));
    }
  }
}

TEST(SwatLinear, DenseEqualsAutogradExactly) {
  torch::manual_seed(3);
  auto ctx = make_ctx();
  auto l = make_layer(ctx, true, true, 6, 4);
  l->train();
  auto x = torch::randn({3, 6}, torch::kDouble);
  auto g = torch::randn({3, 4}, torch::kDouble);
  auto r = run_layer(l, x, g);
  auto xr = x.clone().requires_grad_(true);
  auto w = l->weight.detach().clone().requires_grad_(true);
  auto b = l->bias.detach().clone().requires_grad_(true);
  auto y = torch::linear(xr, w, b);
  y.backward(g);
  EXPECT_TRUE(torch::allclose(r.y, y.detach(), 0, 1e-14));
  EXPECT_TRUE(torch::allclose(r.dx, xr.grad(), 0, 1e-14));
  EXPECT_TRUE(torch::allclose(r.dw, w.grad(), 0, 1e-14));
  EXPECT_TRUE(torch::allclose(r.db, b.grad(), 0, 1e-14));
}

// At sparsity s the layer equals autograd of the explicitly masked computation:
// y = conv(x, W*Mw); dx = d/dx conv(x, W*Mw); dW = d/dW conv(x*Mx, W).
void check_sparse(bool linear, Structure st, double ws, double as, int64_t stride = 1, int64_t groups = 1) {
  torch::manual_seed(4);
  auto ctx = make_ctx();
  auto l = linear ? make_layer(ctx, true, true, 20, 6) : make_layer(ctx, false, true, 4, 6, 3, stride, 1, groups);
  l->weight_sparsity = ws;
  l->act_sparsity = as;
  l->structure = st;
  l->train();
  auto x = linear ? torch::randn({3, 20}, torch::kDouble) : torch::randn({2, 4, 5, 5}, torch::kDouble);
  const int64_t ho = (5 + 2 - 3) / stride + 1;
  auto g = linear ? torch::randn({3, 6}, torch::kDouble) : torch::randn({2, 6, ho, ho}, torch::kDouble);
  auto r = run_layer(l, x, g);
  auto W = l->weight.detach();
  torch::Tensor mw;
  if (st == Structure::Unstructured || (linear && st == Structure::Channel)) {
    mw = ref_topk(W.abs(), keep_count(ws, W.numel()));
  } else if (st == Structure::Channel) {
    auto s = W.abs().sum({2, 3});
    mw = ref_topk(s, keep_count(ws, s.numel())).unsqueeze(-1).unsqueeze(-1).expand_as(W);
  } else {
    auto s = W.abs().reshape({W.size(0), -1}).sum(1);
    auto m = ref_topk(s, keep_count(ws, s.numel()));
    mw = linear ? m.view({-1, 1}).expand_as(W) : m.view({-1, 1, 1, 1}).expand_as(W);
  }
  auto mx = as > 0 ? ref_topk(x.abs(), keep_count(as, x.numel())) : torch::ones_like(x, torch::kBool);
  auto Ws = W * mw.to(torch::kDouble);
  auto Xs = x * mx.to(torch::kDouble);
  auto fwd = [&](const torch::Tensor& a, const torch::Tensor& w) {
    return linear ? torch::linear(a, w, l->bias.detach())
                  : torch::conv2d(a, w, l->bias.detach(), stride, 1, 1, groups);
  };
  auto xr = x.clone().requires_grad_(true);
  auto y = fwd(xr, Ws);
  y.backward(g);
  auto wr = W.clone().requires_grad_(true);
  fwd(Xs, wr).backward(g);
  EXPECT_TRUE(torch::allclose(r.y, y.detach(), 0, 1e-12));
  EXPECT_TRUE(torch::allclose(r.dx, xr.grad(), 0, 1e-12));
  EXPECT_TRUE(torch::allclose(r.dw, wr.grad(), 0, 1e-12));
  EXPECT_TRUE(torch::allclose(r.db, g.sum(linear ? std::vector<int64_t>{0} : std::vector<int64_t>{0, 2, 3}), 0, 1e-12));
  // dW is dense: pruned weights get gradients too.
  if (ws > 0) {
    EXPECT_GT((r.dw.ne(0) & mw.logical_not()).sum().item<int64_t>(), 0);
  }
  EXPECT_NEAR(l->weight_density, double(mw.sum().item<int64_t>()) / double(W.numel()), 1e-12);
  EXPECT_NEAR(l->act_density, double(mx.sum().item<int64_t>()) / double(x.numel()), 1e-12);
}

TEST(SwatConv, SparseEqualsMaskedAutograd) { check_sparse(false, Structure::Unstructured, 0.8, 0.8); }
TEST(SwatConv, SparseActSparsityDiffers) { check_sparse(false, Structure::Unstructured, 0.9, 0.5); }
TEST(SwatConv, ChannelStructure) { check_sparse(false, Structure::Channel, 0.75, 0.75); }
TEST(SwatConv, FilterStructure) { check_sparse(false, Structure::Filter, 0.5, 0.5); }
TEST(SwatLinear, SparseEqualsMaskedAutograd) { check_sparse(true, Structure::Unstructured, 0.8, 0.8); }
TEST(SwatLinear, FilterStructure) { check_sparse(true, Structure::Filter, 0.5, 0.0); }
TEST(SwatConv, SparseStride2) { check_sparse(false, Structure::Unstructured, 0.8, 0.7, 2, 1); }
TEST(SwatConv, SparseGroups) { check_sparse(false, Structure::Unstructured, 0.8, 0.6, 1, 2); }
TEST(SwatConv, SparseStride2GroupsChannel) { check_sparse(false, Structure::Channel, 0.5, 0.5, 2, 2); }
TEST(SwatConv, ActivationsOnly) { check_sparse(false, Structure::Unstructured, 0.0, 0.5); }

TEST(SwatLayer, ActThresholdReusedForThePeriod) {
  torch::manual_seed(6);
  auto ctx = make_ctx();
  ctx->topk_period = 3;
  auto l = make_layer(ctx, true, false, 50, 10);
  l->act_sparsity = 0.8;
  l->train();
  auto x = torch::randn({4, 50}, torch::kDouble);
  ctx->iteration = 0;
  l->forward(x);
  EXPECT_EQ(l->a_computed_at, 0);
  EXPECT_DOUBLE_EQ(l->act_density, 0.2);  // 40 of 200
  const double thr = l->a_threshold;
  EXPECT_GT(thr, 0.0);
  for (int64_t it : {1, 2}) {
    ctx->iteration = it;
    l->forward(x * 1.5);  // every magnitude grows: the reused threshold keeps more
    EXPECT_EQ(l->a_computed_at, 0) << it;
    EXPECT_EQ(l->a_threshold, thr) << it;
    EXPECT_DOUBLE_EQ(l->act_density, double((x * 1.5).abs().ge(thr).sum().item<int64_t>()) / 200.0) << it;
    EXPECT_GT(l->act_density, 0.2) << it;  // drifted
  }
  ctx->iteration = 3;
  l->forward(x * 1.5);
  EXPECT_EQ(l->a_computed_at, 3);
  EXPECT_GT(l->a_threshold, thr);
  EXPECT_DOUBLE_EQ(l->act_density, 0.2);
}

// Densities count what top-K keeps: the natural zeros of a ReLU output are not "removed" by top-K.
TEST(SwatLayer, ActDensityIgnoresNaturalZeros) {
  torch::manual_seed(7);
  auto ctx = make_ctx();
  auto l = make_layer(ctx, true, false, 100, 4);
  l->act_sparsity = 0.5;
  l->train();
  auto x = torch::randn({2, 100}, torch::kDouble);
  x = torch::where(torch::rand({2, 100}, torch::kDouble) < 0.8, torch::zeros_like(x), x);  // ~80% zeros
  ASSERT_GT(x.eq(0).sum().item<int64_t>(), 100);
  l->forward(x);
  EXPECT_DOUBLE_EQ(l->act_density, 0.5);  // keep_count(0.5, 200) / 200, not the ~0.2 non-zero fraction
  EXPECT_DOUBLE_EQ(l->weight_density, 1.0);
}

TEST(SwatLayer, TargetWeightDensityCountsRankedUnits) {
  auto ctx = make_ctx();
  auto l = make_layer(ctx, false, false, 4, 6, 3);  // 24 kernel slices, 6 filters, 216 weights
  l->weight_sparsity = 0.9;
  l->structure = Structure::Unstructured;
  EXPECT_DOUBLE_EQ(l->target_weight_density(), 22.0 / 216.0);
  l->structure = Structure::Channel;
  EXPECT_DOUBLE_EQ(l->target_weight_density(), 3.0 / 24.0);  // ceil(2.4) slices
  l->structure = Structure::Filter;
  EXPECT_DOUBLE_EQ(l->target_weight_density(), 1.0 / 6.0);
  // ... and equal what the forward pass keeps.
  for (auto st : {Structure::Unstructured, Structure::Channel, Structure::Filter}) {
    l->structure = st;
    l->invalidate();
    l->train();
    l->forward(torch::randn({1, 4, 5, 5}, torch::kDouble));
    EXPECT_DOUBLE_EQ(l->weight_density, l->target_weight_density()) << to_string(st);
  }
  l->dense = true;
  EXPECT_DOUBLE_EQ(l->target_weight_density(), 1.0);
}

TEST(Distribution, ActSparsityWithoutWeightSparsity) {
  auto ctx = make_ctx();
  auto net = make_model("small-cnn", 10, ctx);
  auto layers = probe_layers(*net, *ctx, 1, 28);
  std::vector<SwatLayerImpl*> ls;
  for (auto& e : layers) ls.push_back(e.layer);
  for (auto dist : {Distribution::Uniform, Distribution::Erk}) {
    DistributionSpec spec;
    spec.distribution = dist;
    spec.sparsity = 0.0;
    spec.act_sparsity = 0.5;
    apply_distribution(ls, spec);
    EXPECT_TRUE(ls[0]->dense);
    for (size_t i = 1; i < ls.size(); ++i) {
      EXPECT_FALSE(ls[i]->dense) << i;
      EXPECT_EQ(ls[i]->weight_sparsity, 0.0) << i;
      EXPECT_EQ(ls[i]->act_sparsity, 0.5) << i;
    }
  }
  DistributionSpec dense;  // --sparsity 0 alone: nothing sparsified
  apply_distribution(ls, dense);
  for (auto* l : ls) EXPECT_TRUE(l->weight_sparsity == 0.0 && l->act_sparsity == 0.0);
}

TEST(SwatLayer, ThresholdReusedForThePeriod) {
  torch::manual_seed(5);
  auto ctx = make_ctx();
  ctx->topk_period = 3;
  auto l = make_layer(ctx, true, false, 50, 10);
  l->weight_sparsity = 0.8;
  l->train();
  auto x = torch::randn({2, 50}, torch::kDouble);
  l->forward(x);
  EXPECT_EQ(l->w_computed_at, 0);
  const double thr = l->w_threshold;
  {
    torch::NoGradGuard ng;
    l->weight.mul_(1.5);  // every magnitude grows: the old threshold keeps more
  }
  ctx->iteration = 2;
  l->forward(x);
  EXPECT_EQ(l->w_computed_at, 0);
  EXPECT_EQ(l->w_threshold, thr);
  EXPECT_GT(l->weight_density, 0.2);  // drifted
  ctx->iteration = 3;
  l->forward(x);
  EXPECT_EQ(l->w_computed_at, 3);
  EXPECT_DOUBLE_EQ(l->weight_density, 0.2);
}

TEST(Distribution, ErkMeetsGlobalTarget) {
  auto ctx = make_ctx();
  auto net = make_model("resnet50-imagenet", 1000, ctx);
  auto layers = probe_layers(*net, *ctx, 3, 64);
  std::vector<SwatLayerImpl*> ls;
  for (auto& e : layers) ls.push_back(e.layer);
  for (double s : {0.8, 0.9}) {
    DistributionSpec spec;
    spec.distribution = Distribution::Erk;
    spec.sparsity = s;
    apply_distribution(ls, spec);
    // The dense first layer is charged against the budget: the global sparsity hits the target.
    double total = double(ls[0]->weight.numel()), kept = total;
    double ratio = -1;  // d_i / raw_i, the same for every uncapped layer
    int uncapped = 0;
    for (size_t i = 1; i < ls.size(); ++i) {
      const auto n = ls[i]->weight.numel();
      total += double(n);
      kept += double(keep_count(ls[i]->weight_sparsity, n));
      EXPECT_GE(ls[i]->weight_sparsity, 0.0);
      EXPECT_EQ(ls[i]->act_sparsity, ls[i]->weight_sparsity);
      if (ls[i]->weight_sparsity > 0) {
        double sum = 0;
        for (auto v : ls[i]->weight.sizes()) sum += double(v);
        const double r = (1 - ls[i]->weight_sparsity) / (sum / double(n));
        if (ratio < 0) ratio = r;
        EXPECT_NEAR(r / ratio, 1.0, 1e-9) << layers[i].name;
        ++uncapped;
      }
    }
    EXPECT_GT(uncapped, 40);
    EXPECT_TRUE(ls[0]->dense);
    EXPECT_NEAR(kept, (1 - s) * total, double(ls.size()));
    EXPECT_NEAR(1 - kept / total, s, 1e-5);  // 79.97% before the first layer was in the budget
    // ERK is not uniform: the FC layer (2048x1000) is denser than layer4.2.conv2 (512x512x3x3).
    EXPECT_EQ(layers[ls.size() - 3].name, "layer4.2.conv2");
    EXPECT_LT(ls.back()->weight_sparsity, ls[ls.size() - 3]->weight_sparsity);
  }
}

TEST(Distribution, ErkHandComputed) {
  // A: 4x4 (n 16, raw (4+4)/16 = 0.5), B: 8x8 (n 64, raw 0.25), 20 dense weights; total 100.
  // s = 0.5: budget 50, minus 20 dense = 30 = eps*(0.5*16 + 0.25*64) -> eps 1.25: dA 0.625, dB 0.3125.
  auto d = erk_densities({{4, 4}, {8, 8}}, 0.5, 20);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_NEAR(d[0], 0.625, 1e-12);
  EXPECT_NEAR(d[1], 0.3125, 1e-12);
  // s = 0.2: budget 80 - 20 = 60, eps 2.5 gives dA 1.25 > 1: A is dense, B gets (60-16)/64 = 0.6875.
  d = erk_densities({{4, 4}, {8, 8}}, 0.2, 20);
  EXPECT_DOUBLE_EQ(d[0], 1.0);
  EXPECT_NEAR(d[1], 0.6875, 1e-12);
  // Without dense layers: 0.5 of 80 = 40 = eps*24 -> dA 5/6, dB 5/12.
  d = erk_densities({{4, 4}, {8, 8}}, 0.5);
  EXPECT_NEAR(d[0], 5.0 / 6.0, 1e-12);
  EXPECT_NEAR(d[1], 5.0 / 12.0, 1e-12);
}

TEST(Distribution, ShareDensitiesCapAndSum) {
  std::vector<int64_t> n{100, 1000, 10000};
  auto d = share_densities(n, {10.0, 1.0, 1.0}, 0.9);
  double kept = 0;
  for (size_t i = 0; i < n.size(); ++i) { kept += d[i] * double(n[i]); EXPECT_LE(d[i], 1.0); }
  EXPECT_NEAR(kept, 0.1 * 11100, 1e-6);
  EXPECT_DOUBLE_EQ(d[0], 1.0);  // capped
}

TEST(Distribution, MomentumSharesFollowMeanMomentum) {
  auto ctx = make_ctx();
  auto net = make_model("small-cnn", 10, ctx);
  auto layers = probe_layers(*net, *ctx, 1, 28);
  std::vector<SwatLayerImpl*> ls;
  for (auto& e : layers) ls.push_back(e.layer);
  DistributionSpec spec;
  spec.distribution = Distribution::Momentum;
  spec.sparsity = 0.9;
  apply_distribution(ls, spec);  // no momentum yet: uniform
  for (size_t i = 1; i < ls.size(); ++i) EXPECT_DOUBLE_EQ(ls[i]->weight_sparsity, 0.9);
  apply_distribution(ls, spec, {0.0, 1.0, 1.0, 1.0});
  double kept = 0, total = 0;
  for (size_t i = 1; i < ls.size(); ++i) {
    kept += (1 - ls[i]->weight_sparsity) * double(ls[i]->weight.numel());
    total += double(ls[i]->weight.numel());
  }
  EXPECT_NEAR(kept, 0.1 * total, 1e-6 * total);
  // Equal mean momentum: equal non-zero counts, capped at dense for the small layers.
  EXPECT_DOUBLE_EQ(ls[3]->weight_sparsity, 0.0);  // fc2, 1280 weights
  EXPECT_DOUBLE_EQ(ls[1]->weight_sparsity, 0.0);  // conv2, 18432 weights
  EXPECT_GT(ls[2]->weight_sparsity, 0.9);         // fc1 takes the rest
}

TEST(Models, ParameterCounts) {
  struct Case { const char* name; int64_t classes; int64_t params; };
  const Case cases[] = {
      {"resnet50-imagenet", 1000, 25557032}, {"wrn50-2-imagenet", 1000, 68883240},
      {"small-cnn", 10, 421738},
      {"resnet18", 10, 11173962},           {"resnet50", 10, 23520842},
      {"vgg16", 10, 14728266},
      // WRN-16-8 (Zagoruyko & Komodakis, no conv biases, 1x1 shortcut convs where widths change):
      // 432 + 168,224 + 295,424 + 918,272 + 1,180,672 + 3,671,552 + 4,720,640 + 1,024 (bn) + 5,130 (fc).
      {"wrn16-8", 10, 10961370},
      {"densenet121", 10, 6956298},
  };
  for (const auto& c : cases) {
    auto net = make_model(c.name, c.classes, make_ctx());
    EXPECT_EQ(parameter_count(*net), c.params) << c.name;
  }
}

TEST(Models, UnknownModelIsInputError) {
  EXPECT_THROW(make_model("resnet19", 10, make_ctx()), swatsim::InputError);
}

TEST(Report, ResNet50FlopReductionsMatchPublished) {
  auto ctx = make_ctx();
  auto net = make_model("resnet50-imagenet", 1000, ctx);
  auto layers = probe_layers(*net, *ctx, 3, 224);
  ASSERT_EQ(layers.size(), 54u);  // 53 conv + fc
  std::vector<SwatLayerImpl*> ls;
  for (auto& e : layers) ls.push_back(e.layer);
  for (auto [s, published] : {std::pair{0.8, 0.777}, std::pair{0.9, 0.874}}) {
    DistributionSpec spec;
    spec.sparsity = s;
    apply_distribution(ls, spec);
    std::vector<LayerCost> costs;
    for (size_t i = 0; i < ls.size(); ++i) {
      LayerCost c;
      const auto& o = ls[i]->options();
      c.linear = o.linear; c.C = o.in; c.K = o.out; c.R = c.S = o.linear ? 1 : o.kernel;
      c.H = ls[i]->in_shape[2]; c.W = ls[i]->in_shape[3]; c.Ho = ls[i]->out_shape[2]; c.Wo = ls[i]->out_shape[3];
      c.first = i == 0;
      c.sparse_weight = c.sparse_act = !ls[i]->dense;
      c.weight_density = c.sparse_weight ? 1 - s : 1.0;
      c.act_density = c.weight_density;
      costs.push_back(c);
    }
    auto rep = flop_report(costs, ReportMeta{});
    EXPECT_NEAR(rep["totals"]["inference_flop_reduction"].get<double>(), published, 0.005);
    EXPECT_NEAR(rep["totals"]["dense_flops"]["forward"].get<double>(), 2 * 4.0889e9, 0.01e9);  // 4.09 GMACs
  }
}

TEST(Recorder, TensorOfTheWrongSizeIsLogicError) {
  torch::manual_seed(8);
  auto ctx = make_ctx();
  ctx->record = true;
  ctx->record_samples = 2;
  auto l = make_layer(ctx, true, false, 6, 3);
  l->to(torch::kFloat);
  l->act_sparsity = 0.5;
  l->train();
  auto y = l->forward(torch::randn({4, 6}));
  y.sum().backward();
  ASSERT_TRUE(l->rec_dy.defined());
  std::vector<LayerEntry> layers{{"fc", l.get()}};
  const auto dir = std::filesystem::temp_directory_path() / ("swat_rec_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  swatsim::traces::TraceHeader h;
  h.layers = trace_layer_table(layers, 3);  // the table says 3 samples, the layer kept 2
  {
    TraceRecorder rec((dir / "t.swt").string(), h, layers, false);
    EXPECT_THROW(rec.add(0), std::logic_error);
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "t.swt"));
  std::filesystem::remove_all(dir);
}

TEST(Checkpoint, MalformedSwatStateIsInputError) {
  const auto dir = std::filesystem::temp_directory_path() / ("swat_ck_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  TrainOptions o;
  o.model = "small-cnn";
  o.dataset = "synthetic";
  o.batch = 8;
  o.iterations = 2;
  o.no_eval = true;
  o.quiet = true;
  o.progress = false;
  o.threads = 1;
  // A checkpoint with every key a real one has, but a 3-element SWAT state for layer 1.
  auto ctx = make_ctx();
  auto net = make_model(o.model, 10, ctx);
  torch::serialize::OutputArchive a;
  a.write("meta.model", c10::IValue(o.model));
  a.write("meta.classes", c10::IValue(int64_t(10)));
  a.write("meta.input_size", c10::IValue(int64_t(28)));
  a.write("meta.iteration", c10::IValue(int64_t(1)));
  a.write("meta.sparsity", c10::IValue(o.sparsity));
  a.write("meta.act_sparsity", c10::IValue(o.act_sparsity));
  a.write("meta.distribution", c10::IValue(o.distribution));
  a.write("meta.structure", c10::IValue(o.structure));
  a.write("meta.sparsify_first", c10::IValue(o.sparsify_first));
  a.write("meta.topk_period", c10::IValue(o.topk_period));
  for (const auto& p : net->named_parameters()) a.write("param." + p.key(), p.value().detach());
  for (const auto& b : net->named_buffers()) a.write("buffer." + b.key(), b.value());
  for (int i = 0; i < 4; ++i)
    a.write("swat." + std::to_string(i), i == 1 ? torch::zeros({3}, torch::kDouble) : torch::zeros({8}, torch::kDouble));
  const auto ck = (dir / "bad.pt").string();
  a.save_to(ck);
  o.resume = ck;
  std::ostringstream out;
  try {
    run_swat_train(o, out);
    ADD_FAILURE() << "no error";
  } catch (const swatsim::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("swat.1"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}
