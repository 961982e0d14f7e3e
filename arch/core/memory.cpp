#include "swatsim/arch/memory.hpp"

#include <numeric>

namespace swatsim::arch {

std::vector<uint32_t> MemoryModel::order(const PassPlan& plan) {
  std::vector<uint32_t> o(plan.units.size());
  std::iota(o.begin(), o.end(), 0u);
  return o;
}

const std::vector<CounterDef>& MemoryModel::counter_defs() const {
  static const std::vector<CounterDef> none;
  return none;
}

}  // namespace swatsim::arch
