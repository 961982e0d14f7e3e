// memory type `ideal`: every operand is in place when a tile wants it (no stalls, no traffic).
#include "swatsim/arch/memory.hpp"

namespace swatsim::arch {
namespace {

class IdealMemory final : public MemoryModel {
public:
  explicit IdealMemory(const ParamSet&) {}
  static std::vector<ParamSpec> params() { return {}; }
  const std::string& type() const override {
    static const std::string t = "ideal";
    return t;
  }
  bool ideal() const override { return true; }
};

}  // namespace
SWATSIM_REGISTER_MEMORY(IdealMemory, "ideal", "operands are always in place; no memory stalls, no traffic");
}  // namespace swatsim::arch
