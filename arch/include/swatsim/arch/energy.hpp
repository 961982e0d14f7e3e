#pragma once
// Energy after the run (Accelergy style, docs/energy.md): components count actions, a table gives
// each action's energy with its unit and source, and energy = counts x table. A new technology node
// is a new table (or the scaling rule), not a new simulation.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "swatsim/arch/counters.hpp"
#include "swatsim/arch/pe_model.hpp"
#include "swatsim/arch/stats.hpp"

namespace swatsim::arch {

struct EnergyEntry {
  double pj = 0;        ///< at the table's node and voltage
  std::string source;
};

struct EnergyTable {
  std::string name;
  std::string origin;  ///< a built-in table's name or the absolute path of the file (binds again)
  double node_nm = 45, voltage = 0.9;             ///< where the entries were measured
  double target_node_nm = 45, target_voltage = 0.9;  ///< where they are used (the scaling rule)
  std::map<std::string, EnergyEntry> actions;     ///< "mac.bf16", "noc.byte_hop", ...
  std::vector<std::pair<double, double>> sram_points;  ///< (bytes, pJ per 64-bit access), sorted
  std::string sram_source;
  /// Constant-field scaling (docs/energy.md): switching energy ~ C V^2 with C ~ feature size, so
  /// E(node, V) = E x (node / node_table) x (V / V_table)^2. DRAM energy comes from the DRAM model.
  double scale() const;
  /// pJ of one action at the target node; an action the table lacks is a bug in the table (throws).
  double pj(const std::string& action) const;
  /// pJ per byte read or written of an SRAM of `bytes` capacity (log-log interpolation, scaled).
  double sram_pj_per_byte(uint64_t bytes) const;
};

/// The actions the table must price (checked when a table is loaded).
const std::vector<std::string>& energy_actions();

/// An energy action a component publishes (Accelergy style): the counter that counts it and how the
/// table prices one count. Actions with the same `stat` add up in that statistic.
struct EnergyAction {
  enum class Price : uint8_t {
    TableAction,  ///< count x the table's entry `action` (e.g. noc.byte_hop per byte-hop)
    SramByte,     ///< bytes x the table's SRAM rule for a capacity of `sram_bytes`
    PicoJoules,   ///< the counter is energy in pJ already (the DRAM model's own energy)
  };
  std::string stat;         ///< "energy.gbuf_pj"
  std::string description;  ///< of the statistic
  std::vector<std::string> counters;  ///< the component's counters whose sum is the count, e.g. "gbuf.read_bytes"
  Price price = Price::TableAction;
  std::string action;       ///< TableAction: the table's action
  uint64_t sram_bytes = 0;  ///< SramByte: the SRAM's capacity
};

/// What one accelerator did in one row (a job, or a sum of jobs).
struct EnergyCounts {
  uint64_t macs_effectual = 0;
  uint64_t macs_mapped = 0;      ///< MACs of the mapped GEMM (zeros included): what a design without zero gating multiplies
  uint64_t macs_dense = 0;       ///< the layer's real MACs (no inserted zeros): the same work for every design
  uint64_t macs_issued = 0;      ///< busy cycles x multipliers
  uint64_t macs_nonzero = 0;     ///< MACs with both operands non-zero (what a zero-gated array multiplies)
  uint64_t busy_cycles = 0;      ///< summed over tiles
  uint64_t cycles = 0;
  uint32_t tiles = 1;
  uint64_t multipliers_per_tile = 0;
  PeModel::ControlShape control;  ///< schedulers and multiplexed lanes of one tile
  /// A sparse PE exploiting sparsity: its schedulers and multiplexers are active and it multiplies
  /// only effectual pairs; otherwise (a dense array, or sparsity off) it multiplies every MAC of the
  /// mapped GEMM, zeros included. Either way an issued slot without a multiplication (a gated zero,
  /// the padding of a partial set, an idle lane) costs mac.zero_slot (clocking), never a MAC.
  bool sparse_control = false;
  uint32_t value_bytes = 2;
  const std::vector<CounterDef>* memory_defs = nullptr;
  const CounterValues* memory = nullptr;
  std::vector<EnergyAction> memory_actions;  ///< what the memory's components publish
  bool zero_gating = false;  ///< a dense array that gates MACs with a zero operand: multiplies macs_nonzero
};

/// Energy by component in pJ, as named stats ("energy.mac_pj", ..., "energy.total_pj").
StatSet energy_stats(const EnergyTable& table, const EnergyCounts& c);

}  // namespace swatsim::arch
