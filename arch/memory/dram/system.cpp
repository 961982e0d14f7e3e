#include <algorithm>
#include <cassert>

#include "controller.hpp"
#include "in_order.hpp"
#include "swatsim/arch/dram.hpp"

namespace swatsim::arch::dram {

void LatencyHistogram::add(uint64_t cycles) {
  ++count_;
  sum_ += cycles;
  if (cycles >= kSmall) {
    large_.push_back(cycles);
    return;
  }
  if (cycles >= small_.size()) small_.resize(std::min<uint64_t>(kSmall, std::max<uint64_t>(cycles + 1, 2 * small_.size())));
  ++small_[cycles];
}

LatencySummary LatencyHistogram::summary() const {
  LatencySummary s;
  s.count = count_;
  if (count_ == 0) return s;
  s.mean = double(sum_ / count_);
  std::vector<uint64_t> large = large_;
  std::sort(large.begin(), large.end());
  // Nearest rank: the k-th smallest latency, k = ceil(p * n).
  auto kth = [&](uint64_t k) -> uint64_t {
    uint64_t seen = 0;
    for (uint64_t v = 0; v < small_.size(); ++v) {
      seen += small_[v];
      if (seen >= k) return v;
    }
    return large[k - seen - 1];
  };
  s.p50 = kth((count_ * 50 + 99) / 100);
  s.p99 = kth((count_ * 99 + 99) / 100);
  s.max = kth(count_);
  return s;
}

System::System(const Spec& spec, uint32_t requests_per_cycle)
    : spec_(spec), mapping_(spec_), timing_(std::make_shared<TimingTable>(spec_)),
      per_cycle_(std::max<uint32_t>(1, requests_per_cycle)) {
  for (uint32_t c = 0; c < spec_.channels; ++c) {
    if (spec_.engine == Engine::Fast)
      in_order_.push_back(std::make_unique<InOrderChannel>(spec_, *timing_, *this, c));
    else
      channels_.push_back(std::make_unique<ChannelController>(spec_, *timing_, *this, c));
  }
}

System::System(const System& o)
    : spec_(o.spec_), mapping_(o.mapping_), timing_(o.timing_), per_cycle_(o.per_cycle_), port_cycle_(o.port_cycle_),
      port_used_(o.port_used_), next_seq_(o.next_seq_), probe_(true), block_first_seq_(o.block_first_seq_),
      block_completed_(o.block_completed_), block_done_(o.block_done_) {
  assert(o.in_order_.empty());  // the fast engine knows a completion when it takes the request
  for (const auto& c : o.channels_) {
    channels_.push_back(std::make_unique<ChannelController>(*c));
    channels_.back()->rebind(*this);
  }
}

System::~System() = default;

Cycle System::enter(uint64_t id, uint64_t address, bool is_write, Cycle not_before) {
  assert(!finished_ && address < spec_.capacity_bytes());
  Cycle t = std::max(not_before, port_cycle_);
  if (t == port_cycle_ && port_used_ >= per_cycle_) ++t;
  const Location loc = mapping_.decode(address);
  ChannelController& ch = *channels_[loc.channel];
  ch.advance_to(t);
  while (!ch.can_accept(is_write)) {  // the port stalls until the channel's queue has room
    assert(ch.next_event() != kNever);
    t = std::max(t, ch.step() + 1);
    ch.advance_to(t);
  }
  if (t != port_cycle_) {
    port_cycle_ = t;
    port_used_ = 0;
  }
  ++port_used_;
  ch.accept(make_requests(id, address, loc, is_write, t, 1), t);
  return t;
}

Request System::make_requests(uint64_t id, uint64_t address, const Location& loc, bool is_write, Cycle arrival,
                              uint64_t count) {
  Request r;
  r.seq = next_seq_;
  r.id = id;
  r.burst = address >> mapping_.offset_bits() << mapping_.offset_bits();
  r.arrival = arrival;
  r.row = loc.row;
  r.bank = (loc.rank * spec_.bankgroups + loc.bankgroup) * spec_.banks_per_group + loc.bank;
  r.is_write = is_write;
  next_seq_ += count;
  (is_write ? counters_.writes : counters_.reads) += count;
  return r;
}

Cycle System::enter_run(uint64_t id, uint64_t address, uint64_t count, bool is_write, Cycle not_before) {
  assert(!finished_ && address < spec_.capacity_bytes());
  InOrderChannel::PortSlot port;
  port.cycle = std::max(not_before, port_cycle_);
  port.used = port.cycle == port_cycle_ ? port_used_ : 0;
  const Location loc = mapping_.decode(address);
  const Request r = make_requests(id, address, loc, is_write, port.cycle, count);
  Cycle entry = 0;
  port = in_order_[loc.channel]->accept(r, count, per_cycle_, port, &entry);
  port_cycle_ = port.cycle;
  port_used_ = port.used;
  return entry;
}

Cycle System::request(uint64_t id, uint64_t address, bool is_write, Cycle not_before) {
  if (!in_order_.empty()) return enter_run(id, address, 1, is_write, not_before);
  return enter(id, address, is_write, not_before);
}

Cycle System::transfer(uint64_t address, uint64_t bytes, bool is_write, Cycle not_before) {
  if (bytes == 0) return not_before;
  const uint64_t burst = spec_.burst_bytes();
  assert(address < spec_.capacity_bytes() && bytes <= spec_.capacity_bytes() - address);
  const uint64_t first = address / burst, last = (address + bytes - 1) / burst, n = last - first + 1;
  block_first_seq_ = next_seq_;
  block_completed_ = 0;
  block_done_ = 0;
  if (in_order_.empty()) {
    for (uint64_t i = 0; i < n; ++i) enter(i, (first + i) * burst, is_write, not_before);
  } else {
    for (uint64_t i = 0; i < n;) {  // the fast engine takes a row's bursts at once
      const uint64_t k = mapping_.same_row_bursts((first + i) * burst, n - i);
      enter_run(i, (first + i) * burst, k, is_write, not_before);
      i += k;
    }
  }
  Cycle done = block_done_;
  if (block_completed_ < n) {
    // Reads still in flight: run a copy of the engine until they have returned.
    System probe(*this);
    while (probe.block_completed_ < n) {
      ChannelController* next = nullptr;
      for (auto& c : probe.channels_)
        if (!next || c->next_event() < next->next_event()) next = c.get();
      assert(next->next_event() != kNever);
      next->step();
    }
    done = std::max(done, probe.block_done_);
  }
  block_first_seq_ = ~uint64_t(0);
  return done;
}

Cycle System::finish() {
  if (finished_) return counters_.last_completion;
  if (!in_order_.empty()) {
    for (auto& c : in_order_) c->finish();
    const Cycle end = counters_.last_completion;
    for (auto& c : in_order_) {
      c->refresh_until(end);
      c->account(end, counters_);
    }
    finished_ = true;
    return end;
  }
  for (auto& c : channels_) {
    c->end_input();
    while (!c->drained()) {
      assert(c->next_event() != kNever);
      c->step();
    }
  }
  const Cycle end = counters_.last_completion;
  for (auto& c : channels_) {
    c->advance_to(end + 1);  // refreshes due before the end belong to the run
    c->account(end, counters_);
  }
  finished_ = true;
  return end;
}

void System::finished(const Request& r, Cycle done) {
  if (r.seq >= block_first_seq_) {
    ++block_completed_;
    block_done_ = std::max(block_done_, done);
  }
  if (probe_) return;
  counters_.last_completion = std::max(counters_.last_completion, done);
  if (complete_fn_) complete_fn_(complete_ctx_, r.id, done);
}

void System::read_done(const Request& r, Cycle done) {
  if (!probe_ && keep_latencies_) read_latency_.add(done - r.arrival);
  finished(r, done);
}

void System::write_buffered(const Request& r, Cycle done) { finished(r, done); }

void System::write_written(const Request& r, Cycle done) {
  if (probe_) return;
  if (keep_latencies_) write_latency_.add(done - r.arrival);
  counters_.last_completion = std::max(counters_.last_completion, done);
}

}  // namespace swatsim::arch::dram
