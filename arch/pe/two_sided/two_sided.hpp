#pragma once
// PE type `two-sided`: a PE that skips a MAC when either operand is zero by intersecting the two
// operands' non-zero bitmaps (SparTen-like: Gondimalla et al., "SparTen: A Sparse Tensor
// Accelerator for Convolutional Neural Networks", MICRO 2019). Timing rule in docs/pe-models.md.
#include <cstdint>
#include <string>
#include <vector>

#include "swatsim/arch/pe_model.hpp"

namespace swatsim::arch::two_sided {

struct Params {
  int rows = 4, cols = 16, lanes = 64, pairs_per_cycle = 16;
};

/// Cycles one PE needs for a step holding m matched pairs (0 when m == 0).
inline uint64_t step_cycles(uint32_t m, uint32_t p) { return (m + p - 1) / p; }

/// Cycles of one pair of sets: a[t*rows + r], b[t*cols + c] are lane words; each PE (r,c) needs
/// the sum over steps of ceil(popcount(a & b) / P); the array waits for its slowest PE and takes
/// at least one cycle. `pe_cycles_sum` and `matches` accumulate the sum of PE cycles and matches.
uint64_t pair_cycles(const uint64_t* a, const uint64_t* b, uint32_t T, uint32_t rows, uint32_t cols,
                     uint32_t P, std::vector<uint64_t>& scratch, uint64_t* pe_cycles_sum,
                     uint64_t* matches);

class TwoSided final : public PeModel {
public:
  explicit TwoSided(const ParamSet& p);
  /// Throws std::invalid_argument (naming the key) if pairs_per_cycle > lanes.
  explicit TwoSided(const Params& p);
  static std::vector<ParamSpec> params();
  const std::string& type() const override;
  uint64_t macs_per_cycle() const override { return uint64_t(p_.rows) * p_.cols * p_.pairs_per_cycle; }
  // An intersection unit per PE; a multiplexer per issued pair.
  ControlShape control_shape() const override {
    return {uint64_t(p_.rows) * p_.cols, uint64_t(p_.rows) * p_.cols * p_.pairs_per_cycle};
  }
  std::array<uint64_t, 2> feed_values() const override {
    return {uint64_t(p_.rows) * p_.pairs_per_cycle, uint64_t(p_.cols) * p_.pairs_per_cycle};  // matched values issued
  }
  PassPlan plan(const PassInput& in, bool exploit_sparsity) const override;

private:
  Params p_;
};

}  // namespace swatsim::arch::two_sided
