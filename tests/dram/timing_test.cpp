// Closed-form micro-timings, worked by hand from the preset numbers of REFERENCE §4 with the
// DRAMsim3 conventions (a request spends one cycle in the queue; read latency = arrival to the last
// data beat). DDR4-3200: tRCD 22, CL 22, CWL 16, burst 4, tRP 22, tRRD_S/L 4/8, tFAW 34, tCCD_S/L 4/8,
// tWTR_S/L 4/12, tRFC 560, tREFI 12480 (2 ranks). HBM2: tRCD 14, CL 14, burst 2, tRP 14,
// tRRD_S/L 4/6, tFAW 30, tRFC 260, tREFI 3900.
#include "dram_test_util.hpp"

namespace swatsim::test {
namespace {

const json kNoRefresh = {{"refresh", "off"}};

struct Case {
  const char* preset;
  Cycle closed, hit, conflict;  // latencies of an idle closed-bank read, a row hit, a row conflict
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.preset; }

class Latency : public ::testing::TestWithParam<Case> {};

TEST_P(Latency, ClosedBankRowHitRowConflict) {
  const Case c = GetParam();
  Recorder r(preset(c.preset, kNoRefresh));
  r.sys.request(0, r.address(0, 1, 2, 5, 3), false, 100);
  r.sys.request(1, r.address(0, 1, 2, 5, 4), false, 1000);  // same row: a hit
  r.sys.request(2, r.address(0, 1, 2, 6, 4), false, 2000);  // another row of the bank: a conflict
  r.sys.finish();
  EXPECT_EQ(r.done.at(0) - 100, c.closed);
  EXPECT_EQ(r.done.at(1) - 1000, c.hit);
  EXPECT_EQ(r.done.at(2) - 2000, c.conflict);
  EXPECT_EQ(r.at(CommandRecord::kActivate), (std::vector<Cycle>{101, 2001 + (c.conflict - c.closed)}));
  EXPECT_EQ(r.sys.counters().row_hits, 1u);
}

INSTANTIATE_TEST_SUITE_P(Presets, Latency,
                         ::testing::Values(Case{"ddr4-3200", 1 + 22 + 22 + 4, 1 + 22 + 4, 1 + 22 + 22 + 22 + 4},
                                           Case{"hbm2", 1 + 14 + 14 + 2, 1 + 14 + 2, 1 + 14 + 14 + 14 + 2}),
                         [](const auto& info) { return std::string(info.param.preset[0] == 'd' ? "DDR4" : "HBM2"); });

// Five ACTs to five banks of one rank: four banks in four bank groups go tRRD_S apart; the fifth,
// back in the first group, is held by tFAW (1 + tFAW), not by tRRD_L (1 + tRRD_L) or tRRD_S.
// tRCD is raised so that no RD competes with an ACT for the command bus.
TEST(Activate, TrrdAndTfawDdr4) {
  Recorder r(preset("ddr4-3200", {{"refresh", "off"}, {"tRCD_RD", 20}}), 5);
  const uint32_t bg[5] = {0, 1, 2, 3, 0}, ba[5] = {0, 0, 0, 0, 1};
  for (uint64_t i = 0; i < 5; ++i) r.sys.request(i, r.address(0, bg[i], ba[i], 7, 0), false, 0);
  r.sys.finish();
  EXPECT_EQ(r.at(CommandRecord::kActivate), (std::vector<Cycle>{1, 1 + 4, 1 + 8, 1 + 12, 1 + 34}));
}

TEST(Activate, TrrdAndTfawHbm2) {
  Recorder r(preset("hbm2", kNoRefresh), 5);
  const uint32_t bg[5] = {0, 1, 2, 3, 0}, ba[5] = {0, 0, 0, 0, 1};
  for (uint64_t i = 0; i < 5; ++i) r.sys.request(i, r.address(0, bg[i], ba[i], 7, 0), false, 0);
  r.sys.finish();
  EXPECT_EQ(r.at(CommandRecord::kActivate), (std::vector<Cycle>{1, 1 + 4, 1 + 8, 1 + 12, 1 + 30}));
}

TEST(Activate, TrrdLongInOneBankGroup) {
  Recorder r(preset("ddr4-3200", kNoRefresh), 2);
  r.sys.request(0, r.address(0, 2, 0, 7, 0), false, 0);
  r.sys.request(1, r.address(0, 2, 3, 7, 0), false, 0);
  r.sys.finish();
  EXPECT_EQ(r.at(CommandRecord::kActivate), (std::vector<Cycle>{1, 1 + 8}));
}

// Row hits to one bank group go tCCD_L apart; alternating two bank groups, tCCD_S apart.
TEST(Column, TccdLongVersusShort) {
  {
    Recorder r(preset("ddr4-3200", kNoRefresh), 8);
    for (uint64_t i = 0; i < 8; ++i) r.sys.request(i, r.address(0, 0, 0, 1, i), false, 0);
    r.sys.finish();
    std::vector<Cycle> expect;
    for (Cycle i = 0; i < 8; ++i) expect.push_back(23 + 8 * i);  // ACT at 1, RD at 1 + tRCD
    EXPECT_EQ(r.at(CommandRecord::kRead), expect);
  }
  {
    Recorder r(preset("ddr4-3200", kNoRefresh), 8);
    for (uint64_t i = 0; i < 8; ++i) r.sys.request(i, r.address(0, uint32_t(i % 2), 0, 1, i / 2), false, 0);
    r.sys.finish();
    // ACTs at 1 and 5 (tRRD_S); the RDs of the two groups interleave tCCD_S apart from 23.
    EXPECT_EQ(r.at(CommandRecord::kActivate), (std::vector<Cycle>{1, 5}));
    std::vector<Cycle> expect;
    for (Cycle i = 0; i < 8; ++i) expect.push_back(23 + 4 * i);
    EXPECT_EQ(r.at(CommandRecord::kRead), expect);
  }
}

// Write-to-read turnaround: a RD after a WR waits WL + burst + tWTR_L in the WR's bank group and
// WL + burst + tWTR_S in another. Both rows are open; writes drain at once (threshold 0).
TEST(Column, WriteToReadTurnaround) {
  for (uint32_t other_group : {0u, 1u}) {
    Recorder r(preset("ddr4-3200", {{"refresh", "off"}, {"write_drain_threshold", 0}}), 2);
    r.sys.request(0, r.address(0, 0, 0, 1, 0), false, 0);
    r.sys.request(1, r.address(0, other_group, 1, 2, 0), false, 0);
    r.sys.request(2, r.address(0, 0, 0, 1, 1), true, 200);   // buffered at 200, moved at 200, WR at 201
    r.sys.request(3, r.address(0, other_group, 1, 2, 1), false, 202);
    r.sys.finish();
    ASSERT_EQ(r.at(CommandRecord::kWrite), std::vector<Cycle>{201});
    const Cycle turnaround = 16 + 4 + (other_group ? 4 : 12);
    EXPECT_EQ(r.at(CommandRecord::kRead).back(), 201 + turnaround) << "other group: " << other_group;
    EXPECT_EQ(r.done.at(2), 201u);  // the requester sees a write done once it is buffered
    EXPECT_EQ(r.sys.write_latency().max, 201 + 16 + 4 - 200);  // arrival to the end of its data burst
  }
}

// A refresh blocks its rank for tRFC: a read arriving when rank 0's refresh falls due (tREFI / 2
// with two ranks) waits tRFC before its ACT; the same read to rank 1 does not wait.
TEST(Refresh, BlocksTheRankForTrfc) {
  for (uint32_t rank : {0u, 1u}) {
    Recorder r(preset("ddr4-3200"));
    r.sys.request(0, r.address(rank, 0, 0, 3, 0), false, 6240);
    r.sys.finish();
    EXPECT_EQ(r.at(CommandRecord::kRefresh), std::vector<Cycle>{6240});
    EXPECT_EQ(r.done.at(0) - 6240, rank == 0 ? 560 + 22 + 22 + 4 : 1 + 22 + 22 + 4u) << "rank " << rank;
  }
}

// Rank-staggered refresh: rank 0 at tREFI/2, rank 1 at tREFI, rank 0 at 3 tREFI/2, ...: one REF per
// tREFI per rank; over a run that ends at cycle E there are floor(E / (tREFI / ranks)) of them.
TEST(Refresh, CountFollowsTheClosedForm) {
  Recorder r(preset("ddr4-3200", {{"page_policy", "closed"}}));
  for (uint64_t i = 0; i < 200; ++i) r.sys.request(i, r.address(uint32_t(i % 2), uint32_t(i % 4), 0, i, 0), false, i * 997);
  const Cycle end = r.sys.finish();
  ASSERT_GT(end, 199u * 997);
  EXPECT_EQ(r.sys.counters().ref, end / 6240);
  uint32_t k = 0;
  for (const auto& c : r.commands)
    if (c.kind == CommandRecord::kRefresh) {
      ++k;
      EXPECT_EQ(c.rank, (k - 1) % 2);
      EXPECT_GE(c.cycle, k * 6240u);
      EXPECT_LT(c.cycle, k * 6240u + 100);  // only a just-closed bank's precharge can delay it
    }
}

TEST(Refresh, CountFollowsTheClosedFormHbm2PerChannel) {
  Recorder r(preset("hbm2", {{"page_policy", "closed"}}));
  for (uint64_t i = 0; i < 100; ++i) r.sys.request(i, r.address(0, 0, 0, i, 0, uint32_t(i % 8)), false, i * 1009);
  const Cycle end = r.sys.finish();
  EXPECT_EQ(r.sys.counters().ref, 8 * (end / 3900));  // every channel refreshes on its own
}

}  // namespace
}  // namespace swatsim::test
