#include <cmath>
#include "swatsim/sim/report.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>

#include <fmt/format.h>

#include "swatsim/common/error.hpp"
#include "swatsim/sim/config.hpp"
#include "swatsim/sim/version.hpp"

namespace swatsim::sim {

using json = nlohmann::ordered_json;
using arch::Unit;

arch::StatSet row_stats(const arch::JobResult& r, const arch::JobResult& b, double clock_ghz) {
  arch::StatSet s;
  const double speedup = r.cycles ? double(b.cycles) / double(r.cycles) : 0.0;
  s.add("cycles", double(r.cycles), Unit::Cycles, "accelerator cycles, samples run one after another");
  s.add("baseline_cycles", double(b.cycles), Unit::Cycles, "baseline cycles for the same work");
  s.add("speedup", speedup, Unit::Ratio, "baseline_cycles / cycles (0 if cycles is 0)");
  s.add("time", double(r.cycles) / (clock_ghz * 1e9), Unit::Seconds, "cycles at the configured clock");
  s.add("macs.dense", double(r.macs_dense), Unit::Macs, "MACs of the dense GEMMs (zeros included)");
  s.add("macs.issued", double(r.macs_issued), Unit::Macs, "multiplier slots of the tiles' busy cycles");
  s.add("macs.effectual", double(r.macs_effectual), Unit::Macs,
        "MACs on non-zero operands as the PE type sees them (docs/pe-models.md)");
  s.add("utilization", r.peak_macs ? double(r.macs_effectual) / double(r.peak_macs) : 0.0, Unit::Ratio,
        "macs.effectual / (cycles x tiles x multipliers per tile)");
  s.add("tiles.busy_cycles", double(r.busy_cycles), Unit::Cycles, "sum over tiles of cycles computing");
  s.add("tiles.wait_cycles", double(r.tile_wait_cycles), Unit::Cycles,
        "sum over tiles of cycles idle while another tile still worked (imbalance between tiles)");
  s.add("tiles.memory_wait_cycles", double(r.memory_wait_cycles), Unit::Cycles,
        "sum over tiles of cycles waiting on operands (0 with ideal memory)");
  s.add("pe.row_imbalance_cycles", r.row_idle_cycles, Unit::Cycles,
        "cycles a PE row (two-sided: a PE) idled while another of its array worked, averaged over rows");
  s.add("work_units", double(r.units), Unit::Count, "work units the controller handed out");
  return s;
}

Report build_report(const ReplayResult& res, const ReplayOptions& o) {
  Report rep;
  rep.trace = o.trace;
  rep.config = to_json(o.config);
  if (o.baseline) {
    rep.baseline = json{{"kind", o.baseline_sparsity ? "named accelerator" : "named accelerator with sparsity exploitation off"},
                        {"exploit_sparsity", o.baseline_sparsity},
                        {"config", to_json(*o.baseline)}};
  } else {
    rep.baseline = json{{"kind", "same hardware with sparsity exploitation off"}, {"exploit_sparsity", false}};
  }
  std::map<int, std::pair<arch::JobResult, arch::JobResult>> by_pass;
  std::pair<arch::JobResult, arch::JobResult> all;
  for (const auto& row : res.rows) {
    ReportRow r;
    r.iteration = row.iteration;
    r.layer = row.layer;
    r.layer_name = row.layer_name;
    r.pass = arch::to_string(row.pass);
    r.samples = row.samples;
    r.stats = row_stats(row.result, row.baseline, o.config.clock_ghz);
    rep.rows.push_back(std::move(r));
    auto& p = by_pass[int(row.pass)];
    accumulate(p.first, row.result);
    accumulate(p.second, row.baseline);
    accumulate(all.first, row.result);
    accumulate(all.second, row.baseline);
  }
  for (const auto& [pass, v] : by_pass) {
    ReportRow r;
    r.layer_name = "total";
    r.pass = arch::to_string(arch::Pass(pass));
    r.stats = row_stats(v.first, v.second, o.config.clock_ghz);
    rep.pass_totals.push_back(std::move(r));
  }
  rep.total.layer_name = "total";
  rep.total.pass = "all";
  rep.total.stats = row_stats(all.first, all.second, o.config.clock_ghz);
  return rep;
}

namespace {
double stat(const ReportRow& r, const char* name) {
  const arch::Stat* s = r.stats.find(name);
  return s ? s->value : 0.0;
}
std::string fmt_value(const arch::Stat& s) {
  if (s.unit == Unit::Ratio) return fmt::format("{:.6f}", s.value);
  if (s.unit == Unit::Seconds) return fmt::format("{:.9e}", s.value);
  if (s.name == "pe.row_imbalance_cycles") return fmt::format("{:.2f}", s.value);
  return fmt::format("{:.0f}", s.value);
}
// Counts (cycles, MACs, units) are whole numbers and appear in JSON as integers.
json json_value(const arch::Stat& s) {
  const bool whole = s.unit != Unit::Ratio && s.unit != Unit::Seconds && s.value >= 0 && s.value < 9.0e18 &&
                     std::floor(s.value) == s.value;
  return whole ? json(uint64_t(s.value)) : json(s.value);
}
std::string csv_field(const std::string& v) {
  if (v.find_first_of(",\"\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}
}  // namespace

void write_text(const Report& r, std::ostream& out) {
  out << fmt::format("swatsim {} replay of {} on '{}' ({} x {}), baseline: {}\n\n", version(), r.trace,
                     r.config["name"].get<std::string>(), r.config["tiles"].get<uint32_t>(),
                     r.config["pe"]["type"].get<std::string>(),
                     r.baseline.contains("config") ? r.baseline["config"]["name"].get<std::string>()
                                                   : r.baseline["kind"].get<std::string>());
  const auto header = fmt::format("{:>5} {:>5} {:<20} {:<12} {:>14} {:>14} {:>8} {:>6} {:>12} {:>12}\n", "iter",
                                  "layer", "name", "pass", "cycles", "baseline", "speedup", "util",
                                  "row-imbal", "tile-wait");
  out << header;
  auto line = [&](const std::string& it, const std::string& layer, const ReportRow& row) {
    out << fmt::format("{:>5} {:>5} {:<20} {:<12} {:>14.0f} {:>14.0f} {:>8.3f} {:>6.3f} {:>12.0f} {:>12.0f}\n", it,
                       layer, row.layer_name.substr(0, 20), row.pass, stat(row, "cycles"),
                       stat(row, "baseline_cycles"), stat(row, "speedup"), stat(row, "utilization"),
                       stat(row, "pe.row_imbalance_cycles"), stat(row, "tiles.wait_cycles"));
  };
  for (const auto& row : r.rows) line(std::to_string(row.iteration), std::to_string(row.layer), row);
  out << std::string(header.size() - 1, '-') << "\n";
  for (const auto& row : r.pass_totals) line("", "", row);
  line("", "", r.total);
  out << "\ncycles: accelerator cycles; baseline: baseline cycles for the same work; speedup = baseline / cycles;\n"
         "util: effectual MACs / (cycles x tiles x multipliers per tile); row-imbal: cycles a PE row idled while\n"
         "another row of its array worked (averaged over rows); tile-wait: cycles tiles idled while another tile\n"
         "still worked (summed over tiles).\n";
}

json to_json(const Report& r) {
  json j;
  j["swatsim_version"] = version();
  j["trace"] = r.trace;
  j["config"] = r.config;
  j["baseline"] = r.baseline;
  json units = json::object();
  for (const auto& s : r.total.stats.all())
    units[s.name] = json{{"unit", arch::to_string(s.unit)}, {"description", s.description}};
  j["stats"] = units;
  auto row_json = [](const ReportRow& row, bool per_layer) {
    json x;
    if (per_layer) {
      x["iteration"] = row.iteration;
      x["layer"] = row.layer;
      x["name"] = row.layer_name;
      x["samples"] = row.samples;
    }
    x["pass"] = row.pass;
    for (const auto& s : row.stats.all()) x[s.name] = json_value(s);
    return x;
  };
  json rows = json::array();
  for (const auto& row : r.rows) rows.push_back(row_json(row, true));
  j["rows"] = rows;
  json totals = json::array();
  for (const auto& row : r.pass_totals) totals.push_back(row_json(row, false));
  j["pass_totals"] = totals;
  j["total"] = row_json(r.total, false);
  return j;
}

void write_csv(const Report& r, std::ostream& out) {
  // First columns fixed by the issue: iteration,layer,pass,cycles,baseline_cycles,speedup.
  out << "iteration,layer,pass,cycles,baseline_cycles,speedup,name,samples";
  const char* fixed[] = {"cycles", "baseline_cycles", "speedup"};
  auto is_fixed = [&](const std::string& n) {
    for (const char* f : fixed)
      if (n == f) return true;
    return false;
  };
  for (const auto& s : r.total.stats.all())
    if (!is_fixed(s.name)) out << "," << s.name;
  out << "\n";
  for (const auto& row : r.rows) {
    out << row.iteration << "," << row.layer << "," << row.pass;
    for (const char* f : fixed) out << "," << fmt_value(*row.stats.find(f));
    out << "," << csv_field(row.layer_name) << "," << row.samples;
    for (const auto& s : row.stats.all())
      if (!is_fixed(s.name)) out << "," << fmt_value(s);
    out << "\n";
  }
}


}  // namespace swatsim::sim
