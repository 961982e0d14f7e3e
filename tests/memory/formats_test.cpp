// Storage formats and the pass-to-operand mapping: hand-worked byte counts of real masks.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "swatsim/arch/operand_blocks.hpp"

using namespace swatsim::arch;

namespace {
struct Mask {
  std::vector<uint64_t> words;
  BitTensorView view;
  Mask(std::array<uint32_t, 4> dims, std::vector<uint64_t> set, uint64_t id = 1) {
    view.dims = dims;
    words.assign((view.numel() + 63) / 64 + 1, 0);
    for (uint64_t i : set) words[i >> 6] |= uint64_t(1) << (i & 63);
    view.words = words.data();
    view.id = id;
  }
};
}  // namespace

TEST(Formats, HandWorkedBox) {
  // One 2x40 plane; non-zeros at 0, 1, 39 (row 0) and 40+35 (row 1, after 35 zeros).
  Mask m({1, 1, 2, 40}, {0, 1, 39, 75});
  TensorBox whole;
  whole.hi = {1, 1, 2, 40};
  const BoxContents c = count_box(m.view, whole, 2, true);
  EXPECT_EQ(c.elements, 80u);
  EXPECT_EQ(c.nonzeros, 4u);
  EXPECT_EQ(c.rows, 1u);           // one channel plane
  EXPECT_EQ(c.row_length, 80u);
  // Gaps before each non-zero: 0, 0, 37, 35; runs over 31 zeros need one extra entry each.
  EXPECT_EQ(c.rle_entries, 4u + 1 + 1);
  EXPECT_EQ(format_bytes(c, StorageFormat::Dense, 2), 160u);
  EXPECT_EQ(format_bytes(c, StorageFormat::Bitmap, 2), 10u + 8);
  EXPECT_EQ(format_bytes(c, StorageFormat::Csr, 2), 4u * (2 + 2) + 2 * 4);
  EXPECT_EQ(format_bytes(c, StorageFormat::Rle, 2), (6u * 21 + 7) / 8);  // 6 entries of 16+5 bits
  EXPECT_EQ(format_bytes(c, StorageFormat::Bitmap, 4), 10u + 16);
}

TEST(Formats, SubBoxSkipsWhatIsOutside) {
  Mask m({1, 2, 3, 4}, {0, 5, 6, 13, 23});  // (c,h,w): (0,0,0) (0,1,1) (0,1,2) (1,0,1) (1,2,3)
  TensorBox b;
  b.lo = {0, 0, 1, 1};
  b.hi = {1, 2, 3, 3};  // rows 1-2, columns 1-2 of both channels
  const BoxContents c = count_box(m.view, b, 2, true);
  EXPECT_EQ(c.elements, 8u);
  EXPECT_EQ(c.nonzeros, 2u);  // (0,1,1) and (0,1,2)
  EXPECT_EQ(c.rows, 2u);
  EXPECT_EQ(c.row_length, 4u);
  EXPECT_EQ(c.rle_entries, 2u);
}

TEST(Formats, RoundTripNames) {
  for (auto f : {StorageFormat::Dense, StorageFormat::Bitmap, StorageFormat::Csr, StorageFormat::Rle})
    EXPECT_EQ(*storage_format_from_string(to_string(f)), f);
  EXPECT_FALSE(storage_format_from_string("coo"));
}

TEST(PassOperands, ForwardWindowsReadTheInputUnderThem) {
  // 3x3 kernel, stride 1, padding 1, one 4x4 map of 2 channels, 3 filters: windows are enumerated
  // output column first (m = ox*Ho + oy).
  LayerShape l;
  l.N = 1; l.C = 2; l.H = 4; l.W = 4; l.K = 3; l.R = 3; l.S = 3; l.stride = 1; l.padding = 1; l.Ho = 4; l.Wo = 4;
  std::vector<uint64_t> all_act, all_w;
  for (uint64_t i = 0; i < 32; ++i) all_act.push_back(i);
  for (uint64_t i = 0; i < 54; i += 2) all_w.push_back(i);
  Mask a({1, 2, 4, 4}, all_act, 7), w({3, 2, 3, 3}, all_w, 8);
  PassInput in;
  in.layer = l;
  in.pass = Pass::Forward;
  in.a = a.view;
  in.b = w.view;
  FormatChoice f;
  f.format[0] = StorageFormat::Dense;
  f.format[1] = StorageFormat::Bitmap;
  PassOperands ops(in, f);
  GemmBlock b;
  b.m_begin = 0;
  b.m_end = 4;  // output column 0, rows 0-3: input columns 0-1 (padding 1), every row
  b.n_begin = 1;
  b.n_end = 3;
  b.output_elements = 8;
  const OperandBlock x = ops.block(0, b);
  EXPECT_EQ(x.contents.elements, 2u * 4 * 2);
  EXPECT_EQ(x.bytes, 2u * 4 * 2 * 2);
  EXPECT_EQ(x.role, TensorRole::Activation);
  const OperandBlock y = ops.block(1, b);  // filters 1-2: 36 weights, every other set -> 18
  EXPECT_EQ(y.contents.elements, 36u);
  EXPECT_EQ(y.contents.nonzeros, 18u);
  EXPECT_EQ(y.bytes, (36u + 7) / 8 + 18 * 2);
  EXPECT_EQ(ops.output_bytes(b), 16u);
  // The same block twice has the same key; another block another.
  EXPECT_EQ(ops.block(0, b).key, x.key);
  GemmBlock b2 = b;
  b2.m_begin = 4;
  b2.m_end = 8;
  EXPECT_NE(ops.block(0, b2).key, x.key);
  EXPECT_EQ(ops.block(0, b2).contents.elements, 2u * 4 * 3);  // columns 0-2
}

TEST(PassOperands, WeightGradBlocksIgnoreKernelPosition) {
  LayerShape l;
  l.N = 2; l.C = 4; l.H = 3; l.W = 3; l.K = 2; l.R = 3; l.S = 3; l.stride = 1; l.padding = 1; l.Ho = 3; l.Wo = 3;
  Mask a({2, 4, 3, 3}, {0, 9, 40, 71}, 3), g({2, 2, 3, 3}, {1, 20}, 4);
  PassInput in;
  in.layer = l;
  in.pass = Pass::WeightGrad;
  in.sample = 1;
  in.a = a.view;
  in.b = g.view;
  FormatChoice bitmap;
  for (auto& f : bitmap.format) f = StorageFormat::Bitmap;
  PassOperands ops(in, bitmap);
  GemmBlock b;
  b.m_begin = 0; b.m_end = 4; b.n_begin = 0; b.n_end = 2; b.outer = 0;
  GemmBlock c = b;
  c.outer = 5;
  EXPECT_EQ(ops.block(0, b).key, ops.block(0, c).key);
  EXPECT_EQ(ops.block(0, b).contents.nonzeros, 2u);  // sample 1 holds elements 40 and 71
  EXPECT_EQ(ops.block(1, b).contents.nonzeros, 1u);  // sample 1 of the gradient: element 20
  EXPECT_EQ(ops.block(0, b).bytes, (36 + 7) / 8 + 2 * 2u);  // 4 channels of 3 x 3: bitmap + 2 bf16 values
  EXPECT_EQ(ops.role(1), TensorRole::Gradient);
  // Dense blocks are sized from their shape alone (the mask is not read): 36 bf16 values.
  PassOperands dense(in, FormatChoice{});
  EXPECT_EQ(dense.block(0, b).bytes, 36 * 2u);
  EXPECT_EQ(dense.block(0, b).contents.elements, 36u);
  EXPECT_EQ(dense.block(1, b).bytes, 2 * 9 * 2u);
}

#include <random>

#include "random_layer.hpp"
#include "swatsim/arch/pe_model.hpp"

TEST(Tiling, AChunkThatFitsExactlyIsNotCut) {
  // Forward, 64 input channels (T = 4 steps of 16 lanes), 64 filters, 16 windows: TensorDash 4x16x16
  // on one tile. Whichever operand is scheduled, operand 1 (the filters) comes in sets of `size1`
  // streams; all of them are one chunk when the budget holds their dense bytes exactly.
  std::mt19937_64 rng(4);
  LayerShape l;
  l.N = 1; l.C = 64; l.H = 4; l.W = 4; l.K = 64; l.R = 1; l.S = 1; l.Ho = 4; l.Wo = 4;
  auto c = testutil::make_case(rng, l, Pass::Forward, 0.5, 0.5);
  auto pe = find_pe_type("tensordash")->create(ParamSet(find_pe_type("tensordash")->params));
  pe->set_tiles(1);
  const PassPlan free_plan = pe->plan(c.in, true);
  std::set<uint32_t> chunk_starts;
  for (const auto& u : free_plan.units) chunk_starts.insert(u.block.n_begin);
  ASSERT_EQ(chunk_starts.size(), 1u);  // 16 windows: at least 4 operand-0 sets, one chunk each
  const uint64_t exact = uint64_t(64) * 4 * 16 * 2;  // every filter stream: 4 steps x 16 lanes, bf16
  pe->set_chunk_budget(exact, 2);
  const PassPlan fits = pe->plan(c.in, true);
  EXPECT_EQ(fits.units.size(), free_plan.units.size());
  pe->set_chunk_budget(exact - 1, 2);
  const PassPlan cut = pe->plan(c.in, true);
  EXPECT_EQ(cut.units.size(), 2 * free_plan.units.size());
  for (const auto& u : cut.units) EXPECT_LE(uint64_t(u.block.n_end - u.block.n_begin) * 4 * 16 * 2, exact - 1);
  // Cutting never changes one-tile cycles.
  EXPECT_EQ(cut.serial_cycles(), free_plan.serial_cycles());
}

// Bitmap blocks of maps are counted two ways (few contiguous runs: from per-word prefix sums; many:
// from the map's 3-D prefix sums); RLE blocks walk every set bit. On the blocks real plans read,
// every pass, random geometry and densities, all three agree on what a block holds.
TEST(PassOperands, MapBlockCountsAgreeWithABitWalk) {
  std::mt19937_64 rng(11);
  FormatChoice bitmap, rle;
  for (auto& f : bitmap.format) f = StorageFormat::Bitmap;
  for (auto& f : rle.format) f = StorageFormat::Rle;
  size_t few_runs = 0, many_runs = 0;
  for (int iter = 0; iter < 62; ++iter) {
    LayerShape l = testutil::random_layer(rng);
    if (iter >= 60) {  // and layers wide enough for boxes of many runs (32 channels x partial planes)
      l = LayerShape{};
      l.N = 2; l.C = 32; l.H = 12; l.W = 12; l.K = 24; l.R = 3; l.S = 3; l.padding = 1;
      l.stride = iter == 60 ? 1 : 2;
      l.Ho = (l.H + 2 * l.padding - l.R) / l.stride + 1;
      l.Wo = (l.W + 2 * l.padding - l.S) / l.stride + 1;
    }
    for (Pass pass : {Pass::Forward, Pass::InputGrad, Pass::WeightGrad}) {
      auto c = testutil::make_case(rng, l, pass, std::uniform_real_distribution<double>(0.05, 1.0)(rng),
                                   std::uniform_real_distribution<double>(0.05, 1.0)(rng));
      for (const char* type : {"tensordash", "dense-systolic"}) {
        auto pe = find_pe_type(type)->create(ParamSet(find_pe_type(type)->params));
        pe->set_tiles(4);
        const PassPlan plan = pe->plan(c.in, true);
        PassOperands by_bitmap(c.in, bitmap), by_rle(c.in, rle);
        for (const auto& u : plan.units)
          for (int op = 0; op < 2; ++op) {
            const BoxContents x = by_bitmap.block(op, u.block).contents, y = by_rle.block(op, u.block).contents;
            ASSERT_EQ(x.nonzeros, y.nonzeros) << type << " pass " << int(pass) << " op " << op << " iter " << iter;
            ASSERT_EQ(x.elements, y.elements);
            ASSERT_EQ(x.rows, y.rows);
            ASSERT_EQ(x.row_length, y.row_length);
            const BitTensorView& v = op == 0 ? c.in.a : c.in.b;
            if (by_bitmap.role(op) == TensorRole::Weight || x.elements == 0) continue;
            if (x.row_length == uint64_t(v.dims[2]) * v.dims[3]) ++few_runs;  // whole planes: one run
            if (x.row_length < uint64_t(v.dims[2]) * v.dims[3] && x.rows > 16) ++many_runs;
          }
      }
    }
  }
  EXPECT_GT(few_runs, 0u);
  EXPECT_GT(many_runs, 0u);
}
