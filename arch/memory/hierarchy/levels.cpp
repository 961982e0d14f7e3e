#include "levels.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "swatsim/common/error.hpp"

namespace swatsim::arch {

const char* const kKindNames[kOperandKinds] = {"input_activation", "weight", "saved_activation", "output_gradient",
                                               "partial_sum"};

OperandKind kind_of(Pass p, int op) {
  switch (operand_role(p, op)) {
    case TensorRole::Weight: return kWeight;
    case TensorRole::Gradient: return kOutputGradient;
    case TensorRole::Activation: break;
  }
  return p == Pass::WeightGrad ? kSavedActivation : kInputActivation;
}

// ---- BlockLru

void BlockLru::reset(uint64_t capacity, const std::vector<uint64_t>& bytes) {
  capacity_ = capacity;
  used_ = 0;
  bytes_ = &bytes;
  prev_.assign(bytes.size(), kNone);
  next_.assign(bytes.size(), kNone);
  in_.assign(bytes.size(), false);
  head_ = tail_ = kNone;
}
void BlockLru::set_capacity(uint64_t capacity) {
  capacity_ = capacity;
  while (used_ > capacity_) evict_tail();
}
bool BlockLru::touch(uint32_t id) {
  if (!in_[id]) return false;
  unlink(id);
  push_front(id);
  return true;
}
void BlockLru::insert(uint32_t id) {
  const uint64_t b = (*bytes_)[id];
  if (b > capacity_) return;  // streamed through, never resident
  while (used_ + b > capacity_) evict_tail();
  push_front(id);
  in_[id] = true;
  used_ += b;
}
void BlockLru::evict_tail() {
  const uint32_t t = tail_;
  unlink(t);
  in_[t] = false;
  used_ -= (*bytes_)[t];
}
void BlockLru::push_front(uint32_t e) {
  prev_[e] = kNone;
  next_[e] = head_;
  if (head_ != kNone) prev_[head_] = e;
  head_ = e;
  if (tail_ == kNone) tail_ = e;
}
void BlockLru::unlink(uint32_t e) {
  (prev_[e] != kNone ? next_[prev_[e]] : head_) = next_[e];
  (next_[e] != kNone ? prev_[next_[e]] : tail_) = prev_[e];
}

// ---- SRAM

SramLevel::SramLevel(const ParamSet& p)
    : MemoryLevel(p),
      bytes_(uint64_t(p.get_int("kib")) * 1024),
      width_(uint64_t(p.get_int("banks")) * uint64_t(p.get_int("bank_bytes"))) {}

std::vector<ParamSpec> SramLevel::params() {
  return {
      ParamSpec::text("name", "the level's name, a lowercase word (a-z, 0-9, _), unique: its statistics are <name>.*, its "
                      "energy energy.<name>_pj", "gbuf"),
      ParamSpec::integer("kib", "capacity, KiB (shared by the tiles)", 2048, 1, 1 << 22),
      ParamSpec::integer("banks", "banks", 16, 1, 1024),
      ParamSpec::integer("bank_bytes", "bytes per cycle one bank reads or writes", 32, 1, 4096),
  };
}

const std::string& SramLevel::type() const {
  static const std::string t = "sram";
  return t;
}

void SramLevel::declare(JobCounters& c) {
  const std::string& n = name_;
  c_read = c.declare(n + ".read_bytes", Unit::Bytes,
                     n + " bytes read (operands sent inward, a multicast once; results passing out to DRAM)");
  c_write = c.declare(n + ".write_bytes", Unit::Bytes, n + " bytes written (fills from the level outside; results passing out)");
  c_hits = c.declare(n + ".hits", Unit::Count, "operand blocks found in " + n);
  c_misses = c.declare(n + ".misses", Unit::Count, "operand blocks " + n + " read from the level outside it");
  c_read_kind = c.declare(n + ".read_bytes." + kKindNames[0], Unit::Bytes,
                          std::string("bytes of the ") + kKindNames[0] + " sent from " + n + " inward");
  for (size_t k = 1; k < kPartialSum; ++k)
    c.declare(n + ".read_bytes." + kKindNames[k], Unit::Bytes, std::string("bytes of the ") + kKindNames[k] + " sent from " + n + " inward");
}

std::vector<EnergyAction> SramLevel::energy_actions() const {
  return {EnergyAction{"energy." + name_ + "_pj", name_ + " (SRAM) reads and writes, by the table's SRAM rule for its capacity",
                       {name_ + ".read_bytes", name_ + ".write_bytes"}, EnergyAction::Price::SramByte, "", bytes_}};
}

AreaItem SramLevel::area(const AreaTable& t, uint32_t) const {
  return {"area." + name_ + "_mm2", name_ + " (SRAM), by the table's SRAM rule for its capacity", t.sram_um2(bytes_)};
}

// ---- network

NetworkLevel::NetworkLevel(const ParamSet& p)
    : MemoryLevel(p),
      width(uint64_t(p.get_int("bytes_per_cycle"))),
      hops(uint64_t(p.get_int("hops"))),
      hop_cycles(uint64_t(p.get_int("hop_cycles"))),
      multicast(p.get_choice("multicast") == "on") {}

std::vector<ParamSpec> NetworkLevel::params() {
  return {
      ParamSpec::text("name", "the level's name, a lowercase word (a-z, 0-9, _), unique: its statistics are <name>.*, its "
                      "energy energy.<name>_pj", "noc"),
      ParamSpec::integer("bytes_per_cycle", "width from the global buffer to the tiles, bytes per cycle", 256, 1, 1 << 20),
      ParamSpec::integer("hops", "hops from the global buffer to a tile (energy per byte per hop)", 2, 1, 64),
      ParamSpec::integer("hop_cycles", "latency of one hop, cycles", 1, 0, 1024),
      ParamSpec::choice("multicast", "on: a block several tiles want crosses the network once", "on", {"on", "off"}),
  };
}

const std::string& NetworkLevel::type() const {
  static const std::string t = "network";
  return t;
}

void NetworkLevel::declare(JobCounters& c) {
  const std::string& n = name_;
  c_bytes = c.declare(n + ".bytes", Unit::Bytes, "bytes crossing the network (a multicast counts once)");
  c_byte_hops = c.declare(n + ".byte_hops", Unit::Bytes, "bytes x hops on the network (per-tile deliveries)");
  c_saved = c.declare(n + ".multicast_saved_bytes", Unit::Bytes, "bytes a multicast to a tile already in flight saved");
}

std::vector<EnergyAction> NetworkLevel::energy_actions() const {
  return {EnergyAction{"energy." + name_ + "_pj", "network, per byte per hop", {name_ + ".byte_hops"},
                       EnergyAction::Price::TableAction, "noc.byte_hop", 0}};
}

AreaItem NetworkLevel::area(const AreaTable& t, uint32_t tiles) const {
  return {"area." + name_ + "_mm2", "the network: a crossbar from the global buffer to every tile, width bytes per port",
          double(tiles) * double(width) * t.um2("noc.port_byte")};
}

// ---- tile buffers

TileBuffers::TileBuffers(const ParamSet& p)
    : MemoryLevel(p),
      operand_bytes(uint64_t(p.get_int("operand_kib")) * 1024),
      output_bytes(uint64_t(p.get_int("output_kib")) * 1024),
      width(uint64_t(p.get_int("bytes_per_cycle"))) {}

std::vector<ParamSpec> TileBuffers::params() {
  return {
      ParamSpec::text("name", "the level's name, a lowercase word (a-z, 0-9, _), unique: its statistics are <name>.*, its "
                      "energy energy.<name>_buffers_pj", "tile"),
      ParamSpec::integer("operand_kib", "capacity of each tile operand buffer (scheduled, dense), KiB", 64, 1, 1 << 20),
      ParamSpec::integer("output_kib", "capacity of each tile output buffer, KiB", 32, 1, 1 << 20),
      ParamSpec::integer("bytes_per_cycle", "bytes per cycle each tile operand buffer feeds its PE array", 512, 1, 1 << 20),
  };
}

const std::string& TileBuffers::type() const {
  static const std::string t = "tile_buffers";
  return t;
}

void TileBuffers::declare(JobCounters& c) {
  const std::string& n = name_;
  c_read = c.declare(n + ".operand.read_bytes", Unit::Bytes, "tile operand-buffer bytes read by the PE arrays (compute cycles x feed)");
  c_write = c.declare(n + ".operand.write_bytes", Unit::Bytes, "tile operand-buffer bytes written (blocks arriving over the network)");
  c_local_hits = c.declare(n + ".local_hits", Unit::Count, "operand blocks a tile already held (no transfer)");
  c_out_write = c.declare(n + ".output.write_bytes", Unit::Bytes, "tile output-buffer bytes written (completed results)");
  c_out_read = c.declare(n + ".output.read_bytes", Unit::Bytes, "tile output-buffer bytes read (results drained to the global buffer)");
}

std::vector<EnergyAction> TileBuffers::energy_actions() const {
  const std::string stat = "energy." + name_ + "_buffers_pj", what = "tile operand and output buffer reads and writes";
  return {EnergyAction{stat, what, {name_ + ".operand.read_bytes", name_ + ".operand.write_bytes"}, EnergyAction::Price::SramByte, "",
                       operand_bytes},
          EnergyAction{stat, what, {name_ + ".output.write_bytes", name_ + ".output.read_bytes"}, EnergyAction::Price::SramByte, "",
                       output_bytes}};
}

AreaItem TileBuffers::area(const AreaTable& t, uint32_t tiles) const {
  return {"area." + name_ + "_buffers_mm2", "each tile's two operand buffers (scheduled, dense) and output buffer",
          double(tiles) * (2 * t.sram_um2(operand_bytes) + t.sram_um2(output_bytes))};
}

SWATSIM_REGISTER_LEVEL(SramLevel, "sram",
                       "an SRAM buffer shared by the tiles (the innermost one, the global buffer, feeds the network; an outer "
                       "one, e.g. an L2, feeds the one inside it): an LRU of operand blocks");
SWATSIM_REGISTER_LEVEL(NetworkLevel, "network", "the network from the global buffer to the tiles and back");
SWATSIM_REGISTER_LEVEL(TileBuffers, "tile_buffers", "each tile's operand buffers and output buffer");

// ---- the flat keys and the checks of a level list

const std::vector<FlatLevelKey>& flat_level_keys() {
  static const std::vector<FlatLevelKey> k = {
      {"gbuf_kib", "sram", "kib"},
      {"gbuf_banks", "sram", "banks"},
      {"gbuf_bank_bytes", "sram", "bank_bytes"},
      {"tile_buffer_kib", "tile_buffers", "operand_kib"},
      {"tile_output_kib", "tile_buffers", "output_kib"},
      {"tile_buffer_bytes_per_cycle", "tile_buffers", "bytes_per_cycle"},
      {"noc_bytes_per_cycle", "network", "bytes_per_cycle"},
      {"noc_hops", "network", "hops"},
      {"noc_hop_cycles", "network", "hop_cycles"},
      {"noc_multicast", "network", "multicast"},
  };
  return k;
}

std::vector<ParamSpec> level_params(const std::string& type) {
  // Not through the registry: the hierarchy's own registration asks during static initialization.
  if (type == "sram") return SramLevel::params();
  if (type == "network") return NetworkLevel::params();
  if (type == "tile_buffers") return TileBuffers::params();
  return {};
}

std::vector<LevelConfig> levels_from_flat(const ParamSet& hierarchy) {
  std::vector<LevelConfig> levels;
  for (const char* type : {"sram", "network", "tile_buffers"}) {
    LevelConfig l{type, ParamSet(level_params(type))};
    for (const FlatLevelKey& k : flat_level_keys())
      if (l.type == k.level_type && hierarchy.has(k.key)) l.params.set(k.param, hierarchy.values().at(k.key));
    levels.push_back(std::move(l));
  }
  return levels;
}

void check_levels(const std::vector<LevelConfig>& levels) {
  static const std::vector<std::string> reserved = {"dram",  "stall", "tiling",   "energy", "roofline", "macs",
                                                    "tiles", "pe",    "baseline", "reference"};  // statistics' prefixes
  const std::string form = "SRAM levels (outermost first), then one \"network\", then one \"tile_buffers\"";
  size_t i = 0;
  while (i < levels.size() && levels[i].type == "sram") ++i;
  if (i == 0) throw std::invalid_argument(fmt::format("levels/0/type: expected \"sram\" (the levels are {})", form));
  if (i >= levels.size() || levels[i].type != "network")
    throw std::invalid_argument(fmt::format("levels/{}{}: expected a \"network\" level (the levels are {})", i,
                                            i < levels.size() ? "/type" : "", form));
  if (i + 1 >= levels.size() || levels[i + 1].type != "tile_buffers")
    throw std::invalid_argument(fmt::format("levels/{}{}: expected a \"tile_buffers\" level (the levels are {})", i + 1,
                                            i + 1 < levels.size() ? "/type" : "", form));
  if (i + 2 < levels.size())
    throw std::invalid_argument(fmt::format("levels/{}: nothing comes after the \"tile_buffers\" level (the levels are {})", i + 2, form));
  // Each level's energy row is energy.<name>_pj (tile buffers: energy.<name>_buffers_pj): it may be
  // neither another level's nor one the energy model reports itself.
  static const std::vector<std::string> energy_rows = {"mac",   "idle_slots", "pe_control",        "leakage",      "total",
                                                       "dram",  "dram_io",    "per_effectual_mac", "per_dense_mac"};
  std::vector<std::string> seen, rows;
  for (size_t l = 0; l < levels.size(); ++l) {
    const std::string& name = levels[l].params.get_text("name");
    const bool word = !name.empty() && name.size() <= 32 && name[0] >= 'a' && name[0] <= 'z' &&
                      std::all_of(name.begin(), name.end(), [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'; });
    if (!word) {
      const std::string shown = escape_control(name.substr(0, 40));  // an error is one line
      throw std::invalid_argument(fmt::format("levels/{}/name: expected a lowercase word of at most 32 characters (a-z, 0-9, _; "
                                              "a letter first), got \"{}\"", l, shown));
    }
    if (std::find(reserved.begin(), reserved.end(), name) != reserved.end())
      throw std::invalid_argument(fmt::format("levels/{}/name: \"{}\" is taken (not one of {})", l, name, fmt::join(reserved, ", ")));
    if (auto it = std::find(seen.begin(), seen.end(), name); it != seen.end())
      throw std::invalid_argument(fmt::format("levels/{}/name: \"{}\" is levels/{}'s name too (names are unique; an sram level's "
                                              "name defaults to \"gbuf\": name the others)",
                                              l, name, it - seen.begin()));
    const std::string row = levels[l].type == "tile_buffers" ? name + "_buffers" : name;
    if (std::find(energy_rows.begin(), energy_rows.end(), row) != energy_rows.end() ||
        std::find(rows.begin(), rows.end(), row) != rows.end())
      throw std::invalid_argument(fmt::format("levels/{}/name: \"{}\" would report its energy as energy.{}_pj, which is taken "
                                              "(the energy model's rows: {}; and the other levels')",
                                              l, name, row, fmt::join(energy_rows, ", ")));
    seen.push_back(name);
    rows.push_back(row);
  }
}

// ---- DRAM

void DramPort::attach(const dram::Spec& spec, double clock_ghz) {
  spec_ = spec;
  system_ = std::make_unique<dram::System>(spec_, spec_.channels);
  system_->keep_latencies(false);  // the report does not show them
  ratio_ = 1.0 / (clock_ghz * spec_.tCK_ns);
  peak_bytes_per_cycle_ = spec_.peak_bandwidth() / 1e9 / clock_ghz;
}

void DramPort::declare(JobCounters& c) {
  c_ = &c;
  c_read = c.declare("dram.read_bytes", Unit::Bytes, "bytes read from DRAM (operand blocks in their storage format)");
  c_write = c.declare("dram.write_bytes", Unit::Bytes,
                      "bytes written to DRAM: the pass's results, dense in the data type (forward: output activations; "
                      "input-grad: input gradients; weight-grad: dW), and the partial sums of dW a sample-by-sample weight "
                      "gradient spills (dram.write_bytes.partial_sum)");
  c_write_partial = c.declare("dram.write_bytes.partial_sum", Unit::Bytes,
                              "bytes of partial sums written to DRAM that are read back later (spilled dW of a sample-by-sample pass)");
  c_energy = c.declare("dram.energy_pj", Unit::PicoJoules, "DRAM core energy by the DRAM model's IDD method (commands and background)");
  c_io_energy = c.declare("dram.io_energy_pj", Unit::PicoJoules, "DRAM interface energy: bits read and written x the DRAM's I/O pJ per bit");
  c_peak = c.declare("dram.peak_cycles", Unit::Cycles, "cycles the DRAM traffic takes at peak bandwidth (the roofline's memory time)");
  c_read_kind = c.declare(std::string("dram.read_bytes.") + kKindNames[0], Unit::Bytes,
                          std::string("bytes of the ") + kKindNames[0] + " read from DRAM");
  for (size_t k = 1; k < kOperandKinds; ++k)
    c.declare(std::string("dram.read_bytes.") + kKindNames[k], Unit::Bytes, std::string("bytes of the ") + kKindNames[k] + " read from DRAM");
}

std::vector<EnergyAction> DramPort::energy_actions() const {
  return {EnergyAction{"energy.dram_pj", "DRAM core, from the DRAM model (IDD method)", {"dram.energy_pj"},
                       EnergyAction::Price::PicoJoules, "", 0},
          EnergyAction{"energy.dram_io_pj", "DRAM interface: bits moved x the DRAM's I/O pJ per bit", {"dram.io_energy_pj"},
                       EnergyAction::Price::PicoJoules, "", 0}};
}

void DramPort::begin_job() {
  ++jobs_;
  // A layer's passes are consecutive jobs and share tensors (weights, activations, gradients); a
  // tensor no job read for kLayoutJobs jobs belongs to an earlier layer and is never read again, so
  // its layout is dropped: memory stays bounded however long the trace.
  constexpr uint64_t kLayoutJobs = 3;
  for (auto it = layouts_.begin(); it != layouts_.end();)
    it = jobs_ - it->second.last_job >= kLayoutJobs ? layouts_.erase(it) : std::next(it);
  energy_before_ = dram::energy(spec_, system_->counters()).total();
}

uint64_t DramPort::end_job() {
  JobCounters& c = *c_;
  c[c_energy] = dram::energy(spec_, system_->counters()).total() - energy_before_;
  c[c_io_energy] = 8 * (c[c_read] * spec_.io_read_pj_per_bit + c[c_write] * spec_.io_write_pj_per_bit);
  c[c_peak] = std::ceil((c[c_read] + c[c_write]) / std::max(1e-12, peak_bytes_per_cycle_));
  return from_dram(system_->counters().last_completion);
}

uint64_t DramPort::read(uint64_t addr, uint64_t bytes, OperandKind kind, uint64_t now) {
  (*c_)[c_read] += double(bytes);
  (*c_)[c_read_kind + kind] += double(bytes);
  return from_dram(system_->transfer(address(addr, bytes), bytes, false, to_dram(now)));
}

uint64_t DramPort::write(uint64_t addr, uint64_t bytes, uint64_t now) {
  (*c_)[c_write] += double(bytes);
  return from_dram(system_->transfer(address(addr, bytes), bytes, true, to_dram(now)));
}

uint64_t DramPort::to_dram(uint64_t cycle) const { return uint64_t(std::ceil(double(cycle) * ratio_ - 1e-9)); }
uint64_t DramPort::from_dram(uint64_t cycle) const { return uint64_t(std::ceil(double(cycle) / ratio_ - 1e-9)); }

uint64_t DramPort::address(uint64_t addr, uint64_t bytes) const {
  const uint64_t cap = spec_.capacity_bytes();
  addr -= addr % spec_.burst_bytes();
  if (addr + bytes > cap) addr = 0;  // a block never wraps: start it over at 0
  return addr;
}

uint64_t DramPort::allocate(uint64_t bytes) {
  // Regions in order of first use, each aligned to 8 KiB (a DRAM row of every channel for the
  // presets' mappings), wrapping at capacity (docs/memory.md).
  constexpr uint64_t kAlign = 8192;
  const uint64_t size = std::max<uint64_t>(kAlign, ceil_div(bytes, kAlign) * kAlign);
  const uint64_t cap = spec_.capacity_bytes();
  if (next_free_ + size > cap) next_free_ = 0;
  const uint64_t base = next_free_;
  next_free_ += size;
  return base;
}

DramPort::TensorLayout& DramPort::layout_of(const OperandBlock& b) {
  auto [it, fresh] = layouts_.try_emplace(b.tensor);
  if (fresh) {
    it->second.base = allocate(b.tensor_bytes);
    it->second.blocks_base = it->second.base;
    it->second.blocks_size = std::max<uint64_t>(b.tensor_bytes, 1);
  }
  it->second.last_job = jobs_;
  return it->second;
}

uint64_t DramPort::block_address(const OperandBlock& b) {
  // Blocks of a tensor are stored one after another in the order they are first read (the tiled
  // layout an accelerator writes its tensors in), each distinct block in bytes of its own. Boxes of
  // neighbouring units overlap (halos) and a box is not contiguous in C order, so placing a block at
  // its first element's share would give different data the same bursts, which the DRAM then
  // merges: bandwidth beyond the bus's peak. When a tensor's blocks outgrow its region the next ones
  // go to a fresh region.
  TensorLayout& t = layout_of(b);
  auto [it, fresh] = t.block_at.try_emplace(b.key, 0);
  if (fresh) {
    const uint64_t burst = spec_.burst_bytes(), size = ceil_div(b.bytes, burst) * burst;
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

}  // namespace swatsim::arch
