#include "swatsim/arch/memory.hpp"

#include <numeric>
#include <stdexcept>

namespace swatsim::arch {

UnitSchedule UnitSchedule::in_order(size_t n) {
  UnitSchedule s;
  s.units.resize(n);
  std::iota(s.units.begin(), s.units.end(), 0u);
  s.chain_begin = s.units;
  return s;
}

UnitSchedule MemoryModel::schedule(const PassPlan& plan) { return UnitSchedule::in_order(plan.units.size()); }

void MemoryModel::set_levels(const std::vector<LevelConfig>& levels) {
  if (!levels.empty()) throw std::invalid_argument("levels: memory type \"" + type() + "\" has no levels (a \"hierarchy\" has)");
}

const std::vector<CounterDef>& MemoryModel::counter_defs() const {
  static const std::vector<CounterDef> none;
  return none;
}

}  // namespace swatsim::arch
