#include <cmath>
#include "swatsim/sim/report.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <ostream>

#include <fmt/format.h>

#include "swatsim/common/error.hpp"
#include "swatsim/arch/energy.hpp"
#include "swatsim/sim/config.hpp"
#include "swatsim/sim/version.hpp"

namespace swatsim::sim {

using json = nlohmann::ordered_json;
using arch::Unit;

namespace {
/// What the report needs to know of one accelerator besides its results.
struct Side {
  arch::AcceleratorConfig config;
  bool exploit = true;
  std::unique_ptr<arch::PeModel> pe;
  std::unique_ptr<arch::MemoryModel> memory;
  explicit Side(const arch::AcceleratorConfig& c, bool exploit_sparsity)
      : config(c), exploit(exploit_sparsity), pe(arch::make_pe(c)), memory(arch::make_memory(c)) {}
  arch::StatSet energy(const arch::JobResult& r) const {
    if (config.energy.actions.empty()) return {};
    arch::EnergyCounts e;
    e.macs_effectual = r.macs_effectual;
    e.macs_mapped = r.macs_mapped;
    e.macs_dense = r.macs_dense;
    e.macs_issued = r.macs_issued;
    e.macs_nonzero = r.macs_nonzero;
    e.zero_gating = exploit && pe->zero_gating();
    e.busy_cycles = r.busy_cycles;
    e.cycles = r.cycles;
    e.tiles = config.tiles;
    e.multipliers_per_tile = pe->macs_per_cycle();
    e.control = pe->control_shape();
    e.sparse_control = exploit && e.control.schedulers > 0;
    e.value_bytes = memory->value_bytes();
    e.memory_defs = &memory->counter_defs();
    e.memory = &r.memory;
    e.memory_actions = memory->energy_actions();
    return arch::energy_stats(config.energy, e);
  }
  /// The design's area by component (the same for every row): what the PE arrays and the memory's
  /// components publish, priced by the area table.
  std::vector<arch::AreaItem> area() const {
    if (config.area.components.empty()) return {};
    std::vector<arch::AreaItem> items = arch::pe_area(config.area, *pe, config.tiles, memory->value_bytes());
    for (auto& x : memory->area_items(config.area, config.tiles)) items.push_back(std::move(x));
    return items;
  }
};

double find(const arch::StatSet& s, const char* name) {
  const arch::Stat* x = s.find(name);
  return x ? x->value : 0.0;
}
}  // namespace

arch::StatSet row_stats(const arch::JobResult& r, const arch::JobResult& b, double clock_ghz) {
  arch::StatSet s;
  const double speedup = r.cycles ? double(b.cycles) / double(r.cycles) : 0.0;
  s.add("cycles", double(r.cycles), Unit::Cycles, "accelerator cycles of the batch (ideal memory: samples one after another; a hierarchy: one GEMM over the batch)");
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
        "sum over tiles of cycles stalled by the memory system (0 with ideal memory; causes under stall.*)");
  s.add("pe.row_imbalance_cycles", r.row_idle_cycles, Unit::Cycles,
        "cycles a PE row (two-sided: a PE) idled while another of its array worked, averaged over rows");
  s.add("work_units", double(r.units), Unit::Count, "work units the controller handed out");
  // A fairer dense baseline for strided layers' input gradient: one that does not multiply the zeros
  // the dilated mapping inserts (docs/pe-models.md). Its cycles scale by the real share of the mapped
  // MACs (1 for forward and weight gradient).
  const double real_share = b.macs_mapped ? double(b.macs_dense) / double(b.macs_mapped) : 1.0;
  const double fair = double(b.cycles) * real_share;
  s.add("baseline_cycles_without_inserted_zeros", fair, Unit::Cycles,
        "baseline_cycles x dense MACs / mapped MACs: a dense baseline that skips the input gradient's inserted zeros");
  s.add("speedup_without_inserted_zeros", r.cycles ? fair / double(r.cycles) : 0.0, Unit::Ratio,
        "baseline_cycles_without_inserted_zeros / cycles: the speedup that remains without skipping inserted zeros");
  return s;
}

namespace {
/// Everything one row reports: the compute stats, the memory model's counters, derived memory
/// figures and energy of both sides.
arch::StatSet full_row_stats(const arch::JobResult& r, const arch::JobResult& b, const Side& acc, const Side& base) {
  arch::StatSet s = row_stats(r, b, acc.config.clock_ghz);
  if (acc.exploit && acc.pe->zero_gating())
    s.add("macs.nonzero", double(r.macs_nonzero), Unit::Macs,
          "MACs with both operands non-zero: what this zero-gated array multiplies (the rest of macs.issued is clocked)");
  const auto& defs = acc.memory->counter_defs();
  for (size_t i = 0; i < defs.size(); ++i)
    s.add(defs[i].name, i < r.memory.size() ? r.memory[i] : 0.0, defs[i].unit, defs[i].description);
  if (!defs.empty()) {
    const double bytes = find(s, "dram.read_bytes") + find(s, "dram.write_bytes");
    const double per_cycle = r.cycles ? bytes / double(r.cycles) : 0.0;
    s.add("dram.bandwidth_bytes_per_cycle", per_cycle, Unit::BytesPerCycle, "DRAM bytes moved per accelerator cycle (achieved)");
    s.add("dram.bandwidth_gb_per_s", per_cycle * acc.config.clock_ghz, Unit::GigabytesPerSecond,
          "achieved DRAM bandwidth at the configured clock");
    // Roofline: memory-bound if moving the DRAM bytes at peak bandwidth takes longer than the
    // tiles' compute with perfect balance.
    const double compute = double(r.busy_cycles) / double(std::max<uint32_t>(1, acc.config.tiles));
    s.add("roofline.compute_cycles", compute, Unit::Cycles, "tiles.busy_cycles / tiles (compute time, perfectly balanced)");
    s.add("roofline.memory_bound", find(s, "dram.peak_cycles") > compute ? 1.0 : 0.0, Unit::Count,
          "1 if dram.peak_cycles exceeds roofline.compute_cycles (memory-bound), else 0");
  }
  const arch::StatSet e = acc.energy(r), eb = base.energy(b);
  for (const auto& x : e.all()) s.add(x.name, x.value, x.unit, x.description);
  if (const auto items = acc.area(); !items.empty()) {
    double total = 0, tiles = 0, control = 0;
    for (const auto& x : items) {
      s.add(x.stat, x.um2 * 1e-6, Unit::SquareMillimeters, x.description);
      total += x.um2;
      if (x.stat == "area.pe_control_mm2") control = x.um2;
      // a tile: its multipliers, its sparse support and its own buffers
      const std::string buffers = "_buffers_mm2";
      if (x.stat == "area.multipliers_mm2" || x.stat == "area.pe_control_mm2" ||
          (x.stat.size() > buffers.size() && x.stat.compare(x.stat.size() - buffers.size(), buffers.size(), buffers) == 0))
        tiles += x.um2;
    }
    s.add("area.total_mm2", total * 1e-6, Unit::SquareMillimeters, "sum of the components above (DRAM is off chip)");
    s.add("area.sparse_support_overhead", tiles > control ? control / (tiles - control) : 0.0, Unit::Ratio,
          "area.pe_control_mm2 over the rest of the tiles (multipliers and tile buffers): what sparse support adds to a "
          "tile of the same array without it (TensorDash, MICRO 2020: under 5%)");
    const double seconds = double(r.cycles) / (acc.config.clock_ghz * 1e9);
    s.add("throughput_per_mm2", seconds > 0 && total > 0 ? double(r.macs_dense) / seconds / 1e9 / (total * 1e-6) : 0.0,
          Unit::GigamacsPerSecondPerMm2, "macs.dense / time / area.total_mm2: the layer's work per second per mm^2, in GMAC");
  }
  if (!e.all().empty()) {
    const double total = find(e, "energy.total_pj"), btotal = find(eb, "energy.total_pj");
    s.add("baseline.energy.total_pj", btotal, Unit::PicoJoules, "the baseline's energy for the same work (same table)");
    s.add("baseline.energy.dram_pj", find(eb, "energy.dram_pj"), Unit::PicoJoules, "the baseline's DRAM energy");
    s.add("energy_efficiency", total > 0 ? btotal / total : 0.0, Unit::Ratio, "baseline energy / energy");
    const double edp = total * double(r.cycles), bedp = btotal * double(b.cycles);
    s.add("edp_gain", edp > 0 ? bedp / edp : 0.0, Unit::Ratio, "baseline energy-delay product / energy-delay product");
  }
  return s;
}

/// An accelerator's own statistics in a row (what full_row_stats reports of the accelerator, without
/// anything relative to another design), each name prefixed with `prefix`.
void add_own_stats(arch::StatSet& into, const std::string& prefix, const arch::JobResult& r, const Side& side,
                   const std::string& whose) {
  static const std::vector<std::string> relative = {"baseline_cycles", "speedup", "baseline_cycles_without_inserted_zeros",
                                                    "speedup_without_inserted_zeros", "energy_efficiency", "edp_gain"};
  const arch::StatSet own = full_row_stats(r, r, side, side);
  for (const auto& x : own.all()) {
    if (x.name.rfind("baseline.", 0) == 0 || std::find(relative.begin(), relative.end(), x.name) != relative.end())
      continue;
    if (into.find(prefix + x.name)) continue;  // reported already under this name
    into.add(prefix + x.name, x.value, x.unit, whose + ": " + x.description);
  }
}

/// Every row: the accelerator's statistics, its comparison with the baseline, the baseline's own
/// statistics (baseline.*), and with a reference its comparison with it and its statistics
/// (reference.*), so that a speedup below 1 can be explained from the row alone.
arch::StatSet report_row_stats(const arch::JobResult& r, const arch::JobResult& b, const arch::JobResult& ref,
                               const Side& acc, const Side& base, const Side* reference) {
  arch::StatSet s = full_row_stats(r, b, acc, base);
  s.add("baseline.cycles", double(b.cycles), Unit::Cycles, "the baseline: cycles for the same work (= baseline_cycles)");
  add_own_stats(s, "baseline.", b, base, "the baseline");
  if (reference) {
    s.add("reference_speedup", r.cycles ? double(ref.cycles) / double(r.cycles) : 0.0, Unit::Ratio,
          "reference.cycles / cycles: the speedup over the dense reference accelerator");
    const arch::StatSet e = acc.energy(r), er = reference->energy(ref);
    if (!e.all().empty()) {
      const double total = find(e, "energy.total_pj"), rtotal = find(er, "energy.total_pj");
      s.add("reference_energy_efficiency", total > 0 ? rtotal / total : 0.0, Unit::Ratio,
            "reference energy / energy (one table prices both)");
    }
    add_own_stats(s, "reference.", ref, *reference, "the dense reference");
    const double area = find(s, "area.total_mm2"), rarea = find(s, "reference.area.total_mm2");
    if (area > 0 && rarea > 0)
      s.add("reference_speedup_per_area", r.cycles ? double(ref.cycles) * rarea / (double(r.cycles) * area) : 0.0, Unit::Ratio,
            "reference_speedup x reference area / area: the speedup at equal area (throughput_per_mm2 over the reference's)");
  }
  return s;
}
}  // namespace

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
  const Side acc(o.config, true);
  arch::AcceleratorConfig base_config = o.baseline ? *o.baseline : o.config;
  base_config.energy = o.config.energy;  // one table prices both sides
  base_config.area = o.config.area;
  const Side base(base_config, o.baseline ? o.baseline_sparsity : false);
  std::unique_ptr<Side> ref;
  if (o.reference) {
    arch::AcceleratorConfig ref_config = *o.reference;
    ref_config.energy = o.config.energy;
    ref_config.area = o.config.area;
    ref_config.reference.reset();
    ref = std::make_unique<Side>(ref_config, false);
    rep.reference = json{{"kind", "dense reference accelerator, every operand dense"}, {"config", to_json(ref_config)}};
  }
  rep.config.erase("reference");  // reported once, as "reference" beside "baseline"
  struct Sums {
    arch::JobResult acc, base, ref;
    void add(const ReplayRow& row) {
      accumulate(acc, row.result);
      accumulate(base, row.baseline);
      accumulate(ref, row.reference);
    }
  };
  std::map<int, Sums> by_pass;
  Sums all;
  auto stats = [&](const arch::JobResult& r, const arch::JobResult& b, const arch::JobResult& x) {
    return report_row_stats(r, b, x, acc, base, ref.get());
  };
  for (const auto& row : res.rows) {
    ReportRow r;
    r.iteration = row.iteration;
    r.layer = row.layer;
    r.layer_name = row.layer_name;
    r.pass = arch::to_string(row.pass);
    r.samples = row.samples;
    r.stats = stats(row.result, row.baseline, row.reference);
    r.mapping[0] = row.result.mapping;
    r.mapping[1] = row.baseline.mapping;
    r.mapping[2] = row.reference.mapping;
    rep.rows.push_back(std::move(r));
    by_pass[int(row.pass)].add(row);
    all.add(row);
  }
  for (const auto& [pass, v] : by_pass) {
    ReportRow r;
    r.layer_name = "total";
    r.pass = arch::to_string(arch::Pass(pass));
    r.stats = stats(v.acc, v.base, v.ref);
    rep.pass_totals.push_back(std::move(r));
  }
  rep.total.layer_name = "total";
  rep.total.pass = "all";
  rep.total.stats = stats(all.acc, all.base, all.ref);
  if (o.map_only) {  // no cycle was simulated: only the mapper's figures mean anything
    auto keep_mapping = [](arch::StatSet& s) {
      arch::StatSet kept;
      for (const auto& x : s.all())
        if (x.name.find("tiling.") != std::string::npos) kept.add(x.name, x.value, x.unit, x.description);
      s = std::move(kept);
    };
    for (auto& r : rep.rows) keep_mapping(r.stats);
    for (auto& r : rep.pass_totals) keep_mapping(r.stats);
    keep_mapping(rep.total.stats);
  }
  // Finite by construction (the configs' ranges); should a number still not be, the report says
  // which instead of writing null into a table.
  auto check = [&](const ReportRow& r) {
    for (const auto& x : r.stats.all())
      if (!std::isfinite(x.value))
        throw InputError(o.trace, fmt::format("{} {}, {}: {} is not a finite number ({}): a value of the configs is out of "
                                              "any meaningful range",
                                              r.layer_name == "total" ? std::string("total") : fmt::format("layer {}", r.layer),
                                              r.layer_name, r.pass, x.name, x.value));
  };
  for (const auto& r : rep.rows) check(r);
  for (const auto& r : rep.pass_totals) check(r);
  check(rep.total);
  return rep;
}

namespace {
// Units whose values are whole numbers (cycles, MACs, bytes, counts); the others are reals.
bool counts_whole(Unit u) {
  return u == Unit::Cycles || u == Unit::Macs || u == Unit::Count || u == Unit::Bytes;
}
std::string fmt_value(const arch::Stat& s) {
  if (s.unit == Unit::Ratio) return fmt::format("{:.6f}", s.value);
  if (s.unit == Unit::Seconds) return fmt::format("{:.9e}", s.value);
  if (s.name == "pe.row_imbalance_cycles") return fmt::format("{:.2f}", s.value);
  if (!counts_whole(s.unit) || std::floor(s.value) != s.value) return fmt::format("{:.4f}", s.value);
  return fmt::format("{:.0f}", s.value);
}
// Counts (cycles, MACs, units) are whole numbers and appear in JSON as integers.
json json_value(const arch::Stat& s) {
  const bool whole = counts_whole(s.unit) && s.value >= 0 && s.value < 9.0e18 && std::floor(s.value) == s.value;
  return whole ? json(uint64_t(s.value)) : json(s.value);
}
}  // namespace

std::string csv_field(const std::string& v) {
  if (v.find_first_of(",\"\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

namespace {
/// The text table: a chosen subset of the stats (every stat is in JSON and CSV).
struct TextColumn {
  const char* header;
  const char* stat;
  int width;
  int decimals;
  double scale;
};
const TextColumn kTextColumns[] = {
    {"cycles", "cycles", 14, 0, 1},
    {"baseline", "baseline_cycles", 14, 0, 1},
    {"speedup", "speedup", 8, 3, 1},
    {"vs-ref", "reference_speedup", 8, 3, 1},
    {"util", "utilization", 6, 3, 1},
    {"row-imbal", "pe.row_imbalance_cycles", 12, 0, 1},
    {"tile-wait", "tiles.wait_cycles", 12, 0, 1},
    {"mem-stall", "tiles.memory_wait_cycles", 12, 0, 1},
    {"DRAM-MB", "dram.read_bytes", 9, 2, 1e-6},
    {"uJ", "energy.total_pj", 10, 2, 1e-6},
    {"E-eff", "energy_efficiency", 7, 3, 1},
};
}  // namespace

void write_text(const Report& r, std::ostream& out) {
  out << fmt::format("swatsim {} replay of {} on '{}' ({} x {}, memory {}), baseline: {}\n\n", version(), r.trace,
                     r.config["name"].get<std::string>(), r.config["tiles"].get<uint32_t>(),
                     r.config["pe"]["type"].get<std::string>(), r.config["memory"]["type"].get<std::string>(),
                     r.baseline.contains("config") ? r.baseline["config"]["name"].get<std::string>()
                                                   : r.baseline["kind"].get<std::string>());
  std::string header = fmt::format("{:>5} {:>5} {:<20} {:<12}", "iter", "layer", "name", "pass");
  for (const auto& c : kTextColumns) header += fmt::format(" {:>{}}", c.header, c.width);
  out << header << "\n";
  auto line = [&](const std::string& it, const std::string& layer, const ReportRow& row) {
    std::string l = fmt::format("{:>5} {:>5} {:<20} {:<12}", it, layer, row.layer_name.substr(0, 20), row.pass);
    for (const auto& c : kTextColumns) {
      const arch::Stat* st = row.stats.find(c.stat);
      l += st ? fmt::format(" {:>{}.{}f}", st->value * c.scale, c.width, c.decimals) : fmt::format(" {:>{}}", "-", c.width);
    }
    out << l << "\n";
  };
  for (const auto& row : r.rows) line(std::to_string(row.iteration), std::to_string(row.layer), row);
  out << std::string(header.size(), '-') << "\n";
  for (const auto& row : r.pass_totals) line("", "", row);
  line("", "", r.total);
  out << "\ncycles: accelerator cycles; baseline: baseline cycles for the same work; speedup = baseline / cycles;\n"
         "vs-ref: the dense reference accelerator's cycles / cycles ('-': no reference);\n"
         "util: effectual MACs / (cycles x tiles x multipliers per tile); row-imbal: cycles a PE row idled while\n"
         "another row of its array worked (averaged over rows); tile-wait: cycles tiles idled while another tile\n"
         "still worked (summed over tiles); mem-stall: cycles tiles stalled on the memory system (summed over tiles);\n"
         "DRAM-MB: megabytes read from DRAM; uJ: energy in microjoules; E-eff: baseline energy / energy.\n"
         "'-': not modelled by this memory type. Every statistic, with unit and meaning: --out REPORT.json (or --csv).\n";
}

void write_mappings(const Report& r, std::ostream& out) {
  out << fmt::format("swatsim {} mappings of {} on '{}' (the mapper's choice per layer and pass; no cycle simulated)\n\n",
                     version(), r.trace, r.config["name"].get<std::string>());
  const char* who[3] = {"accelerator", "baseline", "reference"};
  const char* estimate[3] = {"tiling.estimated_dram_read_bytes", "baseline.tiling.estimated_dram_read_bytes",
                             "reference.tiling.estimated_dram_read_bytes"};
  for (const auto& row : r.rows) {
    out << fmt::format("iteration {} layer {} {} {}\n", row.iteration, row.layer, row.layer_name, row.pass);
    for (int d = 0; d < 3; ++d) {
      if (row.mapping[d].empty()) continue;
      const arch::Stat* e = row.stats.find(estimate[d]);
      out << fmt::format("  {:<11} {:>14} B  {}\n", who[d], e ? fmt::format("{:.0f}", e->value) : "-", row.mapping[d]);
    }
  }
  out << "\nB: the mapper's estimate of the DRAM bytes read (LRU over the unit order, no timing); ideal memory "
         "maps nothing.\n";
}

json to_json(const Report& r) {
  json j;
  j["swatsim_version"] = version();
  j["trace"] = r.trace;
  j["config"] = r.config;
  j["baseline"] = r.baseline;
  if (!r.reference.is_null()) j["reference"] = r.reference;
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
    if (per_layer && !row.mapping[0].empty()) {
      json m = {{"accelerator", row.mapping[0]}, {"baseline", row.mapping[1]}};
      if (!row.mapping[2].empty()) m["reference"] = row.mapping[2];
      x["mapping"] = m;
    }
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
  const bool simulated = r.total.stats.find("cycles") != nullptr;  // not with --map-only
  out << (simulated ? "iteration,layer,pass,cycles,baseline_cycles,speedup,name,samples" : "iteration,layer,pass,name,samples");
  std::vector<const char*> fixed;
  if (simulated) fixed = {"cycles", "baseline_cycles", "speedup"};
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
