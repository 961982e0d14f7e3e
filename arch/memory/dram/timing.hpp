#pragma once
// What both DRAM engines share (docs/dram.md): the request, the timing table of REFERENCE §4 and the
// timing state of one channel's banks, bank groups and ranks. The cycle engine (controller.hpp)
// picks commands FR-FCFS tick by tick; the fast engine (in_order.hpp) places them in arrival order.
// Both ask BankState when a command may issue and tell it when one did, so a timing rule lives here
// once.
#include <algorithm>
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

/// Per channel: for each bank, bank group and rank, the earliest cycle each command may issue (every
/// issued command raises them by the table), open rows, the tFAW window, and the cycles each rank had
/// a bank open (background energy). Banks are numbered flat: (rank * bankgroups + bankgroup) * banks
/// + bank.
class BankState {
public:
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

  BankState(const Spec& spec, const TimingTable& timing);

  uint32_t rank_of(uint32_t bank) const { return bank / banks_per_rank_; }
  uint32_t group_of(uint32_t bank) const { return bank / banks_per_group_; }
  uint32_t banks_per_rank() const { return banks_per_rank_; }

  /// The earliest cycle `cmd` may issue to `bank` (REF: any bank of the rank).
  int64_t ready_at(Cmd cmd, uint32_t bank) const {
    const uint32_t r = rank_of(bank);
    int64_t t = std::max({banks[bank].ready[cmd], groups[group_of(bank)][cmd], ranks[r].ready[cmd]});
    if (cmd == kAct && ranks[r].acts >= 4)  // at most four ACTs in any tFAW window
      t = std::max(t, ranks[r].act_window[ranks[r].act_pos] + tFAW_);
    return t;
  }
  /// A command issued at t: raises every later command's earliest cycle.
  void update(Cmd cmd, uint32_t bank, int64_t t) {
    const uint32_t r = rank_of(bank);
    auto raise = [t](std::array<int64_t, kCmds>& ready, const int64_t (&d)[kCmds]) {
      for (int y = 0; y < kCmds; ++y) ready[size_t(y)] = std::max(ready[size_t(y)], t + d[y]);
    };
    raise(banks[bank].ready, t_.bank[cmd]);
    raise(groups[group_of(bank)], t_.group[cmd]);
    raise(ranks[r].ready, t_.rank[cmd]);
    for (uint32_t o = 0; o < ranks.size(); ++o)
      if (o != r) raise(ranks[o].ready, t_.other_rank[cmd]);
  }
  /// ACT of `row` at t: timing, the tFAW window, the open row.
  void activate(uint32_t bank, uint64_t row, Cycle t);
  /// A precharge (explicit or automatic) closed the bank at t.
  void close(uint32_t bank, Cycle t);
  /// Closed page: the column command `cmd` at t auto-precharged its bank.
  void auto_precharge(Cmd cmd, uint32_t bank, int64_t t);
  /// Closes the background-energy books at cycle `end` (rank active/precharged cycles).
  void account(Cycle end, Counters& c) const;
  /// A command as `on_command` reports it (`channel` is the caller's).
  CommandRecord record(CommandRecord::Kind kind, uint32_t bank, uint64_t row, Cycle t, uint32_t channel) const;

  std::vector<Bank> banks;
  std::vector<std::array<int64_t, kCmds>> groups;
  std::vector<Rank> ranks;

private:
  const TimingTable& t_;
  uint32_t banks_per_rank_, banks_per_group_;
  int64_t tFAW_;
  bool closed_page_;
};

/// Rank-staggered all-bank refresh (DRAMsim3 RANK_LEVEL_STAGGERED): one rank every tREFI / ranks, the
/// ranks in turn. Each engine keeps one per channel; `next` is kNever with refresh off.
struct RefreshSchedule {
  explicit RefreshSchedule(const Spec& s)
      : interval(s.refresh ? s.tREFI / s.ranks : 0), next(s.refresh ? interval : kNever), ranks(s.ranks) {}
  /// The rank whose refresh is due at `next`; moves on to the following refresh.
  uint32_t take() {
    const uint32_t r = rank;
    rank = (rank + 1) % ranks;
    next += interval;
    return r;
  }
  /// Refreshes due in [next, until) while the channel is idle: books all but the last `ranks` of them
  /// at once, each REF at its due cycle. They are tREFI > tRFC apart, so only each rank's last one
  /// still constrains anything: last_ref(rank, cycle) is told of it. Returns how many were booked (0
  /// when no more than 2 x ranks are due: the caller issues those one by one).
  template <class LastRef>
  Cycle book_idle(Cycle until, LastRef last_ref) {
    if (next >= until) return 0;
    const Cycle due = (until - 1 - next) / interval + 1;
    if (due <= 2 * uint64_t(ranks)) return 0;
    const Cycle skip = due - ranks;
    for (uint32_t k = 0; k < ranks; ++k) {
      const Cycle index = skip - 1 - k;
      last_ref(uint32_t((rank + index) % ranks), next + index * interval);
    }
    next += skip * interval;
    rank = uint32_t((rank + skip) % ranks);
    return skip;
  }
  Cycle interval, next;
  uint32_t rank = 0, ranks;
};

}  // namespace swatsim::arch::dram
