#include "swatsim/traces/format.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cctype>

#include <fmt/format.h>

#include "swatsim/traces/tools.hpp"

namespace swatsim::traces {

const char* to_string(TensorKind k) {
  switch (k) {
    case TensorKind::InputAct: return "input_act";
    case TensorKind::Weight: return "weight";
    case TensorKind::SavedAct: return "saved_act";
    case TensorKind::OutputGrad: return "output_grad";
  }
  return "?";
}

std::optional<TensorKind> tensor_kind_from_string(const std::string& s) {
  for (int k = 0; k < kTensorKinds; ++k)
    if (s == to_string(TensorKind(k))) return TensorKind(k);
  return std::nullopt;
}

const char* to_string(ValueType v) {
  switch (v) {
    case ValueType::None: return "none";
    case ValueType::F32: return "f32";
    case ValueType::BF16: return "bf16";
  }
  return "?";
}

const char* to_string(LayerKind k) { return k == LayerKind::Conv ? "conv" : "linear"; }

std::string Shape::str() const { return fmt::format("[{},{},{},{}]", dims[0], dims[1], dims[2], dims[3]); }

bool LayerInfo::has(TensorKind k) const { return std::find(tensors.begin(), tensors.end(), k) != tensors.end(); }

Shape LayerInfo::shape_of(TensorKind k) const {
  switch (k) {
    case TensorKind::InputAct:
    case TensorKind::SavedAct: return Shape{{N, C, H, W}};
    case TensorKind::Weight: return Shape{{K, groups ? C / groups : 0, R, S}};
    case TensorKind::OutputGrad: return Shape{{N, K, Ho, Wo}};
  }
  return {};
}

namespace {
constexpr uint32_t kMaxMapSide = 1u << 20, kMaxKernelSide = 4096;
constexpr uint64_t kMaxPaddingGrowth = 16;  // padded map area / max(input map area, kernel area)
}  // namespace

static uint32_t out_size(uint32_t in, uint32_t pad, uint32_t kernel, uint32_t stride) {
  const uint64_t padded = uint64_t(in) + 2ull * pad;
  if (stride == 0 || padded < kernel) return 0;
  return uint32_t((padded - kernel) / stride + 1);
}
uint32_t LayerInfo::expected_ho() const { return out_size(H, padding, R, stride); }
uint32_t LayerInfo::expected_wo() const { return out_size(W, padding, S, stride); }

uint64_t LayerInfo::forward_macs() const {
  return uint64_t(N) * K * Ho * Wo * (groups ? C / groups : 0) * R * S;
}

std::string locate(const std::string& file, const TraceHeader& h, uint32_t iteration, uint32_t layer, TensorKind kind) {
  const std::string name = layer < h.layers.size() ? h.layers[layer].name : std::string("?");
  const char* k = uint8_t(kind) < kTensorKinds ? to_string(kind) : "unknown tensor";
  return fmt::format("{}: iteration {}, layer {} ({}), {}", file, iteration, layer, name, k);
}

uint64_t topk_keep_count(double sparsity, uint64_t n) {
  if (n == 0) return 0;
  const double k = std::ceil((1.0 - sparsity) * double(n) - 64.0 * DBL_EPSILON * double(n));
  return std::clamp<uint64_t>(k < 1.0 ? 1 : uint64_t(k), 1, n);
}

std::string check_swat(const SwatSettings& s) {
  if (!(s.sparsity >= 0.0 && s.sparsity < 1.0)) return fmt::format("sparsity {} is outside [0, 1)", s.sparsity);
  if (!(s.activation_sparsity >= 0.0 && s.activation_sparsity < 1.0))
    return fmt::format("activation sparsity {} is outside [0, 1)", s.activation_sparsity);
  if (s.distribution != "uniform" && s.distribution != "erk" && s.distribution != "momentum")
    return "distribution must be uniform, erk or momentum, got '" + s.distribution + "'";
  if (s.structure != "unstructured" && s.structure != "channel" && s.structure != "filter")
    return "structure must be unstructured, channel or filter, got '" + s.structure + "'";
  if (s.topk_period == 0) return "top-K period must be >= 1";
  return {};
}

bool valid_layer_name(const std::string& n) {
  if (n.empty() || n == "." || n == ".." || n.size() > 255) return false;
  for (char c : n)
    if (!(std::isalnum(uint8_t(c)) || c == '_' || c == '-' || c == '.')) return false;
  return true;
}

std::string check_layer(const LayerInfo& l) {
  if (!valid_layer_name(l.name))
    return "name '" + l.name + "' must be 1-255 letters, digits, '_', '-' or '.' (it names files on export)";
  if (l.N == 0 || l.C == 0 || l.H == 0 || l.W == 0 || l.K == 0 || l.R == 0 || l.S == 0)
    return "every dimension (N,C,H,W,K,R,S) must be >= 1";
  if (l.stride == 0) return "stride must be >= 1";
  if (l.groups == 0 || l.C % l.groups != 0 || l.K % l.groups != 0)
    return fmt::format("groups {} must divide C={} and K={}", l.groups, l.C, l.K);
  // Checked products: each tensor at most kMaxTensorElements elements.
  for (auto dims : {std::array<uint32_t, 4>{l.N, l.C, l.H, l.W}, std::array<uint32_t, 4>{l.K, l.C / l.groups, l.R, l.S},
                    std::array<uint32_t, 4>{l.N, l.K, l.Ho, l.Wo}}) {
    uint64_t n = 1;
    for (uint32_t d : dims)
      if (__builtin_mul_overflow(n, uint64_t(d), &n) || n > kMaxTensorElements)
        return fmt::format("a tensor of shape [{},{},{},{}] exceeds {} elements", dims[0], dims[1], dims[2], dims[3],
                           kMaxTensorElements);
  }
  if (l.expected_ho() == 0 || l.expected_wo() == 0)
    return fmt::format("the {}x{} kernel does not fit the {}x{} input with padding {}", l.R, l.S, l.H, l.W,
                       l.padding);
  if (l.Ho != l.expected_ho() || l.Wo != l.expected_wo())
    return fmt::format("output size {}x{} disagrees with the geometry: (H+2*padding-R)/stride+1 = {}x{} "
                       "for H,W={}x{}, R,S={}x{}, stride {}, padding {}",
                       l.Ho, l.Wo, l.expected_ho(), l.expected_wo(), l.H, l.W, l.R, l.S, l.stride, l.padding);
  if (l.kind == LayerKind::Linear && (l.H != 1 || l.W != 1 || l.R != 1 || l.S != 1 || l.stride != 1 || l.padding != 0))
    return "a linear layer must have 1x1 maps, a 1x1 kernel, stride 1 and padding 0";
  // What replay can lay out: its padded maps and index arithmetic stay within these (any real
  // network does; a 1x1 map padded by 20000 would need gigabytes of padding).
  if (l.H > kMaxMapSide || l.W > kMaxMapSide)
    return fmt::format("the {}x{} input map exceeds {} per side, the most replay handles", l.H, l.W, kMaxMapSide);
  if (l.R > kMaxKernelSide || l.S > kMaxKernelSide)
    return fmt::format("the {}x{} kernel exceeds {} per side, the most replay handles", l.R, l.S, kMaxKernelSide);
  if (l.stride > kMaxMapSide) return fmt::format("stride {} exceeds {}, the most replay handles", l.stride, kMaxMapSide);
  const uint64_t padded = (uint64_t(l.H) + 2ull * l.padding) * (uint64_t(l.W) + 2ull * l.padding);
  if (padded > kMaxPaddingGrowth * std::max(uint64_t(l.H) * l.W, uint64_t(l.R) * l.S))
    return fmt::format("padding {} makes the {}x{} input a {}x{} padded map, more than {} times the input map and the "
                       "kernel: replay would store mostly padding",
                       l.padding, l.H, l.W, uint64_t(l.H) + 2ull * l.padding, uint64_t(l.W) + 2ull * l.padding,
                       kMaxPaddingGrowth);
  if (!l.has(TensorKind::InputAct) || !l.has(TensorKind::Weight) || !l.has(TensorKind::OutputGrad))
    return "input_act, weight and output_grad are needed by every pass and may not be absent";
  return {};
}

}  // namespace swatsim::traces
