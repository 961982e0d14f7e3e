#include "in_order.hpp"

#include <cassert>

namespace swatsim::arch::dram {

namespace {
int64_t at_least_one(int64_t d) { return std::max<int64_t>(1, d); }  // one column command per cycle
}  // namespace

// ---------------------------------------------------------------------------------------------------
// ActCalendar

ActCalendar::ActCalendar(const Spec& spec, const TimingTable& timing)
    : groups_per_rank_(spec.bankgroups), rrd_same_group_(timing.group[kAct][kAct]), rrd_other_group_(timing.rank[kAct][kAct]), faw_(spec.tFAW),
      reach_(std::max<int64_t>({1, faw_, rrd_same_group_, rrd_other_group_})) {}

int64_t ActCalendar::earliest(uint32_t group, int64_t floor) const {
  const uint32_t rank = group / groups_per_rank_;
  int64_t at = floor;
  for (bool moved = true; moved;) {
    moved = false;
    auto from = std::lower_bound(acts_.begin(), acts_.end(), at - reach_,
                                 [](const Act& o, int64_t t) { return o.at < t; });
    for (auto it = from; it != acts_.end() && it->at <= at + reach_; ++it) {
      if (it->rank != rank) continue;  // ACTs of different ranks do not constrain each other
      const int64_t d = it->group == group ? rrd_same_group_ : rrd_other_group_;
      if (it->at <= at ? at - it->at < d : it->at - at < d) {
        at = it->at + std::max<int64_t>(1, d);
        moved = true;
      }
    }
    const int64_t later = four_activate_window(rank, at);
    if (later != at) {
      at = later;
      moved = true;
    }
  }
  return at;
}

int64_t ActCalendar::four_activate_window(uint32_t rank, int64_t at) const {
  // No five ACTs of a rank within tFAW: with this one among its neighbours in time, every run of
  // five that holds it must span at least tFAW.
  // The placed ACTs obey the rule themselves, so the 2 tFAW - 1 cycles around `at` hold at most
  // eight of this rank's.
  if (faw_ <= 0) return at;
  int64_t near[9];
  size_t n = 0, mine = 0;
  auto from = std::lower_bound(acts_.begin(), acts_.end(), at - faw_ + 1,
                               [](const Act& o, int64_t t) { return o.at < t; });
  for (auto it = from; it != acts_.end() && it->at < at + faw_; ++it) {
    if (it->rank != rank) continue;
    assert(n < 8);
    if (it->at <= at) mine = n + 1;
    near[n++] = it->at;
  }
  for (size_t i = n; i > mine; --i) near[i] = near[i - 1];
  near[mine] = at;
  ++n;
  for (size_t j = mine >= 4 ? mine - 4 : 0; j <= mine && j + 4 < n; ++j)
    if (near[j + 4] - near[j] < faw_) return j + 4 == mine ? near[j] + faw_ : near[j + 4] + 1;
  return at;
}

void ActCalendar::insert(uint32_t group, int64_t at, int64_t horizon) {
  const uint32_t rank = group / groups_per_rank_;
  while (!acts_.empty() && acts_.front().at + reach_ < horizon) acts_.pop_front();
  auto pos = acts_.end();
  while (pos != acts_.begin() && std::prev(pos)->at > at) --pos;
  acts_.insert(pos, Act{at, group, rank});
}

// ---------------------------------------------------------------------------------------------------
// ColumnCalendar

ColumnCalendar::ColumnCalendar(const Spec& spec, const TimingTable& timing)
    : t_(timing), groups_(spec.ranks * spec.bankgroups), ranks_(spec.ranks), groups_per_rank_(spec.bankgroups),
      rings_(size_t(groups_ + ranks_) * 2), bits_(rings_ * size_t(words_), 0), classes_(size_t(groups_) * 2) {
  build_classes();
  for (const auto* level : {&t_.group, &t_.rank, &t_.other_rank})
    for (Cmd a : {kRd, kWr})
      for (Cmd b : {kRd, kWr}) reach_ = std::max(reach_, (*level)[a][b]);
}

void ColumnCalendar::build_classes() {
  // For each new command kind, group and rank: the placed commands it keeps its distance to.
  for (Cmd cmd : {kRd, kWr})
    for (uint32_t group = 0; group < groups_; ++group) {
      const uint32_t rank = group / groups_per_rank_;
      Classes& out = classes_[(size_t(group) * 2 + (cmd == kWr))];
      for (Cmd other : {kRd, kWr}) {
        auto add = [&](size_t ring, const int64_t (&level)[kCmds][kCmds]) {
          Class k{ring, at_least_one(level[other][cmd]), at_least_one(level[cmd][other])};
          const int64_t cadence = at_least_one(t_.group[cmd][cmd]);  // InOrderChannel's trains
          if (word_periodic(cadence)) k.train_pattern = window_pattern(k, cadence);
          out.list[out.n++] = k;
        };
        add(group_ring(group, other), t_.group);
        add(rank_ring(rank, other), t_.rank);  // every group of the rank, its own included
        for (uint32_t r = 0; r < ranks_; ++r)
          if (r != rank) add(rank_ring(r, other), t_.other_rank);
      }
    }
}

inline int64_t ColumnCalendar::latest_in(size_t ring, int64_t lo, int64_t hi) const {
  lo = std::max(lo, base_);
  if (hi < lo) return INT64_MIN;
  const int64_t lo_word = lo >> 6;
  int64_t w = hi >> 6;
  uint64_t word = bits_[word_at(w) + ring] & (~uint64_t(0) >> (63 - (hi & 63)));  // bits <= hi
  for (;;) {
    if (w == lo_word) word &= ~uint64_t(0) << (lo & 63);  // bits >= lo
    if (word) return (w << 6) + 63 - __builtin_clzll(word);
    if (w == lo_word) return INT64_MIN;
    word = bits_[word_at(--w) + ring];
  }
}

int64_t ColumnCalendar::first_in(size_t ring, int64_t lo, int64_t hi, uint64_t pattern) const {
  lo = std::max(lo, base_);
  for (int64_t w = lo >> 6; w <= (hi >> 6) && hi >= lo; ++w) {
    uint64_t word = bits_[word_at(w) + ring] & pattern;
    const int64_t first = w << 6;
    if (hi - first < 63) word &= (uint64_t(2) << (hi - first)) - 1;
    if (lo > first) word &= ~((uint64_t(1) << (lo - first)) - 1);
    if (word) return first + __builtin_ctzll(word);
  }
  return INT64_MAX;
}

int64_t ColumnCalendar::earliest(Cmd cmd, uint32_t group, int64_t floor) const {
  const Classes& c = classes_[size_t(group) * 2 + (cmd == kWr)];
  const Class* cls = c.list;
  const size_t n = c.n;
  int64_t at = std::max(floor, base_);
  // A placed command closer than the distance on either side sends this one past it; no cycle it
  // passes over could have been free, so the classes may be visited in any order: round and round,
  // until n in a row let it stay.
  for (size_t i = 0, quiet = 0; quiet < n; i = i + 1 == n ? 0 : i + 1) {
    const int64_t u = latest_in(cls[i].ring, at - cls[i].before + 1, at + cls[i].after - 1);
    if (u == INT64_MIN) {
      ++quiet;
    } else {
      at = u + cls[i].before;
      quiet = 0;
    }
  }
  return at;
}

uint64_t ColumnCalendar::train_fits(Cmd cmd, uint32_t group, int64_t start, int64_t cadence,
                                    uint64_t count) const {
  if (count <= 1) return count;
  if (!word_periodic(cadence)) {
    for (uint64_t j = 1; j < count; ++j)
      if (earliest(cmd, group, start + int64_t(j) * cadence) != start + int64_t(j) * cadence) return j;
    return count;
  }
  const Classes& all = classes_[size_t(group) * 2 + (cmd == kWr)];
  const Class* cls = all.list;
  const size_t n = all.n;
  const int64_t last = start + int64_t(count - 1) * cadence;
  uint64_t fits = count;
  for (size_t i = 0; i < n; ++i) {
    const Class& c = cls[i];
    // The cycles the train forbids to this class, in each word.
    const uint64_t pattern = in_phase(
        cadence == at_least_one(t_.group[cmd][cmd]) ? c.train_pattern : window_pattern(c, cadence), start, cadence);
    const int64_t u = first_in(c.ring, start - c.before + 1, last + c.after - 1, pattern);
    if (u == INT64_MAX) continue;
    // The first command whose window holds u cannot go where the train would put it.
    const int64_t j = (u - (c.after - 1) - start + cadence - 1) / cadence;
    fits = std::min(fits, uint64_t(std::max<int64_t>(1, j)));
  }
  return fits;
}

uint64_t ColumnCalendar::window_pattern(const Class& c, int64_t cadence) {
  if (c.before + c.after - 1 >= cadence) return ~uint64_t(0);
  uint64_t pattern = 0;  // the same in every period: bit 0 on a command
  for (int64_t o = -(c.before - 1); o <= c.after - 1; ++o)
    for (int64_t b = ((o % cadence) + cadence) % cadence; b < 64; b += cadence) pattern |= uint64_t(1) << b;
  return pattern;
}

void ColumnCalendar::insert(Cmd cmd, uint32_t group, int64_t at) {
  if (at >= base_ + 64 * words_) grow_to(at);
  uint64_t* word = &bits_[word_at(at >> 6)];
  const uint64_t bit = uint64_t(1) << (at & 63);
  word[group_ring(group, cmd)] |= bit;
  word[rank_ring(group / groups_per_rank_, cmd)] |= bit;
}

void ColumnCalendar::insert_train(Cmd cmd, uint32_t group, int64_t start, int64_t cadence, uint64_t count) {
  if (count == 0) return;
  if (!word_periodic(cadence)) {
    for (uint64_t j = 0; j < count; ++j) insert(cmd, group, start + int64_t(j) * cadence);
    return;
  }
  const int64_t last = start + int64_t(count - 1) * cadence;
  if (last >= base_ + 64 * words_) grow_to(last);
  // The train's own cycles: a window of one cycle around each command.
  const uint64_t pattern = in_phase(window_pattern(Class{0, 1, 1}, cadence), start, cadence);
  const size_t group_ring_at = group_ring(group, cmd), rank_ring_at = rank_ring(group / groups_per_rank_, cmd);
  for (int64_t w = start >> 6; w <= last >> 6; ++w) {
    uint64_t bits = pattern;
    if (w == start >> 6) bits &= ~uint64_t(0) << (start & 63);        // from the first command
    if (w == last >> 6) bits &= ~uint64_t(0) >> (63 - (last & 63));   // to the last
    uint64_t* word = &bits_[word_at(w)];
    word[group_ring_at] |= bits;
    word[rank_ring_at] |= bits;
  }
}

void ColumnCalendar::grow_to(int64_t at) {
  int64_t words = words_;
  while (base_ + 64 * words <= at) words *= 2;
  std::vector<uint64_t> bits(rings_ * size_t(words), 0);
  for (int64_t w = base_ >> 6; w < (base_ >> 6) + words_; ++w)  // every live word, to its new place
    std::copy_n(bits_.begin() + long(word_at(w)), rings_, bits.begin() + long(size_t(w & (words - 1)) * rings_));
  bits_.swap(bits);
  words_ = words;
}

void ColumnCalendar::advance(int64_t floor) {
  const int64_t oldest = floor - reach_;  // the oldest cycle still needed
  if (oldest < base_ + 64) return;
  const int64_t keep = oldest & ~int64_t(63);  // the start of its word (oldest > 0 here)
  if (keep - base_ >= 64 * words_) {
    std::fill(bits_.begin(), bits_.end(), 0);
  } else {
    for (int64_t w = base_ >> 6; w < keep >> 6; ++w) std::fill_n(bits_.begin() + long(word_at(w)), rings_, 0);
  }
  base_ = keep;
}

// ---------------------------------------------------------------------------------------------------
// InOrderChannel

InOrderChannel::InOrderChannel(const Spec& spec, const TimingTable& timing, System& system, uint32_t index)
    : spec_(spec), t_(timing), sys_(&system), index_(index), burst_shift_(uint32_t(__builtin_ctz(spec.burst_bytes()))),
      state_(spec, timing), refresh_(spec), columns_(spec, timing),
      acts_(spec, timing), refresh_barrier_(spec.ranks, 0), last_bank_column_(spec.banks_per_channel(), -1),
      read_moves_(spec.transaction_queue), bank_issues_(spec.banks_per_channel(), Ring(spec.command_queue)),
      write_moves_(spec.transaction_queue), pending_reads_(kPendingReads, PendingRead{~uint64_t(0), -1}) {
  for (Cmd c : {kRd, kWr}) cadence_[c] = at_least_one(t_.group[c][c]);
  writes_.reserve(spec_.transaction_queue);
}

InOrderChannel::Plan InOrderChannel::plan(const Request& r, int64_t floor) const {
  const uint32_t b = r.bank;
  const Cmd column = r.is_write ? kWr : kRd;
  Plan p;
  const int64_t open_row = state_.banks[b].open_row;
  int64_t column_floor = std::max({floor, state_.banks[b].ready[column], last_bank_column_[b] + 1});
  if (open_row != int64_t(r.row)) {
    int64_t act_floor = floor;
    if (open_row >= 0) {
      p.pre = std::max(floor, state_.ready_at(kPre, b));
      act_floor = p.pre + std::max<int64_t>(1, t_.bank[kPre][kAct]);
    }
    const uint32_t rank = state_.rank_of(b);
    act_floor = std::max({act_floor, state_.banks[b].ready[kAct], refresh_barrier_[rank]});
    p.act = acts_.earliest(state_.group_of(b), act_floor);
    column_floor = std::max(column_floor, p.act + t_.bank[kAct][column]);
  }
  p.column = columns_.earliest(column, state_.group_of(b), column_floor);
  return p;
}

template <class FloorOf, class Issued>
void InOrderChannel::place(const Request& first, uint64_t count, int64_t floor, FloorOf floor_of, Issued issued) {
  floor = std::max(floor, horizon_);
  columns_.advance(horizon_);
  if (spec_.refresh && floor > int64_t(refresh_.next) && idle_at(Cycle(floor))) skip_idle_refreshes(floor);
  const uint32_t b = first.bank, group = state_.group_of(b);
  const Cmd column = first.is_write ? kWr : kRd;
  const int64_t cadence = cadence_[column];
  const bool closed_page = spec_.page_policy == PagePolicy::Closed;
  Counters& n = sys_->counters_;
  uint64_t done = 0;  // requests placed; `floor` is the floor of request `done`
  while (done < count) {
    // The first command of a segment: its row opened if needed; a refresh due before it goes first
    // (it may close the row).
    Plan p = plan(first, floor);
    while (spec_.refresh && p.column >= int64_t(refresh_.next)) {
      refresh_due();
      p = plan(first, floor);
    }
    if (p.pre >= 0) {
      log(CommandRecord::kPrecharge, b, uint64_t(state_.banks[b].open_row), p.pre);
      state_.update(kPre, b, p.pre);
      state_.close(b, Cycle(p.pre));
      ++n.pre;
    }
    if (p.act >= 0) {
      state_.activate(b, first.row, Cycle(p.act));
      ++n.act;
      log(CommandRecord::kActivate, b, first.row, p.act);
      last_act_ = std::max(last_act_, p.act);
      acts_.insert(group, p.act, horizon_);
    }
    // Column commands: trains at the bank's cadence, each as long as it fits between the commands
    // placed already and no request comes later than its slot; past that, the next is found alone.
    int64_t at = p.column;
    for (;;) {
      uint64_t fit = closed_page ? 1 : columns_.train_fits(column, group, at, cadence, count - done);
      if (spec_.refresh) {  // commands from the refresh's due cycle on wait for it
        const int64_t before_refresh = (int64_t(refresh_.next) - at + cadence - 1) / cadence;
        fit = std::min<uint64_t>(fit, uint64_t(std::max<int64_t>(1, before_refresh)));
      }
      int64_t last = at, next_floor = -1;
      for (uint64_t j = 0; j < fit; ++j) {
        const int64_t slot = at + int64_t(j) * cadence;
        if (j > 0) {
          const int64_t f = floor_of(done + j);
          if (slot < f) {  // this request came too late for the train
            next_floor = f;
            fit = j;
            break;
          }
        }
        last = slot;
        log(first.is_write ? CommandRecord::kWrite : CommandRecord::kRead, b, first.row, slot);
        if (closed_page) {
          state_.update(column, b, slot);
          state_.auto_precharge(column, b, slot);
          ++n.pre;
        }
        issued(done + j, slot);
      }
      columns_.insert_train(column, group, at, cadence, fit);  // nothing above reads the calendar
      BankState::Bank& bank = state_.banks[b];
      if (!closed_page) state_.update(column, b, last);  // the last command of the train bounds all later ones
      n.row_hits += bank.hits > 0 ? fit : fit - 1;
      bank.hits += uint32_t(fit);
      (first.is_write ? n.wr : n.rd) += fit;
      last_column_ = std::max(last_column_, last);
      last_bank_column_[b] = last;
      done += fit;
      if (done == count) break;
      floor = next_floor >= 0 ? next_floor : floor_of(done);
      if (closed_page) break;
      at = columns_.earliest(column, group, std::max(last + cadence, floor));
      if (spec_.refresh && at >= int64_t(refresh_.next)) break;  // the refresh first, then the rest
    }
  }
}

InOrderChannel::PortSlot InOrderChannel::accept(const Request& first, uint64_t count, uint32_t per_cycle,
                                                PortSlot port, Cycle* first_entry) {
  assert(count > 0);
  // The next entry: the next port slot, or later when the request's queue is still full.
  // A request may find that the channel ran idle since the last one came (not asked for the reads of
  // a train after its first: they enter while the train is being placed).
  auto enter = [&](int64_t queue_free, bool check_idle) -> Cycle {
    if (port.used >= per_cycle) {
      ++port.cycle;
      port.used = 0;
    }
    if (int64_t(port.cycle) < queue_free) {
      port.cycle = Cycle(queue_free);
      port.used = 0;
    }
    if (check_idle) drain_if_idle(port.cycle);
    ++port.used;
    horizon_ = std::max(horizon_, int64_t(port.cycle) + 1);  // nothing is placed before an entry any more
    return port.cycle;
  };
  auto request = [&](uint64_t j, Cycle arrival) {
    Request r = first;
    r.seq += j;
    r.id += j;
    r.burst += j * spec_.burst_bytes();
    r.arrival = arrival;
    return r;
  };
  if (first.is_write) {
    for (uint64_t j = 0; j < count; ++j) {
      const Cycle entry = enter(write_moves_.oldest(), true);  // the write buffer has room
      if (j == 0) *first_entry = entry;
      buffer_write(request(j, entry));
    }
    return port;
  }
  const bool may_forward = !writes_.empty() && first.burst <= buffered_hi_ &&
                           first.burst + (count - 1) * spec_.burst_bytes() >= buffered_lo_;
  bool may_merge = false;
  for (uint64_t j = 0; j < count && !may_merge; ++j)
    may_merge = pending_read(first.burst + j * spec_.burst_bytes(), port.cycle) != nullptr;
  if ((may_forward || may_merge) && count > 1) {  // reads of bursts still buffered or queued: one by one
    Cycle entry = 0;
    for (uint64_t j = 0; j < count; ++j) port = accept(request(j, port.cycle), 1, per_cycle, port, j ? &entry : first_entry);
    return port;
  }
  const Cycle entry0 = enter(read_moves_.oldest(), true);  // the read queue has room
  *first_entry = entry0;
  if (may_forward)
    for (const Request& w : writes_)
      if (w.burst == first.burst) {  // served from the write buffer
        ++sys_->counters_.reads_forwarded;
        sys_->read_done(request(0, entry0), entry0 + 1);
        return port;
      }
  if (const PendingRead* primary = pending_read(first.burst, entry0)) {  // served by the queued read
    ++sys_->counters_.reads_merged;
    sys_->read_done(request(0, entry0), Cycle(primary->column) + spec_.read_latency() + spec_.burst_cycles());
    return port;
  }
  Ring& bank_issues = bank_issues_[first.bank];
  const int64_t moved0 = std::max(int64_t(entry0), bank_issues.oldest());  // its command queue has room
  const Cycle latency = spec_.read_latency() + spec_.burst_cycles();
  // Request j > 0 enters when its port slot comes and the read queue has room, and may issue once it
  // has moved to its bank's command queue.
  Cycle entry = entry0;
  int64_t moved = moved0;
  place(
      request(0, entry0), count, moved0 + 1,
      [&](uint64_t) {
        entry = enter(read_moves_.oldest(), false);
        moved = std::max(int64_t(entry), bank_issues.oldest());
        return moved + 1;
      },
      [&](uint64_t j, int64_t at) {
        read_moves_.push(moved);
        bank_issues.push(at);
        const Request rj = request(j, entry);
        pending_reads_[pending_index(rj.burst)] = PendingRead{rj.burst, at};
        sys_->read_done(rj, Cycle(at) + latency);
      });
  return port;
}

const InOrderChannel::PendingRead* InOrderChannel::pending_read(uint64_t burst, Cycle at) const {
  const PendingRead& p = pending_reads_[pending_index(burst)];
  return p.burst == burst && p.column >= int64_t(at) ? &p : nullptr;
}

void InOrderChannel::buffer_write(const Request& w) {
  sys_->write_buffered(w, w.arrival + 1);  // the requester sees a write done once it is buffered
  if (!writes_.empty() && w.burst >= buffered_lo_ && w.burst <= buffered_hi_)
    for (const Request& o : writes_)
      if (o.burst == w.burst) {
        ++sys_->counters_.writes_merged;
        return;
      }
  writes_.push_back(w);
  buffered_lo_ = std::min(buffered_lo_, w.burst);
  buffered_hi_ = std::max(buffered_hi_, w.burst);
  if (writes_.size() >= spec_.transaction_queue) drain_writes(int64_t(w.arrival) + 1);
}

void InOrderChannel::drain_if_idle(Cycle now) {
  // The cycle engine drains more than write_drain_threshold buffered writes as soon as its command
  // queues run empty: that is after the latest column command placed, perhaps before `now`.
  if (writes_.size() <= spec_.write_drain_threshold) return;
  const int64_t idle_from = std::max(last_column_ + 1, horizon_);
  if (idle_from > int64_t(now)) return;
  size_t waiting = 0;
  for (const Request& w : writes_) waiting += int64_t(w.arrival) < idle_from;
  if (waiting > spec_.write_drain_threshold) drain_writes(idle_from);
}

void InOrderChannel::drain_writes(int64_t floor) {
  const Cycle written = spec_.write_latency() + spec_.burst_cycles();
  for (size_t i = 0; i < writes_.size();) {
    // Consecutive buffered writes to one row go as one train.
    size_t k = 1;
    while (i + k < writes_.size() && writes_[i + k].bank == writes_[i].bank && writes_[i + k].row == writes_[i].row) ++k;
    Ring& bank_issues = bank_issues_[writes_[i].bank];
    auto floor_of = [&](uint64_t j) { return std::max(floor, int64_t(writes_[i + j].arrival) + 1); };
    place(writes_[i], k, floor_of(0), floor_of, [&](uint64_t j, int64_t at) {
      // A drained write leaves the buffer when its bank's command queue has room.
      write_moves_.push(std::max(floor, bank_issues.oldest()));
      bank_issues.push(at);
      sys_->write_written(writes_[i + j], Cycle(at) + written);
    });
    i += k;
  }
  writes_.clear();
  buffered_lo_ = ~uint64_t(0);
  buffered_hi_ = 0;
}

void InOrderChannel::finish() { drain_writes(horizon_); }

void InOrderChannel::refresh_until(Cycle end) {
  if (!spec_.refresh) return;
  if (end >= refresh_.next) skip_idle_refreshes(int64_t(end) + 1);
  while (refresh_.next <= end) refresh_due();
}

void InOrderChannel::refresh_due() {
  const int64_t due = int64_t(refresh_.next);
  const uint32_t rank = refresh_.take();
  const uint32_t first = rank * state_.banks_per_rank();
  Counters& n = sys_->counters_;
  for (uint32_t b = first; b < first + state_.banks_per_rank(); ++b) {
    if (state_.banks[b].open_row < 0) continue;
    const int64_t at = std::max(due, state_.ready_at(kPre, b));
    log(CommandRecord::kPrecharge, b, uint64_t(state_.banks[b].open_row), at);
    state_.update(kPre, b, at);
    state_.close(b, Cycle(at));
    ++n.pre;
  }
  const int64_t at = std::max({due, last_act_ + 1, state_.ranks[rank].ready[kRef]});
  refreshed(rank, at);
  ++n.ref;
  log(CommandRecord::kRefresh, first, 0, at);
  last_act_ = at;
}

void InOrderChannel::refreshed(uint32_t rank, int64_t at) {
  state_.update(kRef, rank * state_.banks_per_rank(), at);
  refresh_barrier_[rank] = std::max(refresh_barrier_[rank], at + spec_.tRFC);
}

void InOrderChannel::skip_idle_refreshes(int64_t until) {
  // Refreshes due in [refresh_.next, until) while nothing else happens: the first one per rank closes
  // its banks; the rest, but the last `ranks`, are booked at once (not while logging).
  for (uint32_t k = 0; k < spec_.ranks && int64_t(refresh_.next) < until; ++k) refresh_due();
  if (sys_->command_fn_) return;
  const Cycle skipped =
      refresh_.book_idle(Cycle(until), [&](uint32_t rank, Cycle at) { refreshed(rank, int64_t(at)); });
  if (skipped == 0) return;
  sys_->counters_.ref += skipped;
  last_act_ = std::max(last_act_, int64_t(refresh_.next - refresh_.interval));
}

void InOrderChannel::record(CommandRecord::Kind kind, uint32_t b, uint64_t row, int64_t t) const {
  sys_->command_fn_(sys_->command_ctx_, state_.record(kind, b, row, Cycle(t), index_));
}

}  // namespace swatsim::arch::dram
