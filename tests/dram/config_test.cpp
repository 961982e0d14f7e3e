// DRAM sections: presets hold exactly REFERENCE §4's numbers; overrides; errors with key paths.
#include "dram_test_util.hpp"
#include "swatsim/common/error.hpp"

namespace swatsim::test {
namespace {

std::string error_of(const json& j) {
  try {
    sim::bind_dram_config(j, "cfg.json", "/dram", ".");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(DramConfig, PresetsHoldTheReferenceNumbers) {
  const Spec d = preset("ddr4-3200");
  EXPECT_EQ(d.channels, 1u);
  EXPECT_EQ(d.ranks, 2u);
  EXPECT_EQ(d.banks_per_rank(), 16u);
  EXPECT_EQ(d.rows, 65536u);
  EXPECT_EQ(d.burst_bytes(), 64u);
  EXPECT_EQ(d.burst_cycles(), 4u);
  EXPECT_DOUBLE_EQ(d.tCK_ns, 0.625);
  EXPECT_EQ(std::vector<uint32_t>({d.tCL, d.tCWL, d.tAL, d.tRCD_RD, d.tRP, d.tRAS, d.tRC, d.tRRD_S, d.tRRD_L, d.tFAW,
                                   d.tCCD_S, d.tCCD_L, d.tWTR_S, d.tWTR_L, d.tWR, d.tRTP, d.tRTRS, d.tRFC, d.tREFI}),
            std::vector<uint32_t>({22, 16, 0, 22, 22, 52, 74, 4, 8, 34, 4, 8, 4, 12, 24, 12, 1, 560, 12480}));
  EXPECT_EQ(std::vector<double>({d.IDD0, d.IDD2N, d.IDD2P, d.IDD3N, d.IDD3P, d.IDD4R, d.IDD4W, d.IDD5AB, d.IDD6x}),
            std::vector<double>({57, 37, 25, 52, 43, 168, 150, 250, 30}));
  EXPECT_EQ(d.devices_per_rank(), 8u);
  EXPECT_EQ(d.address_mapping, "rochrababgco");
  EXPECT_FALSE(d.dual_command);
  const Spec h = preset("hbm2");
  EXPECT_EQ(h.channels, 8u);
  EXPECT_EQ(h.ranks, 1u);
  EXPECT_EQ(h.columns, 128u);
  EXPECT_EQ(h.burst_bytes(), 64u);
  EXPECT_EQ(h.burst_cycles(), 2u);
  EXPECT_EQ(std::vector<uint32_t>({h.tCL, h.tCWL, h.tRCD_RD, h.tRCD_WR, h.tRP, h.tRAS, h.tRC, h.tRRD_S, h.tRRD_L,
                                   h.tFAW, h.tCCD_S, h.tCCD_L, h.tWTR_S, h.tWTR_L, h.tWR, h.tRTP, h.tRFC, h.tREFI}),
            std::vector<uint32_t>({14, 4, 14, 14, 14, 34, 48, 4, 6, 30, 1, 2, 6, 8, 16, 6, 260, 3900}));
  EXPECT_EQ(std::vector<double>({h.IDD0, h.IDD2N, h.IDD2P, h.IDD3N, h.IDD3P, h.IDD4R, h.IDD4W, h.IDD5AB, h.IDD6x}),
            std::vector<double>({65, 40, 28, 55, 40, 390, 500, 250, 31}));
  EXPECT_EQ(h.devices_per_rank(), 1u);
  EXPECT_EQ(h.address_mapping, "rorabgbachco");
  EXPECT_TRUE(h.dual_command);
}

TEST(DramConfig, OverridesAndCustomSets) {
  const Spec s = preset("ddr4-3200", {{"channels", 2}, {"tCL", 24}, {"page_policy", "closed"}});
  EXPECT_EQ(s.channels, 2u);
  EXPECT_EQ(s.tCL, 24u);
  EXPECT_EQ(s.page_policy, arch::dram::PagePolicy::Closed);
  EXPECT_EQ(s.tRCD_RD, 22u);
  // A full custom set: the HBM2 preset's values without "preset" bind to the same Spec.
  sim::DramConfig full = sim::bind_dram_config(json{{"preset", "hbm2"}}, "x", "", ".");
  json custom = sim::to_json(full);
  custom.erase("preset");
  const Spec c = sim::bind_dram_config(custom, "x", "", ".").spec;
  EXPECT_EQ(sim::to_json(sim::bind_dram_config(custom, "x", "", ".")).dump(), custom.dump());
  EXPECT_EQ(c.tRFC, 260u);
  custom.erase("tRFC");
  EXPECT_EQ(error_of(custom).rfind("cfg.json: /dram: missing key \"tRFC\"", 0), 0u) << error_of(custom);
}

TEST(DramConfig, ErrorsNameTheKeyPath) {
  auto with = [](json extra) {
    extra["preset"] = "ddr4-3200";
    return extra;
  };
  EXPECT_EQ(error_of(with({{"tRC", 70}})), "cfg.json: /dram/tRC: expected at least tRAS + tRP = 74, got 70");
  EXPECT_EQ(error_of(with({{"tCL", -1}})), "cfg.json: /dram/tCL: expected an integer in [1, 16777216], got -1");
  EXPECT_EQ(error_of(with({{"tCl", 3}})).rfind("cfg.json: /dram/tCl: unknown key for a DRAM section (known: preset, ", 0),
            0u);
  EXPECT_EQ(error_of(with({{"channels", 3}})), "cfg.json: /dram/channels: expected a power of two, got 3");
  EXPECT_EQ(error_of(with({{"address_mapping", "rochrababgba"}})),
            "cfg.json: /dram/address_mapping: \"rochrababgba\" names the field \"ba\" twice");
  EXPECT_EQ(error_of(with({{"address_mapping", "rochrababg"}})).rfind("cfg.json: /dram/address_mapping: expected six "
                                                                      "two-letter fields",
                                                                      0),
            0u);
  EXPECT_EQ(error_of(with({{"address_mapping", "rochraxxbgco"}})),
            "cfg.json: /dram/address_mapping: field 4 of \"rochraxxbgco\" is \"xx\": expected one of ch, ra, bg, ba, "
            "ro, co");
  EXPECT_EQ(error_of(with({{"tRRD_L", 2}})), "cfg.json: /dram/tRRD_L: expected at least tRRD_S = 4, got 2");
  EXPECT_EQ(error_of(with({{"page_policy", "shut"}})),
            "cfg.json: /dram/page_policy: expected one of \"open\", \"closed\", got \"shut\"");
  EXPECT_EQ(error_of({{"preset", "ddr5"}}), "cfg.json: /dram/preset: expected one of ddr4-3200, hbm2, got \"ddr5\"");
  EXPECT_EQ(error_of(json::array()), "cfg.json: /dram: expected an object or a path to a JSON file, got an array");
}

}  // namespace
}  // namespace swatsim::test
