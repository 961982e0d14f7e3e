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
#include "levels.hpp"

namespace swatsim::arch {
namespace {

// The hierarchy's own counters (declared first, in this order; the levels' follow, see build()).
enum Counter : size_t {
  kStallDram, kStallNetwork, kStallBufferWidth, kStallOutput, kDrain,
  kBOuterJobs, kTiledJobs, kAResidentJobs, kBResidentJobs, kSpilledJobs,
  kEstimatedDramRead, kEstimatedNetwork, kEstimatedMemoryCycles, kEstimatedEnergy, kEstimatedObjective, kOwnCounters
};

void declare_own(JobCounters& c) {
  const std::pair<const char*, std::pair<Unit, const char*>> own[] = {
      {"stall.dram_cycles", {Unit::Cycles, "tile-cycles waiting for operands on their way to the global buffer (from DRAM or an outer SRAM level)"}},
      {"stall.network_cycles", {Unit::Cycles, "tile-cycles waiting for operands in the global buffer to cross the network"}},
      {"stall.buffer_width_cycles", {Unit::Cycles, "tile-cycles the tile buffers' width could not feed the PE array"}},
      {"stall.output_cycles", {Unit::Cycles, "tile-cycles waiting for the output buffer to drain"}},
      {"stall.drain_cycles", {Unit::Cycles, "cycles after the last tile finished until the last result was in DRAM"}},
      {"tiling.b_outer_jobs", {Unit::Count, "passes run with operand-1 blocks in the outer loop (the others: operand-0 outer)"}},
      {"tiling.tiled_jobs", {Unit::Count, "passes whose mapping walks tiles of several blocks of one operand in the global buffer "
                                          "(tiling.b_outer_jobs counts those tiled by operand-1 blocks)"}},
      {"tiling.a_resident_jobs", {Unit::Count, "passes that kept operand 0 (the activation side) whole in the global buffer, read once"}},
      {"tiling.b_resident_jobs",
       {Unit::Count, "passes that kept operand 1 (weights; weight gradient: the output gradient) whole in the global buffer, read once"}},
      {"tiling.spilled_jobs", {Unit::Count, "weight-gradient passes run sample by sample, dW's partial sums written to DRAM and read back"}},
      {"tiling.estimated_dram_read_bytes",
       {Unit::Bytes, "the mapper's estimate of dram.read_bytes for the mapping it chose (LRU over the unit order, no timing)"}},
      {"tiling.estimated_network_bytes",
       {Unit::Bytes, "the mapper's estimate of the bytes its mapping sends from the global buffer to the tiles (objectives cycles, "
                     "energy, edp; else 0)"}},
      {"tiling.estimated_memory_cycles",
       {Unit::Cycles, "the mapper's estimate of the memory time of its mapping: the longest of DRAM bytes at peak, each outer SRAM "
                      "level's bytes at its width and network bytes at its width (0 with objective dram_bytes)"}},
      {"tiling.estimated_movement_energy_pj",
       {Unit::PicoJoules, "the mapper's estimate of the data-movement energy of its mapping (objectives energy and edp; else 0)"}},
      {"tiling.estimated_objective",
       {Unit::Count, "the mapper's objective for its mapping, the least among its candidates: cycles, max(balanced compute, "
                     "memory time) (objective cycles), DRAM bytes moved (dram_bytes), pJ (energy) or pJ x cycles (edp)"}},
  };
  for (const auto& [name, what] : own) c.declare(name, what.first, what.second);
}

enum class LoopOrder { Auto, AOuter, BOuter };
enum class Residency { Auto, None, A, B, Both };
enum class Objective { Cycles, DramBytes, Energy, Edp };

/// Hash of a fixed-size key of 32-bit fields (block and result keys of one job).
struct FieldsHash {
  template <size_t N>
  size_t operator()(const std::array<uint32_t, N>& k) const {
    uint64_t h = 0;
    for (uint32_t x : k) h = (h ^ x) * 0x9e3779b97f4a7c15ULL;
    return size_t(h ^ (h >> 29));
  }
};

class Hierarchy final : public MemoryModel {
public:
  explicit Hierarchy(const ParamSet& p) : double_(p.get_choice("double_buffering") == "on") {
    formats_.value_bytes = p.get_choice("data_type") == "fp32" ? 4 : 2;
    const char* keys[3] = {"activation_format", "weight_format", "gradient_format"};
    for (int r = 0; r < 3; ++r) formats_.format[r] = *storage_format_from_string(p.get_choice(keys[r]));
    const std::string& lo = p.get_choice("loop_order");
    order_ = lo == "a-outer" ? LoopOrder::AOuter : lo == "b-outer" ? LoopOrder::BOuter : LoopOrder::Auto;
    const std::string& obj = p.get_choice("mapper_objective");
    objective_ = obj == "dram_bytes" ? Objective::DramBytes
                 : obj == "energy"   ? Objective::Energy
                 : obj == "edp"      ? Objective::Edp
                                     : Objective::Cycles;
    const std::string& res = p.get_choice("gbuf_residency");
    residency_ = res == "none"       ? Residency::None
                 : res == "operand0" ? Residency::A
                 : res == "operand1" ? Residency::B
                 : res == "both"     ? Residency::Both
                                     : Residency::Auto;
    build(levels_from_flat(p));
  }

  static std::vector<ParamSpec> params() {
    const std::vector<std::string> formats{"dense", "bitmap", "csr", "rle"};
    std::vector<ParamSpec> specs = {
        ParamSpec::choice("data_type", "value type of operands and results: bf16 (2 bytes) or fp32 (4)", "bf16", {"bf16", "fp32"}),
        ParamSpec::choice("activation_format", "storage format of activations in DRAM and buffers", "bitmap", formats),
        ParamSpec::choice("weight_format", "storage format of weights", "bitmap", formats),
        ParamSpec::choice("gradient_format", "storage format of output gradients", "bitmap", formats),
        ParamSpec::choice("double_buffering", "on: a tile fetches its next unit while it computes", "on", {"on", "off"}),
        ParamSpec::choice("loop_order", "a-outer: operand-0 blocks outer; b-outer: operand-1 blocks outer; auto: the mapper's "
                          "choice by its objective", "auto", {"auto", "a-outer", "b-outer"}),
        ParamSpec::choice("gbuf_residency", "operands kept whole in the global buffer for a pass and read from DRAM once: "
                          "operand0 (the activation side), operand1 (weights; weight gradient: the output gradient), both, "
                          "none, or auto: the mapper's choice among those whose tensors fit (ties: fewer kept)",
                          "auto", {"auto", "none", "operand0", "operand1", "both"}),
        ParamSpec::choice("mapper_objective", "what the mapper minimises (docs/memory.md): cycles (the memory time: the longest "
                          "of DRAM bytes at peak bandwidth, each outer SRAM level's bytes and the network bytes at their widths; "
                          "ties by DRAM bytes), dram_bytes, energy (estimated data-movement energy) or edp (estimated energy x "
                          "the longer of compute and memory time)",
                          "cycles", {"cycles", "dram_bytes", "energy", "edp"}),
    };
    // The flat form of the levels (a global buffer, a network, tile buffers), kept for configs
    // without `levels`: each key is its level parameter under another name.
    for (const FlatLevelKey& k : flat_level_keys())
      for (const ParamSpec& lp : level_params(k.level_type))
        if (lp.name == k.param) {
          ParamSpec f = lp;
          f.name = k.key;
          const std::string owner = std::string(k.level_type) == "sram" ? "global buffer" : std::string(k.level_type) == "network" ? "network" : "tile buffers";
          f.description = owner + ": " + lp.description + " (levels form: the " + k.level_type + " level's \"" + k.param + "\")";
          specs.push_back(f);
        }
    return specs;
  }

  void set_levels(const std::vector<LevelConfig>& levels) override {
    if (levels.empty()) return;
    check_levels(levels);
    build(levels);
  }

  const std::string& type() const override {
    static const std::string t = "hierarchy";
    return t;
  }

  void attach(const MemoryContext& c) override {
    if (!c.dram) throw std::invalid_argument("a hierarchy memory needs a DRAM (the config's dram section)");
    ctx_ = c;
    dram_.attach(*c.dram, c.clock_ghz);
    tiles_.assign(c.tiles, TileState{});
    feed_factor_ = 1;
    for (int op = 0; op < 2; ++op)
      feed_factor_ = std::max<uint64_t>(feed_factor_, ceil_div(c.feed_values[op] * formats_.value_bytes, tile_->width));
    if (objective_ == Objective::Energy || objective_ == Objective::Edp) {
      if (!c.energy || c.energy->actions.empty())
        throw std::invalid_argument("mapper_objective: \"energy\" and \"edp\" need an energy table (the config's energy section)");
      const EnergyTable& e = *c.energy;
      const dram::Spec& d = dram_.spec();
      prices_.mac = e.pj(formats_.value_bytes == 4 ? "mac.fp32" : "mac.bf16");
      // A byte in a read burst: the burst's core energy shared by its bytes, and the interface's.
      prices_.dram_byte = dram::command_energy(d).rd / double(d.burst_bytes()) + 8 * d.io_read_pj_per_bit;
      prices_.hop = e.pj("noc.byte_hop");
      prices_.tile_operand = e.sram_pj_per_byte(tile_->operand_bytes);
      prices_.leak_per_cycle = double(c.tiles) * double(c.multipliers_per_tile) * e.pj("leakage.multiplier_cycle");
      prices_.sram.clear();
      for (const SramLevel* l : srams_) prices_.sram.push_back(e.sram_pj_per_byte(l->bytes()));
    }
  }

  bool double_buffered() const override { return double_; }
  uint64_t chunk_budget_bytes() const override { return double_ ? tile_->operand_bytes / 2 : tile_->operand_bytes; }
  uint32_t value_bytes() const override { return formats_.value_bytes; }

  void begin_job(const PassInput& in, const PassPlan& plan, bool exploit) override {
    FormatChoice f = formats_;
    if (!exploit)  // the dense baseline stores every operand dense
      for (auto& x : f.format) x = StorageFormat::Dense;
    plan_ = &plan;
    pass_ = in.pass;
    counters_.clear();
    dram_.begin_job();
    size_blocks(in, plan, f);
    chain_last_.assign(plan.units.size(), true);
    // Every pass starts with empty buffers: the replay runs a layer's three passes one after another,
    // but in training a layer's backward passes come after every other layer's forward, so nothing a
    // pass left on chip would still be there (and a row's figures do not depend on which layers were
    // selected before it).
    for (SramLevel* l : srams_) l->begin_job(id_bytes_);
    for (auto& t : tiles_) t = TileState{};
    resident_.clear();
    last_done_ = 0;
    noc_->sending.assign(id_bytes_.size(), NetworkLevel::kNotSent);
  }

  UnitSchedule schedule(const PassPlan& plan) override {
    // The mapper (docs/memory.md). Unit orders: the chains (over the batch; in the weight gradient
    // also sample by sample, spilling dW's partial sums) in a-outer and b-outer order; for each, the
    // residencies that fit. Each candidate is estimated without timing (the bytes it moves at each
    // level: memory_traffic, network_traffic) and the least cost by the objective wins (cost_of); the
    // first of equals wins (a-outer before b-outer, over the batch before spilling, fewer resident
    // operands before more).
    uint64_t whole[2];
    for (int op = 0; op < 2; ++op) whole[op] = resident_bytes(op);
    struct Order {
      UnitSchedule s;
      bool b_outer, spill;
      uint64_t partial = 0;  // bytes of partial sums written and read back
      int tile_op = -1;      // tiles of `tile` blocks of this operand (-1: untiled)
      uint32_t tile = 0;
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
        const bool fits = (keep_a ? whole[0] : 0) + (keep_b ? whole[1] : 0) <= srams_.back()->bytes();
        if (!fits && residency_ == Residency::Auto) continue;
        candidates.push_back(Candidate{o, {keep_a && fits, keep_b && fits}});
      }
    // A streamed operand reads each distinct block at least once: with it, a bound that skips the
    // LRU pass of a candidate that cannot win (exact: the choice is the same without it).
    uint64_t distinct[2];
    for (int op = 0; op < 2; ++op) distinct[op] = distinct_bytes(op);
    // The network can be the bound of the memory time only where even sending every block of every
    // unit would take longer than the rest: elsewhere objective `cycles` skips its estimate (the
    // choice is the same). The energy objectives price it always.
    uint64_t all_sent = 0;
    for (size_t u = 0; u < plan.units.size(); ++u) all_sent += block(u, 0).bytes + block(u, 1).bytes;
    const bool priced = objective_ == Objective::Energy || objective_ == Objective::Edp;
    // The tiles' compute, perfectly balanced: the same for every candidate, and the floor of its cycles.
    const double compute = double(plan.serial_cycles()) / double(std::max<size_t>(1, tiles_.size()));
    double fixed_pj = 0;  // MACs: the same for every candidate, but part of the energy an EDP multiplies
    if (priced)
      for (const auto& u : plan.units) fixed_pj += double(u.macs_effectual) * prices_.mac;
    Cost best_cost{1e300, ~uint64_t(0), ~uint64_t(0)};
    Traffic best_traffic;
    Candidate best = candidates.front();
    // A candidate's lower bound: the DRAM reads it must make (each candidate's cost grows with every term).
    auto lower_bound = [&](const Candidate& c) {
      Traffic t;
      t.dram_moved = 2 * orders[c.order].partial;
      for (int op = 0; op < 2; ++op) t.dram_moved += c.keep[op] ? whole[op] : distinct[op];
      return cost_of(t, compute, fixed_pj);
    };
    auto consider = [&](const Candidate& c, bool must_cut_dram) {
      const Order& o = orders[c.order];
      if (!(lower_bound(c) < best_cost)) return;
      Traffic t = memory_traffic(o.s, c.keep, whole);
      t.dram_moved = t.dram_reads + 2 * o.partial;
      t.dram_reads += o.partial;
      if (!(cost_of(t, compute, fixed_pj) < best_cost) || (must_cut_dram && t.dram_moved >= best_traffic.dram_moved)) return;
      if (priced || (objective_ == Objective::Cycles && double(all_sent) / net_width() > std::max(compute, memory_time(t)))) {
        t.network = network_traffic(o.s);
        t.network_known = true;
      }
      const Cost cost = cost_of(t, compute, fixed_pj);
      if (cost < best_cost) {
        best_cost = cost;
        best_traffic = t;
        best = c;
      }
    };
    for (const Candidate& c : candidates) consider(c, false);
    // Tile sizes at the global buffer: between a-outer (a tile of one operand-0 block walks every
    // operand-1 block) and b-outer lie tiles of T operand-0 blocks, each tile walking every operand-1
    // block once while its T blocks stay in the buffer; symmetrically, tiles of T operand-1 blocks.
    // Tried (streaming both operands, over the batch) only where the orders above miss the
    // compulsory traffic, for T = 2, 4, 8, ... whose tile fits in the buffer beside the largest block
    // of the other operand, and kept only if it also reads less from DRAM: the network estimate
    // assumes that tiles given the same block at about the same time share one multicast, which the
    // timed tiles, out of step, often do not, so a tiling chosen for its network bytes alone can
    // cost more than it saves.
    const Candidate streamed{0, {false, false}};
    if (order_ == LoopOrder::Auto && (residency_ == Residency::Auto || residency_ == Residency::None) &&
        lower_bound(streamed) < best_cost) {
      const UnitSchedule a = orders.front().s;  // a-outer over the batch (a copy: `orders` grows)
      for (int op = 0; op < 2; ++op) {
        uint64_t count = 0, largest_other = 0;
        std::vector<bool> seen(id_bytes_.size(), false);
        for (size_t u = 0; u < plan.units.size(); ++u) {
          const uint32_t id = block_id_[u * 2 + op];
          count += !seen[id] && id_bytes_[id] > 0;
          seen[id] = true;
          largest_other = std::max(largest_other, block(u, 1 - op).bytes);
        }
        const double mean = count ? double(distinct[op]) / double(count) : 0.0;
        for (uint64_t t = 2; t < count && double(t) * mean + double(largest_other) <= double(srams_.back()->bytes()); t *= 2) {
          orders.push_back(Order{tiled(plan, a, op, uint32_t(t)), op == 1, false, 0, op, uint32_t(t)});
          consider(Candidate{orders.size() - 1, {false, false}}, true);
          if (!(lower_bound(streamed) < best_cost)) break;  // compulsory: nothing can do better
        }
      }
    }
    Traffic& bt = best_traffic;
    if (objective_ != Objective::DramBytes && !bt.network_known) {
      bt.network = network_traffic(orders[best.order].s);
      bt.network_known = true;
    }
    counters_[kEstimatedDramRead] = double(bt.dram_reads);
    counters_[kEstimatedNetwork] = double(bt.network);
    counters_[kEstimatedMemoryCycles] = objective_ == Objective::DramBytes ? 0.0 : std::ceil(memory_time(bt));
    counters_[kEstimatedEnergy] = priced ? movement_pj(bt) : 0.0;
    counters_[kEstimatedObjective] = objective_ == Objective::DramBytes ? double(best_cost.bytes) : best_cost.value;
    Order& chosen = orders[best.order];
    for (int op = 0; op < 2; ++op) keep_[op] = best.keep[op];
    if (chosen.b_outer) counters_[kBOuterJobs] += 1;
    if (chosen.tile_op >= 0) counters_[kTiledJobs] += 1;
    if (chosen.spill) counters_[kSpilledJobs] += 1;
    if (keep_[0]) counters_[kAResidentJobs] += 1;
    if (keep_[1]) counters_[kBResidentJobs] += 1;
    srams_.back()->lru.set_capacity(srams_.back()->bytes() - (keep_[0] ? whole[0] : 0) - (keep_[1] ? whole[1] : 0));
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
    out_base_ = dram_.allocate(out_bytes);
    describe(plan, s, chosen.b_outer, chosen.spill, chosen.tile_op, chosen.tile, whole, bt.dram_reads);
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

  /// The a-outer schedule `a` with operand `op`'s blocks in tiles of `tile` (docs/memory.md, tile
  /// sizes): op 0, tiles of `tile` operand-0 blocks in a-outer order, each tile's chains by operand-1
  /// block (b-outer inside the tile); op 1, tiles of `tile` operand-1 blocks in b-outer order, each
  /// tile's chains in a-outer order. Chains stay whole.
  UnitSchedule tiled(const PassPlan& plan, const UnitSchedule& a, int op, uint32_t tile) const {
    const size_t n = a.chains();
    using BKey = std::tuple<uint32_t, uint32_t, uint32_t>;  // the b-outer key: (group, outer, n_begin)
    auto bkey = [&](size_t c) {
      const GemmBlock& g = plan.units[a.units[a.chain_begin[c]]].block;
      return BKey{g.group, g.outer, g.n_begin};
    };
    std::vector<uint32_t> tile_of(n);
    if (op == 0) {  // operand-0 blocks ranked in order of first use
      std::vector<uint32_t> rank(id_bytes_.size(), ~0u);
      uint32_t next = 0;
      for (size_t c = 0; c < n; ++c) {
        const uint32_t id = block_id_[size_t(a.units[a.chain_begin[c]]) * 2];
        if (rank[id] == ~0u) rank[id] = next++;
        tile_of[c] = rank[id] / tile;
      }
    } else {  // operand-1 blocks ranked in b-outer order
      std::vector<BKey> keys(n);
      for (size_t c = 0; c < n; ++c) keys[c] = bkey(c);
      std::vector<BKey> sorted = keys;
      std::sort(sorted.begin(), sorted.end());
      sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
      for (size_t c = 0; c < n; ++c)
        tile_of[c] = uint32_t(std::lower_bound(sorted.begin(), sorted.end(), keys[c]) - sorted.begin()) / tile;
    }
    std::vector<uint32_t> by(n);
    std::iota(by.begin(), by.end(), 0u);
    std::stable_sort(by.begin(), by.end(), [&](uint32_t x, uint32_t y) {
      if (tile_of[x] != tile_of[y]) return tile_of[x] < tile_of[y];
      return op == 0 && bkey(x) < bkey(y);
    });
    UnitSchedule s;
    for (uint32_t c : by) {
      s.chain_begin.push_back(uint32_t(s.units.size()));
      s.units.insert(s.units.end(), a.units.begin() + a.chain_begin[c], a.units.begin() + a.chain_end(c));
    }
    return s;
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
    SramLevel& gbuf = *srams_.back();
    NetworkLevel& noc = *noc_;
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
        counters_[tile_->c_local_hits] += 1;
        continue;
      }
      // In the global buffer, or from the levels outside it.
      uint64_t at_gbuf;
      if (keep_[op]) {
        at_gbuf = resident_ready(b, op, now);
      } else if (gbuf.lru.touch(id)) {
        counters_[gbuf.c_hits] += 1;
        at_gbuf = std::max(now, gbuf.ready[id]);
      } else if (gbuf.streaming[id] > now) {
        // A block too large to keep, still arriving for another tile: the same read serves both.
        counters_[gbuf.c_hits] += 1;
        at_gbuf = gbuf.streaming[id];
      } else {
        counters_[gbuf.c_misses] += 1;
        at_gbuf = fill(srams_.size() - 1, id, b, op, now);
        gbuf.lru.insert(id);
        gbuf.ready[id] = at_gbuf;
        if (b.bytes > gbuf.lru.capacity()) gbuf.streaming[id] = at_gbuf;
        counters_[gbuf.c_write] += double(b.bytes);
      }
      in_gbuf = std::max(in_gbuf, at_gbuf);
      // Across the network: join a multicast of the same block still in flight, or send it.
      uint64_t arrive;
      if (noc.multicast && noc.sending[id] != NetworkLevel::kNotSent && noc.sending[id] >= now) {
        arrive = noc.sending[id];
        counters_[noc.c_saved] += double(b.bytes);
      } else {
        const uint64_t start = std::max({now, at_gbuf, noc.path_free});
        noc.path_free = start + ceil_div(b.bytes, uint64_t(net_width()));
        arrive = noc.path_free + noc.hops * noc.hop_cycles;
        noc.sending[id] = arrive;
        counters_[noc.c_bytes] += double(b.bytes);
        counters_[gbuf.c_read] += double(b.bytes);
        counters_[gbuf.c_read_kind + kind_of(pass_, op)] += double(b.bytes);
      }
      counters_[noc.c_byte_hops] += double(b.bytes * noc.hops);
      counters_[tile_->c_write] += double(b.bytes);
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

  /// Brings block `id` into SRAM level `level` from the level outside it (an outer SRAM that keeps
  /// it, or DRAM); returns the cycle it has arrived. An outer level reads it out through its port.
  uint64_t fill(size_t level, uint32_t id, const OperandBlock& b, int op, uint64_t now) {
    if (level == 0) return dram_.read(dram_.block_address(b), b.bytes, kind_of(pass_, op), now);
    SramLevel& o = *srams_[level - 1];
    uint64_t at;
    if (o.lru.touch(id)) {
      counters_[o.c_hits] += 1;
      at = std::max(now, o.ready[id]);
    } else {
      counters_[o.c_misses] += 1;
      at = fill(level - 1, id, b, op, now);
      o.lru.insert(id);
      o.ready[id] = at;
      counters_[o.c_write] += double(b.bytes);
    }
    o.port_free = std::max(at, o.port_free) + ceil_div(b.bytes, o.width());
    counters_[o.c_read] += double(b.bytes);
    counters_[o.c_read_kind + kind_of(pass_, op)] += double(b.bytes);
    return o.port_free;
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
    counters_[tile_->c_read] += double(compute * values * formats_.value_bytes);
    return c;
  }

  uint64_t write(uint32_t tile, const WorkUnit& unit, uint64_t now) override {
    const size_t u = size_t(&unit - plan_->units.data());
    // Partial sums of a chain stay in the PE array until its last unit.
    const uint64_t bytes = chain_last_[u] ? output_bytes(unit.block) : 0;
    TileState& t = tiles_[tile];
    if (bytes == 0) return now;
    counters_[tile_->c_out_write] += double(bytes);
    counters_[tile_->c_out_read] += double(bytes);
    // Tile -> global buffer over the network's return path, then posted out through the outer SRAM
    // levels' ports to DRAM.
    NetworkLevel& noc = *noc_;
    const uint64_t start = std::max(now, noc.write_path_free);
    noc.write_path_free = start + ceil_div(bytes, uint64_t(net_width()));
    const uint64_t drained = noc.write_path_free + noc.hops * noc.hop_cycles;
    counters_[noc.c_bytes] += double(bytes);
    counters_[noc.c_byte_hops] += double(bytes * noc.hops);
    counters_[srams_.back()->c_write] += double(bytes);
    counters_[srams_.back()->c_read] += double(bytes);
    // A block some chain wrote before holds partial sums: read them back and add (spilled dW).
    ResultBlock& r = results_[result_slot_[u]];
    const uint64_t addr = out_base_ + r.offset;
    const uint64_t partial_in = r.written ? dram_.read(addr, bytes, kPartialSum, now) : now;
    if (++r.written < r.chains) counters_[dram_.c_write_partial] += double(bytes);
    uint64_t out = std::max(now, partial_in);
    for (size_t l = srams_.size() - 1; l-- > 0;) {
      SramLevel& o = *srams_[l];
      counters_[o.c_write] += double(bytes);
      counters_[o.c_read] += double(bytes);
      out = o.port_free = std::max(out, o.port_free) + ceil_div(bytes, o.width());
    }
    const uint64_t done = dram_.write(addr, bytes, out);
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
    const uint64_t end = std::max({now, last_done_, dram_.end_job()});
    counters_[kDrain] += double(end - now);
    plan_ = nullptr;
    return end;
  }

  std::string mapping() const override { return mapping_; }

  const std::vector<CounterDef>& counter_defs() const override { return counters_.defs(); }
  std::vector<double> job_counters() const override { return counters_.values(); }
  std::vector<AreaItem> area_items(const AreaTable& table, uint32_t tiles) const override {
    std::vector<AreaItem> a;
    for (const auto& l : levels_) a.push_back(l->area(table, tiles));
    return a;
  }

  std::vector<EnergyAction> energy_actions() const override {
    std::vector<EnergyAction> a = dram_.energy_actions();
    for (const auto& l : levels_) {
      auto more = l->energy_actions();
      a.insert(a.end(), more.begin(), more.end());
    }
    return a;
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

  /// What a mapping moves, estimated without timing: what the mapper compares.
  struct Traffic {
    uint64_t dram_reads = 0;          // DRAM bytes read (operands; partial sums read back)
    uint64_t dram_moved = 0;          // DRAM bytes read and written that depend on the mapping
    std::vector<uint64_t> into, out;  // per SRAM level: bytes it receives, and (outer levels) sends inward
    uint64_t network = 0;             // bytes the innermost SRAM sends to the tiles
    bool network_known = false;
  };
  /// A candidate's cost by the objective; ties by DRAM bytes moved, then by the bytes the outer SRAM
  /// levels send inward (with an L2 two orders often read DRAM alike while one re-sends far more).
  struct Cost {
    double value = 0;
    uint64_t bytes = 0, onchip = 0;
    bool operator<(const Cost& o) const {
      return std::tie(value, bytes, onchip) < std::tie(o.value, o.bytes, o.onchip);
    }
  };
  double net_width() const { return double(std::min(srams_.back()->width(), noc_->width)); }
  /// The memory time: the longest of the DRAM bytes at peak, each outer SRAM level's sends at its
  /// width and the network bytes at its width.
  double memory_time(const Traffic& t) const {
    double time = double(t.dram_moved) / dram_.peak_bytes_per_cycle();
    for (size_t l = 0; l + 1 < srams_.size() && l < t.out.size(); ++l)
      time = std::max(time, double(t.out[l]) / double(srams_[l]->width()));
    return std::max(time, double(t.network) / net_width());
  }
  /// Data-movement energy, estimated (docs/memory.md): DRAM bytes at a read burst's core energy plus
  /// the interface's, each SRAM level's bytes in and out at its price, and the network bytes across
  /// the hops into a tile buffer. What does not depend on the mapping (results, MACs) is left out.
  double movement_pj(const Traffic& t) const {
    double e = double(t.dram_moved) * prices_.dram_byte;
    const size_t levels = srams_.size();
    for (size_t l = 0; l < levels && l < t.into.size(); ++l)
      e += double(t.into[l] + (l + 1 < levels ? t.out[l] : t.network)) * prices_.sram[l];
    return e + double(t.network) * (double(noc_->hops) * prices_.hop + prices_.tile_operand);
  }
  Cost cost_of(const Traffic& t, double compute, double fixed_pj) const {
    uint64_t onchip = 0;
    for (size_t l = 0; l + 1 < t.out.size(); ++l) onchip += t.out[l];
    switch (objective_) {
      case Objective::DramBytes: return {0.0, t.dram_moved, onchip};
      case Objective::Cycles: return {std::max(compute, memory_time(t)), t.dram_moved, onchip};
      case Objective::Energy: return {movement_pj(t), t.dram_moved, onchip};
      case Objective::Edp: break;
    }
    const double time = std::max(compute, memory_time(t));
    return {(fixed_pj + movement_pj(t) + prices_.leak_per_cycle * time) * time, t.dram_moved, onchip};
  }

  /// Bytes a schedule moves between DRAM and the SRAM levels (an LRU at each, no timing) when the
  /// operands marked in `keep` are resident in the global buffer (their tensors, `whole[op]` bytes,
  /// read once): a block the global buffer lacks comes from the nearest level out that holds it (or
  /// DRAM) through every level in between, and each of those keeps it. As in the timed model, a block
  /// its tile still holds (the current and, with double buffering, the previous one of its operand)
  /// asks no buffer; chains go to the tiles in turn, as network_traffic assumes.
  Traffic memory_traffic(const UnitSchedule& s, const bool keep[2], const uint64_t whole[2]) {
    const size_t levels = srams_.size(), inner = levels - 1;
    const uint64_t kept = (keep[0] ? whole[0] : 0) + (keep[1] ? whole[1] : 0);
    Traffic t;
    t.into.assign(levels, 0);
    t.out.assign(levels, 0);
    t.dram_reads = kept;
    t.into[inner] = kept;
    if (keep[0] && keep[1]) return t;
    estimate_lru_.resize(levels);
    for (size_t l = 0; l < levels; ++l) estimate_lru_[l].reset(srams_[l]->bytes() - (l == inner ? kept : 0), id_bytes_);
    const size_t tiles = std::max<size_t>(1, tiles_.size());
    const uint64_t budget = chunk_budget_bytes();
    constexpr uint32_t kFree = ~0u;
    // Per tile and operand the blocks it holds: [0] the older, [1] the newer (double buffering keeps
    // both, a single buffer only [1]).
    estimate_held_.assign(tiles * 2, std::array<uint32_t, 2>{kFree, kFree});
    for (size_t c = 0; c < s.chains(); ++c)
      for (size_t i = s.chain_begin[c]; i < s.chain_end(c); ++i)
      for (int op = 0; op < 2; ++op) {
        const uint32_t id = block_id_[size_t(s.units[i]) * 2 + op];
        const uint64_t b = id_bytes_[id];
        if (keep[op] || b == 0) continue;
        auto& held = estimate_held_[(c % tiles) * 2 + size_t(op)];
        if (held[1] == id || (double_ && held[0] == id)) continue;
        if (b <= budget) {
          held[0] = held[1];
          held[1] = id;
        }
        if (estimate_lru_[inner].touch(id)) continue;
        size_t from = inner;  // the level holding it (levels: DRAM)
        while (from-- > 0)
          if (estimate_lru_[from].touch(id)) break;
        if (from == size_t(-1)) {
          t.dram_reads += b;
          t.into[0] += b;
          estimate_lru_[0].insert(id);
          from = 0;
        }
        for (size_t l = from; l < inner; ++l) {
          t.out[l] += b;
          t.into[l + 1] += b;
          estimate_lru_[l + 1].insert(id);
        }
      }
    return t;
  }

  /// The chosen mapping as a loop nest a reader can follow (the report's "mapping").
  void describe(const PassPlan& plan, const UnitSchedule& s, bool b_outer, bool spill, int tile_op, uint32_t tile,
                const uint64_t whole[2], uint64_t estimate) {
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
    // Tiled: the weight gradient's chains run over the batch (samples innermost); elsewhere every
    // sample's operand-0 blocks are blocks of their own.
    const bool batch_chains = pass_ == Pass::WeightGrad && !spill;
    const uint64_t a_blocks = batch_chains ? sets.size() : sets.size() * samples;
    const std::string unit = batch_chains ? ns + " { unit }" : "unit";
    if (tile_op == 0)  // tiles of operand-0 blocks, each walking the operand-1 blocks
      nest = fmt::format("for {} tile in {} {{ for {} in {} {{ for {} in {} {{ {} }} }} }}", a, ceil_div(a_blocks, tile), b,
                         chunks.size(), a, std::min<uint64_t>(tile, a_blocks), unit);
    else if (tile_op == 1)
      nest = fmt::format("for {} tile in {} {{ for {} in {} {{ for {} in {} {{ {} }} }} }}", b, ceil_div(chunks.size(), tile), a,
                         a_blocks, b, std::min<uint64_t>(tile, chunks.size()), unit);
    else if (pass_ == Pass::WeightGrad && !spill)  // the samples are the reduction: innermost, in one chain
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
    mapping_ = fmt::format("{}: {}{}; global buffer: {}; estimated DRAM reads {} B",
                           tile_op >= 0 ? fmt::format("{}, tiles of {} {} blocks", b_outer ? "b-outer" : "a-outer", tile,
                                                      kKindNames[kind_of(pass_, tile_op)])
                                        : std::string(b_outer ? "b-outer" : "a-outer"),
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
    SramLevel& gbuf = *srams_.back();
    if (fresh) r.base = dram_.tensor_base(b);
    const uint64_t need = std::min(b.tensor_bytes, std::max(b.span_end, b.offset + b.bytes));
    if (r.loaded < need) {
      counters_[gbuf.c_misses] += 1;
      while (r.loaded < need) {
        const uint64_t len = std::min(kResidentChunk, b.tensor_bytes - r.loaded);
        const uint64_t at = dram_.read(r.base + r.loaded, len, kind_of(pass_, op), now);
        counters_[gbuf.c_write] += double(len);
        r.chunk_ready.push_back(std::max(at, r.chunk_ready.empty() ? 0 : r.chunk_ready.back()));
        r.loaded += len;
      }
    } else {
      counters_[gbuf.c_hits] += 1;
    }
    const size_t last = need == 0 ? 0 : size_t((need - 1) / kResidentChunk);
    return std::max(now, r.chunk_ready.empty() ? now : r.chunk_ready[std::min(last, r.chunk_ready.size() - 1)]);
  }

  /// Makes the levels of a checked list (and the counters: the hierarchy's own, the DRAM's, then
  /// each level's in the list's order).
  void build(const std::vector<LevelConfig>& configs) {
    levels_.clear();
    srams_.clear();
    counters_ = JobCounters();
    declare_own(counters_);
    dram_.declare(counters_);
    for (const LevelConfig& c : configs) {
      levels_.push_back(find_level_type(c.type)->create(c.params));
      MemoryLevel* l = levels_.back().get();
      l->declare(counters_);
      if (auto* sram = dynamic_cast<SramLevel*>(l)) srams_.push_back(sram);
      if (auto* net = dynamic_cast<NetworkLevel*>(l)) noc_ = net;
      if (auto* tile = dynamic_cast<TileBuffers*>(l)) tile_ = tile;
    }
    assert(!srams_.empty() && noc_ && tile_);
  }

  bool double_;
  FormatChoice formats_;
  LoopOrder order_ = LoopOrder::Auto;
  Residency residency_ = Residency::Auto;
  Objective objective_ = Objective::Cycles;
  MemoryContext ctx_;
  uint64_t feed_factor_ = 1;
  // the components
  std::vector<std::unique_ptr<MemoryLevel>> levels_;  // as configured, outermost first
  std::vector<SramLevel*> srams_;                     // the SRAM levels, outermost first: the last is the global buffer
  NetworkLevel* noc_ = nullptr;
  TileBuffers* tile_ = nullptr;
  DramPort dram_;
  JobCounters counters_;
  /// The energy table's prices the energy objectives use (attach).
  struct Prices {
    double mac = 0, dram_byte = 0, hop = 0, tile_operand = 0, leak_per_cycle = 0;
    std::vector<double> sram;  // per SRAM level, pJ per byte
  } prices_;
  std::vector<BlockLru> estimate_lru_;  // the mapper's LRUs, one per SRAM level (kept for their storage)
  std::vector<std::array<uint32_t, 2>> estimate_held_;  // the mapper's view of what each tile holds, per operand
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
  uint64_t out_base_ = 0, last_done_ = 0;
};

}  // namespace
SWATSIM_REGISTER_MEMORY(Hierarchy, "hierarchy",
                        "global buffer, per-tile operand buffers, a network and DRAM (the config's dram section); "
                        "operands in compressed formats from their real masks; besides these keys a \"levels\" array (types "
                        "under memory_levels) may list the levels instead of the flat keys, e.g. with an L2 (docs/memory.md)");
}  // namespace swatsim::arch
