#include "timing.hpp"

#include <algorithm>

namespace swatsim::arch::dram {

// DRAMsim3 src/timing.cc (@2981759), the same table Ramulator 2 encodes; REFERENCE §4 lists it.
TimingTable::TimingTable(const Spec& s) {
  for (auto* level : {&bank, &group, &rank, &other_rank})
    for (auto& row : *level)
      for (auto& v : row) v = kNone;
  const int64_t burst = s.burst_cycles(), RL = s.read_latency(), WL = s.write_latency();
  const int64_t read_delay = RL + burst, write_delay = WL + burst;
  // With one bank group the _L values do not apply (DRAMsim3 does the same).
  const bool one_group = s.bankgroups == 1;
  const int64_t ccd_l = one_group ? s.tCCD_S : s.tCCD_L, wtr_l = one_group ? s.tWTR_S : s.tWTR_L,
                rrd_l = one_group ? s.tRRD_S : s.tRRD_L;
  const int64_t read_to_read_l = std::max<int64_t>(burst, ccd_l), read_to_read_s = std::max<int64_t>(burst, s.tCCD_S),
                read_to_read_o = burst + s.tRTRS, read_to_write = RL + burst - WL + s.tRTRS,
                read_to_write_o = read_delay + burst + s.tRTRS - write_delay, read_to_precharge = s.tAL + s.tRTP;
  const int64_t write_to_read_l = write_delay + wtr_l, write_to_read_s = write_delay + s.tWTR_S,
                write_to_read_o = write_delay + burst + s.tRTRS - read_delay,
                write_to_write_l = std::max<int64_t>(burst, ccd_l),
                write_to_write_s = std::max<int64_t>(burst, s.tCCD_S), write_to_write_o = burst,
                write_to_precharge = WL + burst + s.tWR;
  read_autoprecharge_to_act = s.tAL + burst + s.tRTP + s.tRP;  // DRAMsim3 readp_to_act
  read_autoprecharge_to_ref = read_to_precharge + s.tRP;       // read_to_activate
  write_autoprecharge_to_act = write_to_precharge + s.tRP;     // write_to_activate (also to REF)
  const int64_t act_to_rd = int64_t(s.tRCD_RD) - s.tAL, act_to_wr = int64_t(s.tRCD_WR) - s.tAL;

  // Column commands (with or without auto-precharge) constrain later column commands alike.
  for (Cmd src : {kRd, kWr}) {
    const bool rd = src == kRd;
    group[src][kRd] = rd ? read_to_read_l : write_to_read_l;
    group[src][kWr] = rd ? read_to_write : write_to_write_l;
    rank[src][kRd] = rd ? read_to_read_s : write_to_read_s;
    rank[src][kWr] = rd ? read_to_write : write_to_write_s;
    other_rank[src][kRd] = rd ? read_to_read_o : write_to_read_o;
    other_rank[src][kWr] = rd ? read_to_write_o : write_to_write_o;
  }
  bank[kRd][kPre] = read_to_precharge;
  bank[kWr][kPre] = write_to_precharge;
  bank[kAct][kAct] = s.tRC;
  bank[kAct][kRd] = act_to_rd;
  bank[kAct][kWr] = act_to_wr;
  bank[kAct][kPre] = s.tRAS;
  group[kAct][kAct] = rrd_l;
  rank[kAct][kAct] = s.tRRD_S;
  bank[kPre][kAct] = s.tRP;
  // A rank's REF waits for every bank's precharge: kept at rank level (REF checks the whole rank).
  rank[kPre][kRef] = s.tRP;
  rank[kRef][kAct] = s.tRFC;
  rank[kRef][kRef] = s.tRFC;
}

BankState::BankState(const Spec& spec, const TimingTable& timing)
    : banks(spec.banks_per_channel()), groups(size_t(spec.ranks) * spec.bankgroups), ranks(spec.ranks), t_(timing),
      banks_per_rank_(spec.banks_per_rank()), banks_per_group_(spec.banks_per_group), tFAW_(spec.tFAW),
      closed_page_(spec.page_policy == PagePolicy::Closed) {
  for (auto& g : groups) g.fill(0);
}

void BankState::activate(uint32_t b, uint64_t row, Cycle t) {
  update(kAct, b, int64_t(t));
  Rank& r = ranks[rank_of(b)];
  r.act_window[r.act_pos] = int64_t(t);
  r.act_pos = (r.act_pos + 1) % 4;
  ++r.acts;
  banks[b].open_row = int64_t(row);
  banks[b].hits = 0;
  if (r.open_banks++ == 0) r.active_since = t;
}

void BankState::close(uint32_t b, Cycle t) {
  banks[b].open_row = -1;
  Rank& r = ranks[rank_of(b)];
  if (--r.open_banks == 0) r.active_cycles += t - r.active_since;
}

void BankState::auto_precharge(Cmd cmd, uint32_t b, int64_t t) {
  // DRAMsim3 READ_PRECHARGE / WRITE_PRECHARGE: the bank closes now; its next ACT and the rank's next
  // REF wait for the internal precharge.
  const int64_t to_act = cmd == kRd ? t_.read_autoprecharge_to_act : t_.write_autoprecharge_to_act;
  const int64_t to_ref = cmd == kRd ? t_.read_autoprecharge_to_ref : t_.write_autoprecharge_to_act;
  banks[b].ready[kAct] = std::max(banks[b].ready[kAct], t + to_act);
  Rank& r = ranks[rank_of(b)];
  r.ready[kRef] = std::max(r.ready[kRef], t + to_ref);
  close(b, Cycle(t));
}

CommandRecord BankState::record(CommandRecord::Kind kind, uint32_t b, uint64_t row, Cycle t, uint32_t channel) const {
  CommandRecord r;
  r.cycle = t;
  r.kind = kind;
  r.channel = channel;
  r.rank = rank_of(b);
  r.bankgroup = (b % banks_per_rank_) / banks_per_group_;
  r.bank = b % banks_per_group_;
  r.row = row;
  r.auto_precharge = closed_page_ && (kind == CommandRecord::kRead || kind == CommandRecord::kWrite);
  return r;
}

void BankState::account(Cycle end, Counters& c) const {
  for (const Rank& r : ranks) {
    Cycle active = r.active_cycles;
    if (r.open_banks > 0 && end > r.active_since) active += end - r.active_since;
    c.rank_active_cycles.push_back(std::min(active, end));
    c.rank_cycles.push_back(end);
  }
}

}  // namespace swatsim::arch::dram
