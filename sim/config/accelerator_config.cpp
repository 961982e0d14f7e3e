#include <algorithm>
#include <filesystem>
#include <fstream>
#include <ios>
#include <optional>
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

namespace {

/// Where a section is bound: its file, pointer and the directory its paths resolve against.
struct SlotInput {
  const json& value;
  const std::string& file;
  const std::string& pointer;
  const std::string& dir;
};

void bind_pe(const SlotInput& in, arch::AcceleratorConfig& c) {
  const Section sec = resolve_section(in.value, in.file, in.pointer, in.dir);
  if (sec.file != in.file) c.sources.push_back(sec.file);
  auto [type, values] = bind_component<arch::PeTypeInfo>(sec, "pe", &arch::find_pe_type, arch::PeRegistry::names());
  c.pe_type = type;
  c.pe = std::move(values);
  try {  // cross-parameter rules (e.g. lookaside < lanes) are the model's own
    (void)arch::make_pe(c);
  } catch (const std::invalid_argument& e) {
    throw InputError(sec.file, fmt::format("{}/{}", sec.pointer, e.what()));
  }
}

/// A hierarchy's `levels` (docs/memory.md, "Levels"): each level a registered type with its parameters.
std::vector<arch::LevelConfig> bind_levels(const json& v, const Section& sec) {
  const std::string ptr = sec.pointer + "/levels";
  constexpr size_t kMinLevels = 3, kMaxLevels = 16;
  if (!v.is_array() || v.size() < kMinLevels || v.size() > kMaxLevels)
    throw InputError(sec.file, fmt::format("{}: expected an array of {} to {} levels (SRAM levels, outermost first, then a "
                                           "\"network\", then \"tile_buffers\"), got {}",
                                           ptr, kMinLevels, kMaxLevels, v.is_array() ? fmt::format("{} entries", v.size()) : type_name(v)));
  for (const arch::FlatLevelKey& k : arch::flat_level_keys())
    if (sec.value.contains(k.key))
      throw InputError(sec.file, fmt::format("{}/{}: not with \"levels\": give it as the \"{}\" level's \"{}\"", sec.pointer, k.key,
                                             k.level_type, k.param));
  std::vector<arch::LevelConfig> levels;
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string at = fmt::format("{}/{}", ptr, i);
    if (!v[i].is_object())
      throw InputError(sec.file, fmt::format("{}: expected a level object {{\"type\": ..., ...}}, got {}", at, type_name(v[i])));
    auto [type, values] = bind_component<arch::LevelTypeInfo>(Section{v[i], sec.file, at, sec.dir}, "level",
                                                               &arch::find_level_type, arch::LevelRegistry::names());
    levels.push_back(arch::LevelConfig{type, std::move(values)});
  }
  try {
    arch::check_levels(levels);
  } catch (const std::invalid_argument& e) {
    throw InputError(sec.file, fmt::format("{}/{}", sec.pointer, e.what()));
  }
  return levels;
}

void bind_memory(const SlotInput& in, arch::AcceleratorConfig& c) {
  Section sec = resolve_section(in.value, in.file, in.pointer, in.dir);
  if (sec.file != in.file) c.sources.push_back(sec.file);
  std::optional<json> levels;
  if (sec.value.is_object() && sec.value.contains("levels")) {
    levels = sec.value["levels"];
    sec.value.erase("levels");
  }
  auto [type, values] =
      bind_component<arch::MemoryTypeInfo>(sec, "memory", &arch::find_memory_type, arch::MemoryRegistry::names());
  c.memory_type = type;
  c.memory = std::move(values);
  c.memory_levels.clear();
  if (levels) {
    if (type != "hierarchy")
      throw InputError(sec.file, fmt::format("{}/levels: memory type \"{}\" has no levels (a \"hierarchy\" has)", sec.pointer, type));
    c.memory_levels = bind_levels(*levels, sec);
  }
  // On-chip SRAM beyond 64 MiB is larger than any accelerator's (Cerebras aside): most likely a
  // size in bytes where KiB are asked for (262144 meant as 256 KiB is 256 MiB).
  constexpr int64_t kPlausibleKib = 64 * 1024;
  auto warn = [&](const std::string& ptr, int64_t kib) {
    if (kib > kPlausibleKib)
      c.warnings.push_back(fmt::format("{}: {}: {} KiB is {} MiB of on-chip SRAM, more than any accelerator's: a size in "
                                       "bytes where KiB are asked for?", sec.file, ptr, kib, kib / 1024));
  };
  if (type == "hierarchy" && c.memory_levels.empty() && sec.value.contains("gbuf_kib"))
    warn(sec.pointer + "/gbuf_kib", c.memory.get_int("gbuf_kib"));
  for (size_t i = 0; i < c.memory_levels.size(); ++i)
    if (c.memory_levels[i].type == "sram") warn(fmt::format("{}/levels/{}/kib", sec.pointer, i), c.memory_levels[i].params.get_int("kib"));
}

/// A DRAM preset's name given as a string, as the section that names it (else the string is a path).
std::optional<json> dram_preset_section(const json& v) {
  if (!v.is_string()) return std::nullopt;
  const auto names = dram_preset_names();
  if (std::find(names.begin(), names.end(), v.get<std::string>()) == names.end()) return std::nullopt;
  return json{{"preset", v.get<std::string>()}};
}

void bind_dram(const SlotInput& in, arch::AcceleratorConfig& c) {
  json section = in.value;
  if (auto preset = dram_preset_section(in.value)) {
    section = *preset;
  } else if (in.value.is_string()) {
    const std::string name = in.value.get<std::string>();
    std::error_code ec;
    if (!fs::exists(fs::path(in.dir.empty() ? "." : in.dir) / name, ec) && !fs::exists(name, ec))
      throw InputError(in.file, fmt::format("{}: expected a DRAM preset ({}) or a section file, got \"{}\" (neither)",
                                            in.pointer, known_keys(dram_preset_names()), name));
    c.sources.push_back((fs::path(in.dir.empty() ? "." : in.dir) / name).lexically_normal().string());
  }
  DramConfig d = bind_dram_config(section, in.file, in.pointer, in.dir);
  c.dram = d.spec;
  c.dram_preset = d.preset;
  c.dram_params = std::move(d.values);
}

void bind_area(const SlotInput& in, arch::AcceleratorConfig& c) {
  c.area = bind_area_section(in.value, in.file, in.pointer, in.dir);
  if (std::filesystem::path(c.area.origin).is_absolute()) c.sources.push_back(c.area.origin);  // a table file
}

void bind_energy(const SlotInput& in, arch::AcceleratorConfig& c) {
  c.energy = bind_energy_section(in.value, in.file, in.pointer, in.dir);
  if (fs::path(c.energy.origin).is_absolute()) c.sources.push_back(c.energy.origin);  // a table file
}

/// The component slots of an accelerator config: one loop binds them all (sections may be inline
/// or a path to a file; `dram` and `energy` also take a preset's or table's name).
struct Slot {
  const char* key;
  void (*bind)(const SlotInput&, arch::AcceleratorConfig&);
  bool required;
};
const Slot kSlots[] = {
    {"pe", &bind_pe, true},
    {"memory", &bind_memory, false},
    {"dram", &bind_dram, false},
    {"energy", &bind_energy, false},
    {"area", &bind_area, false},
};

std::vector<std::string> top_level_keys() {
  std::vector<std::string> keys{"name"};
  for (const auto& p : arch::accelerator_params()) keys.push_back(p.name);
  for (const auto& s : kSlots) keys.push_back(s.key);
  keys.push_back("reference");
  return keys;
}

/// Rules across slots.
void check_slots(const arch::AcceleratorConfig& c, const std::string& file, const std::string& at) {
  const bool ideal = c.memory_type == "ideal";
  if (ideal && c.dram)
    throw InputError(file, fmt::format("{0}/dram: a DRAM needs a memory hierarchy in front of it: set {0}/memory/type to "
                                       "\"hierarchy\" or remove {0}/dram (ideal memory has no DRAM)", at));
  if (!ideal && !c.dram)
    throw InputError(file, fmt::format("{}/dram: missing; memory type \"{}\" needs a DRAM: a preset ({}) or a section", at,
                                       c.memory_type, known_keys(dram_preset_names())));
}

arch::AcceleratorConfig bind_config_at(const json& j, const std::string& file, const std::string& dir,
                                       const std::string& at);

}  // namespace

arch::AcceleratorConfig bind_accelerator_config(const json& j, const std::string& file, const std::string& dir) {
  return bind_config_at(j, file, dir, "");
}

namespace {
/// Binds a config found at JSON pointer `at` of `file` ("" for the whole file): errors name its keys
/// from there.
arch::AcceleratorConfig bind_config_at(const json& j, const std::string& file, const std::string& dir,
                                       const std::string& at) {
  if (!j.is_object())
    throw InputError(file, fmt::format("{}expected a JSON object, got {}", at.empty() ? "" : at + ": ", type_name(j)));
  arch::AcceleratorConfig c;
  c.energy = default_energy_table();
  c.area = default_area_table();
  c.memory = arch::ParamSet(arch::find_memory_type("ideal")->params);
  const auto top = arch::accelerator_params();
  for (const auto& item : j.items()) {
    const std::string& key = item.key();  // (no structured binding: lambdas below capture it; clang 14)
    const json& v = item.value();
    const std::string ptr = at + "/" + key;
    if (key == "name") {
      if (!v.is_string()) throw InputError(file, fmt::format("{}: expected a string, got {}", ptr, type_name(v)));
      c.name = v.get<std::string>();
      continue;
    }
    if (key == "reference") {  // the dense reference: an accelerator config inline, or its path
      if (v.is_null()) continue;
      if (!v.is_object() && !(v.is_string() && !v.get<std::string>().empty()))
        throw InputError(file, fmt::format("{}: expected an accelerator config (an object or a file's path), got {}", ptr,
                                           v.is_string() ? "\"\"" : type_name(v)));
      const Section r = resolve_section(v, file, ptr, dir);
      if (r.value.contains("reference") && !r.value["reference"].is_null())
        throw InputError(r.file, fmt::format("{}/reference: a reference accelerator names no reference of its own", r.pointer));
      c.reference = std::make_shared<const arch::AcceleratorConfig>(bind_config_at(r.value, r.file, r.dir, r.pointer));
      if (r.file != file) c.sources.push_back(r.file);
      c.sources.insert(c.sources.end(), c.reference->sources.begin(), c.reference->sources.end());
      c.warnings.insert(c.warnings.end(), c.reference->warnings.begin(), c.reference->warnings.end());
      continue;
    }
    if (auto slot = std::find_if(std::begin(kSlots), std::end(kSlots), [&](const Slot& s) { return key == s.key; });
        slot != std::end(kSlots)) {
      if (v.is_null() && !slot->required) continue;  // null: the slot is left out (a sweep axis can drop it)
      slot->bind(SlotInput{v, file, ptr, dir}, c);
      continue;
    }
    auto spec = std::find_if(top.begin(), top.end(), [&](const arch::ParamSpec& p) { return p.name == key; });
    if (spec == top.end())
      throw InputError(file, fmt::format("{}: unknown key (known: {})", ptr, known_keys(top_level_keys())));
    const arch::ParamValue pv = bind_param(*spec, v, file, ptr);
    if (key == "clock_ghz") c.clock_ghz = std::get<double>(pv);
    if (key == "tiles") c.tiles = uint32_t(std::get<int64_t>(pv));
  }
  for (const auto& s : kSlots)
    if (s.required && (!j.contains(s.key) || j[s.key].is_null()))
      throw InputError(file, fmt::format("{}: missing key \"{}\" (the PE array: {{\"type\": ..., ...}})",
                                         at.empty() ? "/" : at, s.key));
  check_slots(c, file, at);
  return c;
}
}  // namespace

const std::vector<std::string>& config_section_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k;
    for (const auto& s : kSlots) k.push_back(s.key);
    return k;
  }();
  return keys;
}

json inline_sections(const json& j, const std::string& file, const std::string& dir) {
  if (!j.is_object()) throw InputError(file, fmt::format("expected a JSON object, got {}", type_name(j)));
  json out = j;
  // An energy table file stays a file: its path becomes absolute so the config binds from anywhere.
  if (auto it = out.find("energy"); it != out.end()) {
    json* table = it->is_string() ? &*it : it->is_object() && it->contains("table") ? &(*it)["table"] : nullptr;
    const auto names = energy_table_names();
    if (table && table->is_string() && std::find(names.begin(), names.end(), table->get<std::string>()) == names.end()) {
      const fs::path p(table->get<std::string>());
      *table = (p.is_absolute() ? p : fs::absolute(fs::path(dir.empty() ? "." : dir) / p)).lexically_normal().string();
    }
  }
  if (auto it = out.find("area"); it != out.end() && it->is_string()) {  // likewise an area table file
    const auto names = area_table_names();
    if (std::find(names.begin(), names.end(), it->get<std::string>()) == names.end()) {
      const fs::path p(it->get<std::string>());
      *it = (p.is_absolute() ? p : fs::absolute(fs::path(dir.empty() ? "." : dir) / p)).lexically_normal().string();
    }
  }
  if (auto it = out.find("reference"); it != out.end() && (it->is_string() || it->is_object())) {
    // A reference file's own paths resolve against its own directory.
    const Section r = resolve_section(*it, file, "/reference", dir);
    *it = to_json(bind_accelerator_config(r.value, r.file, r.dir));
  }
  for (const auto& key : config_section_keys())
    if (auto it = out.find(key); it != out.end() && it->is_string()) {
      if (key == "energy" || key == "area") continue;
      if (auto preset = key == "dram" ? dram_preset_section(*it) : std::nullopt)
        *it = *preset;  // a preset's name, not a path
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
  const auto& flat = arch::flat_level_keys();
  auto is_flat = [&](const std::string& key) {
    return std::any_of(flat.begin(), flat.end(), [&](const arch::FlatLevelKey& k) { return key == k.key; });
  };
  if (const auto* info = arch::find_memory_type(c.memory_type))
    for (const auto& p : info->params)
      if (c.memory_levels.empty() || !is_flat(p.name)) mem[p.name] = param_json(c.memory.values().at(p.name));
  if (!c.memory_levels.empty()) {
    json levels = json::array();
    for (const auto& l : c.memory_levels) {
      json level;
      level["type"] = l.type;
      if (const auto* info = arch::find_level_type(l.type))
        for (const auto& p : info->params) level[p.name] = param_json(l.params.values().at(p.name));
      levels.push_back(level);
    }
    mem["levels"] = levels;
  }
  j["memory"] = mem;
  if (c.dram) {
    DramConfig d;
    d.preset = c.dram_preset;
    d.values = c.dram_params;
    j["dram"] = to_json(d);
  }
  if (!c.energy.actions.empty()) j["energy"] = to_json(c.energy);
  if (!c.area.components.empty()) j["area"] = c.area.origin;
  if (c.reference) j["reference"] = to_json(*c.reference);
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
  top.push_back(json{{"name", "name"}, {"description", "the accelerator's name in reports"}, {"expected", "a string"},
                     {"default", "accelerator"}});
  for (const auto& p : arch::accelerator_params()) top.push_back(spec_json(p));
  const std::pair<const char*, const char*> sections[] = {
      {"pe", "the PE array: {\"type\": ..., ...} with the keys of its type (under \"pe\" here); required"},
      {"memory", "the memory system: {\"type\": ..., ...} (under \"memory\"; a hierarchy's \"levels\" under \"memory_levels\"); "
                 "default ideal"},
      {"dram", "the DRAM behind a hierarchy: a preset's name or a section (under \"dram\")"},
      {"energy", "the energy table: a name, a file or {\"table\", \"node_nm\", \"voltage\"} (under \"energy\"); default 45nm"},
      {"area", "the area table: a built-in name (45nm) or a table file (docs/area.md); default 45nm"},
      {"reference", "the dense reference accelerator reports compare with: a config inline or a file's path, or null"},
  };
  for (const auto& [key, what] : sections)
    top.push_back(json{{"name", key}, {"description", what}, {"expected", "an object or a file's path"}});
  j["accelerator"] = top;
  j["pe"] = types_json<arch::PeModel>();
  j["memory"] = types_json<arch::MemoryModel>();
  j["memory_levels"] = types_json<arch::MemoryLevel>();
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
