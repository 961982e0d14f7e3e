#pragma once
// The components of a `hierarchy` memory (docs/memory.md, "Levels"): the registered level types
// (SRAM buffers, the network, the tiles' buffers) and the DRAM port. Each declares its counters under
// its own name and publishes the energy actions the table prices; the hierarchy (hierarchy.cpp)
// moves blocks through them and its mapper estimates their traffic.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "swatsim/arch/area.hpp"
#include "swatsim/arch/counters.hpp"
#include "swatsim/arch/dram.hpp"
#include "swatsim/arch/energy.hpp"
#include "swatsim/arch/layer.hpp"
#include "swatsim/arch/memory_levels.hpp"
#include "swatsim/arch/operand_blocks.hpp"

namespace swatsim::arch {

/// The counters of one job, declared by the components that keep them (each with its path, unit
/// and meaning, in declaration order: the report's order).
class JobCounters {
public:
  size_t declare(std::string name, Unit unit, std::string description) {
    defs_.push_back(CounterDef{std::move(name), unit, std::move(description)});
    values_.push_back(0.0);
    return defs_.size() - 1;
  }
  double& operator[](size_t i) { return values_[i]; }
  double operator[](size_t i) const { return values_[i]; }
  void clear() { values_.assign(defs_.size(), 0.0); }
  const std::vector<CounterDef>& defs() const { return defs_; }
  const std::vector<double>& values() const { return values_; }

private:
  std::vector<CounterDef> defs_;
  std::vector<double> values_;
};

/// What an operand is in its pass, for traffic by operand.
enum OperandKind : size_t { kInputActivation, kWeight, kSavedActivation, kOutputGradient, kPartialSum, kOperandKinds };
extern const char* const kKindNames[kOperandKinds];
OperandKind kind_of(Pass p, int op);

inline uint64_t ceil_div(uint64_t a, uint64_t b) { return b ? (a + b - 1) / b : 0; }

/// A least-recently-used set of a job's distinct blocks (dense ids, their bytes in `bytes`) within
/// a byte capacity. A buffer starts every job empty, so ids of one job index it; the timing model
/// and the mapper's estimates use the same policy.
class BlockLru {
public:
  BlockLru() = default;
  BlockLru(uint64_t capacity, const std::vector<uint64_t>& bytes) { reset(capacity, bytes); }
  /// Empty, with room for every id of `bytes` (kept by reference).
  void reset(uint64_t capacity, const std::vector<uint64_t>& bytes);
  uint64_t capacity() const { return capacity_; }
  /// Changes the capacity, evicting the least recently used blocks until the rest fit.
  void set_capacity(uint64_t capacity);
  /// Whether the block is kept; marks it used.
  bool touch(uint32_t id);
  /// Keeps a block that is not kept yet (if it fits at all), evicting the least recently used.
  void insert(uint32_t id);

private:
  static constexpr uint32_t kNone = ~uint32_t(0);
  void evict_tail();
  void push_front(uint32_t e);
  void unlink(uint32_t e);
  uint64_t capacity_ = 0, used_ = 0;
  const std::vector<uint64_t>* bytes_ = nullptr;
  std::vector<uint32_t> prev_, next_;
  std::vector<bool> in_;
  uint32_t head_ = kNone, tail_ = kNone;
};

/// The parameters of a level type of the flat form ("sram", "network", "tile_buffers").
std::vector<ParamSpec> level_params(const std::string& type);

/// A level of the hierarchy (a registered type): its name, its counters and its energy actions.
class MemoryLevel {
public:
  explicit MemoryLevel(const ParamSet& p) : name_(p.get_text("name")) {}
  virtual ~MemoryLevel() = default;
  virtual const std::string& type() const = 0;
  const std::string& name() const { return name_; }
  /// Declares the level's counters (under its name) in `c`, once.
  virtual void declare(JobCounters& c) = 0;
  /// The actions the energy table prices, by counters declare() declared.
  virtual std::vector<EnergyAction> energy_actions() const = 0;
  /// Its area for `tiles` tiles.
  virtual AreaItem area(const AreaTable& table, uint32_t tiles) const = 0;

protected:
  std::string name_;
};

/// An SRAM buffer shared by the tiles: an LRU of operand blocks in front of the next level out (an
/// outer SRAM or DRAM). Reading a block out to the level inside takes bytes / width cycles on its
/// port (the innermost SRAM's port is the network's source: see the hierarchy).
class SramLevel final : public MemoryLevel {
public:
  explicit SramLevel(const ParamSet& p);
  static std::vector<ParamSpec> params();
  const std::string& type() const override;
  void declare(JobCounters& c) override;
  std::vector<EnergyAction> energy_actions() const override;
  AreaItem area(const AreaTable& table, uint32_t tiles) const override;

  uint64_t bytes() const { return bytes_; }
  uint64_t width() const { return width_; }
  /// A job starts: empty, ids of `id_bytes`.
  void begin_job(const std::vector<uint64_t>& id_bytes) {
    lru.reset(bytes_, id_bytes);
    ready.assign(id_bytes.size(), 0);
    streaming.assign(id_bytes.size(), 0);
  }

  BlockLru lru;
  std::vector<uint64_t> ready;      ///< block -> cycle it is (or will be) in the buffer
  std::vector<uint64_t> streaming;  ///< block too large to keep -> cycle its read arrives (0: none)
  uint64_t port_free = 0;           ///< when its read port is free (outer levels)
  size_t c_read = 0, c_write = 0, c_hits = 0, c_misses = 0, c_read_kind = 0;  // counter indices

private:
  uint64_t bytes_, width_;
};

/// The network from the innermost SRAM to the tiles (and results back): one path each way, a block
/// at a time at min(its width, the SRAM's width), `hops` hops of `hop_cycles`; a block several tiles
/// want crosses once with multicast.
class NetworkLevel final : public MemoryLevel {
public:
  explicit NetworkLevel(const ParamSet& p);
  static std::vector<ParamSpec> params();
  const std::string& type() const override;
  void declare(JobCounters& c) override;
  std::vector<EnergyAction> energy_actions() const override;
  AreaItem area(const AreaTable& table, uint32_t tiles) const override;

  uint64_t width, hops, hop_cycles;
  bool multicast;
  uint64_t path_free = 0, write_path_free = 0;
  std::vector<uint64_t> sending;  ///< block -> cycle its last send arrives (kNotSent: none)
  static constexpr uint64_t kNotSent = ~uint64_t(0);
  size_t c_bytes = 0, c_byte_hops = 0, c_saved = 0;
};

/// Each tile's operand buffers (the scheduled and the dense operand) and its output buffer.
class TileBuffers final : public MemoryLevel {
public:
  explicit TileBuffers(const ParamSet& p);
  static std::vector<ParamSpec> params();
  const std::string& type() const override;
  void declare(JobCounters& c) override;
  std::vector<EnergyAction> energy_actions() const override;
  AreaItem area(const AreaTable& table, uint32_t tiles) const override;

  uint64_t operand_bytes, output_bytes, width;
  size_t c_read = 0, c_write = 0, c_local_hits = 0, c_out_write = 0, c_out_read = 0;
};

/// The DRAM behind the SRAM levels (the accelerator's `dram` section): where tensors live (a bump
/// allocator and a tile-major block layout), the DRAM system's timing on its own clock, and its
/// counters and energy (the DRAM model's IDD core energy and the interface's pJ per bit).
class DramPort {
public:
  /// Declares its counters in `c` (kept by reference for the port's life).
  void declare(JobCounters& c);
  /// The DRAM and the accelerator's clock; once, before the first job.
  void attach(const dram::Spec& spec, double clock_ghz);
  std::vector<EnergyAction> energy_actions() const;
  const dram::Spec& spec() const { return spec_; }
  /// Peak bytes per accelerator cycle.
  double peak_bytes_per_cycle() const { return peak_bytes_per_cycle_; }

  /// A job starts (its counters are zero); tensors no job read for a while are forgotten.
  void begin_job();
  /// Reads `bytes` at `addr` for an operand of `kind` from accelerator cycle `now`; returns the cycle
  /// they arrive.
  uint64_t read(uint64_t addr, uint64_t bytes, OperandKind kind, uint64_t now);
  uint64_t write(uint64_t addr, uint64_t bytes, uint64_t now);
  /// The cycle the last scheduled transfer is on the bus; the job's energy and peak-time counters.
  uint64_t end_job();

  /// A block's address in its tensor's tiled layout (docs/memory.md, DRAM layout).
  uint64_t block_address(const OperandBlock& b);
  /// The base of a tensor's region (C order, what a resident tensor streams).
  uint64_t tensor_base(const OperandBlock& b) { return layout_of(b).base; }
  /// A fresh region of `bytes` (8 KiB aligned, wrapping at capacity).
  uint64_t allocate(uint64_t bytes);

  size_t c_read = 0, c_write = 0, c_write_partial = 0, c_energy = 0, c_io_energy = 0, c_peak = 0, c_read_kind = 0;

private:
  struct TensorLayout {
    uint64_t base = 0;                                         // the whole tensor, C order
    uint64_t blocks_base = 0, blocks_size = 0, blocks_next = 0;  // the region its blocks are laid out in
    std::unordered_map<uint64_t, uint64_t> block_at;           // block key -> address
    uint64_t last_job = 0;                                     // the last job that read it
  };
  TensorLayout& layout_of(const OperandBlock& b);
  uint64_t to_dram(uint64_t cycle) const;
  uint64_t from_dram(uint64_t cycle) const;
  uint64_t address(uint64_t addr, uint64_t bytes) const;

  dram::Spec spec_;
  std::unique_ptr<dram::System> system_;
  double ratio_ = 1, peak_bytes_per_cycle_ = 1;  // DRAM cycles per accelerator cycle
  JobCounters* c_ = nullptr;
  double energy_before_ = 0;
  std::unordered_map<uint64_t, TensorLayout> layouts_;  // tensor -> its DRAM regions
  uint64_t next_free_ = 0, jobs_ = 0;
};

}  // namespace swatsim::arch
