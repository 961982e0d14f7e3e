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

#include "timing.hpp"
#include "swatsim/arch/dram.hpp"

namespace swatsim::arch::dram {


class ChannelController {
public:
  ChannelController(const Spec& spec, const TimingTable& timing, System& system, uint32_t index);
  void rebind(System& system) { sys_ = &system; }

  /// Runs every tick before cycle t: the state an arrival at t sees.
  void advance_to(Cycle t) {
    while (next_ < t) {
      if (next_ == refresh_.next) {
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
  void account(Cycle end, Counters& c) const { state_.account(end, c); }

private:
  struct Choice {
    int queue = -1, entry = -1;
    Cmd cmd = kAct;
  };

  void tick(Cycle t);
  /// An idle channel (nothing queued, every bank closed) only refreshes: each REF issues at its due
  /// cycle. Books all but the last `ranks` of the refreshes due before t at once, exactly as the ticks
  /// would, so an idle gap costs O(1), not one tick per refresh (not while commands are logged).
  void skip_idle_refreshes(Cycle t);
  /// Whether the channel only refreshes until the next request arrives (buffered writes included).
  bool waits_for_input() const;
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
  void close_bank(uint32_t bank, Cycle t);
  int64_t ready_at(Cmd cmd, uint32_t bank) const { return state_.ready_at(cmd, bank); }
  uint32_t rank_of(uint32_t bank) const { return state_.rank_of(bank); }
  bool pending_read_to(uint64_t burst, uint32_t bank) const;
  bool pending_write_to(uint64_t burst, uint32_t bank) const;

  const Spec& spec_;
  const TimingTable& t_;
  System* sys_;
  uint32_t index_, banks_per_rank_;
  BankState state_;
  RefreshSchedule refresh_;
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
  Cycle next_ = kNever, last_tick_ = 0;
};

}  // namespace swatsim::arch::dram
