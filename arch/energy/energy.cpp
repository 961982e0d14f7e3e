#include "swatsim/arch/energy.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

namespace swatsim::arch {

double EnergyTable::scale() const {
  const double v = target_voltage / voltage;
  return (target_node_nm / node_nm) * v * v;
}

double EnergyTable::pj(const std::string& action) const {
  auto it = actions.find(action);
  if (it == actions.end()) throw std::logic_error("energy table '" + name + "' has no action " + action);
  return it->second.pj * scale();
}

double EnergyTable::sram_pj_per_byte(uint64_t bytes) const {
  if (sram_points.empty()) throw std::logic_error("energy table '" + name + "' has no SRAM points");
  if (sram_points.size() == 1) return sram_points[0].second / 8.0 * scale();
  // Log-log interpolation on the segment holding `bytes` (the first or last one outside the range).
  const double x = std::log(double(std::max<uint64_t>(bytes, 1)));
  size_t i = 1;
  while (i + 1 < sram_points.size() && x > std::log(sram_points[i].first)) ++i;
  const double x0 = std::log(sram_points[i - 1].first), x1 = std::log(sram_points[i].first);
  const double y0 = std::log(sram_points[i - 1].second), y1 = std::log(sram_points[i].second);
  const double y = y0 + (y1 - y0) * (x - x0) / (x1 - x0);
  return std::exp(y) / 8.0 * scale();  // per 64-bit access -> per byte
}

const std::vector<std::string>& energy_actions() {
  static const std::vector<std::string> a{"mac.bf16",         "mac.fp32",     "mac.zero_slot",
                                          "pe.mux_lane_cycle", "pe.scheduler_row_cycle", "noc.byte_hop",
                                          "leakage.multiplier_cycle"};
  return a;
}

StatSet energy_stats(const EnergyTable& t, const EnergyCounts& c) {
  StatSet s;
  const double mac = t.pj(c.value_bytes == 4 ? "mac.fp32" : "mac.bf16");
  // Multiplications done: a sparse PE exploiting sparsity skips what it can (its effectual MACs); a
  // design without zero gating multiplies every MAC of the mapped GEMM, zeros included. Every other
  // issued slot holds no multiplication: it is clocked, never priced as a MAC.
  const uint64_t multiplied = c.sparse_control ? c.macs_effectual : c.zero_gating ? c.macs_nonzero : c.macs_mapped;
  const uint64_t idle_slots = c.macs_issued > multiplied ? c.macs_issued - multiplied : 0;
  const double e_mac = double(multiplied) * mac;
  const double e_idle = double(idle_slots) * t.pj("mac.zero_slot");
  const double active_tile_cycles = double(c.busy_cycles);
  const double e_control =
      c.sparse_control ? active_tile_cycles * (double(c.control.mux_lanes) * t.pj("pe.mux_lane_cycle") +
                                               double(c.control.schedulers) * t.pj("pe.scheduler_row_cycle"))
                       : 0.0;
  s.add("energy.mac_pj", e_mac, Unit::PicoJoules,
        "multiplications done: effectual MACs (a sparse PE exploiting sparsity), MACs with both operands non-zero (a dense "
        "array with zero gating) or the mapped GEMM's MACs, zeros included");
  s.add("energy.idle_slots_pj", e_idle, Unit::PicoJoules,
        "issued multiplier slots without a multiplication (gated zeros, padding of partial sets, idle lanes): clocking");
  s.add("energy.pe_control_pj", e_control, Unit::PicoJoules, "sparse PEs' schedulers and operand multiplexers, per active cycle");
  double total = e_mac + e_idle + e_control;
  // The memory's components: whatever they publish, priced by the table, in the order published.
  if (!c.memory_actions.empty()) {
    std::map<std::string, double> value;  // counter -> this row's count
    if (c.memory_defs && c.memory)
      for (size_t i = 0; i < c.memory_defs->size() && i < c.memory->size(); ++i) value[(*c.memory_defs)[i].name] = (*c.memory)[i];
    std::vector<std::pair<const EnergyAction*, double>> by_stat;  // first action of each stat, its energy
    for (const EnergyAction& a : c.memory_actions) {
      double count = 0;
      for (const std::string& name : a.counters) {
        auto it = value.find(name);
        if (it == value.end()) throw std::logic_error("energy action " + a.stat + " counts " + name + ", which nothing counts");
        count += it->second;
      }
      double pj = 0;
      switch (a.price) {
        case EnergyAction::Price::TableAction: pj = count * t.pj(a.action); break;
        case EnergyAction::Price::SramByte: pj = count * t.sram_pj_per_byte(a.sram_bytes); break;
        case EnergyAction::Price::PicoJoules: pj = count; break;
      }
      auto same = std::find_if(by_stat.begin(), by_stat.end(), [&](const auto& x) { return x.first->stat == a.stat; });
      if (same == by_stat.end())
        by_stat.emplace_back(&a, pj);
      else
        same->second += pj;
    }
    for (const auto& [a, pj] : by_stat) {
      s.add(a->stat, pj, Unit::PicoJoules, a->description);
      total += pj;
    }
  }
  const double e_leak = double(c.cycles) * double(c.tiles) * double(c.multipliers_per_tile) * t.pj("leakage.multiplier_cycle");
  total += e_leak;
  s.add("energy.leakage_pj", e_leak, Unit::PicoJoules, "leakage of the tiles over the row's cycles");
  s.add("energy.total_pj", total, Unit::PicoJoules, "sum of the components above");
  s.add("energy.per_effectual_mac_pj", c.macs_effectual ? total / double(c.macs_effectual) : 0.0, Unit::PicoJoules,
        "energy.total_pj / macs.effectual (0 without effectual MACs); a design that skips no zero counts every mapped MAC");
  s.add("energy.per_dense_mac_pj", c.macs_dense ? total / double(c.macs_dense) : 0.0, Unit::PicoJoules,
        "energy.total_pj / macs.dense: energy per MAC of the layer's work, the same denominator for every design");
  return s;
}

}  // namespace swatsim::arch
