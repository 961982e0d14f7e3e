#pragma once
// Accelerator configs: JSON bound to the parameters that arch's components declare.
// A config file is an object with keys `name`, `clock_ghz`, `tiles`, `pe` and `memory`; the `pe`
// and `memory` sections may be inline objects or paths to JSON files, resolved relative to the file
// that names them. Unknown keys, wrong types and out-of-range values throw InputError naming the
// file and the JSON pointer of the key (docs/config-reference.md).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "swatsim/arch/config.hpp"

namespace swatsim::sim {

/// Reads and checks an accelerator config file.
arch::AcceleratorConfig load_accelerator_config(const std::string& path);
/// Checks an already parsed config; `file` names it in errors, `dir` resolves section paths.
arch::AcceleratorConfig bind_accelerator_config(const nlohmann::ordered_json& j, const std::string& file,
                                                const std::string& dir);
/// Top-level keys of an accelerator config that hold a section (an object, or a path to a file).
const std::vector<std::string>& config_section_keys();
/// The config with every section given as a path replaced by the object in that file (paths resolve
/// against `dir`), so that it can be edited by JSON pointer and bound anywhere.
nlohmann::ordered_json inline_sections(const nlohmann::ordered_json& j, const std::string& file, const std::string& dir);
/// The resolved config with every default filled in (what `swatsim config show` prints).
nlohmann::ordered_json to_json(const arch::AcceleratorConfig& c);
/// Every registered PE and memory type with its parameters, as JSON.
nlohmann::ordered_json describe_types();

}  // namespace swatsim::sim
