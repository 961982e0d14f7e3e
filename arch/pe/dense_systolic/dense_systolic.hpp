#pragma once
// PE type `dense-systolic`: an R x C systolic array without sparsity support whose compute cycles
// are SCALE-Sim v2's (Samajdar et al., ISPASS 2020; REFERENCE.md §3). Convolutions are lowered to
// GEMMs per sample and group (docs/pe-models.md).
#include <cstdint>
#include <string>
#include <vector>

#include "swatsim/arch/pe_model.hpp"

namespace swatsim::arch::dense_systolic {

enum class Dataflow : uint8_t { OS, WS, IS };

struct Gemm {
  uint64_t M = 0, N = 0, K = 0;  ///< ifmap M x K, N filters
};

/// The GEMM one group of one sample's pass is lowered to.
Gemm lower(const LayerShape& l, Pass p);

struct Folding {
  uint64_t folds = 0;
  uint64_t fold_cycles = 0;  ///< cycles of each fold; the GEMM takes folds*fold_cycles - 1
};
/// SCALE-Sim v2: OS Sr=M Sc=N T=K, WS Sr=K Sc=N T=M, IS Sr=K Sc=M T=N;
/// F = ceil(Sr/R) ceil(Sc/C); OS F(R+C+T-2)-1, WS/IS F(2R+C+T-2)-1.
Folding fold(const Gemm& g, uint32_t rows, uint32_t cols, Dataflow df);
uint64_t gemm_cycles(const Gemm& g, uint32_t rows, uint32_t cols, Dataflow df);

class DenseSystolic final : public PeModel {
public:
  explicit DenseSystolic(const ParamSet& p);
  DenseSystolic(uint32_t rows, uint32_t cols, Dataflow df) : rows_(rows), cols_(cols), df_(df) {}
  static std::vector<ParamSpec> params();
  const std::string& type() const override;
  uint64_t macs_per_cycle() const override { return uint64_t(rows_) * cols_; }
  std::array<uint64_t, 2> feed_values() const override { return {rows_, cols_}; }  // one value per edge PE
  PassPlan plan(const PassInput& in, bool exploit_sparsity) const override;
  bool zero_gating() const override { return zero_gating_; }

private:
  uint32_t rows_, cols_;
  Dataflow df_;
  bool zero_gating_ = false;
  GemmBlock fold_block(const PassInput& in, const Gemm& g, uint32_t group, uint64_t fold) const;
};

}  // namespace swatsim::arch::dense_systolic
