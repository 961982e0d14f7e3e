// memory type `hierarchy` (docs/memory.md): DRAM -> global buffer -> network -> per-tile operand
// buffers -> PE array, and results back the same way. Every resource is a first-come timeline: tiles
// call in simulated-time order, so one answer per unit and operand is exact for the model.
#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <numeric>
#include <memory>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>

#include "swatsim/arch/dram.hpp"
#include "swatsim/arch/memory.hpp"
#include "swatsim/arch/operand_blocks.hpp"

namespace swatsim::arch {
namespace {

// Counter indices (their definitions, in this order, are in defs() below).
enum Counter : size_t {
  kStallDram, kStallNetwork, kStallBufferWidth, kStallOutput, kDrain,
  kDramRead, kDramWrite, kDramWritePartial, kDramEnergy, kDramIoEnergy, kDramPeakCycles,
  kGbufRead, kGbufWrite, kGbufHits, kGbufMisses,
  kTileRead, kTileWrite, kTileLocalHits, kOutWrite, kOutRead,
  kNocBytes, kNocByteHops, kNocMulticastSaved,
  kBOuterJobs, kAResidentJobs, kBResidentJobs, kSpilledJobs,
  kEstimatedDramRead, kEstimatedNetwork, kEstimatedMemoryCycles,
  // by OperandKind: DRAM reads (partial sums too), global-buffer sends to the tiles (operands only)
  kDramReadByKind, kGbufReadByKind = kDramReadByKind + 5, kCounters = kGbufReadByKind + 4
};

/// What an operand is in its pass, for traffic by operand.
enum OperandKind : size_t { kInputActivation, kWeight, kSavedActivation, kOutputGradient, kPartialSum };
const char* const kKindNames[5] = {"input_activation", "weight", "saved_activation", "output_gradient", "partial_sum"};
OperandKind kind_of(Pass p, int op) {
  switch (operand_role(p, op)) {
    case TensorRole::Weight: return kWeight;
    case TensorRole::Gradient: return kOutputGradient;
    case TensorRole::Activation: break;
  }
  return p == Pass::WeightGrad ? kSavedActivation : kInputActivation;
}

const std::vector<CounterDef>& defs() {
  static const std::vector<CounterDef> d = [] {
    std::vector<CounterDef> d = {
        {"stall.dram_cycles", Unit::Cycles, "tile-cycles waiting for operands still on their way from DRAM (bandwidth and latency)"},
        {"stall.network_cycles", Unit::Cycles, "tile-cycles waiting for operands in the global buffer to cross the network"},
        {"stall.buffer_width_cycles", Unit::Cycles, "tile-cycles the tile buffers' width could not feed the PE array"},
        {"stall.output_cycles", Unit::Cycles, "tile-cycles waiting for the output buffer to drain"},
        {"stall.drain_cycles", Unit::Cycles, "cycles after the last tile finished until the last result was in DRAM"},
        {"dram.read_bytes", Unit::Bytes, "bytes read from DRAM (operand blocks in their storage format)"},
        {"dram.write_bytes", Unit::Bytes, "bytes written to DRAM: the pass's results, dense in the data type (forward: output "
                                          "activations; input-grad: input gradients; weight-grad: dW), and the partial sums of dW a "
                                          "sample-by-sample weight gradient spills (dram.write_bytes.partial_sum)"},
        {"dram.write_bytes.partial_sum", Unit::Bytes,
         "bytes of partial sums written to DRAM that are read back later (spilled dW of a sample-by-sample pass)"},
        {"dram.energy_pj", Unit::PicoJoules, "DRAM core energy by the DRAM model's IDD method (commands and background)"},
        {"dram.io_energy_pj", Unit::PicoJoules, "DRAM interface energy: bits read and written x the DRAM's I/O pJ per bit"},
        {"dram.peak_cycles", Unit::Cycles, "cycles the DRAM traffic takes at peak bandwidth (the roofline's memory time)"},
        {"gbuf.read_bytes", Unit::Bytes, "global-buffer bytes read (to the network, multicasts once; results to DRAM)"},
        {"gbuf.write_bytes", Unit::Bytes, "global-buffer bytes written (fills from DRAM; results from the tiles)"},
        {"gbuf.hits", Unit::Count, "operand blocks found in the global buffer"},
        {"gbuf.misses", Unit::Count, "operand blocks read from DRAM"},
        {"tile.operand.read_bytes", Unit::Bytes, "tile operand-buffer bytes read by the PE arrays (compute cycles x feed)"},
        {"tile.operand.write_bytes", Unit::Bytes, "tile operand-buffer bytes written (blocks arriving over the network)"},
        {"tile.local_hits", Unit::Count, "operand blocks a tile already held (no transfer)"},
        {"tile.output.write_bytes", Unit::Bytes, "tile output-buffer bytes written (completed results)"},
        {"tile.output.read_bytes", Unit::Bytes, "tile output-buffer bytes read (results drained to the global buffer)"},
        {"noc.bytes", Unit::Bytes, "bytes crossing the network (a multicast counts once)"},
        {"noc.byte_hops", Unit::Bytes, "bytes x hops on the network (per-tile deliveries)"},
        {"noc.multicast_saved_bytes", Unit::Bytes, "bytes a multicast to a tile already in flight saved"},
        {"tiling.b_outer_jobs", Unit::Count, "passes run with operand-1 blocks in the outer loop (the others: operand-0 outer)"},
        {"tiling.a_resident_jobs", Unit::Count, "passes that kept operand 0 (the activation side) whole in the global buffer, read once"},
        {"tiling.b_resident_jobs", Unit::Count, "passes that kept operand 1 (weights; weight gradient: the output gradient) whole in the global buffer, read once"},
        {"tiling.spilled_jobs", Unit::Count,
         "weight-gradient passes run sample by sample, dW's partial sums written to DRAM and read back"},
        {"tiling.estimated_dram_read_bytes", Unit::Bytes, "the mapper's estimate of dram.read_bytes for the mapping it chose (LRU over the unit order, no timing)"},
        {"tiling.estimated_network_bytes", Unit::Bytes,
         "the mapper's estimate of the bytes its mapping sends from the global buffer to the tiles (objective cycles; else 0)"},
        {"tiling.estimated_memory_cycles", Unit::Cycles,
         "the mapper's objective for its mapping (objective cycles): max(DRAM bytes at peak, network bytes at its width); "
         "0 with objective dram_bytes"},
    };
    for (const char* k : kKindNames)
      d.push_back({std::string("dram.read_bytes.") + k, Unit::Bytes, std::string("bytes of the ") + k + " read from DRAM"});
    for (size_t k = 0; k < kPartialSum; ++k)
      d.push_back({std::string("gbuf.read_bytes.") + kKindNames[k], Unit::Bytes,
                   std::string("bytes of the ") + kKindNames[k] + " sent from the global buffer to the tiles"});
    assert(d.size() == kCounters);
    assert(d[kDramWritePartial].name == "dram.write_bytes.partial_sum" && d[kSpilledJobs].name == "tiling.spilled_jobs" &&
           d[kEstimatedMemoryCycles].name == "tiling.estimated_memory_cycles" &&
           d[kDramReadByKind + kPartialSum].name == "dram.read_bytes.partial_sum");
    return d;
  }();
  return d;
}

enum class LoopOrder { Auto, AOuter, BOuter };
enum class Residency { Auto, None, A, B, Both };

uint64_t ceil_div(uint64_t a, uint64_t b) { return b ? (a + b - 1) / b : 0; }

/// Hash of a fixed-size key of 32-bit fields (block and result keys of one job).
struct FieldsHash {
  template <size_t N>
  size_t operator()(const std::array<uint32_t, N>& k) const {
    uint64_t h = 0;
    for (uint32_t x : k) h = (h ^ x) * 0x9e3779b97f4a7c15ULL;
    return size_t(h ^ (h >> 29));
  }
};

/// The global buffer's contents: a least-recently-used set of a job's distinct blocks (dense ids,
/// their bytes in `bytes`) within a byte capacity. The buffer starts every job empty, so ids of one job
/// index it; the timing model and the mapper's estimates use the same policy.
class BlockLru {
public:
  BlockLru() = default;
  BlockLru(uint64_t capacity, const std::vector<uint64_t>& bytes) { reset(capacity, bytes); }
  /// Empty, with room for every id of `bytes` (kept by reference).
  void reset(uint64_t capacity, const std::vector<uint64_t>& bytes) {
    capacity_ = capacity;
    used_ = 0;
    bytes_ = &bytes;
    prev_.assign(bytes.size(), kNone);
    next_.assign(bytes.size(), kNone);
    in_.assign(bytes.size(), false);
    head_ = tail_ = kNone;
  }
  uint64_t capacity() const { return capacity_; }
  /// Changes the capacity, evicting the least recently used blocks until the rest fit.
  void set_capacity(uint64_t capacity) {
    capacity_ = capacity;
    while (used_ > capacity_) evict_tail();
  }
  /// Whether the block is kept; marks it used.
  bool touch(uint32_t id) {
    if (!in_[id]) return false;
    unlink(id);
    push_front(id);
    return true;
  }
  /// Keeps a block that is not kept yet (if it fits at all), evicting the least recently used.
  void insert(uint32_t id) {
    const uint64_t b = (*bytes_)[id];
    if (b > capacity_) return;  // streamed through, never resident
    while (used_ + b > capacity_) evict_tail();
    push_front(id);
    in_[id] = true;
    used_ += b;
  }

private:
  static constexpr uint32_t kNone = ~uint32_t(0);
  void evict_tail() {
    const uint32_t t = tail_;
    unlink(t);
    in_[t] = false;
    used_ -= (*bytes_)[t];
  }
  void push_front(uint32_t e) {
    prev_[e] = kNone;
    next_[e] = head_;
    if (head_ != kNone) prev_[head_] = e;
    head_ = e;
    if (tail_ == kNone) tail_ = e;
  }
  void unlink(uint32_t e) {
    (prev_[e] != kNone ? next_[prev_[e]] : head_) = next_[e];
    (next_[e] != kNone ? prev_[next_[e]] : tail_) = prev_[e];
  }
  uint64_t capacity_ = 0, used_ = 0;
  const std::vector<uint64_t>* bytes_ = nullptr;
  std::vector<uint32_t> prev_, next_;
  std::vector<bool> in_;
  uint32_t head_ = kNone, tail_ = kNone;
};

class Hierarchy final : public MemoryModel {
public:
  explicit Hierarchy(const ParamSet& p)
      : gbuf_bytes_(uint64_t(p.get_int("gbuf_kib")) * 1024),
        gbuf_width_(uint64_t(p.get_int("gbuf_banks")) * uint64_t(p.get_int("gbuf_bank_bytes"))),
        tile_bytes_(uint64_t(p.get_int("tile_buffer_kib")) * 1024),
        tile_out_bytes_(uint64_t(p.get_int("tile_output_kib")) * 1024),
        tile_width_(uint64_t(p.get_int("tile_buffer_bytes_per_cycle"))),
        noc_width_(uint64_t(p.get_int("noc_bytes_per_cycle"))),
        noc_hops_(uint64_t(p.get_int("noc_hops"))),
        noc_hop_cycles_(uint64_t(p.get_int("noc_hop_cycles"))),
        multicast_(p.get_choice("noc_multicast") == "on"),
        double_(p.get_choice("double_buffering") == "on") {
    formats_.value_bytes = p.get_choice("data_type") == "fp32" ? 4 : 2;
    const char* keys[3] = {"activation_format", "weight_format", "gradient_format"};
    for (int r = 0; r < 3; ++r) formats_.format[r] = *storage_format_from_string(p.get_choice(keys[r]));
    const std::string& lo = p.get_choice("loop_order");
    order_ = lo == "a-outer" ? LoopOrder::AOuter : lo == "b-outer" ? LoopOrder::BOuter : LoopOrder::Auto;
    objective_cycles_ = p.get_choice("mapper_objective") == "cycles";
    const std::string& res = p.get_choice("gbuf_residency");
    residency_ = res == "none"       ? Residency::None
                 : res == "operand0" ? Residency::A
                 : res == "operand1" ? Residency::B
                 : res == "both"     ? Residency::Both
                                     : Residency::Auto;
  }

  static std::vector<ParamSpec> params() {
    const std::vector<std::string> formats{"dense", "bitmap", "csr", "rle"};
    return {
        ParamSpec::choice("data_type", "value type of operands and results: bf16 (2 bytes) or fp32 (4)", "bf16", {"bf16", "fp32"}),
        ParamSpec::choice("activation_format", "storage format of activations in DRAM and buffers", "bitmap", formats),
        ParamSpec::choice("weight_format", "storage format of weights", "bitmap", formats),
        ParamSpec::choice("gradient_format", "storage format of output gradients", "bitmap", formats),
        ParamSpec::integer("gbuf_kib", "global buffer capacity, KiB (shared by the tiles)", 2048, 1, 1 << 22),
        ParamSpec::integer("gbuf_banks", "global buffer banks", 16, 1, 1024),
        ParamSpec::integer("gbuf_bank_bytes", "bytes per cycle one global-buffer bank reads or writes", 32, 1, 4096),
        ParamSpec::integer("tile_buffer_kib", "capacity of each tile operand buffer (scheduled, dense), KiB", 64, 1, 1 << 20),
        ParamSpec::integer("tile_output_kib", "capacity of each tile output buffer, KiB", 32, 1, 1 << 20),
        ParamSpec::integer("tile_buffer_bytes_per_cycle", "bytes per cycle each tile operand buffer feeds its PE array", 512, 1, 1 << 20),
        ParamSpec::integer("noc_bytes_per_cycle", "global buffer -> tiles network width, bytes per cycle", 256, 1, 1 << 20),
        ParamSpec::integer("noc_hops", "hops from the global buffer to a tile (energy per byte per hop)", 2, 1, 64),
        ParamSpec::integer("noc_hop_cycles", "latency of one hop, cycles", 1, 0, 1024),
        ParamSpec::choice("noc_multicast", "on: a block several tiles want crosses the network once", "on", {"on", "off"}),
        ParamSpec::choice("double_buffering", "on: a tile fetches its next unit while it computes", "on", {"on", "off"}),
        ParamSpec::choice("loop_order", "a-outer: operand-0 blocks outer; b-outer: operand-1 blocks outer; auto: the one "
                          "with less DRAM traffic per pass", "auto", {"auto", "a-outer", "b-outer"}),
        ParamSpec::choice("gbuf_residency", "operands kept whole in the global buffer for a pass and read from DRAM once: "
                          "operand0 (the activation side), operand1 (weights; weight gradient: the output gradient), both, "
                          "none, or auto: among those whose tensors fit, the one with the least DRAM traffic (ties: fewer kept)",
                          "auto", {"auto", "none", "operand0", "operand1", "both"}),
        ParamSpec::choice("mapper_objective", "what the mapper minimises: cycles (the memory time: DRAM bytes at peak "
                          "bandwidth or network bytes at its width, whichever is longer; ties by DRAM bytes) or dram_bytes",
                          "cycles", {"cycles", "dram_bytes"}),
    };
  }

  const std::string& type() const override {
    static const std::string t = "hierarchy";
    return t;
  }

  void attach(const MemoryContext& c) override {
    if (!c.dram) throw std::invalid_argument("a hierarchy memory needs a DRAM (the config's dram section)");
    ctx_ = c;
    dram_spec_ = *c.dram;
    dram_ = std::make_unique<dram::System>(dram_spec_, dram_spec_.channels);
    dram_->keep_latencies(false);  // the report does not show them
    dram_ratio_ = 1.0 / (c.clock_ghz * dram_spec_.tCK_ns);  // DRAM cycles per accelerator cycle
    tiles_.assign(c.tiles, TileState{});
    const double peak_per_ns = dram_spec_.peak_bandwidth() / 1e9;
    peak_bytes_per_cycle_ = peak_per_ns / c.clock_ghz;
    feed_factor_ = 1;
    for (int op = 0; op < 2; ++op)
      feed_factor_ = std::max<uint64_t>(feed_factor_, ceil_div(c.feed_values[op] * formats_.value_bytes, tile_width_));
  }

  bool double_buffered() const override { return double_; }
  uint64_t chunk_budget_bytes() const override { return double_ ? tile_bytes_ / 2 : tile_bytes_; }
  uint32_t value_bytes() const override { return formats_.value_bytes; }

  void begin_job(const PassInput& in, const PassPlan& plan, bool exploit) override {
    FormatChoice f = formats_;
    if (!exploit)  // the dense baseline stores every operand dense
      for (auto& x : f.format) x = StorageFormat::Dense;
    plan_ = &plan;
    pass_ = in.pass;
    ++jobs_;
    forget_old_layouts();
    size_blocks(in, plan, f);
    counters_.assign(kCounters, 0.0);
    dram_energy_before_ = dram::energy(dram_spec_, dram_->counters()).total();
    chain_last_.assign(plan.units.size(), true);
    // Every pass starts with empty buffers: the replay runs a layer's three passes one after another,
    // but in training a layer's backward passes come after every other layer's forward, so nothing a
    // pass left on chip would still be there (and a row's figures do not depend on which layers were
    // selected before it).
    gbuf_.reset(gbuf_bytes_, id_bytes_);
    gbuf_ready_.assign(id_bytes_.size(), 0);
    for (auto& t : tiles_) t = TileState{};
    resident_.clear();
    streaming_.assign(id_bytes_.size(), 0);
    last_done_ = 0;
    sending_.assign(id_bytes_.size(), kNotSent);
  }

  UnitSchedule schedule(const PassPlan& plan) override {
    // The mapper (docs/memory.md). Unit orders: the chains (over the batch; in the weight gradient
    // also sample by sample, spilling dW's partial sums) in a-outer and b-outer order; for each, the
    // residencies that fit. Each candidate is estimated without timing (the DRAM bytes it reads and
    // spills; with objective `cycles` also the network bytes) and the least wins; the first of equals
    // wins (a-outer before b-outer, over the batch before spilling, fewer resident operands before more).
    uint64_t whole[2];
    for (int op = 0; op < 2; ++op) whole[op] = resident_bytes(op);
    struct Order {
      UnitSchedule s;
      bool b_outer, spill;
      uint64_t partial = 0;  // bytes of partial sums written and read back
    };
    std::vector<Order> orders;
    uint32_t samples = 0;
    for (const auto& u : plan.units) samples = std::max(samples, u.block.sample + 1);
    for (bool spill : {false, true}) {
      if (spill && (pass_ != Pass::WeightGrad || samples < 2)) continue;
      UnitSchedule a = chains(plan, spill);
      const uint64_t partial = spill ? result_slots(plan, a).partial : 0;
      if (order_ != LoopOrder::BOuter) orders.push_back(Order{a, false, spill, partial});
      if (order_ != LoopOrder::AOuter) orders.push_back(Order{b_outer(plan, a), true, spill, partial});
    }
    struct Candidate {
      size_t order;
      bool keep[2];
    };
    std::vector<Candidate> candidates;
    for (size_t o = 0; o < orders.size(); ++o)
      for (int r = 0; r < 4; ++r) {
        const bool keep_a = r == 1 || r == 3, keep_b = r == 2 || r == 3;
        const Residency want = r == 0 ? Residency::None : r == 1 ? Residency::A : r == 2 ? Residency::B : Residency::Both;
        if (residency_ != Residency::Auto && residency_ != want) continue;
        // A resident operand must fit (with the other if both are): auto skips what does not, a
        // forced residency that does not fit is streamed.
        const bool fits = (keep_a ? whole[0] : 0) + (keep_b ? whole[1] : 0) <= gbuf_bytes_;
        if (!fits && residency_ == Residency::Auto) continue;
        candidates.push_back(Candidate{o, {keep_a && fits, keep_b && fits}});
      }
    // A streamed operand reads each distinct block at least once: with it, a bound that skips the
    // LRU pass of a candidate that cannot win (exact: the choice is the same without it).
    uint64_t distinct[2];
    for (int op = 0; op < 2; ++op) distinct[op] = distinct_bytes(op);
    // Objective `cycles`: the memory time, max(DRAM bytes at the DRAM's peak, network bytes at its
    // width) (compute is the same for every candidate); ties, and objective `dram_bytes`: DRAM bytes.
    const double net_width = double(std::min(gbuf_width_, noc_width_));
    struct Cost {
      double time = 0;
      uint64_t bytes = 0;
      bool operator<(const Cost& o) const { return time < o.time || (time == o.time && bytes < o.bytes); }
    };
    // The network can be the bound only where even sending every block of every unit would take
    // longer than the DRAM time: elsewhere its estimate is skipped (the choice is the same).
    uint64_t all_sent = 0;
    for (size_t u = 0; u < plan.units.size(); ++u) all_sent += block(u, 0).bytes + block(u, 1).bytes;
    Cost best_cost{1e300, ~uint64_t(0)};
    uint64_t best_reads = 0;
    std::optional<uint64_t> best_net;  // the chosen candidate's network estimate, if made
    Candidate best = candidates.front();
    for (const Candidate& c : candidates) {
      const Order& o = orders[c.order];
      uint64_t bound = 2 * o.partial;
      for (int op = 0; op < 2; ++op) bound += c.keep[op] ? whole[op] : distinct[op];
      const Cost lower{objective_cycles_ ? double(bound) / peak_bytes_per_cycle_ : 0.0, bound};
      if (!(lower < best_cost)) continue;
      const uint64_t reads = dram_traffic(o.s.units, c.keep, whole) + o.partial;
      double time = 0;
      if (objective_cycles_) {
        time = double(reads + o.partial) / peak_bytes_per_cycle_;
        // The DRAM time is a lower bound of the memory time: the network pass only where it can decide.
        if (!(Cost{time, reads + o.partial} < best_cost)) continue;
      }
      std::optional<uint64_t> net;
      if (objective_cycles_ && double(all_sent) / net_width > time) {
        net = network_traffic(o.s);
        time = std::max(time, double(*net) / net_width);
      }
      const Cost cost{time, reads + o.partial};
      if (cost < best_cost) {
        best_cost = cost;
        best_reads = reads;
        best_net = net;
        best = c;
      }
    }
    counters_[kEstimatedDramRead] = double(best_reads);
    if (objective_cycles_ && !best_net) best_net = network_traffic(orders[best.order].s);
    counters_[kEstimatedNetwork] = double(best_net.value_or(0));
    counters_[kEstimatedMemoryCycles] = std::ceil(best_cost.time);
    Order& chosen = orders[best.order];
    for (int op = 0; op < 2; ++op) keep_[op] = best.keep[op];
    if (chosen.b_outer) counters_[kBOuterJobs] += 1;
    if (chosen.spill) counters_[kSpilledJobs] += 1;
    if (keep_[0]) counters_[kAResidentJobs] += 1;
    if (keep_[1]) counters_[kBResidentJobs] += 1;
    gbuf_.set_capacity(gbuf_bytes_ - (keep_[0] ? whole[0] : 0) - (keep_[1] ? whole[1] : 0));
    UnitSchedule& s = chosen.s;
    // The results leave once per chain, after its last unit, to their block's place in the job's
    // region (a spilled block is read back from there by its next chain, and written again).
    const ResultSlots slots = result_slots(plan, s);
    results_.assign(slots.bytes.size(), ResultBlock{});
    result_slot_.assign(plan.units.size(), 0);
    uint64_t out_bytes = 0;
    for (size_t k = 0; k < slots.bytes.size(); ++k) {
      results_[k].offset = out_bytes;
      out_bytes += slots.bytes[k];
    }
    for (size_t c = 0; c < s.chains(); ++c) {
      for (size_t i = s.chain_begin[c]; i + 1 < s.chain_end(c); ++i) chain_last_[s.units[i]] = false;
      const uint32_t last = s.units[s.chain_end(c) - 1];
      results_[slots.of_chain[c]].chains += 1;
      result_slot_[last] = slots.of_chain[c];
    }
    out_base_ = allocate(out_bytes);
    describe(plan, s, chosen.b_outer, chosen.spill, whole, best_reads);
    return std::move(s);
  }

  /// The chains reordered by their operand-1 block (weights, or the weight gradient's output
  /// gradient), stably, so that the samples and operand-0 blocks run inside each: b-outer.
  static UnitSchedule b_outer(const PassPlan& plan, const UnitSchedule& a) {
    std::vector<uint32_t> by_b(a.chains());
    std::iota(by_b.begin(), by_b.end(), 0u);
    std::stable_sort(by_b.begin(), by_b.end(), [&](uint32_t x, uint32_t y) {
      const GemmBlock &p = plan.units[a.units[a.chain_begin[x]]].block, &q = plan.units[a.units[a.chain_begin[y]]].block;
      return std::tie(p.group, p.outer, p.n_begin) < std::tie(q.group, q.outer, q.n_begin);
    });
    UnitSchedule b;
    for (uint32_t c : by_b) {
      b.chain_begin.push_back(uint32_t(b.units.size()));
      b.units.insert(b.units.end(), a.units.begin() + a.chain_begin[c], a.units.begin() + a.chain_end(c));
    }
    return b;
  }

  /// Where a schedule's chains put their results: one slot per result block, the same block of the
  /// same sample (forward, input gradient) or of the batch (weight gradient: every sample adds to
  /// dW). Chains that share a slot spill: all but the first write partial sums the next reads back.
  struct ResultSlots {
    std::vector<uint32_t> of_chain;  // slot of each chain
    std::vector<uint64_t> bytes;     // bytes of each slot
    uint64_t partial = 0;            // bytes of partial sums written and read back
  };
  ResultSlots result_slots(const PassPlan& plan, const UnitSchedule& s) const {
    using Key = std::array<uint32_t, 7>;
    std::unordered_map<Key, uint32_t, FieldsHash> slot_of;
    ResultSlots r;
    r.of_chain.reserve(s.chains());
    for (size_t c = 0; c < s.chains(); ++c) {
      const GemmBlock& g = plan.units[s.units[s.chain_end(c) - 1]].block;
      const Key key{pass_ == Pass::WeightGrad ? 0u : g.sample, g.group, g.outer, g.m_begin, g.m_end, g.n_begin, g.n_end};
      auto [it, fresh] = slot_of.try_emplace(key, uint32_t(r.bytes.size()));
      if (fresh)
        r.bytes.push_back(output_bytes(g));
      else
        r.partial += output_bytes(g);
      r.of_chain.push_back(it->second);
    }
    return r;
  }

  uint64_t fetch(uint32_t tile, const WorkUnit& unit, uint64_t now) override {
    const size_t u = size_t(&unit - plan_->units.data());
    TileState& t = tiles_[tile];
    uint64_t ready = now, in_gbuf = now;
    for (int op = 0; op < 2; ++op) {
      const OperandBlock& b = block(u, op);
      const uint32_t id = block_id_[u * 2 + op];
      if (b.bytes == 0) continue;
      // Already in this tile's buffer (the current or the prefetched block of this operand)?
      bool local = false;
      for (const auto& h : t.held[op])
        if (h.key == b.key) {
          ready = std::max(ready, h.ready);
          local = true;
        }
      if (local) {
        counters_[kTileLocalHits] += 1;
        continue;
      }
      // In the global buffer, or from DRAM.
      uint64_t at_gbuf;
      if (keep_[op]) {
        at_gbuf = resident_ready(b, op, now);
      } else if (gbuf_.touch(id)) {
        counters_[kGbufHits] += 1;
        at_gbuf = std::max(now, gbuf_ready_[id]);
      } else if (streaming_[id] > now) {
        // A block too large to keep, still arriving for another tile: the same DRAM read serves both.
        counters_[kGbufHits] += 1;
        at_gbuf = streaming_[id];
      } else {
        counters_[kGbufMisses] += 1;
        at_gbuf = dram_read(b, op, now);
        gbuf_.insert(id);
        gbuf_ready_[id] = at_gbuf;
        if (b.bytes > gbuf_.capacity()) streaming_[id] = at_gbuf;
        counters_[kGbufWrite] += double(b.bytes);
      }
      in_gbuf = std::max(in_gbuf, at_gbuf);
      // Across the network: join a multicast of the same block still in flight, or send it.
      uint64_t arrive;
      if (multicast_ && sending_[id] != kNotSent && sending_[id] >= now) {
        arrive = sending_[id];
        counters_[kNocMulticastSaved] += double(b.bytes);
      } else {
        const uint64_t start = std::max({now, at_gbuf, path_free_});
        const uint64_t width = std::min(gbuf_width_, noc_width_);
        path_free_ = start + ceil_div(b.bytes, width);
        arrive = path_free_ + noc_hops_ * noc_hop_cycles_;
        sending_[id] = arrive;
        counters_[kNocBytes] += double(b.bytes);
        counters_[kGbufRead] += double(b.bytes);
        counters_[kGbufReadByKind + kind_of(pass_, op)] += double(b.bytes);
      }
      counters_[kNocByteHops] += double(b.bytes * noc_hops_);
      counters_[kTileWrite] += double(b.bytes);
      // The tile keeps this block (beside the one it computes on, with double buffering) if it fits.
      auto& held = t.held[op];
      if (b.bytes <= chunk_budget_bytes()) {
        if (held.size() >= (double_ ? 2u : 1u)) held.erase(held.begin());
        held.push_back(Held{b.key, arrive});
      }
      ready = std::max(ready, arrive);
    }
    t.fetched_in_gbuf = in_gbuf;
    return ready;
  }

  void stalled(uint32_t tile, uint64_t from, uint64_t to) override {
    const uint64_t dram_part = std::min(to, std::max(from, tiles_[tile].fetched_in_gbuf)) - from;
    counters_[kStallDram] += double(dram_part);
    counters_[kStallNetwork] += double(to - from - dram_part);
  }

  uint64_t feed_cycles(const WorkUnit&, uint64_t compute) override {
    const uint64_t c = compute * feed_factor_;
    counters_[kStallBufferWidth] += double(c - compute);
    uint64_t values = 0;
    for (int op = 0; op < 2; ++op) values += ctx_.feed_values[op];
    counters_[kTileRead] += double(compute * values * formats_.value_bytes);
    return c;
  }

  uint64_t write(uint32_t tile, const WorkUnit& unit, uint64_t now) override {
    const size_t u = size_t(&unit - plan_->units.data());
    // Partial sums of a chain stay in the PE array until its last unit.
    const uint64_t bytes = chain_last_[u] ? output_bytes(unit.block) : 0;
    TileState& t = tiles_[tile];
    if (bytes == 0) return now;
    counters_[kOutWrite] += double(bytes);
    counters_[kOutRead] += double(bytes);
    // Tile -> global buffer over the network's return path, then posted to DRAM.
    const uint64_t start = std::max(now, write_path_free_);
    write_path_free_ = start + ceil_div(bytes, std::min(gbuf_width_, noc_width_));
    const uint64_t drained = write_path_free_ + noc_hops_ * noc_hop_cycles_;
    counters_[kNocBytes] += double(bytes);
    counters_[kNocByteHops] += double(bytes * noc_hops_);
    counters_[kGbufWrite] += double(bytes);
    counters_[kGbufRead] += double(bytes);
    // A block some chain wrote before holds partial sums: read them back and add (spilled dW).
    ResultBlock& r = results_[result_slot_[u]];
    const uint64_t addr = out_base_ + r.offset;
    const uint64_t partial_in = r.written ? dram_read_at(addr, bytes, kPartialSum, now) : now;
    if (++r.written < r.chains) counters_[kDramWritePartial] += double(bytes);
    const uint64_t done = dram_write(addr, bytes, std::max(now, partial_in));
    last_done_ = std::max({last_done_, done, drained});
    // The output buffer holds one unit's results (two with double buffering): the tile may start
    // the next unit's results once the slot it reuses has drained.
    const uint64_t free_at = std::max(now, double_ ? t.last_drain : drained);
    t.last_drain = drained;
    counters_[kStallOutput] += double(free_at - now);
    return free_at;
  }

  uint64_t end_job(uint64_t now) override {
    // A write completes for the tile once the DRAM controller buffers it; the pass ends when the
    // writes the controller has scheduled are on the bus too (the fast engine schedules a drained
    // buffer's writes at once, possibly far ahead): a row never claims bus time a later row pays.
    const uint64_t end = std::max({now, last_done_, from_dram(dram_->counters().last_completion)});
    counters_[kDrain] += double(end - now);
    counters_[kDramEnergy] = dram::energy(dram_spec_, dram_->counters()).total() - dram_energy_before_;
    counters_[kDramIoEnergy] = 8 * (counters_[kDramRead] * dram_spec_.io_read_pj_per_bit +
                                    counters_[kDramWrite] * dram_spec_.io_write_pj_per_bit);
    counters_[kDramPeakCycles] =
        std::ceil((counters_[kDramRead] + counters_[kDramWrite]) / std::max(1e-12, peak_bytes_per_cycle_));
    plan_ = nullptr;
    return end;
  }

  std::string mapping() const override { return mapping_; }

  const std::vector<CounterDef>& counter_defs() const override { return defs(); }
  std::vector<double> job_counters() const override { return counters_; }
  std::vector<SramInstance> srams() const override {
    return {{"gbuf", gbuf_bytes_}, {"tile.operand", tile_bytes_}, {"tile.output", tile_out_bytes_}};
  }

private:
  struct Held {
    uint64_t key, ready;
  };
  struct TileState {
    std::vector<Held> held[2];
    uint64_t fetched_in_gbuf = 0, last_drain = 0;
  };

  const OperandBlock& block(size_t unit, int op) const { return blocks_[unit * 2 + op]; }
  uint64_t output_bytes(const GemmBlock& b) const { return b.output_elements * formats_.value_bytes; }

  /// Sizes every unit's operand blocks from the masks, sample by sample (the plan holds each
  /// sample's units together); units share blocks (every operand-0 set meets the same operand-1
  /// chunks, every sample the same weights), so each distinct block is sized once.
  void size_blocks(const PassInput& in, const PassPlan& plan, const FormatChoice& f) {
    blocks_.assign(plan.units.size() * 2, OperandBlock{});
    sized_.clear();
    PassInput first = in;
    first.sample = plan.units.empty() ? in.sample : plan.units.front().block.sample;
    first.samples = 1;
    PassOperands operands(first, f, &prefix_scratch_);
    for (size_t u = 0; u < plan.units.size();) {
      const uint32_t sample = plan.units[u].block.sample;
      if (sample != first.sample) operands.select_sample(first.sample = sample);
      for (; u < plan.units.size() && plan.units[u].block.sample == sample; ++u) {
        const GemmBlock& g = plan.units[u].block;
        for (int o = 0; o < 2; ++o) {
          const SizedKey id = sized_key(g, o, operands.role(o) == TensorRole::Weight);
          auto it = sized_.find(id);
          if (it == sized_.end()) it = sized_.emplace(id, operands.block(o, g)).first;
          blocks_[u * 2 + o] = it->second;
        }
      }
    }
    // Dense ids of the distinct blocks (by key): the mapper's estimates index arrays by them.
    std::unordered_map<uint64_t, uint32_t> ids;
    ids.reserve(blocks_.size());
    block_id_.resize(blocks_.size());
    id_bytes_.clear();
    for (size_t i = 0; i < blocks_.size(); ++i) {
      auto [it, fresh] = ids.try_emplace(blocks_[i].key, uint32_t(id_bytes_.size()));
      if (fresh) id_bytes_.push_back(blocks_[i].bytes);
      block_id_[i] = it->second;
    }
  }
  using SizedKey = std::array<uint32_t, 8>;  // operand and the block fields its box depends on
  static SizedKey sized_key(const GemmBlock& g, int op, bool weights) {
    return {uint32_t(op), weights ? ~0u : g.sample, g.group, g.outer, op == 0 ? g.m_begin : g.n_begin,
            op == 0 ? g.m_end : g.n_end, g.k_part, g.k_parts};
  }

  /// The plan's units in chains (UnitSchedule), chains in the plan's order of their first unit (the
  /// a-outer order: sample by sample, each in its PE model's order). A chain is the reduction
  /// slices of one output block (dense WS/IS folds), and for the weight gradient, whose reduction
  /// runs over the batch, that block's units of every sample: the n-th unit with the same block
  /// fields and slice in each sample belong together (`per_sample`: each sample's on its own, dW
  /// spilled between them).
  UnitSchedule chains(const PassPlan& plan, bool per_sample) const {
    const uint32_t n = uint32_t(plan.units.size());
    bool sliced = false;
    for (const auto& u : plan.units) sliced |= u.block.k_parts > 1;
    const bool over_batch = pass_ == Pass::WeightGrad && !per_sample;
    if (!over_batch && !sliced) return UnitSchedule::in_order(n);  // every unit completes its results
    // Sorting instead of maps (this runs for every pass): first the n-th unit of each (sample, block,
    // slice) gets its occurrence n, then units with the same chain key are gathered.
    using Fields = std::array<uint32_t, 6>;
    auto fields = [&](uint32_t u) {
      const GemmBlock& g = plan.units[u].block;
      return Fields{g.group, g.outer, g.m_begin, g.m_end, g.n_begin, g.n_end};
    };
    std::vector<uint32_t> idx(n), occurrence(n);
    std::iota(idx.begin(), idx.end(), 0u);
    std::sort(idx.begin(), idx.end(), [&](uint32_t x, uint32_t y) {
      const GemmBlock &p = plan.units[x].block, &q = plan.units[y].block;
      return std::make_tuple(p.sample, fields(x), p.k_part, x) < std::make_tuple(q.sample, fields(y), q.k_part, y);
    });
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t u = idx[i], v = i ? idx[i - 1] : u;
      const GemmBlock &p = plan.units[u].block, &q = plan.units[v].block;
      const bool same = i && p.sample == q.sample && fields(u) == fields(v) && p.k_part == q.k_part;
      occurrence[u] = same ? occurrence[v] + 1 : 0;
    }
    // Chain key: (sample, except in the weight gradient, whose chains run over the batch), block fields
    // and occurrence; a chain's units in reduction order, each sample's after the previous sample's.
    auto chain_sample = [&](uint32_t u) { return over_batch ? 0u : plan.units[u].block.sample; };
    auto key = [&](uint32_t u) { return std::make_tuple(chain_sample(u), fields(u), occurrence[u]); };
    std::sort(idx.begin(), idx.end(), [&](uint32_t x, uint32_t y) {
      const GemmBlock &p = plan.units[x].block, &q = plan.units[y].block;
      return std::make_tuple(key(x), p.sample, p.k_part, x) < std::make_tuple(key(y), q.sample, q.k_part, y);
    });
    // Chains in the plan's order of their first unit (the smallest index of each chain).
    struct Chain {
      uint32_t first_unit, begin, end;  // [begin, end) in idx
    };
    std::vector<Chain> chains;
    for (uint32_t i = 0; i < n; ++i) {
      if (i == 0 || key(idx[i]) != key(idx[i - 1])) chains.push_back(Chain{idx[i], i, i});
      chains.back().first_unit = std::min(chains.back().first_unit, idx[i]);
      chains.back().end = i + 1;
    }
    std::sort(chains.begin(), chains.end(), [](const Chain& a, const Chain& b) { return a.first_unit < b.first_unit; });
    UnitSchedule s;
    for (const Chain& c : chains) {
      s.chain_begin.push_back(uint32_t(s.units.size()));
      s.units.insert(s.units.end(), idx.begin() + c.begin, idx.begin() + c.end);
    }
    return s;
  }

  /// DRAM bytes a unit order reads with this global buffer (its LRU, no timing) when the operands
  /// marked in `keep` are resident (their tensors, `whole[op]` bytes, read once): what the mapper
  /// compares.
  uint64_t dram_traffic(const std::vector<uint32_t>& order, const bool keep[2], const uint64_t whole[2]) {
    const uint64_t kept = (keep[0] ? whole[0] : 0) + (keep[1] ? whole[1] : 0);
    if (keep[0] && keep[1]) return kept;
    BlockLru cache(gbuf_bytes_ - kept, id_bytes_);
    uint64_t bytes = kept;
    for (uint32_t u : order)
      for (int op = 0; op < 2; ++op) {
        const uint32_t id = block_id_[u * 2 + op];
        if (keep[op] || id_bytes_[id] == 0 || cache.touch(id)) continue;
        bytes += id_bytes_[id];
        cache.insert(id);
      }
    return bytes;
  }

  /// The chosen mapping as a loop nest a reader can follow (the report's "mapping").
  void describe(const PassPlan& plan, const UnitSchedule& s, bool b_outer, bool spill, const uint64_t whole[2],
                uint64_t estimate) {
    std::vector<std::array<uint32_t, 3>> sets;    // operand-0 blocks per sample: (group, m range)
    std::vector<std::array<uint32_t, 4>> chunks;  // operand-1 blocks: (group, kernel position, n range)
    sets.reserve(plan.units.size());
    chunks.reserve(plan.units.size());
    uint32_t samples = 0;
    size_t longest = 0;
    for (const auto& u : plan.units) {  // every sample has the same blocks: count the first's
      samples = std::max(samples, u.block.sample + 1);
      if (u.block.sample != plan.units.front().block.sample) continue;
      sets.push_back({u.block.group, u.block.m_begin, u.block.m_end});
      chunks.push_back({u.block.group, u.block.outer, u.block.n_begin, u.block.n_end});
    }
    auto distinct = [](auto& v) {
      std::sort(v.begin(), v.end());
      v.erase(std::unique(v.begin(), v.end()), v.end());
    };
    distinct(sets);
    distinct(chunks);
    for (size_t c = 0; c < s.chains(); ++c) longest = std::max(longest, s.chain_end(c) - s.chain_begin[c]);
    const std::string a = std::string(kKindNames[kind_of(pass_, 0)]) + " set", b = std::string(kKindNames[kind_of(pass_, 1)]) + " chunk";
    const std::string na = fmt::format("for {} in {}", a, sets.size()), nb = fmt::format("for {} in {}", b, chunks.size());
    const std::string ns = fmt::format("for sample in {}", samples);
    std::string nest;
    if (pass_ == Pass::WeightGrad && !spill)  // the samples are the reduction: innermost, in one chain
      nest = (b_outer ? nb + " { " + na : na + " { " + nb) + " { " + ns + " { unit } } }";
    else
      nest = b_outer ? nb + " { " + ns + " { " + na + " { unit } } }" : ns + " { " + na + " { " + nb + " { unit } } }";
    if (spill) nest += "; dW's partial sums written after each sample and read back by the next";
    std::string kept;
    for (int op = 0; op < 2; ++op)
      kept += fmt::format("{}{} {}", op ? "; " : "", kKindNames[kind_of(pass_, op)],
                          keep_[op] ? fmt::format("resident ({} B, read once)", whole[op]) : std::string("in LRU blocks"));
    const std::string chains =
        longest > 1 ? fmt::format("; chains of up to {} units on one tile (partial sums stay in the PE array)", longest) : "";
    mapping_ = fmt::format("{}: {}{}; global buffer: {}; estimated DRAM reads {} B", b_outer ? "b-outer" : "a-outer",
                           nest, chains, kept, estimate);
  }

  /// Bytes a schedule sends over the network, estimated: chains go to tiles in turn, a tile keeps the
  /// blocks it holds (the current and, with double buffering, the next), and a block sent to a tile
  /// within the last `tiles` chains joins that multicast. No timing.
  uint64_t network_traffic(const UnitSchedule& s) const {
    const size_t tiles = std::max<size_t>(1, tiles_.size()), keep = double_ ? 2 : 1;
    std::vector<std::array<std::vector<uint32_t>, 2>> held(tiles);
    constexpr size_t kNever = ~size_t(0);
    std::vector<size_t> sent(id_bytes_.size(), kNever);  // block -> chain it was last sent for
    uint64_t bytes = 0;
    for (size_t c = 0; c < s.chains(); ++c) {
      auto& h = held[c % tiles];
      for (size_t i = s.chain_begin[c]; i < s.chain_end(c); ++i)
        for (int op = 0; op < 2; ++op) {
          const uint32_t id = block_id_[size_t(s.units[i]) * 2 + op];
          const uint64_t b = id_bytes_[id];
          if (b == 0 || std::find(h[op].begin(), h[op].end(), id) != h[op].end()) continue;
          if (sent[id] == kNever || c - sent[id] >= tiles) bytes += b;
          sent[id] = c;
          if (b <= chunk_budget_bytes()) {
            if (h[op].size() >= keep) h[op].erase(h[op].begin());
            h[op].push_back(id);
          }
        }
    }
    return bytes;
  }

  /// Bytes of operand `op`'s distinct blocks in this job (what streaming it reads at least).
  uint64_t distinct_bytes(int op) const {
    std::vector<bool> seen(id_bytes_.size(), false);
    uint64_t total = 0;
    for (size_t u = 0; u < plan_->units.size(); ++u) {
      const uint32_t id = block_id_[u * 2 + op];
      if (!seen[id]) total += id_bytes_[id];
      seen[id] = true;
    }
    return total;
  }

  /// Bytes of every tensor operand `op` reads in this job (each sample's map, or the weights once).
  uint64_t resident_bytes(int op) const {
    std::unordered_map<uint64_t, uint64_t> tensors;
    for (size_t u = 0; u < plan_->units.size(); ++u) {
      const OperandBlock& b = block(u, op);
      if (b.bytes) tensors.emplace(b.tensor, b.tensor_bytes);
    }
    uint64_t total = 0;
    for (const auto& [t, bytes] : tensors) total += bytes;
    return total;
  }

  /// A resident tensor is read from DRAM once, front to back, as far as its blocks need it: a block
  /// is in the global buffer once the tensor has arrived up to the block's last element.
  struct ResidentTensor {
    uint64_t base = 0, loaded = 0;
    std::vector<uint64_t> chunk_ready;  // cycle each chunk of kResidentChunk bytes arrived (running max)
  };
  static constexpr uint64_t kResidentChunk = 8192;  // one DRAM row of every channel for the presets
  uint64_t resident_ready(const OperandBlock& b, int op, uint64_t now) {
    auto [it, fresh] = resident_.try_emplace(b.tensor);
    ResidentTensor& r = it->second;
    if (fresh) r.base = base_of(b);
    const uint64_t need = std::min(b.tensor_bytes, std::max(b.span_end, b.offset + b.bytes));
    if (r.loaded < need) {
      counters_[kGbufMisses] += 1;
      while (r.loaded < need) {
        const uint64_t len = std::min(kResidentChunk, b.tensor_bytes - r.loaded);
        const uint64_t at = dram_read_at(r.base + r.loaded, len, kind_of(pass_, op), now);
        counters_[kGbufWrite] += double(len);
        r.chunk_ready.push_back(std::max(at, r.chunk_ready.empty() ? 0 : r.chunk_ready.back()));
        r.loaded += len;
      }
    } else {
      counters_[kGbufHits] += 1;
    }
    const size_t last = need == 0 ? 0 : size_t((need - 1) / kResidentChunk);
    return std::max(now, r.chunk_ready.empty() ? now : r.chunk_ready[std::min(last, r.chunk_ready.size() - 1)]);
  }

  /// Bump allocator over DRAM (docs/memory.md): regions in order of first use, each aligned to 8 KiB
  /// (a DRAM row of every channel for the presets' mappings), wrapping at capacity.
  uint64_t allocate(uint64_t bytes) {
    constexpr uint64_t kAlign = 8192;
    const uint64_t size = std::max<uint64_t>(kAlign, ceil_div(bytes, kAlign) * kAlign);
    const uint64_t cap = dram_spec_.capacity_bytes();
    if (next_free_ + size > cap) next_free_ = 0;
    const uint64_t base = next_free_;
    next_free_ += size;
    return base;
  }
  uint64_t to_dram(uint64_t cycle) const { return uint64_t(std::ceil(double(cycle) * dram_ratio_ - 1e-9)); }
  uint64_t from_dram(uint64_t cycle) const { return uint64_t(std::ceil(double(cycle) / dram_ratio_ - 1e-9)); }

  uint64_t dram_address(uint64_t addr, uint64_t bytes) const {
    const uint64_t cap = dram_spec_.capacity_bytes();
    addr -= addr % dram_spec_.burst_bytes();
    if (addr + bytes > cap) addr = 0;  // a block never wraps: start it over at 0
    return addr;
  }
  uint64_t base_of(const OperandBlock& b) { return layout_of(b).base; }
  /// A tensor's DRAM region, and where its blocks lie (docs/memory.md, DRAM layout).
  struct TensorLayout {
    uint64_t base = 0;            // the whole tensor, C order (what a resident tensor streams)
    uint64_t blocks_base = 0, blocks_size = 0, blocks_next = 0;  // the region its blocks are laid out in
    std::unordered_map<uint64_t, uint64_t> block_at;  // block key -> address
    uint64_t last_job = 0;        // the last job that read it
  };
  TensorLayout& layout_of(const OperandBlock& b) {
    auto [it, fresh] = layouts_.try_emplace(b.tensor);
    if (fresh) {
      it->second.base = allocate(b.tensor_bytes);
      it->second.blocks_base = it->second.base;
      it->second.blocks_size = std::max<uint64_t>(b.tensor_bytes, 1);
    }
    it->second.last_job = jobs_;
    return it->second;
  }
  /// A layer's passes are consecutive jobs and share tensors (weights, activations, gradients); a
  /// tensor no job read for kLayoutJobs jobs belongs to an earlier layer and is never read again, so
  /// its layout is dropped: memory stays bounded however long the trace.
  static constexpr uint64_t kLayoutJobs = 3;
  void forget_old_layouts() {
    for (auto it = layouts_.begin(); it != layouts_.end();)
      it = jobs_ - it->second.last_job >= kLayoutJobs ? layouts_.erase(it) : std::next(it);
  }
  /// A block's address: blocks of a tensor are stored one after another in the order they are first
  /// read (the tiled layout an accelerator writes its tensors in), each distinct block in bytes of its
  /// own. Boxes of neighbouring units overlap (halos) and a box is not contiguous in C order, so
  /// placing a block at its first element's share would give different data the same bursts, which
  /// the DRAM then merges: bandwidth beyond the bus's peak. When a tensor's blocks outgrow its region
  /// the next ones go to a fresh region.
  uint64_t block_address(const OperandBlock& b) {
    TensorLayout& t = layout_of(b);
    auto [it, fresh] = t.block_at.try_emplace(b.key, 0);
    if (fresh) {
      const uint64_t burst = dram_spec_.burst_bytes(), size = ceil_div(b.bytes, burst) * burst;
      if (t.blocks_next + size > t.blocks_size) {
        t.blocks_size = std::max(size, t.blocks_size);
        t.blocks_base = allocate(t.blocks_size);
        t.blocks_next = 0;
      }
      it->second = t.blocks_base + t.blocks_next;
      t.blocks_next += size;
    }
    return it->second;
  }
  uint64_t dram_read(const OperandBlock& b, int op, uint64_t now) {
    return dram_read_at(block_address(b), b.bytes, kind_of(pass_, op), now);
  }
  uint64_t dram_read_at(uint64_t addr, uint64_t bytes, OperandKind kind, uint64_t now) {
    counters_[kDramRead] += double(bytes);
    counters_[kDramReadByKind + kind] += double(bytes);
    return from_dram(dram_->transfer(dram_address(addr, bytes), bytes, false, to_dram(now)));
  }
  uint64_t dram_write(uint64_t addr, uint64_t bytes, uint64_t now) {
    counters_[kDramWrite] += double(bytes);
    return from_dram(dram_->transfer(dram_address(addr, bytes), bytes, true, to_dram(now)));
  }

  uint64_t gbuf_bytes_, gbuf_width_, tile_bytes_, tile_out_bytes_, tile_width_, noc_width_, noc_hops_, noc_hop_cycles_;
  bool multicast_, double_;
  FormatChoice formats_;
  LoopOrder order_ = LoopOrder::Auto;
  Residency residency_ = Residency::Auto;
  bool objective_cycles_ = true;
  MemoryContext ctx_;
  dram::Spec dram_spec_;
  std::unique_ptr<dram::System> dram_;
  double dram_ratio_ = 1, peak_bytes_per_cycle_ = 1;
  uint64_t feed_factor_ = 1;
  // the global buffer and the network during a job, by block id
  BlockLru gbuf_;
  std::vector<uint64_t> gbuf_ready_;  // cycle a kept block is (or will be) in the buffer
  std::vector<uint64_t> streaming_;   // block too large to keep -> cycle its DRAM read arrives (0: none)
  static constexpr uint64_t kNotSent = ~uint64_t(0);
  std::vector<uint64_t> sending_;     // block -> cycle its last network send arrives
  std::unordered_map<uint64_t, TensorLayout> layouts_;  // tensor -> its DRAM regions
  uint64_t next_free_ = 0, path_free_ = 0, write_path_free_ = 0, jobs_ = 0;
  std::vector<TileState> tiles_;
  // the current job
  PrefixScratch prefix_scratch_;
  const PassPlan* plan_ = nullptr;
  Pass pass_ = Pass::Forward;
  std::vector<OperandBlock> blocks_;          // [unit * 2 + operand]
  std::vector<uint32_t> block_id_;            // [unit * 2 + operand]: dense id of its block (by key)
  std::vector<uint64_t> id_bytes_;            // bytes of each distinct block
  std::vector<bool> chain_last_;              // per unit: the last of its chain (writes the results)
  bool keep_[2] = {false, false};             // operands resident in the global buffer this job
  struct ResultBlock {
    uint64_t offset = 0;               // in the job's result region
    uint32_t chains = 0, written = 0;  // chains that write it, and how many have
  };
  std::vector<ResultBlock> results_;    // the job's result blocks: place and progress
  std::vector<uint32_t> result_slot_;   // per unit that ends a chain: its result block
  std::string mapping_;                       // the job's mapping, described
  std::unordered_map<uint64_t, ResidentTensor> resident_;  // tensor -> how much of it has arrived
  std::unordered_map<SizedKey, OperandBlock, FieldsHash> sized_;  // operand-side block fields -> its sizing
  std::vector<double> counters_ = std::vector<double>(kCounters, 0.0);
  double dram_energy_before_ = 0;
  uint64_t out_base_ = 0, last_done_ = 0;
};

}  // namespace
SWATSIM_REGISTER_MEMORY(Hierarchy, "hierarchy",
                        "global buffer, per-tile operand buffers, a network and DRAM (the config's dram section); "
                        "operands in compressed formats from their real masks (docs/memory.md)");
}  // namespace swatsim::arch
