#include "swatsim/arch/accelerator.hpp"

#include <cassert>
#include <string>

namespace swatsim::arch {

using sc_core::sc_time;
using sc_core::SC_NS;

namespace {
const sc_time kCycle(1, SC_NS);  // one cycle of simulated time; seconds = cycles / clock_ghz / 1e9
uint64_t to_cycles(const sc_time& t) { return t.value() / kCycle.value(); }
constexpr size_t kStackBytes = 16u << 20;  // the controller runs the PE models' planning code
}  // namespace

Tile::Tile(sc_core::sc_module_name name, MemoryModel& memory)
    : sc_module(name), work(1), done(1), memory_(memory) {
  SC_HAS_PROCESS(Tile);
  SC_THREAD(run);
}

void Tile::begin(const PassPlan* plan) {
  plan_ = plan;
  state_ = 0;
  busy_ = memwait_ = 0;
}

void Tile::run() {
  for (;;) {
    int64_t u = 0;
    work.read(u);
    const WorkUnit& unit = plan_->units[size_t(u)];
    const uint64_t mw = memory_.operand_wait_cycles(*plan_, unit);
    const Segment& seg = plan_->segments[unit.segment];
    const uint64_t c = seg.cost[state_];
    state_ = seg.out[state_];
    wait(sc_time::from_value(kCycle.value() * (mw + c)));
    busy_ += c;
    memwait_ += mw;
    done.write(1);
  }
}

Accelerator::Accelerator(sc_core::sc_module_name name, const AcceleratorConfig& config,
                         bool exploit_sparsity)
    : sc_module(name), jobs(1), results(1), config_(config), exploit_(exploit_sparsity),
      pe_(make_pe(config)), memory_(make_memory(config)) {
  pe_->set_tiles(config_.tiles);
  for (uint32_t t = 0; t < config_.tiles; ++t)
    tiles_.push_back(std::make_unique<Tile>(("tile" + std::to_string(t)).c_str(), *memory_));
  SC_HAS_PROCESS(Accelerator);
  SC_THREAD(control);
  set_stack_size(kStackBytes);
}

Accelerator::~Accelerator() = default;

void Accelerator::control() {
  for (;;) {
    const PassInput* in = nullptr;
    jobs.read(in);
    if (!in) return;
    const PassPlan plan = pe_->plan(*in, exploit_);
    if (on_plan) on_plan(plan);
    for (auto& t : tiles_) t->begin(&plan);
    const sc_time start = sc_core::sc_time_stamp();
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
    const uint64_t cycles = to_cycles(sc_core::sc_time_stamp() - start);
    JobResult& r = result_;
    r = JobResult{};
    r.cycles = cycles;
    r.units = plan.units.size();
    for (auto& t : tiles_) {
      r.busy_cycles += t->busy_cycles();
      r.memory_wait_cycles += t->memory_wait_cycles();
      r.tile_wait_cycles += cycles - t->busy_cycles() - t->memory_wait_cycles();
    }
    r.macs_dense = plan.macs_dense;
    uint64_t idle = 0;
    for (const auto& u : plan.units) {
      r.macs_effectual += u.macs_effectual;
      idle += u.row_idle;
    }
    assert(plan.row_divisor >= 1);
    r.row_idle_cycles = double(idle) / double(plan.row_divisor);
    r.macs_issued = r.busy_cycles * pe_->macs_per_cycle();
    r.peak_macs = cycles * tiles_.size() * pe_->macs_per_cycle();
    results.write(&result_);
  }
}

}  // namespace swatsim::arch
