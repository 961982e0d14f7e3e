// JSON binding shared by every config section (binding.hpp).
#include "binding.hpp"

#include <filesystem>
#include <fstream>
#include <ios>

#include <fmt/format.h>

#include "swatsim/common/error.hpp"
#include "swatsim/common/strict_json.hpp"

namespace swatsim::sim::binding {

namespace fs = std::filesystem;

std::string type_name(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return v.dump();
  if (v.is_number()) return v.dump();
  if (v.is_string()) {  // an error line shows a short excerpt, never a whole long value
    const std::string& text = v.get_ref<const std::string&>();
    if (text.size() <= 80) return v.dump();
    size_t cut = 60;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 sequence
    return json(text.substr(0, cut)).dump() + fmt::format("... ({} bytes)", text.size());
  }
  if (v.is_array()) return "an array";
  return "an object";
}

std::string base_dir(const std::string& file) {
  std::error_code ec;
  if (fs::is_symlink(file, ec)) {
    const fs::path real = fs::canonical(file, ec);
    if (!ec) return real.parent_path().string();
  }
  return fs::path(file).parent_path().string();
}

json read_json(const std::string& path) {
  std::error_code ec;
  if (fs::exists(path, ec) && !fs::is_regular_file(path, ec))
    throw InputError(path, fs::is_directory(path, ec) ? "is a directory, not a config file"
                                                      : "is not a regular file, not a config file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot open config file");
  try {
    return parse_json_strict<json>(in, path);
  } catch (const json::parse_error& e) {
    throw InputError(path, fmt::format("invalid JSON: {}", e.what()));
  } catch (const json::exception& e) {  // e.g. a number out of double range (1e400)
    throw InputError(path, fmt::format("invalid JSON: {}", e.what()));
  } catch (const std::ios_base::failure& e) {
    throw InputError(path, fmt::format("cannot read config file: {}", e.what()));
  }
}

Section resolve_section(const json& v, const std::string& file, const std::string& pointer,
                        const std::string& dir) {
  if (v.is_string()) {
    const fs::path p = fs::path(dir) / v.get<std::string>();
    const std::string path = p.lexically_normal().string();
    std::error_code ec;
    const auto st = fs::status(p, ec);
    if (ec && ec != std::errc::no_such_file_or_directory)  // too long, not permitted, ...
      throw InputError(file, fmt::format("{}: section file '{}': {}", pointer, path, ec.message()));
    if (!fs::exists(st)) throw InputError(file, fmt::format("{}: section file '{}' does not exist", pointer, path));
    if (!fs::is_regular_file(st))
      throw InputError(file, fmt::format("{}: section file '{}' is not a regular file{}", pointer, path,
                                         fs::is_directory(st) ? " (a directory)" : ""));
    json inner = read_json(path);
    if (!inner.is_object()) throw InputError(path, fmt::format("expected a JSON object, got {}", type_name(inner)));
    return {std::move(inner), path, "", base_dir(path)};
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
    case arch::ParamKind::Text:
      if (!v.is_string()) throw fail();
      return v.get<std::string>();
  }
  throw fail();
}

std::string known_keys(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}

json param_json(const arch::ParamValue& v) {
  if (std::holds_alternative<int64_t>(v)) return std::get<int64_t>(v);
  if (std::holds_alternative<double>(v)) return std::get<double>(v);
  return std::get<std::string>(v);
}

}  // namespace swatsim::sim::binding
