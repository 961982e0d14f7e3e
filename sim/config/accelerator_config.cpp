#include <algorithm>
#include <filesystem>
#include <fstream>
#include <ios>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "swatsim/common/error.hpp"
#include "swatsim/sim/config.hpp"
#include "swatsim/sim/dram_config.hpp"
#include "swatsim/sim/energy_config.hpp"
#include "binding.hpp"

namespace swatsim::sim {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;
using namespace binding;

namespace {

/// Binds a component section {type, params...} against a registry.
template <class Info>
std::pair<std::string, arch::ParamSet> bind_component(const Section& sec, const std::string& what,
                                                      const Info* (*find)(const std::string&),
                                                      const std::vector<std::string>& types) {
  const std::string base = sec.pointer;
  auto it = sec.value.find("type");
  if (it == sec.value.end())
    throw InputError(sec.file, fmt::format("{}: missing key \"type\" (one of {})", base.empty() ? "/" : base, known_keys(types)));
  if (!it->is_string() || !find(it->get<std::string>()))
    throw InputError(sec.file, fmt::format("{}/type: expected one of {}, got {}", base, known_keys(types), type_name(*it)));
  const std::string type = it->get<std::string>();
  const Info* info = find(type);
  arch::ParamSet values(info->params);
  std::vector<std::string> names{"type"};
  for (const auto& p : info->params) names.push_back(p.name);
  for (const auto& [key, v] : sec.value.items()) {
    if (key == "type") continue;
    const std::string ptr = base + "/" + key;
    const arch::ParamSpec* spec = nullptr;
    for (const auto& p : info->params)
      if (p.name == key) spec = &p;
    if (!spec)
      throw InputError(sec.file, fmt::format("{}: unknown key for {} type \"{}\" (known: {})", ptr, what, type,
                                             known_keys(names)));
    values.set(key, bind_param(*spec, v, sec.file, ptr));
  }
  return {type, std::move(values)};
}


}  // namespace

arch::AcceleratorConfig bind_accelerator_config(const json& j, const std::string& file, const std::string& dir) {
  if (!j.is_object()) throw InputError(file, fmt::format("expected a JSON object, got {}", type_name(j)));
  arch::AcceleratorConfig c;
  c.energy = default_energy_table();
  const auto top = arch::accelerator_params();
  bool have_pe = false, have_memory = false;
  for (const auto& [key, v] : j.items()) {
    const std::string ptr = "/" + key;
    if (key == "name") {
      if (!v.is_string()) throw InputError(file, fmt::format("{}: expected a string, got {}", ptr, type_name(v)));
      c.name = v.get<std::string>();
    } else if (key == "pe") {
      const Section sec = resolve_section(v, file, ptr, dir);
      auto [type, values] = bind_component<arch::PeTypeInfo>(sec, "pe", &arch::find_pe_type, arch::PeRegistry::names());
      c.pe_type = type;
      c.pe = std::move(values);
      try {
        (void)arch::make_pe(c);
      } catch (const std::invalid_argument& e) {
        throw InputError(sec.file, fmt::format("{}/{}", sec.pointer, e.what()));
      }
      have_pe = true;
    } else if (key == "energy") {
      c.energy = bind_energy_section(v, file, ptr, dir);
    } else if (key == "dram") {
      // A preset's name, or a DRAM section (inline or a path; docs/dram.md).
      json section = v;
      if (v.is_string()) {
        const auto names = dram_preset_names();
        const std::string name = v.get<std::string>();
        std::error_code ec;
        if (std::find(names.begin(), names.end(), name) != names.end())
          section = json{{"preset", name}};
        else if (!fs::exists(fs::path(dir.empty() ? "." : dir) / name, ec) && !fs::exists(name, ec))
          throw InputError(file, fmt::format("{}: expected a DRAM preset ({}) or a section file, got \"{}\" (neither)", ptr,
                                             known_keys(names), name));
      }
      DramConfig d = bind_dram_config(section, file, ptr, dir);
      c.dram = d.spec;
      c.dram_preset = d.preset;
      c.dram_params = std::move(d.values);
    } else if (key == "memory") {
      const Section sec = resolve_section(v, file, ptr, dir);
      auto [type, values] =
          bind_component<arch::MemoryTypeInfo>(sec, "memory", &arch::find_memory_type, arch::MemoryRegistry::names());
      c.memory_type = type;
      c.memory = std::move(values);
      have_memory = true;
    } else {
      const arch::ParamSpec* spec = nullptr;
      for (const auto& p : top)
        if (p.name == key) spec = &p;
      if (!spec)
        throw InputError(file, fmt::format("{}: unknown key (known: name, clock_ghz, tiles, pe, memory, dram, energy)", ptr));
      const arch::ParamValue pv = bind_param(*spec, v, file, ptr);
      if (key == "clock_ghz") c.clock_ghz = std::get<double>(pv);
      if (key == "tiles") c.tiles = uint32_t(std::get<int64_t>(pv));
    }
  }
  if (!have_pe) throw InputError(file, "/: missing key \"pe\" (the PE array: {\"type\": ..., ...})");
  if (!have_memory) {
    c.memory_type = "ideal";
    c.memory = arch::ParamSet(arch::find_memory_type("ideal")->params);
  }
  const bool ideal = c.memory_type == "ideal";
  if (ideal && c.dram)
    throw InputError(file, "/dram: a DRAM needs a memory hierarchy in front of it: set /memory/type to \"hierarchy\" "
                           "or remove /dram (ideal memory has no DRAM)");
  if (!ideal && !c.dram)
    throw InputError(file, fmt::format("/dram: missing; memory type \"{}\" needs a DRAM: a preset ({}) or a section",
                                       c.memory_type, known_keys(dram_preset_names())));
  return c;
}

const std::vector<std::string>& config_section_keys() {
  static const std::vector<std::string> keys{"pe", "memory", "dram"};  // the keys bind_accelerator_config reads as sections
  return keys;
}

json inline_sections(const json& j, const std::string& file, const std::string& dir) {
  if (!j.is_object()) throw InputError(file, fmt::format("expected a JSON object, got {}", type_name(j)));
  json out = j;
  const auto presets = dram_preset_names();
  for (const auto& key : config_section_keys())
    if (auto it = out.find(key); it != out.end() && it->is_string()) {
      if (key == "dram" && std::find(presets.begin(), presets.end(), it->get<std::string>()) != presets.end())
        *it = json{{"preset", it->get<std::string>()}};  // a preset's name, not a path
      else
        *it = resolve_section(*it, file, "/" + key, dir).value;
    }
  return out;
}

arch::AcceleratorConfig load_accelerator_config(const std::string& path) {
  const json j = read_json(path);
  return bind_accelerator_config(j, path, base_dir(path));
}

json to_json(const arch::AcceleratorConfig& c) {
  json j;
  j["name"] = c.name;
  j["clock_ghz"] = c.clock_ghz;
  j["tiles"] = c.tiles;
  json pe;
  pe["type"] = c.pe_type;
  if (const auto* info = arch::find_pe_type(c.pe_type))
    for (const auto& p : info->params) pe[p.name] = param_json(c.pe.values().at(p.name));
  j["pe"] = pe;
  json mem;
  mem["type"] = c.memory_type;
  if (const auto* info = arch::find_memory_type(c.memory_type))
    for (const auto& p : info->params) mem[p.name] = param_json(c.memory.values().at(p.name));
  j["memory"] = mem;
  if (c.dram) {
    DramConfig d;
    d.preset = c.dram_preset;
    d.values = c.dram_params;
    j["dram"] = to_json(d);
  }
  if (!c.energy.actions.empty()) j["energy"] = to_json(c.energy);
  return j;
}

namespace {
json spec_json(const arch::ParamSpec& p) {
  json s;
  s["name"] = p.name;
  s["description"] = p.description;
  s["expected"] = p.expectation();
  switch (p.kind) {
    case arch::ParamKind::Int: s["default"] = p.int_default; break;
    case arch::ParamKind::Real: s["default"] = p.real_default; break;
    case arch::ParamKind::Choice:
    case arch::ParamKind::Text: s["default"] = p.choice_default; break;
  }
  if (p.required) s["required"] = true;
  return s;
}
template <class Interface>
json types_json() {
  json out = json::object();
  for (const auto& [name, info] : arch::Registry<Interface>::types()) {
    json t;
    t["description"] = info.description;
    t["params"] = json::array();
    for (const auto& p : info.params) t["params"].push_back(spec_json(p));
    out[name] = t;
  }
  return out;
}
}  // namespace

json describe_types() {
  json j;
  json top = json::array();
  for (const auto& p : arch::accelerator_params()) top.push_back(spec_json(p));
  j["accelerator"] = top;
  j["pe"] = types_json<arch::PeModel>();
  j["memory"] = types_json<arch::MemoryModel>();
  json dram;
  dram["description"] = "DRAM section (swatsim dram --dram; docs/dram.md): a preset and overrides, or every device parameter";
  dram["presets"] = dram_preset_names();
  dram["params"] = json::array();
  for (const auto& p : arch::dram::spec_params()) dram["params"].push_back(spec_json(p));
  j["dram"] = dram;
  json energy;
  energy["description"] = "energy tables (docs/energy.md): \"energy\": NAME, PATH or {\"table\", \"node_nm\", \"voltage\"}";
  energy["tables"] = energy_table_names();
  energy["actions"] = arch::energy_actions();
  j["energy"] = energy;
  return j;
}

}  // namespace swatsim::sim
