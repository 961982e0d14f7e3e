// Energy = counted actions x the table (Accelergy style), checked by hand; the table's SRAM rule and
// the node scaling rule; table errors name the key.
#include <gtest/gtest.h>

#include <cmath>

#include "swatsim/arch/energy.hpp"
#include "swatsim/common/error.hpp"
#include "swatsim/sim/energy_config.hpp"

using namespace swatsim;
using namespace swatsim::arch;
using json = nlohmann::ordered_json;

namespace {
double stat(const StatSet& s, const char* name) {
  const Stat* x = s.find(name);
  EXPECT_NE(x, nullptr) << name;
  return x ? x->value : 0;
}
}  // namespace

TEST(Energy, TotalIsCountsTimesTable) {
  const EnergyTable t = sim::default_energy_table();
  const std::vector<CounterDef> defs = {{"gbuf.read_bytes", Unit::Bytes, ""}, {"gbuf.write_bytes", Unit::Bytes, ""},
                                        {"tile.operand.read_bytes", Unit::Bytes, ""}, {"noc.byte_hops", Unit::Bytes, ""},
                                        {"dram.energy_pj", Unit::PicoJoules, ""}, {"dram.io_energy_pj", Unit::PicoJoules, ""}};
  const CounterValues values = {1000, 500, 8000, 3000, 123456.5, 777.25};
  EnergyCounts c;
  c.macs_effectual = 10000;
  c.macs_mapped = 14000;
  c.macs_dense = 12000;
  c.macs_issued = 16000;
  c.busy_cycles = 100;
  c.cycles = 150;
  c.tiles = 2;
  c.multipliers_per_tile = 1024;
  c.control = {4, 1024};  // schedulers, multiplexed lanes
  c.sparse_control = true;
  c.value_bytes = 2;
  c.memory_defs = &defs;
  c.memory = &values;
  using P = EnergyAction::Price;
  c.memory_actions = {  // as the hierarchy's components publish them (levels.cpp)
      {"energy.dram_pj", "", {"dram.energy_pj"}, P::PicoJoules, "", 0},
      {"energy.dram_io_pj", "", {"dram.io_energy_pj"}, P::PicoJoules, "", 0},
      {"energy.gbuf_pj", "", {"gbuf.read_bytes", "gbuf.write_bytes"}, P::SramByte, "", 1 << 20},
      {"energy.noc_pj", "", {"noc.byte_hops"}, P::TableAction, "noc.byte_hop", 0},
      {"energy.tile_buffers_pj", "", {"tile.operand.read_bytes"}, P::SramByte, "", 32768}};
  const StatSet s = energy_stats(t, c);
  // By hand from configs/energy/45nm.json: the sparse PE multiplies its effectual MACs; the other
  // 6000 issued slots are clocked (mac.zero_slot).
  const double mac = 10000 * 1.5, idle = 6000 * 0.15;
  const double control = 100 * (1024 * 0.05 + 4 * 0.4);
  const double gbuf = 1500 * (100.0 / 8), tile = 8000 * (20.0 / 8);
  const double noc = 3000 * 0.75, dram = 123456.5, dram_io = 777.25, leak = 150 * 2 * 1024 * 0.015;
  const double total = mac + idle + control + dram + dram_io + gbuf + noc + tile + leak;
  EXPECT_DOUBLE_EQ(stat(s, "energy.mac_pj"), mac);
  EXPECT_DOUBLE_EQ(stat(s, "energy.idle_slots_pj"), idle);
  EXPECT_DOUBLE_EQ(stat(s, "energy.pe_control_pj"), control);
  EXPECT_DOUBLE_EQ(stat(s, "energy.gbuf_pj"), gbuf);
  EXPECT_DOUBLE_EQ(stat(s, "energy.tile_buffers_pj"), tile);
  EXPECT_DOUBLE_EQ(stat(s, "energy.noc_pj"), noc);
  EXPECT_DOUBLE_EQ(stat(s, "energy.dram_pj"), dram);
  EXPECT_DOUBLE_EQ(stat(s, "energy.dram_io_pj"), dram_io);
  EXPECT_DOUBLE_EQ(stat(s, "energy.leakage_pj"), leak);
  EXPECT_NEAR(stat(s, "energy.total_pj"), total, 1e-6);
  EXPECT_NEAR(stat(s, "energy.per_effectual_mac_pj"), total / 10000, 1e-12);
  EXPECT_NEAR(stat(s, "energy.per_dense_mac_pj"), total / 12000, 1e-12);
  // A design without zero gating (a dense array, or sparsity off) multiplies its real MACs, the mapped
  // GEMM's, zeros included, at the table's price exactly; the padding of its partial sets and idle
  // lanes (issued - mapped) is clocked, never a MAC.
  c.sparse_control = false;
  const StatSet d = energy_stats(t, c);
  EXPECT_DOUBLE_EQ(stat(d, "energy.mac_pj"), 14000 * 1.5);
  EXPECT_DOUBLE_EQ(stat(d, "energy.idle_slots_pj"), 2000 * 0.15);
  EXPECT_DOUBLE_EQ(stat(d, "energy.pe_control_pj"), 0.0);
  // A dense array with zero gating multiplies only the MACs whose operands are both non-zero; the
  // other issued slots are clocked.
  c.zero_gating = true;
  c.macs_nonzero = 9000;
  const StatSet z = energy_stats(t, c);
  EXPECT_DOUBLE_EQ(stat(z, "energy.mac_pj"), 9000 * 1.5);
  EXPECT_DOUBLE_EQ(stat(z, "energy.idle_slots_pj"), 7000 * 0.15);
  c.zero_gating = false;
  c.value_bytes = 4;
  EXPECT_DOUBLE_EQ(stat(energy_stats(t, c), "energy.mac_pj"), 14000 * 4.6);
}

TEST(Energy, SramRuleAndNodeScaling) {
  EnergyTable t = sim::default_energy_table();
  EXPECT_DOUBLE_EQ(t.sram_pj_per_byte(8192), 10.0 / 8);
  EXPECT_NEAR(t.sram_pj_per_byte(32768), 20.0 / 8, 1e-12);
  EXPECT_NEAR(t.sram_pj_per_byte(1 << 20), 100.0 / 8, 1e-9);
  // Halfway in log size between 8 KB and 32 KB: the geometric mean of 10 and 20 pJ.
  EXPECT_NEAR(t.sram_pj_per_byte(16384), std::sqrt(200.0) / 8, 1e-9);
  EXPECT_NEAR(t.sram_pj_per_byte(2 << 20), 100.0 * std::pow(2.0, std::log(5.0) / std::log(32.0)) / 8, 1e-9);
  t.target_node_nm = 22.5;
  t.target_voltage = 0.45;
  EXPECT_DOUBLE_EQ(t.scale(), 0.5 * 0.25);
  EXPECT_DOUBLE_EQ(t.pj("mac.bf16"), 1.5 * 0.125);
}

TEST(Energy, SectionBindingAndErrors) {
  const EnergyTable t = sim::bind_energy_section(json{{"table", "45nm"}, {"node_nm", 22}}, "cfg.json", "/energy", ".");
  EXPECT_DOUBLE_EQ(t.target_node_nm, 22);
  EXPECT_DOUBLE_EQ(t.target_voltage, 0.9);
  try {
    sim::bind_energy_section(json{{"table", "45nm"}, {"nodes", 22}}, "cfg.json", "/energy", ".");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/energy/nodes: unknown key"), std::string::npos) << e.what();
  }
  try {
    sim::bind_energy_section(json{{"voltage", -1}}, "cfg.json", "/energy", ".");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/energy/voltage: expected a number in [0.1, 10], got -1"), std::string::npos) << e.what();
  }
}
