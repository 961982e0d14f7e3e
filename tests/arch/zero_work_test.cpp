// Zero-sized work (a layer with Ho or Wo = 0, which the trace checks should already reject) gives
// a plan with no units and no cycles in every PE type: never a division by zero.
#include <gtest/gtest.h>

#include <random>

#include "pe/dense_systolic/dense_systolic.hpp"
#include "random_layer.hpp"
#include "swatsim/arch/config.hpp"
#include "swatsim/arch/pe_model.hpp"

using namespace swatsim::arch;

TEST(ZeroWork, EveryPeTypePlansNoUnits) {
  std::mt19937_64 rng{9};
  for (const auto& [type, info] : pe_types()) {
    AcceleratorConfig c;
    c.pe_type = type;
    c.pe = ParamSet(info.params);
    auto pe = make_pe(c);
    for (uint32_t tiles : {1u, 16u}) {
      pe->set_tiles(tiles);
      for (const auto& [ho, wo] : {std::pair<uint32_t, uint32_t>{0, 2}, {2, 0}, {0, 0}})
        for (Pass pass : {Pass::Forward, Pass::InputGrad, Pass::WeightGrad})
          for (bool exploit : {true, false}) {
            LayerShape l;
            l.C = 4; l.H = l.W = 2; l.K = 3; l.R = l.S = 3; l.Ho = ho; l.Wo = wo;
            auto k = testutil::make_case(rng, l, pass, 0.5, 0.5);
            const PassPlan plan = pe->plan(k.in, exploit);
            EXPECT_TRUE(plan.units.empty()) << type << " " << to_string(pass) << " tiles " << tiles;
            EXPECT_EQ(plan.serial_cycles(), 0u) << type << " " << to_string(pass);
            EXPECT_GE(plan.row_divisor, 1u);
          }
    }
  }
}

TEST(ZeroWork, SplitsOfNoOuterWorkIsOne) {
  AcceleratorConfig c;
  c.pe_type = "tensordash";
  c.pe = ParamSet(find_pe_type("tensordash")->params);
  auto pe = make_pe(c);
  pe->set_tiles(16);
  EXPECT_EQ(pe->splits(0, 8), 1u);
  EXPECT_EQ(pe->splits(0, 0), 1u);
  EXPECT_EQ(pe->splits(1, 0), 1u);
  EXPECT_EQ(pe->splits(1, 8), 8u);
}

TEST(ZeroWork, EmptyGemmHasNoCycles) {
  namespace ds = swatsim::arch::dense_systolic;
  for (auto df : {ds::Dataflow::OS, ds::Dataflow::WS, ds::Dataflow::IS}) {
    EXPECT_EQ(ds::gemm_cycles(ds::Gemm{0, 64, 64}, 32, 32, df), 0u);
    EXPECT_EQ(ds::gemm_cycles(ds::Gemm{64, 64, 0}, 32, 32, df), 0u);
  }
}
