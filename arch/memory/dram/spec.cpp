// DRAM parameters: their declarations (name, meaning, range), the checks that tie them together,
// the address mapping and the IDD energy of each command.
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "swatsim/arch/dram.hpp"

namespace swatsim::arch::dram {

namespace {

constexpr int64_t kMaxCycles = 1 << 24;  // any timing beyond 16M cycles is a typo, not a device

ParamSpec device_int(const char* name, const char* description, int64_t min, int64_t max) {
  return ParamSpec::integer(name, description, min, min, max).must_be_given();
}
ParamSpec timing(const char* name, const char* description, int64_t min = 0) {
  return device_int(name, description, min, kMaxCycles);
}
ParamSpec current(const char* name, const char* description) {
  return ParamSpec::real(name, description, 0, 0, 1e5).must_be_given();
}

bool power_of_two(uint64_t x) { return x != 0 && (x & (x - 1)) == 0; }
unsigned log2u(uint64_t x) {
  unsigned b = 0;
  while ((uint64_t(1) << b) < x) ++b;
  return b;
}

[[noreturn]] void bad(const std::string& name, const std::string& what) {
  throw std::invalid_argument(name + ": " + what);
}

}  // namespace

const std::vector<ParamSpec>& spec_params() {
  static const std::vector<ParamSpec> params = [] {
    std::vector<ParamSpec> p{
        ParamSpec::text("source", "where the numbers come from (free text, not used by the model)", ""),
        // structure
        device_int("channels", "independent channels, each with its own controller and data bus", 1, 64),
        device_int("ranks", "ranks per channel", 1, 16),
        device_int("bankgroups", "bank groups per rank", 1, 16),
        device_int("banks_per_group", "banks per bank group", 1, 16),
        device_int("rows", "rows per bank", 1, int64_t(1) << 24),
        device_int("columns", "columns per device row (DRAMsim3's count; HBM2: doubled for the 2n prefetch)", 1,
                   int64_t(1) << 20),
        device_int("device_width", "data bits per device", 1, 1024),
        device_int("bus_width", "data bits of a channel's bus", 8, 4096),
        device_int("burst_length", "beats per burst (BL); one request is bus_width/8 * BL bytes", 2, 64),
        // timing
        ParamSpec::real("tCK_ns", "memory clock period in ns", 1, 0, 100, true).must_be_given(),
        timing("tCL", "read latency CL: RD to first data, cycles", 1),
        timing("tCWL", "write latency CWL: WR to first data, cycles", 1),
        timing("tAL", "additive latency AL, cycles"),
        timing("tRCD_RD", "ACT to RD, same bank (tRCD; HBM2 tRCDRD), cycles", 1),
        timing("tRCD_WR", "ACT to WR, same bank (tRCD; HBM2 tRCDWR), cycles", 1),
        timing("tRP", "PRE to ACT, same bank, cycles", 1),
        timing("tRAS", "ACT to PRE, same bank, cycles", 1),
        timing("tRC", "ACT to ACT, same bank, cycles (>= tRAS + tRP)", 1),
        timing("tRRD_S", "ACT to ACT, another bank group of the rank, cycles", 1),
        timing("tRRD_L", "ACT to ACT, same bank group, cycles (>= tRRD_S)", 1),
        timing("tFAW", "window in which a rank takes at most four ACTs, cycles"),
        timing("tCCD_S", "RD to RD / WR to WR, another bank group, cycles", 1),
        timing("tCCD_L", "RD to RD / WR to WR, same bank group, cycles (>= tCCD_S)", 1),
        timing("tWTR_S", "end of write data to RD, another bank group, cycles"),
        timing("tWTR_L", "end of write data to RD, same bank group, cycles (>= tWTR_S)"),
        timing("tWR", "write recovery: end of write data to PRE, cycles"),
        timing("tRTP", "RD to PRE, same bank (HBM2: tRTPL, the same-bank-group value), cycles"),
        timing("tRTRS", "rank-to-rank switch on the data bus, cycles"),
        timing("tRFC", "REF to ACT, same rank: a refresh blocks the rank this long, cycles", 1),
        timing("tREFI", "average refresh interval per rank, cycles (> tRFC)", 1),
        // power (Micron TN-41-01 IDD method, per device)
        ParamSpec::real("VDD", "supply voltage, V", 1.2, 0, 10, true).must_be_given(),
        current("IDD0", "one bank ACT-PRE current, mA per device"),
        current("IDD2N", "precharged standby current, mA per device"),
        current("IDD2P", "precharged power-down current, mA per device (power-down is not modelled)"),
        current("IDD3N", "active standby current, mA per device"),
        current("IDD3P", "active power-down current, mA per device (power-down is not modelled)"),
        current("IDD4R", "burst read current, mA per device"),
        current("IDD4W", "burst write current, mA per device"),
        current("IDD5AB", "all-bank refresh current, mA per device"),
        current("IDD6x", "self-refresh current, mA per device (self-refresh is not modelled)"),
        ParamSpec::real("io_read_pj_per_bit", "interface energy per bit read (termination, drivers), pJ; 0: not modelled", 0, 0, 1000),
        ParamSpec::real("io_write_pj_per_bit", "interface energy per bit written, pJ; 0: not modelled", 0, 0, 1000),
        ParamSpec::text("io_source", "where the interface energies come from (free text, not used by the model)", ""),
        ParamSpec::text("address_mapping",
                        "address fields from the most to the least significant bits above the burst offset: "
                        "ch ra bg ba ro co, each once (e.g. \"rochrababgco\")",
                        "")
            .must_be_given(),
        // controller (DRAMsim3's defaults)
        ParamSpec::integer("transaction_queue", "read-queue and write-buffer entries per channel, each", 32, 1, 4096),
        ParamSpec::integer("command_queue", "command-queue entries per bank", 8, 1, 256),
        ParamSpec::choice("page_policy", "open: rows stay open for hits; closed: every column command auto-precharges",
                          "open", {"open", "closed"}),
        ParamSpec::integer("row_hit_cap", "row hits after which an open row yields to a waiting miss", 4, 1, 1 << 20),
        ParamSpec::integer("write_drain_threshold",
                           "buffered writes above which the controller drains them when the command queues are empty",
                           8, 0, 4096),
        ParamSpec::choice("refresh", "on: rank-staggered all-bank refresh every tREFI/ranks; off: none", "on",
                          {"on", "off"}),
        ParamSpec::choice("dual_command", "on: one row and one column command per cycle (HBM); off: one command",
                          "off", {"on", "off"}),
        ParamSpec::choice("engine",
                          "cycle: the FR-FCFS controller above, command by command (DRAMsim3's cycles); fast: requests "
                          "served in arrival order under the same timing table, write drains and refresh, much faster "
                          "and approximate (docs/dram.md, Engines)",
                          "cycle", {"cycle", "fast"}),
    };
    return p;
  }();
  return params;
}

const char* to_string(CommandRecord::Kind k) {
  switch (k) {
    case CommandRecord::kActivate: return "ACT";
    case CommandRecord::kPrecharge: return "PRE";
    case CommandRecord::kRead: return "RD";
    case CommandRecord::kWrite: return "WR";
    case CommandRecord::kRefresh: return "REF";
  }
  return "?";
}

uint64_t Spec::capacity_bytes() const {
  return uint64_t(channels) * ranks * banks_per_rank() * rows * (columns / burst_length) * burst_bytes();
}

double Spec::peak_bandwidth() const {
  return double(channels) * burst_bytes() / (burst_cycles() * tCK_ns * 1e-9);
}

Spec make_spec(const ParamSet& v) {
  Spec s;
  auto u32 = [&](const char* n) { return uint32_t(v.get_int(n)); };
  s.channels = u32("channels");
  s.ranks = u32("ranks");
  s.bankgroups = u32("bankgroups");
  s.banks_per_group = u32("banks_per_group");
  s.rows = uint64_t(v.get_int("rows"));
  s.columns = uint64_t(v.get_int("columns"));
  s.device_width = u32("device_width");
  s.bus_width = u32("bus_width");
  s.burst_length = u32("burst_length");
  s.tCK_ns = v.get_real("tCK_ns");
  s.tCL = u32("tCL");
  s.tCWL = u32("tCWL");
  s.tAL = u32("tAL");
  s.tRCD_RD = u32("tRCD_RD");
  s.tRCD_WR = u32("tRCD_WR");
  s.tRP = u32("tRP");
  s.tRAS = u32("tRAS");
  s.tRC = u32("tRC");
  s.tRRD_S = u32("tRRD_S");
  s.tRRD_L = u32("tRRD_L");
  s.tFAW = u32("tFAW");
  s.tCCD_S = u32("tCCD_S");
  s.tCCD_L = u32("tCCD_L");
  s.tWTR_S = u32("tWTR_S");
  s.tWTR_L = u32("tWTR_L");
  s.tWR = u32("tWR");
  s.tRTP = u32("tRTP");
  s.tRTRS = u32("tRTRS");
  s.tRFC = u32("tRFC");
  s.tREFI = u32("tREFI");
  s.VDD = v.get_real("VDD");
  s.IDD0 = v.get_real("IDD0");
  s.IDD2N = v.get_real("IDD2N");
  s.IDD2P = v.get_real("IDD2P");
  s.IDD3N = v.get_real("IDD3N");
  s.IDD3P = v.get_real("IDD3P");
  s.IDD4R = v.get_real("IDD4R");
  s.IDD4W = v.get_real("IDD4W");
  s.IDD5AB = v.get_real("IDD5AB");
  s.IDD6x = v.get_real("IDD6x");
  s.io_read_pj_per_bit = v.get_real("io_read_pj_per_bit");
  s.io_write_pj_per_bit = v.get_real("io_write_pj_per_bit");
  s.address_mapping = v.get_text("address_mapping");
  s.transaction_queue = u32("transaction_queue");
  s.command_queue = u32("command_queue");
  s.page_policy = v.get_choice("page_policy") == "closed" ? PagePolicy::Closed : PagePolicy::Open;
  s.row_hit_cap = u32("row_hit_cap");
  s.write_drain_threshold = u32("write_drain_threshold");
  s.refresh = v.get_choice("refresh") == "on";
  s.dual_command = v.get_choice("dual_command") == "on";
  s.engine = v.get_choice("engine") == "fast" ? Engine::Fast : Engine::Cycle;

  // Structure: the mapping cuts addresses into bit fields, so every count is a power of two.
  for (const char* n : {"channels", "ranks", "bankgroups", "banks_per_group", "rows", "columns", "device_width",
                        "bus_width", "burst_length"})
    if (!power_of_two(uint64_t(v.get_int(n))))
      bad(n, fmt::format("expected a power of two, got {}", v.get_int(n)));
  if (s.banks_per_channel() > 64)
    bad("banks_per_group", fmt::format("ranks x bankgroups x banks_per_group must be at most 64 banks per channel, "
                                       "got {}", s.banks_per_channel()));
  if (s.device_width > s.bus_width)
    bad("device_width", fmt::format("expected at most bus_width ({}), got {}", s.bus_width, s.device_width));
  if (s.columns < s.burst_length)
    bad("columns", fmt::format("expected at least burst_length ({}), got {}", s.burst_length, s.columns));
  // Timing: the relations every JEDEC part satisfies and the engine relies on.
  auto at_least = [](const char* n, uint64_t value, uint64_t floor, const std::string& why) {
    if (value < floor) bad(n, fmt::format("expected at least {} = {}, got {}", why, floor, value));
  };
  at_least("tRC", s.tRC, uint64_t(s.tRAS) + s.tRP, "tRAS + tRP");
  at_least("tRAS", s.tRAS, s.tRCD_RD, "tRCD_RD");
  at_least("tRRD_L", s.tRRD_L, s.tRRD_S, "tRRD_S");
  at_least("tCCD_L", s.tCCD_L, s.tCCD_S, "tCCD_S");
  at_least("tWTR_L", s.tWTR_L, s.tWTR_S, "tWTR_S");
  at_least("tREFI", s.tREFI, uint64_t(s.tRFC) + 1, "tRFC + 1");
  // Liveness: between two refreshes of a rank a request must fit whole, from a bank with another row
  // open to the end of its data and write recovery; with less, a request can wait for ever (tRFC 22,
  // tREFI 23 passed every other check and no read ever completed).
  if (s.refresh) {
    const uint64_t request = uint64_t(s.tRP) + s.tRC + std::max(s.tRCD_RD, s.tRCD_WR) + std::max(s.tCL, s.tCWL) +
                             s.burst_cycles() + s.tWR + s.tRTP;
    at_least("tREFI", s.tREFI, uint64_t(s.tRFC) + request,
             "tRFC + tRP + tRC + max(tRCD_RD, tRCD_WR) + max(tCL, tCWL) + burst + tWR + tRTP (one request between refreshes)");
  }
  at_least("tREFI", s.tREFI, s.ranks, "ranks (one rank is refreshed every tREFI / ranks)");
  at_least("tRFC", s.tRFC, s.tRP, "tRP");
  (void)AddressMapping(s);  // checks the mapping string
  if (s.capacity_bytes() == 0 || AddressMapping(s).address_bits() > 56)
    bad("rows", "the structure describes more than 2^56 bytes");
  return s;
}

AddressMapping::AddressMapping(const Spec& s) {
  static const char* const kNames[kFields] = {"ch", "ra", "bg", "ba", "ro", "co"};
  const std::string& m = s.address_mapping;
  if (m.size() != 12)
    bad("address_mapping", fmt::format("expected six two-letter fields from ch, ra, bg, ba, ro, co (e.g. "
                                       "\"rochrababgco\"), got \"{}\"", m));
  const uint64_t counts[kFields] = {s.channels, s.ranks, s.bankgroups, s.banks_per_group, s.rows,
                                    s.columns / s.burst_length};
  int order[kFields];
  bool seen[kFields] = {};
  for (int i = 0; i < kFields; ++i) {
    const std::string f = m.substr(size_t(2 * i), 2);
    int which = -1;
    for (int k = 0; k < kFields; ++k)
      if (f == kNames[k]) which = k;
    if (which < 0)
      bad("address_mapping", fmt::format("field {} of \"{}\" is \"{}\": expected one of ch, ra, bg, ba, ro, co", i + 1,
                                         m, f));
    if (seen[which]) bad("address_mapping", fmt::format("\"{}\" names the field \"{}\" twice", m, f));
    seen[which] = true;
    order[i] = which;
  }
  offset_bits_ = log2u(s.burst_bytes());
  unsigned shift = offset_bits_;
  for (int i = kFields - 1; i >= 0; --i) {  // the last field takes the lowest bits
    const int f = order[i];
    bits_[f] = log2u(counts[f]);
    shift_[f] = shift;
    shift += bits_[f];
  }
  total_bits_ = shift;
}

Location AddressMapping::decode(uint64_t a) const {
  auto field = [&](int f) { return (a >> shift_[f]) & ((uint64_t(1) << bits_[f]) - 1); };
  Location l;
  l.channel = uint32_t(field(kChannel));
  l.rank = uint32_t(field(kRank));
  l.bankgroup = uint32_t(field(kBankGroup));
  l.bank = uint32_t(field(kBank));
  l.row = field(kRow);
  l.column = field(kColumn);
  return l;
}

uint64_t AddressMapping::encode(const Location& l) const {
  return (uint64_t(l.channel) << shift_[kChannel]) | (uint64_t(l.rank) << shift_[kRank]) |
         (uint64_t(l.bankgroup) << shift_[kBankGroup]) | (uint64_t(l.bank) << shift_[kBank]) |
         (l.row << shift_[kRow]) | (l.column << shift_[kColumn]);
}

// IDD method (Micron TN-41-01, as DRAMsim3 computes it): currents in mA x VDD in V x time in ns =
// pJ, per device, times the devices of a rank.
CommandEnergy command_energy(const Spec& s) {
  const double n = s.devices_per_rank(), v = s.VDD, t = s.tCK_ns;
  CommandEnergy e;
  e.act = n * v * (s.IDD0 * s.tRC - (s.IDD3N * s.tRAS + s.IDD2N * s.tRP)) * t;
  e.rd = n * v * (s.IDD4R - s.IDD3N) * s.burst_cycles() * t;
  e.wr = n * v * (s.IDD4W - s.IDD3N) * s.burst_cycles() * t;
  e.ref = n * v * (s.IDD5AB - s.IDD3N) * s.tRFC * t;
  e.active_cycle = n * v * s.IDD3N * t;
  e.precharged_cycle = n * v * s.IDD2N * t;
  return e;
}

Energy energy(const Spec& s, const Counters& c) {
  const CommandEnergy e = command_energy(s);
  Energy out;
  out.act = double(c.act) * e.act;
  out.rd = double(c.rd) * e.rd;
  out.wr = double(c.wr) * e.wr;
  out.ref = double(c.ref) * e.ref;
  for (size_t i = 0; i < c.rank_cycles.size(); ++i) {
    const uint64_t active = c.rank_active_cycles[i];
    out.background += double(active) * e.active_cycle + double(c.rank_cycles[i] - active) * e.precharged_cycle;
  }
  return out;
}

}  // namespace swatsim::arch::dram
