// The memory hierarchy against closed forms: a single-unit job equals DRAM time plus bytes over the
// network width plus hops; double buffering hides every transfer but the first when compute is
// longer; more buffer never means more DRAM traffic; more bandwidth never means more cycles;
// compressed formats move exactly the bytes the masks imply. One simulation per test (process).
#include <systemc>

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "random_layer.hpp"
#include "job_driver.hpp"
#include "swatsim/arch/accelerator.hpp"
#include "swatsim/arch/dram.hpp"
#include "swatsim/sim/config.hpp"

using namespace swatsim;
using namespace swatsim::arch;
using json = nlohmann::ordered_json;

namespace {

using Driver = testutil::JobDriver;

json memory(json overrides = json::object()) {
  json m = {{"type", "hierarchy"}, {"loop_order", "a-outer"}};
  for (auto& [k, v] : overrides.items()) m[k] = v;
  return m;
}

AcceleratorConfig config(uint32_t tiles, json mem, json dram = "ddr4-3200", json pe = json::object()) {
  json j = {{"name", "t"}, {"tiles", tiles}, {"pe", {{"type", "tensordash"}}}, {"memory", mem}};
  for (auto& [k, v] : pe.items()) j["pe"][k] = v;
  if (mem.is_object() && mem.value("type", "") == "hierarchy") j["dram"] = dram;
  return sim::bind_accelerator_config(j, "test-config", ".");
}

double counter(const Accelerator& a, const JobResult& r, const std::string& name) {
  const auto& defs = a.memory().counter_defs();
  for (size_t i = 0; i < defs.size(); ++i)
    if (defs[i].name == name) return r.memory.at(i);
  ADD_FAILURE() << "no counter " << name;
  return 0;
}

/// An FC layer small enough to be one work unit on a 4x16x16 TensorDash tile (4 filters: one set
/// whichever operand is scheduled).
testutil::Case single_unit_case(std::mt19937_64& rng) {
  LayerShape l;
  l.N = 1; l.C = 64; l.H = 1; l.W = 1; l.K = 4; l.R = 1; l.S = 1; l.Ho = 1; l.Wo = 1;
  return testutil::make_case(rng, l, Pass::Forward, 0.5, 0.5);
}

uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

/// The three passes of one layer, with densities da and db.
/// With `batch`, each job is the pass over all l.N samples (what the replay hands a hierarchy).
struct ThreePasses {
  std::vector<testutil::Case> cases;
  std::vector<const PassInput*> jobs;
  ThreePasses(std::mt19937_64& rng, const LayerShape& l, double da, double db, bool batch = false) {
    for (Pass p : {Pass::Forward, Pass::InputGrad, Pass::WeightGrad}) cases.push_back(testutil::make_case(rng, l, p, da, db));
    for (auto& c : cases) {
      if (batch) {
        c.in.sample = 0;
        c.in.samples = l.N;
      }
      jobs.push_back(&c.in);
    }
  }
};

/// Accelerators that differ in one setting, owned, with their raw pointers for the driver.
struct Family {
  std::vector<std::unique_ptr<Accelerator>> owned;
  std::vector<Accelerator*> ptrs;
  Accelerator& add(const std::string& name, const AcceleratorConfig& c) {
    owned.push_back(std::make_unique<Accelerator>(name.c_str(), c, true));
    ptrs.push_back(owned.back().get());
    return *owned.back();
  }
};

}  // namespace

TEST(Hierarchy, SingleUnitJobIsDramPlusNetworkPlusCompute) {
  std::mt19937_64 rng(7);
  auto c = single_unit_case(rng);
  const uint64_t width = 8, hops = 3, hop_cycles = 2;
  const AcceleratorConfig cfg = config(1, memory({{"noc_bytes_per_cycle", width}, {"gbuf_bank_bytes", 64},
                                                  {"noc_hops", hops}, {"noc_hop_cycles", hop_cycles}}));
  Accelerator acc("acc", cfg, true);
  Accelerator ideal("ideal", config(1, json{{"type", "ideal"}}), true);
  std::vector<PassPlan> plans;
  acc.on_plan = [&](const PassPlan& p) { plans.push_back(p); };
  Driver d("d", {&acc, &ideal}, {&c.in});
  sc_core::sc_start();
  ASSERT_EQ(plans.size(), 1u);
  ASSERT_EQ(plans[0].units.size(), 1u);
  const JobResult& r = d.results[0][0];
  const uint64_t compute = d.results[1][0].cycles;
  // Reference: the same two blocks read from the same DRAM engine at cycle 0, one after another
  // (both DRAM clocks and accelerator clocks are 1.6 GHz vs 1 GHz: convert), then the network.
  FormatChoice f;
  for (auto& x : f.format) x = StorageFormat::Bitmap;
  PassOperands ops(c.in, f);
  const OperandBlock a = ops.block(0, plans[0].units[0].block), b = ops.block(1, plans[0].units[0].block);
  dram::System ref(*cfg.dram, cfg.dram->channels);
  const double ratio = 1.0 / cfg.dram->tCK_ns;  // DRAM cycles per 1 GHz cycle
  auto back = [&](uint64_t dc) { return uint64_t(std::ceil(double(dc) / ratio - 1e-9)); };
  // The allocator places the job's results at 0, the activation (first seen) at 8 KiB and the
  // weights at 16 KiB.
  const uint64_t da = back(ref.transfer(8192, a.bytes, false, 0));
  const uint64_t db = back(ref.transfer(16384, b.bytes, false, 0));
  const uint64_t end_a = da + ceil_div(a.bytes, width);
  const uint64_t end_b = std::max(db, end_a) + ceil_div(b.bytes, width);
  const uint64_t ready = std::max(end_a, end_b) + hops * hop_cycles;
  EXPECT_EQ(r.memory_wait_cycles, ready);
  EXPECT_EQ(r.busy_cycles, compute);
  // The result (4 outputs, bf16) drains after the compute: network, then a DRAM write.
  const uint64_t out = 4 * 2, t_out = ready + compute;
  const uint64_t drained = t_out + ceil_div(out, width) + hops * hop_cycles;
  EXPECT_GE(r.cycles, drained);
  EXPECT_EQ(r.cycles, t_out + uint64_t(counter(acc, r, "stall.drain_cycles")));
  EXPECT_EQ(counter(acc, r, "dram.read_bytes"), double(a.bytes + b.bytes));
  EXPECT_EQ(counter(acc, r, "dram.write_bytes"), double(out));
  EXPECT_EQ(counter(acc, r, "stall.dram_cycles") + counter(acc, r, "stall.network_cycles"), double(ready));
}

TEST(Hierarchy, DoubleBufferingHidesTransfersWhenComputeIsLonger) {
  // Dense-ish operands, a long reduction (compute-bound units), one tile: only the first unit waits.
  std::mt19937_64 rng(11);
  LayerShape l;
  l.N = 1; l.C = 256; l.H = 6; l.W = 6; l.K = 64; l.R = 3; l.S = 3; l.padding = 1; l.Ho = 6; l.Wo = 6;
  auto c = testutil::make_case(rng, l, Pass::Forward, 0.9, 0.9);
  Accelerator on("on", config(1, memory()), true);
  Accelerator off("off", config(1, memory({{"double_buffering", "off"}})), true);
  Accelerator ideal("ideal", config(1, json{{"type", "ideal"}}), true);
  Driver d("d", {&on, &off, &ideal}, {&c.in});
  sc_core::sc_start();
  const JobResult &r_on = d.results[0][0], &r_off = d.results[1][0], &r_ideal = d.results[2][0];
  EXPECT_EQ(r_on.busy_cycles, r_ideal.cycles);  // the PE timing is the same
  const double first = counter(on, r_on, "stall.dram_cycles") + counter(on, r_on, "stall.network_cycles");
  EXPECT_GT(first, 0);
  // Every stall is the first unit's: later units' operands arrived while the previous unit computed.
  EXPECT_EQ(double(r_on.memory_wait_cycles), first);
  EXPECT_EQ(r_on.cycles, r_ideal.cycles + r_on.memory_wait_cycles + uint64_t(counter(on, r_on, "stall.drain_cycles")));
  EXPECT_GT(r_off.memory_wait_cycles, r_on.memory_wait_cycles);
  EXPECT_GT(r_off.cycles, r_on.cycles);
}

// With the mapper free (loop order, residency, spilling) and minimising DRAM bytes, a larger buffer
// never reads more: every mapping a smaller buffer allows, a larger one allows too. Two samples, so
// the batch dataflow and spilling are in play.
TEST(Hierarchy, LargerBufferNeverMoreDramTraffic) {
  std::mt19937_64 rng(5);
  LayerShape l;
  l.N = 2; l.C = 96; l.H = 14; l.W = 14; l.K = 128; l.R = 3; l.S = 3; l.padding = 1; l.Ho = 14; l.Wo = 14;
  const ThreePasses t(rng, l, 0.3, 0.2, true);
  const auto& jobs = t.jobs;
  Family f;
  const int sizes[] = {16, 64, 256, 1024, 4096};
  for (int kib : sizes)
    f.add("g" + std::to_string(kib), config(4, memory({{"gbuf_kib", kib}, {"tile_buffer_kib", 16}, {"loop_order", "auto"},
                                                       {"mapper_objective", "dram_bytes"}})));
  const auto& ptrs = f.ptrs;
  Driver d("d", ptrs, jobs);
  sc_core::sc_start();
  for (size_t j = 0; j < jobs.size(); ++j) {
    double prev = 1e300;
    for (size_t i = 0; i < ptrs.size(); ++i) {
      const double bytes = counter(*ptrs[i], d.results[i][j], "dram.read_bytes");
      EXPECT_LE(bytes, prev) << "job " << j << " gbuf " << sizes[i] << " KiB";
      prev = bytes;
    }
    // The largest buffer reads each distinct block once: less than the smallest.
    EXPECT_LT(counter(*ptrs.back(), d.results.back()[j], "dram.read_bytes"),
              counter(*ptrs.front(), d.results.front()[j], "dram.read_bytes")) << "job " << j;
  }
}

// Channels interleaved at burst granularity (mapping with the channel lowest), so that more
// channels are more bandwidth for every block. With the presets' row-interleaved mappings a small
// block stays in one channel and an extra address bit moves rows around, which is not a bandwidth
// change; with several tiles the dynamic hand-out can reorder units (a scheduling anomaly).
TEST(Hierarchy, MoreBandwidthNeverMoreCycles) {
  std::mt19937_64 rng(9);
  LayerShape l;
  l.N = 1; l.C = 64; l.H = 12; l.W = 12; l.K = 64; l.R = 1; l.S = 1; l.Ho = 12; l.Wo = 12;
  const ThreePasses t(rng, l, 0.2, 0.2);
  const auto& jobs = t.jobs;
  Family f;
  const int channels[] = {1, 2, 4};
  for (int ch : channels)
    f.add("c" + std::to_string(ch),
          config(1, memory(), json{{"preset", "ddr4-3200"}, {"channels", ch}, {"address_mapping", "rorababgcoch"}}));
  const auto& ptrs = f.ptrs;
  Driver d("d", ptrs, jobs);
  sc_core::sc_start();
  for (size_t j = 0; j < jobs.size(); ++j)
    for (size_t i = 1; i < ptrs.size(); ++i)
      EXPECT_LE(d.results[i][j].cycles, d.results[i - 1][j].cycles) << "job " << j << " channels " << channels[i];
}

TEST(Hierarchy, FormatsMoveExactlyTheBytesTheMasksImply) {
  std::mt19937_64 rng(3);
  LayerShape l;
  l.N = 2; l.C = 32; l.H = 8; l.W = 8; l.K = 40; l.R = 3; l.S = 3; l.padding = 1; l.Ho = 8; l.Wo = 8;
  const ThreePasses t(rng, l, 0.25, 0.15);
  const auto& jobs = t.jobs;
  const char* formats[] = {"dense", "bitmap", "csr", "rle"};
  Family f;
  std::vector<std::vector<PassPlan>> plans(4);
  for (int i = 0; i < 4; ++i) {
    // A buffer that holds everything, blocks kept as blocks: every distinct block is read exactly once.
    f.add(formats[i], config(2, memory({{"gbuf_kib", 65536}, {"gbuf_residency", "none"}, {"activation_format", formats[i]},
                                        {"weight_format", formats[i]}, {"gradient_format", formats[i]}})))
        .on_plan = [&plans, i](const PassPlan& p) { plans[i].push_back(p); };
  }
  const auto& ptrs = f.ptrs;
  Driver d("d", ptrs, jobs);
  sc_core::sc_start();
  for (int i = 0; i < 4; ++i) {
    FormatChoice f;
    for (auto& x : f.format) x = *storage_format_from_string(formats[i]);
    std::set<uint64_t> keys;
    for (size_t j = 0; j < jobs.size(); ++j) {
      PassOperands ops(*jobs[j], f);
      uint64_t expect = 0;
      for (const auto& u : plans[i][j].units)
        for (int op = 0; op < 2; ++op) {
          const OperandBlock b = ops.block(op, u.block);
          if (b.bytes && keys.insert(b.key).second) expect += b.bytes;
        }
      EXPECT_EQ(counter(*ptrs[i], d.results[i][j], "dram.read_bytes"), double(expect)) << formats[i] << " job " << j;
    }
  }
  // Dense moves the most; at these densities every compressed format moves less.
  for (size_t j = 0; j < jobs.size(); ++j)
    for (int i = 1; i < 4; ++i)
      EXPECT_LT(counter(*ptrs[i], d.results[i][j], "dram.read_bytes"), counter(*ptrs[0], d.results[0][j], "dram.read_bytes"));
}

TEST(Hierarchy, SameInputsSameCountersTwice) {
  std::mt19937_64 rng(1);
  auto c = testutil::make_case(rng, testutil::random_layer(rng), Pass::WeightGrad, 0.3, 0.3);
  Accelerator a("a", config(3, memory({{"loop_order", "auto"}})), true);
  Accelerator b("b", config(3, memory({{"loop_order", "auto"}})), true);
  Driver d("d", {&a, &b}, {&c.in, &c.in});
  sc_core::sc_start();
  EXPECT_EQ(d.results[0][0].cycles, d.results[1][0].cycles);
  EXPECT_EQ(d.results[0][0].memory, d.results[1][0].memory);
  EXPECT_EQ(d.results[0][1].memory, d.results[1][1].memory);
}

// The weight gradient's reduction runs over the batch: each output block's units of every sample form
// one chain on one tile, so dW leaves the array once per batch, whatever the sample count, for TensorDash
// and for dense folds (WS: reduction slices chain too; OS).
TEST(Hierarchy, WeightGradientWritesDwOncePerBatch) {
  std::mt19937_64 rng(21);
  const std::vector<uint32_t> sizes{1, 2, 8};
  std::vector<testutil::Case> cases;
  for (uint32_t n : sizes) {
    LayerShape l;
    l.N = n; l.C = 16; l.H = 6; l.W = 6; l.K = 24; l.R = 3; l.S = 3; l.padding = 1; l.Ho = 6; l.Wo = 6;
    cases.push_back(testutil::make_case(rng, l, Pass::WeightGrad, 0.4, 0.3));
    cases.back().in.sample = 0;
    cases.back().in.samples = n;
  }
  std::vector<const PassInput*> jobs;
  for (auto& c : cases) jobs.push_back(&c.in);
  Family f;
  f.add("td", config(3, memory()));
  f.add("ws", config(2, memory(), "ddr4-3200", json{{"type", "dense-systolic"}, {"rows", 8}, {"cols", 8}, {"dataflow", "ws"}}));
  f.add("os", config(2, memory(), "ddr4-3200", json{{"type", "dense-systolic"}, {"rows", 4}, {"cols", 8}, {"dataflow", "os"}}));
  Driver d("d", f.ptrs, jobs);
  sc_core::sc_start();
  const double dw_bytes = 24.0 * 16 * 3 * 3 * 2;  // K x C x R x S in bf16
  for (size_t i = 0; i < f.ptrs.size(); ++i)
    for (size_t j = 0; j < jobs.size(); ++j) {
      EXPECT_EQ(counter(*f.ptrs[i], d.results[i][j], "dram.write_bytes"), dw_bytes)
          << f.ptrs[i]->name() << " samples " << sizes[j];
      EXPECT_EQ(d.results[i][j].units % sizes[j], 0u);
    }
}

/// Bytes of a whole tensor of one job's operand (every sample's map, or the weights) in a format.
uint64_t tensor_bytes(const PassInput& in, int op, const FormatChoice& f) {
  const uint32_t samples = operand_role(in.pass, op) == TensorRole::Weight ? 1 : in.samples;
  uint64_t total = 0;
  for (uint32_t n = 0; n < samples; ++n) {
    PassInput one = in;
    one.sample = in.sample + n;
    one.samples = 1;
    GemmBlock none;
    total += PassOperands(one, f).block(op, none).tensor_bytes;
  }
  return total;
}

/// An FC layer (128 inputs, 32 outputs: weights 8 KiB in bf16, four 2 KiB folds on a 1 x 8 array)
/// over `samples` samples in one job, half of each operand zero.
testutil::Case fc_batch(uint64_t seed, uint32_t samples) {
  std::mt19937_64 rng(seed);
  LayerShape l;
  l.N = samples; l.C = 128; l.H = 1; l.W = 1; l.K = 32; l.R = 1; l.S = 1; l.Ho = 1; l.Wo = 1;
  auto c = testutil::make_case(rng, l, Pass::Forward, 0.5, 0.5);
  c.in.sample = 0;
  c.in.samples = samples;
  return c;
}
json dense_1x8() { return {{"type", "dense-systolic"}, {"rows", 1}, {"cols", 8}}; }

// Operands that fit are fetched once (compulsory traffic): a dense 3x3 layer on a dense systolic
// array with a buffer that holds both operands reads every input and weight exactly once (windows
// of neighbouring folds overlap: as blocks they would be read again), writes outputs once, and dW
// once, and the mapper's estimate is exact. Compressed formats read exactly the tensors' formatted bytes.
TEST(Hierarchy, OperandsThatFitAreReadOnce) {
  std::mt19937_64 rng(31);
  LayerShape l;
  l.N = 2; l.C = 16; l.H = 10; l.W = 10; l.K = 24; l.R = 3; l.S = 3; l.padding = 1; l.Ho = 10; l.Wo = 10;
  const ThreePasses t(rng, l, 0.4, 0.3, true);
  Family f;
  const json dense = {{"gbuf_kib", 8192}, {"activation_format", "dense"}, {"weight_format", "dense"}, {"gradient_format", "dense"}};
  f.add("os", config(1, memory(dense), "ddr4-3200", json{{"type", "dense-systolic"}, {"rows", 8}, {"cols", 8}}));
  f.add("ws", config(2, memory(dense), "ddr4-3200", json{{"type", "dense-systolic"}, {"rows", 8}, {"cols", 8}, {"dataflow", "ws"}}));
  f.add("td", config(3, memory({{"gbuf_kib", 8192}, {"activation_format", "csr"}, {"gradient_format", "rle"}})));
  Driver d("d", f.ptrs, t.jobs);
  sc_core::sc_start();
  const uint64_t in = 2 * 16 * 10 * 10, w = 24 * 16 * 9, out = 2 * 24 * 10 * 10;  // elements
  const uint64_t reads[3] = {(in + w) * 2, (out + w) * 2, (in + out) * 2}, writes[3] = {out * 2, in * 2, w * 2};
  for (size_t i = 0; i < 2; ++i)
    for (size_t j = 0; j < 3; ++j) {
      EXPECT_EQ(counter(*f.ptrs[i], d.results[i][j], "dram.read_bytes"), double(reads[j])) << f.ptrs[i]->name() << " pass " << j;
      EXPECT_EQ(counter(*f.ptrs[i], d.results[i][j], "dram.write_bytes"), double(writes[j])) << f.ptrs[i]->name() << " pass " << j;
      EXPECT_EQ(counter(*f.ptrs[i], d.results[i][j], "tiling.estimated_dram_read_bytes"), double(reads[j]));
      // By operand: forward reads inputs and weights, input-grad output gradients and weights,
      // weight-grad saved activations and output gradients.
      const char* kinds[3][2] = {{"input_activation", "weight"}, {"output_gradient", "weight"},
                                 {"saved_activation", "output_gradient"}};
      const uint64_t parts[3][2] = {{in, w}, {out, w}, {in, out}};
      for (int k = 0; k < 2; ++k)
        EXPECT_EQ(counter(*f.ptrs[i], d.results[i][j], std::string("dram.read_bytes.") + kinds[j][k]), double(parts[j][k] * 2))
            << f.ptrs[i]->name() << " pass " << j << " " << kinds[j][k];
    }
  FormatChoice td;
  td.format[int(TensorRole::Activation)] = StorageFormat::Csr;
  td.format[int(TensorRole::Weight)] = StorageFormat::Bitmap;
  td.format[int(TensorRole::Gradient)] = StorageFormat::Rle;
  for (size_t j = 0; j < 3; ++j)
    EXPECT_EQ(counter(*f.ptrs[2], d.results[2][j], "dram.read_bytes"),
              double(tensor_bytes(*t.jobs[j], 0, td) + tensor_bytes(*t.jobs[j], 1, td))) << "td pass " << j;
}

// A weight tile refetched per sample, worked by hand: an FC layer (one window per sample) on a dense
// 1 x 8 array, weights 32 x 128 in bf16 = 8 KiB in four folds of 8 filters (2 KiB each), a 1 KiB
// global buffer that keeps no fold (streamed through) and nothing resident. a-outer walks samples
// outer: every fold is read once per sample, 4 folds x 2 KiB x 4 samples; b-outer walks folds outer
// and the tile keeps its fold across the samples: the weights once. The 256-byte activation of each
// sample is read once in a-outer (the tile holds it across the folds) and once in b-outer (the four
// fill the buffer exactly and stay).
TEST(Hierarchy, RefetchedWeightTilePerSampleByHand) {
  auto c = fc_batch(41, 4);
  const json pe = dense_1x8();
  auto mem = [](const char* order) {
    return memory({{"gbuf_kib", 1}, {"gbuf_residency", "none"}, {"loop_order", order}, {"activation_format", "dense"},
                   {"weight_format", "dense"}, {"tile_buffer_kib", 8}});
  };
  Family f;
  f.add("a", config(1, mem("a-outer"), "ddr4-3200", pe));
  f.add("b", config(1, mem("b-outer"), "ddr4-3200", pe));
  Driver d("d", f.ptrs, {&c.in});
  sc_core::sc_start();
  const double weights = 32 * 128 * 2, acts = 4 * 128 * 2;
  EXPECT_EQ(counter(*f.ptrs[0], d.results[0][0], "dram.read_bytes"), 4 * weights + acts);
  EXPECT_EQ(counter(*f.ptrs[1], d.results[1][0], "dram.read_bytes"), weights + acts);
  EXPECT_EQ(counter(*f.ptrs[1], d.results[1][0], "tiling.b_outer_jobs"), 1);
}

// Tile sizes at the global buffer, by hand: the FC layer above with 64 samples (activations 64 x
// 256 B = 16 KiB) and 8 KiB of weights in four 2 KiB folds, a 5 KiB buffer that holds neither tensor.
// a-outer reads the weights per sample (64 x 8 KiB + 16 KiB); b-outer keeps a fold and reads the
// activations per fold (4 x 16 KiB + 8 KiB = 72 KiB); tiles of 2 folds (4 KiB, beside one 256 B
// activation) read the activations per tile: 2 x 16 KiB + 8 KiB = 40 KiB, what the mapper chooses.
TEST(Hierarchy, TilesOfWeightBlocksByHand) {
  auto c = fc_batch(43, 64);
  const json pe = dense_1x8();
  auto mem = [](const char* order) {
    return memory({{"gbuf_kib", 5}, {"loop_order", order}, {"activation_format", "dense"}, {"weight_format", "dense"},
                   {"tile_buffer_kib", 8}});
  };
  Family f;
  f.add("a", config(1, mem("a-outer"), "ddr4-3200", pe));
  f.add("b", config(1, mem("b-outer"), "ddr4-3200", pe));
  f.add("auto", config(1, mem("auto"), "ddr4-3200", pe));
  Driver d("d", f.ptrs, {&c.in});
  sc_core::sc_start();
  const double kib = 1024;
  EXPECT_EQ(counter(*f.ptrs[0], d.results[0][0], "dram.read_bytes"), 64 * 8 * kib + 16 * kib);
  EXPECT_EQ(counter(*f.ptrs[1], d.results[1][0], "dram.read_bytes"), 72 * kib);
  const Accelerator& a = *f.ptrs[2];
  const JobResult& r = d.results[2][0];
  EXPECT_EQ(counter(a, r, "dram.read_bytes"), 40 * kib);
  EXPECT_EQ(counter(a, r, "tiling.estimated_dram_read_bytes"), 40 * kib);
  EXPECT_EQ(counter(a, r, "tiling.tiled_jobs"), 1);
  EXPECT_EQ(counter(a, r, "tiling.b_outer_jobs"), 1);
  EXPECT_NE(r.mapping.find("b-outer, tiles of 2 weight blocks: for weight chunk tile in 2 { for input_activation set in 64 "
                           "{ for weight chunk in 2 { unit } } }"), std::string::npos) << r.mapping;
}

// An L2 is a config change (`levels`): the case above with the same 1 KiB global buffer behind a
// 64 KiB L2 that keeps every fold. a-outer still fetches each fold into the global buffer once per
// sample (4 x the weights leave the L2), but DRAM is read once: the weights and activations. The
// same hierarchy written as levels without the L2 equals the flat form counter for counter.
TEST(Hierarchy, L2ServesWhatTheGlobalBufferEvicts) {
  auto c = fc_batch(41, 4);
  const json pe = dense_1x8();
  const json common = {{"gbuf_residency", "none"}, {"loop_order", "a-outer"}, {"activation_format", "dense"},
                       {"weight_format", "dense"}};
  auto mem = [&](json levels) {
    json m = memory(common);
    if (levels.is_null()) {
      m["gbuf_kib"] = 1;
      m["tile_buffer_kib"] = 8;
    } else {
      m["levels"] = levels;
    }
    return m;
  };
  const json gbuf = {{"type", "sram"}, {"name", "gbuf"}, {"kib", 1}};
  const json l2 = {{"type", "sram"}, {"name", "l2"}, {"kib", 64}, {"banks", 4}, {"bank_bytes", 16}};
  const json rest[2] = {{{"type", "network"}}, {{"type", "tile_buffers"}, {"operand_kib", 8}}};
  Family f;
  f.add("flat", config(1, mem(nullptr), "ddr4-3200", pe));
  f.add("levels", config(1, mem(json::array({gbuf, rest[0], rest[1]})), "ddr4-3200", pe));
  f.add("l2", config(1, mem(json::array({l2, gbuf, rest[0], rest[1]})), "ddr4-3200", pe));
  json automatic = mem(json::array({l2, gbuf, rest[0], rest[1]}));
  automatic["loop_order"] = "auto";
  f.add("l2auto", config(1, automatic, "ddr4-3200", pe));
  Driver d("d", f.ptrs, {&c.in});
  sc_core::sc_start();
  const double weights = 32 * 128 * 2, acts = 4 * 128 * 2;
  EXPECT_EQ(d.results[0][0].memory, d.results[1][0].memory);
  EXPECT_EQ(d.results[0][0].cycles, d.results[1][0].cycles);
  EXPECT_EQ(counter(*f.ptrs[0], d.results[0][0], "dram.read_bytes"), 4 * weights + acts);
  const Accelerator& a = *f.ptrs[2];
  const JobResult& r = d.results[2][0];
  EXPECT_EQ(counter(a, r, "dram.read_bytes"), weights + acts);
  EXPECT_EQ(counter(a, r, "dram.read_bytes.weight"), weights);
  EXPECT_EQ(counter(a, r, "l2.read_bytes.weight"), 4 * weights);
  EXPECT_EQ(counter(a, r, "l2.read_bytes.input_activation"), acts);
  EXPECT_EQ(counter(a, r, "gbuf.read_bytes.weight"), 4 * weights);
  EXPECT_EQ(counter(a, r, "tiling.estimated_dram_read_bytes"), weights + acts);
  // Every fill of the global buffer came from the L2; results pass out through both.
  const double results = 4 * 32 * 2;
  EXPECT_EQ(counter(a, r, "gbuf.write_bytes"), 4 * weights + acts + results);
  EXPECT_EQ(counter(a, r, "l2.read_bytes"), 4 * weights + acts + results);
  EXPECT_EQ(counter(a, r, "l2.write_bytes"), weights + acts + results);
  EXPECT_EQ(counter(a, r, "l2.misses"), counter(a, r, "gbuf.misses") - counter(a, r, "l2.hits"));
  // The fewer DRAM reads make the pass no slower.
  EXPECT_LE(r.cycles, d.results[0][0].cycles);
  // The mapper: both orders read DRAM alike (every fold and activation once); b-outer sends each fold
  // out of the L2 once instead of once per sample, and wins the tie.
  const Accelerator& b = *f.ptrs[3];
  EXPECT_EQ(counter(b, d.results[3][0], "tiling.b_outer_jobs"), 1);
  EXPECT_EQ(counter(b, d.results[3][0], "dram.read_bytes"), weights + acts);
  EXPECT_EQ(counter(b, d.results[3][0], "l2.read_bytes.weight"), weights);
}

// When the batch's operands do not fit, the weight gradient may run sample by sample: dW's partial
// sums are written after each sample and read back by the next, counted as such. Eight samples of a
// dense 3x3 layer whose maps (25 KB per sample and operand) overflow a 64 KiB buffer: the mapper
// spills (keeping each sample's blocks on chip beats re-reading every sample's per output block), and
// then by hand: 7 spilled copies of dW are written and read back, dW is written 8 times in all.
TEST(Hierarchy, SpilledWeightGradientCountsItsPartialSums) {
  std::mt19937_64 rng(51);
  LayerShape l;
  l.N = 8; l.C = 64; l.H = 14; l.W = 14; l.K = 64; l.R = 3; l.S = 3; l.padding = 1; l.Ho = 14; l.Wo = 14;
  auto c = testutil::make_case(rng, l, Pass::WeightGrad, 0.5, 0.5);
  c.in.sample = 0;
  c.in.samples = 8;
  const json dense = {{"gbuf_kib", 64}, {"activation_format", "dense"}, {"weight_format", "dense"}, {"gradient_format", "dense"}};
  Accelerator acc("acc", config(4, memory(dense), "ddr4-3200", json{{"type", "dense-systolic"}, {"rows", 16}, {"cols", 16}}), true);
  Driver d("d", {&acc}, {&c.in});
  sc_core::sc_start();
  const JobResult& r = d.results[0][0];
  const double dw = 64.0 * 64 * 9 * 2;
  ASSERT_EQ(counter(acc, r, "tiling.spilled_jobs"), 1);
  EXPECT_NE(r.mapping.find("for sample in 8 {"), std::string::npos) << r.mapping;
  EXPECT_NE(r.mapping.find("partial sums written after each sample"), std::string::npos) << r.mapping;
  EXPECT_EQ(counter(acc, r, "dram.write_bytes"), 8 * dw);
  EXPECT_EQ(counter(acc, r, "dram.write_bytes.partial_sum"), 7 * dw);
  EXPECT_EQ(counter(acc, r, "dram.read_bytes.partial_sum"), 7 * dw);
  // The operands: at least every sample's maps once.
  EXPECT_GE(counter(acc, r, "dram.read_bytes.saved_activation") + counter(acc, r, "dram.read_bytes.output_gradient"),
            8 * 2 * (64.0 * 14 * 14 * 2));
}
