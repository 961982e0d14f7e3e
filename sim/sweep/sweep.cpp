// Sweep files: reading, expansion into points, and the checks done before anything runs.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "../config/binding.hpp"
#include "swatsim/arch/layer.hpp"
#include "swatsim/common/error.hpp"
#include "swatsim/sim/config.hpp"
#include "swatsim/sim/replay.hpp"
#include "swatsim/sim/sweep.hpp"
#include "swatsim/traces/io.hpp"

namespace swatsim::sim {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;
using namespace binding;

uint64_t fnv1a(const std::string& bytes, uint64_t h) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}


std::vector<std::string> SweepRunOptions::run_args() const {
  std::vector<std::string> a{"--passes", passes};
  if (iterations != "all") a.insert(a.end(), {"--iterations", iterations});
  if (layers != "all") a.insert(a.end(), {"--layers", layers});
  if (!baseline.empty()) a.insert(a.end(), {"--baseline", baseline});
  if (!baseline_sparsity.empty()) a.insert(a.end(), {"--baseline-sparsity", baseline_sparsity});
  return a;
}

uint64_t Sweep::points() const {
  uint64_t n = 1;
  for (const auto& g : groups) n *= g.size();
  return n;
}

std::vector<std::string> Sweep::axis_pointers() const {
  std::vector<std::string> out;
  for (const auto& g : groups) out.insert(out.end(), g.pointers.begin(), g.pointers.end());
  return out;
}

std::vector<json> Sweep::axis_values(uint64_t id) const {
  std::vector<size_t> index(groups.size());
  for (size_t g = groups.size(); g-- > 0;) {  // the last group varies fastest
    index[g] = size_t(id % groups[g].size());
    id /= groups[g].size();
  }
  std::vector<json> out;
  for (size_t g = 0; g < groups.size(); ++g)
    for (const auto& v : groups[g].values) out.push_back(v[index[g]]);
  return out;
}

namespace {

std::string describe_point(const Sweep& s, uint64_t id) {
  const auto pointers = s.axis_pointers();
  const auto values = s.axis_values(id);
  std::string out = fmt::format("point {}", id);
  for (size_t i = 0; i < pointers.size(); ++i) out += fmt::format("{}{}={}", i ? ", " : " (", pointers[i], values[i].dump());
  return pointers.empty() ? out : out + ")";
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Whether every array a pointer walks through has the element it names: nlohmann would pad an
/// array with nulls up to any index (a billion of them for "/levels/1000000000"). Object keys may be
/// new (an axis may add a key the base leaves at its default), but below a new key an array index
/// (digits, or "-") would build an array of that size from nothing: refused too.
bool array_indices_exist(const json& root, const std::string& pointer) {
  const json* at = &root;
  size_t pos = 1;
  bool below_new_key = false;
  while (pos <= pointer.size()) {
    if (at && at->is_null()) {  // nlohmann turns a null into whatever the next token asks for
      at = nullptr;
      below_new_key = true;
    }
    if (!at) {
      const size_t end = std::min(pointer.find('/', pos), pointer.size());
      const std::string token = pointer.substr(pos, end - pos);
      if (below_new_key && (token == "-" || (!token.empty() && token.find_first_not_of("0123456789") == std::string::npos)))
        return false;
      pos = end + 1;
      continue;
    }
    const size_t end = std::min(pointer.find('/', pos), pointer.size());
    std::string token = pointer.substr(pos, end - pos);
    for (size_t i = 0; (i = token.find('~', i)) != std::string::npos; ++i)  // RFC 6901: ~1 is '/', ~0 is '~'
      token.replace(i, 2, token.compare(i, 2, "~1") == 0 ? "/" : "~");
    if (at->is_array()) {
      if (token.empty() || token.size() > 9 || token.find_first_not_of("0123456789") != std::string::npos ||
          (token.size() > 1 && token[0] == '0') || std::stoull(token) >= at->size())
        return false;
      at = &(*at)[std::stoull(token)];
    } else if (at->is_object()) {
      auto it = at->find(token);
      at = it == at->end() ? nullptr : &*it;
      below_new_key = at == nullptr;
    } else {
      return true;  // a scalar on the way: json_pointer reports it
    }
    pos = end + 1;
  }
  return true;
}

}  // namespace

json Sweep::point_config(uint64_t id) const {
  json config = base;
  const auto pointers = axis_pointers();
  const auto values = axis_values(id);
  const std::string dir = base_dir(file);
  for (size_t i = 0; i < pointers.size(); ++i) {
    json value = values[i];
    try {
      const json::json_pointer ptr(pointers[i]);
      // A section given as a path on an axis resolves against the sweep file.
      const std::string key = pointers[i].substr(1);
      const auto& sections = config_section_keys();
      if (value.is_string() && std::find(sections.begin(), sections.end(), key) != sections.end())
        value = inline_sections(json{{key, value}}, file, dir)[key];
      if (!array_indices_exist(config, pointers[i])) throw json::out_of_range::create(401, "index past the end", nullptr);
      config[ptr] = value;
    } catch (const json::exception&) {
      throw InputError(file, fmt::format("axis {}: {}: the pointer names no place in the config", pointers[i],
                                         describe_point(*this, id)));
    } catch (const InputError& e) {
      throw InputError(file, fmt::format("axis {}: {}: {}", pointers[i], describe_point(*this, id), e.what()));
    }
  }
  try {
    return to_json(bind_accelerator_config(config, file, dir));
  } catch (const InputError& e) {
    throw InputError(file, fmt::format("{}: {}", describe_point(*this, id), e.detail()));
  }
}

Sweep load_sweep(const std::string& path) {
  const json j = read_json(path);
  if (!j.is_object()) throw InputError(path, fmt::format("expected a sweep object, got {}", type_name(j)));
  Sweep s;
  s.file = path;
  const std::string dir = base_dir(path);
  auto need = [&](const char* key) -> const json& {
    auto it = j.find(key);
    if (it == j.end()) throw InputError(path, fmt::format("/: missing key \"{}\"", key));
    return *it;
  };
  for (const auto& [key, v] : j.items())
    if (key != "name" && key != "base" && key != "axes" && key != "traces" && key != "run")
      throw InputError(path, fmt::format("/{}: unknown key (known: name, base, axes, traces, run)", key));
  const json& name = need("name");
  if (!name.is_string() || name.get<std::string>().empty())
    throw InputError(path, fmt::format("/name: expected a non-empty string, got {}", type_name(name)));
  // The name reaches file contents and a Slurm batch script's directives: one line of text.
  const std::string& text = name.get_ref<const std::string&>();
  size_t characters = 0;
  bool control = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    characters += (c & 0xC0) != 0x80;  // UTF-8: count the first byte of each character
    control |= c < 0x20 || c == 0x7f || (c == 0xC2 && i + 1 < text.size() && (unsigned char)text[i + 1] < 0xA0);  // C0, DEL, C1
  }
  if (characters > 200 || control)
    throw InputError(path, "/name: expected at most 200 characters without control characters (newlines, tabs, escapes)");
  s.name = name.get<std::string>();

  // base: inline or a path, its own section paths resolved against its own file
  const Section base = resolve_section(need("base"), path, "/base", dir);
  s.base = inline_sections(base.value, base.file, base.dir);

  if (auto it = j.find("axes"); it != j.end()) {
    if (!it->is_array()) throw InputError(path, fmt::format("/axes: expected an array of groups, got {}", type_name(*it)));
    for (size_t g = 0; g < it->size(); ++g) {
      const json& group = (*it)[g];
      const std::string where = fmt::format("/axes/{}", g);
      if (!group.is_object() || group.empty())
        throw InputError(path, fmt::format("{}: expected an object of JSON pointers to lists of values, got {}", where,
                                           type_name(group)));
      SweepAxisGroup axis;
      for (const auto& [ptr, values] : group.items()) {
        const std::string at = where + "/" + ptr;
        if (ptr.empty() || ptr[0] != '/')
          throw InputError(path, fmt::format("{}: expected a JSON pointer starting with '/', got \"{}\"", where, ptr));
        if (!values.is_array() || values.empty())
          throw InputError(path, fmt::format("axis {}: expected a non-empty list of values, got {}", ptr, type_name(values)));
        auto inside = [](const std::string& outer, const std::string& inner) {  // inner at or below outer
          return inner.compare(0, outer.size(), outer) == 0 && (inner.size() == outer.size() || inner[outer.size()] == '/');
        };
        std::vector<std::string> seen = s.axis_pointers();
        seen.insert(seen.end(), axis.pointers.begin(), axis.pointers.end());
        for (const auto& other : seen)
          if (inside(other, ptr) || inside(ptr, other))
            throw InputError(path, other == ptr ? fmt::format("axis {}: appears twice", ptr)
                                                : fmt::format("axis {}: overlaps axis {} (one sets a part of the other)",
                                                              ptr, other));
        if (!axis.values.empty() && values.size() != axis.size())
          throw InputError(path, fmt::format("axis {}: {} values, but {} has {} (keys of one group are zipped)", ptr,
                                             values.size(), axis.pointers[0], axis.size()));
        axis.pointers.push_back(ptr);
        axis.values.push_back(std::vector<json>(values.begin(), values.end()));
      }
      s.groups.push_back(std::move(axis));
      if (s.points() > kMaxSweepPoints)
        throw InputError(path, fmt::format("/axes: more than {} points", kMaxSweepPoints));
    }
  }

  const json& traces = need("traces");
  if (!traces.is_array() || traces.empty())
    throw InputError(path, fmt::format("/traces: expected a non-empty list of trace paths, got {}", type_name(traces)));
  for (size_t i = 0; i < traces.size(); ++i) {
    if (!traces[i].is_string())
      throw InputError(path, fmt::format("/traces/{}: expected a path, got {}", i, type_name(traces[i])));
    const std::string t = traces[i].get<std::string>();
    const std::string resolved = (fs::path(dir) / t).lexically_normal().string();
    std::error_code ec;
    if (!fs::is_regular_file(resolved, ec))
      throw InputError(path, fmt::format("/traces/{}: trace '{}' {}", i, resolved,
                                         fs::exists(resolved, ec) ? "is not a regular file" : "does not exist"));
    s.traces.push_back(t);
    s.trace_paths.push_back(resolved);
  }

  if (auto it = j.find("run"); it != j.end()) {
    if (!it->is_object()) throw InputError(path, fmt::format("/run: expected an object, got {}", type_name(*it)));
    for (const auto& item : it->items()) {
      const std::string key = item.key();
      const json& v = item.value();
      const std::string at = "/run/" + key;
      auto text = [&]() {
        if (!v.is_string()) throw InputError(path, fmt::format("{}: expected a string, got {}", at, type_name(v)));
        return v.get<std::string>();
      };
      try {
        if (key == "passes") {
          s.run.passes = text();
          std::stringstream ss(s.run.passes);
          std::string item;
          bool any = false;
          while (std::getline(ss, item, ',')) {
            if (!arch::pass_from_string(item))
              throw InputError("", fmt::format("expected forward, input-grad or weight-grad, got '{}'", item));
            any = true;
          }
          if (!any) throw InputError("", "no pass selected");
        } else if (key == "iterations") {
          s.run.iterations = text();
          if (s.run.iterations != "all") (void)parse_index_list(s.run.iterations, at);
        } else if (key == "layers") {
          s.run.layers = text();
          std::vector<IndexRange> idx;
          std::vector<std::string> names;
          if (s.run.layers != "all") parse_layer_list(s.run.layers, idx, names);
        } else if (key == "baseline") {
          if (!v.is_null()) s.run.baseline = (fs::path(dir) / text()).lexically_normal().string();
        } else if (key == "baseline_sparsity") {
          s.run.baseline_sparsity = text();
          if (s.run.baseline_sparsity != "on" && s.run.baseline_sparsity != "off")
            throw InputError("", fmt::format("expected \"on\" or \"off\", got \"{}\"", s.run.baseline_sparsity));
        } else {
          throw InputError("", "unknown key (known: passes, iterations, layers, baseline, baseline_sparsity)");
        }
      } catch (const InputError& e) {
        if (e.where() == path) throw;
        throw InputError(path, fmt::format("{}: {}", at, e.detail()));
      }
    }
    if (!s.run.baseline.empty()) (void)load_accelerator_config(s.run.baseline);  // its errors name it
    if (!s.run.baseline_sparsity.empty() && s.run.baseline.empty())
      throw InputError(path, "/run/baseline_sparsity: applies only with /run/baseline");
  }
  // The run's iterations and layers select something in every trace, as `swatsim run` will ask of
  // each task: checked here, before anything runs, with the trace named. A trace that cannot be read
  // is left to its tasks, which fail and are recorded (and retried once it is fixed).
  if (s.run.iterations != "all" || s.run.layers != "all") {
    std::vector<IndexRange> iterations, layers;
    std::vector<std::string> names;
    if (s.run.iterations != "all") iterations = parse_index_list(s.run.iterations, "/run/iterations");
    if (s.run.layers != "all") parse_layer_list(s.run.layers, layers, names);
    for (size_t i = 0; i < s.trace_paths.size(); ++i) {
      std::unique_ptr<traces::TraceReader> reader;
      try {
        reader = std::make_unique<traces::TraceReader>(s.trace_paths[i]);
      } catch (const InputError&) {
        continue;
      }
      try {
        (void)select_in_trace(*reader, iterations, layers, names);
      } catch (const InputError& e) {
        throw InputError(path, fmt::format("{}: {}", e.where() == "--iterations" ? "/run/iterations" : "/run/layers", e.detail()));
      }
    }
  }
  // Every point is checked up front; the directory identity covers the sweep file and every resolved
  // point config (so an edited base or section file is another sweep). Traces are identified by the
  // paths the file names: fixing a broken trace and retrying its failed tasks stays the same sweep.
  uint64_t h = fnv1a(read_bytes(path));
  for (uint64_t p = 0; p < s.points(); ++p) h = fnv1a(s.point_config(p).dump(), h);
  // The baseline a run compares with, and which files the traces are (two copies of one sweep file in
  // two folders name different traces): an edited baseline or another folder is another sweep.
  if (!s.run.baseline.empty()) h = fnv1a(to_json(load_accelerator_config(s.run.baseline)).dump(), h);
  for (const auto& t : s.trace_paths) h = fnv1a(fs::absolute(t).lexically_normal().string(), h);
  s.hash = fmt::format("{:016x}", h);
  return s;
}

}  // namespace swatsim::sim
