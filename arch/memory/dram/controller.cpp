#include "controller.hpp"

#include <algorithm>
#include <cassert>

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

ChannelController::ChannelController(const Spec& spec, const TimingTable& timing, System& system, uint32_t index)
    : spec_(spec), t_(timing), sys_(&system), index_(index), banks_per_rank_(spec.banks_per_rank()),
      banks_(spec.banks_per_channel()), groups_(size_t(spec.ranks) * spec.bankgroups), ranks_(spec.ranks),
      queues_(spec.banks_per_channel()), earliest_(spec.banks_per_channel(), 0) {
  for (auto& g : groups_) g.fill(0);
  if (spec_.refresh) {
    refresh_interval_ = spec_.tREFI / spec_.ranks;  // rank-staggered (DRAMsim3 RANK_LEVEL_STAGGERED)
    next_refresh_ = refresh_interval_;
    next_ = next_refresh_;
  }
  for (auto& q : queues_) q.reserve(spec_.command_queue);
  reads_.reserve(spec_.transaction_queue);
  writes_.reserve(spec_.transaction_queue);
}

int64_t ChannelController::ready_at(Cmd cmd, uint32_t b) const {
  const uint32_t r = rank_of(b);
  int64_t t = std::max({banks_[b].ready[cmd], groups_[group_of(b)][cmd], ranks_[r].ready[cmd]});
  if (cmd == kAct && ranks_[r].acts >= 4)  // at most four ACTs in any tFAW window
    t = std::max(t, ranks_[r].act_window[ranks_[r].act_pos] + int64_t(spec_.tFAW));
  return t;
}

bool ChannelController::pending_read_to(uint64_t burst, uint32_t bank) const {
  for (const auto& r : reads_)
    if (r.burst == burst) return true;
  for (const auto& r : queues_[bank])
    if (!r.is_write && r.burst == burst) return true;
  return false;
}

bool ChannelController::pending_write_to(uint64_t burst, uint32_t bank) const {
  for (const auto& r : writes_)
    if (r.burst == burst) return true;
  for (const auto& r : queues_[bank])
    if (r.is_write && r.burst == burst) return true;
  return false;
}

void ChannelController::accept(const Request& r, Cycle t) {
  assert(next_ >= t);
  next_ = t;
  if (!r.is_write) {
    // DRAMsim3's AddTransaction: a read of a buffered write is served from the buffer; a read of a
    // burst already being read waits for that read.
    if (pending_write_to(r.burst, r.bank)) {
      ++sys_->counters_.reads_forwarded;
      sys_->read_done(r, t + 1);
      return;
    }
    auto same = [&](const Request& q) { return !q.is_write && q.burst == r.burst; };
    const Request* primary = nullptr;
    for (const auto& q : reads_)
      if (same(q)) primary = &q;
    for (const auto& q : queues_[r.bank])
      if (same(q)) primary = &q;
    if (primary) {
      ++sys_->counters_.reads_merged;
      merged_.emplace_back(primary->seq, r);
      return;
    }
    reads_.push_back(r);
  } else {
    const bool merge = pending_write_to(r.burst, r.bank);
    if (merge)
      ++sys_->counters_.writes_merged;
    else
      writes_.push_back(r);
    sys_->write_buffered(r, t + 1);  // the requester sees a write done once it is buffered
  }
}

// One cycle of DRAMsim3's Controller::ClockTick: refresh bookkeeping, at most one command (two on
// HBM: one row and one column command), then at most one transaction into the command queues.
void ChannelController::tick(Cycle t) {
  last_tick_ = t;
  bool changed = false;
  if (spec_.refresh && t == next_refresh_) {
    refresh_queue_.push_back(next_refresh_rank_);
    next_refresh_rank_ = (next_refresh_rank_ + 1) % spec_.ranks;
    next_refresh_ += refresh_interval_;
    changed = true;
  }
  // A pending refresh goes first (DRAMsim3 FinishRefresh), then FR-FCFS over the bank queues.
  Choice first;
  if (!refresh_queue_.empty()) first = refresh_command(int64_t(t));
  if (first.queue < 0) first = pick(int64_t(t));
  if (first.queue >= 0) {
    issue(first, t);
    changed = true;
    if (spec_.dual_command) {
      // HBM: a second command in the same cycle if one is a column command and the other is not
      // (DRAMsim3 hbm_dual_cmd; unlike DRAMsim3 a second one of the same kind stays queued).
      const Choice second = pick(int64_t(t));
      auto column = [](const Choice& c) { return c.cmd == kRd || c.cmd == kWr; };
      if (second.queue >= 0 && column(second) != column(first)) issue(second, t);
    }
  }
  const uint32_t draining_before = draining_;
  if (schedule_transaction() || draining_ != draining_before) changed = true;
  next_ = changed ? t + 1 : next_after(t);
}

void ChannelController::skip_idle_refreshes(Cycle t) {
  if (!spec_.refresh || sys_->command_fn_ || !drained() || !refresh_queue_.empty() || next_ < next_refresh_) return;
  const uint32_t R = spec_.ranks;
  for (const Rank& r : ranks_)
    if (r.open_banks > 0 || r.ready[kRef] > int64_t(next_refresh_)) return;
  const Cycle due = (t - 1 - next_refresh_) / refresh_interval_ + 1;  // refreshes due in [next_refresh_, t)
  if (due <= 2 * uint64_t(R)) return;
  const Cycle skip = due - R;  // the last R are ticked as usual
  for (uint32_t k = 0; k < R && k < skip; ++k) {
    // The last skipped refresh of each rank sets its timing; earlier ones are tREFI > tRFC before.
    const Cycle index = skip - 1 - k;
    const uint32_t rank = uint32_t((next_refresh_rank_ + index) % R);
    const int64_t at = int64_t(next_refresh_ + index * refresh_interval_) + spec_.tRFC;
    ranks_[rank].ready[kAct] = std::max(ranks_[rank].ready[kAct], at);
    ranks_[rank].ready[kRef] = std::max(ranks_[rank].ready[kRef], at);
  }
  sys_->counters_.ref += skip;
  last_tick_ = next_refresh_ + (skip - 1) * refresh_interval_;
  next_refresh_ += skip * refresh_interval_;
  next_refresh_rank_ = uint32_t((next_refresh_rank_ + skip) % R);
  next_ = next_refresh_;
}

ChannelController::Choice ChannelController::refresh_command(int64_t t) const {
  Choice c;
  const uint32_t r = refresh_queue_.front();
  bool all_closed = true;
  for (uint32_t b = r * banks_per_rank_; b < (r + 1) * banks_per_rank_; ++b) {
    if (banks_[b].open_row < 0) continue;
    all_closed = false;
    if (ready_at(kPre, b) <= t) {
      c.queue = int(b);
      c.cmd = kPre;
      return c;  // entry -1: a precharge for the refresh, not for a request
    }
  }
  if (all_closed && ranks_[r].ready[kRef] <= t) {
    c.queue = int(r * banks_per_rank_);
    c.cmd = kRef;
  }
  return c;
}

int64_t ChannelController::refresh_ready() const {
  const uint32_t r = refresh_queue_.front();
  int64_t best = INT64_MAX;
  bool all_closed = true;
  for (uint32_t b = r * banks_per_rank_; b < (r + 1) * banks_per_rank_; ++b)
    if (banks_[b].open_row >= 0) {
      all_closed = false;
      best = std::min(best, ready_at(kPre, b));
    }
  return all_closed ? ranks_[r].ready[kRef] : best;
}

// FR-FCFS inside one bank's queue (DRAMsim3 GetFirstReadyInQueue): the first request, in arrival
// order, whose next command is legal now. A row miss may precharge only from the head of the queue,
// and only when no queued request hits the open row or the row has had row_hit_cap hits.
// Returns the earliest cycle at which any request's command becomes legal; fills *out if one is
// legal at t.
int64_t ChannelController::queue_ready(int q, int64_t t, Choice* out) const {
  const Bank& b = banks_[size_t(q)];
  const auto& queue = queues_[size_t(q)];
  if (b.open_row < 0) {
    const int64_t at = ready_at(kAct, uint32_t(q));
    if (out && at <= t) *out = Choice{q, 0, kAct};
    return at;
  }
  // Every read of the queue waits for the same cycle, every write too: look them up once.
  constexpr int64_t kUnknown = INT64_MIN;
  int64_t rd = kUnknown, wr = kUnknown;
  int64_t best = INT64_MAX;
  bool hit_pending = false;
  for (const auto& r : queue)
    if (int64_t(r.row) == b.open_row) hit_pending = true;
  for (size_t i = 0; i < queue.size(); ++i) {
    const Request& r = queue[i];
    int64_t at;
    Cmd cmd;
    if (int64_t(r.row) == b.open_row) {
      cmd = r.is_write ? kWr : kRd;
      if (r.is_write) {  // a write never overtakes a read of the same burst
        bool dependent = false;
        for (size_t j = 0; j < i; ++j)
          if (!queue[j].is_write && queue[j].burst == r.burst) dependent = true;
        if (dependent) continue;
        if (wr == kUnknown) wr = ready_at(kWr, uint32_t(q));
        at = wr;
      } else {
        if (rd == kUnknown) rd = ready_at(kRd, uint32_t(q));
        at = rd;
      }
    } else {
      if (i != 0 || (hit_pending && b.hits < spec_.row_hit_cap)) continue;
      cmd = kPre;
      at = ready_at(kPre, uint32_t(q));
    }
    if (out && at <= t) {
      *out = Choice{q, int(i), cmd};
      return at;
    }
    best = std::min(best, at);
  }
  return best;
}

ChannelController::Choice ChannelController::pick(int64_t t) {
  // Candidates: non-empty queues outside a rank waiting for its refresh that may be ready now.
  uint64_t maybe_ready = 0;  // branch-free: this loop runs every cycle the controller works
  const int64_t* earliest = earliest_.data();
  for (size_t q = 0, n = earliest_.size(); q < n; ++q) maybe_ready |= uint64_t(earliest[q] <= t) << q;
  const uint64_t candidates = maybe_ready & nonempty_ & ~blocked_banks();
  // Round-robin from the queue after the last one that offered a command: the higher queues
  // first, then from queue 0.
  const uint64_t higher = last_queue_ >= 63 ? 0 : candidates & (~uint64_t(0) << (last_queue_ + 1));
  for (uint64_t part : {higher, candidates & ~higher}) {
    for (uint64_t m = part; m; m &= m - 1) {
      const int q = __builtin_ctzll(m);
      Choice c;
      earliest_[size_t(q)] = queue_ready(q, t, &c);
      if (c.queue >= 0) {
        last_queue_ = q;  // DRAMsim3's queue_idx_ stays at the queue that offered a command
        return c;
      }
    }
  }
  return Choice{};
}

uint64_t ChannelController::blocked_banks() const {
  if (refresh_queue_.empty()) return 0;
  const uint64_t rank_bits = banks_per_rank_ >= 64 ? ~uint64_t(0) : (uint64_t(1) << banks_per_rank_) - 1;
  return rank_bits << (refresh_queue_.front() * banks_per_rank_);
}

Cycle ChannelController::next_after(Cycle t) {
  int64_t best = spec_.refresh ? int64_t(next_refresh_) : INT64_MAX;
  if (!refresh_queue_.empty()) best = std::min(best, refresh_ready());
  for (uint64_t m = nonempty_ & ~blocked_banks(); m; m &= m - 1) {
    const int q = __builtin_ctzll(m);
    if (earliest_[size_t(q)] <= int64_t(t)) earliest_[size_t(q)] = queue_ready(q, int64_t(t), nullptr);
    best = std::min(best, earliest_[size_t(q)]);
  }
  if (best == INT64_MAX) return kNever;
  return std::max<Cycle>(t + 1, Cycle(std::max<int64_t>(best, 0)));
}

bool ChannelController::schedule_transaction() {
  // DRAMsim3 ScheduleTransaction: writes are drained in a burst when the buffer is full, or holds
  // more than the threshold while every command queue is empty; we also drain what is left once
  // the input has ended and every read has been issued (DRAMsim3 would keep those writes forever).
  if (draining_ == 0) {
    const size_t w = writes_.size();
    if (w >= spec_.transaction_queue || (w > spec_.write_drain_threshold && queued_ == 0) ||
        (input_ended_ && reads_.empty() && queued_reads_ == 0 && w > 0))
      draining_ = uint32_t(w);
  }
  if (draining_ > 0) {
    for (size_t i = 0; i < writes_.size(); ++i) {
      const Request& r = writes_[i];
      if (queues_[r.bank].size() >= spec_.command_queue) continue;
      if (pending_read_to(r.burst, r.bank)) {
        // An older read of this burst goes first. DRAMsim3 stops draining and moves nothing this
        // cycle, which deadlocks when that read waits in the full read queue behind a full write
        // buffer; we move a read instead.
        draining_ = 0;
        break;
      }
      --draining_;
      enqueue(writes_, i);
      return true;
    }
    if (draining_ > 0) return false;
  }
  for (size_t i = 0; i < reads_.size(); ++i)
    if (queues_[reads_[i].bank].size() < spec_.command_queue) {
      enqueue(reads_, i);
      return true;
    }
  return false;
}

void ChannelController::enqueue(std::vector<Request>& from, size_t i) {
  const Request r = from[i];
  from.erase(from.begin() + long(i));
  queues_[r.bank].push_back(r);
  earliest_[r.bank] = 0;
  nonempty_ |= uint64_t(1) << r.bank;
  ++queued_;
  if (!r.is_write) ++queued_reads_;
}

void ChannelController::update_timing(Cmd cmd, uint32_t b, int64_t t) {
  const uint32_t r = rank_of(b);
  auto raise = [t](std::array<int64_t, kCmds>& ready, const int64_t (&d)[kCmds]) {
    for (int y = 0; y < kCmds; ++y) ready[size_t(y)] = std::max(ready[size_t(y)], t + d[y]);
  };
  raise(banks_[b].ready, t_.bank[cmd]);
  raise(groups_[group_of(b)], t_.group[cmd]);
  raise(ranks_[r].ready, t_.rank[cmd]);
  for (uint32_t o = 0; o < ranks_.size(); ++o)
    if (o != r) raise(ranks_[o].ready, t_.other_rank[cmd]);
}

void ChannelController::open_bank(uint32_t b, uint64_t row, Cycle t) {
  banks_[b].open_row = int64_t(row);
  banks_[b].hits = 0;
  earliest_[b] = 0;
  Rank& r = ranks_[rank_of(b)];
  if (r.open_banks++ == 0) r.active_since = t;
}

void ChannelController::close_bank(uint32_t b, Cycle t) {
  banks_[b].open_row = -1;
  earliest_[b] = 0;
  Rank& r = ranks_[rank_of(b)];
  if (--r.open_banks == 0) r.active_cycles += t - r.active_since;
}

void ChannelController::log(CommandRecord::Kind kind, uint32_t b, uint64_t row, Cycle t) const {
  if (!sys_->command_fn_ || sys_->probe_) return;
  CommandRecord r;
  r.cycle = t;
  r.kind = kind;
  r.channel = index_;
  r.rank = rank_of(b);
  r.bankgroup = group_of(b) % spec_.bankgroups;
  r.bank = b % spec_.banks_per_group;
  r.row = row;
  r.auto_precharge = spec_.page_policy == PagePolicy::Closed && (kind == CommandRecord::kRead || kind == CommandRecord::kWrite);
  sys_->command_fn_(sys_->command_ctx_, r);
}

void ChannelController::issue(const Choice& c, Cycle t) {
  const uint32_t b = uint32_t(c.queue);
  const int64_t now = int64_t(t);
  Counters& n = sys_->counters_;
  switch (c.cmd) {
    case kAct: {
      update_timing(kAct, b, now);
      Rank& r = ranks_[rank_of(b)];
      r.act_window[r.act_pos] = now;
      r.act_pos = (r.act_pos + 1) % 4;
      ++r.acts;
      open_bank(b, queues_[b][size_t(c.entry)].row, t);
      ++n.act;
      log(CommandRecord::kActivate, b, uint64_t(banks_[b].open_row), t);
      return;
    }
    case kPre:
      log(CommandRecord::kPrecharge, b, uint64_t(banks_[b].open_row), t);
      update_timing(kPre, b, now);
      close_bank(b, t);
      ++n.pre;
      return;
    case kRef:
      update_timing(kRef, b, now);
      refresh_queue_.erase(refresh_queue_.begin());
      ++n.ref;
      log(CommandRecord::kRefresh, b, 0, t);
      return;
    case kRd:
    case kWr: break;
    case kCmds: assert(false); return;
  }
  auto& queue = queues_[b];
  const Request r = queue[size_t(c.entry)];
  queue.erase(queue.begin() + c.entry);
  earliest_[b] = 0;
  if (queue.empty()) nonempty_ &= ~(uint64_t(1) << b);
  --queued_;
  if (!r.is_write) --queued_reads_;
  log(c.cmd == kRd ? CommandRecord::kRead : CommandRecord::kWrite, b, r.row, t);
  update_timing(c.cmd, b, now);
  Bank& bank = banks_[b];
  if (bank.hits > 0) ++n.row_hits;
  ++bank.hits;
  if (spec_.page_policy == PagePolicy::Closed) {
    // Auto-precharge (DRAMsim3 READ_PRECHARGE / WRITE_PRECHARGE): the bank closes now; its next ACT
    // and the rank's next REF wait for the internal precharge.
    const int64_t to_act = c.cmd == kRd ? t_.read_autoprecharge_to_act : t_.write_autoprecharge_to_act;
    const int64_t to_ref = c.cmd == kRd ? t_.read_autoprecharge_to_ref : t_.write_autoprecharge_to_act;
    bank.ready[kAct] = std::max(bank.ready[kAct], now + to_act);
    Rank& rk = ranks_[rank_of(b)];
    rk.ready[kRef] = std::max(rk.ready[kRef], now + to_ref);
    close_bank(b, t);
    ++n.pre;
  }
  if (c.cmd == kRd) {
    ++n.rd;
    const Cycle done = t + spec_.read_latency() + spec_.burst_cycles();
    sys_->read_done(r, done);
    if (!merged_.empty()) {
      for (size_t i = 0; i < merged_.size();) {
        if (merged_[i].first == r.seq) {
          sys_->read_done(merged_[i].second, done);
          merged_.erase(merged_.begin() + long(i));
        } else {
          ++i;
        }
      }
    }
  } else {
    ++n.wr;
    sys_->write_written(r, t + spec_.write_latency() + spec_.burst_cycles());
  }
}

void ChannelController::account(Cycle end, Counters& c) const {
  for (const Rank& r : ranks_) {
    Cycle active = r.active_cycles;
    if (r.open_banks > 0 && end > r.active_since) active += end - r.active_since;
    c.rank_active_cycles.push_back(std::min(active, end));
    c.rank_cycles.push_back(end);
  }
}

}  // namespace swatsim::arch::dram
