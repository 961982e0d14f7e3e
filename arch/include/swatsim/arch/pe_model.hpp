#pragma once
// The interface every PE type implements, and the registry that maps `pe.type` to a factory.
// A PE type lives in its own folder under arch/pe/ and registers itself with SWATSIM_REGISTER_PE;
// adding one touches no other file (arch is linked whole-archive so the registrars survive).
#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "swatsim/arch/layer.hpp"
#include "swatsim/arch/operand_blocks.hpp"
#include "swatsim/arch/params.hpp"
#include "swatsim/arch/registry.hpp"

namespace swatsim::arch {

/// The cycle cost of a stretch of work as a function of the PE state carried into it (for
/// TensorDash: the count of consecutive skipped steps, 0..H). cost[k] is the cycles when entering
/// in state k, out[k] the state left behind. A stateless model has one state.
struct Segment {
  std::vector<uint64_t> cost;
  std::vector<uint8_t> out;
  static Segment constant(uint64_t cycles, size_t states = 1);
  /// This segment followed by `next`.
  Segment then(const Segment& next) const;
  /// This segment `n` times in a row (n >= 1).
  Segment repeat(uint64_t n) const;
};

/// The unit of work the controller hands to one tile.
struct WorkUnit {
  uint32_t segment = 0;           ///< index into PassPlan::segments
  uint64_t macs_effectual = 0;    ///< as the model defines them (docs/pe-models.md)
  uint64_t row_idle = 0;          ///< PE-row-cycles a row idled while another in its array worked
  GemmBlock block;                ///< the part of the pass's GEMM it covers (what it reads and writes)
};

/// One pass of one sample, cut into work units in the model's order.
struct PassPlan {
  uint32_t states = 1;  ///< number of PE states (Segment sizes)
  std::vector<Segment> segments;
  std::vector<WorkUnit> units;
  uint64_t macs_dense = 0;      ///< the dense GEMM's MACs
  uint32_t row_divisor = 1;     ///< rows per array: row_idle / row_divisor is in cycles
  /// Sum of every unit's cost when one tile runs them all in order (state 0 at the start).
  uint64_t serial_cycles() const;
};

/// MACs of one sample's pass whose operands are both non-zero: what a zero-gated array multiplies
/// (counted from the masks by the two-sided PE's intersection, arch/pe/two_sided).
uint64_t nonzero_pair_macs(const PassInput& in);

class PeModel {
public:
  virtual ~PeModel() = default;
  virtual const std::string& type() const = 0;
  /// Multipliers in one tile (peak MACs per cycle per tile).
  virtual uint64_t macs_per_cycle() const = 0;
  /// Cuts one pass of one sample into work units. With exploit_sparsity false the same hardware
  /// treats every operand as dense (the default baseline). A pass without MACs (a zero-sized
  /// dimension) gives a plan with no units.
  virtual PassPlan plan(const PassInput& in, bool exploit_sparsity) const = 0;
  /// The tiles the plans are spread over: a model cuts its work finer (never changing the one-tile
  /// order or total) so that there are about kUnitsPerTile units per tile where it can.
  void set_tiles(uint32_t tiles) { tiles_ = tiles ? tiles : 1; }
  uint32_t tiles() const { return tiles_; }
  /// Bytes a tile buffer holds for the operand chunk of one unit (0: no limit, the compute-only
  /// model): a model cuts its chunks so that their dense size fits (never changing one-tile cycles).
  void set_chunk_budget(uint64_t bytes, uint32_t value_bytes) {
    chunk_budget_ = bytes;
    value_bytes_ = value_bytes ? value_bytes : 1;
  }
  /// Sparse-control hardware of one tile, for energy: schedulers (priced per active cycle each) and
  /// multiplexed multiplier lanes. A dense array has none.
  struct ControlShape {
    uint64_t schedulers = 0, mux_lanes = 0;
  };
  virtual ControlShape control_shape() const { return {}; }
  /// True for a dense array that gates a MAC with a zero operand (clocks the slot, multiplies
  /// nothing): energy only, its cycles are a dense array's.
  virtual bool zero_gating() const { return false; }
  /// Values the array reads per compute cycle from its scheduled (0) and dense (1) operand buffer.
  virtual std::array<uint64_t, 2> feed_values() const { return {0, 0}; }
  static constexpr uint32_t kUnitsPerTile = 4;

  /// How many contiguous chunks to cut `inner` items into when there are `outer` units otherwise
  /// (1 when there is no work: `outer` or `inner` 0).
  uint32_t splits(uint64_t outer, uint64_t inner) const {
    const uint64_t want = uint64_t(tiles_) * kUnitsPerTile;
    if (outer == 0 || outer >= want || inner <= 1) return 1;
    const uint64_t s = (want + outer - 1) / outer;
    return uint32_t(s < inner ? s : inner);
  }

protected:
  /// How many chunks to cut `items` items (each `item_values` values dense) into: at least `want`,
  /// and enough that no chunk's dense bytes exceed the chunk budget (one item at least per chunk).
  uint32_t budget_splits(uint32_t want, uint64_t items, uint64_t item_values) const {
    if (chunk_budget_ == 0 || items == 0) return want;
    const uint64_t per = std::max<uint64_t>(1, chunk_budget_ / std::max<uint64_t>(1, item_values * value_bytes_));
    const uint64_t need = (items + per - 1) / per;
    return uint32_t(std::max<uint64_t>(want, std::min<uint64_t>(need, items)));
  }

private:
  uint32_t tiles_ = 1;
  uint64_t chunk_budget_ = 0;
  uint32_t value_bytes_ = 2;
};

using PeTypeInfo = TypeInfo<PeModel>;
using PeRegistry = Registry<PeModel>;
inline const auto& pe_types() { return PeRegistry::types(); }
inline const PeTypeInfo* find_pe_type(const std::string& type) { return PeRegistry::find(type); }

}  // namespace swatsim::arch

#define SWATSIM_REGISTER_PE(Class, type_name, description) \
  SWATSIM_REGISTER(::swatsim::arch::PeModel, Class, type_name, description)
