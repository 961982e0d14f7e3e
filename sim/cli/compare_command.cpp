// `swatsim compare`: several accelerator configs on one trace against one dense reference, one table
// (docs/compare.md). Each design is a `swatsim run` in a process of its own (a SystemC simulation
// cannot be restarted in one process): a fork of this one, as sweep workers are.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include <boost/program_options.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "options.hpp"
#include "swatsim/common/atomic_file.hpp"
#include "swatsim/common/error.hpp"
#include "swatsim/sim/config.hpp"
#include "swatsim/sim/report.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace swatsim::cli {
namespace {

constexpr const char* kCompareUsage =
    "usage: swatsim compare --trace TRACE --arch A.json --arch B.json ... [--reference R.json|none]\n"
    "                       [--iterations LIST] [--layers LIST] [--passes LIST] [--top N]\n"
    "                       [--format text|csv|json] [--out FILE]\n\n"
    "Runs every design on TRACE against one dense reference and prints one table: cycles, the speedup\n"
    "over the reference and over the design's own sparsity-off twin, energy and energy efficiency,\n"
    "area, throughput per mm^2, the speedup at equal area and DRAM traffic, for the whole run and per\n"
    "pass, then each design's top layers by share of its cycles (docs/compare.md). The reference is\n"
    "--reference, or else the first design's \"reference\"; it is the same for every design. Each\n"
    "design runs in a process of its own. Exit status: 0, or 2 for bad input (naming the design).";

/// What one design's report says, for the table.
struct Design {
  std::string name, path;
  json report;
};

double stat(const json& row, const char* key) { return row.contains(key) && row[key].is_number() ? row[key].get<double>() : 0.0; }

/// One design's `swatsim run`, forked: its report, or an InputError with its error line.
json run_design(const std::vector<std::string>& args, const std::string& log, const std::string& report, const std::string& name) {
  std::cout.flush();
  std::cerr.flush();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (err >= 0) ::dup2(err, 2);
    int rc = 1;
    try {
      rc = dispatch(args);
    } catch (...) {
    }
    std::cerr.flush();
    ::_exit(rc);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::ifstream in(log);
    std::string line, last;
    while (std::getline(in, line))
      if (!line.empty()) last = line;
    const std::string prefix = "swatsim run: error: ";
    if (last.rfind(prefix, 0) == 0) last = last.substr(prefix.size());
    if (WIFEXITED(status) && WEXITSTATUS(status) == kExitBadInput) throw InputError("design " + name, last);
    throw std::runtime_error(fmt::format("design {}: the run failed: {}", name, last.empty() ? "(no message)" : last));
  }
  std::ifstream in(report);
  return json::parse(in);
}

/// The table as rows of cells: (design, scope, figures...).
struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
};

Table summary(const std::vector<Design>& designs, bool reference) {
  Table t;
  t.columns = {"design", "pass", "cycles", "vs_reference", "vs_sparsity_off", "energy_uj", "energy_eff_vs_reference",
               "area_mm2", "gmacs_per_s_per_mm2", "vs_reference_at_equal_area", "dram_mb"};
  for (const auto& d : designs) {
    std::vector<std::pair<std::string, json>> scopes{{"all", d.report["total"]}};
    for (const auto& p : d.report["pass_totals"]) scopes.emplace_back(p["pass"].get<std::string>(), p);
    for (const auto& sc : scopes) {  // (no structured binding: the lambda captures the row; clang 14)
      const std::string& scope = sc.first;
      const json& r = sc.second;
      // Against no reference the columns that need one are empty (null in JSON), never a 0 that reads as a figure.
      auto vs = [&](const char* key, const char* form) {
        return reference && r.contains(key) ? fmt::format(fmt::runtime(form), stat(r, key)) : std::string();
      };
      t.rows.push_back({d.name, scope, fmt::format("{:.0f}", stat(r, "cycles")), vs("reference_speedup", "{:.3f}"),
                        fmt::format("{:.3f}", stat(r, "speedup")), fmt::format("{:.3f}", stat(r, "energy.total_pj") * 1e-6),
                        vs("reference_energy_efficiency", "{:.3f}"), fmt::format("{:.3f}", stat(r, "area.total_mm2")),
                        fmt::format("{:.4f}", stat(r, "throughput_per_mm2")), vs("reference_speedup_per_area", "{:.3f}"),
                        fmt::format("{:.3f}", (stat(r, "dram.read_bytes") + stat(r, "dram.write_bytes")) * 1e-6)});
    }
  }
  return t;
}

/// Each design's layers by share of its cycles (over iterations and passes), the top `n`.
Table top_layers(const std::vector<Design>& designs, uint32_t n) {
  Table t;
  t.columns = {"design", "rank", "layer", "cycles", "share"};
  for (const auto& d : designs) {
    std::map<std::string, double> by_layer;
    double total = 0;
    for (const auto& r : d.report["rows"]) {
      by_layer[r["name"].get<std::string>()] += stat(r, "cycles");
      total += stat(r, "cycles");
    }
    std::vector<std::pair<std::string, double>> v(by_layer.begin(), by_layer.end());
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    for (size_t i = 0; i < v.size() && i < n; ++i)
      t.rows.push_back({d.name, std::to_string(i + 1), v[i].first, fmt::format("{:.0f}", v[i].second),
                        fmt::format("{:.4f}", total > 0 ? v[i].second / total : 0.0)});
  }
  return t;
}

void write_text(const Table& t, std::ostream& out) {
  std::vector<size_t> w(t.columns.size());
  for (size_t c = 0; c < t.columns.size(); ++c) w[c] = t.columns[c].size();
  for (const auto& r : t.rows)
    for (size_t c = 0; c < r.size(); ++c) w[c] = std::max(w[c], r[c].size());
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t c = 0; c < cells.size(); ++c) {
      char* end = nullptr;
      (void)std::strtod(cells[c].c_str(), &end);
      const bool number = !cells[c].empty() && end && *end == '\0';
      out << (c ? "  " : "") << fmt::format(number ? "{:>{}}" : "{:<{}}", cells[c], w[c]);
    }
    out << "\n";
  };
  line(t.columns);
  for (const auto& r : t.rows) line(r);
}

json table_json(const Table& t) {
  json rows = json::array();
  for (const auto& r : t.rows) {
    json o;
    for (size_t c = 0; c < r.size(); ++c) {
      char* end = nullptr;
      const double v = std::strtod(r[c].c_str(), &end);
      const bool name = t.columns[c] == "design" || t.columns[c] == "pass" || t.columns[c] == "layer";
      if (r[c].empty() && !name)
        o[t.columns[c]] = nullptr;
      else if (!name && end && *end == '\0' && v == std::floor(v) && r[c].find('.') == std::string::npos)
        o[t.columns[c]] = int64_t(v);
      else if (!name && end && *end == '\0')
        o[t.columns[c]] = v;
      else
        o[t.columns[c]] = r[c];
    }
    rows.push_back(o);
  }
  return rows;
}

int compare_command(const std::vector<std::string>& args) {
  po::options_description desc("options");
  std::vector<std::string> archs;
  std::string trace, reference, iterations, layers, passes, format = "text", out, top_text = "5";
  desc.add_options()("arch", po::value(&archs)->multitoken()->required(), "an accelerator config (give two or more)")(
      "trace", po::value(&trace)->required(), "the trace every design replays")(
      "reference", po::value(&reference), "the dense reference config, or none (default: the first design's reference)")(
      "iterations", po::value(&iterations), "recorded iterations (as swatsim run)")(
      "layers", po::value(&layers), "layers (as swatsim run)")("passes", po::value(&passes), "passes (as swatsim run)")(
      "top", po::value(&top_text), "layers listed per design by share of its cycles (default 5)")(
      "format", po::value(&format), "text (default), csv or json")("out", po::value(&out), "write the table here instead of stdout");
  po::positional_options_description pos;
  po::variables_map vm;
  if (!parse_options(std::vector<std::string>(args.begin() + 1, args.end()), desc, pos, vm, kCompareUsage)) return 0;
  if (format != "text" && format != "csv" && format != "json")
    throw InputError("--format", fmt::format("expected text, csv or json, got '{}'", format));
  const uint32_t top = parse_count(top_text, "--top", 1000);
  // Every design is checked before anything runs; the reference is one file for every run.
  std::vector<Design> designs;
  std::vector<arch::AcceleratorConfig> configs;
  for (const auto& a : archs) {
    configs.push_back(sim::load_accelerator_config(a));
    std::string name = configs.back().name;
    for (const auto& d : designs)
      if (d.name == name) name = fmt::format("{} ({})", name, a);
    designs.push_back(Design{name, a, {}});
  }
  if (designs.size() < 2) throw InputError("--arch", "compare needs two or more designs");
  std::error_code ec;
  if (!fs::is_regular_file(trace, ec)) throw InputError(trace, fs::exists(trace, ec) ? "is not a regular file" : "does not exist");
  if (!out.empty()) {  // never over an input: the trace, a design, the reference or a file their sections come from
    std::vector<std::string> inputs{trace};
    if (!reference.empty() && reference != "none") inputs.push_back(reference);
    for (size_t i = 0; i < configs.size(); ++i) {
      inputs.push_back(archs[i]);
      inputs.insert(inputs.end(), configs[i].sources.begin(), configs[i].sources.end());
    }
    refuse_same_file(out, "--out", inputs);
  }
  char tmpl[] = "/tmp/swatsim-compare.XXXXXX";
  const char* made = ::mkdtemp(tmpl);
  if (!made) throw std::runtime_error("cannot make a temporary directory");
  const std::string work = made;
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(dir, e);
    }
  } cleanup{work};
  std::string reference_path = reference;
  if (reference.empty()) {
    if (!configs.front().reference)
      throw InputError("--reference", fmt::format("missing: {} names no reference; give --reference CONFIG or none", archs.front()));
    reference_path = work + "/reference.json";
    std::ofstream(reference_path) << sim::to_json(*configs.front().reference).dump(2) << "\n";
  } else if (reference != "none") {
    (void)sim::load_accelerator_config(reference);  // its errors name it
  }
  for (const auto& c : configs)
    if (c.memory_type != configs.front().memory_type) {
      std::cerr << "swatsim compare: warning: the designs' memory types differ (" << configs.front().memory_type << ", "
                << c.memory_type << "): an ideal-memory design's area and throughput per mm^2 leave out buffers and network\n";
      break;
    }
  for (size_t i = 0; i < designs.size(); ++i) {
    std::vector<std::string> run{"run", "--arch", designs[i].path, "--trace", trace, "--reference", reference_path,
                                 "--out", fmt::format("{}/{}.json", work, i), "-q"};
    if (vm.count("iterations")) run.insert(run.end(), {"--iterations", iterations});
    if (vm.count("layers")) run.insert(run.end(), {"--layers", layers});
    if (vm.count("passes")) run.insert(run.end(), {"--passes", passes});
    designs[i].report = run_design(run, fmt::format("{}/{}.log", work, i), fmt::format("{}/{}.json", work, i), designs[i].name);
  }
  const Table sum = summary(designs, reference != "none"), layers_table = top_layers(designs, top);
  auto write = [&](std::ostream& o) {
    if (format == "json") {
      json j;
      j["trace"] = trace;
      j["reference"] = reference == "none" ? json(nullptr) : json(designs.front().report["reference"]);
      j["designs"] = json::array();
      for (const auto& d : designs) j["designs"].push_back(json{{"name", d.name}, {"config", d.path}});
      j["summary"] = table_json(sum);
      j["top_layers"] = table_json(layers_table);
      o << j.dump(2) << "\n";
    } else if (format == "csv") {
      for (size_t c = 0; c < sum.columns.size(); ++c) o << (c ? "," : "") << sum.columns[c];
      o << "\n";
      for (const auto& r : sum.rows) {
        for (size_t c = 0; c < r.size(); ++c) o << (c ? "," : "") << sim::csv_field(r[c]);
        o << "\n";
      }
    } else {
      o << fmt::format("{} designs on {} against {} (vs_*: speedups; energy_eff: reference energy / energy)\n\n", designs.size(),
                       trace, reference == "none" ? std::string("no reference")
                                                  : "the reference " + designs.front().report["reference"]["config"]["name"].get<std::string>());
      write_text(sum, o);
      o << fmt::format("\ntop {} layers of each design by share of its cycles\n", top);
      write_text(layers_table, o);
    }
  };
  if (out.empty())
    write(std::cout);
  else
    write_file_atomically(out, write);
  return 0;
}

}  // namespace

SWATSIM_REGISTER_COMMAND("compare", "several designs on one trace against one reference: one table", compare_command);

}  // namespace swatsim::cli
