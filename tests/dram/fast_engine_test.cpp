// The fast DRAM engine (arch/memory/dram/in_order.hpp). The hand-worked timings of timing_test.cpp
// and system_test.cpp run on both engines (ctest's fast_engine. prefix); these tests add what the
// fast engine needs besides: every command it places obeys the timing rules, however out of order
// it placed them; it agrees with the cycle engine within a stated tolerance; it merges and forwards
// reads as the cycle engine does.
#include <algorithm>
#include <random>
#include <tuple>

#include "dram_test_util.hpp"
#include "memory/dram/timing.hpp"

namespace swatsim::test {
namespace {

using arch::dram::Cmd;
using arch::dram::TimingTable;

Cmd cmd_of(CommandRecord::Kind k) {
  switch (k) {
    case CommandRecord::kActivate: return arch::dram::kAct;
    case CommandRecord::kPrecharge: return arch::dram::kPre;
    case CommandRecord::kRead: return arch::dram::kRd;
    case CommandRecord::kWrite: return arch::dram::kWr;
    case CommandRecord::kRefresh: return arch::dram::kRef;
  }
  return arch::dram::kCmds;
}

/// Checks a command log against the rules of REFERENCE §4 independently of either engine: each bank
/// opens a row before reading or writing it and closes it before opening another; REF finds its rank
/// precharged; every pair of commands is at least the timing table's distance apart at their level
/// (same bank: bank, group and rank entries; same group; same rank; other ranks); no five ACTs of a
/// rank fall within tFAW. Open page only. Returns the number of violations (each reported).
int timing_violations(const Spec& s, std::vector<CommandRecord> log) {
  const TimingTable t(s);
  std::stable_sort(log.begin(), log.end(), [](const CommandRecord& a, const CommandRecord& b) { return a.cycle < b.cycle; });
  int bad = 0;
  auto report = [&](const std::string& what) {
    if (++bad <= 5) ADD_FAILURE() << what;
  };
  const uint32_t banks_per_rank = s.bankgroups * s.banks_per_group;
  std::vector<int64_t> open(size_t(s.channels) * s.ranks * banks_per_rank, -1);
  auto flat = [&](const CommandRecord& c) {
    return (size_t(c.channel) * s.ranks + c.rank) * banks_per_rank + c.bankgroup * s.banks_per_group + c.bank;
  };
  for (const auto& c : log) {
    const size_t b = flat(c);
    switch (c.kind) {
      case CommandRecord::kActivate:
        if (open[b] >= 0) report("ACT to an open bank at " + std::to_string(c.cycle));
        open[b] = int64_t(c.row);
        break;
      case CommandRecord::kPrecharge:
        if (open[b] < 0) report("PRE of a closed bank at " + std::to_string(c.cycle));
        open[b] = -1;
        break;
      case CommandRecord::kRead:
      case CommandRecord::kWrite:
        if (open[b] != int64_t(c.row)) report("column command to a row not open at " + std::to_string(c.cycle));
        break;
      case CommandRecord::kRefresh:
        for (size_t k = b - b % banks_per_rank; k < b - b % banks_per_rank + banks_per_rank; ++k)
          if (open[k] >= 0) report("REF with a bank open at " + std::to_string(c.cycle));
        break;
    }
  }
  const int64_t reach = int64_t(s.tRFC) + s.tRC + s.tFAW;
  for (size_t i = 0; i < log.size(); ++i)
    for (size_t j = i + 1; j < log.size() && int64_t(log[j].cycle - log[i].cycle) <= reach; ++j) {
      const CommandRecord &x = log[i], &y = log[j];
      if (x.channel != y.channel) continue;
      auto needed = [&](const CommandRecord& a, const CommandRecord& b) {
        const Cmd p = cmd_of(a.kind), q = cmd_of(b.kind);
        if (a.rank != b.rank) return t.other_rank[p][q];
        int64_t d = t.rank[p][q];
        if (a.bankgroup == b.bankgroup) d = std::max(d, t.group[p][q]);
        if (a.bankgroup == b.bankgroup && a.bank == b.bank) d = std::max(d, t.bank[p][q]);
        return d;
      };
      const int64_t gap = int64_t(y.cycle - x.cycle);
      if (gap < needed(x, y) || (gap == 0 && needed(y, x) > 0))
        report(std::string(to_string(x.kind)) + " at " + std::to_string(x.cycle) + " then " + to_string(y.kind) +
               " at " + std::to_string(y.cycle) + " (rank " + std::to_string(x.rank) + "/" + std::to_string(y.rank) +
               ", group " + std::to_string(x.bankgroup) + "/" + std::to_string(y.bankgroup) + ")");
    }
  for (uint32_t ch = 0; ch < s.channels; ++ch)
    for (uint32_t r = 0; r < s.ranks; ++r) {
      std::vector<Cycle> acts;
      for (const auto& c : log)
        if (c.channel == ch && c.rank == r && c.kind == CommandRecord::kActivate) acts.push_back(c.cycle);
      for (size_t k = 0; k + 4 < acts.size(); ++k)
        if (acts[k + 4] - acts[k] < s.tFAW) report("five ACTs within tFAW from " + std::to_string(acts[k]));
    }
  return bad;
}

/// Requests of a kind of traffic: (address, write, cycle), sorted by cycle.
std::vector<std::tuple<uint64_t, bool, Cycle>> traffic(const std::string& kind, uint64_t n, uint64_t span) {
  std::mt19937_64 rng(7);
  std::vector<std::tuple<uint64_t, bool, Cycle>> out;
  for (uint64_t i = 0; i < n; ++i) {
    if (kind == "seq-read") out.emplace_back(i * 64, false, 0);
    if (kind == "random-read") out.emplace_back((rng() % span) & ~uint64_t(63), false, 0);
    if (kind == "mix") out.emplace_back((rng() % span) & ~uint64_t(63), rng() % 3 == 0, 0);
  }
  return out;
}

Spec engine_preset(const char* name, const char* engine, json overrides = json::object()) {
  overrides["engine"] = engine;
  return preset(name, overrides);
}

TEST(FastEngine, EveryCommandObeysTheTimingRules) {
  for (const char* name : {"ddr4-3200", "hbm2"})
    for (const char* engine : {"fast", "cycle"}) {  // the cycle engine checks the checker
      const Spec spec = engine_preset(name, engine);
      Recorder r(spec, spec.channels);
      std::mt19937_64 rng(11);
      Cycle at = 0;
      for (uint64_t i = 0; i < 3000; ++i) {
        // Blocks of a few bursts over a few rows of every bank: hits, conflicts, several banks at once.
        const uint64_t base = (rng() % (uint64_t(1) << 24)) & ~uint64_t(63);
        const bool write = rng() % 4 == 0;
        for (uint64_t k = 0; k < 1 + rng() % 6; ++k) r.sys.request(i * 8 + k, base + 64 * k, write, at);
        at += rng() % 40;
      }
      r.sys.finish();
      ASSERT_GT(r.at(CommandRecord::kRefresh).size(), 0u);
      EXPECT_EQ(timing_violations(spec, r.commands), 0) << name << " " << engine;
    }
}

TEST(FastEngine, TrainsObeyTheTimingRules) {
  // Blocks through transfer(): the fast engine places a row's bursts as trains between the commands
  // of the blocks before them.
  for (const char* name : {"ddr4-3200", "hbm2"}) {
    const Spec spec = engine_preset(name, "fast");
    System sys(spec, spec.channels);
    std::vector<CommandRecord> log;
    sys.on_command([](void* c, const CommandRecord& x) { static_cast<std::vector<CommandRecord>*>(c)->push_back(x); },
                   &log);
    std::mt19937_64 rng(5);
    Cycle at = 0;
    for (int i = 0; i < 2000; ++i) {
      const uint64_t base = (rng() % (uint64_t(1) << 26)) & ~uint64_t(63);
      sys.transfer(base, 64 + rng() % 4000, rng() % 3 == 0, at);
      at += rng() % 200;
    }
    sys.finish();
    EXPECT_GT(sys.counters().rd, 10000u);
    EXPECT_EQ(timing_violations(spec, log), 0) << name;
  }
}

// Other structures than the presets': many ranks (other-rank distances), one bank group (tCCD_L does
// not apply), a closed page: the commands obey the rules (open page) and every request is served once.
TEST(FastEngine, OtherStructures) {
  const json cases[] = {{{"ranks", 16}, {"bankgroups", 1}, {"banks_per_group", 4}},
                        {{"ranks", 8}, {"bankgroups", 2}, {"banks_per_group", 4}, {"tRRD_L", 4}},
                        {{"page_policy", "closed"}},
                        {{"transaction_queue", 2}, {"command_queue", 1}, {"write_drain_threshold", 0}}};
  for (const json& overrides : cases) {
    const Spec spec = engine_preset("ddr4-3200", "fast", overrides);
    Recorder r(spec);
    std::mt19937_64 rng(13);
    Cycle at = 0;
    for (uint64_t i = 0; i < 2000; ++i) {
      r.sys.request(i, (rng() % (uint64_t(1) << 28)) & ~uint64_t(63), rng() % 3 == 0, at);
      at += rng() % 30;
    }
    r.sys.finish();
    EXPECT_EQ(r.done.size(), 2000u) << overrides.dump();
    const auto& c = r.sys.counters();
    EXPECT_EQ(c.rd + c.reads_merged + c.reads_forwarded, c.reads) << overrides.dump();
    EXPECT_EQ(c.wr + c.writes_merged, c.writes) << overrides.dump();
    if (spec.page_policy == arch::dram::PagePolicy::Open)
      EXPECT_EQ(timing_violations(spec, r.commands), 0) << overrides.dump();
    else
      EXPECT_EQ(c.act, c.rd + c.wr) << "closed page: one ACT per column command";
  }
}

// A refresh of a million cycles (the parameters allow 16M) holds a read far beyond the calendar's
// first 65,536 cycles: the rings grow, and the reads complete as on the cycle engine: REF at tREFI,
// ACT at tREFI + tRFC, then tRCD + CL + burst. (Before, the fast engine stopped with an internal error.)
TEST(FastEngine, LongRefreshGrowsTheCalendar) {
  const json overrides = {{"ranks", 1}, {"tRFC", 1000000}, {"tREFI", 2000000}};
  for (const char* engine : {"cycle", "fast"}) {
    Recorder r(engine_preset("ddr4-3200", engine, overrides));
    r.sys.request(0, r.address(0, 0, 0, 3, 0), false, 1999999);
    r.sys.request(1, r.address(0, 1, 0, 3, 0), false, 1999999);
    r.sys.finish();
    // Two banks of different groups: the first done at REF + tRFC + tRCD + CL + burst, the other
    // tRRD_S = tCCD_S = 4 later (which goes first is the scheduler's choice).
    const Cycle first = std::min(r.done.at(0), r.done.at(1)), second = std::max(r.done.at(0), r.done.at(1));
    EXPECT_EQ(first, 2000000 + 1000000 + 22 + 22 + 4u) << engine;
    EXPECT_EQ(second, first + 4) << engine;
  }
}

// Agreement with the cycle engine on the streams of results/perf/dram.md: the cycles a stream takes
// differ by at most 5% (sequential) or 10% (random: the fast engine does not let a row hit overtake
// an older miss); every request is served once by both.
TEST(FastEngine, AgreesWithTheCycleEngine) {
  for (const char* name : {"ddr4-3200", "hbm2"})
    for (const std::string kind : {"seq-read", "random-read", "mix"}) {
      Cycle end[2];
      arch::dram::Counters counters[2];
      int e = 0;
      for (const char* engine : {"cycle", "fast"}) {
        System sys(engine_preset(name, engine), 1);
        uint64_t id = 0;
        for (const auto& [address, write, cycle] : traffic(kind, 20000, uint64_t(1) << 30))
          sys.request(id++, address, write, cycle);
        end[e] = sys.finish();
        counters[e++] = sys.counters();
      }
      const double ratio = double(end[1]) / double(end[0]);
      EXPECT_NEAR(ratio, 1.0, kind == "seq-read" ? 0.05 : 0.10) << name << " " << kind;
      for (const auto& c : counters) {
        EXPECT_EQ(c.rd + c.reads_merged + c.reads_forwarded, c.reads) << name << " " << kind;
        EXPECT_EQ(c.wr + c.writes_merged, c.writes) << name << " " << kind;
      }
    }
}

// A read of a burst whose read still waits is served by that read; a read of a buffered write, from
// the buffer one cycle after it enters (both engines).
TEST(FastEngine, MergesAndForwardsReads) {
  for (const char* engine : {"cycle", "fast"}) {
    Recorder r(engine_preset("ddr4-3200", engine, {{"refresh", "off"}}));
    const uint64_t a = r.address(0, 1, 2, 5, 3);
    r.sys.request(0, a, false, 100);
    r.sys.request(1, a, false, 101);  // the first is still waiting for its ACT: merged
    r.sys.request(2, r.address(0, 2, 0, 9, 0), true, 500);
    r.sys.request(3, r.address(0, 2, 0, 9, 0), false, 501);  // the write is still buffered
    r.sys.finish();
    EXPECT_EQ(r.done.at(0), 100 + 1 + 22 + 22 + 4u) << engine;
    EXPECT_EQ(r.done.at(1), r.done.at(0)) << engine;
    EXPECT_EQ(r.done.at(3), 502u) << engine;
    EXPECT_EQ(r.sys.counters().reads_merged, 1u) << engine;
    EXPECT_EQ(r.sys.counters().reads_forwarded, 1u) << engine;
    EXPECT_EQ(r.sys.counters().rd, 1u) << engine;
    EXPECT_EQ(r.sys.counters().wr, 1u) << engine;
  }
}

}  // namespace
}  // namespace swatsim::test
