#pragma once
// The fast DRAM engine's channel (docs/dram.md, Engines). The cycle engine runs DRAMsim3's controller
// tick by tick, about 250 ns per burst, and one ResNet-50 iteration through the memory hierarchy
// moves some 16 million bursts. This engine places each request's commands once, at the earliest
// cycle the timing table allows against the commands already placed, and places a run of requests
// to one open row (a block's bursts) as one train of column commands:
// - a bank serves its requests in order; a row miss precharges and activates it;
// - across banks, ACTs and column commands may be placed before commands placed earlier, as
//   FR-FCFS lets a ready bank go first: they keep the table's distances to the commands on both
//   sides (tRRD, tFAW, tCCD, turnarounds), found in calendars;
// - queues: a read enters when the read queue has room (the read transaction_queue places before it
//   has moved to a command queue) and moves when its bank's command queue has room (the request
//   command_queue places before it in that bank has issued), so how far ahead the engine sees follows
//   the cycle engine's queues;
// - writes wait in the write buffer and drain, in order, when it is full, when a request finds the
//   channel idle with more than write_drain_threshold buffered, or at the end (the cycle engine's
//   policy), so reads keep their priority;
// - refresh: rank-staggered every tREFI/ranks; the rank's open banks are precharged first.
// - a read of a burst whose read is still queued is served by it; a read of a buffered write, from
//   the buffer (as the cycle engine does).
// Left out: a row hit overtaking an older miss in its bank (row_hit_cap), the one-command-per-cycle
// command bus. Measured against the cycle engine in results/perf/memory.md and
// results/perf/dram-engines.md; tests/dram/fast_engine_test.cpp checks it against the timing rules.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <vector>

#include "timing.hpp"

namespace swatsim::arch::dram {

/// ACTs already placed, by cycle, which a new one placed before or between them keeps its distance
/// to. ACTs more than `reach` cycles behind the newest request are dropped: none can come that close.
class ActCalendar {
public:
  ActCalendar(const Spec& spec, const TimingTable& timing);
  /// The earliest cycle >= floor for an ACT to this bank group (numbered flat over the ranks, as
  /// BankState::group_of does).
  int64_t earliest(uint32_t group, int64_t floor) const;
  void insert(uint32_t group, int64_t at, int64_t horizon);

private:
  struct Act {
    int64_t at;
    uint32_t group, rank;
  };
  int64_t four_activate_window(uint32_t rank, int64_t at) const;  ///< `at`, or a later cycle to try
  std::deque<Act> acts_;
  uint32_t groups_per_rank_;
  int64_t rrd_same_group_, rrd_other_group_, faw_, reach_;
};

/// Column commands already placed, as one bit per cycle in rings: per bank group and command, and per
/// rank and command (any group). A new column command at t conflicts with a placed one at u when
/// they are closer than the timing table's distance for their relation (same group, same rank,
/// other rank) in their order; word operations find the earliest cycle without conflict, and check a
/// whole train of commands at a fixed cadence at once.
class ColumnCalendar {
public:
  ColumnCalendar(const Spec& spec, const TimingTable& timing);
  /// Bank groups are numbered flat over the ranks (BankState::group_of).
  int64_t earliest(Cmd cmd, uint32_t group, int64_t floor) const;
  /// A train at `start`, `start + cadence`, ... of `count` commands, whose first one fits: how many of
  /// its leading commands fit.
  uint64_t train_fits(Cmd cmd, uint32_t group, int64_t start, int64_t cadence, uint64_t count) const;
  /// Places the train at `start`, `start + cadence`, ... of `count` commands (a word at a time).
  void insert_train(Cmd cmd, uint32_t group, int64_t start, int64_t cadence, uint64_t count);
  /// No command will be placed before `floor` any more: the ring may reuse what lies behind.
  void advance(int64_t floor);

private:
  /// Against placed commands of one kind: the ring holding them, the distance they need before a new
  /// command and after it.
  struct Class {
    size_t ring;
    int64_t before, after;
    /// The cycles a train at the same-bank cadence of the new command forbids this class, in phase 0
    /// (window_pattern); train_fits turns it to the train's phase.
    uint64_t train_pattern = 0;
  };
  /// The cycles of a 64-cycle word in which a command of the class cannot lie, for a train with one
  /// command every `cadence` cycles (a divisor of 64) from cycle 0: a window around each.
  static uint64_t window_pattern(const Class& c, int64_t cadence);
  /// Whether a train at this cadence repeats in every 64-cycle word (else it is handled one by one).
  static bool word_periodic(int64_t cadence) { return cadence > 0 && cadence <= 64 && 64 % cadence == 0; }
  /// A phase-0 word pattern of a word-periodic train turned to the phase of a train from `start`.
  static uint64_t in_phase(uint64_t pattern, int64_t start, int64_t cadence) {
    const int64_t phase = ((start % cadence) + cadence) % cadence;  // words start at multiples of 64
    return phase == 0 ? pattern : (pattern << phase) | (pattern >> (64 - phase));
  }
  void insert(Cmd cmd, uint32_t group, int64_t at);
  struct Classes {
    Class list[34];  ///< for reads and writes: the group, the own rank, up to 15 other ranks
    size_t n = 0;
  };
  void build_classes();
  /// The latest placed bit in [lo, hi] of a ring, or INT64_MIN.
  int64_t latest_in(size_t ring, int64_t lo, int64_t hi) const;
  /// The earliest placed bit in [lo, hi] of a ring that `pattern` (repeating every word) lets through,
  /// or INT64_MAX.
  int64_t first_in(size_t ring, int64_t lo, int64_t hi, uint64_t pattern) const;
  // The rings' words of one cycle range lie together (word-major), so moving the base clears one run.
  size_t group_ring(uint32_t group, Cmd cmd) const { return size_t(group) * 2 + (cmd == kWr); }
  size_t rank_ring(uint32_t rank, Cmd cmd) const { return size_t(groups_ + rank) * 2 + (cmd == kWr); }
  size_t word_at(int64_t w) const { return size_t(w & (words_ - 1)) * rings_; }
  /// Makes the rings cover `at` (a long refresh or a deep backlog can place a command far ahead).
  void grow_to(int64_t at);

  const TimingTable& t_;
  uint32_t groups_, ranks_, groups_per_rank_;
  int64_t reach_ = 1;
  int64_t base_ = 0;  ///< every bit below base_ is clear; the rings hold [base_, base_ + 64 x words_)
  int64_t words_ = 1024;  ///< words per ring, a power of two: 65,536 cycles to start with
  size_t rings_;
  std::vector<uint64_t> bits_;
  std::vector<Classes> classes_;  ///< by (flat bank group, command)
};

class InOrderChannel {
public:
  InOrderChannel(const Spec& spec, const TimingTable& timing, System& system, uint32_t index);

  /// The request port: a cycle and how many requests entered in it.
  struct PortSlot {
    Cycle cycle = 0;
    uint32_t used = 0;
  };
  /// Takes `count` requests to consecutive bursts of one row, in arrival order: the first is `first`
  /// (ids, sequence numbers and bursts of the others follow it); they enter one port slot after
  /// another from `port` (`per_cycle` per cycle), each once its queue has room. Returns the port
  /// after the last one; *first_entry gets the cycle the first one entered.
  PortSlot accept(const Request& first, uint64_t count, uint32_t per_cycle, PortSlot port, Cycle* first_entry);
  /// No more requests: drains the write buffer.
  void finish();
  /// Issues the refreshes due up to `end` (the run's last completion).
  void refresh_until(Cycle end);
  /// Closes the background-energy books at cycle `end`.
  void account(Cycle end, Counters& c) const { state_.account(end, c); }

private:
  /// A ring of the last n cycles of some event (queue moves, issues), oldest first.
  struct Ring {
    explicit Ring(size_t n) : at(n, -1) {}
    int64_t oldest() const { return at[next]; }  ///< the event n places back
    void push(int64_t t) {
      at[next] = t;
      next = next + 1 == at.size() ? 0 : next + 1;
    }
    std::vector<int64_t> at;
    size_t next = 0;
  };
  struct Plan {
    int64_t pre = -1, act = -1, column = 0;  ///< -1: no such command
  };
  /// A request's first commands from `floor` on: PRE and ACT if its row is not open, its column command.
  Plan plan(const Request& r, int64_t floor) const;
  /// Places `count` requests to one row of one bank (the first is r, which may issue from `floor`);
  /// floor_of(j) gives request j's floor (asked once, in order, after request j - 1 issued) and
  /// issued(j, cycle) takes its column command.
  template <class FloorOf, class Issued>
  void place(const Request& r, uint64_t count, int64_t floor, FloorOf floor_of, Issued issued);
  /// The latest read of a burst, while its column command has not issued (the cycle engine merges a
  /// read of a burst already queued into that read). Direct-mapped by burst: a collision forgets.
  struct PendingRead {
    uint64_t burst;
    int64_t column;
  };
  static constexpr size_t kPendingReads = 1 << 14;
  /// The burst's entry (a shift, not a division: it runs for every read placed).
  size_t pending_index(uint64_t burst) const { return (burst >> burst_shift_) & (kPendingReads - 1); }
  const PendingRead* pending_read(uint64_t burst, Cycle at) const;
  void buffer_write(const Request& w);
  void drain_writes(int64_t floor);
  void drain_if_idle(Cycle now);  ///< drains the write buffer if the channel ran idle before `now`
  bool idle_at(Cycle t) const { return last_column_ < int64_t(t); }
  void refresh_due();  ///< the refresh due at refresh_.next
  void refreshed(uint32_t rank, int64_t at);  ///< a REF of `rank` at `at`: its timing, the ACT barrier
  void skip_idle_refreshes(int64_t until);
  /// Hands a command to the command log, if one is attached (checked inline: it runs for every command).
  void log(CommandRecord::Kind kind, uint32_t bank, uint64_t row, int64_t t) const {
    if (sys_->command_fn_) record(kind, bank, row, t);
  }
  void record(CommandRecord::Kind kind, uint32_t bank, uint64_t row, int64_t t) const;

  const Spec& spec_;
  const TimingTable& t_;
  System* sys_;
  uint32_t index_;
  uint32_t burst_shift_;  ///< log2 of the burst size in bytes (a power of two: the spec checks it)
  BankState state_;
  RefreshSchedule refresh_;
  ColumnCalendar columns_;
  ActCalendar acts_;
  int64_t cadence_[kCmds] = {};  ///< column commands to one bank in a row: the same-group distance
  int64_t last_act_ = -1;     ///< the latest ACT or REF placed (a REF follows every ACT placed before it)
  int64_t last_column_ = -1;  ///< the latest column command placed
  int64_t horizon_ = 0;       ///< no command will be placed before this any more
  std::vector<int64_t> refresh_barrier_;  ///< per rank: no ACT before its last REF + tRFC
  std::vector<int64_t> last_bank_column_; ///< per bank: its latest column command
  Ring read_moves_;                 ///< reads leaving the read queue for a command queue
  std::vector<Ring> bank_issues_;   ///< per bank: its requests' column commands
  Ring write_moves_;                ///< writes leaving the write buffer for a command queue
  std::vector<PendingRead> pending_reads_;
  std::vector<Request> writes_;     ///< the write buffer
  uint64_t buffered_lo_ = ~uint64_t(0), buffered_hi_ = 0;  ///< bursts the write buffer spans
};

}  // namespace swatsim::arch::dram
