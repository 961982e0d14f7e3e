#pragma once
// The memory system between the controller and the tiles. Only `ideal` exists now (operands are
// always there); buffers and DRAM come with the memory-system issue and register the same way.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "swatsim/arch/params.hpp"
#include "swatsim/arch/pe_model.hpp"

namespace swatsim::arch {

class MemoryModel {
public:
  virtual ~MemoryModel() = default;
  virtual const std::string& type() const = 0;
  /// Cycles a tile waits for the operands of `unit` before it can compute it.
  virtual uint64_t operand_wait_cycles(const PassPlan& plan, const WorkUnit& unit) = 0;
};

using MemoryTypeInfo = TypeInfo<MemoryModel>;
using MemoryRegistry = Registry<MemoryModel>;
inline const auto& memory_types() { return MemoryRegistry::types(); }
inline const MemoryTypeInfo* find_memory_type(const std::string& type) { return MemoryRegistry::find(type); }

}  // namespace swatsim::arch

#define SWATSIM_REGISTER_MEMORY(Class, type_name, description) \
  SWATSIM_REGISTER(::swatsim::arch::MemoryModel, Class, type_name, description)
