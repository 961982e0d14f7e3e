// Property-style round trips: random layer tables, shapes, densities, value types and codecs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "swatsim/common/error.hpp"
#include "swatsim/traces/io.hpp"
#include "swatsim/traces/tools.hpp"
#include "test_util.hpp"

using namespace swatsim::traces;
using swatsim::traces::test::make_conv;
using swatsim::traces::test::temp_path;

namespace {

float bf16_round(float f) {  // reference: round to nearest even, keep the top 16 bits
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u += 0x7fffu + ((u >> 16) & 1u);
  u &= 0xffff0000u;
  std::memcpy(&f, &u, 4);
  return f;
}

struct Stored {
  Mask mask;
  std::vector<float> values;
};

TraceHeader random_header(std::mt19937& rng) {
  TraceHeader h;
  h.producer = "test";
  h.producer_version = "1";
  h.model = "random";
  h.dataset = "none";
  h.seed = rng();
  h.batch_size = 7;
  h.swat.sparsity = 0.9;
  h.swat.activation_sparsity = 0.75;
  const int layers = 1 + int(rng() % 4);
  for (int i = 0; i < layers; ++i) {
    auto pick = [&](uint32_t lo, uint32_t hi) { return lo + uint32_t(rng() % (hi - lo + 1)); };
    const uint32_t groups = pick(1, 2);
    LayerInfo l = make_conv("l" + std::to_string(i), pick(1, 3), groups * pick(1, 9), pick(3, 13), pick(3, 13),
                            groups * pick(1, 7), pick(1, 3), pick(1, 3), pick(1, 2), pick(0, 1), groups);
    if (rng() % 3 == 0) l.tensors = {TensorKind::InputAct, TensorKind::Weight, TensorKind::OutputGrad};
    if (i == layers - 1 && rng() % 2) {  // a linear layer
      l = make_conv("fc", l.N, pick(1, 300), 1, 1, pick(1, 20), 1, 1, 1, 0);
      l.kind = LayerKind::Linear;
    }
    h.layers.push_back(l);
  }
  return h;
}

class RoundTrip : public ::testing::TestWithParam<int> {};

TEST_P(RoundTrip, MasksValuesAndIndexSurviveWriteAndRead) {
  std::mt19937 rng(1234 + GetParam());
  const TraceHeader h = random_header(rng);
  const std::string path = temp_path("roundtrip" + std::to_string(GetParam()) + ".swt");
  TraceWriter::Options opt;
  opt.zlib_level = GetParam() % 3 == 0 ? 0 : (GetParam() % 3 == 1 ? 1 : 9);
  std::map<std::tuple<uint32_t, uint16_t, int>, Stored> expect;
  std::map<std::tuple<uint32_t, uint16_t, int>, ValueType> types;
  {
    TraceWriter w(path, h, opt);
    for (uint32_t it : {0u, 3u, 4u}) {
      for (uint16_t l = 0; l < h.layers.size(); ++l) {
        for (TensorKind k : h.layers[l].tensors) {
          const Shape shape = h.layers[l].shape_of(k);
          // Densities include the extremes 0 and 1.
          const double density = std::vector<double>{0.0, 1.0, 0.5, 0.1, 0.97}[rng() % 5];
          std::vector<float> dense(shape.numel());
          std::uniform_real_distribution<float> u(0.0f, 1.0f);
          for (auto& v : dense) v = u(rng) < density ? u(rng) + 0.25f : 0.0f;
          Mask m = Mask::from_values(shape, dense.data());
          std::vector<float> nz;
          for (float v : dense)
            if (v != 0.0f) nz.push_back(v);
          const ValueType vt = ValueType(rng() % 3);
          const auto key = std::tuple(it, l, int(k));
          types[key] = vt;
          if (vt == ValueType::BF16)
            for (auto& v : nz) v = bf16_round(v);
          w.add(it, l, k, m, vt == ValueType::None ? nullptr : &nz, vt == ValueType::None ? ValueType::F32 : vt);
          expect[key] = Stored{m, vt == ValueType::None ? std::vector<float>{} : nz};
        }
      }
    }
    w.finish();
  }
  EXPECT_NO_THROW(validate(path));
  TraceReader r(path);
  EXPECT_EQ(r.header().layers.size(), h.layers.size());
  EXPECT_EQ(r.header().seed, h.seed);
  EXPECT_EQ(r.header().swat.activation_sparsity, 0.75);
  EXPECT_EQ(r.iterations(), (std::vector<uint32_t>{0, 3, 4}));
  EXPECT_EQ(r.records().size(), expect.size());
  for (const auto& [key, want] : expect) {
    const auto [it, l, k] = key;
    const TensorRecord* rec = r.find(it, l, TensorKind(k));
    ASSERT_NE(rec, nullptr);
    EXPECT_EQ(rec->values, types[key]);
    std::vector<float> values;
    Mask got = r.read(*rec, &values);
    EXPECT_EQ(got, want.mask);
    EXPECT_EQ(rec->nnz, want.mask.count());
    EXPECT_EQ(values, want.values);
  }
  EXPECT_EQ(r.find(1, 0, TensorKind::InputAct), nullptr);
}

INSTANTIATE_TEST_SUITE_P(RandomTraces, RoundTrip, ::testing::Range(0, 24));

TEST(Mask, BitOrderIsLsbFirstInCOrder) {
  const Shape s{{1, 1, 3, 5}};
  std::vector<float> v(15, 0.0f);
  v[0] = 1, v[9] = 2, v[14] = -3;
  Mask m = Mask::from_values(s, v.data());
  EXPECT_EQ(m.words()[0], (1ull << 0) | (1ull << 9) | (1ull << 14));
  EXPECT_EQ(m.count(), 3u);
  EXPECT_TRUE(m.test(9));
  EXPECT_FALSE(m.test(10));
}

TEST(Writer, InterruptedWriterLeavesNoValidFile) {
  const std::string path = temp_path("interrupted.swt");
  std::filesystem::remove(path);
  TraceHeader h;
  h.layers.push_back(make_conv("c", 1, 2, 4, 4, 3, 3, 3, 1, 1));
  std::string tmp_copy = temp_path("interrupted-copy.swt");
  {
    TraceWriter w(path, h);
    w.add(0, 0, TensorKind::InputAct, Mask(h.layers[0].shape_of(TensorKind::InputAct)));
    // A killed process leaves the temporary file as it is at this point.
    for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(path).parent_path()))
      if (e.path().string().rfind(path + ".tmp.", 0) == 0) std::filesystem::copy_file(e.path(), tmp_copy,
                                                                                       std::filesystem::copy_options::overwrite_existing);
  }  // destroyed without finish(): the temporary file is removed, nothing appears at `path`
  EXPECT_FALSE(std::filesystem::exists(path));
  ASSERT_TRUE(std::filesystem::exists(tmp_copy));
  try {
    validate(tmp_copy);
    FAIL() << "an unfinished trace validated";
  } catch (const swatsim::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
}

TEST(Writer, RejectsOutOfOrderAndUnlistedTensors) {
  TraceHeader h;
  h.layers.push_back(make_conv("c", 1, 2, 4, 4, 3, 3, 3, 1, 1));
  h.layers[0].tensors = {TensorKind::InputAct, TensorKind::Weight, TensorKind::OutputGrad};
  TraceWriter w(temp_path("order.swt"), h);
  const Mask act(h.layers[0].shape_of(TensorKind::InputAct));
  w.add(1, 0, TensorKind::Weight, Mask(h.layers[0].shape_of(TensorKind::Weight)));
  EXPECT_THROW(w.add(0, 0, TensorKind::InputAct, act), swatsim::InputError);
  EXPECT_THROW(w.add(2, 0, TensorKind::SavedAct, act), swatsim::InputError);
  EXPECT_THROW(w.add(2, 1, TensorKind::InputAct, act), swatsim::InputError);
  EXPECT_THROW(w.add(2, 0, TensorKind::OutputGrad, act), swatsim::InputError);  // wrong shape
}

TEST(Synth, SampleTraceIsReproducedByteForByte) {
  // traces/samples/sample.swt is made by scripts/make-sample-trace.sh; same options -> same bytes.
  SynthOptions o;
  o.model = "sample-cnn";
  o.samples = 2;
  o.iterations = 2;
  o.swat.sparsity = o.swat.activation_sparsity = 0.8;
  o.seed = 1;
  o.values = true;
  const std::string path = temp_path("sample.swt");
  synthesize(path, o);
  const std::string committed = std::string(SWATSIM_SOURCE_DIR) + "/traces/samples/sample.swt";
  EXPECT_EQ(swatsim::traces::test::slurp(path), swatsim::traces::test::slurp(committed));
}

TEST(Synth, ResNet50LayerTableHasTheStandardShape) {
  const auto L = model_layers("resnet50-imagenet", 2);
  ASSERT_EQ(L.size(), 54u);  // 53 convolutions + fc
  uint64_t weights = 0, macs = 0;
  for (const auto& l : L) weights += l.shape_of(TensorKind::Weight).numel(), macs += l.forward_macs();
  EXPECT_EQ(weights, 25502912u);           // ResNet-50's conv + fc weights (25,557,032 params minus biases and BN)
  EXPECT_EQ(macs, 2u * 4089184256ull);     // 4.09 GMACs per 224x224 image
  EXPECT_EQ(L.back().C, 2048u);
  EXPECT_EQ(L[0].Ho, 112u);
}

}  // namespace

namespace {
TEST(TopK, KeepCountIsTheCeilingWithoutRoundingUp) {
  EXPECT_EQ(topk_keep_count(0.8, 1152), 231u);             // ceil(230.4)
  EXPECT_EQ(topk_keep_count(0.8, 10), 2u);                 // (1-0.8)*10 = 2.0000000000000004 in double
  EXPECT_EQ(topk_keep_count(0.9, 100000001), 10000001u);   // ceil(10000000.1)
  EXPECT_EQ(topk_keep_count(0.99, 10), 1u);                // never empties a tensor
  EXPECT_EQ(topk_keep_count(0.0, 7), 7u);
  EXPECT_EQ(topk_keep_count(0.5, 0), 0u);
}
}  // namespace

TEST(Reader, ValuesOfAMasksOnlyTraceAreEmpty) {
  // Found by fuzz_trace (tests/fuzz/regressions/trace/): asking for values of a masks-only blob
  // computed a pointer into an empty buffer (undefined behaviour under UBSan).
  SynthOptions o;
  o.model = "sample-cnn";
  o.samples = 1;
  o.values = false;
  const std::string path = temp_path("masks-only.swt");
  synthesize(path, o);
  TraceReader r(path);
  Mask m;
  std::vector<float> values{1.0f, 2.0f};
  for (const auto& rec : r.records()) {
    r.read_into(rec, m, &values);
    EXPECT_TRUE(values.empty());
    EXPECT_EQ(m.count(), rec.nnz);
  }
}
