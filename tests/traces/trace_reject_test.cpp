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

// ---- Files crafted byte by byte: inputs no writer produces ----
namespace crafted {

struct Entry {
  uint32_t iteration = 0;
  uint16_t layer = 0;
  uint8_t kind = 0, values = 0, codec = 0;
  uint32_t dims[4] = {1, 1, 1, 1};
  uint64_t nnz = 0, offset = 0, stored = 0, raw = 0;
  uint32_t crc = 0;
};

constexpr const char* kHeader1x1 =
    R"({"batch_size":1,"dataset":"d","format":"swatsim-trace","layers":[{"C":1,"H":1,"Ho":1,"K":1,"N":1,"R":1,"S":1,)"
    R"("W":1,"Wo":1,"groups":1,"kind":"conv","name":"c","padding":0,"stride":1,"tensors":["input_act","weight","output_grad"]}],)"
    R"("model":"m","producer":{"name":"p","version":"1"},"seed":0,"swat":{"activation_sparsity":0.0,)"
    R"("distribution":"uniform","sparsify_first":false,"sparsity":0.0,"structure":"unstructured","topk_period":1},"version":1})";

// preamble + header + `data` + index of `entries` + footer, every checksum right.
std::string build(const std::string& header, const std::string& data, const std::vector<Entry>& entries) {
  std::string b(kPreamble, '\0');
  std::memcpy(b.data(), "SWATTRC\0", 8);
  put_le<uint32_t>(b, 8, 1);
  put_le<uint32_t>(b, 12, uint32_t(header.size()));
  b += header;
  put_le<uint32_t>(b, 16, crc(b, kPreamble, header.size()));
  b += data;
  const uint64_t index_offset = b.size();
  for (const Entry& e : entries) {
    std::string x(kEntry, '\0');
    put_le(x, 0, e.iteration);
    put_le(x, 4, e.layer);
    x[6] = char(e.kind), x[7] = char(e.values);
    for (int i = 0; i < 4; ++i) put_le(x, 8 + 4 * i, e.dims[i]);
    put_le(x, 24, e.nnz), put_le(x, 32, e.offset), put_le(x, 40, e.stored), put_le(x, 48, e.raw);
    put_le(x, 56, e.crc);
    x[60] = char(e.codec);
    b += x;
  }
  std::string foot(kFooter, '\0');
  put_le<uint64_t>(foot, 0, index_offset);
  put_le<uint64_t>(foot, 8, entries.size());
  put_le<uint32_t>(foot, 16, crc(b, index_offset, entries.size() * kEntry));
  std::memcpy(foot.data() + 24, "SWATEND\0", 8);
  return b + foot;
}

// A valid 1x1 trace: three one-bit tensors of one byte each.
std::vector<Entry> one_by_one(uint64_t data_start) {
  std::vector<Entry> es;
  for (uint8_t k : {0, 1, 3}) {
    Entry e;
    e.kind = k;
    e.nnz = 1, e.stored = e.raw = 1;
    e.offset = data_start + es.size();
    e.crc = uint32_t(::crc32(0, reinterpret_cast<const Bytef*>("\x01"), 1));
    es.push_back(e);
  }
  return es;
}

}  // namespace crafted

TEST(Crafted, ValidBaselineIsAccepted) {
  const std::string h = crafted::kHeader1x1;
  EXPECT_EQ(rejection(crafted::build(h, "\x01\x01\x01", crafted::one_by_one(kPreamble + h.size())), "crafted-ok.swt"), "");
}

TEST(Crafted, FooterCountThatWrapsTheBoundsCheck) {
  const std::string h = crafted::kHeader1x1;
  std::string b = crafted::build(h, "\x01\x01\x01", crafted::one_by_one(kPreamble + h.size()));
  const uint64_t count = uint64_t(1) << 57, fs_ = b.size();
  put_le<uint64_t>(b, b.size() - kFooter, fs_ - kFooter - count * kEntry);  // wraps modulo 2^64
  put_le<uint64_t>(b, b.size() - kFooter + 8, count);
  EXPECT_REJECTED(b, "corrupt footer");
}

TEST(Crafted, CompressedBlobClaimingMoreThanDeflateCanHold) {
  // A 2^15 x 2^15 map (2^30 elements): a 16-byte "compressed" blob claiming a 128 MiB bitmap.
  std::string h = crafted::kHeader1x1;
  h.replace(h.find("\"H\":1"), 5, "\"H\":32768");
  h.replace(h.find("\"W\":1"), 5, "\"W\":32768");
  h.replace(h.find("\"Ho\":1"), 6, "\"Ho\":32768");
  h.replace(h.find("\"Wo\":1"), 6, "\"Wo\":32768");
  crafted::Entry e;
  e.kind = 0, e.codec = 1;
  e.dims[2] = e.dims[3] = 32768;
  e.stored = 16, e.raw = uint64_t(1) << 27;
  e.offset = kPreamble + h.size();
  const std::string blob(16, '\0');
  e.crc = uint32_t(::crc32(0, reinterpret_cast<const Bytef*>(blob.data()), 16));
  EXPECT_REJECTED(crafted::build(h, blob, {e}), "compressed blob of 16 bytes cannot hold 134217728 bytes");
}

TEST(Crafted, SharedBlobsAreRejected) {
  const std::string h = crafted::kHeader1x1;
  auto es = crafted::one_by_one(kPreamble + h.size());
  es[1].offset = es[0].offset;  // weight points at input_act's byte
  EXPECT_REJECTED(crafted::build(h, "\x01\x01\x01", es), "is not where the previous one ends");
}

TEST(Crafted, BytesThatBelongToNoTensor) {
  const std::string h = crafted::kHeader1x1;
  EXPECT_REJECTED(crafted::build(h, std::string("\x01\x01\x01\x00", 4), crafted::one_by_one(kPreamble + h.size())),
                  "belong to no tensor");
}

TEST(Crafted, ReservedBytesMustBeZero) {
  const std::string h = crafted::kHeader1x1;
  const std::string good = crafted::build(h, "\x01\x01\x01", crafted::one_by_one(kPreamble + h.size()));
  std::string b = good;
  b[20] = 1;
  EXPECT_REJECTED(b, "reserved bytes 20-23");
  b = good;
  b[b.size() - kFooter + 20] = 1;
  EXPECT_REJECTED(b, "reserved bytes 20-23");
}

TEST(Crafted, HeaderValuesOutsideTheirDomain) {
  const std::string base = crafted::kHeader1x1;
  auto with = [&](const std::string& from, const std::string& to) {
    std::string h = base;
    h.replace(h.find(from), from.size(), to);
    return crafted::build(h, "\x01\x01\x01", crafted::one_by_one(kPreamble + h.size()));
  };
  EXPECT_REJECTED(with("\"uniform\"", "\"bogus00\""), "distribution must be uniform, erk or momentum");
  EXPECT_REJECTED(with("\"topk_period\":1", "\"topk_period\":0"), "top-K period must be >= 1");
  EXPECT_REJECTED(with("\"name\":\"c\"", "\"name\":\"/\""), "name '/' must be 1-255 letters");
  EXPECT_REJECTED(with("\"sparsity\":0.0,", "\"sparsity\":1.5,"), "header /swat/sparsity: expected a number in [0, 1)");
}

TEST(Crafted, ShapeProductsCannotOverflow) {
  LayerInfo l = make_conv("huge", 65536, 65536, 65536, 65536, 65536, 1, 1, 1, 0, 65536);
  EXPECT_NE(check_layer(l).find("exceeds 17179869184 elements"), std::string::npos) << check_layer(l);
}

// Geometries replay cannot lay out are refused by the validator (they used to wrap 32-bit arithmetic
// or ask for gigabytes of padding): padding that makes the map mostly padding, huge maps, kernels,
// strides. A 773-byte trace with a 1x1 map padded by 20000 asked `run` for 12.8 GB.
TEST(Crafted, GeometryReplayCannotHandleIsRefused) {
  EXPECT_EQ(check_layer(make_conv("p", 1, 1, 1, 1, 1, 1, 1, 40000, 20000, 1)),
            "padding 20000 makes the 1x1 input a 40001x40001 padded map, more than 16 times the input map and the "
            "kernel: replay would store mostly padding");
  EXPECT_EQ(check_layer(make_conv("q", 1, 1, 2, 2, 1, 1, 1, 1, 4)),
            "padding 4 makes the 2x2 input a 10x10 padded map, more than 16 times the input map and the kernel: "
            "replay would store mostly padding");
  EXPECT_EQ(check_layer(make_conv("q3", 1, 1, 2, 2, 1, 1, 1, 1, 3)), "");  // 8x8 = 16 x 2x2: the limit
  EXPECT_EQ(check_layer(make_conv("edge", 1, 1, 1, 1, 1, 3, 3, 1, 1)), "");  // 3x3 on a 1x1 map, padding 1
  EXPECT_EQ(check_layer(make_conv("m", 1, 1, 1u << 21, 1, 1, 1, 1, 1, 0)),
            "the 2097152x1 input map exceeds 1048576 per side, the most replay handles");
  EXPECT_EQ(check_layer(make_conv("k", 1, 1, 5000, 5000, 1, 4097, 1, 1, 0)),
            "the 4097x1 kernel exceeds 4096 per side, the most replay handles");
  EXPECT_EQ(check_layer(make_conv("s", 1, 1, 8, 8, 1, 1, 1, 1u << 21, 0)),
            "stride 2097152 exceeds 1048576, the most replay handles");
  EXPECT_EQ(check_layer(make_conv("ok", 1, 1, 8, 8, 1, 3, 3, 2, 2)), "");
}

TEST(Reject, LinearLayerWithPaddingOrDuplicateNames) {
  TraceHeader h;
  LayerInfo fc = make_conv("fc", 1, 4, 1, 1, 2, 1, 1, 1, 1);
  fc.kind = LayerKind::Linear;
  EXPECT_NE(check_layer(fc).find("stride 1 and padding 0"), std::string::npos);
  h.layers = {make_conv("a", 1, 1, 3, 3, 1, 1, 1, 1, 0), make_conv("a", 1, 1, 3, 3, 1, 1, 1, 1, 0)};
  EXPECT_THROW(TraceWriter(temp_path("dup.swt"), h), swatsim::InputError);
}

TEST(Writer, RejectsValuesThatAreZeroInTheirStoredType) {
  TraceHeader h;
  h.layers.push_back(make_conv("c", 1, 1, 1, 2, 1, 1, 1, 1, 0));  // input_act has 2 elements
  TraceWriter w(temp_path("zeros.swt"), h);
  Mask m(h.layers[0].shape_of(TensorKind::InputAct));
  m.set(0), m.set(1);
  std::vector<float> v{1.0f, 0.0f};
  EXPECT_THROW(w.add(0, 0, TensorKind::InputAct, m, &v, ValueType::F32), swatsim::InputError);
  v = {1.0f, 1e-41f};  // a float32 subnormal that bfloat16 rounds to zero
  try {
    w.add(0, 0, TensorKind::InputAct, m, &v, ValueType::BF16);
    FAIL() << "accepted";
  } catch (const swatsim::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("which is zero as bf16"), std::string::npos) << e.what();
  }
  v = {1.0f, 1e-41f};
  EXPECT_NO_THROW(w.add(0, 0, TensorKind::InputAct, m, &v, ValueType::F32));  // representable in float32
}
