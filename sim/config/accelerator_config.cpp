#include <filesystem>
#include <fstream>
#include <ios>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "swatsim/common/error.hpp"
#include "swatsim/sim/config.hpp"

namespace swatsim::sim {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

namespace {

std::string type_name(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return v.dump();
  if (v.is_number()) return v.dump();
  if (v.is_string()) return v.dump();
  if (v.is_array()) return "an array";
  return "an object";
}

json read_json(const std::string& path) {
  std::error_code ec;
  if (fs::exists(path, ec) && !fs::is_regular_file(path, ec))
    throw InputError(path, fs::is_directory(path, ec) ? "is a directory, not a config file"
                                                      : "is not a regular file, not a config file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot open config file");
  try {
    return json::parse(in);
  } catch (const json::parse_error& e) {
    throw InputError(path, fmt::format("invalid JSON: {}", e.what()));
  } catch (const std::ios_base::failure& e) {
    throw InputError(path, fmt::format("cannot read config file: {}", e.what()));
  }
}

/// A section that may be inline or a path; returns the object and where its errors point.
struct Section {
  json value;
  std::string file;     // file that holds the object
  std::string pointer;  // JSON pointer of the object inside that file ("" = whole file)
  std::string dir;      // directory for nested relative paths
};

Section resolve_section(const json& v, const std::string& file, const std::string& pointer,
                        const std::string& dir) {
  if (v.is_string()) {
    const fs::path p = fs::path(dir) / v.get<std::string>();
    const std::string path = p.lexically_normal().string();
    if (!fs::exists(p)) throw InputError(file, fmt::format("{}: section file '{}' does not exist", pointer, path));
    if (!fs::is_regular_file(p))
      throw InputError(file, fmt::format("{}: section file '{}' is not a regular file{}", pointer, path,
                                         fs::is_directory(p) ? " (a directory)" : ""));
    json inner = read_json(path);
    if (!inner.is_object()) throw InputError(path, fmt::format("expected a JSON object, got {}", type_name(inner)));
    return {std::move(inner), path, "", p.parent_path().string()};
  }
  if (!v.is_object())
    throw InputError(file, fmt::format("{}: expected an object or a path to a JSON file, got {}", pointer, type_name(v)));
  return {v, file, pointer, dir};
}

arch::ParamValue bind_param(const arch::ParamSpec& s, const json& v, const std::string& file,
                            const std::string& ptr) {
  auto fail = [&]() -> InputError {
    return InputError(file, fmt::format("{}: expected {}, got {}", ptr, s.expectation(), type_name(v)));
  };
  switch (s.kind) {
    case arch::ParamKind::Int: {
      if (!v.is_number_integer()) throw fail();
      if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)) throw fail();
      const int64_t x = v.get<int64_t>();
      if (x < s.int_min || x > s.int_max) throw fail();
      return x;
    }
    case arch::ParamKind::Real: {
      if (!v.is_number()) throw fail();
      const double x = v.get<double>();
      if (!(x <= s.real_max) || (s.real_min_open ? !(x > s.real_min) : !(x >= s.real_min))) throw fail();
      return x;
    }
    case arch::ParamKind::Choice: {
      if (!v.is_string()) throw fail();
      const std::string x = v.get<std::string>();
      for (const auto& c : s.choices)
        if (c == x) return x;
      throw fail();
    }
  }
  throw fail();
}

std::string known_keys(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}

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


json param_json(const arch::ParamSpec& s, const arch::ParamValue& v) {
  (void)s;
  if (std::holds_alternative<int64_t>(v)) return std::get<int64_t>(v);
  if (std::holds_alternative<double>(v)) return std::get<double>(v);
  return std::get<std::string>(v);
}

}  // namespace

arch::AcceleratorConfig bind_accelerator_config(const json& j, const std::string& file, const std::string& dir) {
  if (!j.is_object()) throw InputError(file, fmt::format("expected a JSON object, got {}", type_name(j)));
  arch::AcceleratorConfig c;
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
        throw InputError(file, fmt::format("{}: unknown key (known: name, clock_ghz, tiles, pe, memory)", ptr));
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
  return c;
}

arch::AcceleratorConfig load_accelerator_config(const std::string& path) {
  const json j = read_json(path);
  return bind_accelerator_config(j, path, fs::path(path).parent_path().string());
}

json to_json(const arch::AcceleratorConfig& c) {
  json j;
  j["name"] = c.name;
  j["clock_ghz"] = c.clock_ghz;
  j["tiles"] = c.tiles;
  json pe;
  pe["type"] = c.pe_type;
  if (const auto* info = arch::find_pe_type(c.pe_type))
    for (const auto& p : info->params) pe[p.name] = param_json(p, c.pe.values().at(p.name));
  j["pe"] = pe;
  json mem;
  mem["type"] = c.memory_type;
  if (const auto* info = arch::find_memory_type(c.memory_type))
    for (const auto& p : info->params) mem[p.name] = param_json(p, c.memory.values().at(p.name));
  j["memory"] = mem;
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
    case arch::ParamKind::Choice: s["default"] = p.choice_default; break;
  }
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
  return j;
}

}  // namespace swatsim::sim
