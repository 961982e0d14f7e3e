// TensorDash kernel: hand-worked cases from REFERENCE.md §2 and randomized comparison with the
// per-cycle reference (tests/arch/reference.hpp).
#include <gtest/gtest.h>

#include <random>

#include "pe/tensordash/kernel.hpp"
#include "pe/tensordash/tensordash.hpp"
#include "random_layer.hpp"
#include "reference.hpp"

namespace td = swatsim::arch::tensordash;
using swatsim::arch::Pass;

namespace {

std::vector<uint64_t> to_words(const ref::Buffer& b) {
  std::vector<uint64_t> w;
  for (const auto& step : b)
    for (const auto& g : step) {
      uint64_t x = 0;
      for (size_t i = 0; i < g.size(); ++i) x |= uint64_t(g[i]) << i;
      w.push_back(x);
    }
  return w;
}

ref::Buffer from_lanes(const std::vector<std::vector<std::vector<int>>>& v) {
  ref::Buffer b;
  for (const auto& step : v) {
    std::vector<std::vector<bool>> s;
    for (const auto& g : step) s.emplace_back(g.begin(), g.end());
    b.push_back(s);
  }
  return b;
}

td::Params params_of(const ref::TdParams& p) {
  td::Params q;
  q.rows = p.rows;
  q.cols = p.cols;
  q.lanes = p.lanes;
  q.lookahead = p.H;
  q.lookaside = p.D;
  q.shape = p.shape;
  return q;
}

}  // namespace

TEST(TensorDashOrder, LaneOrderL16D5) {
  EXPECT_EQ(td::lane_order(16, 5),
            (std::vector<int>{0, 5, 10, 1, 6, 11, 2, 7, 12, 3, 8, 13, 4, 9, 14, 15}));
}

TEST(TensorDashOrder, LaneOrderCoversEveryLaneOnce) {
  for (int L = 1; L <= 32; ++L)
    for (int D = 0; D < L; ++D) {
      auto o = td::lane_order(L, D);
      ASSERT_EQ(int(o.size()), L) << "L=" << L << " D=" << D;
      std::vector<int> s = o;
      std::sort(s.begin(), s.end());
      for (int i = 0; i < L; ++i) ASSERT_EQ(s[size_t(i)], i);
    }
}

TEST(TensorDashOrder, TShapeCandidatesH2D5) {
  const std::vector<td::Offset> expect{{1, -1}, {1, 0}, {1, 1}, {1, 3}, {2, -2}, {2, 0}, {2, 2}};
  EXPECT_EQ(td::candidates(2, 5, td::Shape::T), expect);
  EXPECT_EQ(ref::candidates(2, 5, td::Shape::T), expect);
}

// H=1, D=5: every zig-zag step wraps h back to 1. Entries: 1 (1,1), d=-1; 2 (1,-1), d=1 -> d=2,
// h=2 -> 1; 3 (1,2), d=-2; 4 (1,-2), d=2 -> d=3, h=1; 5 (1,3). Plus (1,0), sorted.
TEST(TensorDashOrder, TShapeCandidatesH1D5) {
  const std::vector<td::Offset> expect{{1, -2}, {1, -1}, {1, 0}, {1, 1}, {1, 2}, {1, 3}};
  EXPECT_EQ(td::candidates(1, 5, td::Shape::T), expect);
  EXPECT_EQ(ref::candidates(1, 5, td::Shape::T), expect);
}

// H=2, D=7, by hand from REFERENCE §2 (start h=1, d=1; add (h,d); d = -d; after entries 2, 4, 6
// also d += 1, h += 1, h wrapping to 1 past H=2):
//   entry 1: (1, 1), d = -1
//   entry 2: (1,-1), d = 1 -> d = 2, h = 2
//   entry 3: (2, 2), d = -2
//   entry 4: (2,-2), d = 2 -> d = 3, h = 3 -> wraps to 1
//   entry 5: (1, 3), d = -3
//   entry 6: (1,-3), d = 3 -> d = 4, h = 2
//   entry 7: (2, 4)
// plus (1,0), (2,0); sorted by (h, d).
TEST(TensorDashOrder, TShapeCandidatesH2D7WrapsPastH) {
  const std::vector<td::Offset> expect{{1, -3}, {1, -1}, {1, 0}, {1, 1}, {1, 3},
                                       {2, -2}, {2, 0},  {2, 2}, {2, 4}};
  EXPECT_EQ(td::candidates(2, 7, td::Shape::T), expect);
  EXPECT_EQ(ref::candidates(2, 7, td::Shape::T), expect);
}

TEST(TensorDashOrder, ReferenceGeneratorsAgreeWithKernel) {
  EXPECT_EQ(ref::lane_order(16, 5), (std::vector<int>{0, 5, 10, 1, 6, 11, 2, 7, 12, 3, 8, 13, 4, 9, 14, 15}));
  for (int L = 1; L <= 32; ++L)
    for (int D = 0; D < L; ++D) {
      ASSERT_EQ(td::lane_order(L, D), ref::lane_order(L, D)) << "L=" << L << " D=" << D;
      for (int H = 1; H <= 4; ++H)
        for (auto shape : {td::Shape::T, td::Shape::L})
          ASSERT_EQ(td::candidates(H, D, shape), ref::candidates(H, D, shape)) << "H=" << H << " D=" << D;
    }
}

TEST(TensorDashOrder, LShapeCandidatesH2D5) {
  const std::vector<td::Offset> expect{{1, -5}, {1, -4}, {1, -3}, {1, -2}, {1, -1}, {1, 0}, {2, 0}};
  EXPECT_EQ(td::candidates(2, 5, td::Shape::L), expect);
  EXPECT_EQ(ref::candidates(2, 5, td::Shape::L), expect);
}

// Hand-worked: L=4, H=2, D=0 (lanes in order, candidates (1,0),(2,0)).
// t0 [1,0,0,0] t1 [0,1,0,0] t2 [0,0,1,1]: lane 1 takes t1's value, lanes 2 and 3 take t2's;
// t1 and t2 become empty and are skipped: 1 cycle instead of 3, counter left at 2.
TEST(TensorDashHand, LookaheadPromotion) {
  ref::Buffer b = from_lanes({{{1, 0, 0, 0}}, {{0, 1, 0, 0}}, {{0, 0, 1, 1}}});
  auto w = to_words(b);
  td::Scheduler s(4, 2, 0, td::Shape::T, 1);
  s.schedule(w.data(), 3);
  EXPECT_EQ(w, (std::vector<uint64_t>{0xF, 0, 0}));
  const auto sum = td::summarize(w.data(), 3, 1, 1, 2);
  const auto r = td::walk(sum, 0, 2);
  EXPECT_EQ(r.cycles, 1u);
  EXPECT_EQ(r.out, 2u);
}

// Hand-worked: L=4, H=1, D=1, T-shape: candidates (1,0),(1,1), lane order 0,1,2,3.
// t0 [1,0,0,0] t1 [0,0,1,0] t2 [1,1,1,1]: lane 1 takes (t1, lane 2) by lookaside; lanes 2, 3
// find nothing; t1 is empty and skipped; t2 is the last step (no promotion): 2 cycles.
TEST(TensorDashHand, LookasidePromotion) {
  ref::Buffer b = from_lanes({{{1, 0, 0, 0}}, {{0, 0, 1, 0}}, {{1, 1, 1, 1}}});
  auto w = to_words(b);
  td::Scheduler s(4, 1, 1, td::Shape::T, 1);
  s.schedule(w.data(), 3);
  EXPECT_EQ(w, (std::vector<uint64_t>{0x3, 0, 0xF}));
  const auto r = td::walk(td::summarize(w.data(), 3, 1, 1, 1), 0, 1);
  EXPECT_EQ(r.cycles, 2u);
  EXPECT_EQ(r.out, 0u);
}

// The skip rule: with H=2, eight all-zero steps cost a cycle every third step (free, free, paid).
TEST(TensorDashHand, SkipRuleCapsAtLookahead) {
  std::vector<uint64_t> w(8, 0);
  const auto s = td::summarize(w.data(), 8, 1, 1, 2);
  EXPECT_EQ(td::walk(s, 0, 2).cycles, 2u);  // f f P f f P f f
  EXPECT_EQ(td::walk(s, 0, 2).out, 2u);
  EXPECT_EQ(td::walk(s, 2, 2).cycles, 3u);  // P f f P f f P f
  EXPECT_EQ(td::walk(s, 2, 2).out, 1u);
}

TEST(TensorDashHand, AllZeroGivesExactlyHPlusOne) {
  // Forward pass with all-zero weights: weights are scheduled; T*pairs is a multiple of H+1.
  for (int H : {1, 2, 5, 8}) {
    std::mt19937_64 rng{uint64_t(H)};
    swatsim::arch::LayerShape l;
    l.N = 1; l.C = 16; l.H = l.W = 4; l.K = 8; l.R = l.S = 3; l.padding = 1; l.Ho = l.Wo = 4;
    auto c = testutil::make_case(rng, l, Pass::Forward, 0.5, 0.0);
    td::Params p;
    p.lookahead = H;
    p.lookaside = 5;
    td::TensorDash model(p);
    const auto plan = model.plan(c.in, true);
    const auto base = model.plan(c.in, false);
    // T = 9 steps x (2 weight sets x 1 activation set) = 18 all-zero steps
    const uint64_t steps = base.serial_cycles();
    ASSERT_EQ(steps % uint64_t(H + 1), 0u) << "choose a shape with steps % (H+1) == 0";
    EXPECT_EQ(plan.serial_cycles() * uint64_t(H + 1), steps) << "H=" << H;
  }
}

TEST(TensorDashHand, DenseGivesOne) {
  std::mt19937_64 rng(3);
  swatsim::arch::LayerShape l;
  l.N = 1; l.C = 32; l.H = l.W = 6; l.K = 6; l.R = l.S = 3; l.padding = 0; l.Ho = l.Wo = 4;  // C, Ho*Wo multiples of L
  // The input gradient convolves dY padded by R-1-pad: only a 1x1 kernel (no padding added) leaves
  // that operand dense, so that pass uses its own 1x1 layer with K a multiple of L.
  swatsim::arch::LayerShape l1;
  l1.N = 1; l1.C = 8; l1.H = l1.W = 4; l1.K = 32; l1.R = l1.S = 1; l1.Ho = l1.Wo = 4;
  for (Pass pass : {Pass::Forward, Pass::InputGrad, Pass::WeightGrad}) {
    auto c = testutil::make_case(rng, pass == Pass::InputGrad ? l1 : l, pass, 1.0, 1.0);
    td::TensorDash model(td::Params{});
    const uint64_t base = model.plan(c.in, false).serial_cycles();
    EXPECT_GT(base, 0u);
    EXPECT_EQ(model.plan(c.in, true).serial_cycles(), base) << swatsim::arch::to_string(pass);
  }
}

// Hand-worked input gradient with stride 2: C = K = 1, H = W = 3, 3x3 kernel, stride 2, pad 1, so
// Ho = Wo = 2; dY and the weights are dense. L = 1 lane, 1 PE row x 1 column, H = 2, D = 0.
// dY dilated by 2 and padded by R-1-pad = 1 is a 5x5 map with non-zeros at (1,1),(1,3),(3,1),(3,3)
// (21/25 zeros vs. 0/9 for the weights: dY is scheduled). Windows: 3x3 at stride 1, output column
// ox outer, row oy inner; a stream's step t = s*3 + r reads (oy + r, ox + s), T = 9.
// Non-zero steps per window: oy, ox in {0,2} give r, s = 1; oy, ox = 1 gives r, s in {0,2}:
//   A (oy,ox in {0,2}) {4}       C (oy=1, ox in {0,2}) {3,5}
//   B (oy in {0,2}, ox=1) {1,7}  D (oy=ox=1) {0,2,6,8}
// Window order (ox outer): A C A B D B A C A.
// Scheduling (counter from 0 per set; skip an empty step while fewer than 2 were skipped; at a
// paid empty step take the first of t+1, t+2 that holds a value):
//   A: skip 0,1; t2 paid, takes t4 -> {2};  C: skip 0,1; t2 takes t3 -> {2,5};
//   B: nothing to promote -> {1,7};         D: t5 paid (after skipping 3,4), takes t6 -> {0,2,5,8}.
// Walk (free empty step while fewer than 2 skipped in a row, carried from pair to pair):
//   A from 0: f f 1 f f 1 f f 1 = 3, out 0;  C from 0: f f 1 f f 1 f f 1 = 3, out 0;
//   A: 3, out 0;  B from 0: f 1 f f 1 f f 1 f = 3, out 1;  D from 1: 1 f 1 f f 1 f f 1 = 4, out 0;
//   B: 3, out 1;  A from 1: f 1 1 f f 1 f f 1 = 4, out 0;  C: 3;  A: 3.
// Total 3+3+3+3+4+3+4+3+3 = 29 cycles; base 9 pairs x 9 steps = 81.
TEST(TensorDashHand, InputGradStride2) {
  std::mt19937_64 rng{4};
  swatsim::arch::LayerShape l;
  l.N = 1; l.C = 1; l.H = l.W = 3; l.K = 1; l.R = l.S = 3; l.stride = 2; l.padding = 1; l.Ho = l.Wo = 2;
  auto c = testutil::make_case(rng, l, Pass::InputGrad, 1.0, 1.0);
  td::Params p;
  p.rows = 1; p.cols = 1; p.lanes = 1; p.lookahead = 2; p.lookaside = 0;
  td::TensorDash model(p);
  EXPECT_EQ(model.plan(c.in, true).serial_cycles(), 29u);
  EXPECT_EQ(model.plan(c.in, false).serial_cycles(), 81u);
  ref::TdParams rp{1, 1, 1, 2, 0, td::Shape::T};
  EXPECT_EQ(ref::tensordash_pass(c.in, rp), (std::pair<uint64_t, uint64_t>{29, 81}));
}

TEST(TensorDashKernel, ScheduleMatchesReferenceOnRandomBuffers) {
  std::mt19937_64 rng(42);
  for (int iter = 0; iter < 3000; ++iter) {
    const int pick = std::uniform_int_distribution<int>(0, 9)(rng);  // wide lane words too
    const int L = pick == 0 ? 64 : pick == 1 ? 32 : std::uniform_int_distribution<int>(1, 20)(rng);
    const int H = std::uniform_int_distribution<int>(1, 4)(rng);
    const int D = std::uniform_int_distribution<int>(0, L - 1)(rng);
    const int rows = std::uniform_int_distribution<int>(1, 4)(rng);
    const int T = std::uniform_int_distribution<int>(1, 14)(rng);
    const auto shape = rng() & 1 ? td::Shape::T : td::Shape::L;
    const double density = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    std::bernoulli_distribution bit(density * density);
    ref::Buffer b(static_cast<size_t>(T), std::vector<std::vector<bool>>(static_cast<size_t>(rows), std::vector<bool>(static_cast<size_t>(L))));
    for (auto& s : b)
      for (auto& g : s)
        for (size_t i = 0; i < g.size(); ++i) g[i] = bit(rng);
    auto w = to_words(b);
    td::Scheduler s(L, H, D, shape, rows);
    s.schedule(w.data(), uint32_t(T));
    ref::schedule(b, H, ref::candidates(H, D, shape), ref::lane_order(L, D));
    ASSERT_EQ(w, to_words(b)) << "iter " << iter;
    const auto sum = td::summarize(w.data(), uint32_t(T), uint32_t(rows), uint32_t(rows), H);
    for (int k = 0; k <= H; ++k) {
      int counter = k;
      const uint64_t cycles = ref::walk(b, H, counter);
      const auto fast = td::walk(sum, uint32_t(k), H);
      ASSERT_EQ(fast.cycles, cycles) << "iter " << iter << " k " << k;
      ASSERT_EQ(int(fast.out), counter) << "iter " << iter << " k " << k;
    }
  }
}

// The packed path (rows x lanes <= 64: every row of a step in one word, lanes of a round at once)
// against the lane-by-lane path on long buffers, including the presets' 4x16 H=2 D=5 and
// 1x16 H=8 D=7 and the word-filling shapes 2x32 and 1x64.
TEST(TensorDashKernel, PackedPathMatchesLaneByLane) {
  EXPECT_TRUE(td::Scheduler(16, 2, 5, td::Shape::T, 4).packed());
  EXPECT_TRUE(td::Scheduler(64, 2, 5, td::Shape::T, 1).packed());
  EXPECT_FALSE(td::Scheduler(16, 2, 5, td::Shape::T, 5).packed());
  EXPECT_FALSE(td::Scheduler(33, 1, 0, td::Shape::L, 2).packed());
  struct Shape {
    int L, rows, H, D;
    td::Shape shape;
  };
  std::vector<Shape> shapes{{16, 4, 2, 5, td::Shape::T}, {16, 1, 8, 7, td::Shape::T}, {32, 2, 3, 9, td::Shape::L},
                            {64, 1, 2, 5, td::Shape::T},  {8, 8, 4, 3, td::Shape::T},  {3, 5, 2, 2, td::Shape::L}};
  std::mt19937_64 rng(7);
  for (int iter = 0; iter < 400; ++iter) {
    const int L = std::uniform_int_distribution<int>(1, 64)(rng);
    const int rows = std::uniform_int_distribution<int>(1, std::max(1, 64 / L))(rng);
    shapes.push_back({L, rows, std::uniform_int_distribution<int>(1, 8)(rng),
                      std::uniform_int_distribution<int>(0, L - 1)(rng), rng() & 1 ? td::Shape::T : td::Shape::L});
  }
  for (size_t k = 0; k < shapes.size(); ++k) {
    const Shape& sh = shapes[k];
    const td::Scheduler s(sh.L, sh.H, sh.D, sh.shape, sh.rows);
    ASSERT_TRUE(s.packed()) << "shape " << k;
    const uint64_t full = sh.L == 64 ? ~uint64_t(0) : (uint64_t(1) << sh.L) - 1;
    for (int rep = 0; rep < 4; ++rep) {
      const uint32_t T = std::uniform_int_distribution<uint32_t>(1, 300)(rng);
      // density from empty to full, with runs of empty steps (the skip counter's case)
      const double density = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
      std::vector<uint64_t> a(uint64_t(T) * uint64_t(sh.rows));
      for (uint32_t t = 0; t < T; ++t) {
        const bool empty_step = (rng() % 4) == 0;
        for (int r = 0; r < sh.rows; ++r) {
          uint64_t w = 0;
          for (int i = 0; i < sh.L && !empty_step; ++i)
            if (std::uniform_real_distribution<double>(0.0, 1.0)(rng) < density * density) w |= uint64_t(1) << i;
          a[uint64_t(t) * uint64_t(sh.rows) + uint64_t(r)] = w & full;
        }
      }
      std::vector<uint64_t> b = a;
      s.schedule(a.data(), T);
      s.schedule_by_lane(b.data(), T);
      ASSERT_EQ(a, b) << "shape " << k << " L=" << sh.L << " rows=" << sh.rows << " H=" << sh.H << " D=" << sh.D
                      << " T=" << T;
    }
  }
}

TEST(TensorDashKernel, SegmentRepeatMatchesLoop) {
  std::mt19937_64 rng(5);
  for (int iter = 0; iter < 500; ++iter) {
    const int H = std::uniform_int_distribution<int>(1, 5)(rng);
    const uint32_t T = std::uniform_int_distribution<uint32_t>(1, 9)(rng);
    std::vector<uint64_t> w(T);
    for (auto& x : w) x = (rng() % 3 == 0) ? 1 : 0;
    const auto seg = td::to_segment(td::summarize(w.data(), T, 1, 1, H), H);
    const uint64_t n = std::uniform_int_distribution<uint64_t>(1, 40)(rng);
    const auto rep = seg.repeat(n);
    for (int k = 0; k <= H; ++k) {
      uint64_t cost = 0;
      uint8_t st = uint8_t(k);
      for (uint64_t i = 0; i < n; ++i) {
        cost += seg.cost[st];
        st = seg.out[st];
      }
      ASSERT_EQ(rep.cost[size_t(k)], cost);
      ASSERT_EQ(rep.out[size_t(k)], st);
    }
  }
}

// Hand-worked forward layer: 1x1 kernel, one channel, 2x2 map, L=1, 2 PE rows, H=1.
// Non-zeros at (y0,x0) and (y0,x1). Windows are enumerated output column outer, so the
// activation sets are {(0,0),(1,0)} and {(0,1),(1,1)}: both hold a value -> 2 cycles (a row-outer
// order would give sets {(0,0),(0,1)} and an empty one -> 1 cycle). Base: 2 sets x 1 step = 2.
TEST(TensorDashHand, ForwardWindowsAreColumnOuter) {
  std::mt19937_64 rng{1};
  swatsim::arch::LayerShape l;
  l.N = 1; l.C = 1; l.H = l.W = 2; l.K = 1; l.R = l.S = 1; l.Ho = l.Wo = 2;
  auto c = testutil::make_case(rng, l, Pass::Forward, 0.0, 1.0);
  c.a->words[0] = 0b0011;  // (y0,x0) and (y0,x1) in C order
  td::Params p;
  p.rows = 2; p.cols = 1; p.lanes = 1; p.lookahead = 1; p.lookaside = 0;
  td::TensorDash model(p);
  EXPECT_EQ(model.plan(c.in, true).serial_cycles(), 2u);
  EXPECT_EQ(model.plan(c.in, false).serial_cycles(), 2u);
  c.a->words[0] = 0b0101;  // (y0,x0) and (y1,x0): one set holds both, the other is skipped
  EXPECT_EQ(model.plan(c.in, true).serial_cycles(), 1u);
}

// Hand-worked weight gradient: positions are q = ox*Ho + oy (output row fastest). Ho=Wo=2, L=2,
// so step 0 = output column 0, step 1 = column 1. One gradient channel with non-zeros in column 0
// only; the activation is dense, so the gradient is scheduled: step 1 is empty and skipped ->
// 1 cycle per pair, 1 activation set of 1 channel x 1 kernel position -> 1 cycle, base 2.
TEST(TensorDashHand, WeightGradPositionsAreRowFastest) {
  std::mt19937_64 rng{2};
  swatsim::arch::LayerShape l;
  l.N = 1; l.C = 1; l.H = l.W = 2; l.K = 1; l.R = l.S = 1; l.Ho = l.Wo = 2;
  auto c = testutil::make_case(rng, l, Pass::WeightGrad, 1.0, 0.0);
  td::Params p;
  p.rows = 1; p.cols = 1; p.lanes = 2; p.lookahead = 1; p.lookaside = 0;
  td::TensorDash model(p);
  c.b->words[0] = 0b0101;  // dY[0,0,0,0] and dY[0,0,1,0]: column 0
  EXPECT_EQ(model.plan(c.in, true).serial_cycles(), 1u);
  c.b->words[0] = 0b0011;  // dY row 0: (oy0,ox0) in step 0, (oy0,ox1) in step 1 -> 2 cycles
  EXPECT_EQ(model.plan(c.in, true).serial_cycles(), 2u);
  EXPECT_EQ(model.plan(c.in, false).serial_cycles(), 2u);
}

class TensorDashPass : public ::testing::TestWithParam<Pass> {};

// Whole small layers: the model's plan (fast streams, memoized walk) against the reference
// (element-by-element streams, per-pair scheduling, per-cycle walk), cycles and base cycles.
TEST_P(TensorDashPass, RandomLayersMatchReference) {
  const Pass pass = GetParam();
  std::mt19937_64 rng(1000 + uint64_t(pass));
  for (int iter = 0; iter < 1000; ++iter) {
    const auto l = testutil::random_layer(rng);
    const double da = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    const double db = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    auto c = testutil::make_case(rng, l, pass, da * da, db * db);
    ref::TdParams p;
    p.rows = std::uniform_int_distribution<int>(1, 4)(rng);
    p.cols = std::uniform_int_distribution<int>(1, 5)(rng);
    p.lanes = std::uniform_int_distribution<int>(1, 9)(rng);
    p.H = std::uniform_int_distribution<int>(1, 3)(rng);
    p.D = std::uniform_int_distribution<int>(0, p.lanes - 1)(rng);
    p.shape = rng() & 1 ? td::Shape::T : td::Shape::L;
    td::TensorDash model(params_of(p));
    const auto expect = ref::tensordash_pass(c.in, p);
    const auto plan = model.plan(c.in, true);
    ASSERT_EQ(plan.serial_cycles(), expect.first) << "iter " << iter;
    ASSERT_EQ(model.plan(c.in, false).serial_cycles(), expect.second) << "iter " << iter;
    // planning the same input again is served from the weight cache (same weight id) and must
    // give the same answer
    ASSERT_EQ(model.plan(c.in, true).serial_cycles(), expect.first) << "iter " << iter;
    // cutting the work finer for many tiles keeps the one-tile order and total
    td::TensorDash split(params_of(p));
    split.set_tiles(16);
    const auto fine = split.plan(c.in, true);
    ASSERT_GE(fine.units.size(), plan.units.size());
    ASSERT_EQ(fine.serial_cycles(), expect.first) << "iter " << iter;
    ASSERT_EQ(split.plan(c.in, false).serial_cycles(), expect.second) << "iter " << iter;
  }
}

INSTANTIATE_TEST_SUITE_P(Passes, TensorDashPass,
                         ::testing::Values(Pass::Forward, Pass::InputGrad, Pass::WeightGrad),
                         [](const auto& info) {
                           return std::string(info.param == Pass::Forward     ? "Forward"
                                              : info.param == Pass::InputGrad ? "InputGrad"
                                                                              : "WeightGrad");
                         });

// The sparsity-off baseline looks at no zero: every MAC of the mapped GEMM is effectual work, in every
// pass (input gradient: with the inserted zeros), spread over units by the results each completes.
TEST(TensorDashHand, BaselineCountsEveryMappedMac) {
  std::mt19937_64 rng(17);
  for (int i = 0; i < 20; ++i) {
    const auto l = testutil::random_layer(rng);
    for (Pass pass : {Pass::Forward, Pass::InputGrad, Pass::WeightGrad}) {
      auto c = testutil::make_case(rng, l, pass, 0.4, 0.3);
      td::TensorDash model(td::Params{});
      uint64_t sum = 0;
      for (const auto& u : model.plan(c.in, false).units) sum += u.macs_effectual;
      EXPECT_EQ(sum, l.mapped_macs(pass)) << testing::PrintToString(c);
    }
  }
}
