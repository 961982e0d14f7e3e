#pragma once
// The work layout the set-based sparse PEs (tensordash, two-sided) share: operand-0 sets of size0
// streams paired with contiguous chunks of operand-1 sets of size1 streams; units in pair order
// (group, outer position, operand-0 set, chunk). Also their dense-baseline plan.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "swatsim/arch/pe_model.hpp"
#include "arith.hpp"
#include "streams.hpp"

namespace swatsim::arch::streams {

class SetLayout {
public:
  /// `nsplit` chunks of the operand-1 sets (at least 1, at most the number of sets).
  SetLayout(const Mapping& m, uint32_t size0, uint32_t size1, uint32_t nsplit)
      : m_(m), size0_(size0), size1_(size1), n0_(uint32_t(ceil_div(m.streams[0], size0))),
        n1_(uint32_t(ceil_div(m.streams[1], size1))), begin_(nsplit + 1) {
    for (uint32_t j = 0; j <= nsplit; ++j) begin_[j] = uint32_t(uint64_t(j) * n1_ / nsplit);
  }
  uint32_t sets0() const { return n0_; }
  uint32_t sets1() const { return n1_; }
  uint32_t chunks() const { return uint32_t(begin_.size() - 1); }
  /// Operand-1 sets [chunk_begin(j), chunk_begin(j + 1)) form chunk j.
  uint32_t chunk_begin(uint32_t j) const { return begin_[j]; }
  uint32_t chunk_sets(uint32_t j) const { return begin_[j + 1] - begin_[j]; }
  /// Streams in operand-1 set i1 (the last set may be partial).
  uint32_t streams1(uint32_t i1) const { return std::min(size1_, m_.streams[1] - i1 * size1_); }
  /// What unit (g, o, i0, j) reads and completes.
  GemmBlock block(uint32_t g, uint32_t o, uint32_t i0, uint32_t j) const {
    GemmBlock b;
    b.group = g;
    b.outer = o;
    b.m_begin = i0 * size0_;
    b.m_end = std::min(m_.streams[0], b.m_begin + size0_);
    b.n_begin = begin_[j] * size1_;
    b.n_end = std::min(m_.streams[1], begin_[j + 1] * size1_);
    b.output_elements = uint64_t(b.m_end - b.m_begin) * (b.n_end - b.n_begin);
    return b;
  }
  /// The baseline's plan (sparsity off): every pair costs `pair_cycles`; one segment per chunk. The
  /// array looks at no zero, so every MAC of the mapped GEMM (`mapped_macs`) is effectual work, spread
  /// over the units by the results they complete (every result has the same reduction length).
  void dense_plan(PassPlan& plan, uint64_t pair_cycles, uint64_t mapped_macs) const {
    plan.states = 1;
    for (uint32_t j = 0; j < chunks(); ++j) plan.segments.push_back(Segment::constant(pair_cycles * chunk_sets(j)));
    const size_t first = plan.units.size();
    uint64_t outputs = 0;
    for (uint32_t g = 0; g < m_.groups; ++g)
      for (uint32_t o = 0; o < m_.outer; ++o)
        for (uint32_t i0 = 0; i0 < n0_; ++i0)
          for (uint32_t j = 0; j < chunks(); ++j) {
            plan.units.push_back(WorkUnit{j, 0, 0, block(g, o, i0, j)});
            outputs += plan.units.back().block.output_elements;
          }
    uint64_t given = 0;
    for (size_t u = first; u < plan.units.size(); ++u) {
      WorkUnit& w = plan.units[u];
      w.macs_effectual = outputs ? w.block.output_elements * (mapped_macs / outputs) : 0;
      given += w.macs_effectual;
    }
    if (plan.units.size() > first) plan.units.back().macs_effectual += mapped_macs - given;
  }

private:
  const Mapping& m_;
  uint32_t size0_, size1_, n0_, n1_;
  std::vector<uint32_t> begin_;
};

}  // namespace swatsim::arch::streams
