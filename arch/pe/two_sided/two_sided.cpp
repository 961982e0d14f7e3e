#include "two_sided.hpp"
#include "../common/arith.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "../common/set_plan.hpp"
#include "../common/streams.hpp"
#include "swatsim/common/hw_popcount.hpp"

namespace swatsim::arch::two_sided {

SWATSIM_HW_POPCOUNT
uint64_t pair_cycles(const uint64_t* a, const uint64_t* b, uint32_t T, uint32_t rows, uint32_t cols,
                     uint32_t P, std::vector<uint64_t>& acc, uint64_t* pe_sum, uint64_t* matches) {
  acc.assign(uint64_t(rows) * cols, 0);
  uint64_t m_total = 0;
  for (uint32_t t = 0; t < T; ++t) {
    const uint64_t* at = a + uint64_t(t) * rows;
    const uint64_t* bt = b + uint64_t(t) * cols;
    for (uint32_t r = 0; r < rows; ++r) {
      const uint64_t x = at[r];
      if (x == 0) continue;
      uint64_t* ar = acc.data() + uint64_t(r) * cols;
      for (uint32_t c = 0; c < cols; ++c) {
        const uint32_t m = uint32_t(__builtin_popcountll(x & bt[c]));
        m_total += m;
        ar[c] += step_cycles(m, P);
      }
    }
  }
  uint64_t mx = 0, sum = 0;
  for (uint64_t v : acc) {
    mx = std::max(mx, v);
    sum += v;
  }
  *pe_sum += sum;
  *matches += m_total;
  return std::max<uint64_t>(mx, 1);
}

namespace {
const Params& checked(const Params& p) {
  // At most `lanes` pairs can match in one step, so a PE never issues more than that per cycle.
  if (p.pairs_per_cycle < 1 || p.pairs_per_cycle > p.lanes)
    throw std::invalid_argument("pairs_per_cycle: expected an integer in [1, lanes=" + std::to_string(p.lanes) +
                                "], got " + std::to_string(p.pairs_per_cycle));
  return p;
}

Params from_set(const ParamSet& s) {
  Params p;
  p.rows = int(s.get_int("rows"));
  p.cols = int(s.get_int("cols"));
  p.lanes = int(s.get_int("lanes"));
  p.pairs_per_cycle = int(s.get_int("pairs_per_cycle"));
  return p;
}
}  // namespace

TwoSided::TwoSided(const ParamSet& s) : TwoSided(from_set(s)) {}

TwoSided::TwoSided(const Params& p) : p_(checked(p)) {}

std::vector<ParamSpec> TwoSided::params() {
  return {
      ParamSpec::integer("rows", "PE rows per tile; row r takes stream r of the activation-side set", 4, 1, 1024),
      ParamSpec::integer("cols", "PE columns per tile; column c takes stream c of the other operand's set", 16, 1, 1024),
      ParamSpec::integer("lanes", "bitmap positions per stream step (the intersection window)", 64, 1, 64),
      ParamSpec::integer("pairs_per_cycle", "matched pairs (MACs) a PE issues per cycle (P); must be <= lanes", 16, 1, 64),
  };
}

const std::string& TwoSided::type() const {
  static const std::string t = "two-sided";
  return t;
}

PassPlan TwoSided::plan(const PassInput& in, bool exploit) const {
  if (in.layer.macs_per_sample() == 0) return PassPlan{};  // a zero-sized dimension: no work
  streams::PassStreams ps(in, uint32_t(p_.lanes));
  const streams::Mapping& m = ps.mapping();
  const uint32_t rows = uint32_t(p_.rows), cols = uint32_t(p_.cols), T = m.T;
  const uint32_t P = uint32_t(p_.pairs_per_cycle);
  const uint32_t n0 = uint32_t(ceil_div(m.streams[0], rows)), n1 = uint32_t(ceil_div(m.streams[1], cols));
  const streams::SetLayout sets(m, rows, cols,
                                budget_splits(splits(uint64_t(m.groups) * m.outer * n0, n1), n1, uint64_t(cols) * T * m.lanes));
  const uint32_t nsplit = sets.chunks();
  PassPlan plan;
  plan.macs_dense = in.layer.macs_per_sample();
  plan.row_divisor = rows * cols;
  if (!exploit) {
    sets.dense_plan(plan, uint64_t(T) * step_cycles(uint32_t(p_.lanes), P), in.layer.mapped_macs(in.pass));
    return plan;
  }
  std::vector<uint64_t> b(uint64_t(T) * cols * n1), a(uint64_t(T) * rows), scratch;
  for (uint32_t g = 0; g < m.groups; ++g) {
    ps.set_group(g);
    // Operand 1 does not depend on the outer position: build all its sets once per group.
    for (uint32_t i1 = 0; i1 < n1; ++i1) {
      const uint32_t count = std::min(cols, m.streams[1] - i1 * cols);
      ps.build(1, 0, i1 * cols, count, cols, b.data() + uint64_t(i1) * T * cols);
    }
    for (uint32_t o = 0; o < m.outer; ++o)
      for (uint32_t i0 = 0; i0 < n0; ++i0) {
        const uint32_t count = std::min(rows, m.streams[0] - i0 * rows);
        ps.build(0, o, i0 * rows, count, rows, a.data());
        for (uint32_t j = 0; j < nsplit; ++j) {
          uint64_t cycles = 0, pe_sum = 0, matches = 0;
          for (uint32_t i1 = sets.chunk_begin(j); i1 < sets.chunk_begin(j + 1); ++i1)
            cycles += pair_cycles(a.data(), b.data() + uint64_t(i1) * T * cols, T, rows, cols, P, scratch,
                                  &pe_sum, &matches);
          plan.units.push_back(
              WorkUnit{uint32_t(plan.segments.size()), matches, cycles * rows * cols - pe_sum, sets.block(g, o, i0, j)});
          plan.segments.push_back(Segment::constant(cycles));
        }
      }
  }
  return plan;
}

uint64_t nonzero_pairs(const PassInput& in) {
  static const TwoSided counter{Params{}};  // any geometry: the matches are the GEMM's non-zero pairs
  uint64_t pairs = 0;
  for (const WorkUnit& u : counter.plan(in, true).units) pairs += u.macs_effectual;
  return pairs;
}

SWATSIM_REGISTER_PE(TwoSided, "two-sided",
                    "two-sided sparse PE: bitmap intersection skips a MAC if either operand is zero (SparTen-like)");

}  // namespace swatsim::arch::two_sided

namespace swatsim::arch {
uint64_t nonzero_pair_macs(const PassInput& in) { return two_sided::nonzero_pairs(in); }
}  // namespace swatsim::arch
