#include "swatsim/arch/pe_model.hpp"

#include <cassert>
#include <stdexcept>

#include "swatsim/arch/config.hpp"
#include "swatsim/arch/memory.hpp"

namespace swatsim::arch {

Segment Segment::constant(uint64_t cycles, size_t states) {
  Segment s;
  s.cost.assign(states, cycles);
  s.out.resize(states);
  for (size_t k = 0; k < states; ++k) s.out[k] = uint8_t(k);
  return s;
}

Segment Segment::then(const Segment& next) const {
  assert(cost.size() == next.cost.size());
  Segment r;
  r.cost.resize(cost.size());
  r.out.resize(cost.size());
  for (size_t k = 0; k < cost.size(); ++k) {
    r.cost[k] = cost[k] + next.cost[out[k]];
    r.out[k] = next.out[out[k]];
  }
  return r;
}

Segment Segment::repeat(uint64_t n) const {
  assert(n >= 1);
  // Binary powering: O(states * log n).
  Segment result = *this, base = *this;
  uint64_t rest = n - 1;
  while (rest) {
    if (rest & 1) result = result.then(base);
    rest >>= 1;
    if (rest) base = base.then(base);
  }
  return result;
}

uint64_t PassPlan::serial_cycles() const {
  uint64_t total = 0;
  uint8_t state = 0;
  for (const auto& u : units) {
    const Segment& s = segments[u.segment];
    total += s.cost[state];
    state = s.out[state];
  }
  return total;
}

std::vector<ParamSpec> accelerator_params() {
  return {
      ParamSpec::real("clock_ghz", "clock frequency; converts cycles to seconds in reports", 1.0, 0.001,
                      100.0),
      ParamSpec::integer("tiles", "number of PE-array tiles the controller spreads work units over",
                         1, 1, 4096),
  };
}

std::unique_ptr<PeModel> make_pe(const AcceleratorConfig& c) {
  const PeTypeInfo* info = find_pe_type(c.pe_type);
  if (!info) throw std::invalid_argument("unknown PE type '" + c.pe_type + "'");
  return info->create(c.pe);
}

std::unique_ptr<MemoryModel> make_memory(const AcceleratorConfig& c) {
  const MemoryTypeInfo* info = find_memory_type(c.memory_type);
  if (!info) throw std::invalid_argument("unknown memory type '" + c.memory_type + "'");
  std::unique_ptr<MemoryModel> m = info->create(c.memory);
  m->set_levels(c.memory_levels);
  return m;
}

}  // namespace swatsim::arch
