#include "swatsim/arch/memory.hpp"

#include <numeric>

namespace swatsim::arch {

UnitSchedule MemoryModel::schedule(const PassPlan& plan) {
  UnitSchedule s;
  s.units.resize(plan.units.size());
  std::iota(s.units.begin(), s.units.end(), 0u);
  s.chain_begin = s.units;
  return s;
}

const std::vector<CounterDef>& MemoryModel::counter_defs() const {
  static const std::vector<CounterDef> none;
  return none;
}

}  // namespace swatsim::arch
