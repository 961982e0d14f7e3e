// Every rejection the format promises: the error names the file, the place and the problem.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>

#include "swatsim/common/error.hpp"
#include "swatsim/traces/io.hpp"
#include "swatsim/traces/tools.hpp"
#include "test_util.hpp"

using namespace swatsim::traces;
using swatsim::traces::test::make_conv;
using swatsim::traces::test::slurp;
using swatsim::traces::test::spit;
using swatsim::traces::test::temp_path;

namespace {

constexpr size_t kPreamble = 24, kEntry = 64, kFooter = 32;

template <class T> T get_le(const std::string& b, size_t off) {
  T v;
  std::memcpy(&v, b.data() + off, sizeof v);
  return v;
}
template <class T> void put_le(std::string& b, size_t off, T v) { std::memcpy(b.data() + off, &v, sizeof v); }
uint32_t crc(const std::string& b, size_t off, size_t n) {
  return uint32_t(::crc32(0, reinterpret_cast<const Bytef*>(b.data() + off), uInt(n)));
}

// A small valid trace: one conv layer (numel of the weights not a multiple of 8), stored raw
// (zlib level 0) so that tests can edit blob bytes directly.
std::string make_trace(const std::string& name, int zlib_level = 0) {
  TraceHeader h;
  h.model = "m";
  h.layers.push_back(make_conv("conv1", 1, 3, 5, 5, 2, 3, 3, 1, 1));  // weights: 2*3*3*3 = 54 elements
  const std::string path = temp_path(name);
  TraceWriter::Options opt;
  opt.zlib_level = zlib_level;
  TraceWriter w(path, h, opt);
  for (TensorKind k : h.layers[0].tensors) {
    Mask m(h.layers[0].shape_of(k));
    for (uint64_t i = 0; i < m.numel(); i += 3) m.set(i);
    w.add(0, 0, k, m);
  }
  w.finish();
  return path;
}

struct Layout {
  uint32_t header_len;
  uint64_t index_offset, count;
};
Layout layout_of(const std::string& b) {
  return {get_le<uint32_t>(b, 12), get_le<uint64_t>(b, b.size() - kFooter), get_le<uint64_t>(b, b.size() - kFooter + 8)};
}
void fix_index_crc(std::string& b) {
  const Layout L = layout_of(b);
  put_le<uint32_t>(b, b.size() - kFooter + 16, crc(b, L.index_offset, L.count * kEntry));
}
size_t entry_offset(const std::string& b, size_t i) { return layout_of(b).index_offset + i * kEntry; }

// Runs validate() on `bytes` and returns the error message ("" if it passed).
std::string rejection(const std::string& bytes, const std::string& name) {
  const std::string path = temp_path(name);
  spit(path, bytes);
  try {
    validate(path);
  } catch (const swatsim::InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << "error does not name the file: " << e.what();
    return e.what();
  }
  return "";
}

#define EXPECT_REJECTED(bytes, needle)                                                        \
  do {                                                                                        \
    const std::string msg = rejection(bytes, ::testing::UnitTest::GetInstance()->current_test_info()->name()); \
    EXPECT_NE(msg.find(needle), std::string::npos) << "message: " << (msg.empty() ? "(accepted)" : msg);       \
  } while (0)

TEST(Reject, ValidTraceIsAccepted) { EXPECT_EQ(rejection(slurp(make_trace("ok.swt")), "ok-copy.swt"), ""); }

TEST(Reject, TruncationAtEveryLength) {
  const std::string good = slurp(make_trace("trunc.swt", 1));
  for (size_t len = 0; len < good.size(); ++len) {
    const std::string msg = rejection(good.substr(0, len), "trunc-cut.swt");
    EXPECT_FALSE(msg.empty()) << "a trace cut to " << len << " of " << good.size() << " bytes was accepted";
  }
}

TEST(Reject, BadMagic) {
  std::string b = slurp(make_trace("magic.swt"));
  b[0] = 'X';
  EXPECT_REJECTED(b, "not a swatsim trace");
}

TEST(Reject, UnknownFormatVersion) {
  std::string b = slurp(make_trace("version.swt"));
  put_le<uint32_t>(b, 8, 7);
  EXPECT_REJECTED(b, "unknown format version 7 (this reader supports version 1)");
}

TEST(Reject, HeaderChecksum) {
  std::string b = slurp(make_trace("hcrc.swt"));
  b[kPreamble + 5] ^= 0x01;
  EXPECT_REJECTED(b, "header checksum mismatch");
}

TEST(Reject, BlobChecksumNamesTheTensor) {
  std::string b = slurp(make_trace("bcrc.swt"));
  const uint64_t weight_blob = get_le<uint64_t>(b, entry_offset(b, 1) + 32);  // entry 1 = weight
  b[weight_blob] ^= 0x10;
  EXPECT_REJECTED(b, "iteration 0, layer 0 (conv1), weight: blob checksum mismatch");
}

TEST(Reject, IndexChecksum) {
  std::string b = slurp(make_trace("icrc.swt"));
  b[entry_offset(b, 0) + 24] ^= 1;  // nnz of entry 0
  EXPECT_REJECTED(b, "index checksum mismatch");
}

TEST(Reject, NonZeroCountDisagreesWithBitmap) {
  std::string b = slurp(make_trace("nnz.swt"));
  const size_t e = entry_offset(b, 1);
  put_le<uint64_t>(b, e + 24, get_le<uint64_t>(b, e + 24) + 1);
  fix_index_crc(b);
  EXPECT_REJECTED(b, "weight: bitmap holds 18 non-zeros but the index says 19");
}

TEST(Reject, MaskLengthDisagreesWithShape) {
  std::string b = slurp(make_trace("len.swt"));
  const size_t e = entry_offset(b, 1);
  put_le<uint64_t>(b, e + 48, get_le<uint64_t>(b, e + 48) + 1);  // raw_size
  fix_index_crc(b);
  EXPECT_REJECTED(b, "blob size 8 disagrees with shape and non-zero count (expected 7)");
}

TEST(Reject, ShapeDisagreesWithLayerTable) {
  std::string b = slurp(make_trace("shape.swt"));
  put_le<uint32_t>(b, entry_offset(b, 1) + 8, 3);  // K of the weight
  fix_index_crc(b);
  EXPECT_REJECTED(b, "shape [3,3,3,3] disagrees with the layer table's [2,3,3,3]");
}

TEST(Reject, BitsPastTheLastElement) {
  std::string b = slurp(make_trace("pad.swt"));
  const size_t e = entry_offset(b, 1);  // weights: 54 elements -> 7 bytes, bits 54,55 are padding
  const uint64_t off = get_le<uint64_t>(b, e + 32);
  b[off + 6] |= char(0x80);
  put_le<uint32_t>(b, e + 56, crc(b, off, 7));
  fix_index_crc(b);
  EXPECT_REJECTED(b, "weight: bitmap has bits set past the tensor's last element");
}

TEST(Reject, LayerGeometryDisagreesWithOutputSize) {
  std::string b = slurp(make_trace("geom.swt"));
  const uint32_t len = get_le<uint32_t>(b, 12);
  std::string json = b.substr(kPreamble, len);
  const size_t at = json.find("\"Ho\":5");
  ASSERT_NE(at, std::string::npos);
  json[at + 5] = '4';
  b.replace(kPreamble, len, json);
  put_le<uint32_t>(b, 16, crc(b, kPreamble, len));
  EXPECT_REJECTED(b, "layer 0 (conv1): output size 4x5 disagrees with the geometry");
}

TEST(Reject, KernelLargerThanThePaddedInput) {
  LayerInfo l = make_conv("big", 1, 1, 1, 1, 1, 3, 3, 1, 0);  // 1x1 input, 3x3 kernel, no padding
  EXPECT_EQ(l.Ho, 0u);
  EXPECT_EQ(check_layer(l), "the 3x3 kernel does not fit the 1x1 input with padding 0");
  TraceHeader h;
  h.layers.push_back(l);
  EXPECT_THROW(TraceWriter(temp_path("big.swt"), h), swatsim::InputError);
}

TEST(Reject, UnknownHeaderKeyNamesItsPath) {
  std::string b = slurp(make_trace("key.swt"));
  const uint32_t len = get_le<uint32_t>(b, 12);
  std::string json = b.substr(kPreamble, len);
  const size_t at = json.find("\"seed\"");
  json.replace(at, 6, "\"sexd\"");
  b.replace(kPreamble, len, json);
  put_le<uint32_t>(b, 16, crc(b, kPreamble, len));
  EXPECT_REJECTED(b, "header /seed: missing");
}

TEST(Reject, MissingTensorOfAnIteration) {
  TraceHeader h;
  h.layers.push_back(make_conv("conv1", 1, 3, 5, 5, 2, 3, 3, 1, 1));
  const std::string path = temp_path("missing.swt");
  TraceWriter w(path, h);
  w.add(0, 0, TensorKind::InputAct, Mask(h.layers[0].shape_of(TensorKind::InputAct)));
  w.finish();
  EXPECT_REJECTED(slurp(path), "iteration 0, layer 0 (conv1), weight: missing");
}

TEST(Reject, MissingFile) {
  EXPECT_THROW(TraceReader("/nonexistent/trace.swt"), swatsim::InputError);
}

}  // namespace
