#pragma once
// The DRAM model (docs/dram.md): a plain C++ timing engine, per channel a controller with a
// transaction queue, per-bank command queues, FR-FCFS, open or closed page, write draining, refresh,
// every timing constraint of REFERENCE §4 (DRAMsim3's timing table), and IDD energy. It does not
// depend on SystemC: `swatsim dram` and the tests drive it directly; arch/memory/dram/dram_target.hpp
// wraps it as a TLM-2.0 target for the accelerator.
//
// Time is in memory-clock cycles (tCK). A request is one burst of bus_width/8 * BL bytes.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "swatsim/arch/params.hpp"

namespace swatsim::arch::dram {

using Cycle = uint64_t;

enum class PagePolicy : uint8_t { Open, Closed };
/// Cycle: the FR-FCFS controller, command by command, cycle-equal to DRAMsim3. Fast: requests served
/// in arrival order under the same timing table (docs/dram.md, Engines).
enum class Engine : uint8_t { Cycle, Fast };

/// Every parameter of a DRAM system: device structure, timings (cycles), currents (mA per device),
/// the address mapping and the controller. Built from declared parameters by `make_spec`.
struct Spec {
  // structure
  uint32_t channels = 1, ranks = 1, bankgroups = 1, banks_per_group = 1;
  uint64_t rows = 1, columns = 1;  ///< columns per device row, as DRAMsim3 counts them
  uint32_t device_width = 8, bus_width = 64, burst_length = 8;
  // timing, in tCK
  double tCK_ns = 1;
  uint32_t tCL = 0, tCWL = 0, tAL = 0, tRCD_RD = 0, tRCD_WR = 0, tRP = 0, tRAS = 0, tRC = 0;
  uint32_t tRRD_S = 0, tRRD_L = 0, tFAW = 0, tCCD_S = 0, tCCD_L = 0, tWTR_S = 0, tWTR_L = 0;
  uint32_t tWR = 0, tRTP = 0, tRTRS = 0, tRFC = 0, tREFI = 0;
  // power: volts and mA per device
  /// Interface (I/O) energy per data bit moved, pJ: termination and drivers, beside the IDD core energy.
  double io_read_pj_per_bit = 0, io_write_pj_per_bit = 0;
  double VDD = 1.2, IDD0 = 0, IDD2N = 0, IDD2P = 0, IDD3N = 0, IDD3P = 0, IDD4R = 0, IDD4W = 0, IDD5AB = 0,
         IDD6x = 0;
  // address mapping: six two-letter fields from the most to the least significant bits
  std::string address_mapping = "rochrababgco";
  // controller
  uint32_t transaction_queue = 32;  ///< read queue and write buffer entries per channel, each
  uint32_t command_queue = 8;       ///< entries per bank
  PagePolicy page_policy = PagePolicy::Open;
  uint32_t row_hit_cap = 4;         ///< a row with this many hits since its ACT yields to a waiting miss
  uint32_t write_drain_threshold = 8;  ///< drain writes when more than this are buffered and the banks idle
  bool refresh = true;
  bool dual_command = false;        ///< one row and one column command per cycle (HBM)
  Engine engine = Engine::Cycle;

  // derived
  uint32_t burst_cycles() const { return burst_length / 2; }  ///< data-bus cycles per burst (DDR)
  uint32_t burst_bytes() const { return bus_width / 8 * burst_length; }
  uint32_t devices_per_rank() const { return bus_width / device_width; }
  uint32_t banks_per_rank() const { return bankgroups * banks_per_group; }
  uint32_t banks_per_channel() const { return ranks * banks_per_rank(); }
  uint32_t read_latency() const { return tAL + tCL; }
  uint32_t write_latency() const { return tAL + tCWL; }
  uint64_t capacity_bytes() const;
  /// Peak data bandwidth of all channels, bytes per second.
  double peak_bandwidth() const;
};

/// Declared parameters of a DRAM section (name, meaning, range; device parameters are required in
/// a set that names no preset). sim/config binds JSON to them.
const std::vector<ParamSpec>& spec_params();

/// Builds and checks a Spec; throws std::invalid_argument("NAME: expected ..., got ...") naming the
/// parameter for inconsistent values (tRC < tRAS + tRP, a bad mapping string, ...).
Spec make_spec(const ParamSet& values);

/// A decoded address (burst granularity).
struct Location {
  uint32_t channel = 0, rank = 0, bankgroup = 0, bank = 0;
  uint64_t row = 0, column = 0;
};

/// The address mapping of a Spec: a field-order string, e.g. "rochrababgco" (row in the top bits,
/// column right above the burst offset).
class AddressMapping {
public:
  explicit AddressMapping(const Spec& spec);
  Location decode(uint64_t address) const;
  /// How many bursts from `address` on (at most max_bursts) share its channel, rank, bank and row:
  /// consecutive addresses change only the column while the column is the lowest field.
  uint64_t same_row_bursts(uint64_t address, uint64_t max_bursts) const {
    if (shift_[kColumn] != offset_bits_) return 1;
    const uint64_t column = (address >> offset_bits_) & ((uint64_t(1) << bits_[kColumn]) - 1);
    return std::min<uint64_t>(max_bursts, (uint64_t(1) << bits_[kColumn]) - column);
  }
  /// Inverse of decode for a burst-aligned address.
  uint64_t encode(const Location& loc) const;
  unsigned offset_bits() const { return offset_bits_; }
  unsigned address_bits() const { return total_bits_; }

private:
  enum Field { kChannel, kRank, kBankGroup, kBank, kRow, kColumn, kFields };
  unsigned offset_bits_ = 0, total_bits_ = 0;
  unsigned shift_[kFields] = {}, bits_[kFields] = {};
};

/// Counters a DRAM system gathers; energy follows from them and the Spec (`energy`).
struct Counters {
  uint64_t reads = 0, writes = 0;           ///< requests accepted
  uint64_t reads_merged = 0;                ///< reads served by a pending read to the same burst
  uint64_t reads_forwarded = 0;             ///< reads served from the write buffer
  uint64_t writes_merged = 0;               ///< writes to a burst already waiting in the write buffer
  uint64_t act = 0, pre = 0, rd = 0, wr = 0, ref = 0;  ///< commands (pre includes auto-precharges)
  uint64_t row_hits = 0;                    ///< column commands to a row opened for an earlier one
  uint64_t last_completion = 0;             ///< cycle the last request completed
  std::vector<uint64_t> rank_active_cycles; ///< per channel x rank: cycles with a bank open
  std::vector<uint64_t> rank_cycles;        ///< per channel x rank: cycles simulated
};

struct LatencySummary {
  uint64_t count = 0;
  double mean = 0;
  uint64_t p50 = 0, p99 = 0, max = 0;
};

/// Latencies in cycles, kept exactly (a count per value below 2^16, the values above that).
/// Percentiles are nearest-rank: the smallest latency with at least p% of the requests at or below it.
class LatencyHistogram {
public:
  void add(uint64_t cycles);
  LatencySummary summary() const;

private:
  static constexpr uint64_t kSmall = 1 << 16;
  std::vector<uint64_t> small_;  ///< count per latency below kSmall
  std::vector<uint64_t> large_;  ///< the rare larger latencies themselves
  uint64_t count_ = 0;
  long double sum_ = 0;
};

/// Energy in pJ by the IDD method (REFERENCE §4, Micron TN-41-01).
struct Energy {
  double act = 0, rd = 0, wr = 0, ref = 0, background = 0;
  double total() const { return act + rd + wr + ref + background; }
};
/// Per-command energies in pJ of one command (all devices of a rank).
struct CommandEnergy {
  double act, rd, wr, ref, active_cycle, precharged_cycle;
};
CommandEnergy command_energy(const Spec& s);
Energy energy(const Spec& s, const Counters& c);

/// One issued command, for command traces and tests.
struct CommandRecord {
  enum Kind : uint8_t { kActivate, kPrecharge, kRead, kWrite, kRefresh };
  Cycle cycle = 0;
  Kind kind = kActivate;
  uint32_t channel = 0, rank = 0, bankgroup = 0, bank = 0;
  uint64_t row = 0;        ///< ACT: the row opened; RD/WR: the row read or written
  bool auto_precharge = false;  ///< RD/WR of the closed-page policy
};
const char* to_string(CommandRecord::Kind k);  ///< "ACT", "PRE", "RD", "WR", "REF"

class ChannelController;
class InOrderChannel;
struct Request;
struct TimingTable;

/// One DRAM system: all channels of a Spec behind one in-order request port that accepts up to
/// `requests_per_cycle` requests per cycle, never one before its cycle, and stalls (with every later
/// request) while the target channel's queue is full (DRAMsim3's trace front end).
class System {
public:
  explicit System(const Spec& spec, uint32_t requests_per_cycle = 1);
  ~System();
  System& operator=(const System&) = delete;

  const Spec& spec() const { return spec_; }
  const AddressMapping& mapping() const { return mapping_; }

  /// Called when a request completes: (context, request id, cycle). Reads complete when their last
  /// data beat returns; writes when the write buffer takes them (the cycle after they enter).
  using CompletionFn = void (*)(void* ctx, uint64_t id, Cycle done);
  void on_complete(CompletionFn fn, void* ctx) {
    complete_fn_ = fn;
    complete_ctx_ = ctx;
  }

  /// Called for every command issued (not by the copies transfer() runs ahead).
  using CommandFn = void (*)(void* ctx, const CommandRecord& command);
  void on_command(CommandFn fn, void* ctx) {
    command_fn_ = fn;
    command_ctx_ = ctx;
  }

  /// Feeds one burst-sized request (the burst holding `address`, which must be below
  /// capacity_bytes()); returns the cycle it entered its channel's queue: at least not_before, at
  /// least the previous request's entry, at most requests_per_cycle entries per cycle.
  Cycle request(uint64_t id, uint64_t address, bool is_write, Cycle not_before);

  /// Bulk: the bursts covering [address, address + bytes) fed through the same port from cycle
  /// not_before, in address order, with ids 0, 1, ... for the completion callback. Returns the cycle
  /// the block is done: its last read data returned, or its last write buffered. The engine keeps
  /// the bursts in flight; their completion is found by running a copy of the engine, so a later
  /// block competes with these bursts exactly as one-by-one requests would, and the caller gets one
  /// answer per block. bytes == 0 returns not_before.
  Cycle transfer(uint64_t address, uint64_t bytes, bool is_write, Cycle not_before);

  /// No more requests: runs every channel until all requests have completed (buffered writes are
  /// written; refreshes due until then are done). Returns the last completion cycle. Counters and
  /// latencies are final after it.
  Cycle finish();

  const Counters& counters() const { return counters_; }
  /// Whether request latencies are kept (on by default; a caller that never reads them saves the time).
  void keep_latencies(bool on) { keep_latencies_ = on; }
  LatencySummary read_latency() const { return read_latency_.summary(); }
  LatencySummary write_latency() const { return write_latency_.summary(); }
  uint64_t requests() const { return next_seq_; }

private:
  friend class ChannelController;
  friend class InOrderChannel;
  System(const System& other);  ///< a probe: same state, no statistics, no callbacks
  void read_done(const Request& r, Cycle done);
  void write_buffered(const Request& r, Cycle done);
  void write_written(const Request& r, Cycle done);
  void finished(const Request& r, Cycle done);
  Cycle enter(uint64_t id, uint64_t address, bool is_write, Cycle not_before);
  /// The first of `count` requests to consecutive bursts from `address` (ids and sequence numbers
  /// follow it), counted as accepted.
  Request make_requests(uint64_t id, uint64_t address, const Location& loc, bool is_write, Cycle arrival,
                        uint64_t count);
  /// The fast engine: `count` requests to consecutive bursts of one row (ids from `id` on).
  Cycle enter_run(uint64_t id, uint64_t address, uint64_t count, bool is_write, Cycle not_before);

  Spec spec_;
  AddressMapping mapping_;
  std::shared_ptr<const TimingTable> timing_;
  uint32_t per_cycle_;
  std::vector<std::unique_ptr<ChannelController>> channels_;  ///< the cycle engine's
  std::vector<std::unique_ptr<InOrderChannel>> in_order_;     ///< the fast engine's
  Cycle port_cycle_ = 0;   ///< cycle of the last entry
  uint32_t port_used_ = 0; ///< entries in port_cycle_
  uint64_t next_seq_ = 0;
  Counters counters_;
  LatencyHistogram read_latency_, write_latency_;
  CompletionFn complete_fn_ = nullptr;
  void* complete_ctx_ = nullptr;
  CommandFn command_fn_ = nullptr;
  void* command_ctx_ = nullptr;
  bool probe_ = false;  ///< a copy that only computes a block's completion
  bool keep_latencies_ = true;
  // The block transfer() is feeding: its first sequence number, reads completed, last completion.
  uint64_t block_first_seq_ = ~uint64_t(0), block_completed_ = 0;
  Cycle block_done_ = 0;
  bool finished_ = false;
};

}  // namespace swatsim::arch::dram
