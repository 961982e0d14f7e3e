#pragma once
// One layer's geometry and the three training passes, as arch sees them (no file formats here).
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "swatsim/arch/operand.hpp"

namespace swatsim::arch {

enum class Pass : uint8_t { Forward = 0, InputGrad = 1, WeightGrad = 2 };
inline constexpr int kPasses = 3;
const char* to_string(Pass p);  ///< "forward", "input-grad", "weight-grad"
std::optional<Pass> pass_from_string(const std::string& s);

/// The three tensors a pass touches.
enum class TensorRole : uint8_t { Activation = 0, Weight = 1, Gradient = 2 };
const char* to_string(TensorRole r);  ///< "activation", "weight", "gradient"
/// The pass-to-operand mapping, in one place: operand 0 and 1 of each pass (PassInput::a and ::b).
constexpr TensorRole operand_role(Pass p, int op) {
  switch (p) {
    case Pass::Forward: return op == 0 ? TensorRole::Activation : TensorRole::Weight;
    case Pass::InputGrad: return op == 0 ? TensorRole::Gradient : TensorRole::Weight;
    case Pass::WeightGrad: return op == 0 ? TensorRole::Activation : TensorRole::Gradient;
  }
  return TensorRole::Activation;
}
/// GoogleTest and debug printing.
void PrintTo(Pass p, std::ostream* os);

/// Convolution geometry (a fully connected layer is a 1x1 convolution on a 1x1 map).
struct LayerShape {
  uint32_t N = 1, C = 1, H = 1, W = 1;  ///< samples, input channels, input map
  uint32_t K = 1, R = 1, S = 1;         ///< output channels, kernel rows, kernel columns
  uint32_t stride = 1, padding = 0, groups = 1;
  uint32_t Ho = 1, Wo = 1;              ///< output map
  uint32_t Cg() const { return C / groups; }
  uint32_t Kg() const { return K / groups; }
  /// MACs of one sample's dense GEMM for any of the three passes (they are equal).
  uint64_t macs_per_sample() const {
    return uint64_t(K) * Cg() * R * S * Ho * Wo;
  }
  /// MACs the PE mappings iterate for one sample of `p` (REFERENCE §2): the dense GEMM, except that the
  /// input gradient runs over the stride-dilated output gradient, H x W windows instead of Ho x Wo, so
  /// a dense array also multiplies the inserted zeros (about stride^2 times the real MACs).
  uint64_t mapped_macs(Pass p) const {
    return p == Pass::InputGrad ? uint64_t(H) * W * Cg() * Kg() * R * S * groups : macs_per_sample();
  }
};

/// One pass: the work a PE model turns into work units (operand_role). A job handed to the
/// accelerator covers samples [sample, sample + samples). A PE model plans sample `sample`; the
/// choices it makes per pass (TensorDash's scheduled operand) it makes over the job's samples
/// [batch_begin, batch_begin + samples) when samples > 1 (a memory hierarchy runs the batch as one
/// GEMM: docs/memory.md), else over `sample` alone (the compute-only model's samples).
///  - Forward:    a = input activation (N,C,H,W),  b = weights (K,C/g,R,S)
///  - InputGrad:  a = output gradient (N,K,Ho,Wo), b = weights (K,C/g,R,S)
///  - WeightGrad: a = saved activation (N,C,H,W),  b = output gradient (N,K,Ho,Wo)
struct PassInput {
  LayerShape layer;
  Pass pass = Pass::Forward;
  uint32_t sample = 0;
  uint32_t samples = 1;
  uint32_t batch_begin = 0;
  BitTensorView a, b;
};

}  // namespace swatsim::arch
