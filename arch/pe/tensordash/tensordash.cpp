#include "tensordash.hpp"
#include "../common/arith.hpp"

#include <algorithm>
#include <stdexcept>

#include "../common/set_plan.hpp"
#include "../common/streams.hpp"

namespace swatsim::arch::tensordash {

namespace {

Params from_set(const ParamSet& s) {
  Params p;
  p.rows = int(s.get_int("rows"));
  p.cols = int(s.get_int("cols"));
  p.lanes = int(s.get_int("lanes"));
  p.lookahead = int(s.get_int("lookahead"));
  p.lookaside = int(s.get_int("lookaside"));
  p.shape = s.get_choice("shape") == "L" ? Shape::L : Shape::T;
  return p;
}

const Params& checked(const Params& p) {
  if (p.lookaside >= p.lanes)
    throw std::invalid_argument("lookaside: must be less than lanes (" + std::to_string(p.lanes) +
                                "), got " + std::to_string(p.lookaside));
  return p;
}
}  // namespace

TensorDash::TensorDash(const ParamSet& s) : TensorDash(from_set(s)) {}

TensorDash::TensorDash(const Params& p)
    : p_(checked(p)), sched_(p.lanes, p.lookahead, p.lookaside, p.shape, p.rows) {}

std::vector<ParamSpec> TensorDash::params() {
  return {
      ParamSpec::integer("rows", "PE rows per tile; each row works on one stream of the scheduled set", 4, 1, 1024),
      ParamSpec::integer("cols", "PE columns per tile; each column takes one stream of the dense set", 16, 1, 1024),
      ParamSpec::integer("lanes", "multipliers per PE (L): values per stream step", 16, 1, 64),
      ParamSpec::integer("lookahead", "H: steps ahead a value may be promoted from; caps speedup at H+1", 2, 1, 64),
      ParamSpec::integer("lookaside", "D: lookaside candidates (lanes sideways); must be < lanes", 5, 0, 63),
      ParamSpec::choice("shape", "candidate pattern: T (zig-zag lookaside) or L (one step ahead only)", "T",
                        {"T", "L"}),
  };
}

const std::string& TensorDash::type() const {
  static const std::string t = "tensordash";
  return t;
}

PassPlan TensorDash::plan(const PassInput& in, bool exploit) const {
  if (in.layer.macs_per_sample() == 0) {  // a zero-sized dimension: no work, no units
    PassPlan empty;
    empty.states = exploit ? uint32_t(p_.lookahead) + 1 : 1;
    return empty;
  }
  streams::PassStreams ps(in, uint32_t(p_.lanes));
  const streams::Mapping& m = ps.mapping();
  const uint32_t rows = uint32_t(p_.rows), cols = uint32_t(p_.cols), T = m.T;
  const int H = p_.lookahead;
  const bool sched0 = m.op0_sparser();
  const uint32_t size0 = sched0 ? rows : cols, size1 = sched0 ? cols : rows;
  // Work unit: one operand-0 set with a contiguous chunk of the operand-1 sets it is paired with
  // (all of them unless there are too few units for the tiles, or they do not fit the chunk budget).
  const uint32_t n0 = uint32_t(ceil_div(m.streams[0], size0)), n1 = uint32_t(ceil_div(m.streams[1], size1));
  const streams::SetLayout sets(
      m, size0, size1, budget_splits(splits(uint64_t(m.groups) * m.outer * n0, n1), n1, uint64_t(size1) * T * m.lanes));

  PassPlan plan;
  plan.macs_dense = in.layer.macs_per_sample();
  plan.row_divisor = rows;
  if (!exploit) {
    sets.dense_plan(plan, T, in.layer.mapped_macs(in.pass));  // base cycles: every step of every pair costs one cycle (REFERENCE §2)
    return plan;
  }
  plan.states = uint32_t(H) + 1;
  std::vector<uint64_t> buf(uint64_t(T) * rows);
  // Scheduled weight sets depend only on the weights: reuse them while the tensor id is the same.
  Cache& cache = cache_[int(in.pass)];
  const bool cacheable = in.pass != Pass::WeightGrad && in.b.id != 0;
  if (!cacheable || cache.id != in.b.id) {
    cache.id = cacheable ? in.b.id : 0;
    cache.groups.clear();
  }
  Job job{ps, m, sets, buf, plan, rows, cols, T, H};
  for (uint32_t g = 0; g < m.groups; ++g) {
    ps.set_group(g);
    if (sched0)
      plan_scheduled_a(job, g);
    else
      plan_scheduled_b(job, g, cache);
  }
  return plan;
}

void TensorDash::plan_scheduled_b(Job& job, uint32_t g, Cache& cache) const {
  auto& [ps, m, sets, buf, plan, rows, cols, T, H] = job;
  const uint32_t n0 = sets.sets0(), n1 = sets.sets1(), nsplit = sets.chunks();
  // Operand 1 is scheduled: schedule each of its sets once; every operand-0 set is paired
  // with the whole sequence of them.
  if (cache.groups.size() <= g) {
    CachedGroup cg;
    for (uint32_t i1 = 0; i1 < n1; ++i1) {
      const uint32_t count = sets.streams1(i1);
      ps.build(1, 0, i1 * rows, count, rows, buf.data());
      sched_.schedule(buf.data(), T);
      const BufferSummary s = summarize(buf.data(), T, rows, count, H);
      cg.segments.push_back(to_segment(s, H));
      cg.nonzeros.push_back(s.nonzeros);
      cg.row_idle.push_back(s.row_idle);
    }
    cache.groups.push_back(std::move(cg));
  }
  const CachedGroup& cg = cache.groups[g];
  const uint32_t first = uint32_t(plan.segments.size());
  std::vector<uint64_t> nnz(nsplit, 0), idle(nsplit, 0);
  for (uint32_t j = 0; j < nsplit; ++j) {
    Segment seq = cg.segments[sets.chunk_begin(j)];
    for (uint32_t i1 = sets.chunk_begin(j); i1 < sets.chunk_begin(j + 1); ++i1) {
      if (i1 > sets.chunk_begin(j)) seq = seq.then(cg.segments[i1]);
      nnz[j] += cg.nonzeros[i1];
      idle[j] += cg.row_idle[i1];
    }
    plan.segments.push_back(std::move(seq));
  }
  for (uint32_t o = 0; o < m.outer; ++o)
    for (uint32_t i0 = 0; i0 < n0; ++i0) {
      const uint64_t real0 = std::min(cols, m.streams[0] - i0 * cols);
      for (uint32_t j = 0; j < nsplit; ++j)
        plan.units.push_back(WorkUnit{first + j, nnz[j] * real0, idle[j], sets.block(g, o, i0, j)});
    }
}

void TensorDash::plan_scheduled_a(Job& job, uint32_t g) const {
  auto& [ps, m, sets, buf, plan, rows, cols, T, H] = job;
  const uint32_t n0 = sets.sets0(), nsplit = sets.chunks();
  // Operand 0 is scheduled: each of its sets is scheduled once and reused for every
  // operand-1 set (n1 pairs in a row with the same buffer).
  for (uint32_t o = 0; o < m.outer; ++o)
    for (uint32_t i0 = 0; i0 < n0; ++i0) {
      const uint32_t count = std::min(rows, m.streams[0] - i0 * rows);
      ps.build(0, o, i0 * rows, count, rows, buf.data());
      sched_.schedule(buf.data(), T);
      const BufferSummary s = summarize(buf.data(), T, rows, count, H);
      const Segment seg = to_segment(s, H);
      for (uint32_t j = 0; j < nsplit; ++j) {
        const uint32_t len = sets.chunk_sets(j);
        uint64_t dense = 0;
        for (uint32_t i1 = sets.chunk_begin(j); i1 < sets.chunk_begin(j + 1); ++i1) dense += sets.streams1(i1);
        plan.units.push_back(
            WorkUnit{uint32_t(plan.segments.size()), s.nonzeros * dense, s.row_idle * len, sets.block(g, o, i0, j)});
        plan.segments.push_back(seg.repeat(len));
      }
    }
}

SWATSIM_REGISTER_PE(TensorDash, "tensordash",
                    "one-sided sparse PE array with lookahead/lookaside promotion (TensorDash, MICRO 2020)");

}  // namespace swatsim::arch::tensordash
