// dense-systolic: SCALE-Sim v2 compute cycles (REFERENCE.md §3) and the lowering of each pass.
#include <gtest/gtest.h>

#include <random>

#include "pe/dense_systolic/dense_systolic.hpp"
#include "random_layer.hpp"

namespace ds = swatsim::arch::dense_systolic;
using swatsim::arch::Pass;

TEST(DenseSystolic, ScaleSimGolden32x32M64) {
  const ds::Gemm g{64, 64, 64};
  EXPECT_EQ(ds::gemm_cycles(g, 32, 32, ds::Dataflow::OS), 503u);
  EXPECT_EQ(ds::gemm_cycles(g, 32, 32, ds::Dataflow::WS), 631u);
  EXPECT_EQ(ds::gemm_cycles(g, 32, 32, ds::Dataflow::IS), 631u);
}

// Per-fold accounting, written the long way: walk every fold of the spatial mapping, add the
// cycles SCALE-Sim charges for it (fill + stream + drain), subtract one at the end.
uint64_t folds_the_long_way(uint64_t M, uint64_t N, uint64_t K, uint64_t R, uint64_t C, int df) {
  uint64_t Sr = df == 0 ? M : K, Sc = df == 2 ? M : N, T = df == 0 ? K : df == 1 ? M : N;
  uint64_t cycles = 0;
  for (uint64_t r0 = 0; r0 < Sr; r0 += R)
    for (uint64_t c0 = 0; c0 < Sc; c0 += C) cycles += (df == 0 ? R : 2 * R) + C + T - 2;
  return cycles - 1;
}

TEST(DenseSystolic, FormulaOnGrid) {
  const ds::Dataflow dfs[] = {ds::Dataflow::OS, ds::Dataflow::WS, ds::Dataflow::IS};
  for (uint64_t M : {1u, 7u, 32u, 33u, 100u})
    for (uint64_t N : {1u, 16u, 64u, 65u})
      for (uint64_t K : {1u, 9u, 64u, 300u})
        for (uint32_t R : {4u, 8u, 32u})
          for (uint32_t C : {4u, 16u, 32u})
            for (int d = 0; d < 3; ++d)
              ASSERT_EQ(ds::gemm_cycles({M, N, K}, R, C, dfs[d]), folds_the_long_way(M, N, K, R, C, d))
                  << M << " " << N << " " << K << " " << R << "x" << C << " df " << d;
}

TEST(DenseSystolic, LoweringOfEachPass) {
  swatsim::arch::LayerShape l;
  l.C = 64; l.K = 128; l.H = l.W = 56; l.R = l.S = 3; l.stride = 2; l.padding = 1; l.Ho = l.Wo = 28;
  const auto f = ds::lower(l, Pass::Forward);
  EXPECT_EQ(f.M, 28u * 28u); EXPECT_EQ(f.N, 128u); EXPECT_EQ(f.K, 64u * 9u);
  const auto ig = ds::lower(l, Pass::InputGrad);
  EXPECT_EQ(ig.M, 56u * 56u); EXPECT_EQ(ig.N, 64u); EXPECT_EQ(ig.K, 128u * 9u);
  const auto wg = ds::lower(l, Pass::WeightGrad);
  EXPECT_EQ(wg.M, 64u * 9u); EXPECT_EQ(wg.N, 128u); EXPECT_EQ(wg.K, 28u * 28u);
}

TEST(DenseSystolic, PlanSumsToGemmCyclesPerGroup) {
  std::mt19937_64 rng(9);
  for (int iter = 0; iter < 50; ++iter) {
    const auto l = testutil::random_layer(rng);
    for (Pass p : {Pass::Forward, Pass::InputGrad, Pass::WeightGrad}) {
      auto c = testutil::make_case(rng, l, p, 0.5, 0.5);
      for (auto df : {ds::Dataflow::OS, ds::Dataflow::WS, ds::Dataflow::IS}) {
        ds::DenseSystolic m(8, 4, df);
        const auto plan = m.plan(c.in, true);
        ASSERT_EQ(plan.serial_cycles(), l.groups * ds::gemm_cycles(ds::lower(l, p), 8, 4, df));
        uint64_t macs = 0;
        for (const auto& u : plan.units) macs += u.macs_effectual;
        const auto g = ds::lower(l, p);
        ASSERT_EQ(macs, l.groups * g.M * g.N * g.K);
      }
    }
  }
}
