#pragma once
// The memory system between DRAM and the tiles (docs/memory.md). A memory model is a set of
// resources that answer "ready at which cycle" for a tile at its current time: tiles call in
// simulated-time order, so a first-come timeline per resource is exact with one wait per unit.
//
// `ideal` (operands always in place) keeps the compute-only model: the accelerator then hands units
// out exactly as before and cycle counts equal the reference simulators'. `hierarchy` adds a global
// buffer, per-tile operand buffers, a network and DRAM; a tile fetches unit k+1 while it computes k.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "swatsim/arch/area.hpp"
#include "swatsim/arch/counters.hpp"
#include "swatsim/arch/energy.hpp"
#include "swatsim/arch/layer.hpp"
#include "swatsim/arch/memory_levels.hpp"
#include "swatsim/arch/params.hpp"
#include "swatsim/arch/pe_model.hpp"
#include "swatsim/arch/registry.hpp"

namespace swatsim::arch {

namespace dram {
struct Spec;
}

/// What the memory system knows of the accelerator around it.
struct MemoryContext {
  uint32_t tiles = 1;
  double clock_ghz = 1.0;
  /// Values a tile's PE array reads per compute cycle from its scheduled and its dense operand
  /// buffer (TensorDash: rows x lanes and cols x lanes); 0 where the PE type does not say.
  uint64_t feed_values[2] = {0, 0};
  const dram::Spec* dram = nullptr;  ///< the DRAM behind the buffers (none: the model's default)
  const EnergyTable* energy = nullptr;  ///< the accelerator's energy table (a mapper's energy objective)
  uint64_t multipliers_per_tile = 0;
};

/// The order a job's units are handed out in, cut into chains. The units of a chain accumulate the
/// same results (the reduction slices of a dense fold; the samples of a weight gradient, whose
/// reduction runs over the batch): one tile runs them one after another, so their partial sums stay
/// in its PE array and the results leave once, after the chain's last unit.
struct UnitSchedule {
  std::vector<uint32_t> units;        ///< a permutation of the plan's units
  std::vector<uint32_t> chain_begin;  ///< where each chain starts in `units`, ascending, from 0
  size_t chains() const { return chain_begin.size(); }
  /// Units 0..n-1 in order, each a chain of its own.
  static UnitSchedule in_order(size_t n);
  size_t chain_end(size_t c) const { return c + 1 < chain_begin.size() ? chain_begin[c + 1] : units.size(); }
};

class MemoryModel {
public:
  virtual ~MemoryModel() = default;
  virtual const std::string& type() const = 0;
  /// True for a memory that never stalls: the accelerator keeps its compute-only hand-out.
  virtual bool ideal() const { return false; }
  /// True if a tile fetches its next unit while it computes the current one.
  virtual bool double_buffered() const { return false; }
  virtual void attach(const MemoryContext&) {}
  /// Bytes of one tile buffer a PE model may fill with one unit's operand chunk (0: no limit).
  virtual uint64_t chunk_budget_bytes() const { return 0; }
  /// Value bytes of the data type (bf16 2, fp32 4).
  virtual uint32_t value_bytes() const { return 2; }

  /// A pass of a batch starts (the plan holds every sample's units, GemmBlock::sample saying whose);
  /// `exploit` is false on a dense baseline (dense formats).
  virtual void begin_job(const PassInput&, const PassPlan&, bool /*exploit*/) {}
  /// The order the units are handed out in and its chains: the loop order. By default the plan's
  /// order, every unit a chain of its own.
  virtual UnitSchedule schedule(const PassPlan& plan);
  /// Tile `tile` starts fetching `unit`'s operands at `now`; returns the cycle they are all in its
  /// buffers.
  virtual uint64_t fetch(uint32_t /*tile*/, const WorkUnit&, uint64_t now) { return now; }
  /// The tile waited from `from` to `to` for the operands of its last fetch (stall accounting).
  virtual void stalled(uint32_t /*tile*/, uint64_t /*from*/, uint64_t /*to*/) {}
  /// Cycles to compute a unit whose PE timing is `compute` cycles, when the tile buffers must feed it.
  virtual uint64_t feed_cycles(const WorkUnit&, uint64_t compute) { return compute; }
  /// The unit's results leave the tile at `now` (posted); returns the cycle its output buffer can
  /// take the next unit's results.
  virtual uint64_t write(uint32_t /*tile*/, const WorkUnit&, uint64_t now) { return now; }
  /// The tiles are done at `now`; returns the cycle the last result is in DRAM.
  virtual uint64_t end_job(uint64_t now) { return now; }

  /// The last job's mapping as a readable loop nest ("": this model maps nothing).
  virtual std::string mapping() const { return {}; }
  /// Counters this model keeps (the same list for every job) and their values for the last job.
  virtual const std::vector<CounterDef>& counter_defs() const;
  virtual std::vector<double> job_counters() const { return {}; }
  /// The energy actions its components publish, counted by counters of counter_defs().
  virtual std::vector<EnergyAction> energy_actions() const { return {}; }
  /// The on-chip area its components publish for `tiles` tiles (DRAM is off chip; ideal memory: none).
  virtual std::vector<AreaItem> area_items(const AreaTable& /*table*/, uint32_t /*tiles*/) const { return {}; }
  /// The levels between DRAM and the PE arrays, set once before use (a model without levels refuses
  /// a non-empty list with std::invalid_argument).
  virtual void set_levels(const std::vector<LevelConfig>& levels);
};

using MemoryTypeInfo = TypeInfo<MemoryModel>;
using MemoryRegistry = Registry<MemoryModel>;
inline const auto& memory_types() { return MemoryRegistry::types(); }
inline const MemoryTypeInfo* find_memory_type(const std::string& type) { return MemoryRegistry::find(type); }

}  // namespace swatsim::arch

#define SWATSIM_REGISTER_MEMORY(Class, type_name, description) \
  SWATSIM_REGISTER(::swatsim::arch::MemoryModel, Class, type_name, description)
