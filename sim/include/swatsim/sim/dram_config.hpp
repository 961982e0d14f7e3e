#pragma once
// DRAM sections (docs/dram.md): {"preset": "ddr4-3200", "channels": 2, ...} starts from a built-in
// preset (configs/dram/*.json, compiled into the binary) and overrides any parameter; a section
// without "preset" must give every device parameter. Unknown keys, wrong types, out-of-range or
// inconsistent values (tRC < tRAS + tRP, a mapping string that does not cover the structure) are
// InputErrors naming the file and the key's JSON pointer.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "swatsim/arch/dram.hpp"
#include "swatsim/arch/params.hpp"

namespace swatsim::sim {

struct DramConfig {
  std::string preset;        ///< "" for a custom set
  arch::ParamSet values;     ///< every declared parameter, resolved
  arch::dram::Spec spec;
};

/// Names of the built-in presets, sorted.
std::vector<std::string> dram_preset_names();
/// Binds a DRAM section (inline or a path) found at `pointer` of `file`; `dir` resolves paths.
DramConfig bind_dram_config(const nlohmann::ordered_json& j, const std::string& file, const std::string& pointer,
                            const std::string& dir);
/// Reads a file whose whole content is a DRAM section.
DramConfig load_dram_config(const std::string& path);
/// A one-line name for a DRAM section: its preset and the parameters it changes, a preset whose
/// every parameter a file repeats, or "custom DRAM".
std::string describe_dram(const DramConfig& c);
/// Every resolved parameter, in declaration order (what a report records).
nlohmann::ordered_json to_json(const DramConfig& c);

}  // namespace swatsim::sim
