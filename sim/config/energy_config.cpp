#include "swatsim/sim/energy_config.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "swatsim/common/error.hpp"
#include "swatsim/common/strict_json.hpp"
#include "binding.hpp"

namespace swatsim::sim {

const std::map<std::string, std::string>& embedded_energy_tables();  // generated: energy_presets.cpp
const std::map<std::string, std::string>& embedded_area_tables();    // generated: area_presets.cpp

using json = nlohmann::ordered_json;
using namespace binding;

namespace {

/// A number in [lo, hi]: every bound is a physical one (no node below 1 nm, no MAC above a
/// microjoule), so that every energy derived from a table stays finite.
double in_range(const json& v, const std::string& file, const std::string& ptr, double lo, double hi) {
  if (!v.is_number() || !(v.get<double>() >= lo && v.get<double>() <= hi))
    throw InputError(file, fmt::format("{}: expected a number in [{}, {}], got {}", ptr, lo, hi, type_name(v)));
  return v.get<double>();
}
constexpr double kMaxPj = 1e6;  // pJ per action: a microjoule
double node(const json& v, const std::string& file, const std::string& ptr) { return in_range(v, file, ptr, 1, 1000); }
double volts(const json& v, const std::string& file, const std::string& ptr) { return in_range(v, file, ptr, 0.1, 10); }
std::string text(const json& v, const std::string& file, const std::string& ptr) {
  if (!v.is_string() || v.get<std::string>().empty())
    throw InputError(file, fmt::format("{}: expected a non-empty string, got {}", ptr, type_name(v)));
  return v.get<std::string>();
}
void only_keys(const json& obj, const std::vector<std::string>& keys, const std::string& file, const std::string& ptr) {
  for (const auto& [k, v] : obj.items())
    if (std::find(keys.begin(), keys.end(), k) == keys.end())
      throw InputError(file, fmt::format("{}/{}: unknown key (known: {})", ptr, k, known_keys(keys)));
  for (const auto& k : keys)
    if (!obj.contains(k)) throw InputError(file, fmt::format("{}: missing key \"{}\"", ptr.empty() ? "/" : ptr, k));
}

arch::EnergyTable bind_table(const json& j, const std::string& file) {
  if (!j.is_object()) throw InputError(file, fmt::format("expected a JSON object (an energy table), got {}", type_name(j)));
  only_keys(j, {"name", "node_nm", "voltage", "source", "actions"}, file, "");
  arch::EnergyTable t;
  t.name = text(j["name"], file, "/name");
  t.node_nm = node(j["node_nm"], file, "/node_nm");
  t.voltage = volts(j["voltage"], file, "/voltage");
  text(j["source"], file, "/source");
  const json& a = j["actions"];
  if (!a.is_object()) throw InputError(file, fmt::format("/actions: expected an object, got {}", type_name(a)));
  std::vector<std::string> known = arch::energy_actions();
  known.push_back("sram.read_64b");
  for (const auto& [name, e] : a.items()) {
    const std::string ptr = "/actions/" + name;
    if (std::find(known.begin(), known.end(), name) == known.end())
      throw InputError(file, fmt::format("{}: unknown action (known: {})", ptr, known_keys(known)));
    if (!e.is_object()) throw InputError(file, fmt::format("{}: expected an object, got {}", ptr, type_name(e)));
    if (name == "sram.read_64b") {
      only_keys(e, {"unit", "source", "points"}, file, ptr);
      t.sram_source = text(e["source"], file, ptr + "/source");
      const json& pts = e["points"];
      if (!pts.is_array() || pts.empty())
        throw InputError(file, fmt::format("{}/points: expected a non-empty array of [bytes, pJ], got {}", ptr, type_name(pts)));
      for (size_t i = 0; i < pts.size(); ++i) {
        const std::string pp = fmt::format("{}/points/{}", ptr, i);
        if (!pts[i].is_array() || pts[i].size() != 2)
          throw InputError(file, fmt::format("{}: expected [bytes, pJ], got {}", pp, type_name(pts[i])));
        const double bytes = in_range(pts[i][0], file, pp + "/0", 1, 1099511627776.0), pj = in_range(pts[i][1], file, pp + "/1", 1e-6, kMaxPj);
        if (!t.sram_points.empty() && bytes <= t.sram_points.back().first)
          throw InputError(file, fmt::format("{}/0: expected sizes in increasing order", pp));
        t.sram_points.emplace_back(bytes, pj);
      }
    } else {
      only_keys(e, {"value", "unit", "source"}, file, ptr);
      t.actions[name] = arch::EnergyEntry{in_range(e["value"], file, ptr + "/value", 0, kMaxPj), text(e["source"], file, ptr + "/source")};
    }
    if (e["unit"] != "pJ") throw InputError(file, fmt::format("{}/unit: expected \"pJ\", got {}", ptr, type_name(e["unit"])));
  }
  for (const auto& name : known)
    if (!a.contains(name)) throw InputError(file, fmt::format("/actions: missing action \"{}\"", name));
  t.target_node_nm = t.node_nm;
  t.target_voltage = t.voltage;
  return t;
}

/// An area table (docs/area.md): {"name", "node_nm", "source", "components": {NAME: {"value", "unit":
/// "um^2", "source"}}, "sram": {"unit", "source", "points": [[bytes, um^2], ...]}}.
arch::AreaTable bind_area_table(const json& j, const std::string& file) {
  if (!j.is_object()) throw InputError(file, fmt::format("expected a JSON object (an area table), got {}", type_name(j)));
  only_keys(j, {"name", "node_nm", "source", "components", "sram"}, file, "");
  arch::AreaTable t;
  t.name = text(j["name"], file, "/name");
  t.node_nm = node(j["node_nm"], file, "/node_nm");
  text(j["source"], file, "/source");
  const json& c = j["components"];
  if (!c.is_object()) throw InputError(file, fmt::format("/components: expected an object, got {}", type_name(c)));
  const auto& known = arch::area_components();
  constexpr double kMaxUm2 = 1e12;  // a square metre: anything beyond is a unit mistake
  for (const auto& [name, e] : c.items()) {
    const std::string ptr = "/components/" + name;
    if (std::find(known.begin(), known.end(), name) == known.end())
      throw InputError(file, fmt::format("{}: unknown component (known: {})", ptr, known_keys(known)));
    if (!e.is_object()) throw InputError(file, fmt::format("{}: expected an object, got {}", ptr, type_name(e)));
    only_keys(e, {"value", "unit", "source"}, file, ptr);
    if (e["unit"] != "um^2") throw InputError(file, fmt::format("{}/unit: expected \"um^2\", got {}", ptr, type_name(e["unit"])));
    t.components[name] = arch::AreaEntry{in_range(e["value"], file, ptr + "/value", 0, kMaxUm2), text(e["source"], file, ptr + "/source")};
  }
  for (const auto& name : known)
    if (!c.contains(name)) throw InputError(file, fmt::format("/components: missing component \"{}\"", name));
  const json& s = j["sram"];
  if (!s.is_object()) throw InputError(file, fmt::format("/sram: expected an object, got {}", type_name(s)));
  only_keys(s, {"unit", "source", "points"}, file, "/sram");
  if (s["unit"] != "um^2") throw InputError(file, fmt::format("/sram/unit: expected \"um^2\", got {}", type_name(s["unit"])));
  t.sram_source = text(s["source"], file, "/sram/source");
  const json& pts = s["points"];
  if (!pts.is_array() || pts.empty())
    throw InputError(file, fmt::format("/sram/points: expected a non-empty array of [bytes, um^2], got {}", type_name(pts)));
  for (size_t i = 0; i < pts.size(); ++i) {
    const std::string pp = fmt::format("/sram/points/{}", i);
    if (!pts[i].is_array() || pts[i].size() != 2)
      throw InputError(file, fmt::format("{}: expected [bytes, um^2], got {}", pp, type_name(pts[i])));
    const double bytes = in_range(pts[i][0], file, pp + "/0", 1, 1099511627776.0), um2 = in_range(pts[i][1], file, pp + "/1", 1e-3, kMaxUm2);
    if (!t.sram_points.empty() && (bytes <= t.sram_points.back().first || um2 <= t.sram_points.back().second))
      throw InputError(file, fmt::format("{}: expected sizes and areas in increasing order", pp));
    t.sram_points.emplace_back(bytes, um2);
  }
  return t;
}

arch::EnergyTable builtin(const std::string& name) {
  const auto& tables = embedded_energy_tables();
  auto it = tables.find(name);
  arch::EnergyTable t = bind_table(json::parse(it->second), "built-in energy table " + name);
  t.origin = name;
  return t;
}

}  // namespace

std::vector<std::string> energy_table_names() {
  std::vector<std::string> names;
  for (const auto& [name, text] : embedded_energy_tables()) names.push_back(name);
  return names;
}

arch::EnergyTable default_energy_table() { return builtin("45nm"); }

arch::EnergyTable bind_energy_section(const json& v, const std::string& file, const std::string& pointer,
                                      const std::string& dir) {
  json sec = v;
  if (v.is_string()) sec = json{{"table", v}};
  if (!sec.is_object())
    throw InputError(file, fmt::format("{}: expected a table name ({}), a table file or an object, got {}", pointer,
                                       known_keys(energy_table_names()), type_name(v)));
  arch::EnergyTable t = default_energy_table();
  for (const auto& [key, x] : sec.items()) {
    if (key != "table" && key != "node_nm" && key != "voltage")
      throw InputError(file, fmt::format("{}/{}: unknown key (known: table, node_nm, voltage)", pointer, key));
  }
  if (auto it = sec.find("table"); it != sec.end()) {
    if (!it->is_string()) throw InputError(file, fmt::format("{}/table: expected a table name or a path, got {}", pointer, type_name(*it)));
    const std::string name = it->get<std::string>();
    const auto names = energy_table_names();
    if (std::find(names.begin(), names.end(), name) != names.end())
      t = builtin(name);
    else {
      const std::string path = (dir.empty() || name.empty() || name.front() == '/') ? name : dir + "/" + name;
      std::error_code ec;
      if (!std::filesystem::is_regular_file(path, ec))
        throw InputError(file, fmt::format("{}{}: expected a built-in table ({}) or a table file, got \"{}\" ({})", pointer,
                                           v.is_string() ? "" : "/table", known_keys(names), name.substr(0, 80),
                                           std::filesystem::exists(path, ec) ? "not a regular file" : "no such file"));
      t = bind_table(read_json(path), path);
      const auto abs = std::filesystem::absolute(path, ec);
      t.origin = ec ? path : abs.lexically_normal().string();
    }
  }
  if (auto it = sec.find("node_nm"); it != sec.end()) t.target_node_nm = node(*it, file, pointer + "/node_nm");
  if (auto it = sec.find("voltage"); it != sec.end()) t.target_voltage = volts(*it, file, pointer + "/voltage");
  return t;
}

std::vector<std::string> area_table_names() {
  std::vector<std::string> names;
  for (const auto& [name, text] : embedded_area_tables()) names.push_back(name);
  return names;
}

arch::AreaTable default_area_table() {
  arch::AreaTable t = bind_area_table(json::parse(embedded_area_tables().at("45nm")), "built-in area table 45nm");
  t.origin = "45nm";
  return t;
}

arch::AreaTable bind_area_section(const json& v, const std::string& file, const std::string& pointer, const std::string& dir) {
  const auto names = area_table_names();
  if (!v.is_string() || v.get<std::string>().empty())
    throw InputError(file, fmt::format("{}: expected a built-in area table ({}) or a table file's path, got {}", pointer,
                                       known_keys(names), type_name(v)));
  const std::string name = v.get<std::string>();
  if (std::find(names.begin(), names.end(), name) != names.end()) {
    arch::AreaTable t = bind_area_table(json::parse(embedded_area_tables().at(name)), "built-in area table " + name);
    t.origin = name;
    return t;
  }
  const std::string path = (dir.empty() || name.front() == '/') ? name : dir + "/" + name;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw InputError(file, fmt::format("{}: expected a built-in area table ({}) or a table file, got \"{}\" ({})", pointer,
                                       known_keys(names), name.substr(0, 80),
                                       std::filesystem::exists(path, ec) ? "not a regular file" : "no such file"));
  arch::AreaTable t = bind_area_table(read_json(path), path);
  const auto abs = std::filesystem::absolute(path, ec);
  t.origin = ec ? path : abs.lexically_normal().string();
  return t;
}

json to_json(const arch::EnergyTable& t) {
  json j;  // binds again as an `energy` section
  j["table"] = t.origin;
  j["node_nm"] = t.target_node_nm;
  j["voltage"] = t.target_voltage;
  return j;
}

}  // namespace swatsim::sim
