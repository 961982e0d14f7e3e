#pragma once
// An accelerator's resolved configuration as plain structs (sim/config fills them from JSON).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "swatsim/arch/area.hpp"
#include "swatsim/arch/dram.hpp"
#include "swatsim/arch/energy.hpp"
#include "swatsim/arch/memory.hpp"
#include "swatsim/arch/params.hpp"
#include "swatsim/arch/pe_model.hpp"

namespace swatsim::arch {

struct AcceleratorConfig {
  std::string name = "accelerator";
  double clock_ghz = 1.0;   ///< converts cycles to seconds in reports; time inside SystemC is in cycles
  uint32_t tiles = 1;
  std::string pe_type = "tensordash";
  ParamSet pe;               ///< values for the PE type's declared parameters
  std::string memory_type = "ideal";
  ParamSet memory;
  std::vector<LevelConfig> memory_levels;  ///< a hierarchy's `levels` (empty: from its flat keys)
  std::optional<dram::Spec> dram;  ///< the DRAM behind a `hierarchy` memory
  std::string dram_preset;         ///< the preset it started from ("" for a custom set)
  ParamSet dram_params;            ///< its resolved parameters
  EnergyTable energy;              ///< prices the actions after the run (empty: no energy reported)
  AreaTable area;                  ///< prices the components' parts (empty: no area reported)
  /// The dense reference accelerator reports compare with (none: no reference); it has none itself.
  std::shared_ptr<const AcceleratorConfig> reference;
  /// Files the config's sections were read from besides the config itself (section files, the
  /// reference's, an energy table file): outputs must never overwrite them.
  std::vector<std::string> sources;
  /// Values that are valid but implausible, one line each naming the file and key (a capacity given in
  /// bytes where KiB are asked for): the commands print them as warnings.
  std::vector<std::string> warnings;
};

/// Top-level keys of an accelerator config besides the `pe` and `memory` sections.
std::vector<ParamSpec> accelerator_params();

/// Builds the PE model of a config; throws std::invalid_argument for unknown types or
/// inconsistent parameter values (the message names the parameter).
std::unique_ptr<PeModel> make_pe(const AcceleratorConfig& c);
std::unique_ptr<MemoryModel> make_memory(const AcceleratorConfig& c);

}  // namespace swatsim::arch
