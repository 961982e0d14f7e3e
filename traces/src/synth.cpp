// Synthetic traces: standard layer tables with random masks (docs/trace-format.md).
#include <cmath>
#include <random>

#include <fmt/format.h>

#include "swatsim/common/error.hpp"
#include "swatsim/traces/io.hpp"
#include "swatsim/traces/tools.hpp"

namespace swatsim::traces {

namespace {

LayerInfo conv(std::string name, uint32_t n, uint32_t c, uint32_t hw, uint32_t k, uint32_t rs, uint32_t stride,
               uint32_t pad) {
  LayerInfo l;
  l.name = std::move(name);
  l.kind = LayerKind::Conv;
  l.N = n, l.C = c, l.H = l.W = hw, l.K = k, l.R = l.S = rs, l.stride = stride, l.padding = pad;
  l.Ho = l.expected_ho();
  l.Wo = l.expected_wo();
  return l;
}

LayerInfo linear(std::string name, uint32_t n, uint32_t in, uint32_t out) {
  LayerInfo l = conv(std::move(name), n, in, 1, out, 1, 1, 0);
  l.kind = LayerKind::Linear;
  return l;
}

// ResNet-50 v1.5 (torchvision): stride on the 3x3 conv of each bottleneck; 224x224 input.
std::vector<LayerInfo> resnet50_imagenet(uint32_t n) {
  std::vector<LayerInfo> L{conv("conv1", n, 3, 224, 64, 7, 2, 3)};
  uint32_t in = 64, hw = 56;  // after the 3x3/2 max pool
  const uint32_t blocks[4] = {3, 4, 6, 3};
  for (int s = 0; s < 4; ++s) {
    const uint32_t width = 64u << s;
    for (uint32_t b = 0; b < blocks[s]; ++b) {
      const uint32_t stride = (s > 0 && b == 0) ? 2 : 1;
      const std::string p = fmt::format("layer{}.{}.", s + 1, b);
      L.push_back(conv(p + "conv1", n, in, hw, width, 1, 1, 0));
      L.push_back(conv(p + "conv2", n, width, hw, width, 3, stride, 1));
      const uint32_t out_hw = L.back().Ho;
      L.push_back(conv(p + "conv3", n, width, out_hw, width * 4, 1, 1, 0));
      if (b == 0) L.push_back(conv(p + "downsample", n, in, hw, width * 4, 1, stride, 0));
      in = width * 4;
      hw = out_hw;
    }
  }
  L.push_back(linear("fc", n, 2048, 1000));
  return L;
}

// A four-layer CNN for 28x28 greyscale images: the bundled sample and quick tests.
std::vector<LayerInfo> sample_cnn(uint32_t n) {
  return {conv("conv1", n, 1, 28, 8, 3, 1, 1), conv("conv2", n, 8, 28, 16, 3, 2, 1),
          conv("conv3", n, 16, 14, 32, 3, 2, 1), linear("fc", n, 32 * 7 * 7, 10)};
}

// Deterministic on every platform: mt19937_64 is fully specified, and so is this conversion.
struct Rng {
  explicit Rng(uint64_t seed) : g(seed) {}
  double uniform() { return double(g() >> 11) * 0x1.0p-53; }
  std::mt19937_64 g;
};

uint64_t mix(uint64_t seed, uint64_t a, uint64_t b, uint64_t c) {  // splitmix64-style stream separation
  uint64_t x = seed ^ (a * 0x9e3779b97f4a7c15ull) ^ (b * 0xbf58476d1ce4e5b9ull) ^ (c * 0x94d049bb133111ebull);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Exactly k of the candidate positions (all of [0, numel) when `from` is null), by selection sampling.
Mask choose_exactly(Shape shape, uint64_t k, Rng& rng, const Mask* from) {
  Mask m(shape);
  const uint64_t n = from ? from->count() : shape.numel();
  uint64_t seen = 0, chosen = 0;
  for (uint64_t i = 0; i < shape.numel() && chosen < k; ++i) {
    if (from && !from->test(i)) continue;
    if (rng.uniform() * double(n - seen) < double(k - chosen)) m.set(i), ++chosen;
    ++seen;
  }
  return m;
}

Mask bernoulli(Shape shape, double density, Rng& rng) {
  Mask m(shape);
  for (uint64_t i = 0; i < shape.numel(); ++i)
    if (rng.uniform() < density) m.set(i);
  return m;
}


}  // namespace

std::vector<std::string> synth_models() { return {"sample-cnn", "resnet50-imagenet"}; }

std::vector<LayerInfo> model_layers(const std::string& model, uint32_t samples) {
  if (samples == 0) throw InputError("samples", "expected an integer >= 1");
  if (model == "sample-cnn") return sample_cnn(samples);
  if (model == "resnet50-imagenet") return resnet50_imagenet(samples);
  throw InputError("model", fmt::format("unknown model '{}' (known: sample-cnn, resnet50-imagenet)", model));
}

void synthesize(const std::string& path, const SynthOptions& o) {
  if (std::string err = check_swat(o.swat); !err.empty()) throw InputError("synth", err);
  TraceHeader h;
  h.producer = "swatsim trace synth";
  h.producer_version = SWATSIM_VERSION;
  h.model = o.model;
  h.dataset = "synthetic";
  h.swat = o.swat;
  h.seed = o.seed;
  h.batch_size = o.samples;
  h.layers = model_layers(o.model, o.samples);
  for (size_t l = 0; l < h.layers.size(); ++l)
    if (l == 0 && !o.swat.sparsify_first)  // a dense layer saves its dense input: saved_act = input_act
      h.layers[l].tensors = {TensorKind::InputAct, TensorKind::Weight, TensorKind::OutputGrad};

  TraceWriter writer(path, h);
  for (uint32_t it = 0; it < o.iterations; ++it) {
    for (size_t l = 0; l < h.layers.size(); ++l) {
      const LayerInfo& L = h.layers[l];
      const bool sparse = l > 0 || o.swat.sparsify_first;
      // Per-layer densities drawn once per layer (not per iteration), as a trained net's would be stable.
      Rng layer_rng(mix(o.seed, 0xfeed, l, 0));
      const double act_density = l == 0 ? 1.0 : 0.3 + 0.4 * layer_rng.uniform();  // ReLU output: 30-70%
      const double grad_density = 0.85 + 0.15 * layer_rng.uniform();             // dY is dense, few exact zeros
      Mask act, saved;
      for (TensorKind k : L.tensors) {
        Rng rng(mix(o.seed, it, l, uint64_t(k) + 1));
        const Shape shape = L.shape_of(k);
        Mask m;
        switch (k) {
          case TensorKind::InputAct: m = act = bernoulli(shape, act_density, rng); break;
          case TensorKind::Weight:
            m = sparse ? choose_exactly(shape, topk_keep_count(o.swat.sparsity, shape.numel()), rng, nullptr)
                       : bernoulli(shape, 1.0, rng);
            break;
          case TensorKind::SavedAct: {  // top-K keeps at most K of the activation's non-zeros
            const uint64_t k_keep = std::min(act.count(), topk_keep_count(o.swat.activation_sparsity, shape.numel()));
            m = choose_exactly(shape, k_keep, rng, &act);
            break;
          }
          case TensorKind::OutputGrad: m = bernoulli(shape, grad_density, rng); break;
        }
        std::vector<float> values;
        if (o.values) {
          values.resize(m.count());
          for (auto& v : values) {  // non-zero by construction: |v| in [1e-3, 1.001)
            const double sign = rng.uniform() < 0.5 ? -1.0 : 1.0;
            v = float(sign * (1e-3 + rng.uniform()));
          }
        }
        writer.add(it, uint16_t(l), k, m, o.values ? &values : nullptr, ValueType::F32);
      }
    }
  }
  writer.finish();
}

}  // namespace swatsim::traces
