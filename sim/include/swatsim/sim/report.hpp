#pragma once
// Reports of a replay: per iteration, layer and pass, per pass and overall, as named statistics
// (name, value, unit, meaning) written by separate formatters: a text table, JSON and CSV.
// Reports are deterministic: the same inputs give byte-identical files.
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "swatsim/arch/stats.hpp"
#include "swatsim/sim/replay.hpp"

namespace swatsim::sim {

struct ReportRow {
  uint32_t iteration = 0;  ///< totals: unused
  uint32_t layer = 0;      ///< totals: unused
  std::string layer_name;  ///< totals: "total"
  std::string pass;        ///< totals of all passes: "all"
  uint32_t samples = 0;
  arch::StatSet stats;
  std::string mapping[3];  ///< the accelerator's, the baseline's and the reference's mapping (rows only)
};

struct Report {
  std::string trace;
  nlohmann::ordered_json config;    ///< resolved accelerator config
  nlohmann::ordered_json baseline;  ///< {"kind": "same hardware, sparsity off"} or a resolved config
  nlohmann::ordered_json reference; ///< null, or {"kind": ..., "config": the dense reference's resolved config}
  std::vector<ReportRow> rows;
  std::vector<ReportRow> pass_totals;
  ReportRow total;
};

/// The statistics of one row: `r` is the accelerator, `base` the baseline.
arch::StatSet row_stats(const arch::JobResult& r, const arch::JobResult& base, double clock_ghz);
Report build_report(const ReplayResult& result, const ReplayOptions& options);

void write_text(const Report& r, std::ostream& out);
nlohmann::ordered_json to_json(const Report& r);
void write_csv(const Report& r, std::ostream& out);
/// A CSV field (RFC 4180): quoted, quotes doubled, when it holds a comma, quote or newline.
std::string csv_field(const std::string& v);
/// The mappings alone (swatsim run --map-only): per row and design, the loop nest and the estimated DRAM reads.
void write_mappings(const Report& r, std::ostream& out);


}  // namespace swatsim::sim
