// NumPy dumps -> trace -> NumPy dumps, with a conv and a fully connected layer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cstring>
#include <filesystem>

#include "swatsim/common/error.hpp"
#include "swatsim/traces/io.hpp"
#include "swatsim/traces/tools.hpp"
#include "test_util.hpp"

using namespace swatsim::traces;
using swatsim::traces::test::slurp;
using swatsim::traces::test::spit;
using swatsim::traces::test::temp_path;
namespace fs = std::filesystem;

namespace {

// An independent .npy writer (format 1.0) for the test inputs: dtype '<f4', '>f8' or '<f2'.
void write_npy(const fs::path& p, const std::vector<uint32_t>& shape, const std::vector<float>& v, const std::string& descr) {
  std::string dims;
  for (uint32_t d : shape) dims += std::to_string(d) + ", ";
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  while ((10 + dict.size() + 1) % 64) dict += ' ';
  dict += '\n';
  std::string out = std::string("\x93NUMPY\x01\x00", 8);
  out += char(dict.size() & 0xff);
  out += char(dict.size() >> 8);
  out += dict;
  for (float f : v) {
    if (descr == "<f4") {
      out.append(reinterpret_cast<const char*>(&f), 4);
    } else if (descr == ">f8") {
      double d = f;
      char b[8];
      std::memcpy(b, &d, 8);
      std::reverse(b, b + 8);
      out.append(b, 8);
    } else {  // '<f2' for values exactly representable in half: sign, exponent, 10-bit mantissa
      uint32_t u;
      std::memcpy(&u, &f, 4);
      uint16_t h = uint16_t(((u >> 16) & 0x8000u) | (f == 0.0f ? 0 : ((((u >> 23) & 0xff) - 112) << 10) | ((u >> 13) & 0x3ff)));
      out.append(reinterpret_cast<const char*>(&h), 2);
    }
  }
  spit(p.string(), out);
}

std::vector<float> pattern(size_t n, int seed) {  // zeros at a known pattern, half-representable values
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = ((i * 7 + size_t(seed)) % 3 == 0) ? 0.0f : float(int(i % 13) - 6) * 0.5f;
  return v;
}

fs::path make_dumps(const std::string& name) {
  const fs::path d = temp_path(name);
  fs::remove_all(d);
  fs::create_directories(d);
  // conv1: N=2, C=3, 6x6, K=4, 3x3, stride 2, pad 1 -> 3x3; no saved activation (input stands in).
  write_npy(d / "conv1-act.npy", {2, 3, 6, 6}, pattern(2 * 3 * 36, 1), "<f4");
  write_npy(d / "conv1-wgt.npy", {4, 3, 3, 3}, pattern(4 * 27, 2), ">f8");
  write_npy(d / "conv1-grad.npy", {2, 4, 3, 3}, pattern(2 * 4 * 9, 3), "<f2");
  // fc: N=2, C=36 -> K=5, 2-D activation and gradient, with a saved activation.
  write_npy(d / "fc-act.npy", {2, 36}, pattern(72, 4), "<f4");
  write_npy(d / "fc-act_saved.npy", {2, 36}, pattern(72, 5), "<f4");
  write_npy(d / "fc-wgt.npy", {5, 36, 1, 1}, pattern(180, 6), "<f4");
  write_npy(d / "fc-grad.npy", {2, 5}, pattern(10, 7), "<f4");
  spit((d / "layers.csv").string(), "name,stride,padding\nconv1,2,1\nfc,1,0\n");
  return d;
}

TEST(Npy, ImportReadsEveryDtypeAndInfersLayers) {
  const fs::path d = make_dumps("npy-in");
  const std::string trace = temp_path("npy.swt");
  import_npy(d.string(), trace, npy_default_options(d.string()));
  validate(trace);
  TraceReader r(trace);
  ASSERT_EQ(r.header().layers.size(), 2u);
  EXPECT_EQ(r.header().batch_size, 2u);  // no trace-header.json: the dumps' N
  EXPECT_EQ(r.header().producer, "swatsim import-npy");
  const LayerInfo& c = r.header().layers[0];
  EXPECT_EQ(c.kind, LayerKind::Conv);
  EXPECT_EQ(c.Ho, 3u);
  EXPECT_FALSE(c.has(TensorKind::SavedAct));
  const LayerInfo& fc = r.header().layers[1];
  EXPECT_EQ(fc.kind, LayerKind::Linear);
  EXPECT_EQ(fc.C, 36u);
  EXPECT_EQ(fc.K, 5u);
  EXPECT_TRUE(fc.has(TensorKind::SavedAct));
  std::vector<float> values;
  Mask m = r.read(*r.find(0, 0, TensorKind::Weight), &values);  // from big-endian float64
  const auto want = pattern(108, 2);
  size_t next = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(m.test(i), want[i] != 0.0f) << i;
    if (want[i] != 0.0f) {
      EXPECT_EQ(values[next++], want[i]);
    }
  }
  EXPECT_EQ(next, values.size());
  Mask g = r.read(*r.find(0, 0, TensorKind::OutputGrad), &values);  // from float16
  const auto grad = pattern(72, 3);
  EXPECT_EQ(g.count(), uint64_t(std::count_if(grad.begin(), grad.end(), [](float v) { return v != 0.0f; })));
  EXPECT_EQ(g.count(), 44u);  // 72 - 24 (pattern zeros) - 4 (i % 13 == 6 gives 0.0)
}

TEST(Npy, ExportThenImportRoundTripsByteForByte) {
  const fs::path d = make_dumps("npy-rt");
  const std::string first = temp_path("rt1.swt"), second = temp_path("rt2.swt");
  NpyImportOptions o = npy_default_options(d.string());
  o.header.model = "roundtrip";
  import_npy(d.string(), first, o);
  const fs::path out = temp_path("npy-rt-out");
  fs::remove_all(out);
  EXPECT_EQ(export_npy(first, out.string(), std::nullopt), 0u);
  EXPECT_TRUE(fs::exists(out / "fc-act_saved.npy"));
  EXPECT_FALSE(fs::exists(out / "conv1-act_saved.npy"));
  EXPECT_EQ(slurp((out / "layers.csv").string()), "conv1,2,1\nfc,1,0\n");
  NpyImportOptions o2 = npy_default_options(out.string());  // restores model, dataset, SWAT settings
  EXPECT_EQ(o2.header.model, "roundtrip");
  import_npy(out.string(), second, o2);
  EXPECT_EQ(slurp(first), slurp(second));
}

TEST(Npy, ExportWithoutValuesWritesZeroOneMasks) {
  SynthOptions so;
  so.samples = 1;
  const std::string trace = temp_path("novalues.swt");
  synthesize(trace, so);
  const fs::path out = temp_path("novalues-out");
  fs::remove_all(out);
  export_npy(trace, out.string(), 0u);
  const std::string bytes = slurp((out / "conv2-wgt.npy").string());
  const size_t data = bytes.size() - 16 * 8 * 9 * 4;
  size_t ones = 0;
  for (size_t i = data; i < bytes.size(); i += 4) {
    float f;
    std::memcpy(&f, bytes.data() + i, 4);
    EXPECT_TRUE(f == 0.0f || f == 1.0f);
    ones += f == 1.0f;
  }
  EXPECT_EQ(ones, 231u);  // ceil(0.2 * 1152)
}

TEST(Npy, RejectsBadDumps) {
  const fs::path d = make_dumps("npy-bad");
  const std::string trace = temp_path("bad.swt");
  NpyImportOptions o;
  auto message = [&]() -> std::string {
    try {
      import_npy(d.string(), trace, o);
    } catch (const swatsim::InputError& e) {
      return e.what();
    }
    return "(accepted)";
  };
  // Truncated data.
  std::string act = slurp((d / "conv1-act.npy").string());
  spit((d / "conv1-act.npy").string(), act.substr(0, act.size() - 4));
  EXPECT_NE(message().find("conv1-act.npy: holds 860 data bytes, but shape"), std::string::npos) << message();
  spit((d / "conv1-act.npy").string(), act);
  // Geometry that does not give the stored output size.
  spit((d / "layers.csv").string(), "conv1,1,1\nfc,1,0\n");
  EXPECT_NE(message().find("layer conv1: output size 3x3 disagrees with the geometry"), std::string::npos) << message();
  // A malformed CSV line and a missing file.
  spit((d / "layers.csv").string(), "conv1,two,1\n");
  EXPECT_NE(message().find("layers.csv: line 1: stride must be an integer >= 1, got 'two'"), std::string::npos) << message();
  spit((d / "layers.csv").string(), "conv9,1,1\n");
  EXPECT_NE(message().find("conv9-act.npy: cannot open"), std::string::npos) << message();
  EXPECT_FALSE(fs::exists(trace));
}

}  // namespace

namespace {

std::string import_error(const fs::path& d) {
  try {
    import_npy(d.string(), temp_path("err.swt"), npy_default_options(d.string()));
  } catch (const swatsim::InputError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(Npy, MalformedHeadersAreInputErrors) {
  const fs::path d = make_dumps("npy-hdr");
  const std::string act = slurp((d / "conv1-act.npy").string());
  auto with_header = [&](const std::string& from, const std::string& to) {  // header length kept
    std::string b = act;
    const size_t end = b.find('\n');
    b.erase(end - (to.size() - std::min(to.size(), from.size())), to.size() - std::min(to.size(), from.size()));
    b.replace(b.find(from), from.size(), to + std::string(from.size() - std::min(to.size(), from.size()), ' '));
    ASSERT_EQ(b.size(), act.size());
    spit((d / "conv1-act.npy").string(), b);
  };
  with_header("'fortran_order': False", "'fortran_order':");
  EXPECT_NE(import_error(d).find("conv1-act.npy: malformed 'fortran_order'"), std::string::npos) << import_error(d);
  with_header("'fortran_order': False", "'fortran_order': 1");
  EXPECT_NE(import_error(d).find("malformed 'fortran_order'"), std::string::npos) << import_error(d);
  with_header("(2, 3, 6, 6, )", "(4294967295, 4294967295, 6)");
  EXPECT_NE(import_error(d).find("exceeds 17179869184 elements"), std::string::npos) << import_error(d);
  with_header("'<f4'", "'<i4'");
  EXPECT_NE(import_error(d).find("dtype '<i4' is not supported"), std::string::npos) << import_error(d);
}

TEST(Npy, Float64BelowFloat32RangeStaysNonZero) {
  const fs::path d = make_dumps("npy-tiny");
  std::vector<float> w = pattern(4 * 27, 2);
  // write_npy converts from float; build the >f8 file by hand with 1e-50 at element 1.
  write_npy(d / "conv1-wgt.npy", {4, 3, 3, 3}, w, ">f8");
  std::string b = slurp((d / "conv1-wgt.npy").string());
  const double tiny = 1e-50;
  char be[8];
  std::memcpy(be, &tiny, 8);
  std::reverse(be, be + 8);
  std::memcpy(b.data() + (b.size() - 108 * 8) + 8, be, 8);  // element 1
  spit((d / "conv1-wgt.npy").string(), b);
  const std::string trace = temp_path("tiny.swt");
  import_npy(d.string(), trace, npy_default_options(d.string()));
  TraceReader r(trace);
  std::vector<float> values;
  Mask m = r.read(*r.find(0, 0, TensorKind::Weight), &values);
  ASSERT_TRUE(m.test(1));
  EXPECT_EQ(values[0], -3.0f);         // element 0 of the pattern
  EXPECT_EQ(values[1], FLT_TRUE_MIN);  // element 1 (a zero of the pattern, now 1e-50)
}

TEST(Npy, ExportNeverOverwritesAndRoundTripsEveryKindOfTrace) {
  // Masks only, iteration 2 of 3: export, import, compare bytes.
  SynthOptions so;
  so.iterations = 3;
  const std::string a = temp_path("rt-masks.swt"), b = temp_path("rt-masks2.swt");
  synthesize(a, so);
  const fs::path out = temp_path("rt-masks-out");
  fs::remove_all(out);
  EXPECT_EQ(export_npy(a, out.string(), 2u), 2u);
  const NpyImportOptions o = npy_default_options(out.string());
  EXPECT_EQ(o.iteration, 2u);
  import_npy(out.string(), b, o);
  TraceReader ra(a), rb(b);
  ASSERT_EQ(rb.records().size(), 15u);
  for (const auto& r : rb.records()) {
    const TensorRecord* want = ra.find(2, r.layer, r.kind);
    ASSERT_NE(want, nullptr);
    EXPECT_EQ(r.values, ValueType::None);
    EXPECT_EQ(rb.read_mask(r), ra.read_mask(*want));
  }
  // A second export into the same, now non-empty, directory is refused and leaves it as it was.
  const std::string before = slurp((out / "layers.csv").string());
  try {
    export_npy(a, out.string(), 0u);
    FAIL() << "overwrote an export";
  } catch (const swatsim::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("already exists and is not an empty directory"), std::string::npos);
  }
  EXPECT_EQ(slurp((out / "layers.csv").string()), before);
  EXPECT_TRUE(fs::exists(out / "conv2-act_saved.npy"));

  // bfloat16 values come back as bfloat16: the whole file is identical.
  TraceHeader h;
  h.model = "bf16";
  h.layers.push_back(swatsim::traces::test::make_conv("c", 1, 2, 3, 3, 2, 1, 1, 1, 0));
  const std::string c = temp_path("bf16.swt"), c2 = temp_path("bf16-2.swt");
  {
    TraceWriter w(c, h);
    for (TensorKind k : h.layers[0].tensors) {
      Mask m(h.layers[0].shape_of(k));
      std::vector<float> v;
      for (uint64_t i = 0; i < m.numel(); i += 2) m.set(i), v.push_back(0.5f + float(i));
      w.add(7, 0, k, m, &v, k == TensorKind::Weight ? ValueType::F32 : ValueType::BF16);
    }
    w.finish();
  }
  const fs::path out2 = temp_path("bf16-out");
  fs::remove_all(out2);
  export_npy(c, out2.string(), std::nullopt);
  import_npy(out2.string(), c2, npy_default_options(out2.string()));
  EXPECT_EQ(slurp(c), slurp(c2));
}

}  // namespace
