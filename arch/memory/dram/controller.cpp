#include "controller.hpp"

#include <algorithm>
#include <cassert>

namespace swatsim::arch::dram {

ChannelController::ChannelController(const Spec& spec, const TimingTable& timing, System& system, uint32_t index)
    : spec_(spec), t_(timing), sys_(&system), index_(index), banks_per_rank_(spec.banks_per_rank()),
      state_(spec, timing), refresh_(spec), queues_(spec.banks_per_channel()), earliest_(spec.banks_per_channel(), 0) {
  next_ = refresh_.next;
  for (auto& q : queues_) q.reserve(spec_.command_queue);
  reads_.reserve(spec_.transaction_queue);
  writes_.reserve(spec_.transaction_queue);
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
  if (spec_.refresh && t == refresh_.next) {
    refresh_queue_.push_back(refresh_.take());
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

bool ChannelController::waits_for_input() const {
  // Nothing queued, no read waiting, and the buffered writes (if any) stay buffered until a request
  // arrives: schedule_transaction would start no drain (the conditions below are its own). Then the
  // only thing the channel does is refresh, the same every interval.
  const size_t w = writes_.size();
  const bool would_drain = w >= spec_.transaction_queue || (w > spec_.write_drain_threshold && queued_ == 0) ||
                           (input_ended_ && reads_.empty() && queued_reads_ == 0 && w > 0);
  return reads_.empty() && queued_ == 0 && draining_ == 0 && !would_drain;
}

void ChannelController::skip_idle_refreshes(Cycle t) {
  if (!spec_.refresh || sys_->command_fn_ || !waits_for_input() || !refresh_queue_.empty() || next_ < refresh_.next) return;
  for (const BankState::Rank& r : state_.ranks)
    if (r.open_banks > 0 || r.ready[kRef] > int64_t(refresh_.next)) return;
  // The last R are ticked as usual; the booked REFs set their rank's timing as an issued one would.
  const Cycle skipped = refresh_.book_idle(
      t, [&](uint32_t rank, Cycle at) { state_.update(kRef, rank * banks_per_rank_, int64_t(at)); });
  if (skipped == 0) return;
  sys_->counters_.ref += skipped;
  last_tick_ = refresh_.next - refresh_.interval;
  next_ = refresh_.next;
}

ChannelController::Choice ChannelController::refresh_command(int64_t t) const {
  Choice c;
  const uint32_t r = refresh_queue_.front();
  bool all_closed = true;
  for (uint32_t b = r * banks_per_rank_; b < (r + 1) * banks_per_rank_; ++b) {
    if (state_.banks[b].open_row < 0) continue;
    all_closed = false;
    if (ready_at(kPre, b) <= t) {
      c.queue = int(b);
      c.cmd = kPre;
      return c;  // entry -1: a precharge for the refresh, not for a request
    }
  }
  if (all_closed && state_.ranks[r].ready[kRef] <= t) {
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
    if (state_.banks[b].open_row >= 0) {
      all_closed = false;
      best = std::min(best, ready_at(kPre, b));
    }
  return all_closed ? state_.ranks[r].ready[kRef] : best;
}

// FR-FCFS inside one bank's queue (DRAMsim3 GetFirstReadyInQueue): the first request, in arrival
// order, whose next command is legal now. A row miss may precharge only from the head of the queue,
// and only when no queued request hits the open row or the row has had row_hit_cap hits.
// Returns the earliest cycle at which any request's command becomes legal; fills *out if one is
// legal at t.
int64_t ChannelController::queue_ready(int q, int64_t t, Choice* out) const {
  const BankState::Bank& b = state_.banks[size_t(q)];
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
  int64_t best = spec_.refresh ? int64_t(refresh_.next) : INT64_MAX;
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

void ChannelController::close_bank(uint32_t b, Cycle t) {
  state_.close(b, t);
  earliest_[b] = 0;
}

void ChannelController::log(CommandRecord::Kind kind, uint32_t b, uint64_t row, Cycle t) const {
  if (!sys_->command_fn_ || sys_->probe_) return;
  sys_->command_fn_(sys_->command_ctx_, state_.record(kind, b, row, t, index_));
}

void ChannelController::issue(const Choice& c, Cycle t) {
  const uint32_t b = uint32_t(c.queue);
  const int64_t now = int64_t(t);
  Counters& n = sys_->counters_;
  switch (c.cmd) {
    case kAct: {
      state_.activate(b, queues_[b][size_t(c.entry)].row, t);
      earliest_[b] = 0;
      ++n.act;
      log(CommandRecord::kActivate, b, uint64_t(state_.banks[b].open_row), t);
      return;
    }
    case kPre:
      log(CommandRecord::kPrecharge, b, uint64_t(state_.banks[b].open_row), t);
      state_.update(kPre, b, now);
      close_bank(b, t);
      ++n.pre;
      return;
    case kRef:
      state_.update(kRef, b, now);
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
  state_.update(c.cmd, b, now);
  BankState::Bank& bank = state_.banks[b];
  if (bank.hits > 0) ++n.row_hits;
  ++bank.hits;
  if (spec_.page_policy == PagePolicy::Closed) {
    state_.auto_precharge(c.cmd, b, now);
    earliest_[b] = 0;
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

}  // namespace swatsim::arch::dram
