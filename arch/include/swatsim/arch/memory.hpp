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

struct MemoryTypeInfo {
  std::string type;
  std::string description;
  std::vector<ParamSpec> params;
  std::function<std::unique_ptr<MemoryModel>(const ParamSet&)> create;
};

const std::map<std::string, MemoryTypeInfo>& memory_types();
const MemoryTypeInfo* find_memory_type(const std::string& type);

struct MemoryRegistrar {
  explicit MemoryRegistrar(MemoryTypeInfo info);
};

}  // namespace swatsim::arch

#define SWATSIM_REGISTER_MEMORY(Class, type_name, description)                                 \
  static ::swatsim::arch::MemoryRegistrar SWATSIM_ARCH_CONCAT(swatsim_mem_registrar_, __LINE__)( \
      ::swatsim::arch::MemoryTypeInfo{type_name, description, Class::params(),                 \
                                      [](const ::swatsim::arch::ParamSet& p) {                 \
                                        return std::unique_ptr<::swatsim::arch::MemoryModel>( \
                                            new Class(p));                                     \
                                      }})
