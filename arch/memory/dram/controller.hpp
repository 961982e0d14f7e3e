#pragma once
// One channel's controller (docs/dram.md): a read queue and a write buffer of transactions, a command
// queue per bank, FR-FCFS command selection round-robin over the banks, open or closed page, write
// draining, rank-staggered refresh, and the timing table of REFERENCE §4.
//
// It is event driven: tick(t) does what DRAMsim3's controller does in cycle t, and then the
// controller jumps to the next cycle at which anything can change (a command becomes legal, a
// transaction can move, a refresh falls due, a request arrives), so its cost follows the commands,
// not the cycles.
#include <array>
#include <cstdint>
#include <vector>

#include "swatsim/arch/dram.hpp"

namespace swatsim::arch::dram {

inline constexpr Cycle kNever = ~Cycle(0);

struct Request {
  uint64_t seq = 0;   ///< order of arrival at the port (unique)
  uint64_t id = 0;    ///< the caller's id
  uint64_t burst = 0; ///< burst-aligned address
  Cycle arrival = 0;
  uint64_t row = 0;
  uint32_t bank = 0;  ///< flat bank index in the channel: (rank * bankgroups + bankgroup) * banks + bank
  bool is_write = false;
};

enum Cmd : uint8_t { kAct, kPre, kRd, kWr, kRef, kCmds };

/// Minimum distances (cycles) from a command to each later command, at four levels: the same bank,
/// any bank of the same bank group, any bank of the same rank, any bank of another rank. A level
/// applies to everything below it, so the engine keeps one "earliest" per command per level.
struct TimingTable {
  static constexpr int64_t kNone = INT64_MIN / 4;
  int64_t bank[kCmds][kCmds], group[kCmds][kCmds], rank[kCmds][kCmds], other_rank[kCmds][kCmds];
  /// Closed page: a column command with auto-precharge to the bank's next ACT / the rank's next REF.
  int64_t read_autoprecharge_to_act, read_autoprecharge_to_ref, write_autoprecharge_to_act;
  explicit TimingTable(const Spec& s);
};

class ChannelController {
public:
  ChannelController(const Spec& spec, const TimingTable& timing, System& system, uint32_t index);
  void rebind(System& system) { sys_ = &system; }

  /// Runs every tick before cycle t: the state an arrival at t sees.
  void advance_to(Cycle t) {
    while (next_ < t) {
      if (next_ == next_refresh_) {
        skip_idle_refreshes(t);
        if (next_ >= t) break;
      }
      tick(next_);
    }
  }
  /// Runs the next tick (there must be one) and returns its cycle.
  Cycle step() {
    const Cycle t = next_;
    tick(t);
    return t;
  }
  bool can_accept(bool is_write) const {
    return (is_write ? writes_.size() : reads_.size()) < spec_.transaction_queue;
  }
  /// Takes a request at cycle t (after advance_to(t) and can_accept).
  void accept(const Request& r, Cycle t);
  /// No more requests will come: buffered writes are drained once the reads are done.
  void end_input() {
    input_ended_ = true;
    if (next_ == kNever) next_ = last_tick_ + 1;
  }
  /// Every request has been issued (or served) and the controller has nothing left but refreshes.
  bool drained() const { return reads_.empty() && writes_.empty() && queued_ == 0; }
  Cycle next_event() const { return next_; }
  /// Closes the background-energy books at cycle `end` (rank active/precharged cycles).
  void account(Cycle end, Counters& c) const;

private:
  struct Bank {
    int64_t open_row = -1;
    uint32_t hits = 0;  ///< column commands since the row was opened
    std::array<int64_t, kCmds> ready{};
  };
  struct Rank {
    std::array<int64_t, kCmds> ready{};
    std::array<int64_t, 4> act_window{};  ///< last four ACT cycles (ring)
    uint32_t acts = 0, act_pos = 0;
    uint32_t open_banks = 0;
    Cycle active_since = 0, active_cycles = 0;
  };
  struct Choice {
    int queue = -1, entry = -1;
    Cmd cmd = kAct;
  };

  void tick(Cycle t);
  /// An idle channel (nothing queued, every bank closed) only refreshes: each REF issues at its due
  /// cycle. Books all but the last `ranks` of the refreshes due before t at once, exactly as the ticks
  /// would, so an idle gap costs O(1), not one tick per refresh (not while commands are logged).
  void skip_idle_refreshes(Cycle t);
  Choice pick(int64_t t);  ///< FR-FCFS, round-robin over the bank queues; moves the round-robin position
  Choice refresh_command(int64_t t) const;
  uint64_t blocked_banks() const;  ///< queues of the rank whose refresh is pending (they wait)
  int64_t queue_ready(int q, int64_t t, Choice* out) const;
  int64_t refresh_ready() const;
  bool schedule_transaction();
  void enqueue(std::vector<Request>& from, size_t i);  ///< transaction -> its bank's command queue
  Cycle next_after(Cycle t);
  void issue(const Choice& c, Cycle t);
  void log(CommandRecord::Kind kind, uint32_t bank, uint64_t row, Cycle t) const;
  void update_timing(Cmd cmd, uint32_t bank, int64_t t);
  void open_bank(uint32_t bank, uint64_t row, Cycle t);
  void close_bank(uint32_t bank, Cycle t);
  int64_t ready_at(Cmd cmd, uint32_t bank) const;
  uint32_t rank_of(uint32_t bank) const { return bank / banks_per_rank_; }
  uint32_t group_of(uint32_t bank) const { return bank / spec_.banks_per_group; }
  bool pending_read_to(uint64_t burst, uint32_t bank) const;
  bool pending_write_to(uint64_t burst, uint32_t bank) const;

  const Spec& spec_;
  const TimingTable& t_;
  System* sys_;
  uint32_t index_, banks_per_rank_;
  std::vector<Bank> banks_;
  std::vector<std::array<int64_t, kCmds>> groups_;
  std::vector<Rank> ranks_;
  std::vector<std::vector<Request>> queues_;  ///< per bank, in arrival order
  /// Per bank queue, a cycle before which none of its commands can be legal. Timing constraints
  /// only ever move later, so the bound stays true until the queue or its bank's row changes
  /// (then it is reset to 0); it lets a cycle skip the queues that cannot issue.
  std::vector<int64_t> earliest_;
  uint64_t nonempty_ = 0;                     ///< bit per bank queue
  uint32_t queued_ = 0;                       ///< requests in command queues
  uint32_t queued_reads_ = 0;                 ///< of which reads
  int last_queue_ = 0;                        ///< round-robin position (DRAMsim3's queue_idx_)
  std::vector<Request> reads_, writes_;       ///< transaction queue and write buffer
  std::vector<std::pair<uint64_t, Request>> merged_;  ///< (seq of the read served, merged read)
  uint32_t draining_ = 0;
  bool input_ended_ = false;
  std::vector<uint32_t> refresh_queue_;  ///< ranks with a refresh due, oldest first
  Cycle next_refresh_ = kNever, refresh_interval_ = 0;
  uint32_t next_refresh_rank_ = 0;
  Cycle next_ = kNever, last_tick_ = 0;
};

}  // namespace swatsim::arch::dram
