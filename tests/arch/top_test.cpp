// The SystemC accelerator: one tile with ideal memory gives exactly the sum of the kernel's cycles;
// more tiles never finish later than one. Each test runs in its own process (one sc_start each).
#include <systemc>

#include <gtest/gtest.h>

#include <random>

#include "random_layer.hpp"
#include "reference.hpp"
#include "job_driver.hpp"
#include "swatsim/arch/accelerator.hpp"

using namespace swatsim::arch;

namespace {

using Driver = testutil::JobDriver;

AcceleratorConfig td_config(uint32_t tiles) {
  AcceleratorConfig c;
  c.tiles = tiles;
  c.pe_type = "tensordash";
  c.pe = ParamSet(find_pe_type("tensordash")->params);
  return c;
}

}  // namespace

TEST(Top, OneTileEqualsKernelSumAndReference) {
  std::mt19937_64 rng(2024);
  std::vector<testutil::Case> cases;
  for (int i = 0; i < 12; ++i) {
    const auto l = testutil::random_layer(rng);
    cases.push_back(testutil::make_case(rng, l, Pass(i % 3), 0.4, 0.3));
  }
  std::vector<const PassInput*> jobs;
  for (auto& c : cases) jobs.push_back(&c.in);
  Accelerator acc("acc", td_config(1), true);
  Accelerator base("base", td_config(1), false);
  std::vector<uint64_t> kernel_sums;
  acc.on_plan = [&](const PassPlan& p) { kernel_sums.push_back(p.serial_cycles()); };
  Driver d("driver", {&acc, &base}, jobs);
  sc_core::sc_start();
  ASSERT_EQ(d.results[0].size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto expect = ref::tensordash_pass(cases[i].in, ref::TdParams{4, 16, 16, 2, 5, tensordash::Shape::T});
    EXPECT_EQ(d.results[0][i].cycles, kernel_sums[i]) << i;
    EXPECT_EQ(d.results[0][i].cycles, expect.first) << i;
    EXPECT_EQ(d.results[1][i].cycles, expect.second) << i;
    EXPECT_EQ(d.results[0][i].tile_wait_cycles, 0u);
  }
}

TEST(Top, MoreTilesNeverSlower) {
  std::mt19937_64 rng(7);
  std::vector<testutil::Case> cases;
  for (int i = 0; i < 10; ++i) {
    auto l = testutil::random_layer(rng);
    l.H += 6; l.W += 6;
    l.Ho = (l.H + 2 * l.padding - l.R) / l.stride + 1;
    l.Wo = (l.W + 2 * l.padding - l.S) / l.stride + 1;
    cases.push_back(testutil::make_case(rng, l, Pass(i % 3), 0.3, 0.2));
  }
  std::vector<const PassInput*> jobs;
  for (auto& c : cases) jobs.push_back(&c.in);
  const uint32_t tiles[] = {1, 2, 3, 4, 16};
  std::vector<std::unique_ptr<Accelerator>> accs;
  std::vector<Accelerator*> raw;
  for (uint32_t t : tiles) {
    accs.push_back(std::make_unique<Accelerator>(("acc" + std::to_string(t)).c_str(), td_config(t), true));
    raw.push_back(accs.back().get());
  }
  Driver d("driver", raw, jobs);
  sc_core::sc_start();
  for (size_t i = 0; i < cases.size(); ++i) {
    for (size_t k = 1; k < accs.size(); ++k) {
      EXPECT_LE(d.results[k][i].cycles, d.results[0][i].cycles) << "job " << i << " tiles " << tiles[k];
      // every tile is busy, waiting or idle for the whole job
      EXPECT_EQ(d.results[k][i].busy_cycles + d.results[k][i].tile_wait_cycles,
                d.results[k][i].cycles * tiles[k]);
    }
  }
}
