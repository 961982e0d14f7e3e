#pragma once
// The levels of a `hierarchy` memory (docs/memory.md, "Levels"): between the DRAM (the accelerator's
// `dram` section) and the PE arrays lie one or more SRAM buffers (the innermost, the global buffer,
// feeds the network; an outer one, e.g. an L2, feeds the one inside it), one network and the tiles'
// buffers. Each level is a registered type (Ramulator 2 style) that declares its parameters and owns
// its counters and energy actions (Accelergy style), published under the level's name; a report and
// the energy model print and price whatever the levels publish. An L2 is a config change.
#include <string>
#include <vector>

#include "swatsim/arch/params.hpp"
#include "swatsim/arch/registry.hpp"

namespace swatsim::arch {

/// One level of the config's `levels` list: its type and its parameters' values.
struct LevelConfig {
  std::string type;
  ParamSet params;
};

class MemoryLevel;  // arch/memory/hierarchy/levels.hpp
using LevelTypeInfo = TypeInfo<MemoryLevel>;
using LevelRegistry = Registry<MemoryLevel>;
inline const LevelTypeInfo* find_level_type(const std::string& type) { return LevelRegistry::find(type); }

/// A flat key of the hierarchy memory (the form before `levels`) and the level parameter it sets.
struct FlatLevelKey {
  const char* key;         ///< e.g. "gbuf_kib"
  const char* level_type;  ///< "sram", "network" or "tile_buffers"
  const char* param;       ///< e.g. "kib"
};
/// Every flat key that the `levels` form replaces (a config gives one form or the other).
const std::vector<FlatLevelKey>& flat_level_keys();
/// The levels a hierarchy has when its config gives no `levels`: a global buffer "gbuf", a network
/// "noc" and tile buffers "tile", from the flat keys' values in `hierarchy`.
std::vector<LevelConfig> levels_from_flat(const ParamSet& hierarchy);
/// Checks the order and names of a level list: SRAM levels first (outermost first), then exactly one
/// network, then exactly one tile_buffers level; names unique and free (not "dram", "stall", "tiling",
/// "energy", ...). Throws std::invalid_argument naming the level by its index ("levels/2: ...").
void check_levels(const std::vector<LevelConfig>& levels);

}  // namespace swatsim::arch

#define SWATSIM_REGISTER_LEVEL(Class, type_name, description) \
  SWATSIM_REGISTER(::swatsim::arch::MemoryLevel, Class, type_name, description)
