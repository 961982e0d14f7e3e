// sim/replay on the bundled sample trace: one tile with ideal memory equals the TensorDash kernel
// sample by sample; the default baseline equals its base cycles; several tiles are never slower.
// One replay (one sc_start) per test process.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "swatsim/common/error.hpp"
#include "swatsim/sim/config.hpp"
#include "swatsim/sim/replay.hpp"
#include "swatsim/sim/report.hpp"
#include "swatsim/traces/io.hpp"

using namespace swatsim;

namespace {

const std::string kSample = std::string(SWATSIM_SOURCE_DIR) + "/traces/samples/sample.swt";

arch::AcceleratorConfig td(uint32_t tiles) {
  arch::AcceleratorConfig c;
  c.tiles = tiles;
  c.pe_type = "tensordash";
  c.pe = arch::ParamSet(arch::find_pe_type("tensordash")->params);
  c.memory = arch::ParamSet(arch::find_memory_type("ideal")->params);
  return c;
}

/// Kernel cycles of every (iteration, layer, pass), summed over samples, without SystemC.
struct KernelSums {
  std::vector<std::pair<uint64_t, uint64_t>> rows;  // cycles, base cycles, in replay order
};

KernelSums kernel_sums(const arch::AcceleratorConfig& c) {
  traces::TraceReader r(kSample);
  auto pe = arch::make_pe(c);
  KernelSums out;
  for (uint32_t it : r.iterations())
    for (uint32_t li = 0; li < r.header().layers.size(); ++li) {
      const auto& l = r.header().layers[li];
      const auto act = r.read_mask(*r.find(it, uint16_t(li), traces::TensorKind::InputAct));
      const auto wgt = r.read_mask(*r.find(it, uint16_t(li), traces::TensorKind::Weight));
      const auto grad = r.read_mask(*r.find(it, uint16_t(li), traces::TensorKind::OutputGrad));
      const bool has_saved = l.has(traces::TensorKind::SavedAct);
      const auto saved = has_saved ? r.read_mask(*r.find(it, uint16_t(li), traces::TensorKind::SavedAct)) : act;
      auto view = [](const traces::Mask& m) {
        arch::BitTensorView v;
        v.words = m.words().data();
        v.dims = m.shape().dims;
        return v;
      };
      for (arch::Pass p : {arch::Pass::Forward, arch::Pass::InputGrad, arch::Pass::WeightGrad}) {
        if (p == arch::Pass::InputGrad && li == 0) continue;
        arch::PassInput in;
        in.layer = arch::LayerShape{l.N, l.C, l.H, l.W, l.K, l.R, l.S, l.stride, l.padding, l.groups, l.Ho, l.Wo};
        in.pass = p;
        in.a = view(p == arch::Pass::Forward ? act : p == arch::Pass::InputGrad ? grad : saved);
        in.b = view(p == arch::Pass::WeightGrad ? grad : wgt);
        uint64_t cyc = 0, base = 0;
        for (uint32_t n = 0; n < l.N; ++n) {
          in.sample = n;
          cyc += pe->plan(in, true).serial_cycles();
          base += pe->plan(in, false).serial_cycles();
        }
        out.rows.push_back({cyc, base});
      }
    }
  return out;
}

}  // namespace

TEST(Replay, OneTileEqualsKernelSampleBySample) {
  sim::ReplayOptions o;
  o.trace = kSample;
  o.config = td(1);
  const auto res = sim::replay(o);
  const auto expect = kernel_sums(o.config);
  ASSERT_EQ(res.rows.size(), expect.rows.size());
  ASSERT_EQ(res.rows.size(), 22u);  // 2 iterations x (4 layers x 3 passes - first layer's input-grad)
  for (size_t i = 0; i < res.rows.size(); ++i) {
    EXPECT_EQ(res.rows[i].result.cycles, expect.rows[i].first) << i;
    EXPECT_EQ(res.rows[i].baseline.cycles, expect.rows[i].second) << i;
    EXPECT_EQ(res.rows[i].result.tile_wait_cycles, 0u);
    EXPECT_GT(res.rows[i].result.cycles, 0u);
    EXPECT_LE(res.rows[i].result.cycles, res.rows[i].baseline.cycles);
  }
}

TEST(Replay, SixteenTilesNeverSlowerThanOne) {
  sim::ReplayOptions o;
  o.trace = kSample;
  o.config = td(16);
  const auto res = sim::replay(o);
  const auto one = kernel_sums(td(1));
  ASSERT_EQ(res.rows.size(), one.rows.size());
  uint64_t total16 = 0, total1 = 0;
  for (size_t i = 0; i < res.rows.size(); ++i) {
    EXPECT_LE(res.rows[i].result.cycles, one.rows[i].first) << i;
    EXPECT_LE(res.rows[i].baseline.cycles, one.rows[i].second) << i;
    total16 += res.rows[i].result.cycles;
    total1 += one.rows[i].first;
  }
  EXPECT_LT(total16 * 4, total1);  // spreads work
}

TEST(Replay, SelectionAndNamedBaseline) {
  sim::ReplayOptions o;
  o.trace = kSample;
  o.config = td(1);
  o.iterations = {{1, 1}};
  o.layers = {{0, 0}, {2, 2}};
  o.passes = {arch::Pass::InputGrad, arch::Pass::WeightGrad};
  arch::AcceleratorConfig ds;
  ds.name = "ds";
  ds.pe_type = "dense-systolic";
  ds.pe = arch::ParamSet(arch::find_pe_type("dense-systolic")->params);
  ds.memory = arch::ParamSet(arch::find_memory_type("ideal")->params);
  o.baseline = ds;
  const auto res = sim::replay(o);
  ASSERT_EQ(res.rows.size(), 3u);  // layer 0 weight-grad, layer 2 input-grad and weight-grad
  EXPECT_EQ(res.rows[0].layer, 0u);
  EXPECT_EQ(res.rows[0].pass, arch::Pass::WeightGrad);
  EXPECT_EQ(res.rows[1].pass, arch::Pass::InputGrad);
  EXPECT_EQ(res.rows[1].iteration, 1u);
  const auto rep = sim::build_report(res, o);
  EXPECT_EQ(rep.baseline["config"]["name"], "ds");
  EXPECT_EQ(rep.pass_totals.size(), 2u);
}

TEST(Replay, ParseIndexList) {
  using R = sim::IndexRange;
  EXPECT_EQ(sim::parse_index_list("3,0-2,2", "--layers"), (std::vector<R>{{3, 3}, {0, 2}, {2, 2}}));
  // a huge range stays one item (it used to be expanded: ~4 GB for this one)
  EXPECT_EQ(sim::parse_index_list("0-999999999", "--iterations"), (std::vector<R>{{0, 999999999}}));
  EXPECT_THROW(sim::parse_index_list("a", "--layers"), InputError);
  EXPECT_THROW(sim::parse_index_list("3-1", "--layers"), InputError);
  EXPECT_THROW(sim::parse_index_list("", "--layers"), InputError);
}

std::string replay_error(const sim::ReplayOptions& o) {
  try {
    (void)sim::replay(o);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

// Ranges are capped by what the trace records; a range or number selecting nothing is an error
// (thrown before the simulation starts).
TEST(Replay, SelectionsOutsideTheTraceAreErrors) {
  traces::TraceReader r(kSample);
  const uint32_t nlayers = uint32_t(r.header().layers.size());
  sim::ReplayOptions o;
  o.trace = kSample;
  o.config = td(1);
  o.iterations = {{100000, 999999999}};
  EXPECT_NE(replay_error(o).find("--iterations: range 100000-999999999 selects no recorded iteration"), std::string::npos)
      << replay_error(o);
  o.iterations = {{5, 5}};
  EXPECT_NE(replay_error(o).find("--iterations: iteration 5 is not recorded"), std::string::npos) << replay_error(o);
  o.iterations = {};
  o.layers = {{nlayers, 999999999}};
  EXPECT_NE(replay_error(o).find(fmt::format("--layers: range {}-999999999 selects no layer", nlayers)),
            std::string::npos) << replay_error(o);
  o.layers = {{0, 0}, {nlayers, nlayers}};
  EXPECT_NE(replay_error(o).find(fmt::format("--layers: layer {} does not exist", nlayers)), std::string::npos)
      << replay_error(o);
}

TEST(Replay, HugeRangesSelectWhatIsRecorded) {
  traces::TraceReader r(kSample);
  sim::ReplayOptions o;
  o.trace = kSample;
  o.config = td(1);
  o.iterations = {{0, 999999999}};
  o.layers = {{1, 999999999}};
  o.passes = {arch::Pass::Forward};
  const auto res = sim::replay(o);
  EXPECT_EQ(res.rows.size(), r.iterations().size() * (r.header().layers.size() - 1));
  EXPECT_EQ(res.rows.front().layer, 1u);
}

// A named baseline runs as built (sparsity exploited); with baseline_sparsity off it treats every
// operand as dense: the same hardware named as baseline then gives the kernel's base cycles.
TEST(Replay, NamedBaselineWithSparsityOff) {
  sim::ReplayOptions o;
  o.trace = kSample;
  o.config = td(1);
  o.baseline = td(1);
  o.baseline_sparsity = false;
  const auto res = sim::replay(o);
  const auto expect = kernel_sums(td(1));
  ASSERT_EQ(res.rows.size(), expect.rows.size());
  uint64_t saved = 0;
  for (size_t i = 0; i < res.rows.size(); ++i) {
    EXPECT_EQ(res.rows[i].baseline.cycles, expect.rows[i].second) << i;
    saved += expect.rows[i].second - expect.rows[i].first;
  }
  EXPECT_GT(saved, 0u);  // the sample has sparsity to exploit, so on/off differ
  EXPECT_EQ(sim::build_report(res, o).baseline["exploit_sparsity"], false);
}

TEST(Replay, NamedBaselineExploitsSparsityByDefault) {
  sim::ReplayOptions o;
  o.trace = kSample;
  o.config = td(1);
  o.baseline = td(1);
  const auto res = sim::replay(o);
  for (size_t i = 0; i < res.rows.size(); ++i) EXPECT_EQ(res.rows[i].baseline.cycles, res.rows[i].result.cycles) << i;
  EXPECT_EQ(sim::build_report(res, o).baseline["exploit_sparsity"], true);
}

TEST(Report, BaselineWithoutInsertedZeros) {
  // Stride 2, 8x8 input, 4x4 output: the input gradient's dilated mapping iterates H*W = 64 windows where
  // a dense design computes Ho*Wo = 16, so the fair baseline takes a quarter of the mapped baseline.
  swatsim::arch::LayerShape l;
  l.N = 1; l.C = 4; l.H = 8; l.W = 8; l.K = 4; l.R = 3; l.S = 3; l.stride = 2; l.padding = 1; l.Ho = 4; l.Wo = 4;
  EXPECT_EQ(l.mapped_macs(swatsim::arch::Pass::InputGrad), 64u * 4 * 4 * 9);
  EXPECT_EQ(l.mapped_macs(swatsim::arch::Pass::Forward), l.macs_per_sample());
  swatsim::arch::JobResult acc, base;
  acc.cycles = 100;
  base.cycles = 400;
  base.macs_dense = l.macs_per_sample();
  base.macs_mapped = l.mapped_macs(swatsim::arch::Pass::InputGrad);
  const auto s = swatsim::sim::row_stats(acc, base, 1.0);
  EXPECT_DOUBLE_EQ(s.find("speedup")->value, 4.0);
  EXPECT_DOUBLE_EQ(s.find("baseline_cycles_without_inserted_zeros")->value, 100.0);
  EXPECT_DOUBLE_EQ(s.find("speedup_without_inserted_zeros")->value, 1.0);
  base.macs_mapped = base.macs_dense;  // forward: nothing inserted
  EXPECT_DOUBLE_EQ(swatsim::sim::row_stats(acc, base, 1.0).find("speedup_without_inserted_zeros")->value, 4.0);
}
