#pragma once
// The SystemC accelerator: a controller that cuts each pass of each sample into work units (via the
// PE model) and hands them to `tiles` tiles; a tile computes a unit for the cycles the PE model's
// timing kernel gives. Time advances per work unit (wait(n cycles)); there is no clock.
//
// A job is one pass over samples [sample, sample + samples). With `ideal` memory the controller runs
// the samples one after another and hands each tile one unit over an sc_fifo and the next when it
// finishes (the compute-only model the reference simulators check). With a memory hierarchy the
// job is one GEMM over the batch: the tiles take units (every sample's) in the memory model's loop
// order and chains, ask it when each unit's operands are in their buffers, fetch unit k+1 while
// computing unit k (double buffering) and post results; the controller runs them as a C++ event
// loop in (cycle, tile) order and waits the job's cycles once.
//
// Each accelerator keeps its own clock for its memory system (the sum of its own jobs' cycles), so
// its results do not depend on the other accelerators in the same simulation (docs/memory.md).
//
// Jobs come in through `jobs` (a PassInput*, nullptr ends the controller) and results go out
// through `results`. Inside SystemC one cycle is 1 ns; clock_ghz only scales reported seconds.
#include <systemc>

#include <cstdint>
#include <memory>
#include <vector>

#include "swatsim/arch/config.hpp"
#include "swatsim/arch/layer.hpp"
#include "swatsim/arch/pe_model.hpp"
#include "swatsim/arch/stats.hpp"

namespace swatsim::arch {

/// What one job (one pass of a batch of samples) cost.
struct JobResult {
  uint64_t cycles = 0;           ///< from the first unit handed out to the last result stored
  uint64_t units = 0;            ///< work units
  uint64_t busy_cycles = 0;      ///< sum over tiles of compute cycles
  uint64_t memory_wait_cycles = 0;  ///< sum over tiles of cycles stalled by the memory system
  uint64_t tile_wait_cycles = 0; ///< sum over tiles of cycles idle while another tile worked
  uint64_t macs_dense = 0;       ///< the dense GEMM's MACs
  uint64_t macs_mapped = 0;      ///< MACs the mapping iterates (input gradient: with the inserted zeros)
  uint64_t macs_effectual = 0;   ///< as the PE type defines them (docs/pe-models.md)
  uint64_t macs_issued = 0;      ///< busy cycles x multipliers per tile
  uint64_t macs_nonzero = 0;     ///< MACs with both operands non-zero (counted only for a PE with zero gating; else 0)
  double row_idle_cycles = 0;    ///< PE-row (or PE) imbalance inside the arrays, in cycles
  uint64_t peak_macs = 0;        ///< cycles x tiles x multipliers per tile
  CounterValues memory;          ///< the memory model's counters (its counter_defs())
  std::string mapping;           ///< the memory model's mapping of the job ("" with ideal memory)
};


class Tile : public sc_core::sc_module {
public:
  explicit Tile(sc_core::sc_module_name name);
  sc_core::sc_fifo<int64_t> work;  ///< unit index into the current plan
  sc_core::sc_fifo<int> done;
  /// Called by the controller between jobs: new plan, PE state back to 0.
  void begin(const PassPlan* plan);
  uint64_t busy_cycles() const { return busy_; }

private:
  void run();
  void wait_cycles(uint64_t n);
  const PassPlan* plan_ = nullptr;
  uint8_t state_ = 0;
  uint64_t busy_ = 0;
};

class Accelerator : public sc_core::sc_module {
public:
  Accelerator(sc_core::sc_module_name name, const AcceleratorConfig& config, bool exploit_sparsity);
  ~Accelerator() override;

  sc_core::sc_fifo<const PassInput*> jobs;
  sc_core::sc_fifo<const JobResult*> results;

  const AcceleratorConfig& config() const { return config_; }
  const PeModel& pe() const { return *pe_; }
  const MemoryModel& memory() const { return *memory_; }
  /// Map only: a hierarchy chooses each job's mapping and estimates its traffic, and no cycle is
  /// simulated (jobs report 0 cycles; the report keeps only the mapper's figures).
  void set_map_only(bool on) { map_only_ = on; }
  /// Plans of the jobs (one per sample) are passed to this hook if set (tests compare with the kernel).
  std::function<void(const PassPlan&)> on_plan;

private:
  void control();
  AcceleratorConfig config_;
  bool exploit_;
  std::unique_ptr<PeModel> pe_;
  std::unique_ptr<MemoryModel> memory_;
  std::vector<std::unique_ptr<Tile>> tiles_;
  JobResult result_;
  struct TileTotals {
    uint64_t busy = 0, memory_wait = 0;
  };
  uint64_t memory_clock_ = 0;  ///< this accelerator's own cycle count: where its next hierarchy job starts
  bool map_only_ = false;
  /// One sample's plan of the job `in`; `batch`: the PE's per-pass choices are made over the job's
  /// samples (a hierarchy's batch GEMM), else over the sample alone.
  PassPlan plan_sample(const PassInput& in, uint32_t sample, bool batch);
  /// Adds one run of `plan` taking `cycles` to the job's result.
  void add_run(JobResult& r, const PassPlan& plan, const PassInput& in, uint32_t samples, uint64_t cycles,
               const std::vector<TileTotals>& totals) const;
  /// Ideal memory: hands units to the SystemC tiles, one each and the next when one finishes.
  void run_job(const PassPlan& plan);
  /// A memory hierarchy: runs the tiles of one job from cycle `begin`; returns the cycle the last
  /// tile is done.
  uint64_t run_hierarchy_job(const PassPlan& plan, uint64_t begin, std::vector<TileTotals>& totals);
};

}  // namespace swatsim::arch
