#pragma once
// Named counters a component keeps per job (gem5 / DRAMSys style: the component declares each
// statistic once, with its unit and meaning, and reports walk the list). Adding a statistic touches
// the component's file only.
#include <cstdint>
#include <string>
#include <vector>

#include "swatsim/arch/stats.hpp"

namespace swatsim::arch {

struct CounterDef {
  std::string name;  ///< path under the component, e.g. "dram.read_bytes"
  Unit unit = Unit::Count;
  std::string description;
};

/// Values by the index of their CounterDef.
using CounterValues = std::vector<double>;

}  // namespace swatsim::arch
