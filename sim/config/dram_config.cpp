#include "swatsim/sim/dram_config.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "binding.hpp"
#include "swatsim/common/error.hpp"

namespace swatsim::sim {

const std::map<std::string, std::string>& embedded_dram_presets();  // generated: dram_presets.cpp

using json = nlohmann::ordered_json;
using namespace binding;

std::vector<std::string> dram_preset_names() {
  std::vector<std::string> names;
  for (const auto& [name, text] : embedded_dram_presets()) names.push_back(name);
  return names;
}

namespace {

const arch::ParamSpec* find_param(const std::string& key) {
  for (const auto& p : arch::dram::spec_params())
    if (p.name == key) return &p;
  return nullptr;
}

std::vector<std::string> known_dram_keys() {
  std::vector<std::string> keys{"preset"};
  for (const auto& p : arch::dram::spec_params()) keys.push_back(p.name);
  return keys;
}

/// Binds every key of `object` (except "preset") into `values`; `given` collects the keys.
void bind_keys(const json& object, const std::string& file, const std::string& pointer, arch::ParamSet& values,
               std::set<std::string>& given) {
  for (const auto& [key, v] : object.items()) {
    if (key == "preset") continue;
    const std::string ptr = pointer + "/" + key;
    const arch::ParamSpec* spec = find_param(key);
    if (!spec)
      throw InputError(file, fmt::format("{}: unknown key for a DRAM section (known: {})", ptr,
                                         known_keys(known_dram_keys())));
    values.set(key, bind_param(*spec, v, file, ptr));
    given.insert(key);
  }
}

}  // namespace

DramConfig bind_dram_config(const json& j, const std::string& file, const std::string& pointer,
                            const std::string& dir) {
  const Section sec = resolve_section(j, file, pointer, dir);
  const std::string where = sec.pointer.empty() ? "/" : sec.pointer;
  DramConfig c;
  c.values = arch::ParamSet(arch::dram::spec_params());
  std::set<std::string> given;
  if (auto it = sec.value.find("preset"); it != sec.value.end()) {
    const auto& presets = embedded_dram_presets();
    const auto p = it->is_string() ? presets.find(it->get<std::string>()) : presets.end();
    if (p == presets.end())
      throw InputError(sec.file, fmt::format("{}/preset: expected one of {}, got {}", sec.pointer,
                                             known_keys(dram_preset_names()), type_name(*it)));
    c.preset = p->first;
    // A broken built-in preset is a bug in the build, but say which one.
    const json preset = json::parse(p->second);
    bind_keys(preset, "built-in DRAM preset " + c.preset, "", c.values, given);
  }
  bind_keys(sec.value, sec.file, sec.pointer, c.values, given);
  if (c.preset.empty())
    for (const auto& p : arch::dram::spec_params())
      if (p.required && !given.count(p.name))
        throw InputError(sec.file, fmt::format("{}: missing key \"{}\" ({}); a DRAM section without \"preset\" "
                                               "must give every device parameter, or name a preset: {}",
                                               where, p.name, p.description, known_keys(dram_preset_names())));
  try {
    c.spec = arch::dram::make_spec(c.values);
  } catch (const std::invalid_argument& e) {
    throw InputError(sec.file, fmt::format("{}/{}", sec.pointer, e.what()));
  }
  return c;
}

DramConfig load_dram_config(const std::string& path) {
  // A preset's name, as accelerator configs take it (a file of that name, if any, is not shadowed).
  const auto names = dram_preset_names();
  std::error_code ec;
  if (std::find(names.begin(), names.end(), path) != names.end() && !std::filesystem::exists(path, ec))
    return bind_dram_config(json{{"preset", path}}, "--dram " + path, "", ".");
  const json j = read_json(path);
  if (!j.is_object()) throw InputError(path, fmt::format("expected a JSON object, got {}", type_name(j)));
  return bind_dram_config(j, path, "", base_dir(path));
}

std::string describe_dram(const DramConfig& c) {
  // Which preset the values are, and what differs from it: "hbm2", "ddr4-3200 with tRP, tRCD_RD
  // changed", "ddr4-3200 (every parameter given)"; "custom DRAM" when no preset is close.
  auto differences = [&](const std::string& preset) {
    const DramConfig p = bind_dram_config(json{{"preset", preset}}, "built-in DRAM preset", "", ".");
    std::vector<std::string> keys;
    for (const auto& spec : arch::dram::spec_params())
      if (spec.name != "engine" && p.values.values().at(spec.name) != c.values.values().at(spec.name)) keys.push_back(spec.name);
    return keys;
  };
  auto changed = [](const std::string& preset, const std::vector<std::string>& keys) {
    if (keys.empty()) return preset;
    std::string list;
    for (size_t i = 0; i < keys.size() && i < 4; ++i) list += (i ? ", " : "") + keys[i];
    if (keys.size() > 4) list += fmt::format(" and {} more", keys.size() - 4);
    return fmt::format("{} with {} changed", preset, list);
  };
  if (!c.preset.empty()) return changed(c.preset, differences(c.preset));
  for (const auto& name : dram_preset_names())
    if (differences(name).empty()) return name + " (every parameter given)";
  return "custom DRAM";
}

json to_json(const DramConfig& c) {
  json j;
  if (!c.preset.empty()) j["preset"] = c.preset;
  for (const auto& p : arch::dram::spec_params()) j[p.name] = param_json(c.values.values().at(p.name));
  return j;
}

}  // namespace swatsim::sim
