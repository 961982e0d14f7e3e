#pragma once
// JSON binding shared by every config section: reading a file, sections given inline or as a path
// (resolved relative to the file that names them), and values checked against declared parameters.
// Errors are InputErrors naming the file and the JSON pointer of the key.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "swatsim/arch/params.hpp"

namespace swatsim::sim::binding {

using json = nlohmann::ordered_json;

/// How a value reads in an error message: 3, "T", an array, ...
std::string type_name(const json& v);
/// The directory paths inside a file resolve against: the directory of the real file (a symlinked
/// config resolves its section paths next to its target, not next to the link).
std::string base_dir(const std::string& file);
/// Parses a JSON file; a missing file, a directory or bad JSON is an InputError naming it.
json read_json(const std::string& path);

/// A section that may be inline or a path; the object and where its errors point.
struct Section {
  json value;
  std::string file;     ///< file that holds the object
  std::string pointer;  ///< JSON pointer of the object inside that file ("" = whole file)
  std::string dir;      ///< directory for nested relative paths
};
Section resolve_section(const json& v, const std::string& file, const std::string& pointer, const std::string& dir);

/// Checks one value against its declaration (type and range).
arch::ParamValue bind_param(const arch::ParamSpec& s, const json& v, const std::string& file, const std::string& ptr);
/// "a, b, c"
std::string known_keys(const std::vector<std::string>& keys);
json param_json(const arch::ParamValue& v);

}  // namespace swatsim::sim::binding
