#pragma once
// Energy tables (docs/energy.md): configs/energy/*.json compiled in as presets, or a table file; an
// accelerator config's `energy` section picks one and the node and voltage to scale it to:
//   "energy": "45nm"  or  {"table": "45nm" | "path/to/table.json", "node_nm": 22, "voltage": 0.8}
// Every entry has a value, a unit ("pJ") and a source; a table missing an action the model prices,
// an unknown key, a wrong type or a non-positive value is an InputError naming the file and key.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "swatsim/arch/area.hpp"
#include "swatsim/arch/energy.hpp"

namespace swatsim::sim {

std::vector<std::string> energy_table_names();
/// The built-in default (configs/energy/45nm.json) at its own node.
arch::EnergyTable default_energy_table();
/// Binds an accelerator config's `energy` section found at `pointer` of `file`.
arch::EnergyTable bind_energy_section(const nlohmann::ordered_json& v, const std::string& file, const std::string& pointer,
                                      const std::string& dir);
/// The section that selects this table again: {"table": name or absolute path, "node_nm", "voltage"}.
nlohmann::ordered_json to_json(const arch::EnergyTable& t);

/// Area tables (docs/area.md): configs/area/*.json compiled in, or a table file; an accelerator
/// config's `area` key names one ("45nm" or a path). The default is the built-in 45 nm table.
std::vector<std::string> area_table_names();
arch::AreaTable default_area_table();
arch::AreaTable bind_area_section(const nlohmann::ordered_json& v, const std::string& file, const std::string& pointer,
                                  const std::string& dir);

}  // namespace swatsim::sim
