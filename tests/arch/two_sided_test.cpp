// two-sided: the bitmap-intersection timing rule against a per-cycle reference.
#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

#include "pe/two_sided/two_sided.hpp"
#include "random_layer.hpp"
#include "reference.hpp"

namespace ts = swatsim::arch::two_sided;
using swatsim::arch::Pass;

namespace {
// Per-cycle: each PE walks its steps; in a step it issues up to P matched pairs per cycle until the
// step's matches are done (steps without a match take no cycle). The array waits for the slowest
// PE of the pair of sets, at least one cycle.
uint64_t ref_pass(const swatsim::arch::PassInput& in, const ts::Params& p) {
  const uint32_t L = uint32_t(p.lanes);
  const auto geo = ref::geometry(in, L);
  const uint32_t rows = uint32_t(p.rows), cols = uint32_t(p.cols);
  const uint32_t n0 = (geo.streams[0] + rows - 1) / rows, n1 = (geo.streams[1] + cols - 1) / cols;
  uint64_t total = 0;
  for (uint32_t g = 0; g < in.layer.groups; ++g)
    for (uint32_t o = 0; o < geo.outer; ++o)
      for (uint32_t i0 = 0; i0 < n0; ++i0)
        for (uint32_t i1 = 0; i1 < n1; ++i1) {
          uint64_t slowest = 1;
          for (uint32_t r = 0; r < rows; ++r)
            for (uint32_t c = 0; c < cols; ++c) {
              const uint32_t j0 = i0 * rows + r, j1 = i1 * cols + c;
              uint64_t cycles = 0;
              for (uint32_t t = 0; t < geo.T; ++t) {
                int left = 0;
                for (uint32_t i = 0; i < L; ++i)
                  left += j0 < geo.streams[0] && j1 < geo.streams[1] &&
                          ref::element(in, L, 0, g, o, j0, t, i) && ref::element(in, L, 1, g, o, j1, t, i);
                while (left > 0) {  // one cycle: issue up to P pairs
                  left -= p.pairs_per_cycle;
                  ++cycles;
                }
              }
              slowest = std::max(slowest, cycles);
            }
          total += slowest;
        }
  return total;
}
}  // namespace

TEST(TwoSided, RandomLayersMatchPerCycleReference) {
  std::mt19937_64 rng(77);
  for (int iter = 0; iter < 600; ++iter) {
    const auto l = testutil::random_layer(rng);
    const Pass pass = Pass(iter % 3);
    auto c = testutil::make_case(rng, l, pass, 0.6, 0.4);
    ts::Params p;
    p.rows = std::uniform_int_distribution<int>(1, 3)(rng);
    p.cols = std::uniform_int_distribution<int>(1, 4)(rng);
    p.lanes = std::uniform_int_distribution<int>(1, 8)(rng);
    p.pairs_per_cycle = std::uniform_int_distribution<int>(1, p.lanes)(rng);
    ts::TwoSided m(p);
    const uint64_t expect = ref_pass(c.in, p);
    ASSERT_EQ(m.plan(c.in, true).serial_cycles(), expect) << "iter " << iter;
    ts::TwoSided split(p);
    split.set_tiles(16);
    ASSERT_EQ(split.plan(c.in, true).serial_cycles(), expect) << "iter " << iter;
  }
}

TEST(TwoSided, DenseOperandsCostFullSteps) {
  std::mt19937_64 rng(1);
  swatsim::arch::LayerShape l;
  l.C = 32; l.K = 16; l.H = l.W = 4; l.R = l.S = 1; l.Ho = l.Wo = 4;
  auto c = testutil::make_case(rng, l, Pass::Forward, 1.0, 1.0);
  ts::Params p;  // 4 x 16 PEs, 16 lanes, 16 pairs per cycle
  p.lanes = 16;
  ts::TwoSided m(p);
  // T = 2 steps; 16 windows / 4 rows = 4 sets; 16 filters / 16 cols = 1 set: 8 cycles.
  EXPECT_EQ(m.plan(c.in, true).serial_cycles(), 8u);
  EXPECT_EQ(m.plan(c.in, false).serial_cycles(), 8u);
  p.pairs_per_cycle = 4;
  EXPECT_EQ(ts::TwoSided(p).plan(c.in, true).serial_cycles(), 32u);
  // A 64-position window with 16 multipliers: T = 1 step of 32 matches -> 2 cycles per pair.
  p.lanes = 64;
  p.pairs_per_cycle = 16;
  EXPECT_EQ(ts::TwoSided(p).plan(c.in, true).serial_cycles(), 8u);
  EXPECT_EQ(ts::TwoSided(p).plan(c.in, false).serial_cycles(), 16u);  // ceil(64/16) per step
}

// Sparse operands: only matched pairs cost. One window per PE, 16 multipliers.
TEST(TwoSided, WindowOfMatchesCostsCeilMOverP) {
  std::mt19937_64 rng(1);
  swatsim::arch::LayerShape l;
  l.C = 64; l.K = 1; l.H = l.W = 1; l.R = l.S = 1; l.Ho = l.Wo = 1;
  auto c = testutil::make_case(rng, l, Pass::Forward, 0.0, 0.0);
  c.a->words[0] = 0x00000000FFFFFFFFull;   // activation channels 0..31
  c.b->words[0] = 0x0000FFFFFFFF0000ull;   // weight channels 16..47 -> 16 matches
  ts::Params p;
  p.rows = 1; p.cols = 1; p.lanes = 64; p.pairs_per_cycle = 16;
  EXPECT_EQ(ts::TwoSided(p).plan(c.in, true).serial_cycles(), 1u);
  p.pairs_per_cycle = 5;
  EXPECT_EQ(ts::TwoSided(p).plan(c.in, true).serial_cycles(), 4u);
  c.b->words[0] = 0xFFFFFFFF00000000ull;   // no match: still one cycle for the pair
  EXPECT_EQ(ts::TwoSided(p).plan(c.in, true).serial_cycles(), 1u);
}

// At most `lanes` pairs match in a step, so P > lanes would claim multipliers that never work
// (macs_per_cycle rows*cols*P): rejected, naming the key as the config errors do.
TEST(TwoSided, RejectsMorePairsPerCycleThanLanes) {
  ts::Params p;
  p.lanes = 8;
  p.pairs_per_cycle = 8;
  EXPECT_NO_THROW(ts::TwoSided{p});
  p.pairs_per_cycle = 9;
  try {
    ts::TwoSided m(p);
    FAIL() << "accepted pairs_per_cycle > lanes";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "pairs_per_cycle: expected an integer in [1, lanes=8], got 9");
  }
}

// What a zero-gated dense array multiplies: the pass's MACs with both operands non-zero, element by
// element from the masks (any lane width lays them out; 8 here), on random layers of every pass.
TEST(TwoSided, NonzeroPairMacsCountEveryPairOfNonzeroOperands) {
  std::mt19937_64 rng(79);
  int with_pairs = 0;
  for (int iter = 0; iter < 150; ++iter) {
    const auto l = testutil::random_layer(rng);
    const Pass pass = Pass(iter % 3);
    auto c = testutil::make_case(rng, l, pass, 0.6, 0.4);
    const uint32_t L = 8;
    const auto geo = ref::geometry(c.in, L);
    uint64_t pairs = 0;
    for (uint32_t g = 0; g < l.groups; ++g)
      for (uint32_t o = 0; o < geo.outer; ++o)
        for (uint32_t j0 = 0; j0 < geo.streams[0]; ++j0)
          for (uint32_t j1 = 0; j1 < geo.streams[1]; ++j1)
            for (uint32_t t = 0; t < geo.T; ++t)
              for (uint32_t i = 0; i < L; ++i)
                pairs += ref::element(c.in, L, 0, g, o, j0, t, i) && ref::element(c.in, L, 1, g, o, j1, t, i);
    ASSERT_EQ(swatsim::arch::nonzero_pair_macs(c.in), pairs) << testing::PrintToString(c);
    with_pairs += pairs > 0;
  }
  EXPECT_GT(with_pairs, 100);
}
