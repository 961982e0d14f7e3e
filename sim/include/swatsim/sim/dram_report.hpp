#pragma once
// What a DRAM run reports (`swatsim dram --out`): requests, cycles, bandwidth, latencies, row hits,
// commands and IDD energy, with the resolved configuration. Keys are documented in docs/dram.md.
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "swatsim/arch/dram.hpp"
#include "swatsim/sim/dram_config.hpp"

namespace swatsim::sim {

/// The report of a finished System (System::finish() called).
nlohmann::ordered_json dram_report(const DramConfig& config, const arch::dram::System& system);
/// A few lines for people, from the report.
void write_dram_summary(const nlohmann::ordered_json& report, std::ostream& out);

}  // namespace swatsim::sim
