#pragma once
// Area (Accelergy style, docs/area.md): each component publishes what it is made of, a table gives
// each part's area with its unit and source, and area = parts x table. DRAM is off chip: no area.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace swatsim::arch {

class PeModel;

struct AreaEntry {
  double um2 = 0;  ///< um^2 at the table's node
  std::string source;
};

struct AreaTable {
  std::string name;
  std::string origin;  ///< a built-in table's name or the absolute path of the file
  double node_nm = 45;
  std::map<std::string, AreaEntry> components;        ///< "mac.bf16", "pe.mux_lane", ...
  std::vector<std::pair<double, double>> sram_points;  ///< (bytes, um^2 of one macro), sorted
  std::string sram_source;
  /// um^2 of one component; a component the table lacks is a bug in the table (throws).
  double um2(const std::string& component) const;
  /// um^2 of one SRAM macro of `bytes` (log-log interpolation; the nearest segment's slope outside).
  double sram_um2(uint64_t bytes) const;
};

/// The components a table must price (checked when a table is loaded).
const std::vector<std::string>& area_components();

/// A part of a design and its area, as a component publishes it.
struct AreaItem {
  std::string stat;  ///< "area.gbuf_mm2"
  std::string description;
  double um2 = 0;
};

/// The PE arrays of `tiles` tiles: the multipliers, and the sparse PEs' operand multiplexers and
/// schedulers (the sparse support; a dense array has none).
std::vector<AreaItem> pe_area(const AreaTable& table, const PeModel& pe, uint32_t tiles, uint32_t value_bytes);

}  // namespace swatsim::arch
