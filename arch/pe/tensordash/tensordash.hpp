#pragma once
// PE type `tensordash`: one-sided sparse PE array with lookahead/lookaside promotion
// (Mahmoud et al., MICRO 2020; the exact model is REFERENCE.md §2, documented in docs/pe-models.md).
#include <memory>
#include <string>
#include <vector>

#include "kernel.hpp"
#include "../common/set_plan.hpp"
#include "../common/streams.hpp"
#include "swatsim/arch/pe_model.hpp"

namespace swatsim::arch::tensordash {

struct Params {
  int rows = 4, cols = 16, lanes = 16, lookahead = 2, lookaside = 5;
  Shape shape = Shape::T;
};

class TensorDash final : public PeModel {
public:
  explicit TensorDash(const ParamSet& p);
  explicit TensorDash(const Params& p);
  static std::vector<ParamSpec> params();
  const std::string& type() const override;
  uint64_t macs_per_cycle() const override { return uint64_t(p_.rows) * p_.cols * p_.lanes; }
  // A scheduler per PE row; a multiplexer per multiplier lane picks the promoted value (MICRO 2020).
  ControlShape control_shape() const override {
    return {uint64_t(p_.rows), uint64_t(p_.rows) * p_.cols * p_.lanes};
  }
  std::array<uint64_t, 2> feed_values() const override {
    return {uint64_t(p_.rows) * p_.lanes, uint64_t(p_.cols) * p_.lanes};  // REFERENCE §2: a step per row and column
  }
  PassPlan plan(const PassInput& in, bool exploit_sparsity) const override;
  const Params& parameters() const { return p_; }

private:
  struct CachedGroup {  // operand-1 sets of one group, scheduled: per set
    std::vector<Segment> segments;
    std::vector<uint64_t> nonzeros, row_idle;
  };
  struct Cache {
    uint64_t id = 0;
    std::vector<CachedGroup> groups;
  };
  /// One pass's planning state, shared by the two ways of pairing sets.
  struct Job {
    streams::PassStreams& ps;
    const streams::Mapping& m;
    const streams::SetLayout& sets;
    std::vector<uint64_t>& buf;
    PassPlan& plan;
    uint32_t rows, cols, T;
    int H;
  };
  /// Operand 1 is scheduled: each of its sets is scheduled once (and cached across samples).
  void plan_scheduled_b(Job& job, uint32_t group, Cache& cache) const;
  /// Operand 0 is scheduled: each of its sets is scheduled once and reused for every operand-1 set.
  void plan_scheduled_a(Job& job, uint32_t group) const;
  Params p_;
  Scheduler sched_;
  mutable Cache cache_[kPasses];  // scheduled weight sets, reused across the samples of a batch
};

}  // namespace swatsim::arch::tensordash
