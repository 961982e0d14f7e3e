#include "swatsim/arch/area.hpp"

#include <cmath>
#include <stdexcept>

#include "swatsim/arch/pe_model.hpp"

namespace swatsim::arch {

double AreaTable::um2(const std::string& component) const {
  auto it = components.find(component);
  if (it == components.end()) throw std::logic_error("area table '" + name + "' has no component " + component);
  return it->second.um2;
}

double AreaTable::sram_um2(uint64_t bytes) const {
  if (sram_points.empty()) throw std::logic_error("area table '" + name + "' has no SRAM points");
  if (sram_points.size() == 1) return sram_points[0].second * double(bytes) / sram_points[0].first;
  const double x = std::log(double(std::max<uint64_t>(bytes, 1)));
  size_t i = 1;
  while (i + 1 < sram_points.size() && x > std::log(sram_points[i].first)) ++i;
  const double x0 = std::log(sram_points[i - 1].first), x1 = std::log(sram_points[i].first);
  const double y0 = std::log(sram_points[i - 1].second), y1 = std::log(sram_points[i].second);
  return std::exp(y0 + (y1 - y0) * (x - x0) / (x1 - x0));
}

const std::vector<std::string>& area_components() {
  static const std::vector<std::string> c{"mac.bf16", "mac.fp32", "pe.mux_lane", "pe.scheduler_row", "noc.port_byte"};
  return c;
}

std::vector<AreaItem> pe_area(const AreaTable& t, const PeModel& pe, uint32_t tiles, uint32_t value_bytes) {
  const double mac = t.um2(value_bytes == 4 ? "mac.fp32" : "mac.bf16");
  const PeModel::ControlShape c = pe.control_shape();
  return {
      {"area.multipliers_mm2", "the tiles' multipliers (MAC units)", double(tiles) * double(pe.macs_per_cycle()) * mac},
      {"area.pe_control_mm2", "the sparse support: operand multiplexers per lane and schedulers (0 for a dense array)",
       double(tiles) * (double(c.mux_lanes) * t.um2("pe.mux_lane") + double(c.schedulers) * t.um2("pe.scheduler_row"))},
  };
}

}  // namespace swatsim::arch
