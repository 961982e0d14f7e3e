#include "swatsim/sim/dram_report.hpp"

#include <fmt/format.h>

namespace swatsim::sim {

using json = nlohmann::ordered_json;

namespace {
json latency_json(const arch::dram::LatencySummary& l) {
  return json{{"count", l.count}, {"mean", l.mean}, {"p50", l.p50}, {"p99", l.p99}, {"max", l.max}};
}
}  // namespace

json dram_report(const DramConfig& config, const arch::dram::System& system) {
  const auto& spec = system.spec();
  const auto& c = system.counters();
  const uint64_t requests = c.reads + c.writes, bytes = requests * spec.burst_bytes();
  const double seconds = double(c.last_completion) * spec.tCK_ns * 1e-9;
  const double bandwidth = seconds > 0 ? double(bytes) / seconds / 1e9 : 0.0;
  const auto e = arch::dram::energy(spec, c);
  json j;
  j["requests"] = requests;
  j["reads"] = c.reads;
  j["writes"] = c.writes;
  j["bytes"] = bytes;
  j["cycles"] = c.last_completion;
  j["seconds"] = seconds;
  j["bandwidth_gbps"] = bandwidth;
  j["peak_bandwidth_gbps"] = spec.peak_bandwidth() / 1e9;
  j["read_latency_cycles"] = latency_json(system.read_latency());
  j["write_latency_cycles"] = latency_json(system.write_latency());
  j["row_hit_rate"] = c.rd + c.wr > 0 ? double(c.row_hits) / double(c.rd + c.wr) : 0.0;
  j["reads_merged"] = c.reads_merged;
  j["reads_forwarded"] = c.reads_forwarded;
  j["writes_merged"] = c.writes_merged;
  j["commands"] = json{{"act", c.act}, {"pre", c.pre}, {"rd", c.rd}, {"wr", c.wr}, {"ref", c.ref}};
  j["energy_pj"] = json{{"act", e.act}, {"rd", e.rd}, {"wr", e.wr}, {"ref", e.ref}, {"background", e.background},
                        {"total", e.total()}};
  j["dram"] = to_json(config);
  j["dram_description"] = describe_dram(config);
  return j;
}

void write_dram_summary(const json& r, std::ostream& out) {
  const auto& d = r["dram"];
  const auto& rl = r["read_latency_cycles"];
  const auto& wl = r["write_latency_cycles"];
  const auto& cmd = r["commands"];
  const auto& e = r["energy_pj"];
  const double peak = r["peak_bandwidth_gbps"].get<double>();
  out << fmt::format("{}: {} channel(s) x {} rank(s) x {} banks, tCK {} ns\n",
                     r.contains("dram_description") ? r["dram_description"].get<std::string>() : std::string("custom DRAM"),
                     d["channels"].get<int64_t>(), d["ranks"].get<int64_t>(),
                     d["bankgroups"].get<int64_t>() * d["banks_per_group"].get<int64_t>(), d["tCK_ns"].get<double>());
  out << fmt::format("requests        {} ({} reads, {} writes), {} bytes\n", r["requests"].get<uint64_t>(),
                     r["reads"].get<uint64_t>(), r["writes"].get<uint64_t>(), r["bytes"].get<uint64_t>());
  out << fmt::format("cycles          {} ({:.6g} s)\n", r["cycles"].get<uint64_t>(), r["seconds"].get<double>());
  out << fmt::format("bandwidth       {:.3f} GB/s ({:.1f}% of the {:.3f} GB/s peak)\n", r["bandwidth_gbps"].get<double>(),
                     peak > 0 ? 100 * r["bandwidth_gbps"].get<double>() / peak : 0.0, peak);
  out << fmt::format("read latency    mean {:.2f}, p50 {}, p99 {}, max {} cycles\n", rl["mean"].get<double>(),
                     rl["p50"].get<uint64_t>(), rl["p99"].get<uint64_t>(), rl["max"].get<uint64_t>());
  out << fmt::format("write latency   mean {:.2f}, p50 {}, p99 {}, max {} cycles (arrival to end of data burst)\n",
                     wl["mean"].get<double>(), wl["p50"].get<uint64_t>(), wl["p99"].get<uint64_t>(),
                     wl["max"].get<uint64_t>());
  out << fmt::format("row hit rate    {:.4f}\n", r["row_hit_rate"].get<double>());
  out << fmt::format("commands        ACT {}, PRE {}, RD {}, WR {}, REF {}\n", cmd["act"].get<uint64_t>(),
                     cmd["pre"].get<uint64_t>(), cmd["rd"].get<uint64_t>(), cmd["wr"].get<uint64_t>(),
                     cmd["ref"].get<uint64_t>());
  out << fmt::format("energy          {:.6g} pJ: ACT {:.6g}, RD {:.6g}, WR {:.6g}, REF {:.6g}, background {:.6g}\n",
                     e["total"].get<double>(), e["act"].get<double>(), e["rd"].get<double>(), e["wr"].get<double>(),
                     e["ref"].get<double>(), e["background"].get<double>());
}

}  // namespace swatsim::sim
