#include "swatsim/arch/accelerator.hpp"

#include <algorithm>
#include <cassert>
#include <queue>
#include <string>

namespace swatsim::arch {

using sc_core::sc_time;
using sc_core::SC_NS;

namespace {
const sc_time kCycle(1, SC_NS);  // one cycle of simulated time; seconds = cycles / clock_ghz / 1e9
uint64_t to_cycles(const sc_time& t) { return t.value() / kCycle.value(); }
constexpr size_t kStackBytes = 16u << 20;  // the controller runs the PE models' planning code
}  // namespace

Tile::Tile(sc_core::sc_module_name name) : sc_module(name), work(1), done(1) {
  SC_HAS_PROCESS(Tile);
  SC_THREAD(run);
}

void Tile::begin(const PassPlan* plan) {
  plan_ = plan;
  state_ = 0;
  busy_ = 0;
}

void Tile::wait_cycles(uint64_t n) { wait(sc_time::from_value(kCycle.value() * n)); }

void Tile::run() {
  for (;;) {
    int64_t u = 0;
    work.read(u);
    const Segment& seg = plan_->segments[plan_->units[size_t(u)].segment];
    const uint64_t c = seg.cost[state_];
    state_ = seg.out[state_];
    wait_cycles(c);
    busy_ += c;
    done.write(1);
  }
}

Accelerator::Accelerator(sc_core::sc_module_name name, const AcceleratorConfig& config,
                         bool exploit_sparsity)
    : sc_module(name), jobs(1), results(1), config_(config), exploit_(exploit_sparsity),
      pe_(make_pe(config)), memory_(make_memory(config)) {
  pe_->set_tiles(config_.tiles);
  MemoryContext ctx;
  ctx.tiles = config_.tiles;
  ctx.clock_ghz = config_.clock_ghz;
  const auto feed = pe_->feed_values();
  ctx.feed_values[0] = feed[0];
  ctx.feed_values[1] = feed[1];
  ctx.dram = config_.dram ? &*config_.dram : nullptr;
  ctx.energy = &config_.energy;
  ctx.multipliers_per_tile = pe_->macs_per_cycle();
  memory_->attach(ctx);
  pe_->set_chunk_budget(memory_->chunk_budget_bytes(), memory_->value_bytes());
  for (uint32_t t = 0; t < config_.tiles; ++t)
    tiles_.push_back(std::make_unique<Tile>(("tile" + std::to_string(t)).c_str()));
  SC_HAS_PROCESS(Accelerator);
  SC_THREAD(control);
  set_stack_size(kStackBytes);
}

Accelerator::~Accelerator() = default;

PassPlan Accelerator::plan_sample(const PassInput& in, uint32_t sample, bool batch) {
  PassInput one = in;
  one.sample = sample;
  one.batch_begin = in.sample;
  one.samples = batch ? in.samples : 1;
  PassPlan plan = pe_->plan(one, exploit_);
  for (auto& u : plan.units) u.block.sample = sample;
  if (on_plan) on_plan(plan);
  return plan;
}

void Accelerator::add_run(JobResult& r, const PassPlan& plan, const PassInput& in, uint32_t samples, uint64_t cycles,
                          const std::vector<TileTotals>& totals) const {
  r.cycles += cycles;
  r.units += plan.units.size();
  uint64_t busy = 0, idle = 0;
  for (const auto& t : totals) {
    busy += t.busy;
    r.memory_wait_cycles += t.memory_wait;
    r.tile_wait_cycles += cycles - t.busy - t.memory_wait;
  }
  r.busy_cycles += busy;
  r.macs_dense += plan.macs_dense;
  r.macs_mapped += in.layer.mapped_macs(in.pass) * samples;
  for (const auto& u : plan.units) {
    r.macs_effectual += u.macs_effectual;
    idle += u.row_idle;
  }
  assert(plan.row_divisor >= 1);
  r.row_idle_cycles += double(idle) / double(plan.row_divisor);
  r.macs_issued += busy * pe_->macs_per_cycle();
  r.peak_macs += cycles * tiles_.size() * pe_->macs_per_cycle();
}

void Accelerator::control() {
  for (;;) {
    const PassInput* in = nullptr;
    jobs.read(in);
    if (!in) return;
    JobResult& r = result_;
    r = JobResult{};
    if (memory_->ideal()) {
      // The compute-only model: samples one after another, each from PE state 0 (the reference
      // simulators' jobs).
      for (uint32_t n = in->sample; n < in->sample + in->samples; ++n) {
        const PassPlan plan = plan_sample(*in, n, false);
        for (auto& t : tiles_) t->begin(&plan);
        const sc_time start = sc_core::sc_time_stamp();
        run_job(plan);
        std::vector<TileTotals> totals(tiles_.size());
        for (size_t t = 0; t < tiles_.size(); ++t) totals[t].busy = tiles_[t]->busy_cycles();
        add_run(r, plan, *in, 1, to_cycles(sc_core::sc_time_stamp() - start), totals);
      }
    } else {
      // One GEMM over the batch: every sample's units in one plan, scheduled by the memory model.
      PassPlan plan;
      for (uint32_t n = in->sample; n < in->sample + in->samples; ++n) {
        PassPlan one = plan_sample(*in, n, true);
        const uint32_t offset = uint32_t(plan.segments.size());
        plan.states = one.states;
        plan.row_divisor = one.row_divisor;
        plan.macs_dense += one.macs_dense;
        for (auto& seg : one.segments) plan.segments.push_back(std::move(seg));
        for (auto& u : one.units) {
          u.segment += offset;
          plan.units.push_back(u);
        }
      }
      // Timed on this accelerator's own clock, never the simulation's (which other accelerators move).
      const uint64_t begin = memory_clock_;
      std::vector<TileTotals> totals(tiles_.size());
      memory_->begin_job(*in, plan, exploit_);
      if (map_only_) (void)memory_->schedule(plan);
      const uint64_t end = memory_->end_job(map_only_ ? begin : run_hierarchy_job(plan, begin, totals));
      memory_clock_ = end;
      wait(sc_time::from_value(kCycle.value() * (end - begin)));
      add_run(r, plan, *in, in->samples, end - begin, totals);
    }
    if (pe_->zero_gating() && exploit_)  // gating zeros is exploiting sparsity: not on a sparsity-off baseline
      for (uint32_t n = in->sample; n < in->sample + in->samples; ++n) {
        PassInput one = *in;
        one.sample = n;
        one.samples = 1;
        r.macs_nonzero += nonzero_pair_macs(one);
      }
    r.memory = memory_->job_counters();
    r.mapping = memory_->mapping();
    results.write(&result_);
  }
}

uint64_t Accelerator::run_hierarchy_job(const PassPlan& plan, uint64_t begin, std::vector<TileTotals>& totals) {
  // The tiles of a memory hierarchy as a plain C++ event loop in (cycle, tile) order: every memory
  // call comes in simulated-time order, and tiles acting in the same cycle act in index order, so the
  // result does not depend on how the SystemC kernel orders processes (or on other accelerators in
  // the same simulation). The controller then wait()s the job's cycles once.
  const UnitSchedule schedule = memory_->schedule(plan);
  assert(schedule.units.size() == plan.units.size());
  enum class Step : uint8_t { Start, Compute, Posted };
  struct TileRun {
    int64_t unit = -1, next = -1;
    uint64_t ready = 0, next_ready = 0;
    size_t at = 0, chain_end = 0;  // the tile's place in its chain of the schedule
    uint8_t state = 0;
    Step step = Step::Start;
  };
  std::vector<TileRun> run(tiles_.size());
  // A tile finishes its chain before it takes the next one (chains are never split across tiles).
  size_t next_chain = 0;
  auto take = [&](uint32_t t) -> int64_t {
    TileRun& r = run[t];
    if (r.at == r.chain_end) {
      if (next_chain == schedule.chains()) return -1;
      r.at = schedule.chain_begin[next_chain];
      r.chain_end = schedule.chain_end(next_chain++);
    }
    return int64_t(schedule.units[r.at++]);
  };
  const bool prefetch = memory_->double_buffered();
  using Event = std::pair<uint64_t, uint32_t>;  // (cycle, tile): smallest first
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events;
  for (uint32_t t = 0; t < tiles_.size(); ++t) {
    run[t].unit = take(t);
    if (run[t].unit < 0) break;
    run[t].ready = memory_->fetch(t, plan.units[size_t(run[t].unit)], begin);
    events.push({begin, t});
  }
  uint64_t last = begin;
  while (!events.empty()) {
    const auto [now, t] = events.top();
    events.pop();
    TileRun& r = run[t];
    const WorkUnit& unit = plan.units[size_t(r.unit)];
    switch (r.step) {
      case Step::Start:  // wait for the operands, then start computing
        if (r.ready > now) {
          memory_->stalled(t, now, r.ready);
          totals[t].memory_wait += r.ready - now;
        }
        r.step = Step::Compute;
        events.push({std::max(now, r.ready), t});
        break;
      case Step::Compute: {
        if (prefetch && (r.next = take(t)) >= 0) r.next_ready = memory_->fetch(t, plan.units[size_t(r.next)], now);
        const Segment& seg = plan.segments[unit.segment];
        const uint64_t c = seg.cost[r.state];
        r.state = seg.out[r.state];
        const uint64_t fed = memory_->feed_cycles(unit, c);
        totals[t].busy += c;
        totals[t].memory_wait += fed - c;
        r.step = Step::Posted;
        events.push({now + fed, t});
        break;
      }
      case Step::Posted: {  // results leave; the output buffer may hold the tile back
        const uint64_t free_at = std::max(now, memory_->write(t, unit, now));
        totals[t].memory_wait += free_at - now;
        if (!prefetch && (r.next = take(t)) >= 0) r.next_ready = memory_->fetch(t, plan.units[size_t(r.next)], free_at);
        r.unit = r.next;
        r.ready = r.next_ready;
        r.next = -1;
        r.step = Step::Start;
        if (r.unit >= 0)
          events.push({free_at, t});
        else
          last = std::max(last, free_at);
        break;
      }
    }
  }
  return last;
}

void Accelerator::run_job(const PassPlan& plan) {
  // Greedy hand-out: every tile gets a unit; whenever one finishes, it gets the next one.
  size_t next = 0, outstanding = 0;
  for (auto& t : tiles_) {
    if (next >= plan.units.size()) break;
    t->work.write(int64_t(next++));
    ++outstanding;
  }
  sc_core::sc_event_or_list any_done;
  for (auto& t : tiles_) any_done |= t->done.data_written_event();
  while (outstanding > 0) {
    bool got = false;
    int token;
    for (auto& t : tiles_) {
      while (t->done.nb_read(token)) {
        got = true;
        --outstanding;
        if (next < plan.units.size()) {
          t->work.write(int64_t(next++));
          ++outstanding;
        }
      }
    }
    if (!got) wait(any_done);
  }
}

}  // namespace swatsim::arch
